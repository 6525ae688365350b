"""DAM ancillary clearing prices (NP4-188-CD) fetched live from MIS and the Public API, on a local server."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipeline import ercot_time
from pipeline.catalogue import ANCILLARY_SERVICES, NP4_188_CD
from pipeline.sources.base import DataUnavailable, SourceError
from pipeline.sources.ercot_api import ErcotApi
from pipeline.sources.ercot_mis import LIST_PATH, ErcotMis
from pipeline.sources.http import HttpError, Unauthorized
from targets.schemas import ANCILLARY_PRICES
from tests.conftest_http import *  # noqa: F403 (fixtures)
from tests.conftest_http import ANCILLARY_FIELDS, FakeClock, ancillary_csv, ancillary_rows
from tests.helpers import assert_canonical
from tests.http_server import (
    API_BASE_PATH,
    MIS_DOWNLOAD_PATH,
    TOKEN_PATH,
    FakeArchive,
    FakeMis,
    LocalServer,
    Reply,
    json_reply,
    paged_report,
    token_reply,
    truncated,
    zip_of,
)

DAY = dt.date(2024, 7, 10)
FALL_BACK = dt.date(2024, 11, 3)
ECRS_START = dt.date(2023, 6, 10)  # catalogue.ANCILLARY_SERVICE_START["ECRS"]
BEFORE_ECRS = tuple(s for s in ANCILLARY_SERVICES if s != "ECRS")
ENV = {"ERCOT_API_USERNAME": "user@example.com", "ERCOT_API_PASSWORD": "pw-secret-1",
       "ERCOT_API_SUBSCRIPTION_KEY": "key-0123456789"}
API_PATH = f"{API_BASE_PATH}/np4-188-cd/dam_clear_price_for_cap"
ARCHIVE_PATH = f"{API_BASE_PATH}/archive/np4-188-cd"
RTID = NP4_188_CD.report_type_id


def price_of(service: str, hour_ending: int) -> float:
    return round(1.0 + (*ANCILLARY_SERVICES, "ONNS").index(service) + hour_ending / 100, 2)


def mcpc(service: str, hour) -> float:
    return price_of(service, hour.hour_ending)


def at(day: dt.date, hhmm: str) -> pd.Timestamp:
    return ercot_time.local_time_on(day, hhmm)


def posted_for(day: dt.date) -> pd.Timestamp:
    """When the DAM's clearing prices for ``day`` post: 12:32 CPT the day before (as on 2025-08-04)."""
    return at(day - dt.timedelta(days=1), "12:32") + pd.Timedelta(seconds=21)


# --- MIS ---------------------------------------------------------------------------------------------


@pytest.fixture
def mis(http_server: LocalServer) -> FakeMis:
    return FakeMis(http_server)


@pytest.fixture
def mis_source(mis_config, clock, rng) -> ErcotMis:
    return ErcotMis(mis_config, sleep=clock.sleep, rng=rng)


def publish_mis(mis: FakeMis, day: dt.date, services=ANCILLARY_SERVICES, *, csv: str | None = None):
    text = csv if csv is not None else ancillary_csv(day, mcpc, services)
    return mis.publish(RTID, "DAMCPCNP4188", posted_for(day), text)


def test_mis_day_is_the_daily_file_posted_the_day_before(mis_source: ErcotMis, mis: FakeMis,
                                                         http_server: LocalServer) -> None:
    for day in (DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(days=1)):
        publish_mis(mis, day)

    frame = assert_canonical(mis_source.fetch("ancillary_prices", DAY), ANCILLARY_PRICES)

    assert len(frame) == 24 * 5 and sorted(set(frame["service"])) == sorted(ANCILLARY_SERVICES)
    # published_at is the file's PublishDate, not the schedule's 13:30
    assert set(frame["published_at"]) == {posted_for(DAY)}
    first = frame[frame["interval_start"] == ercot_time.day_start(DAY)].set_index("service")["price"]
    assert first.to_dict() == {s: price_of(s, 1) for s in ANCILLARY_SERVICES}
    assert http_server.requests_to(LIST_PATH)[0].param("reportTypeId") == "12329"


def test_mis_fall_back_day_has_25_hours_with_the_dst_flag(mis_source: ErcotMis, mis: FakeMis) -> None:
    publish_mis(mis, FALL_BACK)
    frame = assert_canonical(mis_source.fetch("ancillary_prices", FALL_BACK), ANCILLARY_PRICES)
    assert frame.groupby("service")["interval_start"].nunique().to_dict() == {s: 25 for s in ANCILLARY_SERVICES}
    # HE 02 twice: 01:00-02:00 CDT (06:00Z) and, flagged Y, 01:00-02:00 CST (07:00Z)
    regup = frame[frame["service"] == "REGUP"].set_index("interval_start")["price"]
    assert regup[pd.Timestamp("2024-11-03T06:00Z")] == regup[pd.Timestamp("2024-11-03T07:00Z")] == price_of("REGUP", 2)


def test_mis_ecrs_is_absent_before_its_launch_and_required_after(mis_source: ErcotMis, mis: FakeMis) -> None:
    before, launch, later = ECRS_START - dt.timedelta(days=1), ECRS_START, ECRS_START + dt.timedelta(days=2)
    publish_mis(mis, before, BEFORE_ECRS)
    publish_mis(mis, launch)
    publish_mis(mis, later, BEFORE_ECRS)  # a file that lost a service that exists

    frames = mis_source.fetch_many("ancillary_prices", [before, launch])
    assert sorted(set(frames[before]["service"])) == sorted(BEFORE_ECRS) and len(frames[before]) == 24 * 4
    assert "ECRS" in set(frames[launch]["service"]) and len(frames[launch]) == 24 * 5
    with pytest.raises(DataUnavailable, match="incomplete day.*ECRS lacks 24/24 h"):
        mis_source.fetch("ancillary_prices", later)


def test_mis_malformed_mcpc_names_the_value_column_and_file(mis_source: ErcotMis, mis: FakeMis) -> None:
    csv = ancillary_csv(DAY, lambda s, h: "#VALUE!" if (s, h.hour_ending) == ("RRS", 7) else mcpc(s, h),
                        ANCILLARY_SERVICES)
    publish_mis(mis, DAY, csv=csv)
    with pytest.raises(SourceError, match=r"column 'MCPC' row \d+: '#VALUE!' is not a number") as caught:
        mis_source.fetch("ancillary_prices", DAY)
    assert "NP4-188-CD" in str(caught.value) and "DAMCPCNP4188_csv" in str(caught.value)


def test_mis_unknown_service_is_refused(mis_source: ErcotMis, mis: FakeMis) -> None:
    publish_mis(mis, DAY, (*ANCILLARY_SERVICES, "ONNS"))  # an XSD enumeration value ERCOT's CSVs do not use
    with pytest.raises(SourceError, match=r"unknown ancillary service\(s\) \['ONNS'\]"):
        mis_source.fetch("ancillary_prices", DAY)


def test_mis_truncated_zip_names_the_download(mis_source: ErcotMis, mis: FakeMis, http_server: LocalServer) -> None:
    document = publish_mis(mis, DAY)
    document.payload = truncated(zip_of({"DAMCPCNP4188.csv": document.csv_text}))
    with pytest.raises(SourceError, match="not a complete zip archive") as caught:
        mis_source.fetch("ancillary_prices", DAY)
    assert f"{MIS_DOWNLOAD_PATH}?doclookupId={document.doc_id}" in str(caught.value)


def test_mis_401_is_refused_at_once(mis_source: ErcotMis, mis: FakeMis, http_server: LocalServer) -> None:
    publish_mis(mis, DAY)
    http_server.add("GET", MIS_DOWNLOAD_PATH, json_reply({"error": "unauthorized"}, status=401))
    with pytest.raises(Unauthorized, match="NP4-188-CD DAMCPCNP4188_csv"):
        mis_source.fetch("ancillary_prices", DAY)
    assert len(http_server.requests_to(MIS_DOWNLOAD_PATH)) == 1


def test_mis_429_then_success(mis_source: ErcotMis, mis: FakeMis, http_server: LocalServer,
                              clock: FakeClock) -> None:
    publish_mis(mis, DAY)
    http_server.add("GET", LIST_PATH, Reply(status=429, body="slow down"), mis._listing)
    assert len(mis_source.fetch("ancillary_prices", DAY)) == 120
    assert len(http_server.requests_to(LIST_PATH)) == 2 and len(clock.sleeps) == 1


def test_mis_repeated_500s_give_up_naming_the_report(mis_source: ErcotMis, http_server: LocalServer) -> None:
    http_server.add("GET", LIST_PATH, Reply(status=500, body="down"))
    with pytest.raises(HttpError) as caught:
        mis_source.fetch("ancillary_prices", DAY)
    message = str(caught.value)
    assert "NP4-188-CD listing" in message and "reportTypeId=12329" in message and "3 attempt(s)" in message


def test_mis_timeout_is_reported(mis_source: ErcotMis, mis: FakeMis, http_server: LocalServer) -> None:
    publish_mis(mis, DAY)
    http_server.add("GET", MIS_DOWNLOAD_PATH, Reply(body=b"", delay=0.6))
    with pytest.raises(HttpError, match="(?i)timed? ?out"):
        mis_source.fetch("ancillary_prices", DAY)


# --- Public API ----------------------------------------------------------------------------------------


@pytest.fixture
def api(http_server: LocalServer, api_config, clock: FakeClock, rng) -> ErcotApi:
    http_server.add("POST", TOKEN_PATH, token_reply("test-id-token-0001"), token_reply("test-id-token-0002"))
    return ErcotApi(api_config, clock=clock, sleep=clock.sleep, rng=rng, environ=ENV)


def serve(http_server: LocalServer, day: dt.date, services=ANCILLARY_SERVICES, *first: Reply) -> None:
    http_server.add("GET", API_PATH, *first, paged_report(ANCILLARY_FIELDS, ancillary_rows(day, mcpc, services),
                                                          "NP4-188-CD"))


def test_api_report_endpoint_day_is_paged_and_stamped_by_the_schedule(api: ErcotApi, http_server: LocalServer) -> None:
    serve(http_server, DAY)

    frame = assert_canonical(api.fetch("ancillary_prices", DAY), ANCILLARY_PRICES)

    assert len(frame) == 120 and sorted(set(frame["service"])) == sorted(ANCILLARY_SERVICES)
    # report rows carry no posting time: 13:30 CPT on d-1 (the publication table)
    assert set(frame["published_at"]) == {at(DAY - dt.timedelta(days=1), "13:30")}
    calls = http_server.requests_to(API_PATH)
    assert len(calls) == 12  # 120 rows in pages of 10, one query (no per-node filter)
    assert (calls[0].param("deliveryDateFrom"), calls[0].param("deliveryDateTo")) == ("2024-07-10", "2024-07-10")
    assert calls[0].param("ancillaryType") is None
    assert calls[0].headers["Authorization"] == "Bearer test-id-token-0001"
    assert calls[0].headers["Ocp-Apim-Subscription-Key"] == ENV["ERCOT_API_SUBSCRIPTION_KEY"]


def test_api_fall_back_day_with_boolean_dst_flags(api: ErcotApi, http_server: LocalServer) -> None:
    serve(http_server, FALL_BACK)
    frame = assert_canonical(api.fetch("ancillary_prices", FALL_BACK), ANCILLARY_PRICES)
    assert frame.groupby("service")["interval_start"].nunique().to_dict() == {s: 25 for s in ANCILLARY_SERVICES}


def test_api_ecrs_before_and_after_its_launch(api: ErcotApi, http_server: LocalServer) -> None:
    before = ECRS_START - dt.timedelta(days=1)
    serve(http_server, before, BEFORE_ECRS)
    assert sorted(set(api.fetch("ancillary_prices", before)["service"])) == sorted(BEFORE_ECRS)
    serve(http_server, ECRS_START, BEFORE_ECRS)
    with pytest.raises(DataUnavailable, match="ECRS lacks 24/24 h"):
        api.fetch("ancillary_prices", ECRS_START)


def test_api_malformed_mcpc_is_a_clear_error(api: ErcotApi, http_server: LocalServer) -> None:
    rows = ancillary_rows(DAY, mcpc, ANCILLARY_SERVICES)
    rows[7][3] = "N/A*"
    http_server.add("GET", API_PATH, paged_report(ANCILLARY_FIELDS, rows, "NP4-188-CD"))
    with pytest.raises(SourceError, match=r"NP4-188-CD from .*report endpoint.*column 'MCPC' row 7: 'N/A\*'"):
        api.fetch("ancillary_prices", DAY)


def test_api_empty_report_endpoint_falls_back_to_the_archive_with_its_post_time(
    api: ErcotApi, http_server: LocalServer
) -> None:
    http_server.add("GET", API_PATH, paged_report(ANCILLARY_FIELDS, []))
    archive = FakeArchive(http_server, "np4-188-cd")
    archive.publish("DAMCPCNP4188", posted_for(DAY), ancillary_csv(DAY, mcpc, ANCILLARY_SERVICES))
    frame = assert_canonical(api.fetch("ancillary_prices", DAY), ANCILLARY_PRICES)
    assert set(frame["published_at"]) == {posted_for(DAY)}
    assert archive.bulk_requests()[0].json() == {"docIds": [archive.documents[0].doc_id]}


def test_api_fetch_many_reads_the_archive_in_bulk(api: ErcotApi, http_server: LocalServer) -> None:
    archive = FakeArchive(http_server, "np4-188-cd")
    days = [FALL_BACK - dt.timedelta(days=1), FALL_BACK, FALL_BACK + dt.timedelta(days=1)]
    for day in days:
        archive.publish("DAMCPCNP4188", posted_for(day), ancillary_csv(day, mcpc, ANCILLARY_SERVICES))

    frames = api.fetch_many("ancillary_prices", days)

    assert [len(frames[day]) for day in days] == [120, 125, 120]
    assert all(set(frames[day]["published_at"]) == {posted_for(day)} for day in days)
    assert len(http_server.requests_to(ARCHIVE_PATH)) == 1 and len(archive.bulk_requests()) == 1
    assert http_server.requests_to(API_PATH) == []  # backfill never pages report endpoints


def test_api_truncated_document_zip_is_a_clear_error(api: ErcotApi, http_server: LocalServer) -> None:
    archive = FakeArchive(http_server, "np4-188-cd")
    text = ancillary_csv(DAY, mcpc, ANCILLARY_SERVICES)
    archive.publish("DAMCPCNP4188", posted_for(DAY), text, payload=truncated(zip_of({"a.csv": text})))
    with pytest.raises(SourceError, match="DAMCPCNP4188.*not a complete zip archive") as caught:
        api.fetch_many("ancillary_prices", [DAY])
    assert f"{ARCHIVE_PATH}/download" in str(caught.value)


def test_api_401_gets_one_fresh_token_then_a_persistent_one_fails(api: ErcotApi, http_server: LocalServer) -> None:
    refused = json_reply({"statusCode": 401, "message": "Invalid JWT."}, status=401)
    serve(http_server, DAY, ANCILLARY_SERVICES, refused)
    assert len(api.fetch("ancillary_prices", DAY)) == 120
    calls = http_server.requests_to(API_PATH)
    assert [c.headers["Authorization"] for c in calls[:2]] == ["Bearer test-id-token-0001", "Bearer test-id-token-0002"]

    http_server.add("GET", API_PATH, refused)
    with pytest.raises(Unauthorized, match="ERCOT_API_SUBSCRIPTION_KEY") as caught:
        api.fetch("ancillary_prices", DAY)
    assert ENV["ERCOT_API_SUBSCRIPTION_KEY"] not in str(caught.value)


def test_api_429_then_success(api: ErcotApi, http_server: LocalServer, clock: FakeClock) -> None:
    serve(http_server, DAY, ANCILLARY_SERVICES, json_reply({"error_key": "throttled"}, status=429))
    assert len(api.fetch("ancillary_prices", DAY)) == 120


def test_api_repeated_500s_give_up_naming_url_and_report(api: ErcotApi, http_server: LocalServer) -> None:
    http_server.add("GET", API_PATH, Reply(status=500, body={"message": "Internal Server Error"}))
    with pytest.raises(HttpError) as caught:
        api.fetch("ancillary_prices", DAY)
    message = str(caught.value)
    assert "NP4-188-CD" in message and "HTTP 500" in message and "3 attempt(s)" in message
    assert f"{API_PATH}?deliveryDateFrom=2024-07-10&deliveryDateTo=2024-07-10" in message


def test_api_timeout_is_reported(api: ErcotApi, http_server: LocalServer) -> None:
    http_server.add("GET", API_PATH, Reply(body=b"{}", delay=0.6))
    with pytest.raises(HttpError, match="(?i)timed? ?out"):
        api.fetch("ancillary_prices", DAY)
