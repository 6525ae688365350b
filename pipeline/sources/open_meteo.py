"""Open-Meteo weather (no key): reanalysis history and forecast vintages for configured points.

Datasets (location column = the point's name from ``sources.open_meteo.points``):

* ``weather`` -- hourly actual weather for CPT operating day d from the archive API (ERA5-based
  reanalysis). It lags about five days, so ``published_at`` follows the publication table's
  Open-Meteo override (each hour public five days after it ends), and a day whose hours are still
  missing from the archive is :class:`DataUnavailable`.
* ``weather_forecast`` -- the vintage issued on d: every forecast hour from 00:00 CPT of d for
  ``forecast_days`` UTC days. For the current CPT day (per the injected clock) it comes from the
  live forecast API and ``published_at`` is the fetch time: exactly what was known then. Past
  vintages are rebuilt from the **Previous Runs API** (``temperature_2m_previous_dayN``: the value
  each model run N x 24 hours before the hour forecast for it) and stamped with the publication
  table's time for the vintage (05:00 CPT on d): each hour takes the freshest run that was public
  by then (see :func:`previous_day_for`), so a backtest sees what a forecast issued on d knew.

Why not the Historical Forecast API: it stitches together the *first hours of successive model
runs*, so its value for an hour of d+3 was forecast only hours ahead of that hour -- close to the
observed weather, and far more accurate than anything known at the issue time. A model trained on
it over-trusts weather forecasts. The Previous Runs API holds GFS temperatures from April 2021
(:data:`PREVIOUS_RUNS_START`) and most models from 2024; one model (:data:`FORECAST_MODEL`) serves
the live and the rebuilt vintages alike, so the model sees one forecast system throughout.

Requests: one per dataset and day for all points at once, using Open-Meteo's multi-location form
(comma-separated ``latitude``/``longitude``; the answer is a list in the same order, or a single
object for one point), with ``timezone=UTC`` so ``hourly.time`` is UTC, and ``wind_speed_unit=ms``.
An HTTP 400 ``{"error": true, "reason": ...}`` becomes a :class:`SourceError` carrying the reason.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import requests

from pipeline import ercot_time, publication
from pipeline.config import GeoPoint, OpenMeteoConfig
from pipeline.sources.base import DataUnavailable, Source, SourceError
from pipeline.sources.http import HttpClient, HttpError

HOURLY_VARIABLES = ("temperature_2m", "wind_speed_10m")
DATASETS = ("weather", "weather_forecast")
#: The weather model of every forecast vintage: GFS, whose previous runs reach back furthest.
FORECAST_MODEL = "gfs_seamless"
#: The first day the Previous Runs API holds GFS temperatures for (Open-Meteo's documentation).
PREVIOUS_RUNS_START = dt.date(2021, 4, 1)
#: ``_previous_dayN`` exists for N = 1..7.
PREVIOUS_DAYS = range(1, 8)
#: How long after a run's start its forecast is public (GFS runs land about 4-5 hours later):
#: a run is counted as known only this long after the hour it is dated by.
RUN_LATENCY = pd.Timedelta(hours=6)

Now = Callable[[], pd.Timestamp]


def utc_now() -> pd.Timestamp:
    """The real clock: the default of :class:`OpenMeteo`'s ``now`` (tests inject a fixed one)."""
    return pd.Timestamp.now(tz="UTC")


class OpenMeteo(Source):
    """Weather history and forecast vintages from Open-Meteo for the configured points.

    ``forecast_days`` UTC days of forecast per vintage (5 covers the 72-hour horizon starting at
    00:00 CPT of d+1). ``now`` is the clock deciding whether a vintage is live or past.
    """

    name = "open_meteo"

    #: Vintages are rebuilt from the Previous Runs API (raw files of the historical-forecast era are
    #: not as of their issue time, so they must never be read as vintages: a folder of their own).
    storage_suffix = "prevruns"

    def __init__(
        self,
        config: OpenMeteoConfig,
        *,
        forecast_days: int = 5,
        previous_runs_url: str | None = None,
        now: Now = utc_now,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not 1 <= forecast_days <= 16:
            raise ValueError("forecast_days must be between 1 and 16 (Open-Meteo's range)")
        self.config = config
        self.points: dict[str, GeoPoint] = dict(config.points)
        self.forecast_days = forecast_days
        self.previous_runs_url = previous_runs_url or config.previous_runs_url
        self._now = now
        self._http = HttpClient(config, name=self.name, session=session, sleep=sleep, rng=rng)

    @property
    def datasets(self) -> tuple[str, ...]:
        return DATASETS

    def covers(self, dataset: str, day: dt.date) -> bool:
        """Observed weather for any day; forecast vintages from :data:`PREVIOUS_RUNS_START` on."""
        if dataset == "weather_forecast":
            return day >= PREVIOUS_RUNS_START
        return dataset in DATASETS

    def fetch(self, dataset: str, day: dt.date) -> pd.DataFrame:
        if dataset == "weather":
            return self._weather(day)
        if dataset == "weather_forecast":
            return self.fetch_many(dataset, [day])[day]
        raise ValueError(f"{self.name} does not provide {dataset!r}; it provides {', '.join(DATASETS)}")

    def fetch_many(self, dataset: str, days: Iterable[dt.date]) -> dict[dt.date, pd.DataFrame]:
        """Past forecast vintages of many days from one Previous Runs request; everything else day by day."""
        days = list(dict.fromkeys(days))
        if dataset != "weather_forecast":
            return {day: self.fetch(dataset, day) for day in days}
        today = ercot_time.operating_day_of(pd.DatetimeIndex([self._now()]))[0]
        future = [day for day in days if day > today]
        if future:
            raise DataUnavailable("weather_forecast", future[0], f"vintage is in the future (today is {today} CPT)")
        past = [day for day in days if day < today]
        out = self._past_vintages(past) if past else {}
        if today in days:
            out[today] = self._live_vintage(today)
        return {day: out[day] for day in days}

    # --- datasets ---------------------------------------------------------------------------------

    def _weather(self, day: dt.date) -> pd.DataFrame:
        """Reanalysis for every hour of operating day ``day`` (two UTC dates cover it)."""
        params = {"start_date": day.isoformat(), "end_date": (day + dt.timedelta(days=1)).isoformat()}
        frame = ercot_day(self._hourly(self.config.archive_url, params, "weather"), day)
        incomplete = _incomplete_points(frame, day, list(self.points))
        if incomplete:
            raise DataUnavailable("weather", day, f"Open-Meteo archive lacks hours for {incomplete} "
                                                  "(its reanalysis lags about five days)")
        rule = publication.rule_for("weather", self.name)
        frame["published_at"] = rule.stamp(frame["interval_start"], 60, day)
        return frame.reset_index(drop=True)

    def _live_vintage(self, day: dt.date) -> pd.DataFrame:
        """Today's vintage: the live forecast, stamped with the fetch time."""
        now = self._now()
        params = {"forecast_days": str(self.forecast_days), "models": FORECAST_MODEL}
        frame = self._hourly(self.config.forecast_url, params, "weather_forecast")
        return _vintage(frame, day, now.floor("s").as_unit(ercot_time.TS_UNIT))

    def _past_vintages(self, days: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
        """Vintages of past days rebuilt from one Previous Runs request over all the hours they cover."""
        early = [day for day in days if day < PREVIOUS_RUNS_START]
        if early:
            raise DataUnavailable("weather_forecast", early[0], f"the Previous Runs API starts on {PREVIOUS_RUNS_START}")
        first, last = min(days), max(days) + dt.timedelta(days=self.forecast_days)
        params = {"start_date": first.isoformat(), "end_date": last.isoformat(), "models": FORECAST_MODEL}
        runs = self._previous_runs(params)
        rule = publication.rule_for("weather_forecast", self.name)
        out = {}
        for day in days:
            published_at = rule.available_at(day)
            hours = runs[(runs["interval_start"] >= ercot_time.day_start(day))
                         & (runs["interval_start"] < ercot_time.day_start(day) + pd.Timedelta(days=self.forecast_days))]
            out[day] = _vintage(as_of(hours, published_at), day, published_at)
        return out

    # --- requests ---------------------------------------------------------------------------------

    def _hourly(self, url: str, extra: Mapping[str, str], what: str) -> pd.DataFrame:
        """One multi-location request: hourly temperature and wind for every configured point."""
        names = list(self.points)
        params = {
            "latitude": ",".join(f"{self.points[n].latitude:g}" for n in names),
            "longitude": ",".join(f"{self.points[n].longitude:g}" for n in names),
            "hourly": ",".join(HOURLY_VARIABLES),
            "wind_speed_unit": "ms",
            "timezone": "UTC",
            **extra,
        }
        try:
            payload = self._http.get_json(url, params=params, what=f"Open-Meteo {what}")
        except HttpError as exc:
            # Asking for dates the archive does not hold yet (or any more) is a 400 whose reason
            # says "out of allowed range": the day is unavailable, not a broken request.
            if exc.status == 400 and "out of allowed range" in str(exc) and "start_date" in extra:
                raise DataUnavailable(what, dt.date.fromisoformat(extra["start_date"]), str(exc)) from None
            raise
        where = f"Open-Meteo {what} (GET {url})"
        locations = payload if isinstance(payload, list) else [payload]
        if len(locations) != len(names):
            raise SourceError(f"{where}: asked for {len(names)} points, got {len(locations)} answers")
        return pd.concat([location_frame(loc, name, where) for loc, name in zip(locations, names)],
                         ignore_index=True)


    def _previous_runs(self, extra: Mapping[str, str]) -> pd.DataFrame:
        """One multi-location Previous Runs request: every hour with its forecasts made 1..7 days before."""
        names = list(self.points)
        variables = [f"{v}_previous_day{n}" for n in PREVIOUS_DAYS for v in HOURLY_VARIABLES]
        params = {
            "latitude": ",".join(f"{self.points[n].latitude:g}" for n in names),
            "longitude": ",".join(f"{self.points[n].longitude:g}" for n in names),
            "hourly": ",".join(variables),
            "wind_speed_unit": "ms",
            "timezone": "UTC",
            **extra,
        }
        url = self.previous_runs_url
        try:
            payload = self._http.get_json(url, params=params, what="Open-Meteo previous runs")
        except HttpError as exc:
            if exc.status == 400 and "out of allowed range" in str(exc):
                raise DataUnavailable("weather_forecast", dt.date.fromisoformat(extra["start_date"]), str(exc)) from None
            raise
        where = f"Open-Meteo weather_forecast (GET {url})"
        locations = payload if isinstance(payload, list) else [payload]
        if len(locations) != len(names):
            raise SourceError(f"{where}: asked for {len(names)} points, got {len(locations)} answers")
        return pd.concat([previous_runs_frame(loc, name, where) for loc, name in zip(locations, names)],
                         ignore_index=True)


# --- parsing ---------------------------------------------------------------------------------------------


def location_frame(payload: Any, location: str, where: str) -> pd.DataFrame:
    """One location's ``hourly`` arrays as (interval_start, location, temperature_c, wind_speed_ms)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("hourly"), dict):
        raise SourceError(f"{where}: the answer for {location} has no 'hourly' object")
    if payload.get("error"):
        raise SourceError(f"{where}: Open-Meteo error for {location}: {payload.get('reason')}")
    hourly = payload["hourly"]
    missing = [key for key in ("time", *HOURLY_VARIABLES) if key not in hourly]
    if missing:
        raise SourceError(f"{where}: 'hourly' for {location} lacks {missing}")
    lengths = {key: len(hourly[key]) for key in ("time", *HOURLY_VARIABLES)}
    if len(set(lengths.values())) != 1:
        raise SourceError(f"{where}: 'hourly' arrays for {location} differ in length {lengths}")
    if payload.get("utc_offset_seconds", 0) != 0:
        raise SourceError(f"{where}: times are not UTC (utc_offset_seconds={payload['utc_offset_seconds']})")
    _check_units(payload.get("hourly_units") or {}, where)
    try:
        starts = pd.to_datetime(pd.Series(hourly["time"], dtype=object), format="%Y-%m-%dT%H:%M", utc=True)
        temperature = pd.to_numeric(pd.Series(hourly["temperature_2m"], dtype=object), errors="raise")
        wind = pd.to_numeric(pd.Series(hourly["wind_speed_10m"], dtype=object), errors="raise")
    except (ValueError, TypeError) as exc:
        raise SourceError(f"{where}: unreadable hourly values for {location}: {exc}") from None
    return pd.DataFrame({
        "interval_start": starts.dt.as_unit(ercot_time.TS_UNIT),
        "location": location,
        "temperature_c": temperature.astype("float64"),
        "wind_speed_ms": wind.astype("float64"),
    })


def _check_units(units: Mapping[str, str], where: str) -> None:
    """Guard against silently wrong units (e.g. a proxy dropping ``wind_speed_unit=ms``)."""
    wind = units.get("wind_speed_10m")
    if wind is not None and wind not in ("m/s", "ms"):
        raise SourceError(f"{where}: wind speed comes in {wind!r}, expected m/s")
    temperature = units.get("temperature_2m")
    if temperature is not None and temperature not in ("°C", "C"):
        raise SourceError(f"{where}: temperature comes in {temperature!r}, expected °C")


def previous_runs_frame(payload: Any, location: str, where: str) -> pd.DataFrame:
    """One location's Previous Runs answer, long: (interval_start, location, previous_day, temperature_c,
    wind_speed_ms) -- every hour once per N = 1..7, null where that run did not reach or was not kept."""
    if not isinstance(payload, dict) or not isinstance(payload.get("hourly"), dict):
        raise SourceError(f"{where}: the answer for {location} has no 'hourly' object")
    hourly = payload["hourly"]
    temperatures = [f"temperature_2m_previous_day{n}" for n in PREVIOUS_DAYS]
    missing = [key for key in ("time", *temperatures) if key not in hourly]
    if missing:
        raise SourceError(f"{where}: 'hourly' for {location} lacks {missing}")
    if payload.get("utc_offset_seconds", 0) != 0:
        raise SourceError(f"{where}: times are not UTC (utc_offset_seconds={payload['utc_offset_seconds']})")
    n_hours = len(hourly["time"])
    winds = [f"wind_speed_10m_previous_day{n}" for n in PREVIOUS_DAYS]
    lengths = {key: len(hourly[key]) for key in (*temperatures, *winds) if key in hourly}
    if any(length != n_hours for length in lengths.values()):
        raise SourceError(f"{where}: 'hourly' arrays for {location} differ in length from 'time' ({n_hours}): {lengths}")
    units = payload.get("hourly_units") or {}
    _check_units({"temperature_2m": units.get(temperatures[0]), "wind_speed_10m": units.get(winds[0])}, where)
    try:
        starts = pd.to_datetime(pd.Series(hourly["time"], dtype=object), format="%Y-%m-%dT%H:%M", utc=True)
        parts = []
        for n, temperature, wind in zip(PREVIOUS_DAYS, temperatures, winds):
            parts.append(pd.DataFrame({
                "interval_start": starts.dt.as_unit(ercot_time.TS_UNIT),
                "previous_day": n,
                "temperature_c": pd.to_numeric(pd.Series(hourly[temperature], dtype=object), errors="raise"),
                "wind_speed_ms": pd.to_numeric(pd.Series(hourly.get(wind, [None] * n_hours), dtype=object),
                                               errors="raise"),
            }))
    except (ValueError, TypeError) as exc:
        raise SourceError(f"{where}: unreadable hourly values for {location}: {exc}") from None
    frame = pd.concat(parts, ignore_index=True).assign(location=location)
    return frame.astype({"temperature_c": "float64", "wind_speed_ms": "float64"})


def previous_day_for(interval_start: pd.Series, published_at: pd.Timestamp) -> pd.Series:
    """The freshest ``_previous_dayN`` public by ``published_at`` for each hour: the smallest N with
    interval_start - N days + :data:`RUN_LATENCY` <= published_at (N >= 1; above 7 none exists)."""
    lead = (interval_start - published_at + RUN_LATENCY) / pd.Timedelta(days=1)
    return np.maximum(np.ceil(lead.to_numpy(dtype=float)), 1).astype(int)


def as_of(runs: pd.DataFrame, published_at: pd.Timestamp) -> pd.DataFrame:
    """Each hour's forecast from the freshest run public by ``published_at`` (hours beyond 7 days dropped)."""
    wanted = previous_day_for(runs["interval_start"], published_at)
    return runs[runs["previous_day"].to_numpy() == wanted].drop(columns="previous_day")


def _vintage(frame: pd.DataFrame, day: dt.date, published_at: pd.Timestamp) -> pd.DataFrame:
    """The vintage of ``day``: its hours from 00:00 CPT of the day, those with a temperature, stamped."""
    frame = frame[frame["interval_start"] >= ercot_time.day_start(day)]
    # Hours beyond the models' reach come back as null: they were never forecast, so they are not
    # part of the vintage (temperature is a required column).
    frame = frame[frame["temperature_c"].notna()]
    if frame.empty:
        raise DataUnavailable("weather_forecast", day, "Open-Meteo returned no forecast hours")
    columns = ["interval_start", "location", "temperature_c", "wind_speed_ms"]
    # Points in the configured order, each by hour (as the live forecast answers them).
    point_order = pd.factorize(frame["location"])[0]
    ordered = frame[columns].iloc[np.lexsort((frame["interval_start"].to_numpy(), point_order))]
    return ordered.assign(published_at=published_at).reset_index(drop=True)


def ercot_day(frame: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """Rows of CPT operating day ``day`` (UTC hours from 00:00 CPT of d to 00:00 CPT of d+1)."""
    start, end = ercot_time.day_bounds(day)
    return frame[(frame["interval_start"] >= start) & (frame["interval_start"] < end)].copy()


def _incomplete_points(frame: pd.DataFrame, day: dt.date, names: Sequence[str]) -> list[str]:
    """Points missing an hour of ``day`` or holding no temperature for one."""
    expected = ercot_time.hours_in_day(day)
    complete = frame.dropna(subset=["temperature_c"]).groupby("location")["interval_start"].nunique()
    return sorted(name for name in names if complete.get(name, 0) != expected)
