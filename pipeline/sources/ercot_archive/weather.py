"""Archived weather observations, served as ``weather`` by :class:`ArchivedWeather`.

Two layouts are read (as in ``../shared/data/weather``):

* ``station_hourly/<place>_meteostat_hourly_<years>.parquet`` -- hourly station observations via
  Meteostat (index ``timestamp`` in America/Chicago, hour beginning; ``temp_c``), one location per
  file, named by its place (``HOUSTON``);
* ``site_hourly/actual_YYYY_LAT_LON.parquet`` -- PVGIS hourly series at a few points, one file per
  UTC year.

A folder holding ``station_hourly/`` is read from there only: station observations at the main
load centre cover the years consistently, while the PVGIS points change from year to year (a mean
over a changing set of places would move with the set). Point ``sources.weather_dir`` at
``site_hourly/`` itself to use the PVGIS points.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from pathlib import Path

import pandas as pd

from pipeline import ercot_time
from pipeline.catalogue import METEOSTAT_HOURLY, PVGIS_HOURLY
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


_STATION_FILE = re.compile(r"(?P<place>[a-z]+)_meteostat_hourly.*\.parquet", re.IGNORECASE)
_STATION_TEMPERATURE = Field("temp_c")


def read_station_hourly(path: Path) -> pd.DataFrame:
    """A Meteostat hourly station file -> ``weather`` rows (hours without a temperature are left out)."""
    match = _STATION_FILE.fullmatch(path.name)
    if match is None:
        raise SourceError(f"{path}: not a station file name (<place>_meteostat_hourly_....parquet)")
    raw = pd.read_parquet(path)
    index = raw.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ReportFormatError(METEOSTAT_HOURLY, path.name, "the index must be tz-aware hourly timestamps")
    columns = resolve_columns(raw, (_STATION_TEMPERATURE,), METEOSTAT_HOURLY, path.name)
    temperature = parse_numbers(raw[columns["temp_c"]], columns["temp_c"], METEOSTAT_HOURLY, path.name,
                                allow_missing=True)
    known = ~pd.isna(temperature)
    out = pd.DataFrame({
        "interval_start": index[known].tz_convert("UTC").as_unit(ercot_time.TS_UNIT),
        "location": match["place"].upper(),
        "temperature_c": temperature[known],
        "wind_speed_ms": float("nan"),
    })
    out["published_at"] = schedule_published_at("weather", out["interval_start"], 60, source=ArchivedWeather.name)
    return conform_frame(WEATHER, out, METEOSTAT_HOURLY, path.name)


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
    """Hourly weather observations: station files (``station_hourly/``) or PVGIS points (``site_hourly/``).

    A location serves a CPT day when its files hold all but at most :data:`MAX_MISSING_HOURS`
    hours of it (a station misses an hour now and then; the PVGIS files are UTC years, so the last
    six hours of a location's final Dec 31 are outside them and that day is not served); ``covers``
    is true when at least one location does. The whole folder is small and read once.
    """

    name = "weather_archive"
    verifiable = True  # the files are on disk: their versions say when they changed

    def __init__(self, root: Path | str) -> None:
        root = Path(root)
        self._fingerprint: str | None = None
        for folder, pattern in (("station_hourly", _STATION_FILE), ("site_hourly", _PVGIS_FILE)):
            if (root / folder).is_dir():
                self.root, self._pattern = root / folder, pattern
                break
        else:
            self.root = root
            has_stations = any(_STATION_FILE.fullmatch(p.name) for p in root.glob("*.parquet"))
            self._pattern = _STATION_FILE if has_stations else _PVGIS_FILE

    @property
    def datasets(self) -> tuple[str, ...]:
        return ("weather",)

    @cached_property
    def _paths(self) -> list[Path]:
        return sorted(p for p in self.root.glob("*.parquet") if self._pattern.fullmatch(p.name))

    def fingerprint(self, dataset: str, day: dt.date) -> str:
        """The versions of the weather files (the whole folder is read as one table)."""
        if self._fingerprint is None:
            self._fingerprint = "|".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in self._paths)
        return self._fingerprint

    @cached_property
    def _table(self) -> tuple[YearTable, dict[dt.date, frozenset[str]]]:
        paths = self._paths
        if not paths:
            raise SourceError(f"no weather files (<place>_meteostat_hourly_*.parquet or actual_YYYY_LAT_LON.parquet) "
                              f"in {self.root}")
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
            raise DataUnavailable(dataset, day, f"no location in {self.root} has enough hours of that day "
                                                f"(all but {MAX_MISSING_HOURS} at most)")
        frame = table.day(day)
        return frame.loc[frame["location"].isin(locations).to_numpy()].reset_index(drop=True)


MAX_MISSING_HOURS = 4


def _complete_days(frame: pd.DataFrame) -> dict[dt.date, frozenset[str]]:
    """For each CPT day, the locations missing at most :data:`MAX_MISSING_HOURS` of its hours."""
    days = pd.Series(ercot_time.operating_day_of(frame["interval_start"]), index=frame.index)
    counts = frame.groupby([days, frame["location"]]).size()
    complete: dict[dt.date, set[str]] = {}
    for (day, location), count in counts.items():
        if count >= ercot_time.hours_in_day(day) - MAX_MISSING_HOURS:
            complete.setdefault(day, set()).add(str(location))
    return {day: frozenset(locations) for day, locations in complete.items()}


def _read_weather(path: Path) -> pd.DataFrame:
    """One weather file; a failure to read it names the dataset and the file."""
    try:
        return read_station_hourly(path) if _STATION_FILE.fullmatch(path.name) else read_pvgis_hourly(path)
    except Exception as exc:  # noqa: BLE001 - re-raised with the file named
        raise SourceError(f"weather: cannot read {path}: {type(exc).__name__}: {exc}") from exc
