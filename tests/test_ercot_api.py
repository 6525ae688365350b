"""ERCOT Public API client: token flow, report paging, archive bulk downloads, failures, secrecy."""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd
import pytest

from pipeline import catalogue, ercot_time
from pipeline.sources import ercot_api
from pipeline.sources.base import DataUnavailable, SourceError
from pipeline.sources.ercot_api import CLIENT_ID, ErcotApi
from pipeline.sources.http import HttpError, Unauthorized
from targets.schemas import DAM_PRICES, LOAD, LOAD_FORECAST, RENEWABLES_FORECAST, RT_PRICES, SETTLEMENT_POINTS
from tests.conftest import SHARED_DATA
from tests.conftest_http import *  # noqa: F403 (fixtures)
from tests.conftest_http import FakeClock, settlement_points_zip, typed_spp_csv
from tests.helpers import assert_canonical
from tests.http_server import (
    API_BASE_PATH,
    TOKEN_PATH,
    FakeArchive,
    LocalServer,
    Reply,
    dam_spp_csv,
    json_reply,
    load_forecast_csv,
    local_hours,
    paged_report,
    renewable_csv,
    rt_spp_csv,
    sced_runs,
    token_reply,
    truncated,
    zip_of,
)

DAY = dt.date(2024, 7, 10)
FALL_BACK = dt.date(2024, 11, 3)
NODES = ("HB_NORTH", "HB_HOUSTON")
USERNAME, PASSWORD, KEY = "api-user@example.com", "pw-Sup3r-Secret!", "key-0123456789abcdef"
ENV = {"ERCOT_API_USERNAME": USERNAME, "ERCOT_API_PASSWORD": PASSWORD, "ERCOT_API_SUBSCRIPTION_KEY": KEY}
SECRETS = (PASSWORD, KEY, "test-id-token-0001", "test-id-token-0002")

DAM_PATH = f"{API_BASE_PATH}/np4-190-cd/dam_stlmnt_pnt_prices"
DAM_FIELDS = ["deliveryDate", "hourEnding", "settlementPoint", "settlementPointPrice", "DSTFlag"]
SCED_PATH = f"{API_BASE_PATH}/np6-788-cd/lmp_node_zone_hub"
LOAD_PATH = f"{API_BASE_PATH}/np6-345-cd/act_sys_load_by_wzn"


def dam_rows(day: dt.date, nodes=NODES) -> list[list]:
    # API rows: ISO dates, the DST flag as a JSON boolean
    return [[day.isoformat(), f"{hour.hour_ending:02d}:00", node, 30.0 + hour.hour_ending, hour.repeated]
            for hour in local_hours(day) for node in nodes]


def at(day: dt.date, hhmm: str) -> pd.Timestamp:
    return ercot_time.local_time_on(day, hhmm)


@pytest.fixture
def api(http_server: LocalServer, api_config, clock: FakeClock, rng) -> ErcotApi:
    http_server.add("POST", TOKEN_PATH, token_reply("test-id-token-0001"), token_reply("test-id-token-0002"))
    return ErcotApi(api_config, nodes=NODES, clock=clock, sleep=clock.sleep, rng=rng, environ=ENV)


def token_posts(server: LocalServer) -> list:
    return server.requests_to(TOKEN_PATH)


# --- report endpoints ---------------------------------------------------------------------------------


def test_report_endpoint_is_paged_with_both_auth_headers(api: ErcotApi, http_server: LocalServer) -> None:
    http_server.add("GET", DAM_PATH, paged_report(DAM_FIELDS, dam_rows(DAY), "NP4-190-CD"))

    frame = assert_canonical(api.fetch("dam_prices", DAY), DAM_PRICES)

    assert len(frame) == 24 * len(NODES)
    # no posting time on report rows: DAM for d is public at 13:30 CPT on d-1 (publication table)
    assert set(frame["published_at"]) == {at(DAY - dt.timedelta(days=1), "13:30")}
    calls = http_server.requests_to(DAM_PATH)
    assert len(calls) == 2 * 3  # one query per node, 24 rows in pages of 10
    assert [c.param("page") for c in calls[:3]] == ["1", "2", "3"] and calls[0].param("size") == "10"
    assert {c.param("settlementPoint") for c in calls} == set(NODES)
    assert calls[0].param("deliveryDateFrom") == calls[0].param("deliveryDateTo") == "2024-07-10"
    for call in calls:
        assert call.headers["Authorization"] == "Bearer test-id-token-0001"
        assert call.headers["Ocp-Apim-Subscription-Key"] == KEY


def test_token_request_posts_the_documented_form_once(api: ErcotApi, http_server: LocalServer) -> None:
    http_server.add("GET", DAM_PATH, paged_report(DAM_FIELDS, dam_rows(DAY)))
    api.fetch("dam_prices", DAY)
    api.fetch("dam_prices", DAY)
    posts = token_posts(http_server)
    assert len(posts) == 1
    assert posts[0].form() == {
        "grant_type": "password",
        "username": USERNAME,
        "password": PASSWORD,
        "response_type": "id_token",
        "scope": f"openid {CLIENT_ID} offline_access",
        "client_id": CLIENT_ID,
    }


def test_token_is_renewed_before_its_hour_is_up(api: ErcotApi, http_server: LocalServer, clock: FakeClock) -> None:
    assert api.token() == "test-id-token-0001"
    clock.advance(50 * 60)
    assert api.token() == "test-id-token-0001"  # 50 minutes: still inside the safety margin
    clock.advance(6 * 60)
    assert api.token() == "test-id-token-0002"  # 56 minutes: renewed before the 60-minute expiry
    assert len(token_posts(http_server)) == 2


def test_a_401_from_a_report_gets_one_fresh_token(api: ErcotApi, http_server: LocalServer) -> None:
    http_server.add("GET", DAM_PATH, json_reply({"statusCode": 401, "message": "Invalid JWT."}, status=401),
                    paged_report(DAM_FIELDS, dam_rows(DAY)))
    api.fetch("dam_prices", DAY)
    calls = http_server.requests_to(DAM_PATH)
    assert calls[0].headers["Authorization"] == "Bearer test-id-token-0001"
    assert calls[1].headers["Authorization"] == "Bearer test-id-token-0002"
    assert len(token_posts(http_server)) == 2


def test_persistent_401_names_the_env_vars_and_never_a_secret(
    api: ErcotApi, http_server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    http_server.add("GET", DAM_PATH, json_reply({"statusCode": 401, "message": "Access denied due to invalid "
                                                 f"subscription key {KEY}."}, status=401))
    with caplog.at_level(logging.DEBUG), pytest.raises(Unauthorized) as caught:
        api.fetch("dam_prices", DAY)
    message = str(caught.value)
    assert "unauthorized: check the subscription key / credentials env vars" in message
    assert all(name in message for name in ENV)
    assert len(token_posts(http_server)) == 2 and len(http_server.requests_to(DAM_PATH)) == 2
    texts = [message, *(record.getMessage() for record in caplog.records)]
    assert not [secret for secret in SECRETS for text in texts if secret in text]


def test_missing_credentials_name_the_variables_not_values(http_server: LocalServer, api_config, clock, rng) -> None:
    source = ErcotApi(api_config, clock=clock, sleep=clock.sleep, rng=rng, environ={"ERCOT_API_USERNAME": USERNAME})
    with pytest.raises(SourceError, match="ERCOT_API_PASSWORD, ERCOT_API_SUBSCRIPTION_KEY") as caught:
        source.fetch("dam_prices", DAY)
    assert USERNAME not in str(caught.value)
    assert http_server.requests == []


def test_credentials_are_read_lazily_from_the_environment(
    http_server: LocalServer, api_config, clock, rng, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = ErcotApi(api_config, clock=clock, sleep=clock.sleep, rng=rng)  # constructed without credentials
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    http_server.add("POST", TOKEN_PATH, token_reply())
    assert source.token() == "test-id-token-0001"


def test_refused_token_request_points_at_the_credentials(
    http_server: LocalServer, api_config, clock, rng, caplog: pytest.LogCaptureFixture
) -> None:
    http_server.add("POST", TOKEN_PATH, json_reply({
        "error": "invalid_grant",
        "error_description": "AADB2C90225: The username or password provided in the request are invalid.",
    }, status=400))
    source = ErcotApi(api_config, clock=clock, sleep=clock.sleep, rng=rng, environ=ENV)
    with caplog.at_level(logging.DEBUG), pytest.raises(SourceError, match="ERCOT_API_USERNAME") as caught:
        source.token()
    assert "AADB2C90225" in str(caught.value)
    assert PASSWORD not in str(caught.value) and all(PASSWORD not in r.getMessage() for r in caplog.records)


def test_throttled_then_success(api: ErcotApi, http_server: LocalServer, clock: FakeClock) -> None:
    http_server.add("GET", DAM_PATH, json_reply({"error_key": "throttled", "message": "Rate limit exceeded"},
                                                status=429), paged_report(DAM_FIELDS, dam_rows(DAY)))
    assert len(api.fetch("dam_prices", DAY)) == 48


def test_repeated_500s_give_up_naming_url_and_report(api: ErcotApi, http_server: LocalServer) -> None:
    http_server.add("GET", DAM_PATH, Reply(status=500, body={"message": "Internal Server Error"}))
    with pytest.raises(HttpError) as caught:
        api.fetch("dam_prices", DAY)
    message = str(caught.value)
    assert "NP4-190-CD" in message and "HTTP 500" in message and "3 attempt(s)" in message
    assert f"{http_server.url}{DAM_PATH}?deliveryDateFrom=2024-07-10&deliveryDateTo=2024-07-10" in message
    assert KEY not in message


def test_report_read_timeout_is_reported(api: ErcotApi, http_server: LocalServer) -> None:
    http_server.add("GET", DAM_PATH, Reply(body=b"{}", delay=0.6))
    with pytest.raises(HttpError, match="(?i)timed? ?out"):
        api.fetch("dam_prices", DAY)


def test_every_request_including_the_token_post_is_rate_limited(
    api: ErcotApi, http_server: LocalServer, clock: FakeClock
) -> None:
    http_server.add("GET", DAM_PATH, paged_report(DAM_FIELDS, dam_rows(DAY)))
    api.fetch("dam_prices", DAY)
    requests_made = len(http_server.requests)
    assert requests_made == 1 + 6
    # 30 per minute, burst 1: each request after the first waits 2 s on the (fake) clock
    assert clock.sleeps == [2.0] * (requests_made - 1)


def test_malformed_report_json_is_a_clear_error(api: ErcotApi, http_server: LocalServer) -> None:
    broken = '{"_meta": {"totalPages": 1}, "data": [['
    http_server.add("GET", DAM_PATH, Reply(body=broken, content_type="application/json"))
    with pytest.raises(SourceError, match=f"{DAM_PATH}.*malformed JSON"):
        api.fetch("dam_prices", DAY)


def test_report_json_without_documented_keys_is_a_clear_error(api: ErcotApi, http_server: LocalServer) -> None:
    http_server.add("GET", DAM_PATH, json_reply({"_meta": {"totalRecords": 0}, "data": []}))
    with pytest.raises(SourceError, match=r"documented key\(s\) \['_meta.totalPages', 'fields'\]"):
        api.fetch("dam_prices", DAY)


def test_rows_narrower_than_fields_are_refused(api: ErcotApi, http_server: LocalServer) -> None:
    rows = [row[:-1] for row in dam_rows(DAY)]
    http_server.add("GET", DAM_PATH, paged_report(DAM_FIELDS, rows))
    with pytest.raises(SourceError, match="data row 0 has 4 values for 5 fields"):
        api.fetch("dam_prices", DAY)


def test_renamed_field_is_a_schema_error(api: ErcotApi, http_server: LocalServer) -> None:
    fields = [*DAM_FIELDS[:3], "spp", DAM_FIELDS[4]]
    http_server.add("GET", DAM_PATH, paged_report(fields, dam_rows(DAY)))
    with pytest.raises(SourceError, match="required column 'SettlementPointPrice' is missing"):
        api.fetch("dam_prices", DAY)


def test_fall_back_day_report_rows_with_boolean_dst_flags(api: ErcotApi, http_server: LocalServer) -> None:
    http_server.add("GET", DAM_PATH, paged_report(DAM_FIELDS, dam_rows(FALL_BACK)))
    frame = assert_canonical(api.fetch("dam_prices", FALL_BACK), DAM_PRICES)
    assert frame.groupby("node")["interval_start"].nunique().to_dict() == {"HB_HOUSTON": 25, "HB_NORTH": 25}


def test_sced_report_endpoint_filters_by_local_timestamps(
    http_server: LocalServer, api_config, clock, rng
) -> None:
    http_server.add("POST", TOKEN_PATH, token_reply())
    rows = [[local.strftime("%Y-%m-%dT%H:%M:%S"), repeated, node, 25.0]
            for _, local, repeated in sced_runs(DAY) for node in NODES]
    http_server.add("GET", SCED_PATH, paged_report(["SCEDTimestamp", "repeatHourFlag", "settlementPoint", "LMP"], rows))
    config = api_config.model_copy(update={"page_size": 1000})
    source = ErcotApi(config, nodes=NODES, clock=clock, sleep=clock.sleep, rng=rng, environ=ENV)

    frame = assert_canonical(source.fetch("rt_prices", DAY), RT_PRICES)

    assert len(frame) == 288 * 2 and set(frame["interval_minutes"]) == {5}
    call = http_server.requests_to(SCED_PATH)[0]
    assert (call.param("SCEDTimestampFrom"), call.param("SCEDTimestampTo")) == ("2024-07-10T00:00:00",
                                                                              "2024-07-10T23:59:59")
    # 5 minutes after each interval ends (publication table)
    assert ((frame["published_at"] - frame["interval_start"]) == pd.Timedelta(minutes=10)).all()


def test_actual_load_report_endpoint(api: ErcotApi, http_server: LocalServer) -> None:
    fields = ["operatingDay", "hourEnding", "coast", "east", "farWest", "north", "northCentral", "southern",
              "southCentral", "west", "total", "DSTFlag"]
    rows = [[DAY.isoformat(), f"{h.hour_ending:02d}:00", *[1000.0 + z for z in range(8)], 8028.0, False]
            for h in local_hours(DAY)]
    http_server.add("GET", LOAD_PATH, paged_report(fields, rows))
    frame = assert_canonical(api.fetch("load", DAY), LOAD)
    assert len(frame) == 24 * 9
    assert http_server.requests_to(LOAD_PATH)[0].param("operatingDayFrom") == "2024-07-10"


# --- archive -----------------------------------------------------------------------------------------------


def test_empty_report_endpoint_falls_back_to_the_archive(api: ErcotApi, http_server: LocalServer) -> None:
    http_server.add("GET", DAM_PATH, paged_report(DAM_FIELDS, []))
    archive = FakeArchive(http_server, "np4-190-cd")
    archive.publish("DAMSPNP4190", at(DAY - dt.timedelta(days=1), "13:31"),
                    dam_spp_csv(DAY, lambda node, hour: 40.0, NODES))

    frame = assert_canonical(api.fetch("dam_prices", DAY), DAM_PRICES)

    assert set(frame["published_at"]) == {at(DAY - dt.timedelta(days=1), "13:31")}
    listing = http_server.requests_to(f"{API_BASE_PATH}/archive/np4-190-cd")[0]
    assert listing.param("postDatetimeFrom") == "2024-07-08T23:00:00"  # d-1 00:00 CPT less an hour of slack
    assert listing.headers["Ocp-Apim-Subscription-Key"] == KEY
    assert archive.bulk_requests()[0].json() == {"docIds": [archive.documents[0].doc_id]}


def publish_spp_archive(archive: FakeArchive, day: dt.date) -> None:
    for hour in local_hours(day):
        for interval in range(1, 5):
            start = hour.start_utc + pd.Timedelta(minutes=15 * (interval - 1))
            label = hour.local_start + pd.Timedelta(minutes=15 * interval)
            archive.publish(f"SPPHLZNP6905_{label:%Y%m%d_%H%M}" + ("xhr" if hour.repeated else ""),
                            start + pd.Timedelta(minutes=17), rt_spp_csv(day, hour, interval, {n: 21.0 for n in NODES}))


def test_fetch_many_backfills_from_one_paged_listing_and_bulk_downloads(
    http_server: LocalServer, api_config, clock, rng, monkeypatch: pytest.MonkeyPatch
) -> None:
    http_server.add("POST", TOKEN_PATH, token_reply())
    archive = FakeArchive(http_server, "np6-905-cd")
    days = [FALL_BACK - dt.timedelta(days=1), FALL_BACK]
    for day in days:
        publish_spp_archive(archive, day)
    monkeypatch.setattr(ercot_api, "MAX_DOCS_PER_DOWNLOAD", 50)
    config = api_config.model_copy(update={"page_size": 100})
    source = ErcotApi(config, nodes=NODES, rt_report="rt_spp", clock=clock, sleep=clock.sleep, rng=rng, environ=ENV)

    frames = source.fetch_many("rt_prices", days)

    assert len(assert_canonical(frames[days[0]], RT_PRICES)) == 96 * 2
    fall_back = assert_canonical(frames[FALL_BACK], RT_PRICES)
    assert len(fall_back) == 100 * 2 and fall_back["interval_start"].dt.floor("h").nunique() == 25
    listing_pages = http_server.requests_to(f"{API_BASE_PATH}/archive/np6-905-cd")
    assert len(listing_pages) == 2 and [p.param("page") for p in listing_pages] == ["1", "2"]
    batches = [len(r.json()["docIds"]) for r in archive.bulk_requests()]
    assert max(batches) <= 50 and sum(batches) == 196


def test_truncated_bulk_zip_is_a_clear_error(api: ErcotApi, http_server: LocalServer) -> None:
    archive = FakeArchive(http_server, "np3-565-cd")
    archive.publish("LFBMWZNP3565_20240710_0555", at(DAY, "05:55"), load_forecast_csv(DAY))
    archive.bulk_payload = truncated(zip_of({"1.zip": zip_of({"a.csv": load_forecast_csv(DAY)})}))
    with pytest.raises(SourceError, match="not a complete zip archive") as caught:
        api.fetch("load_forecast", DAY)
    assert f"{API_BASE_PATH}/archive/np3-565-cd/download" in str(caught.value)


def test_bulk_zip_lacking_a_document_is_a_clear_error(api: ErcotApi, http_server: LocalServer) -> None:
    archive = FakeArchive(http_server, "np3-565-cd")
    archive.publish("LFBMWZNP3565_20240710_0555", at(DAY, "05:55"), load_forecast_csv(DAY))
    archive.bulk_payload = zip_of({"readme.txt": "nothing here"})
    with pytest.raises(SourceError, match="lacks 1 requested document"):
        api.fetch("load_forecast", DAY)


def test_forecast_vintages_come_from_the_archive_with_posting_times(api: ErcotApi, http_server: LocalServer) -> None:
    archive = FakeArchive(http_server, "np3-565-cd")
    for hhmm in ("04:55", "05:55", "06:55"):
        archive.publish(f"LFBMWZNP3565_{DAY:%Y%m%d}_{hhmm.replace(':', '')}", at(DAY, hhmm), load_forecast_csv(DAY))
    frame = assert_canonical(api.fetch("load_forecast", DAY), LOAD_FORECAST)
    assert set(frame["published_at"]) == {at(DAY, "05:55")}
    assert len(archive.bulk_requests()) == 1


def test_renewables_forecast_vintage_from_two_archives(api: ErcotApi, http_server: LocalServer) -> None:
    wind, solar = FakeArchive(http_server, "np4-732-cd"), FakeArchive(http_server, "np4-737-cd")
    for posted in (at(DAY, "04:55"), at(DAY, "05:55")):
        wind.publish(f"WPPHRLYAVRGACTLFCSTNP4732_{DAY:%Y%m%d}_{posted.tz_convert(ercot_time.CPT):%H%M}", posted,
                     renewable_csv("wind", posted))
        solar.publish(f"SPPHRLYAVRGACTLFCSTNP4737_{DAY:%Y%m%d}_{posted.tz_convert(ercot_time.CPT):%H%M}", posted,
                      renewable_csv("solar", posted))
    frame = assert_canonical(api.fetch("renewables_forecast", DAY), RENEWABLES_FORECAST)
    assert set(frame["published_at"]) == {at(DAY, "05:55")}
    assert sorted(set(frame["fuel"])) == ["solar", "wind"]


def test_load_forecast_vintages_backfill_a_range_by_posting_time(http_server: LocalServer, api_config, clock,
                                                                  rng) -> None:
    """FetchRange's path (fetch_many): hourly posts over several days, one paged listing of them all, one
    bulk download of just the vintage each day needs (the latest post at or before the 06:00 cut-off)."""
    http_server.add("POST", TOKEN_PATH, token_reply())
    archive = FakeArchive(http_server, "np3-565-cd")
    days = [FALL_BACK - dt.timedelta(days=2) + dt.timedelta(days=k) for k in range(4)]  # across the fall-back day
    for day in days:
        for hour in local_hours(day):
            posted = hour.start_utc + pd.Timedelta(minutes=30)  # NP3-565-CD posts about HH:30
            document = archive.publish(f"LFBMWZNP3565_{posted.tz_convert(ercot_time.CPT):%Y%m%d_%H%M}", posted,
                                       load_forecast_csv(day))
            document.post_datetime += ".000"  # the archive lists milliseconds (see ../shared/data/ercot_formats)
    http_server.add("GET", f"{API_BASE_PATH}/archive/np3-565-cd", json_reply({"error_key": "throttled"}, status=429),
                    archive._listing)
    config = api_config.model_copy(update={"page_size": 40})
    source = ErcotApi(config, nodes=NODES, clock=clock, sleep=clock.sleep, rng=rng, environ=ENV)

    frames = source.fetch_many("load_forecast", days)

    assert list(frames) == days
    for day in days:
        frame = assert_canonical(frames[day], LOAD_FORECAST)
        assert set(frame["published_at"]) == {at(day, "05:30")}
        assert frame["interval_start"].min() == ercot_time.day_start(day)
    listing = http_server.requests_to(f"{API_BASE_PATH}/archive/np3-565-cd")
    # one listing of the whole range: the throttled try, its retry, then each further page once
    assert [r.param("page") for r in listing] == ["1", "1", "2"]
    assert listing[0].param("postDatetimeFrom") < f"{days[0]}T00:00:00" < f"{days[-1]}T06:00:00" < listing[0].param(
        "postDatetimeTo")
    (bulk,) = archive.bulk_requests()
    assert len(bulk.json()["docIds"]) == len(days)


def test_renewables_forecast_backfill_reads_both_sides_of_the_2024_09_26_rename(
    http_server: LocalServer, api_config, clock, rng
) -> None:
    http_server.add("POST", TOKEN_PATH, token_reply())
    wind, solar = FakeArchive(http_server, "np4-732-cd"), FakeArchive(http_server, "np4-737-cd")
    days = [dt.date(2024, 9, 25), dt.date(2024, 9, 26)]
    for day in days:
        posted = at(day, "05:55")  # posted about HH:55
        stamp = f"{day:%Y%m%d}_0555"
        wind_csv, solar_csv = renewable_csv("wind", posted), renewable_csv("solar", posted)
        if day < dt.date(2024, 9, 26):  # before the rename: ACTUAL_SYSTEM_WIDE, and no SYSTEM_WIDE_HSL for solar
            wind_csv = wind_csv.replace("SYSTEM_WIDE_GEN", "ACTUAL_SYSTEM_WIDE", 1)
            solar_csv = solar_csv.replace("SYSTEM_WIDE_GEN", "ACTUAL_SYSTEM_WIDE", 1)
        wind.publish(f"WPPHRLYAVRGACTLFCSTNP4732_{stamp}", posted, wind_csv)
        solar.publish(f"SPPHRLYAVRGACTLFCSTNP4737_{stamp}", posted, solar_csv)
    source = ErcotApi(api_config, nodes=NODES, clock=clock, sleep=clock.sleep, rng=rng, environ=ENV)

    frames = source.fetch_many("renewables_forecast", days)

    for day in days:
        frame = assert_canonical(frames[day], RENEWABLES_FORECAST)
        assert sorted(set(frame["fuel"])) == ["solar", "wind"]
        assert set(frame["published_at"]) == {at(day, "05:55")}
        # only forecast hours (the 48 h of actuals in each post are the renewables dataset's)
        assert frame["interval_start"].min() >= at(day, "05:00")
    assert len(wind.bulk_requests()) == len(solar.bulk_requests()) == 1


def test_backfill_bulk_download_failing_names_the_report_and_url(http_server: LocalServer, api_config, clock,
                                                                 rng) -> None:
    http_server.add("POST", TOKEN_PATH, token_reply())
    archive = FakeArchive(http_server, "np3-565-cd")
    for day in (DAY, DAY + dt.timedelta(days=1)):
        archive.publish(f"LFBMWZNP3565_{day:%Y%m%d}_0530", at(day, "05:30"), load_forecast_csv(day))
    http_server.add("POST", f"{API_BASE_PATH}/archive/np3-565-cd/download", Reply(status=502, body="bad gateway"))
    source = ErcotApi(api_config, nodes=NODES, clock=clock, sleep=clock.sleep, rng=rng, environ=ENV)
    with pytest.raises(HttpError, match=r"NP3-565-CD bulk download.*archive/np3-565-cd/download.*HTTP 502"):
        source.fetch_many("load_forecast", [DAY, DAY + dt.timedelta(days=1)])


def test_vintage_missing_from_the_archive_is_unavailable(api: ErcotApi, http_server: LocalServer) -> None:
    FakeArchive(http_server, "np3-565-cd")
    with pytest.raises(DataUnavailable, match="load_forecast for 2024-07-10 is unavailable: NP3-565-CD"):
        api.fetch("load_forecast", DAY)


def test_whole_fetch_never_logs_a_secret(api: ErcotApi, http_server: LocalServer,
                                         caplog: pytest.LogCaptureFixture) -> None:
    http_server.add("GET", DAM_PATH, Reply(status=503), paged_report(DAM_FIELDS, dam_rows(DAY)))
    with caplog.at_level(logging.DEBUG):
        api.fetch("dam_prices", DAY)
    assert caplog.records  # retries and the token were logged ...
    assert not [s for s in SECRETS for r in caplog.records if s in r.getMessage()]  # ... without secrets


# --- settlement points ---------------------------------------------------------------------------------------

REAL_SPP = (SHARED_DATA / "ercot_formats" / "NP6-905-CD"
            / "cdr.00012301.0000000000000000.20240329.010211.SPPHLZNP6905_20240329_0100.csv")
MAPPING_NAME = "CIM_Jul_ML1_1_07082024_SP_List_and_EB_Mapping"
BUSES = (("AEEC_B", "LZ_WEST", "AEEC", ""), ("DECKER_B", "LZ_SOUTH", "AGUAYO_UNIT1", ""),
         ("ODEHV_5", "LZ_WEST", "AJAXWIND_RN", "HB_WEST"))
POINTS = [("HB_NORTH", "HU", 1.0), ("HB_BUSAVG", "SH", 1.1), ("LZ_AEN", "LZ", 2.0), ("LZ_AEN", "LZEW", 2.1),
          ("AEEC", "RN", 3.0), ("AGUAYO_UNIT1", "RN", 3.1), ("AJAXWIND_RN", "RN", 3.2), ("NEWNODE_RN", "RN", 3.3)]


def publish_price_files(archive: FakeArchive, day: dt.date, last_points=POINTS) -> None:
    archive.publish(f"SPPHLZNP6905_{day:%Y%m%d}_0015", at(day, "00:17"), typed_spp_csv(day, 1, 1, POINTS[:1]))
    archive.publish(f"SPPHLZNP6905_{day:%Y%m%d}_2400", at(day + dt.timedelta(days=1), "00:02"),
                    typed_spp_csv(day, 24, 4, last_points))


def test_settlement_points_from_the_archive_with_zones_from_the_list(api: ErcotApi, http_server: LocalServer) -> None:
    prices, lists = FakeArchive(http_server, "np6-905-cd"), FakeArchive(http_server, "np4-160-sg")
    publish_price_files(prices, DAY)
    lists.publish(MAPPING_NAME, at(DAY - dt.timedelta(days=2), "00:05"), "",
                  payload=settlement_points_zip(BUSES, (("DECKER_B", "LZ_AEN"),)))

    frame = SETTLEMENT_POINTS.conform(api.settlement_points(DAY))

    assert frame.set_index("name")[["type", "load_zone", "hub"]].to_dict("index") == {
        "AEEC": {"type": "RN", "load_zone": "LZ_WEST", "hub": None},
        "AGUAYO_UNIT1": {"type": "RN", "load_zone": "LZ_AEN", "hub": None},
        "AJAXWIND_RN": {"type": "RN", "load_zone": "LZ_WEST", "hub": "HB_WEST"},
        "HB_BUSAVG": {"type": "SH", "load_zone": None, "hub": "HB_BUSAVG"},
        "HB_NORTH": {"type": "HU", "load_zone": None, "hub": "HB_NORTH"},
        "LZ_AEN": {"type": "LZ", "load_zone": "LZ_AEN", "hub": None},
        "NEWNODE_RN": {"type": "RN", "load_zone": None, "hub": None},
    }
    # only the day's newest price file is downloaded
    assert prices.bulk_requests()[0].json() == {"docIds": [prices.documents[1].doc_id]}
    listing = http_server.requests_to(f"{API_BASE_PATH}/archive/np4-160-sg")[0]
    assert listing.param("postDatetimeTo") == "2024-07-11T01:20:00"  # up to the day's price window, an hour of slack


def test_settlement_points_of_the_real_908_point_file(api: ErcotApi, http_server: LocalServer) -> None:
    if not REAL_SPP.is_file():
        pytest.skip(f"the real 908-point NP6-905-CD file is not at {REAL_SPP} (see ../shared/data/ercot_formats)")
    prices = FakeArchive(http_server, "np6-905-cd")
    day = dt.date(2024, 3, 29)
    prices.publish("SPPHLZNP6905_20240329_0100", at(day, "01:02"), REAL_SPP.read_text())
    FakeArchive(http_server, "np4-160-sg")
    frame = SETTLEMENT_POINTS.conform(api.settlement_points(day))
    assert len(frame) == 896 and frame["name"].is_unique
    assert set(frame.loc[frame["type"].isin(["LZ", "LZ_DC"]), "load_zone"]) == {
        *catalogue.LOAD_ZONES, "DC_E", "DC_L", "DC_N", "DC_R"}
    assert frame.loc[frame["type"] == "RN", "load_zone"].isna().all()  # no list in the archive window


def test_settlement_points_without_the_list_in_the_archive(api: ErcotApi, http_server: LocalServer,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    publish_price_files(FakeArchive(http_server, "np6-905-cd"), DAY)  # no /archive/np4-160-sg route: 404
    with caplog.at_level(logging.WARNING):
        frame = api.settlement_points(DAY)
    assert frame.set_index("name").loc["AEEC"].tolist() == ["RN", None, None]
    assert "no load zone or hub" in caplog.text and "HTTP 404" in caplog.text
    assert not [s for s in SECRETS for r in caplog.records if s in r.getMessage()]


def test_settlement_points_of_a_day_the_archive_lacks(api: ErcotApi, http_server: LocalServer) -> None:
    FakeArchive(http_server, "np6-905-cd")
    with pytest.raises(DataUnavailable, match="settlement_points for 2024-07-10 is unavailable: NP6-905-CD"):
        api.settlement_points(DAY)


def test_settlement_points_refuse_a_price_file_with_two_types_for_a_name(api: ErcotApi,
                                                                          http_server: LocalServer) -> None:
    publish_price_files(FakeArchive(http_server, "np6-905-cd"), DAY, [("AEEC", "RN", 1.0), ("AEEC", "PUN", 1.0)])
    with pytest.raises(SourceError, match=r"'AEEC' is listed with several types \['PUN', 'RN'\]"):
        api.settlement_points(DAY)
