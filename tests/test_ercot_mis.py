"""ERCOT MIS client against a local server serving MIS's documented listing and zip shapes."""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd
import pytest

from pipeline import ercot_time
from pipeline.catalogue import NP4_190_CD, NP6_788_CD
from pipeline.sources.base import DataUnavailable, SourceError
from pipeline.sources.ercot_documents import Document, latest_reposts, publish_time
from pipeline.sources.ercot_mis import ErcotMis, parse_listing
from pipeline.catalogue import NP4_160_SG
from pipeline.sources.ercot_points import catalogue_points, mapping_document
from targets.schemas import (
    DAM_PRICES,
    LOAD,
    LOAD_FORECAST,
    RENEWABLES,
    RENEWABLES_FORECAST,
    RT_PRICES,
    SETTLEMENT_POINTS,
    WEATHER_FORECAST,
)
from tests.conftest import SHARED_DATA
from tests.conftest_http import *  # noqa: F403 (fixtures)
from tests.conftest_http import FakeMisWithZips, settlement_points_zip, typed_spp_csv
from tests.helpers import assert_canonical
from tests.http_server import (
    MIS_LIST_PATH,
    FakeMis,
    LocalServer,
    Reply,
    actual_load_csv,
    dam_spp_csv,
    load_forecast_csv,
    local_hours,
    publish_sced_day,
    renewable_csv,
    rt_spp_csv,
    sced_lmp_csv,
    temperature_forecast_csv,
    truncated,
    zip_of,
)

DAY = dt.date(2024, 7, 10)
FALL_BACK = dt.date(2024, 11, 3)
NODES = ("HB_NORTH", "HB_HOUSTON")


def price(node: str, instant: pd.Timestamp) -> float:
    return round(20.0 + (instant.hour * 60 + instant.minute) / 100 + (1.0 if node == "HB_NORTH" else 0.0), 2)


def at(day: dt.date, hhmm: str) -> pd.Timestamp:
    return ercot_time.local_time_on(day, hhmm)


@pytest.fixture
def mis(http_server: LocalServer) -> FakeMis:
    return FakeMis(http_server)


@pytest.fixture
def source(mis_config, clock, rng) -> ErcotMis:
    return ErcotMis(mis_config, nodes=NODES, sleep=clock.sleep, rng=rng)


@pytest.fixture
def spp_source(mis_config, clock, rng) -> ErcotMis:
    return ErcotMis(mis_config, nodes=NODES, rt_report="rt_spp", sleep=clock.sleep, rng=rng)


def publish_dam(mis: FakeMis, day: dt.date, *, name: str = "DAMSPNP4190", bump: float = 0.0,
                posted: pd.Timestamp | None = None, csv: str | None = None):
    text = csv if csv is not None else dam_spp_csv(day, lambda node, hour: 30.0 + hour.hour_ending + bump, NODES)
    return mis.publish(NP4_190_CD.report_type_id, name, posted if posted is not None else at(day - dt.timedelta(days=1), "13:31"),
                       text)


# --- real-time prices ---------------------------------------------------------------------------------


def test_sced_day_yields_every_5_minute_interval_stamped_with_its_publish_time(
    source: ErcotMis, mis: FakeMis, http_server: LocalServer
) -> None:
    publish_sced_day(mis, DAY, price, NODES)
    # The previous day's last run is posted just after midnight: inside the window, filtered out.
    late = ercot_time.day_start(DAY) - pd.Timedelta(minutes=4, seconds=47)
    mis.publish(12300, "LMPSROSNODENP6788_20240709_235513", late + pd.Timedelta(minutes=5),
                sced_lmp_csv(pd.Timestamp("2024-07-09 23:55:13"), False, {n: 99.0 for n in NODES}))

    frame = assert_canonical(source.fetch("rt_prices", DAY), RT_PRICES)

    assert len(frame) == 288 * len(NODES)
    assert set(frame["interval_minutes"]) == {5}
    assert frame["interval_start"].min() == ercot_time.day_start(DAY)
    north = frame[frame["node"] == "HB_NORTH"].set_index("interval_start")
    first = ercot_time.day_start(DAY)
    assert north.loc[first, "price"] == price("HB_NORTH", first + pd.Timedelta(seconds=13))
    assert north.loc[first, "published_at"] == first + pd.Timedelta(seconds=63)
    assert 99.0 not in set(frame["price"])
    # only the CSV siblings were downloaded, from one listing request
    assert set(mis.downloads()) == {doc.doc_id for doc in mis.documents[12300]}
    assert len(http_server.requests_to(MIS_LIST_PATH)) == 1


def test_fall_back_day_with_xhr_names_has_25_distinct_hours(source: ErcotMis, mis: FakeMis) -> None:
    count = publish_sced_day(mis, FALL_BACK, price, NODES, wrong_xhr_offset=True)
    assert count == 300

    frame = assert_canonical(source.fetch("rt_prices", FALL_BACK), RT_PRICES)

    north = frame[frame["node"] == "HB_NORTH"]
    assert len(north) == 300
    assert north["interval_start"].dt.floor("h").nunique() == 25
    # xhr files' PublishDate claimed daylight time; read as the repeated (standard-time) hour they
    # are published ~1 minute after their interval, not an hour before it.
    lag = north["published_at"] - north["interval_start"]
    assert lag.min() == pd.Timedelta(seconds=63) and lag.max() == pd.Timedelta(seconds=63)


def test_retry_repost_replaces_the_original_without_duplicating_rows(spp_source: ErcotMis, mis: FakeMis) -> None:
    publish_spp_day(mis, DAY)
    original = next(d for d in mis.documents[12301] if d.friendly_name == "SPPHLZNP6905_20240710_1215")
    hour = next(h for h in local_hours(DAY) if h.hour_ending == 13)
    repost = mis.publish(12301, original.friendly_name + "_retry", pd.Timestamp(original.publish_date)
                         + pd.Timedelta(minutes=3), rt_spp_csv(DAY, hour, 1, {n: 777.0 for n in NODES}))

    frame = spp_source.fetch("rt_prices", DAY)

    assert len(frame) == 96 * len(NODES)
    noon = frame[frame["interval_start"] == at(DAY, "12:00")]
    assert noon["price"].tolist() == [777.0, 777.0]
    assert set(noon["published_at"]) == {pd.Timestamp(repost.publish_date).tz_convert("UTC")}
    assert original.doc_id not in mis.downloads() and repost.doc_id in mis.downloads()


def test_two_postings_of_one_interval_keep_the_later_one(spp_source: ErcotMis, mis: FakeMis) -> None:
    publish_spp_day(mis, DAY)
    hour = next(h for h in local_hours(DAY) if h.hour_ending == 13)
    # same interval under a different name (no _retry marker): the later posting still wins, once
    mis.publish(12301, "SPPHLZNP6905_20240710_1215_0", at(DAY, "12:40"),
                rt_spp_csv(DAY, hour, 1, {n: 555.0 for n in NODES}))

    frame = spp_source.fetch("rt_prices", DAY)

    assert len(frame) == 96 * len(NODES)
    assert frame.loc[frame["interval_start"] == at(DAY, "12:00"), "price"].tolist() == [555.0, 555.0]


def publish_spp_day(mis: FakeMis, day: dt.date) -> None:
    """One NP6-905-CD file per 15-minute interval, posted a couple of minutes after it ends."""
    for hour in local_hours(day):
        for interval in range(1, 5):
            start = hour.start_utc + pd.Timedelta(minutes=15 * (interval - 1))
            end_label = hour.local_start + pd.Timedelta(minutes=15 * interval)
            name = f"SPPHLZNP6905_{end_label:%Y%m%d_%H%M}" + ("xhr" if hour.repeated else "")
            mis.publish(12301, name, start + pd.Timedelta(minutes=17),
                        rt_spp_csv(day, hour, interval, {n: price(n, start) for n in NODES}))


def test_rt_spp_option_reads_15_minute_settlement_point_prices(spp_source: ErcotMis, mis: FakeMis) -> None:
    publish_spp_day(mis, DAY)
    frame = assert_canonical(spp_source.fetch("rt_prices", DAY), RT_PRICES)
    assert len(frame) == 96 * len(NODES) and set(frame["interval_minutes"]) == {15}
    assert (frame["published_at"] - frame["interval_start"] == pd.Timedelta(minutes=17)).all()


def test_a_missing_hour_is_unavailable_not_a_partial_day(spp_source: ErcotMis, mis: FakeMis) -> None:
    publish_spp_day(mis, DAY)
    hour_14 = {f"SPPHLZNP6905_20240710_{label}" for label in ("1315", "1330", "1345", "1400")}
    mis.documents[12301] = [d for d in mis.documents[12301] if d.friendly_name not in hour_14]
    with pytest.raises(DataUnavailable, match="incomplete day.*lacks 1/24 h"):
        spp_source.fetch("rt_prices", DAY)


def test_unknown_node_is_a_clear_error(mis_config, clock, rng, mis: FakeMis) -> None:
    publish_dam(mis, DAY)
    source = ErcotMis(mis_config, nodes=("HB_NORTH", "HB_NOWHERE"), sleep=clock.sleep, rng=rng)
    with pytest.raises(SourceError, match="HB_NOWHERE"):
        source.fetch("dam_prices", DAY)


# --- day-ahead prices, load -------------------------------------------------------------------------------


def test_dam_day_is_the_file_posted_the_day_before(source: ErcotMis, mis: FakeMis) -> None:
    publish_dam(mis, DAY - dt.timedelta(days=1))
    publish_dam(mis, DAY)
    publish_dam(mis, DAY + dt.timedelta(days=1))

    frame = assert_canonical(source.fetch("dam_prices", DAY), DAM_PRICES)

    assert len(frame) == 24 * len(NODES)
    assert set(frame["published_at"]) == {at(DAY - dt.timedelta(days=1), "13:31")}
    assert frame.loc[frame["interval_start"] == ercot_time.day_start(DAY), "price"].tolist() == [31.0, 31.0]


def test_duplicate_dam_repost_keeps_the_latest_values_once(source: ErcotMis, mis: FakeMis) -> None:
    publish_dam(mis, DAY)
    publish_dam(mis, DAY, name="DAMSPNP4190_retry", bump=0.5, posted=at(DAY - dt.timedelta(days=1), "14:10"))
    publish_dam(mis, DAY, name="DAMSPNP4190_retry", bump=0.5, posted=at(DAY - dt.timedelta(days=1), "14:10"))

    frame = source.fetch("dam_prices", DAY)

    assert len(frame) == 24 * len(NODES)
    assert set(frame["published_at"]) == {at(DAY - dt.timedelta(days=1), "14:10")}
    assert frame["price"].min() == 31.5


def test_renamed_price_column_is_a_schema_error_naming_the_file(source: ErcotMis, mis: FakeMis) -> None:
    csv = dam_spp_csv(DAY, lambda node, hour: 30.0, NODES).replace("SettlementPointPrice", "SPPrice")
    publish_dam(mis, DAY, csv=csv)
    with pytest.raises(SourceError, match=r"required column 'SettlementPointPrice' is missing") as caught:
        source.fetch("dam_prices", DAY)
    assert "NP4-190-CD" in str(caught.value) and "DAMSPNP4190_csv" in str(caught.value)


def test_missing_hour_ending_column_is_a_schema_error(source: ErcotMis, mis: FakeMis) -> None:
    lines = dam_spp_csv(DAY, lambda node, hour: 30.0, NODES).splitlines()
    csv = "\n".join(",".join(v for i, v in enumerate(line.split(",")) if i != 1) for line in lines) + "\n"
    publish_dam(mis, DAY, csv=csv)
    with pytest.raises(SourceError, match="HourEnding"):
        source.fetch("dam_prices", DAY)


def test_truncated_zip_names_the_download_url(source: ErcotMis, mis: FakeMis, http_server: LocalServer) -> None:
    doc = publish_dam(mis, DAY)
    doc.payload = truncated(zip_of({"dam.csv": doc.csv_text}))
    with pytest.raises(SourceError, match="not a complete zip archive") as caught:
        source.fetch("dam_prices", DAY)
    assert f"{http_server.url}/misdownload/servlets/mirDownload?doclookupId={doc.doc_id}" in str(caught.value)


def test_actual_load_for_d_is_posted_early_on_d_plus_1(source: ErcotMis, mis: FakeMis) -> None:
    mis.publish(13101, "ACTUAL_LOADS_WEATHER_ZONES", at(DAY + dt.timedelta(days=1), "05:50"), actual_load_csv(DAY))
    frame = assert_canonical(source.fetch("load", DAY), LOAD)
    assert len(frame) == 24 * 9  # eight weather zones and the ERCOT total
    assert set(frame["published_at"]) == {at(DAY + dt.timedelta(days=1), "05:50")}


# --- listing gaps ---------------------------------------------------------------------------------------------


def test_a_day_no_longer_listed_is_unavailable(source: ErcotMis, mis: FakeMis) -> None:
    publish_dam(mis, DAY + dt.timedelta(days=10))
    with pytest.raises(DataUnavailable, match="no longer listed.*5-31 days"):
        source.fetch("dam_prices", DAY)


def test_a_day_not_yet_posted_is_unavailable(source: ErcotMis, mis: FakeMis) -> None:
    publish_dam(mis, DAY - dt.timedelta(days=5))
    with pytest.raises(DataUnavailable, match="not published yet"):
        source.fetch("dam_prices", DAY)


def test_empty_listing_is_unavailable(source: ErcotMis, mis: FakeMis) -> None:
    with pytest.raises(DataUnavailable, match="holds no documents"):
        source.fetch("load", DAY)


def test_listing_failures_name_the_report_and_url(source: ErcotMis, http_server: LocalServer) -> None:
    http_server.add("GET", MIS_LIST_PATH, Reply(status=500, body="down"))
    with pytest.raises(SourceError) as caught:
        source.fetch("dam_prices", DAY)
    message = str(caught.value)
    assert "NP4-190-CD listing" in message and "reportTypeId=12331" in message and "HTTP 500" in message
    assert "3 attempt(s)" in message


def test_malformed_listing_is_a_clear_error(source: ErcotMis, http_server: LocalServer) -> None:
    http_server.add("GET", MIS_LIST_PATH, Reply(body="{\"ListDocsByRptTypeRes\": ", content_type="application/json"))
    with pytest.raises(SourceError, match="malformed JSON"):
        source.fetch("dam_prices", DAY)


def test_listing_without_its_documented_root_is_a_clear_error(source: ErcotMis, http_server: LocalServer) -> None:
    http_server.add("GET", MIS_LIST_PATH, Reply(body={"Documents": []}))
    with pytest.raises(SourceError, match="ListDocsByRptTypeRes"):
        source.fetch("dam_prices", DAY)


def test_fetch_many_lists_once_per_report(source: ErcotMis, mis: FakeMis, http_server: LocalServer) -> None:
    days = [DAY, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2)]
    for day in days:
        publish_dam(mis, day)
    frames = source.fetch_many("dam_prices", days)
    assert sorted(frames) == days and all(len(f) == 48 for f in frames.values())
    assert len(http_server.requests_to(MIS_LIST_PATH)) == 1


# --- forecast vintages and renewables ---------------------------------------------------------------------------


def test_load_forecast_vintage_is_the_latest_post_at_or_before_the_cutoff(source: ErcotMis, mis: FakeMis,
                                                                          mis_config, clock, rng) -> None:
    for hhmm in ("04:55", "05:55", "06:55"):
        mis.publish(14837, f"LFBMWZNP3565_{DAY:%Y%m%d}_{hhmm.replace(':', '')}", at(DAY, hhmm), load_forecast_csv(DAY))
    mis.publish(14837, "LFBMWZNP3565_20240709_2355", at(DAY - dt.timedelta(days=1), "23:55"),
                load_forecast_csv(DAY - dt.timedelta(days=1)))

    frame = assert_canonical(source.fetch("load_forecast", DAY), LOAD_FORECAST)
    assert set(frame["published_at"]) == {at(DAY, "05:55")}
    assert len(frame) == 8 * 24 * 9  # eight days, ERCOT's in-use model only

    early = ErcotMis(mis_config, vintage_cutoff="05:00", sleep=clock.sleep, rng=rng)
    assert set(early.fetch("load_forecast", DAY)["published_at"]) == {at(DAY, "04:55")}


def test_forecast_vintage_without_a_morning_post_is_unavailable(source: ErcotMis, mis: FakeMis) -> None:
    mis.publish(14837, f"LFBMWZNP3565_{DAY:%Y%m%d}_0755", at(DAY, "07:55"), load_forecast_csv(DAY))
    with pytest.raises(DataUnavailable, match="load_forecast for 2024-07-10"):
        source.fetch("load_forecast", DAY)


def publish_renewables(mis: FakeMis, posts: list[pd.Timestamp]) -> None:
    for posted in posts:
        local = posted.tz_convert(ercot_time.CPT)
        mis.publish(13028, f"WPPHRLYAVRGACTLFCSTNP4732_{local:%Y%m%d_%H%M}", posted, renewable_csv("wind", posted))
        mis.publish(13483, f"SPPHRLYAVRGACTLFCSTNP4737_{local:%Y%m%d_%H%M}", posted, renewable_csv("solar", posted))


def test_renewables_actuals_come_from_the_first_post_covering_the_day(source: ErcotMis, mis: FakeMis) -> None:
    midnight = ercot_time.day_start(DAY + dt.timedelta(days=1))
    publish_renewables(mis, [midnight - pd.Timedelta(minutes=5), midnight + pd.Timedelta(minutes=55),
                             midnight + pd.Timedelta(minutes=115)])

    frame = assert_canonical(source.fetch("renewables", DAY), RENEWABLES)

    assert sorted(set(frame["fuel"])) == ["solar", "wind"]
    assert len(frame) == 48
    # published no later than the post that carried them (earlier where the schedule says so)
    assert frame["published_at"].max() <= midnight + pd.Timedelta(minutes=55)


def test_renewables_forecast_vintage(source: ErcotMis, mis: FakeMis) -> None:
    publish_renewables(mis, [at(DAY, "04:55"), at(DAY, "05:55"), at(DAY, "06:55")])
    frame = assert_canonical(source.fetch("renewables_forecast", DAY), RENEWABLES_FORECAST)
    assert set(frame["published_at"]) == {at(DAY, "05:55")}
    assert frame.groupby("fuel").size().to_dict() == {"solar": 168, "wind": 168}


def test_temperature_forecast_vintage(source: ErcotMis, mis: FakeMis) -> None:
    mis.publish(12325, f"TEMPFCSTNP4722_{DAY:%Y%m%d}_0500", at(DAY, "05:00"), temperature_forecast_csv(DAY))
    frame = assert_canonical(source.fetch("weather_forecast", DAY), WEATHER_FORECAST)
    assert len(frame) == 7 * 24 * 8 and set(frame["published_at"]) == {at(DAY, "05:00")}


def test_unknown_dataset_is_refused(source: ErcotMis) -> None:
    with pytest.raises(ValueError, match="does not provide 'weather'"):
        source.fetch("weather", DAY)


# --- pure helpers -------------------------------------------------------------------------------------------------


def test_publish_time_reads_xhr_wall_clock_as_the_repeated_hour() -> None:
    first = publish_time("2024-11-03T01:20:13-05:00", "LMPSROSNODENP6788_20241103_011513_csv")
    second = publish_time("2024-11-03T01:20:13-05:00", "LMPSROSNODENP6788_20241103_011513xhr_csv")
    assert first == pd.Timestamp("2024-11-03T06:20:13Z")
    assert second == pd.Timestamp("2024-11-03T07:20:13Z")
    # archive postDatetime: local wall clock without offset; ambiguous means the later occurrence
    assert publish_time("2024-11-03T01:20:13", "X_20241103_011513xhr") == pd.Timestamp("2024-11-03T07:20:13Z")
    assert publish_time("2024-11-03T01:20:13", "X_20241103_011513") == pd.Timestamp("2024-11-03T07:20:13Z")
    assert publish_time("2024-07-10T05:55:00", "X") == pd.Timestamp("2024-07-10T10:55:00Z")
    with pytest.raises(SourceError, match="unreadable publish time"):
        publish_time("yesterday-ish", "X")


def test_latest_reposts_dedupes_ids_and_prefers_the_latest_repost() -> None:
    t = pd.Timestamp("2024-07-10T12:00:00Z")
    docs = [
        Document("1", "LMPSROSNODENP6788_20240710_070013_csv", t),
        Document("1", "LMPSROSNODENP6788_20240710_070013_csv", t),
        Document("2", "LMPSROSNODENP6788_20240710_070013_retry_csv", t + pd.Timedelta(minutes=2)),
        Document("3", "DAMSPNP4190_csv", t),
        Document("4", "DAMSPNP4190_csv", t + pd.Timedelta(days=1)),
    ]
    assert [d.doc_id for d in latest_reposts(docs)] == ["3", "2", "4"]
    assert NP6_788_CD.emil == "np6-788-cd"


# --- settlement points ----------------------------------------------------------------------------------------

REAL_SPP = (SHARED_DATA / "ercot_formats" / "NP6-905-CD"
            / "cdr.00012301.0000000000000000.20240329.010211.SPPHLZNP6905_20240329_0100.csv")
POINTS_DAY = dt.date(2024, 3, 29)
MAPPING_NAME = "CIM_Mar_ML3_1_03262024_SP_List_and_EB_Mapping"
# (ELECTRICAL_BUS, SETTLEMENT_LOAD_ZONE, RESOURCE_NODE, HUB) rows of a small NP4-160-SG list
BUSES = (
    ("0001", "LZ_SOUTH", "", ""),  # a bus that is no settlement point
    ("7RNCH_1", "LZ_WEST", "7RNCHSLR_ALL", ""),
    ("AEEC_B", "LZ_WEST", "AEEC", ""),
    ("DECKER_B", "LZ_SOUTH", "AGUAYO_UNIT1", ""),  # in a NOIE zone (below): LZ_AEN wins
    ("ODEHV_5", "LZ_WEST", "AJAXWIND_RN", "HB_WEST"),  # a resource node on a hub bus
    ("TWIN_1", "LZ_NORTH", "AMO_AMOCO_1", ""),
    ("TWIN_2", "LZ_HOUSTON", "AMO_AMOCO_1", ""),  # two buses that disagree: no load zone
)
NOIE_BUSES = (("DECKER_B", "LZ_AEN"),)


@pytest.fixture
def zmis(http_server: LocalServer) -> FakeMisWithZips:
    return FakeMisWithZips(http_server)


def real_spp_text() -> str:
    if not REAL_SPP.is_file():
        pytest.skip(f"the real 908-point NP6-905-CD file is not at {REAL_SPP} (see ../shared/data/ercot_formats)")
    return REAL_SPP.read_text()


def publish_points(zmis: FakeMisWithZips, spp_text: str) -> None:
    """An early file of the day with two hubs, then the real one (posted 01:02:11), then the list."""
    zmis.publish(12301, "SPPHLZNP6905_20240329_0015", at(POINTS_DAY, "00:17"),
                 typed_spp_csv(POINTS_DAY, 1, 1, [("HB_NORTH", "HU", 1.0), ("HB_WEST", "HU", 2.0)]))
    zmis.publish(12301, "SPPHLZNP6905_20240329_0100", at(POINTS_DAY, "01:02") + pd.Timedelta(seconds=11), spp_text)
    zmis.publish_zip(NP4_160_SG.report_type_id, MAPPING_NAME, at(POINTS_DAY - dt.timedelta(days=3), "00:05"),
                     settlement_points_zip(BUSES, NOIE_BUSES))


def test_settlement_points_are_the_newest_price_file_with_zones_from_the_list(
    mis_config, clock, rng, zmis: FakeMisWithZips, http_server: LocalServer
) -> None:
    publish_points(zmis, real_spp_text())
    source = ErcotMis(mis_config, nodes=NODES, sleep=clock.sleep, rng=rng)  # nodes do not narrow the list

    frame = SETTLEMENT_POINTS.conform(source.settlement_points(POINTS_DAY))

    assert len(frame) == 896  # 908 rows less the LZEW / LZ_DCEW copies of 8 load zones and 4 DC ties
    assert frame["type"].value_counts().to_dict() == {"RN": 592, "PCCRN": 165, "LCCRN": 70, "PUN": 50, "LZ": 8,
                                                       "HU": 5, "LZ_DC": 4, "SH": 1, "AH": 1}
    points = frame.set_index("name")
    assert points.loc["HB_NORTH"].tolist() == ["HU", None, "HB_NORTH"]
    assert points.loc["HB_HUBAVG", "type"] == "AH" and points.loc["HB_BUSAVG", "hub"] == "HB_BUSAVG"
    assert points.loc["LZ_HOUSTON"].tolist() == ["LZ", "LZ_HOUSTON", None]
    assert points.loc["DC_E"].tolist() == ["LZ_DC", "DC_E", None]
    assert points.loc["AEEC"].tolist() == ["RN", "LZ_WEST", None]
    assert points.loc["AGUAYO_UNIT1", "load_zone"] == "LZ_AEN"
    assert points.loc["AJAXWIND_RN"].tolist() == ["RN", "LZ_WEST", "HB_WEST"]
    assert points.loc["AMO_AMOCO_1"].tolist() == ["PCCRN", None, None]
    assert points.loc["AMOCOOIL_CC1"].tolist() == ["LCCRN", None, None]  # not in the list
    mapping = next(d for d in zmis.documents[NP4_160_SG.report_type_id])
    assert mapping.doc_id in zmis.downloads() and len(zmis.downloads()) == 2  # the newest price file + the list
    assert {r.param("reportTypeId") for r in http_server.requests_to(MIS_LIST_PATH)} == {"12301", "10008"}


def test_settlement_points_on_a_synthetic_day(source: ErcotMis, zmis: FakeMisWithZips) -> None:
    points = [("HB_NORTH", "HU", 1.0), ("HB_HUBAVG", "AH", 1.0), ("LZ_WEST", "LZ", 2.0), ("LZ_WEST", "LZEW", 2.1),
              ("DC_L", "LZ_DC", 3.0), ("DC_L", "LZ_DCEW", 3.0), ("AEEC", "RN", 4.0), ("7RNCHSLR_ALL", "RN", 4.5)]
    zmis.publish(12301, "SPPHLZNP6905_20240710_2400", at(DAY + dt.timedelta(days=1), "00:02"),
                 typed_spp_csv(DAY, 24, 4, points))
    zmis.publish_zip(10008, MAPPING_NAME, at(DAY, "00:05"), settlement_points_zip(BUSES, NOIE_BUSES))
    zmis.publish_zip(10008, "CIM_Jul_ML1_2_07172024_SP_List_and_EB_Mapping", at(DAY + dt.timedelta(days=6), "00:05"),
                     settlement_points_zip([("AEEC_B", "LZ_NORTH", "AEEC", "")]))  # a later model: not used

    frame = SETTLEMENT_POINTS.conform(source.settlement_points(DAY))

    assert frame["name"].tolist() == ["7RNCHSLR_ALL", "AEEC", "DC_L", "HB_HUBAVG", "HB_NORTH", "LZ_WEST"]
    assert frame.set_index("name")["load_zone"].to_dict() == {
        "7RNCHSLR_ALL": "LZ_WEST", "AEEC": "LZ_WEST", "DC_L": "DC_L", "HB_HUBAVG": None, "HB_NORTH": None,
        "LZ_WEST": "LZ_WEST"}


def test_settlement_points_without_the_list_have_no_zones(source: ErcotMis, zmis: FakeMisWithZips,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    zmis.publish(12301, "SPPHLZNP6905_20240710_0015", at(DAY, "00:17"),
                 typed_spp_csv(DAY, 1, 1, [("HB_NORTH", "HU", 1.0), ("AEEC", "RN", 4.0)]))
    with caplog.at_level(logging.WARNING):
        frame = source.settlement_points(DAY)
    assert frame.set_index("name").loc["AEEC"].tolist() == ["RN", None, None]
    assert "MIS lists no NP4-160-SG file" in caplog.text


def test_a_broken_list_leaves_zones_empty_and_says_why(source: ErcotMis, zmis: FakeMisWithZips,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    zmis.publish(12301, "SPPHLZNP6905_20240710_0015", at(DAY, "00:17"),
                 typed_spp_csv(DAY, 1, 1, [("AEEC", "RN", 4.0)]))
    zmis.publish_zip(10008, MAPPING_NAME, at(DAY, "00:05"), truncated(settlement_points_zip(BUSES)))
    with caplog.at_level(logging.WARNING):
        frame = source.settlement_points(DAY)
    assert frame["load_zone"].tolist() == [None]
    assert "not a complete zip archive" in caplog.text and MAPPING_NAME in caplog.text


def test_settlement_points_of_a_day_without_price_files_are_unavailable(source: ErcotMis,
                                                                        zmis: FakeMisWithZips) -> None:
    zmis.publish(12301, "SPPHLZNP6905_20240720_0015", at(DAY + dt.timedelta(days=10), "00:17"),
                 typed_spp_csv(DAY, 1, 1, [("AEEC", "RN", 4.0)]))
    with pytest.raises(DataUnavailable, match="settlement_points for 2024-07-10.*no longer listed"):
        source.settlement_points(DAY)


def test_the_list_is_listed_once_without_csv_twins(zmis: FakeMisWithZips, mis_config, clock, rng) -> None:
    zmis.publish_zip(10008, MAPPING_NAME, at(DAY, "00:05"), settlement_points_zip(BUSES))
    documents = ErcotMis(mis_config, sleep=clock.sleep, rng=rng).list_documents(NP4_160_SG)
    assert [d.name for d in documents] == [MAPPING_NAME]
    payload = zmis.listing_json(10008)
    assert parse_listing(payload, where="x") == []  # the twinned rule would drop it
    assert len(parse_listing(payload, where="x", twins=False)) == 1


def test_the_model_in_force_is_the_newest_posted_by_the_day_else_the_oldest_listed() -> None:
    t = pd.Timestamp("2024-07-10T05:00Z")
    docs = [Document("1", "A", t - pd.Timedelta(days=8)), Document("2", "B", t - pd.Timedelta(days=1)),
            Document("3", "C", t + pd.Timedelta(days=6)), Document("4", "D", t + pd.Timedelta(days=13))]
    assert mapping_document(docs, t).doc_id == "2"
    assert mapping_document(docs[2:], t).doc_id == "3"  # MIS no longer lists older models: the closest
    assert mapping_document([], t) is None


def test_catalogue_points_refuse_a_name_of_unknown_type() -> None:
    assert catalogue_points(["HB_PAN", "LZ_CPS"], "f", NP6_788_CD)["type"].tolist() == ["HU", "LZ"]
    with pytest.raises(SourceError, match=r"\['XYZ_RN'\] are not hubs or load zones"):
        catalogue_points(["HB_PAN", "XYZ_RN"], "f", NP6_788_CD)
