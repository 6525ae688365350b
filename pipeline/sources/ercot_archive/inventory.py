"""What an ERCOT archive folder holds: its files, and what parsing a dataset-year of them found.

The folder has the layout of ``../shared/data/ercot`` (see that README for every quirk)::

    rtm_spp_hub_lz/ercot_rtm_YYYY.parquet                 gridstatus export of NP6-785-ER (15-min RT SPP)
    rtm_spp_hub_lz/*RTMLZHBSPP_YYYY*.zip                  ERCOT's own NP6-785-ER workbook (optional)
    rtm_spp_hub_lz/**/RTM-YYYY-MM.csv                     one month of NP6-785-ER in ERCOT's layout
    dam_spp_hub_lz/*DAMLZHBSPP_YYYY*.zip                  ERCOT's NP4-180-ER workbook (hourly DAM SPP)
    dam_spp_hub_lz/**/DAM-YYYY-MM.csv                     one month of NP4-180-ER
    dam_as_mcpc/*DAMASMCPC_YYYY*.zip, DAMASMCPC_YYYY.csv  NP4-181-ER DAM ancillary clearing prices (hourly)
    load/Native_Load_YYYY.xlsx                            hourly load by weather zone
    fuel_mix/IntGenbyFuelYYYY.xlsx                        15-min generation by fuel (wind, solar used)

:func:`scan_archive` recognises these by name (anything else is ignored) and gives each file a
priority for days two files both hold. A parsed dataset-year is a :class:`YearTable`: one canonical
frame sliced into days, with the :class:`YearQuality` found on the way -- gaps against the
expected interval grid (never filled) and notes on the source rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import ercot_time
from pipeline.catalogue import (
    ANCILLARY_SERVICE_START,
    ANCILLARY_SERVICES,
    FUELS,
    HUBS_AND_ZONES,
    SYSTEM_ZONE,
    WEATHER_ZONES,
)
from targets.schema import Schema


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

    def version(self) -> str:
        """The file's name, size and modification time: they change when the file is replaced or edited."""
        info = self.path.stat()
        return f"{self.path.name}:{info.st_size}:{info.st_mtime_ns}"


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
    _Pattern("ancillary_prices", "dam_as_mcpc", _name(r"DAMASMCPC_(?P<year>\d{4})\.csv"), "as_csv", 1),
    _Pattern("ancillary_prices", "dam_as_mcpc", _name(r".*DAMASMCPC_(?P<year>\d{4}).*\.zip"), "as_annual", 2),
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
    A series that began later (an ancillary service launched mid-year) is checked from its start.
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
            if day < SERIES_START.get(str(name), day):
                continue
            grid = pd.date_range(start, end, freq=f"{minutes}min", inclusive="left")
            rows = (frame[series_column] == name) & (local_days == day)
            present = pd.DatetimeIndex(frame.loc[rows, "interval_start"])
            missing, unexpected = grid.difference(present), present.difference(grid)
            first = missing[0] if len(missing) else None
            gaps.append(DataGap(dataset, day, str(name), len(missing), expected, first, len(unexpected)))
    return gaps


# The series every file of a dataset is expected to hold. One absent for a whole year is a note
# (HB_PAN is absent from the 2015-2016 DAM workbooks and the Feb 2019 RT extract); one absent
# for some days of a year is a gap. Sorted, so a note lists absent series alphabetically.
EXPECTED_SERIES: dict[str, tuple[str, ...]] = {
    "rt_prices": tuple(sorted(HUBS_AND_ZONES)),
    "dam_prices": tuple(sorted(HUBS_AND_ZONES)),
    "ancillary_prices": tuple(sorted(ANCILLARY_SERVICES)),
    "load": (*WEATHER_ZONES, SYSTEM_ZONE),
    "renewables": tuple(sorted(FUELS)),
}
# Series that exist only from a day on (not expected before it).
SERIES_START: dict[str, dt.date] = dict(ANCILLARY_SERVICE_START)


def absent_series(dataset: str, year: int, frame: pd.DataFrame, series_column: str) -> list[str]:
    """A note for the expected series that no file of the year holds at all (not a gap: no grid to miss)."""
    present = set(frame[series_column].unique())
    absent = [name for name in EXPECTED_SERIES[dataset]
              if name not in present and SERIES_START.get(name, dt.date(year, 1, 1)) <= dt.date(year, 12, 31)]
    return [f"{dataset} {year}: {', '.join(absent)} absent from every file of the year"] if absent else []


# --- parsed years ------------------------------------------------------------------------------------


@dataclass
class YearTable:
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


def sort_by_time(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Rows in ``schema``'s key order with time outermost, so a :class:`YearTable` can slice days."""
    return frame.sort_values([c for c in schema.key if c != "published_at"][::-1], kind="stable").reset_index(drop=True)
