"""ERCOT report tables -> canonical frames, on tiny hand-built tables in every header spelling.

Also the archive's own layouts (Native_Load hour labels, fuel-mix sheets) and its gap finder.

DST days pinned: 2021-03-14 and 2024-03-10 (spring forward, no HE 3), 2021-11-07 and 2024-11-03
(fall back, HE 2 twice or HE 1..25).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pipeline import ercot_time
from pipeline.catalogue import NP6_785_ER
from pipeline.sources.base import SourceError
from pipeline.sources.ercot_archive import (
    DataGap,
    find_gaps,
    fuel_mix_sheet_intervals,
    native_load_labels,
    quarter_hours_to_hourly_mw,
)
from pipeline.sources.ercot_files import (
    ReportFormatError,
    actual_load_to_canonical,
    dam_spp_to_canonical,
    header_key,
    load_forecast_to_canonical,
    rt_spp_to_canonical,
    sced_lmp_to_canonical,
    solar_to_canonical,
    temperature_forecast_to_canonical,
    wind_to_canonical,
)
from targets.schemas import (
    DAM_PRICES,
    LOAD,
    LOAD_FORECAST,
    RENEWABLES,
    RENEWABLES_FORECAST,
    RT_PRICES,
    WEATHER_FORECAST,
)
from tests.helpers import assert_canonical

UTC = "UTC"
POSTED = pd.Timestamp("2024-03-10 11:00", tz=UTC)


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=UTC)


# --- builders ------------------------------------------------------------------------------------

RT_SPELLINGS = {
    "mis_csv": ["DeliveryDate", "DeliveryHour", "DeliveryInterval", "SettlementPointName", "SettlementPointType",
                "SettlementPointPrice", "DSTFlag"],
    "annual_workbook": ["Delivery Date", "Delivery Hour", "Delivery Interval", "Settlement Point Name",
                        "Settlement Point Type", "Settlement Point Price", "Repeated Hour Flag"],
    "upper_snake": ["DELIVERY_DATE", "DELIVERY_HOUR", "DELIVERY_INTERVAL", "SETTLEMENT_POINT", "SETTLEMENT_POINT_TYPE",
                    "SETTLEMENT_POINT_PRICE", "REPEATED_HOUR_FLAG"],
    "public_api": ["deliveryDate", "deliveryHour", "deliveryInterval", "settlementPoint", "settlementPointType",
                   "settlementPointPrice", "DSTFlag"],
}


def rt_rows(day: str, hours: list[int], repeated_hour: int | None = None, node: str = "HB_NORTH") -> list[list[object]]:
    """Every 15-minute interval of ``hours``; the second copy of ``repeated_hour`` flagged Y."""
    rows = []
    for hour in hours:
        for interval in (1, 2, 3, 4):
            rows.append([day, hour, interval, node, "HU", f"{20.0 + hour + interval / 10:.2f}", "N"])
        if hour == repeated_hour:
            for interval in (1, 2, 3, 4):
                rows.append([day, hour, interval, node, "HU", f"{30.0 + interval / 10:.2f}", "Y"])
    return rows


def rt_frame(rows: list[list[object]], spelling: str = "mis_csv") -> pd.DataFrame:
    return pd.DataFrame(rows, columns=RT_SPELLINGS[spelling])


def dam_frame(
    day: str, hour_endings: list[str], flags: list[str] | None = None, node: str = "HB_NORTH"
) -> pd.DataFrame:
    flags = flags or ["N"] * len(hour_endings)
    return pd.DataFrame({
        "DeliveryDate": day,
        "HourEnding": hour_endings,
        "SettlementPoint": node,
        "SettlementPointPrice": [f" {20 + i}.5" for i in range(len(hour_endings))],
        "DSTFlag": flags,
    })


def he(hours: list[int]) -> list[str]:
    return [f"{h:02d}:00" for h in hours]


LOAD_ZONE_SPELLINGS = {
    "np6_345_cd": ["COAST", "EAST", "FAR_WEST", "NORTH", "NORTH_C", "SOUTHERN", "SOUTH_C", "WEST", "TOTAL"],
    "native_load_2017_on": ["COAST", "EAST", "FWEST", "NORTH", "NCENT", "SOUTH", "SCENT", "WEST", "ERCOT"],
    "np3_565_cd": ["Coast", "East", "FarWest", "North", "NorthCentral", "SouthCentral", "Southern", "West",
                   "SystemTotal"],
    "public_api": ["coast", "east", "farWest", "north", "northC", "southern", "southC", "west", "total"],
}
CANONICAL_ZONES = {"COAST", "EAST", "FAR_WEST", "NORTH", "NORTH_C", "SOUTHERN", "SOUTH_C", "WEST", "ERCOT"}


def load_frame(day: str, hours: list[int], zone_names: list[str], date_column: str = "OperDay",
               flags: list[str] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({date_column: day, "HourEnding": he(hours), "DSTFlag": flags or ["N"] * len(hours)})
    for i, name in enumerate(zone_names):
        frame[name] = [1000.0 * (i + 1) + h for h in range(len(hours))]
    return frame


# --- header matching ---------------------------------------------------------------------------


SPELLINGS_OF_DELIVERY_DATE = ["DeliveryDate", "Delivery Date", "DELIVERY_DATE", "deliveryDate", " Delivery Date "]


@pytest.mark.parametrize("spelling", SPELLINGS_OF_DELIVERY_DATE)
def test_header_spellings_reduce_to_one_key(spelling: str) -> None:
    assert header_key(spelling) == "deliverydate"


@pytest.mark.parametrize("spelling", sorted(RT_SPELLINGS))
def test_rt_spp_reads_every_header_spelling_alike(spelling: str) -> None:
    rows = rt_rows("03/01/2021", [1, 2])
    reference = rt_spp_to_canonical(rt_frame(rows, "mis_csv"), "reference.csv")
    out = rt_spp_to_canonical(rt_frame(rows, spelling), f"{spelling}.csv")
    pd.testing.assert_frame_equal(out, reference)
    assert_canonical(out, RT_PRICES)
    assert out["interval_start"].iloc[0] == utc("2021-03-01 06:00")
    assert (out["interval_minutes"] == 15).all()


FLAG_SPELLINGS = ["DSTFlag", "Repeated Hour Flag", "RepeatedHourFlag", "RepeatHourFlag ", "DSTFlag  "]


@pytest.mark.parametrize("flag_name", FLAG_SPELLINGS)
def test_every_repeated_hour_flag_spelling_separates_the_fall_back_hour(flag_name: str) -> None:
    frame = rt_frame(rt_rows("11/07/2021", [1, 2, 3], repeated_hour=2)).rename(columns={"DSTFlag": flag_name})
    out = rt_spp_to_canonical(frame, "fall_back.csv")
    assert len(out) == 16
    assert out["interval_start"].diff().dropna().eq(pd.Timedelta(minutes=15)).all()
    flagged = out.loc[out["price"] >= 30, "interval_start"]
    # The flagged copy of HE 2 is 01:00-02:00 CST = 07:00-08:00 UTC.
    assert list(flagged) == list(pd.date_range(utc("2021-11-07 07:00"), periods=4, freq="15min"))


def test_prices_with_leading_spaces_and_thousands_separators_parse() -> None:
    rows = rt_rows("02/15/2021", [1])
    frame = rt_frame(rows)
    frame["SettlementPointPrice"] = [" 9,000.00", "  1,234.5", " -12.25", "0"]
    out = rt_spp_to_canonical(frame, "uri.csv")
    assert list(out["price"]) == [9000.0, 1234.5, -12.25, 0.0]


def test_a_price_that_is_not_a_number_names_value_column_and_origin() -> None:
    frame = rt_frame(rt_rows("02/15/2021", [1]))
    frame.loc[2, "SettlementPointPrice"] = "n/a"
    expected = r"NP6-905-CD from bad\.csv: column 'SettlementPointPrice' row 2: 'n/a'"
    with pytest.raises(ReportFormatError, match=expected):
        rt_spp_to_canonical(frame, "bad.csv")


def test_a_blank_price_is_an_error_not_a_dropped_row() -> None:
    frame = rt_frame(rt_rows("02/15/2021", [1]))
    frame.loc[1, "SettlementPointPrice"] = "  "
    with pytest.raises(ReportFormatError, match="blank"):
        rt_spp_to_canonical(frame, "blank.csv")


# --- missing / renamed columns ---------------------------------------------------------------------


def test_missing_column_error_names_column_report_and_origin() -> None:
    frame = rt_frame(rt_rows("03/01/2021", [1])).drop(columns="DeliveryInterval")
    with pytest.raises(SourceError) as info:
        rt_spp_to_canonical(frame, "https://example.test/doc?id=1")
    message = str(info.value)
    assert "DeliveryInterval" in message and "NP6-905-CD" in message and "https://example.test/doc?id=1" in message


def test_renamed_price_column_is_reported_as_missing() -> None:
    frame = dam_frame("03/01/2021", he([1, 2])).rename(columns={"SettlementPointPrice": "Price"})
    with pytest.raises(ReportFormatError, match=r"NP4-190-CD from dam\.csv: required column 'SettlementPointPrice'"):
        dam_spp_to_canonical(frame, "dam.csv")


def test_two_spellings_of_one_column_are_ambiguous() -> None:
    frame = dam_frame("03/01/2021", he([1])).assign(SettlementPointName="HB_NORTH")
    with pytest.raises(ReportFormatError, match="ambiguous"):
        dam_spp_to_canonical(frame, "dam.csv")


def test_missing_zone_error_names_the_zone_and_its_spellings() -> None:
    frame = load_frame("03/01/2021", [1], LOAD_ZONE_SPELLINGS["np6_345_cd"]).drop(columns="NORTH_C")
    with pytest.raises(ReportFormatError, match=r"NP6-345-CD from load\.csv: .*NORTH_C.*NCENT"):
        actual_load_to_canonical(frame, "load.csv")


def test_the_report_named_in_errors_can_be_the_annual_file() -> None:
    frame = rt_frame(rt_rows("03/01/2021", [1]), "annual_workbook").drop(columns="Delivery Hour")
    with pytest.raises(ReportFormatError, match=r"NP6-785-ER from RTM-2021-03\.csv: required column 'DeliveryHour'"):
        rt_spp_to_canonical(frame, "RTM-2021-03.csv", report=NP6_785_ER)


# --- settlement points -------------------------------------------------------------------------------


def test_lz_is_kept_and_lzew_dropped_when_the_type_column_exists() -> None:
    frame = rt_frame([
        ["03/01/2021", 1, 1, "LZ_HOUSTON", "LZ", 21.50, "N"],
        ["03/01/2021", 1, 1, "LZ_HOUSTON", "LZEW", 21.75, "N"],
        ["03/01/2021", 1, 1, "HB_HOUSTON", "HU", 21.40, "N"],
    ])
    out = rt_spp_to_canonical(frame, "types.csv")
    assert dict(zip(out["node"], out["price"])) == {"LZ_HOUSTON": 21.50, "HB_HOUSTON": 21.40}


def test_without_a_type_column_two_rows_for_one_zone_are_a_duplicate_error() -> None:
    frame = rt_frame([
        ["03/01/2021", 1, 1, "LZ_HOUSTON", "LZ", 21.50, "N"],
        ["03/01/2021", 1, 1, "LZ_HOUSTON", "LZEW", 21.75, "N"],
    ]).drop(columns="SettlementPointType")
    with pytest.raises(ReportFormatError, match="share a key"):
        rt_spp_to_canonical(frame, "no_types.csv")


def test_nodes_filter_keeps_requested_points_and_rejects_absent_ones() -> None:
    rows = rt_rows("03/01/2021", [1], node="HB_NORTH") + rt_rows("03/01/2021", [1], node="HB_WEST")
    out = rt_spp_to_canonical(rt_frame(rows), "two.csv", nodes=["HB_WEST"])
    assert set(out["node"]) == {"HB_WEST"} and len(out) == 4
    with pytest.raises(ReportFormatError, match=r"\['HB_PAN'\] not in the table"):
        rt_spp_to_canonical(rt_frame(rows), "two.csv", nodes=["HB_WEST", "HB_PAN"])


# --- DST days ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", [dt.date(2021, 3, 14), dt.date(2024, 3, 10)])
def test_rt_spring_forward_day_has_92_consecutive_intervals(day: dt.date) -> None:
    hours = [h for h in range(1, 25) if h != 3]
    out = rt_spp_to_canonical(rt_frame(rt_rows(f"{day:%m/%d/%Y}", hours)), "spring.csv")
    assert len(out) == 92
    assert out["interval_start"].iloc[0] == ercot_time.day_start(day)
    assert out["interval_start"].diff().dropna().eq(pd.Timedelta(minutes=15)).all()


@pytest.mark.parametrize("day", [dt.date(2021, 3, 14), dt.date(2024, 3, 10)])
def test_spring_forward_hour_ending_3_is_rejected(day: dt.date) -> None:
    with pytest.raises(ReportFormatError, match="do not exist"):
        dam_spp_to_canonical(dam_frame(f"{day:%m/%d/%Y}", he([2, 3])), "spring.csv")


@pytest.mark.parametrize("day", [dt.date(2021, 11, 7), dt.date(2024, 11, 3)])
def test_rt_fall_back_day_has_100_consecutive_intervals(day: dt.date) -> None:
    out = rt_spp_to_canonical(rt_frame(rt_rows(f"{day:%m/%d/%Y}", list(range(1, 25)), repeated_hour=2)), "fall.csv")
    assert len(out) == 100
    start, end = ercot_time.day_bounds(day)
    assert list(out["interval_start"]) == list(pd.date_range(start, end, freq="15min", inclusive="left"))


@pytest.mark.parametrize("day", [dt.date(2021, 11, 7), dt.date(2024, 11, 3)])
def test_dam_fall_back_day_by_flag_and_by_hour_ending_25_agree(day: dt.date) -> None:
    flagged = dam_frame(f"{day:%m/%d/%Y}", he([1, 2, 2, *range(3, 25)]), ["N", "N", "Y"] + ["N"] * 22)
    elapsed = dam_frame(f"{day:%m/%d/%Y}", he(list(range(1, 26))))
    by_flag = dam_spp_to_canonical(flagged, "flag.csv")
    by_25 = dam_spp_to_canonical(elapsed, "he25.csv")
    assert len(by_flag) == len(by_25) == 25
    assert list(by_flag["interval_start"]) == list(by_25["interval_start"]) == list(ercot_time.operating_day_hours(day))
    assert list(by_flag["price"]) == list(by_25["price"])


def test_hour_ending_24_is_the_last_hour_of_the_same_date() -> None:
    out = dam_spp_to_canonical(dam_frame("07/01/2021", he([24])), "he24.csv")
    assert_canonical(out, DAM_PRICES)
    # 23:00 CDT on 2021-07-01 = 04:00 UTC on 07-02; no date roll in the label.
    assert out["interval_start"].iloc[0] == utc("2021-07-02 04:00")


@pytest.mark.parametrize(("day", "hours"), [(dt.date(2024, 3, 10), 23), (dt.date(2024, 11, 3), 25)])
def test_load_dst_days_have_23_and_25_hours(day: dt.date, hours: int) -> None:
    labels = [h for h in range(1, 25) if h != 3] if hours == 23 else [1, 2, 2, *range(3, 25)]
    flags = ["N"] * len(labels)
    if hours == 25:
        flags[2] = "Y"
    frame = load_frame(f"{day:%m/%d/%Y}", labels, LOAD_ZONE_SPELLINGS["np6_345_cd"], flags=flags)
    out = actual_load_to_canonical(frame, "load.csv")
    assert_canonical(out, LOAD)
    per_zone = out.groupby("zone")["interval_start"].apply(list)
    assert all(starts == list(ercot_time.operating_day_hours(day)) for starts in per_zone)


# --- SCED LMPs -----------------------------------------------------------------------------------------


def sced_frame(stamps: list[str], prices: list[float], flags: list[str] | None = None) -> pd.DataFrame:
    return pd.DataFrame({
        "SCEDTimestamp": stamps,
        "RepeatedHourFlag": flags or ["N"] * len(stamps),
        "SettlementPoint": "HB_NORTH",
        "LMP": prices,
    })


def test_sced_runs_floor_to_five_minutes_and_the_last_run_in_a_bucket_wins() -> None:
    frame = sced_frame(
        ["07/01/2021 10:04:58", "07/01/2021 10:00:13", "07/01/2021 10:03:40", "07/01/2021 10:05:16"],
        [31.0, 30.0, 35.0, 40.0],
    )
    out = sced_lmp_to_canonical(frame, "sced.csv")
    assert_canonical(out, RT_PRICES)
    assert list(out["interval_start"]) == [utc("2021-07-01 15:00"), utc("2021-07-01 15:05")]
    # 10:04:58 is the latest run in the 10:00 bucket even though it comes first in the file.
    assert list(out["price"]) == [31.0, 40.0]
    assert (out["interval_minutes"] == 5).all()
    assert list(out["published_at"]) == [utc("2021-07-01 15:10"), utc("2021-07-01 15:15")]


def test_sced_repeated_hour_flag_separates_the_fall_back_runs() -> None:
    frame = sced_frame(["11/07/2021 01:30:12", "11/07/2021 01:30:09"], [25.0, 26.0], ["N", "Y"])
    out = sced_lmp_to_canonical(frame, "sced_dst.csv")
    assert list(out["interval_start"]) == [utc("2021-11-07 06:30"), utc("2021-11-07 07:30")]


def test_sced_accepts_the_public_apis_iso_timestamps() -> None:
    frame = sced_frame(["2024-03-10T01:55:11", "2024-03-10T03:00:14"], [18.0, 19.0])
    frame = frame.rename(columns={"RepeatedHourFlag": "repeatHourFlag", "SettlementPoint": "settlementPoint"})
    out = sced_lmp_to_canonical(frame, "https://api.example/np6-788-cd")
    # 01:55 CST -> 07:55 UTC; 03:00 CDT -> 08:00 UTC (the spring-forward gap is between them).
    assert list(out["interval_start"]) == [utc("2024-03-10 07:55"), utc("2024-03-10 08:00")]


# --- publication times -------------------------------------------------------------------------------


def test_rt_published_at_defaults_to_five_minutes_after_the_interval_ends() -> None:
    out = rt_spp_to_canonical(rt_frame(rt_rows("03/01/2021", [1])), "rt.csv")
    assert list(out["published_at"] - out["interval_start"]) == [pd.Timedelta(minutes=20)] * 4


def test_dam_published_at_defaults_to_1330_cpt_the_day_before() -> None:
    out = dam_spp_to_canonical(dam_frame("03/14/2021", he([1, 24])), "dam.csv")
    assert set(out["published_at"]) == {utc("2021-03-13 19:30")}  # 13:30 CST


def test_load_published_at_defaults_to_0600_cpt_the_next_day() -> None:
    frame = load_frame("03/13/2021", [1, 24], LOAD_ZONE_SPELLINGS["np6_345_cd"])
    out = actual_load_to_canonical(frame, "load.csv")
    assert set(out["published_at"]) == {utc("2021-03-14 11:00")}  # 06:00 CDT after spring forward


def test_a_given_published_at_is_used_for_every_row() -> None:
    stamp = pd.Timestamp("2021-03-01 00:20", tz="America/Chicago")
    out = rt_spp_to_canonical(rt_frame(rt_rows("03/01/2021", [1])), "rt.csv", published_at=stamp)
    assert set(out["published_at"]) == {stamp.tz_convert(UTC)}


def test_a_naive_published_at_is_rejected() -> None:
    with pytest.raises(ReportFormatError, match="timezone-aware"):
        rt_spp_to_canonical(rt_frame(rt_rows("03/01/2021", [1])), "rt.csv", published_at=pd.Timestamp("2021-03-01"))


# --- load and load forecast ------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", sorted(LOAD_ZONE_SPELLINGS))
def test_every_zone_spelling_maps_to_the_canonical_zones(spelling: str) -> None:
    frame = load_frame("07/01/2021", [1, 2], LOAD_ZONE_SPELLINGS[spelling])
    out = actual_load_to_canonical(frame, f"{spelling}.csv")
    assert_canonical(out, LOAD)
    assert set(out["zone"]) == CANONICAL_ZONES
    # The system total column (TOTAL / ERCOT / SystemTotal / total) is the ninth: 9000 + hour offset.
    assert list(out.loc[out["zone"] == "ERCOT", "load_mw"]) == [9000.0, 9001.0]


def test_load_accepts_operating_day_spelled_as_delivery_date() -> None:
    frame = load_frame("07/01/2021", [1], LOAD_ZONE_SPELLINGS["public_api"], date_column="operatingDay")
    assert len(actual_load_to_canonical(frame, "api")) == 9


def load_forecast_frame() -> pd.DataFrame:
    frame = load_frame("03/11/2024", [1, 1, 2, 2], LOAD_ZONE_SPELLINGS["np3_565_cd"], date_column="DeliveryDate")
    frame["Model"] = ["A", "E", "A", "E"]
    frame["InUseFlag"] = ["N", "Y", "N", "Y"]
    return frame


def test_load_forecast_keeps_only_the_model_in_use() -> None:
    out = load_forecast_to_canonical(load_forecast_frame(), "lf.csv", published_at=POSTED)
    assert_canonical(out, LOAD_FORECAST)
    assert len(out) == 2 * 9
    coast = out[out["zone"] == "COAST"]
    assert list(coast["load_mw"]) == [1001.0, 1003.0]  # the rows flagged Y
    assert set(out["published_at"]) == {POSTED}


def test_load_forecast_without_a_model_in_use_is_an_error() -> None:
    frame = load_forecast_frame().assign(InUseFlag="N")
    with pytest.raises(ReportFormatError, match="InUseFlag = Y"):
        load_forecast_to_canonical(frame, "lf.csv", published_at=POSTED)


def test_load_forecast_without_the_in_use_column_names_it() -> None:
    with pytest.raises(ReportFormatError, match="'InUseFlag'"):
        load_forecast_to_canonical(load_forecast_frame().drop(columns="InUseFlag"), "lf.csv", published_at=POSTED)


# --- wind, solar, temperature forecast ---------------------------------------------------------------


def renewables_frame(actual_column: str, forecast_column: str) -> pd.DataFrame:
    """A posting at 05:00 CDT 2024-03-10 (spring forward): HE 1, 2, 4 past; HE 5, 6 to come."""
    return pd.DataFrame({
        "DELIVERY_DATE": "03/10/2024",
        "HOUR_ENDING": he([1, 2, 4, 5, 6]),
        actual_column: [1000.0, 1100.0, 1200.0, np.nan, ""],
        "COP_HSL_SYSTEM_WIDE": 5000.0,
        forecast_column: [900.0, 1050.0, 1250.0, 1300.0, " 1,400.5"],
        "DSTFlag": "N",
    })


@pytest.mark.parametrize("actual_column", ["SYSTEM_WIDE_GEN", "ACTUAL_SYSTEM_WIDE", "genSystemWide"])
def test_wind_splits_actual_hours_from_forecast_hours(actual_column: str) -> None:
    actual, forecast = wind_to_canonical(renewables_frame(actual_column, "STWPF_SYSTEM_WIDE"), "wind.csv", POSTED)
    assert_canonical(actual, RENEWABLES)
    assert_canonical(forecast, RENEWABLES_FORECAST)
    assert list(actual["interval_start"]) == [utc("2024-03-10 06:00"), utc("2024-03-10 07:00"), utc("2024-03-10 08:00")]
    assert list(actual["generation_mw"]) == [1000.0, 1100.0, 1200.0]
    assert list(forecast["interval_start"]) == [utc("2024-03-10 09:00"), utc("2024-03-10 10:00")]
    assert list(forecast["generation_mw"]) == [1300.0, 1400.5]
    assert set(actual["fuel"]) == set(forecast["fuel"]) == {"wind"}
    assert set(forecast["published_at"]) == {POSTED}


def test_actual_published_at_is_the_earlier_of_schedule_and_posting() -> None:
    actual, _ = wind_to_canonical(renewables_frame("SYSTEM_WIDE_GEN", "STWPF_SYSTEM_WIDE"), "wind.csv", POSTED)
    # Schedule: 2 h after the hour ends (HE 1 -> 09:00 UTC); the last actual hour's schedule
    # (08:00 + 3 h = 11:00) is not earlier than the posting, so the posting time applies.
    assert list(actual["published_at"]) == [utc("2024-03-10 09:00"), utc("2024-03-10 10:00"), POSTED]


def test_solar_uses_stppf_and_fuel_solar() -> None:
    frame = renewables_frame("SYSTEM_WIDE_GEN", "STPPF_SYSTEM_WIDE")
    actual, forecast = solar_to_canonical(frame, "solar.csv", POSTED)
    assert set(actual["fuel"]) == set(forecast["fuel"]) == {"solar"}
    assert list(forecast["generation_mw"]) == [1300.0, 1400.5]


def test_a_posting_with_forecasts_only_gives_a_typed_empty_actual_frame() -> None:
    frame = renewables_frame("SYSTEM_WIDE_GEN", "STWPF_SYSTEM_WIDE").assign(SYSTEM_WIDE_GEN=np.nan)
    actual, forecast = wind_to_canonical(frame, "wind.csv", POSTED)
    assert actual.empty and list(actual.columns) == list(RENEWABLES.columns)
    assert str(actual["interval_start"].dtype) == "datetime64[us, UTC]"
    assert len(forecast) == 5


def test_wind_without_the_forecast_column_names_it() -> None:
    frame = renewables_frame("SYSTEM_WIDE_GEN", "STPPF_SYSTEM_WIDE")
    with pytest.raises(ReportFormatError, match=r"NP4-732-CD from wind\.csv: required column 'STWPF_SYSTEM_WIDE'"):
        wind_to_canonical(frame, "wind.csv", POSTED)


def test_temperature_forecast_is_converted_to_celsius_per_zone() -> None:
    zones = ["Coast", "East", "FarWest", "North", "NorthCentral", "SouthCentral", "Southern", "West"]
    frame = pd.DataFrame({"DeliveryDate": "11/03/2024", "HourEnding": he([1, 2, 2]), "DSTFlag": ["N", "N", "Y"]})
    for zone in zones:
        frame[zone] = [32.0, 50.0, 212.0]
    out = temperature_forecast_to_canonical(frame, "temp.csv", published_at=POSTED)
    assert_canonical(out, WEATHER_FORECAST)
    assert set(out["location"]) == CANONICAL_ZONES - {"ERCOT"}
    coast = out[out["location"] == "COAST"]
    assert np.allclose(coast["temperature_c"], [0.0, 10.0, 100.0])
    assert list(coast["interval_start"]) == [utc("2024-11-03 05:00"), utc("2024-11-03 06:00"), utc("2024-11-03 07:00")]
    assert out["wind_speed_ms"].isna().all()


# --- archive layouts: Native_Load hour labels, fuel-mix sheets, the gap finder -----------------------

STANDARD_LABELS = [f"{(m // 60) % 24}:{m % 60:02d}" for m in range(15, 1441, 15)]  # "0:15" .. "23:45", "0:00"
REPEATED_LABELS = ["01:15 (DST)", "01:30 (DST)", "01:45 (DST)", "02:00 (DST)"]


def test_native_load_text_labels_with_hour_24_and_dst_suffix() -> None:
    labels = native_load_labels(pd.Series(["11/07/2021 01:00", "11/07/2021 02:00", "11/07/2021 02:00 DST",
                                           "11/07/2021 24:00"]), "Native_Load_2021.xlsx")
    assert labels.to_dict("list") == {"OperDay": ["11/07/2021"] * 4, "HourEnding": [1, 2, 2, 24],
                                      "DSTFlag": ["N", "N", "Y", "N"]}


def test_native_load_excel_datetimes_are_rounded_and_the_second_repeat_is_flagged() -> None:
    noisy = ["2016-11-06 01:00:00.003", "2016-11-06 01:59:59.997", "2016-11-06 01:59:59.997", "2016-11-07 00:00:00"]
    cells = pd.Series(pd.to_datetime(noisy, format="ISO8601"))
    labels = native_load_labels(cells, "Native_Load_2016.xlsx")
    assert labels.to_dict("list") == {"OperDay": ["11/06/2016"] * 4, "HourEnding": [1, 2, 2, 24],
                                      "DSTFlag": ["N", "N", "Y", "N"]}


def test_native_load_excel_spring_forward_wall_clock_three_is_hour_ending_two() -> None:
    wall_clock = ["2016-03-13 01:00:00.003", "2016-03-13 03:00:00", "2016-03-13 04:00:00.003"]
    cells = pd.Series(pd.to_datetime(wall_clock, format="ISO8601"))
    assert list(native_load_labels(cells, "Native_Load_2016.xlsx")["HourEnding"]) == [1, 2, 4]


def test_native_load_label_that_is_not_an_hour_is_an_error() -> None:
    with pytest.raises(ReportFormatError, match="not MM/DD/YYYY HH:00"):
        native_load_labels(pd.Series(["2021-11-07 01:30"]), "Native_Load_2021.xlsx")


def fuel_sheet(day: dt.date, standard: list[float], extra: dict[str, float] | None = None,
               fuel: str = "Wind") -> pd.DataFrame:
    """A one-row monthly sheet in the 2017-on layout (Date, Fuel, Settlement Type, Total, labels)."""
    extra = extra if extra is not None else {label: np.nan for label in REPEATED_LABELS}
    values = dict(zip(STANDARD_LABELS, standard)) | extra
    total = float(np.nansum(list(values.values())))
    return pd.DataFrame([{"Date": pd.Timestamp(day), "Fuel": fuel, "Settlement Type": "FINAL", "Total": total,
                          **values}])


def test_fuel_mix_normal_day_is_96_quarter_hours_from_local_midnight() -> None:
    out = fuel_mix_sheet_intervals(fuel_sheet(dt.date(2021, 7, 1), list(range(96))), "fm.xlsx[Jul]")
    assert len(out) == 96 and out["interval_start"].iloc[0] == utc("2021-07-01 05:00")
    assert list(out["mwh"][:3]) == [0, 1, 2] and set(out["fuel"]) == {"wind"}


def test_fuel_mix_spring_forward_day_drops_the_four_blank_cells_of_the_skipped_hour() -> None:
    values = [float(i) for i in range(96)]
    values[8:12] = [np.nan] * 4  # labels 2:15 .. 3:00
    out = fuel_mix_sheet_intervals(fuel_sheet(dt.date(2021, 3, 14), values), "fm.xlsx[Mar]")
    assert len(out) == 92 and _is_quarter_hour_grid(out["interval_start"])
    assert list(out["mwh"][6:10]) == [6.0, 7.0, 12.0, 13.0]


def test_fuel_mix_fall_back_day_puts_the_dst_columns_after_the_first_two_oclock() -> None:
    extra = dict(zip(REPEATED_LABELS, [100.0, 101.0, 102.0, 103.0]))
    out = fuel_mix_sheet_intervals(fuel_sheet(dt.date(2021, 11, 7), [float(i) for i in range(96)], extra), "fm[Nov]")
    assert len(out) == 100 and _is_quarter_hour_grid(out["interval_start"])
    assert list(out["mwh"][6:14]) == [6.0, 7.0, 100.0, 101.0, 102.0, 103.0, 8.0, 9.0]
    hourly = quarter_hours_to_hourly_mw(out, "fm[Nov]")
    assert_canonical(hourly, RENEWABLES)
    assert len(hourly) == 25 and hourly["generation_mw"].iloc[2] == 100.0 + 101.0 + 102.0 + 103.0


def test_fuel_mix_2016_layout_is_elapsed_order_with_dst1_to_dst4_last() -> None:
    values = dict(zip(STANDARD_LABELS, [float(i) for i in range(96)])) | {f"DST{i}": 96.0 + i - 1 for i in (1, 2, 3, 4)}
    sheet = pd.DataFrame([{"Date-Fuel": "11/06/16_Solar", "Total": float(sum(range(100))), **values}])
    out = fuel_mix_sheet_intervals(sheet, "IntGenByFuel2016.xlsx[Nov16]")
    assert list(out["mwh"]) == [float(i) for i in range(100)] and set(out["fuel"]) == {"solar"}
    assert out["interval_start"].iloc[-1] == utc("2016-11-07 05:45")


def test_fuel_mix_total_that_disagrees_with_the_intervals_is_an_error() -> None:
    sheet = fuel_sheet(dt.date(2021, 7, 1), [1.0] * 96).assign(Total=97.0)
    with pytest.raises(ReportFormatError, match="sum to 96.000 MWh but Total is 97"):
        fuel_mix_sheet_intervals(sheet, "fm.xlsx[Jul]")


def test_fuel_mix_blank_cell_on_a_normal_day_is_an_error_not_a_zero() -> None:
    values = [1.0] * 96
    values[40] = np.nan
    with pytest.raises(ReportFormatError, match="24 hours but 95 standard"):
        fuel_mix_sheet_intervals(fuel_sheet(dt.date(2021, 7, 1), values), "fm.xlsx[Jul]")


def test_fuel_mix_dst_values_on_another_day_are_an_error() -> None:
    extra = dict(zip(REPEATED_LABELS, [1.0] * 4))
    with pytest.raises(ReportFormatError, match="not a fall-back day"):
        fuel_mix_sheet_intervals(fuel_sheet(dt.date(2021, 11, 8), [1.0] * 96, extra), "fm.xlsx[Nov]")


def _is_quarter_hour_grid(starts: pd.Series) -> bool:
    return bool(starts.diff().dropna().eq(pd.Timedelta(minutes=15)).all())


def test_find_gaps_reports_missing_and_off_grid_intervals() -> None:
    day = dt.date(2024, 11, 3)
    hours = list(ercot_time.operating_day_hours(day))
    frame = pd.DataFrame({"interval_start": [*hours[:10], *hours[11:], hours[3] + pd.Timedelta(minutes=30)],
                          "zone": "COAST"})
    (gap,) = find_gaps("load", frame, "zone", 60, [day])
    assert gap == DataGap("load", day, "COAST", 1, 25, hours[10], unexpected=1)
    assert "1 of 25 intervals missing" in str(gap)


def test_a_non_numeric_delivery_interval_is_a_report_error() -> None:
    frame = rt_frame(rt_rows("03/01/2021", [1])).astype({"DeliveryInterval": object})
    frame.loc[0, "DeliveryInterval"] = "first"
    with pytest.raises(ReportFormatError, match=r"NP6-905-CD from rt\.csv: bad time label"):
        rt_spp_to_canonical(frame, "rt.csv")
