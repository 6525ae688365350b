"""Archived weather observations: PVGIS hourly series at a few Texas points (``site_hourly/``).

Served as ``weather`` by :class:`ArchivedWeather`, for market sources without weather of their own.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from pathlib import Path

import pandas as pd

from pipeline import ercot_time
from pipeline.catalogue import PVGIS_HOURLY
from pipeline.sources.base import DataUnavailable, Source, SourceError
from pipeline.sources.ercot_archive.inventory import YearQuality, YearTable, sort_by_time
from pipeline.sources.ercot_files import (
    Field,
    ReportFormatError,
    conform_frame,
    parse_numbers,
    resolve_columns,
    schedule_published_at,
)
from targets.schemas import WEATHER

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
    def _table(self) -> tuple[YearTable, dict[dt.date, frozenset[str]]]:
        paths = sorted(p for p in self.root.glob("*.parquet") if _PVGIS_FILE.fullmatch(p.name))
        if not paths:
            raise SourceError(f"no PVGIS weather files (actual_YYYY_LAT_LON.parquet) in {self.root}")
        frame = sort_by_time(pd.concat([_read_weather(p) for p in paths], ignore_index=True), WEATHER)
        frame = WEATHER.conform(frame, where=f"{self.name} {self.root}")
        return YearTable(frame, YearQuality()), _complete_days(frame)

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


def _read_weather(path: Path) -> pd.DataFrame:
    """One PVGIS file; a failure to read it names the dataset and the file."""
    try:
        return read_pvgis_hourly(path)
    except Exception as exc:  # noqa: BLE001 - re-raised with the file named
        raise SourceError(f"weather: cannot read {path}: {type(exc).__name__}: {exc}") from exc
