"""The simulator's time axis: calendar facts of each simulated instant (not the wall clock).

Responsibility: turn float *hours since the Unix epoch (UTC)* -- the simulator's only time
coordinate -- into what the mechanisms need: season, fractional year, solar hour, CPT hour and
rest days. CPT appears only for the human-behaviour parts of load (the wall clock people live by)
and for the operating-day keys, both via :mod:`pipeline.ercot_time`; physics (sun, diurnal
temperature) follows solar time. Unrelated to :mod:`pipeline.clock`, which reads the real time.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline import ercot_time

US_PER_HOUR = 3_600_000_000
EPOCH_DAY_2000 = 10957  # days from 1970-01-01 to 2000-01-01
YEAR_DAYS = 365.2425
TWO_PI = 2.0 * math.pi
_LONGITUDE = -98.5  # centre of ERCOT's load and wind; solar time = UTC + longitude / 15 h
LATITUDE = 31.0
_EPOCH = dt.date(1970, 1, 1)


def epoch_hours(starts_us: np.ndarray) -> np.ndarray:
    """int64 microseconds since the epoch (UTC) as float hours."""
    return starts_us.astype(np.float64) / US_PER_HOUR


@dataclass(frozen=True)
class TimeAxis:
    """Calendar facts of each instant that the mechanisms need (all arrays of one length)."""

    t: np.ndarray  # hours since the epoch, UTC
    doy: np.ndarray  # seasonal day of year, 0 at 1 Jan, continuous
    year: np.ndarray  # fractional calendar year (for fleet sizes and market rules)
    solar_hour: np.ndarray  # local mean solar time, 0-24
    local_hour: np.ndarray  # CPT wall-clock hour, fractional
    rest_day: np.ndarray  # bool: weekend or holiday (lower commercial/industrial activity)


def make_time_axis(t: np.ndarray) -> TimeAxis:
    """The :class:`TimeAxis` of float UTC hours ``t`` (CPT via the time module's zone, so DST is exact)."""
    days = t / 24.0
    since_2000 = days - EPOCH_DAY_2000
    local = _cpt_wall_hours(t)
    local_day = np.floor(local / 24.0)
    return TimeAxis(
        t=t,
        doy=np.mod(since_2000, YEAR_DAYS),
        year=2000.0 + since_2000 / YEAR_DAYS,
        solar_hour=np.mod(t + _LONGITUDE / 15.0, 24.0),
        local_hour=local - 24.0 * local_day,
        rest_day=_rest_days(local_day.astype(np.int64)),
    )


def _cpt_wall_hours(t: np.ndarray) -> np.ndarray:
    """CPT wall-clock time of UTC hours ``t``, as float hours since the epoch *of the wall clock*."""
    whole = np.floor(t)
    unique, inverse = np.unique(whole, return_inverse=True)
    instants = pd.DatetimeIndex((unique * US_PER_HOUR).astype(np.int64).astype("datetime64[us]"), tz="UTC")
    wall = instants.tz_convert(ercot_time.CPT).tz_localize(None).as_unit("us")
    offset_h = (wall.asi8 - instants.tz_localize(None).as_unit("us").asi8) / US_PER_HOUR
    return t + offset_h[inverse.reshape(t.shape)]


def _rest_days(epoch_days: np.ndarray) -> np.ndarray:
    """Whether each local day (days since the epoch) is a weekend or a holiday.

    Texas offices and plants run less on these days, so load follows the rest-day profile. The
    holidays are ERCOT's own (:func:`pipeline.ercot_time.is_holiday`), so simulated load dips on the
    days the real load forecasts treat as holidays.
    """
    weekday = (epoch_days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    unique, inverse = np.unique(epoch_days, return_inverse=True)
    holiday = np.array([ercot_time.is_holiday(_EPOCH + dt.timedelta(days=int(day))) for day in unique], dtype=bool)
    return (weekday >= 5) | holiday[inverse.reshape(epoch_days.shape)]


def seasonal_bump(doy: np.ndarray, centre: float, width: float) -> np.ndarray:
    """Gaussian bump in day of year around ``centre`` (wrapping around New Year)."""
    distance = np.mod(doy - centre + YEAR_DAYS / 2, YEAR_DAYS) - YEAR_DAYS / 2
    return np.exp(-0.5 * (distance / width) ** 2)


def summerness(doy: np.ndarray) -> np.ndarray:
    """+1 in late July, -1 in mid January (Texas' temperature seasonality)."""
    return -np.cos(TWO_PI * (doy - 17.0) / YEAR_DAYS)


def hour_bump(hour: np.ndarray, centre: float, width: float) -> np.ndarray:
    """Gaussian bump in hour of day around ``centre`` (wrapping around midnight)."""
    distance = np.mod(hour - centre + 12.0, 24.0) - 12.0
    return np.exp(-0.5 * (distance / width) ** 2)
