"""The ERCOT archive as a canonical source: rt_prices, dam_prices, load and renewables from a folder.

Where several files hold the same day, ERCOT's own layout wins over the gridstatus export (it
carries the settlement point type, so load zones are exact; see
:func:`~pipeline.sources.ercot_archive.gridstatus.read_gridstatus_rt_noted`), and an annual
workbook wins over a monthly extract. Each year is parsed once per process into one canonical frame
(bounded LRU cache) and days are slices of it, so ``fetch_many`` over hundreds of days costs a few
file reads. Gaps against the expected interval grid (a blank source row, a missing hour) are never
filled: they are logged and listed by :meth:`ErcotArchive.quality`.

The archive holds no forecasts; asking for one is :class:`DataUnavailable`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from pipeline import ercot_time
from pipeline.catalogue import NP6_785_ER
from pipeline.sources.base import DataUnavailable, Source, SourceError
from pipeline.sources.ercot_archive.fuel_mix import read_fuel_mix
from pipeline.sources.ercot_archive.gridstatus import read_gridstatus_rt_noted
from pipeline.sources.ercot_archive.inventory import (
    ArchiveFile,
    YearQuality,
    YearTable,
    absent_series,
    find_gaps,
    scan_archive,
    sort_by_time,
)
from pipeline.sources.ercot_archive.native_load import read_native_load
from pipeline.sources.ercot_archive.workbooks import read_ancillary, read_dam_workbook, read_rt_workbook
from pipeline.sources.ercot_points import catalogue_points
from targets.schema import Schema
from targets.schemas import ANCILLARY_PRICES, DAM_PRICES, LOAD, RENEWABLES, RT_PRICES

log = logging.getLogger(__name__)

# --- how each dataset is read --------------------------------------------------------------------

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


def _read_rt(file: ArchiveFile) -> tuple[pd.DataFrame, list[str]]:
    """Real-time prices from the gridstatus export (with its LZ/LZEW note) or ERCOT's own layout."""
    if file.kind == "gridstatus_rt":
        return read_gridstatus_rt_noted(file.path)
    return read_rt_workbook(file), []


_DATASETS: dict[str, _Dataset] = {
    "rt_prices": _Dataset(RT_PRICES, "node", 15, _read_rt),
    "dam_prices": _Dataset(DAM_PRICES, "node", 60, _no_notes(read_dam_workbook)),
    "ancillary_prices": _Dataset(ANCILLARY_PRICES, "service", 60, _no_notes(read_ancillary)),
    "load": _Dataset(LOAD, "zone", 60, lambda file: read_native_load(file.path)),
    "renewables": _Dataset(RENEWABLES, "fuel", 60, _no_notes(lambda file: read_fuel_mix(file.path))),
}


def _keep_days(frame: pd.DataFrame, keep: Callable[[dt.date], bool]) -> pd.DataFrame:
    """The rows whose CPT operating day ``keep`` accepts (one call per distinct day)."""
    days = pd.Series(ercot_time.operating_day_of(frame["interval_start"]))
    mask = days.map({day: keep(day) for day in days.unique()}).to_numpy(dtype=bool)
    return frame.loc[mask]


# --- the source ------------------------------------------------------------------------------------


class ErcotArchive(Source):
    """Canonical rt_prices, dam_prices, load and renewables from a folder of ERCOT files.

    ``max_cached_years`` bounds memory: each cached dataset-year is one canonical frame (an RT year
    of 15 points is ~0.5 M rows).
    """

    name = "ercot_archive"
    verifiable = True  # the files are on disk: their versions say when they changed

    def __init__(self, root: Path | str, max_cached_years: int = 16) -> None:
        self.root = Path(root)
        self.max_cached_years = max_cached_years
        self._years: OrderedDict[tuple[str, int], YearTable] = OrderedDict()
        # The days each parsed dataset-year holds rows for (small; kept when the frame is evicted).
        self._days: dict[tuple[str, int], frozenset[dt.date]] = {}
        self._versions: dict[tuple[str, int, int], str] = {}

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
        """Whether the files hold rows for ``day``: a file of its year exists and the day is in it.

        The current year's files are always partial (a Native_Load workbook may end in August), so
        a day past a file's last row is not covered: the features built from it are NaN, and the
        first call per dataset-year parses the year (cached).
        """
        if not self._file_covers(dataset, day):
            return False
        key = (dataset, day.year)
        if key not in self._days:
            self._table(dataset, day.year)
        return day in self._days[key]

    def _file_covers(self, dataset: str, day: dt.date) -> bool:
        return dataset in _DATASETS and any(f.covers(day) for f in self.files.get(dataset, []))

    def covered_days(self, dataset: str, year: int) -> list[dt.date]:
        """Every day of ``year`` some file of ``dataset`` is for (whether or not it holds rows for it)."""
        days = ercot_time.days(dt.date(year, 1, 1), dt.date(year, 12, 31))
        return [day for day in days if self._file_covers(dataset, day)]

    def fingerprint(self, dataset: str, day: dt.date) -> str:
        """The versions (name, size, modification time) of every file that may hold ``day``: a file
        replaced or edited since a day was read makes that day be read again."""
        key = (dataset, day.year, day.month)
        if key not in self._versions:
            files = sorted((f for f in self.files.get(dataset, []) if f.covers(day)), key=lambda f: str(f.path))
            self._versions[key] = "|".join(f.version() for f in files) or "none"
        return self._versions[key]

    def describe(self, dataset: str, day: dt.date) -> str:
        files = [str(f.path) for f in self.files.get(dataset, []) if f.covers(day)]
        return f"{self.name} ({', '.join(files) or 'no file'})"

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

    def settlement_points(self, day: dt.date) -> pd.DataFrame:
        """The settlement points the rt_prices files of ``day``'s year hold (hubs and load zones).

        Types come from the catalogue (the gridstatus export carries none): hubs HU, HB_BUSAVG SH,
        HB_HUBAVG AH, load zones LZ; a hub is its own hub and a load zone its own load zone.
        """
        if not any(f.year == day.year for f in self.files.get("rt_prices", [])):
            raise DataUnavailable("settlement_points", day, f"no rt_prices file under {self.root} holds {day.year}")
        names = self._table("rt_prices", day.year).frame["node"].unique()
        files = [str(f.path) for f in self.files["rt_prices"] if f.year == day.year]
        return catalogue_points(names, f"{self.name} rt_prices {day.year} ({', '.join(files)})", NP6_785_ER)

    def quality(self, dataset: str, year: int) -> YearQuality:
        """Gaps and source notes found while parsing ``dataset`` for ``year`` (parses it if needed)."""
        return self._table(dataset, year).quality

    # -- internals --

    def _require(self, dataset: str, day: dt.date) -> None:
        if dataset not in _DATASETS:
            raise DataUnavailable(dataset, day, f"the ERCOT archive provides only {', '.join(_DATASETS)}")
        if not self._file_covers(dataset, day):
            raise DataUnavailable(dataset, day, f"no file under {self.root} holds that day")
        if not self.covers(dataset, day):
            raise DataUnavailable(dataset, day, f"the files under {self.root} for {day.year} hold no rows for that day")

    def _day(self, dataset: str, day: dt.date) -> pd.DataFrame:
        frame = self._table(dataset, day.year).day(day)
        if frame.empty:
            raise SourceError(f"{dataset} for {day}: the archive's files cover the day but hold no rows for it")
        return frame

    def _table(self, dataset: str, year: int) -> YearTable:
        key = (dataset, year)
        if key in self._years:
            self._years.move_to_end(key)
            return self._years[key]
        table = self._build(dataset, year)
        self._years[key] = table
        while len(self._years) > self.max_cached_years:
            self._years.popitem(last=False)
        return table

    def _build(self, dataset: str, year: int) -> YearTable:
        """Parse every file of the year; per day, the highest-priority file that holds it wins."""
        spec = _DATASETS[dataset]
        files = sorted((f for f in self.files.get(dataset, []) if f.year == year), key=lambda f: -f.priority)
        if not files:
            raise DataUnavailable(dataset, dt.date(year, 1, 1), f"no file under {self.root} holds {year}")
        taken: set[dt.date] = set()
        parts, notes = [], []
        for file in files:
            frame, file_notes = _read(spec, file)
            notes.extend(file_notes)
            frame = _keep_days(frame, lambda day, f=file: f.covers(day) and day not in taken)
            taken |= {day for day in self.covered_days(dataset, year) if file.covers(day)}
            parts.append(frame)
        frame = sort_by_time(pd.concat(parts, ignore_index=True), spec.schema)
        frame = spec.schema.conform(frame, where=f"{self.name} {dataset} {year}")
        notes.extend(absent_series(dataset, year, frame, spec.series_column))
        present = frozenset(ercot_time.operating_day_of(frame["interval_start"]))
        span, outside = _span(self.covered_days(dataset, year), present)
        if outside:
            notes.append(f"{dataset} {year}: the files hold {min(present)}..{max(present)}; {outside} day(s) of "
                         "the year are not in them (a file still being published, or cut short)")
            log.warning("ERCOT archive: %s", notes[-1])
        quality = YearQuality(find_gaps(dataset, frame, spec.series_column, spec.minutes, span), notes)
        for gap in quality.gaps:
            log.warning("ERCOT archive gap: %s", gap)
        self._days[(dataset, year)] = present
        return YearTable(frame, quality)


class ArchiveReadError(SourceError):
    """An archive file that cannot be read; the message names the dataset and the file."""


def _read(spec: _Dataset, file: ArchiveFile) -> tuple[pd.DataFrame, list[str]]:
    """One file's frame and notes; any failure to read it names the dataset, the year and the file."""
    try:
        return spec.read(file)
    except Exception as exc:  # noqa: BLE001 - re-raised with the file named: parquet, zip and xlsx errors differ
        raise ArchiveReadError(f"{file.dataset} {file.year}: cannot read {file.path}: "
                               f"{type(exc).__name__}: {exc}") from exc


def _span(file_days: list[dt.date], present: frozenset[dt.date]) -> tuple[list[dt.date], int]:
    """The file days from the first to the last day with rows (where a missing day is a gap), and how
    many file days lie outside that span (the part of the year the files do not reach yet)."""
    if not present:
        return [], len(file_days)
    first, last = min(present), max(present)
    span = [day for day in file_days if first <= day <= last]
    return span, len(file_days) - len(span)
