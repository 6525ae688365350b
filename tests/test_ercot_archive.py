"""The ERCOT archive source on the real files in ../shared/data (skipped cleanly when absent).

Parsed years are cached by one module-scoped archive, so each file is read once for the module.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import catalogue, ercot_time
from pipeline.catalogue import NP6_785_ER
from pipeline.sources import ercot_archive
from pipeline.sources.base import DataUnavailable
from pipeline.sources.ercot_archive import ArchivedWeather, ErcotArchive, read_ercot_table, read_gridstatus_rt
from pipeline.sources.ercot_archive import source as archive_source
from pipeline.sources.ercot_files import rt_spp_to_canonical
from targets.schemas import DAM_PRICES, LOAD, RENEWABLES, RT_PRICES, SETTLEMENT_POINTS, WEATHER
from tests.conftest import SHARED_DATA
from tests.helpers import assert_canonical

pytestmark = pytest.mark.realdata

# Every HB_ point of the hub/load-zone files (the hubs and the two hub averages).
HUBS = (*catalogue.HUBS, *catalogue.HUB_AVERAGES)
ZONES = (*catalogue.WEATHER_ZONES, catalogue.SYSTEM_ZONE)


def _require_shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real ERCOT data not found at {SHARED_DATA} (see the README's test section)")
    return SHARED_DATA


@pytest.fixture(scope="module")
def archive() -> ErcotArchive:
    return ErcotArchive(_require_shared_data() / "ercot")


@pytest.fixture(scope="module")
def feb_extracts() -> dict[int, pd.DataFrame]:
    """ERCOT's own February sheets (with Settlement Point Type), as raw text tables."""
    folder = _require_shared_data() / "ercot" / "rtm_spp_hub_lz" / "feb_extracts_np6-785"
    return {year: read_ercot_table(folder / f"RTM-{year}-02.csv") for year in (2020, 2021)}


@pytest.fixture(scope="module")
def gridstatus_february() -> dict[int, pd.DataFrame]:
    """The gridstatus export's February rows, parsed on their own (the archive prefers the extract)."""
    folder = _require_shared_data() / "ercot" / "rtm_spp_hub_lz"
    out = {}
    for year in (2020, 2021):
        frame = read_gridstatus_rt(folder / f"ercot_rtm_{year}.parquet")
        days = pd.Series(ercot_time.operating_day_of(frame["interval_start"]))
        out[year] = frame.loc[[d.month == 2 for d in days]].reset_index(drop=True)
    return out


def _per_node(frame: pd.DataFrame) -> dict[str, int]:
    return frame.groupby("node").size().to_dict()


def _is_grid(starts: pd.Series, minutes: int) -> bool:
    return bool(starts.diff().dropna().eq(pd.Timedelta(minutes=minutes)).all())


# --- real-time prices ------------------------------------------------------------------------------


def test_fall_back_day_has_100_intervals_per_point(shared_data: Path, archive: ErcotArchive) -> None:
    frame = archive.fetch("rt_prices", dt.date(2021, 11, 7))
    assert_canonical(frame, RT_PRICES)
    assert set(_per_node(frame).values()) == {100} and len(_per_node(frame)) == 15
    start, end = ercot_time.day_bounds(dt.date(2021, 11, 7))
    north = frame.loc[frame["node"] == "HB_NORTH", "interval_start"]
    assert north.iloc[0] == start and north.iloc[-1] == end - pd.Timedelta(minutes=15) and _is_grid(north, 15)


def test_spring_forward_day_has_92_intervals_per_point(shared_data: Path, archive: ErcotArchive) -> None:
    frame = archive.fetch("rt_prices", dt.date(2021, 3, 14))
    assert set(_per_node(frame).values()) == {92}
    assert _is_grid(frame.loc[frame["node"] == "HB_NORTH", "interval_start"], 15)


@pytest.mark.parametrize(("year", "intervals"), [(2022, 35_040), (2020, 35_136)])
def test_hb_north_has_every_interval_of_the_year(
    shared_data: Path, archive: ErcotArchive, year: int, intervals: int
) -> None:
    days = ercot_time.days(dt.date(year, 1, 1), dt.date(year, 12, 31))
    frames = archive.fetch_many("rt_prices", days)
    assert len(frames) == len(days)
    north = pd.concat([f.loc[f["node"] == "HB_NORTH", "interval_start"] for f in frames.values()], ignore_index=True)
    assert len(north) == intervals and north.is_unique and _is_grid(north, 15)
    assert archive.quality("rt_prices", year).gaps == []


def test_february_2021_native_file_and_gridstatus_export_agree_on_every_hub_interval(
    shared_data: Path, feb_extracts: dict[int, pd.DataFrame], gridstatus_february: dict[int, pd.DataFrame]
) -> None:
    native = rt_spp_to_canonical(feb_extracts[2021], "RTM-2021-02.csv", report=NP6_785_ER)
    export = gridstatus_february[2021]
    hubs_native = native[native["node"].str.startswith("HB_")].reset_index(drop=True)
    hubs_export = export[export["node"].str.startswith("HB_")].reset_index(drop=True)
    assert len(hubs_native) == 28 * 96 * len(HUBS)
    pd.testing.assert_frame_equal(hubs_native, hubs_export)  # same intervals, prices and publication times


@pytest.mark.parametrize("year", [2020, 2021])
def test_gridstatus_lz_copies_are_an_unordered_lz_lzew_pair_and_the_midpoint_is_used(
    shared_data: Path, feb_extracts: dict[int, pd.DataFrame], gridstatus_february: dict[int, pd.DataFrame], year: int
) -> None:
    raw = feb_extracts[year]
    lz = rt_spp_to_canonical(raw, "lz", report=NP6_785_ER)
    as_lz = raw.assign(**{"Settlement Point Type": raw["Settlement Point Type"].replace("LZEW", "LZ")})
    lzew = rt_spp_to_canonical(as_lz[raw["Settlement Point Type"] == "LZEW"], "lzew", report=NP6_785_ER)
    joined = (lz.merge(lzew, on=["interval_start", "node"], suffixes=("_lz", "_lzew"))
                .merge(gridstatus_february[year], on=["interval_start", "node"]))
    assert len(joined) == len(lzew) == 8 * 96 * (29 if year == 2020 else 28)
    midpoint = (joined["price_lz"] + joined["price_lzew"]) / 2
    assert np.allclose(joined["price"], midpoint, rtol=0, atol=1e-9)
    same = joined["price_lz"] == joined["price_lzew"]
    assert same.mean() > 0.6 and (joined.loc[same, "price"] == joined.loc[same, "price_lz"]).all()


@pytest.mark.parametrize("year", [2020, 2021])
def test_gridstatus_row_order_does_not_say_which_copy_is_lz(shared_data: Path, feb_extracts, year: int) -> None:
    """The evidence behind the midpoint rule: the first copy is LZ about half the time."""
    raw = pd.read_parquet(SHARED_DATA / "ercot" / "rtm_spp_hub_lz" / f"ercot_rtm_{year}.parquet",
                          columns=["Interval Start", "Location", "SPP"])
    raw = raw[raw["Location"].str.startswith("LZ_") & (raw["Interval Start"].dt.month == 2)]
    first = raw.groupby(["Interval Start", "Location"], sort=False)["SPP"].agg(["first", "last"])
    native = feb_extracts[year]
    native = native[native["Settlement Point Type"] == "LZ"]
    keys = pd.MultiIndex.from_arrays([
        ercot_time.interval_to_utc(native["Delivery Date"], native["Delivery Hour"], native["Delivery Interval"],
                                   native["Repeated Hour Flag"]),
        native["Settlement Point Name"],
    ])
    lz_price = pd.Series(native["Settlement Point Price"].str.replace(",", "").astype(float).to_numpy(), index=keys)
    first.index = pd.MultiIndex.from_arrays([first.index.get_level_values(0).tz_convert("UTC").as_unit("us"),
                                             first.index.get_level_values(1)])
    lz_price = lz_price.reindex(first.index)
    differ = first["first"] != first["last"]
    share_first_is_lz = (first.loc[differ, "first"] == lz_price[differ]).mean()
    assert 0.4 < share_first_is_lz < 0.6


def test_rt_quality_notes_state_the_lz_midpoint_rule_and_the_widest_spread(
    shared_data: Path, archive: ErcotArchive
) -> None:
    (note,) = archive.quality("rt_prices", 2021).notes
    assert "midpoint" in note and "by at most $114.54" in note  # LZ_RAYBN, 2021-02-16 17:45 CST (Uri)


def test_archive_serves_the_exact_lz_price_where_the_native_extract_exists(
    shared_data: Path, archive: ErcotArchive, feb_extracts: dict[int, pd.DataFrame]
) -> None:
    served = archive.fetch("rt_prices", dt.date(2021, 2, 16))
    native = rt_spp_to_canonical(feb_extracts[2021], "RTM-2021-02.csv", report=NP6_785_ER)
    day_start, day_end = ercot_time.day_bounds(dt.date(2021, 2, 16))
    native_day = native[(native["interval_start"] >= day_start) & (native["interval_start"] < day_end)]
    pd.testing.assert_frame_equal(served, native_day.reset_index(drop=True))


def test_february_2019_comes_from_the_extract_without_hb_pan(shared_data: Path, archive: ErcotArchive) -> None:
    frame = archive.fetch("rt_prices", dt.date(2019, 2, 10))
    assert set(_per_node(frame).values()) == {96} and "HB_PAN" not in set(frame["node"])
    assert any("HB_PAN absent" in note for note in archive.quality("rt_prices", 2019).notes)


# --- DAM --------------------------------------------------------------------------------------------


def test_dam_2016_has_23_and_25_hour_dst_days(shared_data: Path, archive: ErcotArchive) -> None:
    spring = archive.fetch("dam_prices", dt.date(2016, 3, 13))
    fall = archive.fetch("dam_prices", dt.date(2016, 11, 6))
    assert_canonical(fall, DAM_PRICES)
    assert set(_per_node(spring).values()) == {23} and set(_per_node(fall).values()) == {25}
    assert list(fall.loc[fall["node"] == "HB_NORTH", "interval_start"]) == list(
        ercot_time.operating_day_hours(dt.date(2016, 11, 6)))
    # Known at DAM clearing, 13:30 CDT the day before.
    assert set(fall["published_at"]) == {pd.Timestamp("2016-11-05 18:30", tz="UTC")}
    assert archive.quality("dam_prices", 2016).gaps == []


# --- load ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2016, 2019])
def test_load_years_parse_to_gapless_hourly_utc_series(shared_data: Path, archive: ErcotArchive, year: int) -> None:
    days = ercot_time.days(dt.date(year, 1, 1), dt.date(year, 12, 31))
    frame = pd.concat(archive.fetch_many("load", days).values(), ignore_index=True)
    assert_canonical(frame, LOAD)
    assert set(frame["zone"]) == set(ZONES)
    expected = pd.date_range(ercot_time.day_start(days[0]), ercot_time.day_start(days[-1] + dt.timedelta(days=1)),
                             freq="h", inclusive="left")
    # The one hole in these files: Native_Load_2016 has a blank row for HE 24 of the fall-back day.
    known_hole = {pd.Timestamp("2016-11-07 05:00", tz="UTC")} if year == 2016 else set()
    for zone, starts in frame.groupby("zone")["interval_start"]:
        assert starts.is_unique, zone
        assert set(expected) - set(starts) == known_hole, zone
        assert set(starts) <= set(expected), zone


def test_load_2016_reports_its_blank_fall_back_hour(shared_data: Path, archive: ErcotArchive) -> None:
    quality = archive.quality("load", 2016)
    assert {(g.day, g.series, g.missing, g.expected) for g in quality.gaps} == {
        (dt.date(2016, 11, 6), zone, 1, 25) for zone in ZONES}
    assert len(quality.notes) == 1 and "2016-11-07 00:00" in quality.notes[0]
    assert archive.quality("load", 2019).gaps == []


def test_load_dst_days_in_both_hour_formats(shared_data: Path, archive: ErcotArchive) -> None:
    def coast(day: dt.date) -> pd.Series:
        frame = archive.fetch("load", day)
        return frame.loc[frame["zone"] == "COAST"].set_index("interval_start")["load_mw"]

    assert len(coast(dt.date(2016, 3, 13))) == 23 and len(coast(dt.date(2019, 3, 10))) == 23
    assert len(coast(dt.date(2019, 11, 3))) == 25
    # 2019 text style: "11/03/2019 02:00" is 01:00-02:00 CDT, "... 02:00 DST" the repeat in CST.
    fall = coast(dt.date(2019, 11, 3))
    assert fall[pd.Timestamp("2019-11-03 06:00", tz="UTC")] == pytest.approx(9028.618802)
    assert fall[pd.Timestamp("2019-11-03 07:00", tz="UTC")] == pytest.approx(8977.337782)
    # 2016 datetime style: the first 01:59:59.997 is CDT, the second CST.
    fall_2016 = coast(dt.date(2016, 11, 6))
    assert fall_2016[pd.Timestamp("2016-11-06 06:00", tz="UTC")] == pytest.approx(8940.715464)
    assert fall_2016[pd.Timestamp("2016-11-06 07:00", tz="UTC")] == pytest.approx(8586.846227)
    # 2016's spring day is labelled 01:00, 03:00, 04:00: wall-clock 03:00 ends the 01:00 CST hour.
    spring_2016 = coast(dt.date(2016, 3, 13))
    assert spring_2016[pd.Timestamp("2016-03-13 07:00", tz="UTC")] == pytest.approx(7929.553340)
    assert spring_2016[pd.Timestamp("2016-03-13 08:00", tz="UTC")] == pytest.approx(7760.698699)


def test_load_2022_stray_datetime_cell_is_hour_ending_1(shared_data: Path, archive: ErcotArchive) -> None:
    frame = archive.fetch("load", dt.date(2022, 12, 1))
    coast = frame.loc[frame["zone"] == "COAST"].set_index("interval_start")["load_mw"]
    assert len(coast) == 24
    assert coast[pd.Timestamp("2022-12-01 06:00", tz="UTC")] == pytest.approx(9825.176507)


# --- fuel mix ---------------------------------------------------------------------------------------------


def _hourly(archive: ErcotArchive, day: dt.date, fuel: str) -> pd.Series:
    frame = archive.fetch("renewables", day)
    assert_canonical(frame, RENEWABLES)
    return frame.loc[frame["fuel"] == fuel].set_index("interval_start")["generation_mw"]


def test_fuel_mix_wind_and_solar_on_the_2021_fall_back_day(shared_data: Path, archive: ErcotArchive) -> None:
    wind = _hourly(archive, dt.date(2021, 11, 7), "wind")
    assert list(wind.index) == list(ercot_time.operating_day_hours(dt.date(2021, 11, 7)))
    assert len(_hourly(archive, dt.date(2021, 11, 7), "solar")) == 25
    # 01:00-02:00 CDT is the standard 1:15..2:00 columns; 01:00-02:00 CST the "(DST)" columns.
    assert wind[pd.Timestamp("2021-11-07 06:00", tz="UTC")] == pytest.approx(
        4386.755549 + 4342.369203 + 4322.524683 + 4335.568571)
    assert wind[pd.Timestamp("2021-11-07 07:00", tz="UTC")] == pytest.approx(
        4313.079708 + 4287.501759 + 4278.306389 + 4246.119384)


def test_fuel_mix_spring_forward_days_have_23_hours_in_both_layouts(shared_data: Path, archive: ErcotArchive) -> None:
    for day in (dt.date(2021, 3, 14), dt.date(2016, 3, 13)):
        wind = _hourly(archive, day, "wind")
        assert list(wind.index) == list(ercot_time.operating_day_hours(day)), day
    # 2016 leaves the 02:00..02:45 cells blank and puts 01:45-02:00 CST under 03:00.
    wind_2016 = _hourly(archive, dt.date(2016, 3, 13), "wind")
    assert wind_2016[pd.Timestamp("2016-03-13 07:00", tz="UTC")] > 0


@pytest.mark.parametrize(("workbook", "sheet", "day"), [
    ("IntGenByFuel2016.xlsx", "Nov16", dt.date(2016, 11, 6)),  # DST1..DST4: the day in elapsed order
    ("IntGenbyFuel2021.xlsx", "Nov", dt.date(2021, 11, 7)),    # "01:15 (DST)"..: the repeated hour
])
def test_fuel_mix_fall_back_layouts_track_the_hourly_load(
    shared_data: Path, archive: ErcotArchive, workbook: str, sheet: str, day: dt.date
) -> None:
    """Generation of the main fuels, hour by hour, stays within a few hundred MW of the system load.

    Reading either layout the other way shifts the hours after 02:00 by one and the mean error
    jumps to 600-1,000 MW; this is the evidence for the two fall-back layouts.
    """
    raw = pd.read_excel(SHARED_DATA / "ercot" / "fuel_mix" / workbook, sheet_name=sheet)
    # Biomass and Other (~1% of generation) are left out: on 2016-11-06 their Total disagrees with
    # their intervals (by 13.8 and 1.6 MWh), which the reader rejects.
    fuels = ("coal", "gas", "gas-cc", "hydro", "nuclear", "solar", "wind")
    intervals = ercot_archive.fuel_mix_sheet_intervals(raw, workbook, fuels=fuels)
    start, end = ercot_time.day_bounds(day)
    intervals = intervals[(intervals["interval_start"] >= start) & (intervals["interval_start"] < end)]
    generation = intervals.groupby(intervals["interval_start"].dt.floor("h"))["mwh"].sum()
    load = archive.fetch("load", day)
    system = load.loc[load["zone"] == "ERCOT"].set_index("interval_start")["load_mw"]
    error = (generation.reindex(system.index) - system).abs()
    assert len(generation) == 25 and error.notna().all()
    assert error.mean() < 300 and error.max() < 500


def test_fuel_mix_years_are_gapless(shared_data: Path, archive: ErcotArchive) -> None:
    for year in (2016, 2021):
        assert archive.quality("renewables", year).gaps == [], year


# --- coverage -----------------------------------------------------------------------------------------


def test_covers_follows_the_files_in_the_folder(shared_data: Path, archive: ErcotArchive) -> None:
    assert archive.covers("rt_prices", dt.date(2019, 2, 10)) and not archive.covers("rt_prices", dt.date(2019, 3, 1))
    assert archive.covers("rt_prices", dt.date(2023, 12, 31)) and not archive.covers("rt_prices", dt.date(2024, 1, 1))
    # DAM: the annual workbooks of 2015, 2016 and 2019-2023; nothing for 2017-2018 or after 2023.
    for year in (2015, 2016, 2019, 2020, 2021, 2022, 2023):
        assert archive.covers("dam_prices", dt.date(year, 6, 1)), year
    assert archive.covers("dam_prices", dt.date(2023, 12, 31))
    assert not archive.covers("dam_prices", dt.date(2017, 6, 1))
    assert not archive.covers("dam_prices", dt.date(2018, 12, 31))
    assert not archive.covers("dam_prices", dt.date(2024, 1, 1))
    assert archive.covers("load", dt.date(2016, 1, 1)) and not archive.covers("load", dt.date(2015, 12, 31))
    assert archive.covers("renewables", dt.date(2023, 7, 1))
    assert not archive.covers("load_forecast", dt.date(2021, 7, 1))


@pytest.mark.parametrize(("dataset", "day"), [
    ("dam_prices", dt.date(2018, 7, 1)),
    ("rt_prices", dt.date(2024, 1, 1)),
    ("load_forecast", dt.date(2021, 7, 1)),
    ("renewables_forecast", dt.date(2021, 7, 1)),
])
def test_an_uncovered_day_is_data_unavailable(
    shared_data: Path, archive: ErcotArchive, dataset: str, day: dt.date
) -> None:
    with pytest.raises(DataUnavailable) as info:
        archive.fetch(dataset, day)
    assert info.value.dataset == dataset and info.value.day == day
    with pytest.raises(DataUnavailable):
        archive.fetch_many(dataset, [day])


def test_fetch_many_reads_each_year_file_once(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[Path] = []
    original = archive_source.read_native_load

    def counting(path: Path):
        reads.append(path)
        return original(path)

    monkeypatch.setattr(archive_source, "read_native_load", counting)  # where ErcotArchive looks it up
    fresh = ErcotArchive(SHARED_DATA / "ercot")
    days = ercot_time.days(dt.date(2021, 1, 1), dt.date(2021, 12, 31))
    frames = fresh.fetch_many("load", days)
    fresh.fetch("load", dt.date(2021, 7, 4))
    assert len(frames) == 365 and [p.name for p in reads] == ["Native_Load_2021.xlsx"]


def test_the_year_cache_is_bounded(shared_data: Path) -> None:
    small = ErcotArchive(SHARED_DATA / "ercot", max_cached_years=1)
    small.fetch("dam_prices", dt.date(2019, 2, 1))
    small.fetch("dam_prices", dt.date(2020, 2, 1))
    assert list(small._years) == [("dam_prices", 2020)]


# --- archived weather ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def weather() -> ArchivedWeather:
    """The PVGIS points (a folder with station files reads those instead; see the station tests)."""
    return ArchivedWeather(_require_shared_data() / "weather" / "site_hourly")


def test_a_weather_folder_with_station_files_reads_the_stations(shared_data: Path) -> None:
    stations = ArchivedWeather(shared_data / "weather")
    assert stations.root.name == "station_hourly"
    frame = stations.fetch("weather", dt.date(2021, 2, 15))  # Winter Storm Uri in Houston
    assert_canonical(frame, WEATHER)
    assert set(frame["location"]) == {"HOUSTON"} and len(frame) == 24
    assert frame["temperature_c"].min() <= -8 and frame["wind_speed_ms"].isna().all()
    # Hourly observations: public an hour after each hour ends, and the repeated fall-back hour is there.
    assert (frame["published_at"] - frame["interval_start"] == pd.Timedelta(hours=2)).all()
    assert len(stations.fetch("weather", dt.date(2021, 11, 7))) == 25


def test_a_station_day_missing_a_few_hours_is_served_and_one_missing_many_is_not(shared_data: Path) -> None:
    stations = ArchivedWeather(shared_data / "weather")
    table, _ = stations._table
    counts = table.frame.groupby(ercot_time.operating_day_of(table.frame["interval_start"])).size()
    short = [day for day, n in counts.items() if 20 <= n < ercot_time.hours_in_day(day)]
    very_short = [day for day, n in counts.items() if n < ercot_time.hours_in_day(day) - 4]
    assert short and stations.covers("weather", short[0])
    assert very_short and not stations.covers("weather", very_short[0])


def test_weather_day_has_every_hour_per_location(shared_data: Path, weather: ArchivedWeather) -> None:
    frame = weather.fetch("weather", dt.date(2021, 11, 7))
    assert_canonical(frame, WEATHER)
    assert frame.groupby("location").size().to_dict() == {"32.38_-96.85": 25, "35.22_-101.83": 25}
    assert set(weather.fetch("weather", dt.date(2023, 6, 1))["location"]) == {
        "32.38_-96.85", "32.4518_-100.5371", "35.22_-101.83"}


def test_weather_interval_is_the_hour_holding_the_half_past_stamp(shared_data: Path, weather: ArchivedWeather) -> None:
    frame = weather.fetch("weather", dt.date(2021, 1, 1))
    first = frame[frame["location"] == "32.38_-96.85"].set_index("interval_start")
    # "20210101:0630" (UTC) is the first hour of 2021-01-01 CST.
    assert first.index[0] == pd.Timestamp("2021-01-01 06:00", tz="UTC")
    assert (frame["published_at"] - frame["interval_start"] == pd.Timedelta(hours=2)).all()


def test_weather_days_outside_the_files_are_unavailable(shared_data: Path, weather: ArchivedWeather) -> None:
    # The files are UTC years: CPT 2020-12-31 ends at 06:00 UTC on 2021-01-01, past Abilene's 2020 file.
    assert weather.covers("weather", dt.date(2020, 6, 1)) and not weather.covers("weather", dt.date(2020, 12, 31))
    with pytest.raises(DataUnavailable):
        weather.fetch("weather", dt.date(2020, 12, 31))
    with pytest.raises(DataUnavailable):
        weather.fetch("weather_forecast", dt.date(2021, 6, 1))


# --- settlement points -----------------------------------------------------------------------------------------


def test_settlement_points_are_the_hubs_and_zones_of_the_years_rt_files(shared_data: Path,
                                                                        archive: ErcotArchive) -> None:
    frame = SETTLEMENT_POINTS.conform(archive.settlement_points(dt.date(2021, 2, 15)))
    assert frame["name"].tolist() == sorted(catalogue.HUBS_AND_ZONES)
    points = frame.set_index("name")
    assert set(points.loc[list(catalogue.HUBS), "type"]) == {"HU"}
    assert (points.loc["HB_BUSAVG", "type"], points.loc["HB_HUBAVG", "type"]) == ("SH", "AH")
    assert set(points.loc[list(catalogue.LOAD_ZONES), "type"]) == {"LZ"}
    for name in HUBS:
        assert points.loc[name, ["load_zone", "hub"]].tolist() == [None, name]
    for name in catalogue.LOAD_ZONES:
        assert points.loc[name, ["load_zone", "hub"]].tolist() == [name, None]


def test_settlement_points_of_a_year_without_rt_files_are_unavailable(shared_data: Path,
                                                                      archive: ErcotArchive) -> None:
    with pytest.raises(DataUnavailable, match="settlement_points for 2018-06-01 is unavailable: no rt_prices file"):
        archive.settlement_points(dt.date(2018, 6, 1))
