"""The pure rules behind integrity: bounds, missing inputs, stamps, bid-ready hours and the bid sheet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import ercot_time, integrity
from pipeline.config import BoundsConfig
from pipeline.forecast import forecast_frame, overall_status
from targets.forecast_files import ForecastShape, ForecastTarget, content_problem, long_csv, wide_frame
from targets.schemas import FORECAST
from targets.stamp import Stamp, changed_settings, why_not_current

BOUNDS = BoundsConfig()


def prices(values: list[float]) -> pd.DataFrame:
    starts = pd.date_range("2024-07-16 05:00", periods=len(values), freq="15min", tz="UTC")
    return pd.DataFrame({"interval_start": starts, "node": "HB_NORTH", "price": values, "interval_minutes": 15,
                         "published_at": starts + pd.Timedelta(minutes=20)})


def test_implausible_prices_are_set_aside_and_named() -> None:
    kept, aside = integrity.plausible(prices([30.0, 1e9, float("inf"), -251.0, float("nan"), 9315.0]), "rt_prices",
                                      BOUNDS)
    assert kept["price"].tolist() == [30.0, -251.0, 9315.0]
    assert aside.counts == {"price": 3} and aside.total == 3
    text = aside.describe(BOUNDS, "rt_prices")
    assert "3 value(s) of column 'price' outside [-2000, 30000] or not finite" in text
    assert "HB_NORTH 2024-07-16T05:15Z) price = 1000000000.0" in text and "price = inf" in text


def test_plausible_values_pass_untouched() -> None:
    frame = prices([-250.0, 0.0, 5000.0])
    kept, aside = integrity.plausible(frame, "rt_prices", BOUNDS)
    assert not aside and kept is frame


def test_an_implausible_value_in_a_nullable_column_becomes_missing_and_keeps_its_row() -> None:
    frame = pd.DataFrame({"interval_start": pd.date_range("2024-07-16", periods=3, freq="h", tz="UTC"),
                          "location": "COAST", "temperature_c": [30.0, 31.0, 32.0], "wind_speed_ms": [3.0, 900.0, np.nan],
                          "published_at": pd.date_range("2024-07-16 02:00", periods=3, freq="h", tz="UTC")})
    kept, aside = integrity.plausible(frame, "weather", BOUNDS, nullable={"wind_speed_ms"})
    assert len(kept) == 3 and np.isnan(kept["wind_speed_ms"].iloc[1]) and aside.counts == {"wind_speed_ms": 1}


def test_a_node_missing_most_of_its_inputs_is_degraded_and_its_datasets_named() -> None:
    features = pd.DataFrame({"node": ["A", "A", "B", "B"], "dam_hod": [1.0, 2.0, np.nan, np.nan],
                             "price_max_1d": [3.0, 4.0, np.nan, np.nan], "load_fc": [1.0, np.nan, 2.0, 3.0],
                             "hour_of_day": [1, 2, 1, 2]})
    missing = integrity.missing_inputs(features, ["dam_hod", "price_max_1d", "load_fc", "hour_of_day"])
    assert missing.share == {"A": 0.0, "B": 2 / 3}
    assert missing.degraded(0.2) == {"B": ["dam_prices", "rt_prices"]}
    notes = integrity.degraded_notes({"rt_prices": 4}, missing.degraded(0.2))
    assert notes == {"dam_prices": "inputs missing for B",
                     "rt_prices": "4 implausible value(s) set aside; inputs missing for B"}


@pytest.mark.parametrize("column, dataset", [("as_RRS_hod", "ancillary_prices"), ("sys_dam_hod", "dam_prices"),
                                             ("net_load_fc_ramp", "load_forecast"), ("net_load_hod_d1", "load"),
                                             ("temp_fc_max", "weather_forecast"), ("cdh_d1", "weather"),
                                             ("spike_rate_100_hod_7d", "rt_prices"), ("hour_of_day", None)])
def test_feature_columns_map_to_the_dataset_they_come_from(column: str, dataset: str | None) -> None:
    assert integrity.feature_dataset(column) == dataset


def test_a_stamp_says_which_settings_changed() -> None:
    old = Stamp("a", "x", {"settings": {"market.thresholds": [100, 1000], "model.max_iter": 30}})
    new = Stamp("b", "x", {"settings": {"market.thresholds": [100, 250, 1000], "model.max_iter": 30}})
    assert why_not_current(old, new) == "the settings changed (market.thresholds: [100, 1000] -> [100, 250, 1000])"
    assert why_not_current(Stamp("b", "y"), new) == "its inputs changed"
    assert why_not_current(None, new) == "it carries no stamp (made by an older version)"
    assert why_not_current(Stamp("b", "x"), new) is None
    assert changed_settings({"a": 1}, {"a": 2, "b": 3}) == "a: 1 -> 2; b: None -> 3"


def test_a_stamps_identity_is_worked_out_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle

    from targets import stamp as stamps

    calls = []
    real = stamps.digest
    monkeypatch.setattr(stamps, "digest", lambda *parts: calls.append(parts) or real(*parts))
    first = Stamp("settings", "inputs")
    assert first.made_from == first.made_from == real("settings", "inputs")
    assert len(calls) == 1
    noted = first.with_notes(set_aside={"rt_prices": 2})
    assert noted.made_from == first.made_from and noted != first  # notes are not part of the identity
    again = pickle.loads(pickle.dumps(noted))
    assert again == noted and again.made_from == first.made_from
    assert Stamp.from_json(noted.to_json()) == noted
    assert Stamp("settings", "other").made_from != first.made_from


# --- bid-ready hours on real DST days ----------------------------------------------------------------


@pytest.mark.parametrize("fall_back", [dt.date(2021, 11, 7), dt.date(2024, 11, 3)])
def test_the_fall_back_day_has_25_hours_with_he02_repeated_and_flagged(fall_back: dt.date) -> None:
    hours = ercot_time.operating_day_hours(fall_back)
    delivery, hour_ending, dst_flag = ercot_time.hour_ending_of(hours)
    assert len(hours) == 25 and set(delivery) == {fall_back}
    assert list(hour_ending[:4]) == [1, 2, 2, 3] and list(dst_flag[:4]) == [False, False, True, False]
    assert len(set(zip(hour_ending, dst_flag))) == 25 and hour_ending[-1] == 24


@pytest.mark.parametrize("spring_forward", [dt.date(2021, 3, 14), dt.date(2024, 3, 10)])
def test_the_spring_forward_day_has_23_hours_without_he03(spring_forward: dt.date) -> None:
    _, hour_ending, dst_flag = ercot_time.hour_ending_of(ercot_time.operating_day_hours(spring_forward))
    assert len(hour_ending) == 23 and 3 not in hour_ending and not dst_flag.any()
    assert list(hour_ending[:3]) == [1, 2, 4]


def _forecast(issue_day: dt.date, thresholds: tuple[float, ...] = (100.0, 1000.0)) -> pd.DataFrame:
    hours = ercot_time.forecast_hours(issue_day)
    features = pd.DataFrame({"node": np.repeat(["HB_NORTH", "HB_WEST"], len(hours)),
                             "interval_start": np.tile(hours, 2), "horizon_h": np.tile(np.arange(1, 73), 2)})
    rng = np.random.default_rng(3)
    low = rng.uniform(0, 0.2, len(features))
    probabilities = np.column_stack([low / (1 + 2 * k) for k in range(len(thresholds))])
    issued = ercot_time.local_time_on(issue_day, "06:00")
    return forecast_frame(features, probabilities, thresholds, issue_day, issued, "2024-11-01.m4-test")


def test_the_forecast_over_the_fall_back_day_has_25_hour_ending_rows_per_node_and_threshold() -> None:
    frame = _forecast(dt.date(2024, 11, 2))
    day = frame[(frame["delivery_date"] == dt.date(2024, 11, 3)) & (frame["node"] == "HB_NORTH")
                & (frame["threshold"] == 100.0)]
    assert len(day) == 25 and not day.duplicated(["hour_ending", "dst_flag"]).any()
    assert list(frame.columns) == list(FORECAST.columns)


def test_the_bid_sheet_has_one_row_per_node_threshold_and_day_with_the_repeated_hour_column() -> None:
    frame = _forecast(dt.date(2024, 11, 2))
    wide = wide_frame(frame)
    assert len(wide) == 2 * 2 * 3  # nodes x thresholds x operating days D+1..D+3
    hour_columns = [c for c in wide.columns if c.startswith("HE")]
    assert hour_columns[:4] == ["HE01", "HE02", "HE02*", "HE03"] and hour_columns[-1] == "HE24" and len(hour_columns) == 25
    north = wide[(wide["node"] == "HB_NORTH") & (wide["threshold"] == 100.0)].set_index("delivery_date")
    source = frame[(frame["node"] == "HB_NORTH") & (frame["threshold"] == 100.0)]
    repeated = source[(source["delivery_date"] == dt.date(2024, 11, 3)) & source["dst_flag"]]["probability"].iloc[0]
    assert north.loc[dt.date(2024, 11, 3), "HE02*"] == repeated
    assert np.isnan(north.loc[dt.date(2024, 11, 4), "HE02*"])  # an ordinary day has no repeated hour
    assert np.isnan(north.loc[dt.date(2024, 11, 5), "HE24"])  # 72 hours end an hour early this week


def test_the_csv_twin_writes_the_dst_flag_as_ercot_does() -> None:
    text = long_csv(_forecast(dt.date(2024, 11, 2))).decode()
    rows = [line for line in text.splitlines() if "2024-11-03T07:00:00Z" in line]
    assert rows and all(line.split(",")[-1] == "Y" for line in rows)


def test_a_valid_forecast_has_no_problem_and_a_status_summary() -> None:
    frame = _forecast(dt.date(2024, 7, 16))
    shape = ForecastShape(("HB_NORTH", "HB_WEST"), (100.0, 1000.0), ercot_time.forecast_hours(dt.date(2024, 7, 16))[0], 72)
    assert content_problem(frame, dt.date(2024, 7, 16), shape) is None
    assert "not the forecast of" in content_problem(frame, dt.date(2024, 7, 17), shape)
    assert "not the configured" in content_problem(frame, dt.date(2024, 7, 16), ForecastShape(
        ("HB_NORTH",), (100.0, 1000.0), shape.first_hour, 72))
    assert overall_status(frame) == "ok"
    mixed = frame.assign(status=np.where(frame["node"] == "HB_WEST", "degraded_inputs", "ok"))
    assert overall_status(mixed) == "degraded_inputs"


def test_publication_writes_the_twins_first_and_the_parquet_file_last(tmp_path: Path, monkeypatch) -> None:
    frame = _forecast(dt.date(2024, 7, 16))
    target = ForecastTarget(tmp_path / "forecast.parquet", FORECAST, dt.date(2024, 7, 16))
    order: list[str] = []
    store = target.store
    real_put, real_put_once = type(store).put, type(store).put_once
    monkeypatch.setattr(type(store), "put", lambda self, path, data: (order.append(Path(path).name),
                                                                      real_put(self, path, data))[1])
    monkeypatch.setattr(type(store), "put_once", lambda self, path, data: (order.append(Path(path).name),
                                                                           real_put_once(self, path, data))[1])
    target.publish(frame, Stamp("s", "i"))
    assert order == ["forecast_wide.csv", "forecast.csv", "forecast.parquet"]
    assert target.current(Stamp("s", "i")) and target.repair_twins() == []


def test_publication_refuses_a_forecast_that_would_be_invalid(tmp_path: Path) -> None:
    frame = _forecast(dt.date(2024, 7, 16)).assign(probability=1.5)
    target = ForecastTarget(tmp_path / "forecast.parquet", FORECAST, dt.date(2024, 7, 16))
    with pytest.raises(ValueError, match="refusing to publish a forecast that has probabilities"):
        target.publish(frame, Stamp("s", "i"))
    assert not list(tmp_path.iterdir())
