"""Open-Meteo weather (no key): reanalysis history and forecast vintages for configured points.

Datasets (location column = the point's name from ``sources.open_meteo.points``):

* ``weather`` -- hourly actual weather for CPT operating day d from the archive API (ERA5-based
  reanalysis). It lags about five days, so ``published_at`` follows the publication table's
  Open-Meteo override (each hour public five days after it ends), and a day whose hours are still
  missing from the archive is :class:`DataUnavailable`.
* ``weather_forecast`` -- the vintage issued on d: every forecast hour from 00:00 CPT of d for
  ``forecast_days`` UTC days. For the current CPT day (per the injected clock) it comes from the
  live forecast API and ``published_at`` is the fetch time: exactly what was known then. For past
  vintages it comes from the historical-forecast API and is stamped with the publication table's
  time for the vintage (05:00 CPT on d).

Leakage trade-off of past vintages (read before trusting a backtest's weather features):
the historical-forecast API stitches together the *first hours of successive model runs*. The value
it gives for an hour of d+3 was forecast only a few hours ahead of that hour, not 3 days ahead as a
forecast issued at 06:00 on d would have been. It is therefore more accurate than anything known at
issue time, and a model trained or backtested on it over-trusts weather forecasts. It is still far
better than the alternative of using reanalysis (observations, i.e. the future itself) as "forecasts".
What is as-of correct: vintages captured live by the daily fetch (the forecast API, stamped at fetch
time) -- the pipeline accumulates these from the day it starts running -- and Open-Meteo's
"previous runs" variables (``temperature_2m_previous_dayN``, most models from 2024), which give each
hour as forecast N days earlier; a lead-matched previous-runs backfill is the upgrade path if
backtests must be strictly leakage-free before live vintages have accumulated.

Requests: one per dataset and day for all points at once, using Open-Meteo's multi-location form
(comma-separated ``latitude``/``longitude``; the answer is a list in the same order, or a single
object for one point), with ``timezone=UTC`` so ``hourly.time`` is UTC, and ``wind_speed_unit=ms``.
An HTTP 400 ``{"error": true, "reason": ...}`` becomes a :class:`SourceError` carrying the reason.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
import requests

from pipeline import ercot_time, publication
from pipeline.config import GeoPoint, OpenMeteoConfig
from pipeline.sources.base import DataUnavailable, Source, SourceError
from pipeline.sources.http import HttpClient, HttpError

HOURLY_VARIABLES = ("temperature_2m", "wind_speed_10m")
DATASETS = ("weather", "weather_forecast")

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

    def __init__(
        self,
        config: OpenMeteoConfig,
        *,
        forecast_days: int = 5,
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
        self._now = now
        self._http = HttpClient(config, name=self.name, session=session, sleep=sleep, rng=rng)

    @property
    def datasets(self) -> tuple[str, ...]:
        return DATASETS

    def fetch(self, dataset: str, day: dt.date) -> pd.DataFrame:
        if dataset == "weather":
            return self._weather(day)
        if dataset == "weather_forecast":
            return self._weather_forecast(day)
        raise ValueError(f"{self.name} does not provide {dataset!r}; it provides {', '.join(DATASETS)}")

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

    def _weather_forecast(self, day: dt.date) -> pd.DataFrame:
        """Vintage ``day``: the live forecast on that CPT day, the historical-forecast archive after it."""
        now = self._now()
        today = ercot_time.operating_day_of(pd.DatetimeIndex([now]))[0]
        if day > today:
            raise DataUnavailable("weather_forecast", day, f"vintage is in the future (today is {today} CPT)")
        if day == today:
            params = {"forecast_days": str(self.forecast_days)}
            frame = self._hourly(self.config.forecast_url, params, "weather_forecast")
            published_at = now.floor("s").as_unit(ercot_time.TS_UNIT)
        else:
            last = day + dt.timedelta(days=self.forecast_days - 1)
            params = {"start_date": day.isoformat(), "end_date": last.isoformat()}
            frame = self._hourly(self.config.historical_forecast_url, params, "weather_forecast")
            published_at = publication.rule_for("weather_forecast", self.name).available_at(day)
        frame = frame[frame["interval_start"] >= ercot_time.day_start(day)]
        # Hours beyond the models' reach come back as null: they were never forecast, so they are
        # not part of the vintage (temperature is a required column).
        frame = frame[frame["temperature_c"].notna()]
        if frame.empty:
            raise DataUnavailable("weather_forecast", day, "Open-Meteo returned no forecast hours")
        frame = frame.assign(published_at=published_at)
        return frame.reset_index(drop=True)

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


def ercot_day(frame: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """Rows of CPT operating day ``day`` (UTC hours from 00:00 CPT of d to 00:00 CPT of d+1)."""
    start, end = ercot_time.day_bounds(day)
    return frame[(frame["interval_start"] >= start) & (frame["interval_start"] < end)].copy()


def _incomplete_points(frame: pd.DataFrame, day: dt.date, names: Sequence[str]) -> list[str]:
    """Points missing an hour of ``day`` or holding no temperature for one."""
    expected = ercot_time.hours_in_day(day)
    complete = frame.dropna(subset=["temperature_c"]).groupby("location")["interval_start"].nunique()
    return sorted(name for name in names if complete.get(name, 0) != expected)
