"""ERCOT files a user downloaded (and gridstatus exports of them), served as a canonical source.

The folder has the layout of ``../shared/data/ercot`` (see that README for every quirk)::

    rtm_spp_hub_lz/ercot_rtm_YYYY.parquet                 gridstatus export of NP6-785-ER (15-min RT SPP)
    rtm_spp_hub_lz/*RTMLZHBSPP_YYYY*.zip                  ERCOT's own NP6-785-ER workbook (optional)
    rtm_spp_hub_lz/**/RTM-YYYY-MM.csv                     one month of NP6-785-ER in ERCOT's layout
    dam_spp_hub_lz/*DAMLZHBSPP_YYYY*.zip                  ERCOT's NP4-180-ER workbook (hourly DAM SPP)
    dam_spp_hub_lz/**/DAM-YYYY-MM.csv                     one month of NP4-180-ER
    load/Native_Load_YYYY.xlsx                            hourly load by weather zone
    fuel_mix/IntGenbyFuelYYYY.xlsx                        15-min generation by fuel (wind, solar used)

Where several files hold the same day, ERCOT's own layout wins over the gridstatus export (it
carries the settlement point type, so load zones are exact; see :func:`read_gridstatus_rt_noted`),
and an annual workbook wins over a monthly extract. Each year is parsed once per process into one
canonical frame (bounded LRU cache) and days are slices of it, so ``fetch_many`` over hundreds of
days costs a few file reads. Gaps against the expected interval grid (a blank source row, a missing
hour) are never filled: they are logged and listed by :meth:`ErcotArchive.quality`.

The archive holds no forecasts; asking for one is :class:`DataUnavailable`.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from pipeline import ercot_time
from pipeline.sources.base import DataUnavailable, Source, SourceError
from pipeline.sources.ercot_files import (
    NP4_180_ER,
    NP6_785_ER,
    SYSTEM_ZONE,
    WEATHER_ZONES,
    Field,
    Report,
    ReportFormatError,
    actual_load_to_canonical,
    conform_frame,
    dam_spp_to_canonical,
    header_key,
    parse_numbers,
    parse_text,
    resolve_columns,
    rt_spp_to_canonical,
    schedule_published_at,
)
from targets.schema import Schema
from targets.schemas import DAM_PRICES, LOAD, RENEWABLES, RT_PRICES, WEATHER

log = logging.getLogger(__name__)

GRIDSTATUS_RT = Report(
    "NP6-785-ER (gridstatus export)", "gridstatus long-format export of the annual RTM hub/load-zone prices",
    page="https://github.com/gridstatus/gridstatus",
)
NATIVE_LOAD = Report(
    "Native_Load", "ERCOT Hourly Load Data Archive", page="https://www.ercot.com/gridinfo/load/load_hist",
)
FUEL_MIX = Report(
    "IntGenByFuel", "ERCOT Fuel Mix Report (15-min generation by fuel)",
    page="https://www.ercot.com/gridinfo/generation",
)
PVGIS_HOURLY = Report(
    "PVGIS hourly", "EU JRC PVGIS hourly series (T2m, WS10m; UTC stamped at :30)",
    page="https://joint-research-centre.ec.europa.eu/photovoltaic-geographical-information-system-pvgis_en",
)

# The settlement points of ERCOT's hub and load-zone price files (NP6-785-ER / NP4-180-ER).
HUB_AND_ZONE_POINTS = (
    "HB_BUSAVG", "HB_HOUSTON", "HB_HUBAVG", "HB_NORTH", "HB_PAN", "HB_SOUTH", "HB_WEST",
    "LZ_AEN", "LZ_CPS", "LZ_HOUSTON", "LZ_LCRA", "LZ_NORTH", "LZ_RAYBN", "LZ_SOUTH", "LZ_WEST",
)


# --- the folder's inventory ----------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveFile:
    """One file of the archive: which dataset, which year (and month, for monthly extracts)."""

    path: Path
    dataset: str
    kind: str
    year: int
    month: int | None
    # Higher wins where two files hold the same day.
    priority: int

    def covers(self, day: dt.date) -> bool:
        return day.year == self.year and (self.month is None or day.month == self.month)


@dataclass(frozen=True)
class _Pattern:
    dataset: str
    folder: str
    name: re.Pattern[str]
    kind: str
    priority: int


def _name(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# Priority: ERCOT's annual workbook (2) > a monthly extract in ERCOT's layout (1) > gridstatus (0).
_PATTERNS = (
    _Pattern("rt_prices", "rtm_spp_hub_lz", _name(r"ercot_rtm_(?P<year>\d{4})\.parquet"), "gridstatus_rt", 0),
    _Pattern("rt_prices", "rtm_spp_hub_lz", _name(r"RTM-(?P<year>\d{4})-(?P<month>\d{2})\.csv"), "rt_month", 1),
    _Pattern("rt_prices", "rtm_spp_hub_lz", _name(r".*RTMLZHBSPP_(?P<year>\d{4}).*\.zip"), "rt_annual", 2),
    _Pattern("dam_prices", "dam_spp_hub_lz", _name(r"DAM-(?P<year>\d{4})-(?P<month>\d{2})\.csv"), "dam_month", 1),
    _Pattern("dam_prices", "dam_spp_hub_lz", _name(r".*DAMLZHBSPP_(?P<year>\d{4}).*\.zip"), "dam_annual", 2),
    _Pattern("load", "load", _name(r"Native_Load_(?P<year>\d{4})\.xlsx"), "native_load", 0),
    _Pattern("renewables", "fuel_mix", _name(r"IntGenByFuel(?P<year>\d{4})\.xlsx"), "fuel_mix", 0),
)


def scan_archive(root: Path) -> dict[str, list[ArchiveFile]]:
    """Every recognised file under ``root``, by dataset (files of other names are ignored)."""
    found: dict[str, list[ArchiveFile]] = {}
    for pattern in _PATTERNS:
        folder = root / pattern.folder
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            match = pattern.name.fullmatch(path.name)
            if match is None or not path.is_file():
                continue
            month = int(match["month"]) if "month" in pattern.name.groupindex else None
            found.setdefault(pattern.dataset, []).append(
                ArchiveFile(path, pattern.dataset, pattern.kind, int(match["year"]), month, pattern.priority)
            )
    return found


# --- data quality ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataGap:
    """One key day of one series (node, zone, fuel, location) off its interval grid.

    ``missing`` intervals of the day's grid have no row; ``unexpected`` rows are not on the grid.
    """

    dataset: str
    day: dt.date
    series: str
    missing: int
    expected: int
    first_missing: pd.Timestamp | None
    unexpected: int = 0

    def __str__(self) -> str:
        text = f"{self.dataset} {self.day} {self.series}: {self.missing} of {self.expected} intervals missing"
        if self.first_missing is not None:
            text += f" (first {self.first_missing:%Y-%m-%d %H:%M}Z)"
        if self.unexpected:
            text += f", {self.unexpected} rows off the {self.expected}-interval grid"
        return text


@dataclass
class YearQuality:
    """What parsing one dataset-year found: the gaps against the interval grid and notes on the source."""

    gaps: list[DataGap] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def find_gaps(
    dataset: str, frame: pd.DataFrame, series_column: str, minutes: int, days: Iterable[dt.date]
) -> list[DataGap]:
    """Intervals missing from ``frame`` for each day in ``days`` and each series seen in the frame.

    The frame is canonical (unique keys), so a shortfall of on-grid rows against the day's length
    (23, 24 or 25 hours in CPT) is exactly the missing intervals; rows off the grid are counted too.
    """
    gaps: list[DataGap] = []
    series_names = sorted(frame[series_column].unique())
    starts = frame["interval_start"]
    local_days = pd.Series(ercot_time.operating_day_of(starts), index=frame.index)
    # CPT days start on a UTC hour, so the grid of every day is the UTC minutes divisible by ``minutes``.
    on_grid = ((starts.dt.minute * 60 + starts.dt.second) % (minutes * 60) == 0) & (starts.dt.microsecond == 0)
    counts = frame[on_grid].groupby([local_days[on_grid], frame.loc[on_grid, series_column]]).size()
    off_grid = set(zip(local_days[~on_grid], frame.loc[~on_grid, series_column]))
    for day in days:
        start, end = ercot_time.day_bounds(day)
        expected = int((end - start) / pd.Timedelta(minutes=minutes))
        for name in series_names:
            if counts.get((day, name), 0) == expected and (day, name) not in off_grid:
                continue
            grid = pd.date_range(start, end, freq=f"{minutes}min", inclusive="left")
            rows = (frame[series_column] == name) & (local_days == day)
            present = pd.DatetimeIndex(frame.loc[rows, "interval_start"])
            missing, unexpected = grid.difference(present), present.difference(grid)
            first = missing[0] if len(missing) else None
            gaps.append(DataGap(dataset, day, str(name), len(missing), expected, first, len(unexpected)))
    return gaps


# --- real-time prices ----------------------------------------------------------------------------

_GS_START = Field("Interval Start", ("interval_start",))
_GS_LOCATION = Field("Location", ("location",))
_GS_PRICE = Field("SPP", ("LMP", "Price"))


def read_gridstatus_rt(path: Path) -> pd.DataFrame:
    """A gridstatus ``ercot_rtm_YYYY.parquet`` export -> ``rt_prices``; see :func:`read_gridstatus_rt_noted`."""
    return read_gridstatus_rt_noted(path)[0]


def read_gridstatus_rt_noted(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """A gridstatus ``ercot_rtm_YYYY.parquet`` export -> (``rt_prices`` 15-min, all points; notes).

    Hubs have one row per interval. Every ``LZ_*`` point has two: ERCOT's LZ and LZEW
    (energy-weighted) prices, with the settlement point type dropped by the export. Comparing the
    export with ERCOT's own February files (``RTM-2020-02.csv``, ``RTM-2021-02.csv``, which keep
    the type) shows the two copies are always exactly {LZ, LZEW}, but in no recoverable order:
    where they differ, the first copy is the LZ price in 1,908 of 3,902 intervals (Feb 2020) and
    3,924 of 7,970 (Feb 2021), and the row position within an interval carries no signal either.
    So the export cannot give the LZ price exactly.

    Rule: a load zone's price is the midpoint of its two copies. It equals the LZ price wherever
    LZ == LZEW (68-85% of intervals, by year) and is within half their spread elsewhere: the 99th
    percentile spread is $0.08-0.47 and the largest $9.29 (2020), $114.54 (2021-02-16, Winter
    Storm Uri), $8.81 (2022), $34.01 (2023). Hubs are exact. Where ERCOT's own layout is in the
    folder for a day, the archive uses that instead (exact LZ, ``rt_spp_to_canonical``'s rule).
    """
    origin = path.name
    header = pd.DataFrame(columns=pq.read_schema(path).names)
    columns = resolve_columns(header, (_GS_START, _GS_LOCATION, _GS_PRICE), GRIDSTATUS_RT, origin)
    raw = pd.read_parquet(path, columns=list(columns.values()))
    starts = raw[columns[_GS_START.name]]
    if not isinstance(starts.dtype, pd.DatetimeTZDtype):
        # Without an offset the repeated fall-back hour cannot be told apart.
        raise ReportFormatError(GRIDSTATUS_RT, origin, f"column {columns[_GS_START.name]!r} is not timezone-aware")
    long = pd.DataFrame({
        "interval_start": starts.dt.tz_convert("UTC").dt.as_unit(ercot_time.TS_UNIT),
        "node": parse_text(raw[columns[_GS_LOCATION.name]], columns[_GS_LOCATION.name], GRIDSTATUS_RT, origin),
        "price": parse_numbers(raw[columns[_GS_PRICE.name]], columns[_GS_PRICE.name], GRIDSTATUS_RT, origin),
    })
    grouped = long.groupby(["interval_start", "node"], sort=True, observed=True)["price"].agg(
        ["mean", "size", "min", "max"])
    _check_gridstatus_copies(grouped["size"], origin)
    out = pd.DataFrame({
        "interval_start": grouped.index.get_level_values("interval_start"),
        "node": grouped.index.get_level_values("node").astype(str),
        "price": grouped["mean"].to_numpy(),
        "interval_minutes": 15,
    })
    out["published_at"] = schedule_published_at("rt_prices", out["interval_start"], 15)
    return conform_frame(RT_PRICES, out, GRIDSTATUS_RT, origin), [_lz_spread_note(grouped, origin)]


def _lz_spread_note(grouped: pd.DataFrame, origin: str) -> str:
    """How far apart the two load-zone copies are (the midpoint rule's worst case is half of it)."""
    zones = grouped[grouped["size"] == 2]
    spread = zones["max"] - zones["min"]
    return (f"{origin}: load-zone prices are the midpoint of the indistinguishable LZ/LZEW copies; the copies "
            f"differ in {int((spread > 0).sum()):,} of {len(spread):,} zone-intervals, by at most ${spread.max():.2f}")


def _check_gridstatus_copies(copies: pd.Series, origin: str) -> None:
    """Hubs must appear once per interval and load zones exactly twice (LZ + LZEW)."""
    nodes = copies.index.get_level_values("node").astype(str)
    expected = np.where(pd.Index(nodes).str.startswith("LZ_"), 2, 1)
    wrong = copies.to_numpy() != expected
    if wrong.any():
        where = copies.index[np.flatnonzero(wrong)[0]]
        raise ReportFormatError(
            GRIDSTATUS_RT, origin, f"{int(wrong.sum())} (interval, point) pairs have an unexpected number of rows, "
            f"e.g. {where[1]} at {where[0]}: {int(copies.iloc[np.flatnonzero(wrong)[0]])}"
        )


def read_ercot_table(path: Path) -> pd.DataFrame:
    """A monthly CSV extract in ERCOT's layout, all cells as text (the parsers read the numbers)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def read_zip_tables(path: Path) -> list[tuple[str, pd.DataFrame]]:
    """Every table in an ERCOT zip: each sheet of each workbook, or each CSV, with a label for errors."""
    tables: list[tuple[str, pd.DataFrame]] = []
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            lower = member.lower()
            if lower.endswith((".xlsx", ".xls")):
                with archive.open(member) as handle:
                    sheets = pd.read_excel(io.BytesIO(handle.read()), sheet_name=None)
                tables.extend((f"{path.name}:{member}[{name}]", sheet) for name, sheet in sheets.items())
            elif lower.endswith(".csv"):
                with archive.open(member) as handle:
                    tables.append((f"{path.name}:{member}", pd.read_csv(handle, dtype=str, keep_default_na=False)))
    if not tables:
        raise SourceError(f"{path}: no workbook or CSV inside the zip")
    return tables


def _read_rt(file: ArchiveFile) -> tuple[pd.DataFrame, list[str]]:
    if file.kind == "gridstatus_rt":
        return read_gridstatus_rt_noted(file.path)
    if file.kind == "rt_month":
        return rt_spp_to_canonical(read_ercot_table(file.path), file.path.name, report=NP6_785_ER), []
    return _concat_conformed(
        RT_PRICES, [rt_spp_to_canonical(t, label, report=NP6_785_ER) for label, t in read_zip_tables(file.path)],
        NP6_785_ER, file.path.name,
    ), []


def _read_dam(file: ArchiveFile) -> pd.DataFrame:
    if file.kind == "dam_month":
        return dam_spp_to_canonical(read_ercot_table(file.path), file.path.name, report=NP4_180_ER)
    return _concat_conformed(
        DAM_PRICES, [dam_spp_to_canonical(t, label, report=NP4_180_ER) for label, t in read_zip_tables(file.path)],
        NP4_180_ER, file.path.name,
    )


# --- load ------------------------------------------------------------------------------------------

_NATIVE_HOUR_ENDING = Field("Hour Ending", ("HourEnding", "HOUR_ENDING"))
# "MM/DD/YYYY HH:00", hour 24 written "24:00", the repeated fall-back hour suffixed " DST".
_NATIVE_LABEL = re.compile(r"(?P<date>\d{1,2}/\d{1,2}/\d{4})\s+(?P<hour>\d{1,2}):00(?P<dst>\s*DST)?", re.I)


def native_load_labels(values: pd.Series, origin: str) -> pd.DataFrame:
    """``Hour Ending`` cells of a Native_Load workbook -> (OperDay, HourEnding, DSTFlag) per row.

    Two styles exist. Text (2017 on): "MM/DD/YYYY HH:00" with "24:00" and "... 02:00 DST" for the
    repeated hour -- ERCOT's hour-ending convention. Excel datetimes (2016, and a stray cell in
    2022) carry float noise (01:59:59.997), so they are rounded to the hour; hour ending 00:00 is
    HE 24 of the previous date, and a label seen twice is the fall-back hour, whose second copy is
    the repeated one. See :func:`_spring_forward_wall_clock` for the datetime style's spring day.
    """
    dates: list[str] = []
    hours: list[int] = []
    flags: list[str] = []
    from_datetime: list[bool] = []
    seen: set[tuple[str, int]] = set()
    for row, value in enumerate(values):
        if isinstance(value, (pd.Timestamp, dt.datetime)):
            date_text, hour = _datetime_label(pd.Timestamp(value), row, origin)
            repeated = (date_text, hour) in seen
        else:
            match = _NATIVE_LABEL.fullmatch(str(value).strip())
            if match is None:
                problem = f"row {row}: hour ending {value!r} is not MM/DD/YYYY HH:00"
                raise ReportFormatError(NATIVE_LOAD, origin, problem)
            date_text, hour, repeated = match["date"], int(match["hour"]), match["dst"] is not None
        seen.add((date_text, hour))
        dates.append(date_text)
        hours.append(hour)
        flags.append("Y" if repeated else "N")
        from_datetime.append(isinstance(value, (pd.Timestamp, dt.datetime)))
    labels = pd.DataFrame({"OperDay": dates, "HourEnding": hours, "DSTFlag": flags})
    return _spring_forward_wall_clock(labels, np.asarray(from_datetime, dtype=bool))


def _spring_forward_wall_clock(labels: pd.DataFrame, from_datetime: np.ndarray) -> pd.DataFrame:
    """Datetime-style spring-forward days: wall-clock 03:00 ends ERCOT's HE 2.

    On 2016-03-13 the datetime-style workbook labels the hours 01:00, 03:00, 04:00, ...: the hour
    that began at 01:00 CST ended at 03:00 CDT on the wall clock, because 02:00 never happened.
    ERCOT's convention calls that hour HE 2 and skips HE 3 (the text-style files write 01:00,
    02:00, 04:00). Checked against the 15-minute fuel-mix generation of that day, which matches
    the load hour by hour in this reading.
    """
    out = labels.copy()
    for date_text, day_rows in out[from_datetime].groupby("OperDay"):
        day = dt.datetime.strptime(date_text, "%m/%d/%Y").date()
        hours = set(day_rows["HourEnding"])
        if ercot_time.hours_in_day(day) == 23 and 3 in hours and 2 not in hours:
            out.loc[day_rows.index[day_rows["HourEnding"] == 3], "HourEnding"] = 2
    return out


def _datetime_label(value: pd.Timestamp, row: int, origin: str) -> tuple[str, int]:
    """An Excel hour-ending datetime (with float noise) as (MM/DD/YYYY, hour ending 1..24)."""
    rounded = value.round("h")
    if abs(value - rounded) > pd.Timedelta(minutes=1):
        raise ReportFormatError(NATIVE_LOAD, origin, f"row {row}: hour ending {value} is not on the hour")
    if rounded.hour == 0:
        return f"{rounded - pd.Timedelta(days=1):%m/%d/%Y}", 24
    return f"{rounded:%m/%d/%Y}", rounded.hour


def read_native_load(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """A ``Native_Load_YYYY.xlsx`` workbook -> (``load`` frame, notes on rows left out).

    A row whose every zone is blank (Native_Load_2016 has one: hour ending 2016-11-07 00:00, i.e.
    HE 24 of the fall-back day) is left out and noted; the missing hour then shows as a gap. A row
    with only some zones blank is an error.
    """
    origin = path.name
    sheet = pd.read_excel(path, sheet_name=0)
    column = resolve_columns(sheet, (_NATIVE_HOUR_ENDING,), NATIVE_LOAD, origin)[_NATIVE_HOUR_ENDING.name]
    values = sheet.drop(columns=[column])
    blank = values.isna().all(axis=1).to_numpy()
    notes = [f"{origin}: row {int(i)} (hour ending {sheet[column].iloc[i]}) has every zone blank; left out"
             for i in np.flatnonzero(blank)]
    kept = sheet.loc[~blank].reset_index(drop=True)
    labels = native_load_labels(kept[column], origin)
    table = pd.concat([labels, kept.drop(columns=[column])], axis=1)
    return actual_load_to_canonical(table, origin, report=NATIVE_LOAD), notes


# --- fuel mix (wind and solar) ---------------------------------------------------------------------

_MONTH_SHEET = re.compile(r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s*(\d{2}|\d{4})?", re.I)
# The fuels the archive serves as ``renewables`` (lower case, as the canonical ``fuel`` column).
RENEWABLE_FUELS = ("wind", "solar")
# On a fall-back day the repeated hour's four columns follow the first eight standard columns
# (interval-ending labels 0:15 .. 2:00, i.e. 00:00-02:00 CDT).
_FALL_BACK_INSERT_AFTER = 8


def fuel_mix_month_sheets(names: Iterable[str]) -> list[str]:
    """The monthly sheets of a fuel-mix workbook ('Jan'..'Dec', or 'Jan16'..'Dec16' in 2016)."""
    return [name for name in names if _MONTH_SHEET.fullmatch(name.strip())]


def _label_minutes(label: object) -> int | None:
    """Interval-ending label -> minutes after midnight (15..1440); None if it is not a time label.

    Workbooks write the labels as text ("0:15"), as Excel times, as 1900-01-01 datetimes or as a
    zero timedelta for the final "0:00" (= 24:00).
    """
    if isinstance(label, dt.timedelta):
        minutes = int(label.total_seconds() // 60)
    elif isinstance(label, dt.datetime):
        minutes = label.hour * 60 + label.minute
    elif isinstance(label, dt.time):
        minutes = label.hour * 60 + label.minute
    else:
        match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::00)?", str(label).strip())
        if match is None:
            return None
        minutes = int(match[1]) * 60 + int(match[2])
    return 1440 if minutes == 0 else minutes


@dataclass(frozen=True)
class _FuelSheetLayout:
    """Where the values of one monthly sheet are and how its fall-back day is laid out."""

    standard: list[object]
    repeated: list[object]
    # True: the extra columns hold the repeated hour ("01:15 (DST)".."02:00 (DST)", 2017 on) and go
    # after the first 02:00; False: the day is in elapsed order and "DST1".."DST4" are its last
    # four intervals (2016). Checked against the hourly load files: either other reading puts
    # the fall-back day's generation an hour off the load.
    repeated_hour_columns: bool


def _fuel_sheet_layout(sheet: pd.DataFrame, origin: str) -> _FuelSheetLayout:
    columns = list(sheet.columns)
    keys = [header_key(c) for c in columns]
    if "total" not in keys:
        raise ReportFormatError(FUEL_MIX, origin, f"required column 'Total' is missing; columns are {columns[:6]}...")
    after_total = columns[keys.index("total") + 1:]
    repeated = [c for c in after_total if "dst" in header_key(c)]
    standard = [c for c in after_total if c not in repeated]
    minutes = [_label_minutes(c) for c in standard]
    if minutes != list(range(15, 1441, 15)):
        raise ReportFormatError(FUEL_MIX, origin, "interval columns are not the 96 labels 0:15 .. 0:00 in order")
    labelled = [_label_minutes(re.sub(r"(?i)\(?dst\)?", "", str(c))) for c in repeated]
    if repeated and all(m is not None for m in labelled):
        return _FuelSheetLayout(standard, repeated, repeated_hour_columns=True)
    if all(re.fullmatch(r"dst\d", header_key(c)) for c in repeated):
        return _FuelSheetLayout(standard, sorted(repeated, key=header_key), repeated_hour_columns=False)
    raise ReportFormatError(FUEL_MIX, origin, f"unrecognised DST columns {repeated}")


def _fuel_rows(sheet: pd.DataFrame, origin: str) -> pd.DataFrame:
    """(date, fuel, total) per row, from 'Date' + 'Fuel' columns or 2016's 'Date-Fuel' ("03/01/16_Wind")."""
    keys = {header_key(c): c for c in sheet.columns}
    total = sheet[keys["total"]]
    if "date" in keys and "fuel" in keys:
        dates, fuels = sheet[keys["date"]], sheet[keys["fuel"]].astype(str)
    elif "datefuel" in keys:
        parts = sheet[keys["datefuel"]].astype(str).str.rsplit("_", n=1)
        dates, fuels = parts.str[0], parts.str[1].fillna("")
    else:
        raise ReportFormatError(FUEL_MIX, origin, "required columns 'Date' and 'Fuel' (or 'Date-Fuel') are missing")
    return pd.DataFrame({"date": [_fuel_date(v, origin) for v in dates], "fuel": fuels.str.strip().str.lower(),
                         "total": total.to_numpy()})


def _fuel_date(value: object, origin: str) -> dt.date:
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.date()
    for fmt in ("%m/%d/%Y", "%m/%d/%y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(str(value).strip(), fmt).date()
        except ValueError:
            continue
    raise ReportFormatError(FUEL_MIX, origin, f"unrecognised date {value!r}")


def _elapsed_values(
    standard: np.ndarray, repeated: np.ndarray, layout: _FuelSheetLayout, day: dt.date, where: str
) -> np.ndarray:
    """One day's 15-minute values in elapsed order (92, 96 or 100 of them).

    Spring-forward days leave the four cells of the skipped hour blank -- labels 02:15..03:00 from
    2017, 02:00..02:45 in 2016 (02:00 CST and 03:00 CDT end the same interval) -- so the day is
    the non-blank cells in order. Fall-back days add four cells (see ``_FuelSheetLayout``).
    """
    hours = ercot_time.hours_in_day(day)
    blank_standard = np.flatnonzero(np.isnan(standard))
    if hours != 25 and repeated.size and not np.isnan(repeated).all():
        raise ReportFormatError(FUEL_MIX, where, f"DST columns hold values on {day}, which is not a fall-back day")
    if hours == 24 and blank_standard.size == 0:
        return standard
    if hours == 23 and blank_standard.size == 4 and np.all(np.diff(blank_standard) == 1) \
            and 7 <= blank_standard[0] <= 8:
        return standard[~np.isnan(standard)]
    if hours == 25 and blank_standard.size == 0 and repeated.size == 4 and not np.isnan(repeated).any():
        if layout.repeated_hour_columns:
            cut = _FALL_BACK_INSERT_AFTER
            return np.concatenate([standard[:cut], repeated, standard[cut:]])
        return np.concatenate([standard, repeated])
    raise ReportFormatError(
        FUEL_MIX, where, f"{day} has {hours} hours but {96 - blank_standard.size} standard and "
        f"{int((~np.isnan(repeated)).sum()) if repeated.size else 0} DST interval values"
    )


def fuel_mix_sheet_intervals(
    sheet: pd.DataFrame, origin: str, fuels: Collection[str] = RENEWABLE_FUELS
) -> pd.DataFrame:
    """One monthly fuel-mix sheet -> 15-minute energy of ``fuels`` (interval_start UTC, fuel, mwh).

    Fuel names are matched and returned in lower case ("wind", "solar", "gas-cc", ...).
    """
    layout = _fuel_sheet_layout(sheet, origin)
    rows = _fuel_rows(sheet, origin)
    keep = rows["fuel"].isin({fuel.lower() for fuel in fuels}).to_numpy()
    if not keep.any():
        raise ReportFormatError(FUEL_MIX, origin, f"no rows for fuels {sorted(fuels)}")
    standard = sheet.loc[keep, layout.standard].to_numpy(dtype="float64", na_value=np.nan)
    repeated = sheet.loc[keep, layout.repeated].to_numpy(dtype="float64", na_value=np.nan)
    starts, names, energy = [], [], []
    for i, (day, fuel, total) in enumerate(rows.loc[keep].itertuples(index=False)):
        where = f"{origin} {day} {fuel}"
        values = _elapsed_values(standard[i], repeated[i], layout, day, where)
        if not np.isclose(values.sum(), float(total), rtol=1e-6, atol=0.01):
            raise ReportFormatError(FUEL_MIX, where, f"intervals sum to {values.sum():.3f} MWh but Total is {total}")
        # The values are in elapsed order, so each interval starts 15 minutes after the previous
        # one in absolute (UTC) time, from 00:00 CPT of the day.
        starts.append(ercot_time.day_start(day).to_datetime64() + np.arange(len(values)) * np.timedelta64(15, "m"))
        names.append(np.full(len(values), fuel, dtype=object))
        energy.append(values)
    return pd.DataFrame({
        "interval_start": pd.DatetimeIndex(np.concatenate(starts)).tz_localize("UTC").as_unit(ercot_time.TS_UNIT),
        "fuel": np.concatenate(names),
        "mwh": np.concatenate(energy),
    })


def quarter_hours_to_hourly_mw(intervals: pd.DataFrame, origin: str) -> pd.DataFrame:
    """15-minute MWh -> hourly average MW (the hour's four MWh values summed), as ``renewables``.

    CPT offsets are whole hours, so the UTC hour holds the same four intervals as the local hour.
    """
    hour = intervals["interval_start"].dt.floor("h")
    grouped = intervals.groupby([hour, intervals["fuel"]])["mwh"].agg(["sum", "size"])
    short = grouped[grouped["size"] != 4]
    if len(short):
        (start, fuel), size = short.index[0], int(short["size"].iloc[0])
        raise ReportFormatError(FUEL_MIX, origin, f"{fuel} hour {start} has {size} of 4 intervals")
    out = pd.DataFrame({
        "interval_start": grouped.index.get_level_values(0),
        "fuel": grouped.index.get_level_values(1).astype(str),
        "generation_mw": grouped["sum"].to_numpy(),
    })
    out["published_at"] = schedule_published_at("renewables", out["interval_start"], 60)
    return conform_frame(RENEWABLES, out, FUEL_MIX, origin)


def read_fuel_mix(path: Path) -> pd.DataFrame:
    """An ``IntGenbyFuelYYYY.xlsx`` workbook -> hourly wind and solar ``renewables``."""
    with pd.ExcelFile(path) as workbook:
        names = fuel_mix_month_sheets(workbook.sheet_names)
        if not names:
            raise ReportFormatError(FUEL_MIX, path.name, f"no monthly sheets in {workbook.sheet_names}")
        sheets = pd.read_excel(workbook, sheet_name=names)
    intervals = pd.concat(
        [fuel_mix_sheet_intervals(sheet, f"{path.name}[{name}]") for name, sheet in sheets.items()], ignore_index=True
    )
    return quarter_hours_to_hourly_mw(intervals, path.name)


# --- shared helpers --------------------------------------------------------------------------------


def _concat_conformed(schema: Schema, frames: list[pd.DataFrame], report: Report, origin: str) -> pd.DataFrame:
    return conform_frame(schema, pd.concat(frames, ignore_index=True), report, origin)


_Reader = Callable[[ArchiveFile], tuple[pd.DataFrame, list[str]]]


@dataclass(frozen=True)
class _Dataset:
    """How the archive reads one canonical dataset."""

    schema: Schema
    series_column: str
    minutes: int
    read: _Reader


def _no_notes(reader: Callable[[ArchiveFile], pd.DataFrame]) -> _Reader:
    return lambda file: (reader(file), [])


_DATASETS: dict[str, _Dataset] = {
    "rt_prices": _Dataset(RT_PRICES, "node", 15, _read_rt),
    "dam_prices": _Dataset(DAM_PRICES, "node", 60, _no_notes(_read_dam)),
    "load": _Dataset(LOAD, "zone", 60, lambda file: read_native_load(file.path)),
    "renewables": _Dataset(RENEWABLES, "fuel", 60, _no_notes(lambda file: read_fuel_mix(file.path))),
}


@dataclass
class _YearTable:
    """One dataset-year as a canonical frame sorted by interval_start, sliced into days on demand."""

    frame: pd.DataFrame
    quality: YearQuality
    _starts: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._starts = self.frame["interval_start"].dt.tz_convert(None).to_numpy()

    def day(self, day: dt.date) -> pd.DataFrame:
        """The rows whose interval starts within CPT operating day ``day``."""
        start, end = (bound.tz_convert(None).as_unit(ercot_time.TS_UNIT).to_datetime64()
                      for bound in ercot_time.day_bounds(day))
        lo, hi = np.searchsorted(self._starts, [start, end], side="left")
        return self.frame.iloc[lo:hi].reset_index(drop=True)


def _keep_days(frame: pd.DataFrame, keep: Callable[[dt.date], bool]) -> pd.DataFrame:
    days = pd.Series(ercot_time.operating_day_of(frame["interval_start"]))
    mask = days.map({day: keep(day) for day in days.unique()}).to_numpy(dtype=bool)
    return frame.loc[mask]


def _sort_by_time(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    return frame.sort_values([c for c in schema.key if c != "published_at"][::-1], kind="stable").reset_index(drop=True)


# The series every file of a dataset is expected to hold. One absent for a whole year is a note
# (HB_PAN is absent from the 2015-2016 DAM workbooks and the Feb 2019 RT extract); one absent
# for some days of a year is a gap.
EXPECTED_SERIES: dict[str, tuple[str, ...]] = {
    "rt_prices": HUB_AND_ZONE_POINTS,
    "dam_prices": HUB_AND_ZONE_POINTS,
    "load": (*WEATHER_ZONES, SYSTEM_ZONE),
    "renewables": ("solar", "wind"),
}


def _absent_series(dataset: str, year: int, frame: pd.DataFrame, series_column: str) -> list[str]:
    present = set(frame[series_column].unique())
    absent = [name for name in EXPECTED_SERIES[dataset] if name not in present]
    return [f"{dataset} {year}: {', '.join(absent)} absent from every file of the year"] if absent else []


class ErcotArchive(Source):
    """Canonical rt_prices, dam_prices, load and renewables from a folder of ERCOT files.

    ``max_cached_years`` bounds memory: each cached dataset-year is one canonical frame (an RT year
    of 15 points is ~0.5 M rows).
    """

    name = "ercot_archive"

    def __init__(self, root: Path | str, max_cached_years: int = 16) -> None:
        self.root = Path(root)
        self.max_cached_years = max_cached_years
        self._years: OrderedDict[tuple[str, int], _YearTable] = OrderedDict()

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(_DATASETS)

    @cached_property
    def files(self) -> dict[str, list[ArchiveFile]]:
        """The recognised files, scanned on first use (no I/O at construction)."""
        if not self.root.is_dir():
            raise SourceError(f"ERCOT archive folder {self.root} does not exist")
        return scan_archive(self.root)

    def covers(self, dataset: str, day: dt.date) -> bool:
        return dataset in _DATASETS and any(f.covers(day) for f in self.files.get(dataset, []))

    def covered_days(self, dataset: str, year: int) -> list[dt.date]:
        """Every day of ``year`` some file holds for ``dataset``."""
        days = ercot_time.days(dt.date(year, 1, 1), dt.date(year, 12, 31))
        return [day for day in days if self.covers(dataset, day)]

    def fetch(self, dataset: str, day: dt.date) -> pd.DataFrame:
        self._require(dataset, day)
        return self._day(dataset, day)

    def fetch_many(self, dataset: str, days: Iterable[dt.date]) -> dict[dt.date, pd.DataFrame]:
        """Several days; each year file is parsed once, so hundreds of days cost a few file reads."""
        days = list(days)
        for day in days:
            self._require(dataset, day)
        frames = {day: self._day(dataset, day) for day in sorted(set(days))}  # year by year
        return {day: frames[day] for day in days}

    def quality(self, dataset: str, year: int) -> YearQuality:
        """Gaps and source notes found while parsing ``dataset`` for ``year`` (parses it if needed)."""
        return self._table(dataset, year).quality

    # -- internals --

    def _require(self, dataset: str, day: dt.date) -> None:
        if dataset not in _DATASETS:
            raise DataUnavailable(dataset, day, f"the ERCOT archive provides only {', '.join(_DATASETS)}")
        if not self.covers(dataset, day):
            raise DataUnavailable(dataset, day, f"no file under {self.root} holds that day")

    def _day(self, dataset: str, day: dt.date) -> pd.DataFrame:
        frame = self._table(dataset, day.year).day(day)
        if frame.empty:
            raise SourceError(f"{dataset} for {day}: the archive's files cover the day but hold no rows for it")
        return frame

    def _table(self, dataset: str, year: int) -> _YearTable:
        key = (dataset, year)
        if key in self._years:
            self._years.move_to_end(key)
            return self._years[key]
        table = self._build(dataset, year)
        self._years[key] = table
        while len(self._years) > self.max_cached_years:
            self._years.popitem(last=False)
        return table

    def _build(self, dataset: str, year: int) -> _YearTable:
        """Parse every file of the year; per day, the highest-priority file that holds it wins."""
        spec = _DATASETS[dataset]
        files = sorted((f for f in self.files.get(dataset, []) if f.year == year), key=lambda f: -f.priority)
        if not files:
            raise DataUnavailable(dataset, dt.date(year, 1, 1), f"no file under {self.root} holds {year}")
        taken: set[dt.date] = set()
        parts, notes = [], []
        for file in files:
            frame, file_notes = spec.read(file)
            notes.extend(file_notes)
            frame = _keep_days(frame, lambda day, f=file: f.covers(day) and day not in taken)
            taken |= {day for day in self.covered_days(dataset, year) if file.covers(day)}
            parts.append(frame)
        frame = _sort_by_time(pd.concat(parts, ignore_index=True), spec.schema)
        frame = spec.schema.conform(frame, where=f"{self.name} {dataset} {year}")
        notes.extend(_absent_series(dataset, year, frame, spec.series_column))
        quality = YearQuality(find_gaps(dataset, frame, spec.series_column, spec.minutes,
                                        self.covered_days(dataset, year)), notes)
        for gap in quality.gaps:
            log.warning("ERCOT archive gap: %s", gap)
        return _YearTable(frame, quality)


# --- archived weather --------------------------------------------------------------------------------

_PVGIS_FILE = re.compile(r"actual_(?P<year>\d{4})_(?P<lat>-?\d+(?:\.\d+)?)_(?P<lon>-?\d+(?:\.\d+)?)\.parquet")
_PVGIS_TIME = Field("time")
_PVGIS_TEMPERATURE = Field("T2m")
_PVGIS_WIND = Field("WS10m")


def read_pvgis_hourly(path: Path) -> pd.DataFrame:
    """A PVGIS hourly-series file -> ``weather`` rows; location "LAT_LON" as written in the file name.

    PVGIS stamps each hour at :30 UTC ("20210101:0030"); the value describes the hour containing
    that stamp, so interval_start is the stamp floored to the hour.
    """
    match = _PVGIS_FILE.fullmatch(path.name)
    if match is None:
        raise SourceError(f"{path}: not a PVGIS file name (actual_YYYY_LAT_LON.parquet)")
    raw = pd.read_parquet(path)
    columns = resolve_columns(raw, (_PVGIS_TIME, _PVGIS_TEMPERATURE, _PVGIS_WIND), PVGIS_HOURLY, path.name)
    try:
        stamps = pd.to_datetime(raw[columns["time"]].astype(str).str.strip(), format="%Y%m%d:%H%M", utc=True)
    except ValueError as exc:
        raise ReportFormatError(PVGIS_HOURLY, path.name, f"column 'time': {exc}") from exc
    starts = stamps.dt.floor("h").dt.as_unit(ercot_time.TS_UNIT)
    out = pd.DataFrame({
        "interval_start": starts,
        "location": f"{match['lat']}_{match['lon']}",
        "temperature_c": parse_numbers(raw[columns["T2m"]], columns["T2m"], PVGIS_HOURLY, path.name),
        "wind_speed_ms": parse_numbers(raw[columns["WS10m"]], columns["WS10m"], PVGIS_HOURLY, path.name,
                                       allow_missing=True),
    })
    out["published_at"] = schedule_published_at("weather", out["interval_start"], 60, source=ArchivedWeather.name)
    return conform_frame(WEATHER, out, PVGIS_HOURLY, path.name)


class ArchivedWeather(Source):
    """Hourly weather observations at a few Texas points (PVGIS files in ``site_hourly/``).

    A location serves a CPT day only if its files hold every hour of that day (the files are UTC
    years, so e.g. the last six hours of a location's final Dec 31 are outside them); ``covers``
    is true when at least one location does. The whole folder is small and read once.
    """

    name = "weather_archive"

    def __init__(self, root: Path | str) -> None:
        root = Path(root)
        self.root = root / "site_hourly" if (root / "site_hourly").is_dir() else root

    @property
    def datasets(self) -> tuple[str, ...]:
        return ("weather",)

    @cached_property
    def _table(self) -> tuple[_YearTable, dict[dt.date, frozenset[str]]]:
        paths = sorted(p for p in self.root.glob("*.parquet") if _PVGIS_FILE.fullmatch(p.name))
        if not paths:
            raise SourceError(f"no PVGIS weather files (actual_YYYY_LAT_LON.parquet) in {self.root}")
        frame = _sort_by_time(pd.concat([read_pvgis_hourly(p) for p in paths], ignore_index=True), WEATHER)
        frame = WEATHER.conform(frame, where=f"{self.name} {self.root}")
        return _YearTable(frame, YearQuality()), _complete_days(frame)

    def covers(self, dataset: str, day: dt.date) -> bool:
        return dataset == "weather" and bool(self._table[1].get(day))

    def fetch(self, dataset: str, day: dt.date) -> pd.DataFrame:
        if dataset != "weather":
            raise DataUnavailable(dataset, day, "the weather archive provides only 'weather'")
        table, complete = self._table
        locations = complete.get(day)
        if not locations:
            raise DataUnavailable(dataset, day, f"no location in {self.root} has every hour of that day")
        frame = table.day(day)
        return frame.loc[frame["location"].isin(locations).to_numpy()].reset_index(drop=True)


def _complete_days(frame: pd.DataFrame) -> dict[dt.date, frozenset[str]]:
    """For each CPT day, the locations with every hour of it."""
    days = pd.Series(ercot_time.operating_day_of(frame["interval_start"]), index=frame.index)
    counts = frame.groupby([days, frame["location"]]).size()
    complete: dict[dt.date, set[str]] = {}
    for (day, location), count in counts.items():
        if count == ercot_time.hours_in_day(day):
            complete.setdefault(day, set()).add(str(location))
    return {day: frozenset(locations) for day, locations in complete.items()}
