"""Open-Meteo client: reanalysis history, forecast vintages (live, and rebuilt as of their issue time from
the Previous Runs API), errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pipeline import ercot_time
from pipeline.config import GeoPoint
from pipeline.sources.base import DataUnavailable, SourceError
from pipeline.sources.http import HttpError
from pipeline.sources.open_meteo import OpenMeteo
from targets.schemas import WEATHER, WEATHER_FORECAST
from tests.conftest_http import *  # noqa: F403 (fixtures)
from tests.helpers import assert_canonical
from tests.http_server import LocalServer, Reply, json_reply, open_meteo_handler, open_meteo_location
from tests.open_meteo_support import PREVIOUS, previous_runs_handler, previous_runs_location

DAY = dt.date(2024, 7, 10)
FALL_BACK = dt.date(2024, 11, 3)
ARCHIVE, FORECAST, HISTORICAL = "/v1/archive", "/v1/forecast", "/historical/v1/forecast"


def fixed_now(instant: str):
    return lambda: pd.Timestamp(instant)


def make_source(config, clock, rng, now: str = "2024-08-30T12:00:00Z", **kwargs) -> OpenMeteo:
    previous_runs_url = kwargs.pop("previous_runs_url", config.forecast_url.replace("/v1/forecast", PREVIOUS))
    return OpenMeteo(config, now=fixed_now(now), sleep=clock.sleep, rng=rng, previous_runs_url=previous_runs_url,
                     **kwargs)


def test_weather_is_one_request_for_all_points_over_the_operating_day(
    http_server: LocalServer, open_meteo_config, clock, rng
) -> None:
    http_server.add("GET", ARCHIVE, open_meteo_handler())
    source = make_source(open_meteo_config, clock, rng)

    frame = assert_canonical(source.fetch("weather", DAY), WEATHER)

    points = list(open_meteo_config.points)
    assert sorted(set(frame["location"])) == sorted(points)
    assert len(frame) == 24 * len(points)
    start, end = ercot_time.day_bounds(DAY)
    assert frame["interval_start"].min() == start and frame["interval_start"].max() == end - pd.Timedelta(hours=1)
    # reanalysis lags ~5 days: the publication table's Open-Meteo override
    assert (frame["published_at"] - frame["interval_start"] == pd.Timedelta(days=5, hours=1)).all()
    (call,) = http_server.requests_to(ARCHIVE)
    assert call.param("timezone") == "UTC" and call.param("wind_speed_unit") == "ms"
    assert call.param("hourly") == "temperature_2m,wind_speed_10m"
    assert (call.param("start_date"), call.param("end_date")) == ("2024-07-10", "2024-07-11")
    assert call.param("latitude").split(",")[0] == f"{open_meteo_config.points[points[0]].latitude:g}"
    assert len(call.param("longitude").split(",")) == len(points)


def test_fall_back_day_has_25_hours_per_point(http_server: LocalServer, open_meteo_config, clock, rng) -> None:
    http_server.add("GET", ARCHIVE, open_meteo_handler())
    frame = make_source(open_meteo_config, clock, rng).fetch("weather", FALL_BACK)
    assert set(frame.groupby("location").size()) == {25}


def test_hours_missing_from_the_reanalysis_are_unavailable(
    http_server: LocalServer, open_meteo_config, clock, rng
) -> None:
    http_server.add("GET", ARCHIVE, open_meteo_handler(temperature=lambda i: None if i >= 20 else 25.0))
    with pytest.raises(DataUnavailable, match="lags about five days"):
        make_source(open_meteo_config, clock, rng).fetch("weather", DAY)


def test_missing_wind_is_allowed_as_null(http_server: LocalServer, open_meteo_config, clock, rng) -> None:
    http_server.add("GET", ARCHIVE, open_meteo_handler(wind=lambda i: None))
    frame = assert_canonical(make_source(open_meteo_config, clock, rng).fetch("weather", DAY), WEATHER)
    assert frame["wind_speed_ms"].isna().all()


def test_live_vintage_uses_the_forecast_api_stamped_at_fetch_time(
    http_server: LocalServer, open_meteo_config, clock, rng
) -> None:
    http_server.add("GET", FORECAST, open_meteo_handler(forecast_start=pd.Timestamp("2024-07-10", tz="UTC")))
    now = "2024-07-10T05:30:12.5Z"  # 00:30 CDT on DAY
    frame = assert_canonical(make_source(open_meteo_config, clock, rng, now=now).fetch("weather_forecast", DAY),
                             WEATHER_FORECAST)
    assert set(frame["published_at"]) == {pd.Timestamp("2024-07-10T05:30:12Z")}
    assert frame["interval_start"].min() == ercot_time.day_start(DAY)
    # the 72-hour horizon from 00:00 CPT of D+1 is covered
    assert frame["interval_start"].max() >= ercot_time.forecast_hours(DAY)[-1]
    (call,) = http_server.requests_to(FORECAST)
    assert call.param("forecast_days") == "5" and call.param("timezone") == "UTC"
    assert http_server.requests_to(HISTORICAL) == []


def test_past_vintage_is_rebuilt_from_previous_runs_public_by_its_issue_time(
    http_server: LocalServer, open_meteo_config, clock, rng
) -> None:
    # temperature = 10 * N + hour index: which run served each hour can be read back from the value
    http_server.add("GET", PREVIOUS, previous_runs_handler(lambda n, i: 10.0 * n + i / 1000))
    frame = assert_canonical(make_source(open_meteo_config, clock, rng).fetch("weather_forecast", DAY),
                             WEATHER_FORECAST)

    issued = ercot_time.local_time_on(DAY, "05:00")
    assert set(frame["published_at"]) == {issued}
    assert frame["interval_start"].min() == ercot_time.day_start(DAY)
    assert frame["interval_start"].max() >= ercot_time.forecast_hours(DAY)[-1]
    run_day = (frame["temperature_c"] // 10).astype(int)
    # the freshest run known at the issue time: dated N days before the hour, public 6 hours after that
    lead = (frame["interval_start"] - issued + pd.Timedelta(hours=6)) / pd.Timedelta(days=1)
    assert (run_day == np.maximum(np.ceil(lead), 1).astype(int)).all()
    assert (frame["interval_start"] - run_day * pd.Timedelta(days=1) + pd.Timedelta(hours=6) <= issued).all()
    # the 72-hour horizon (D+1 00:00 CPT to D+3 24:00) is served by runs 2 to 4 days before the hour
    horizon = frame[frame["interval_start"].isin(ercot_time.forecast_hours(DAY))]
    assert set((horizon["temperature_c"] // 10).astype(int)) == {2, 3, 4}
    (call,) = http_server.requests_to(PREVIOUS)
    assert (call.param("start_date"), call.param("end_date")) == ("2024-07-10", "2024-07-15")
    assert call.param("models") == "gfs_seamless" and call.param("timezone") == "UTC"
    assert "temperature_2m_previous_day7" in call.param("hourly").split(",")
    assert http_server.requests_to(HISTORICAL) == []


def test_many_past_vintages_come_from_one_request_each_as_of_its_own_day(
    http_server: LocalServer, open_meteo_config, clock, rng
) -> None:
    http_server.add("GET", PREVIOUS, previous_runs_handler(lambda n, i: 10.0 * n))
    days = [DAY + dt.timedelta(days=k) for k in range(3)]
    frames = make_source(open_meteo_config, clock, rng).fetch_many("weather_forecast", days)

    assert list(frames) == days
    (call,) = http_server.requests_to(PREVIOUS)
    assert (call.param("start_date"), call.param("end_date")) == ("2024-07-10", "2024-07-17")
    one_hour = ercot_time.forecast_hours(DAY)[30]  # an hour every one of the three vintages covers
    used = [int(frames[day].loc[frames[day]["interval_start"] == one_hour, "temperature_c"].iloc[0] // 10)
            for day in days]
    assert used == sorted(used, reverse=True) and used[0] > used[-1]  # later vintages, fresher runs
    for day in days:
        assert set(frames[day]["published_at"]) == {ercot_time.local_time_on(day, "05:00")}
        assert_canonical(frames[day], WEATHER_FORECAST)


def test_hours_no_run_reached_are_not_part_of_the_vintage(
    http_server: LocalServer, open_meteo_config, clock, rng
) -> None:
    # runs older than 3 days were not kept for these hours: the far end of the vintage is missing
    http_server.add("GET", PREVIOUS, previous_runs_handler(lambda n, i: None if n > 3 else 20.0))
    frame = make_source(open_meteo_config, clock, rng).fetch("weather_forecast", DAY)
    issued = ercot_time.local_time_on(DAY, "05:00")
    assert (frame["interval_start"] + pd.Timedelta(hours=6) <= issued + pd.Timedelta(days=3)).all()
    assert frame["temperature_c"].notna().all() and frame["wind_speed_ms"].notna().all()


def test_missing_previous_day_wind_is_allowed_as_null(
    http_server: LocalServer, open_meteo_config, clock, rng
) -> None:
    # GFS previous runs before 2024 hold temperature only
    http_server.add("GET", PREVIOUS, previous_runs_handler(lambda n, i: 25.0, wind=False))
    frame = assert_canonical(make_source(open_meteo_config, clock, rng).fetch("weather_forecast", DAY),
                             WEATHER_FORECAST)
    assert frame["wind_speed_ms"].isna().all() and frame["temperature_c"].notna().all()


def test_vintages_before_the_previous_runs_archive_are_not_covered(
    http_server: LocalServer, open_meteo_config, clock, rng
) -> None:
    source = make_source(open_meteo_config, clock, rng)
    assert not source.covers("weather_forecast", dt.date(2021, 3, 31))
    assert source.covers("weather_forecast", dt.date(2021, 4, 1)) and source.covers("weather", dt.date(2020, 1, 1))
    with pytest.raises(DataUnavailable, match="Previous Runs API starts on 2021-04-01"):
        source.fetch("weather_forecast", dt.date(2021, 3, 31))
    assert http_server.requests == []


def test_previous_runs_out_of_range_is_unavailable(http_server: LocalServer, open_meteo_config, clock, rng) -> None:
    reason = "Parameter 'start_date' is out of allowed range from 2021-03-23 to 2024-09-05"
    http_server.add("GET", PREVIOUS, json_reply({"error": True, "reason": reason}, status=400))
    with pytest.raises(DataUnavailable, match="weather_forecast for 2024-07-10 is unavailable.*out of allowed range"):
        make_source(open_meteo_config, clock, rng).fetch("weather_forecast", DAY)


def test_previous_runs_server_errors_give_up_naming_the_url(
    http_server: LocalServer, open_meteo_config, clock, rng
) -> None:
    http_server.add("GET", PREVIOUS, Reply(status=503, body="unavailable"))
    with pytest.raises(HttpError, match=r"Open-Meteo previous runs.*/previous/v1/forecast.*start_date=2024-07-10.*HTTP 503"):
        make_source(open_meteo_config, clock, rng).fetch("weather_forecast", DAY)
    assert len(http_server.requests) == 3


def test_previous_runs_without_a_run_variable_are_refused(
    http_server: LocalServer, open_meteo_config, clock, rng
) -> None:
    payload = previous_runs_location(29.76, -95.37, pd.Timestamp("2024-07-10", tz="UTC"), 24, lambda n, i: 20.0)
    del payload["hourly"]["temperature_2m_previous_day5"]
    config = open_meteo_config.model_copy(update={"points": {"COAST": GeoPoint(latitude=29.76, longitude=-95.37)}})
    http_server.add("GET", PREVIOUS, json_reply(payload))
    with pytest.raises(SourceError, match=r"lacks \['temperature_2m_previous_day5'\]"):
        make_source(config, clock, rng).fetch("weather_forecast", DAY)


def test_previous_runs_truncated_json_is_a_clear_error(
    http_server: LocalServer, open_meteo_config, clock, rng
) -> None:
    http_server.add("GET", PREVIOUS, Reply(body='{"latitude": 29.76, "hourly": {"time": ["2024-07',
                                           content_type="application/json"))
    with pytest.raises(SourceError, match="malformed JSON"):
        make_source(open_meteo_config, clock, rng).fetch("weather_forecast", DAY)


def test_future_vintage_is_unavailable_without_a_request(
    http_server: LocalServer, open_meteo_config, clock, rng
) -> None:
    source = make_source(open_meteo_config, clock, rng, now="2024-07-09T12:00:00Z")
    with pytest.raises(DataUnavailable, match="in the future"):
        source.fetch("weather_forecast", DAY)
    assert http_server.requests == []


def test_http_400_reason_is_reported(http_server: LocalServer, open_meteo_config, clock, rng) -> None:
    reason = "Cannot initialize WeatherVariable from invalid String value temperature_2n for key hourly"
    http_server.add("GET", ARCHIVE, json_reply({"error": True, "reason": reason}, status=400))
    with pytest.raises(HttpError, match="HTTP 400") as caught:
        make_source(open_meteo_config, clock, rng).fetch("weather", DAY)
    assert reason in str(caught.value) and ARCHIVE in str(caught.value)
    assert len(http_server.requests) == 1


def test_dates_out_of_the_archive_range_are_unavailable(
    http_server: LocalServer, open_meteo_config, clock, rng
) -> None:
    reason = "Parameter 'start_date' is out of allowed range from 1940-01-01 to 2024-07-08"
    http_server.add("GET", ARCHIVE, json_reply({"error": True, "reason": reason}, status=400))
    with pytest.raises(DataUnavailable, match="weather for 2024-07-10 is unavailable.*out of allowed range"):
        make_source(open_meteo_config, clock, rng).fetch("weather", DAY)


def test_single_point_answer_is_an_object(http_server: LocalServer, open_meteo_config, clock, rng) -> None:
    config = open_meteo_config.model_copy(update={"points": {"DALLAS": GeoPoint(latitude=32.78, longitude=-96.8)}})
    http_server.add("GET", ARCHIVE, open_meteo_handler())
    frame = make_source(config, clock, rng).fetch("weather", DAY)
    assert set(frame["location"]) == {"DALLAS"} and len(frame) == 24


def test_throttled_then_success(http_server: LocalServer, open_meteo_config, clock, rng) -> None:
    http_server.add("GET", ARCHIVE, json_reply({"error": True, "reason": "Too many requests"}, status=429),
                    open_meteo_handler())
    assert len(make_source(open_meteo_config, clock, rng).fetch("weather", DAY)) == 24 * 8
    assert len(clock.sleeps) == 1


def test_repeated_server_errors_give_up_naming_the_url(http_server: LocalServer, open_meteo_config, clock, rng) -> None:
    http_server.add("GET", ARCHIVE, Reply(status=502, body="bad gateway"))
    with pytest.raises(HttpError, match=r"Open-Meteo weather.*start_date=2024-07-10.*HTTP 502"):
        make_source(open_meteo_config, clock, rng).fetch("weather", DAY)
    assert len(http_server.requests) == 3


def test_mismatched_hourly_arrays_are_refused(http_server: LocalServer, open_meteo_config, clock, rng) -> None:
    payload = open_meteo_location(29.76, -95.37, pd.Timestamp("2024-07-10", tz="UTC"), 48)
    payload["hourly"]["temperature_2m"] = payload["hourly"]["temperature_2m"][:-1]
    config = open_meteo_config.model_copy(update={"points": {"COAST": GeoPoint(latitude=29.76, longitude=-95.37)}})
    http_server.add("GET", ARCHIVE, json_reply(payload))
    with pytest.raises(SourceError, match="differ in length"):
        make_source(config, clock, rng).fetch("weather", DAY)


def test_missing_hourly_variable_is_refused(http_server: LocalServer, open_meteo_config, clock, rng) -> None:
    payload = open_meteo_location(29.76, -95.37, pd.Timestamp("2024-07-10", tz="UTC"), 48)
    del payload["hourly"]["wind_speed_10m"]
    config = open_meteo_config.model_copy(update={"points": {"COAST": GeoPoint(latitude=29.76, longitude=-95.37)}})
    http_server.add("GET", ARCHIVE, json_reply(payload))
    with pytest.raises(SourceError, match=r"lacks \['wind_speed_10m'\]"):
        make_source(config, clock, rng).fetch("weather", DAY)


def test_wrong_number_of_locations_is_refused(http_server: LocalServer, open_meteo_config, clock, rng) -> None:
    one = open_meteo_location(29.76, -95.37, pd.Timestamp("2024-07-10", tz="UTC"), 48)
    http_server.add("GET", ARCHIVE, json_reply([one, one]))
    with pytest.raises(SourceError, match="asked for 8 points, got 2 answers"):
        make_source(open_meteo_config, clock, rng).fetch("weather", DAY)


def test_wrong_wind_unit_is_refused(http_server: LocalServer, open_meteo_config, clock, rng) -> None:
    payload = open_meteo_location(29.76, -95.37, pd.Timestamp("2024-07-10", tz="UTC"), 48)
    payload["hourly_units"]["wind_speed_10m"] = "km/h"
    config = open_meteo_config.model_copy(update={"points": {"COAST": GeoPoint(latitude=29.76, longitude=-95.37)}})
    http_server.add("GET", ARCHIVE, json_reply(payload))
    with pytest.raises(SourceError, match="km/h"):
        make_source(config, clock, rng).fetch("weather", DAY)


def test_malformed_json_is_a_clear_error(http_server: LocalServer, open_meteo_config, clock, rng) -> None:
    http_server.add("GET", ARCHIVE, Reply(body='[{"latitude": 29.7', content_type="application/json"))
    with pytest.raises(SourceError, match="malformed JSON"):
        make_source(open_meteo_config, clock, rng).fetch("weather", DAY)


def test_unknown_dataset_is_refused(open_meteo_config, clock, rng) -> None:
    with pytest.raises(ValueError, match="does not provide 'load'"):
        make_source(open_meteo_config, clock, rng).fetch("load", DAY)
