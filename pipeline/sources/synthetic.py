"""The embedded ERCOT-like market simulator: every canonical dataset from a seed, offline.

Responsibility: give ``make demo``, the tests and the docs a market that behaves like ERCOT *for the
reasons ERCOT does*, so a model trained on it learns real structure, while every value stays a pure
function of (seed, dataset, key day). Its output is simulated and labelled so (``simulated = True``).

The mechanism, one small pure function per step:

* **weather** -- temperature per ERCOT weather zone = climatology (season) + diurnal cycle + persistent
  anomalies (smooth multi-day noise) + occasional summer heat waves and winter cold snaps; hub-height
  wind per zone (spring high, summer afternoon low, night low-level jet, fronts, heat-dome calm);
  cloudiness.
* **load** per zone from temperature (cooling above ~65 F, steep heating in the cold), the hour /
  weekday / holiday activity profile, and year-over-year growth.
* **supply** -- wind (power curve x installed fleet of the era, icing in cold snaps), solar (clear sky
  by day of year and hour x cloudiness x a fast-growing fleet), thermal available capacity (fleet -
  seasonal maintenance - forced outages, more of them in extreme cold or heat), batteries.
* **price** -- reserve = available - net load (+ flexible large loads that curtail as it tightens).
  The system energy price follows a rising supply curve (gas price x heat rate rising with
  utilisation, offers climbing over the last GW of headroom, negative when wind floods a light
  system) plus an ORDC-like scarcity adder (VOLL - energy price) x LOLP(reserve), capped at HCAP
  ($9,000 through 2021, $5,000 after). Settlement points
  add basis/congestion (West and Panhandle low with high wind, Houston high under coastal heat);
  five-minute prices add AR noise, unit trips and ramp stress at the evening solar ramp.
* **forecasts** (load, wind/solar, weather vintages) are the same chain driven by forecast weather:
  actual + errors that grow with lead time and are *revealed day by day*, so consecutive vintages
  agree and converge on the actual. **DAM prices** are the expected price under the conditions
  forecast on the day before (plus a risk premium), never the actuals.

Determinism: no state is carried between calls and nothing is seeded by call order. Every random
number is a counter-based hash of (seed, stream name, integer indices such as a knot number, a day
ordinal or a five-minute interval number); the per-stream key comes from ``numpy.random.SeedSequence``
with integer entropy (the seed and a blake2b id of the stream name -- never Python's randomised
``hash``). Multi-day events (heat waves, cold snaps, forced outages) are drawn per *start day* and
found by scanning the start days that could reach a given time, so any day can be generated alone,
in any order, in any process, with identical results.

Everything runs on float *hours since the Unix epoch (UTC)*; CPT appears only for the human-behaviour
parts of load (the wall clock people live by) and for the operating-day keys, both via
:mod:`pipeline.ercot_time`. Physics (sun, diurnal temperature) follows solar time.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np
import pandas as pd

from pipeline import ercot_time
from pipeline.publication import rule_for
from pipeline.sources.base import Source
from targets.schemas import DATASETS

# --- public names ---------------------------------------------------------------------------------

#: ERCOT's hub and load-zone settlement points, all simulated.
NODES: tuple[str, ...] = (
    "HB_NORTH", "HB_HOUSTON", "HB_SOUTH", "HB_WEST", "HB_PAN", "HB_BUSAVG", "HB_HUBAVG",
    "LZ_AEN", "LZ_CPS", "LZ_HOUSTON", "LZ_LCRA", "LZ_NORTH", "LZ_RAYBN", "LZ_SOUTH", "LZ_WEST",
)  # fmt: skip
#: The four main trading hubs (HB_HUBAVG is their mean).
MAIN_HUBS: tuple[str, ...] = ("HB_NORTH", "HB_HOUSTON", "HB_SOUTH", "HB_WEST")
#: ERCOT's weather zones: the ``zone`` of load frames and the ``location`` of weather frames.
WEATHER_ZONES: tuple[str, ...] = ("COAST", "EAST", "FAR_WEST", "NORTH", "NORTH_C", "SOUTHERN", "SOUTH_C", "WEST")
#: Zone name of the system total in load frames.
SYSTEM_ZONE = "ERCOT"
#: The ``fuel`` values of renewables frames (system-wide MW).
FUELS: tuple[str, ...] = ("wind", "solar")
#: Days after the vintage day a forecast covers: the vintage of day d spans d .. d+7 (CPT).
FORECAST_DAYS_AHEAD = 7

# --- deterministic noise ----------------------------------------------------------------------------
# splitmix64 finaliser: a bijective, well-mixing map of 64-bit words, vectorised over numpy arrays
# (uint64 arithmetic wraps modulo 2**64 by design).
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TWO_PI = 2.0 * math.pi


def _mix64(x: np.ndarray) -> np.ndarray:
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


@functools.lru_cache(maxsize=8192)
def stream_key(seed: int, stream: str) -> int:
    """The 64-bit key of one named random stream: stable across processes, platforms and runs."""
    stream_id = int.from_bytes(hashlib.blake2b(stream.encode(), digest_size=8).digest(), "little")
    state = np.random.SeedSequence([seed, stream_id]).generate_state(1, dtype=np.uint64)
    return int(state[0])


def _hash(key: int, *indices: np.ndarray | float | int) -> np.ndarray:
    """64-bit hash of (key, indices...) elementwise; indices broadcast against each other."""
    arrays = np.broadcast_arrays(*[np.atleast_1d(np.asarray(i)) for i in indices])
    h = np.full(arrays[0].shape, key, dtype=np.uint64)
    for index in arrays:
        h = _mix64(h + index.astype(np.int64).astype(np.uint64) * _GOLDEN)
    return h


def _uniform(key: int, *indices: np.ndarray | float | int) -> np.ndarray:
    """Uniform (0, 1) per index tuple."""
    return ((_hash(key, *indices) >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def _normal(key: int, *indices: np.ndarray | float | int) -> np.ndarray:
    """Standard normal per index tuple (Box-Muller on the two 32-bit halves of one hash)."""
    h = _hash(key, *indices)
    u1 = ((h >> np.uint64(32)).astype(np.float64) + 0.5) * 2.0**-32
    u2 = ((h & np.uint64(0xFFFFFFFF)).astype(np.float64) + 0.5) * 2.0**-32
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(_TWO_PI * u2)


def smooth_noise(key: int, t: np.ndarray, spacing_h: float, *extra: np.ndarray | int) -> np.ndarray:
    """A smooth N(0, 1) process of time: normals at knots every ``spacing_h`` hours, eased between.

    Value noise: a pure function of t (and of ``extra`` indices such as a forecast day), so any
    stretch of time can be generated alone. The variance dip between knots is normalised away.
    """
    x = t / spacing_h
    knot = np.floor(x)
    f = x - knot
    s = f * f * (3.0 - 2.0 * f)
    a = _normal(key, knot, *extra)
    b = _normal(key, knot + 1.0, *extra)
    return ((1.0 - s) * a + s * b) / np.sqrt((1.0 - s) ** 2 + s**2)


def _filtered(steps: np.ndarray, kernel: np.ndarray, innovations: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """sum_k kernel[k] * innovations(step - k) at each integer step, without carried state.

    A moving-average (truncated AR) filter computed on contiguous runs of the requested steps, so
    a five-minute interval's value depends only on its own index -- never on which other days were
    generated in the same call. Taps are applied as elementwise array operations in a fixed order,
    which keeps results bit-identical whatever the run length (a BLAS dot product would not).
    """
    unique, inverse = np.unique(steps, return_inverse=True)
    out = np.empty(len(unique))
    taps = len(kernel)
    breaks = np.flatnonzero(np.diff(unique) != 1) + 1
    for run in np.split(np.arange(len(unique)), breaks):
        first, last = int(unique[run[0]]), int(unique[run[-1]])
        eps = innovations(np.arange(first - taps + 1, last + 1, dtype=np.int64))
        acc = np.zeros(len(run))
        for k in range(taps):
            acc += kernel[k] * eps[taps - 1 - k : taps - 1 - k + len(run)]
        out[run] = acc
    return out[inverse.reshape(steps.shape)]


def _ar1_kernel(phi: float, taps: int) -> np.ndarray:
    """MA weights of a unit-variance AR(1) with coefficient ``phi``, truncated to ``taps`` terms."""
    return math.sqrt(1.0 - phi * phi) * phi ** np.arange(taps)


def ar_noise(key: int, steps: np.ndarray, phi: float, taps: int = 40) -> np.ndarray:
    """Unit-variance AR(1)-like noise indexed by integer step (e.g. five-minute interval number)."""
    return _filtered(steps, _ar1_kernel(phi, taps), lambda idx: _normal(key, idx))


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    """Phi(x) via Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7): numpy only, vectorised."""
    z = np.abs(x) / math.sqrt(2.0)
    k = 1.0 / (1.0 + 0.3275911 * z)
    poly = k * (0.254829592 + k * (-0.284496736 + k * (1.421413741 + k * (-1.453152027 + k * 1.061405429))))
    erf = 1.0 - poly * np.exp(-z * z)
    return 0.5 * (1.0 + np.sign(x) * erf)


# --- time -------------------------------------------------------------------------------------------

_US_PER_HOUR = 3_600_000_000
_EPOCH_DAY_2000 = 10957  # days from 1970-01-01 to 2000-01-01
_YEAR_DAYS = 365.2425
_LONGITUDE = -98.5  # centre of ERCOT's load and wind; solar time = UTC + longitude / 15 h
_LATITUDE = 31.0


def _hours(starts_us: np.ndarray) -> np.ndarray:
    """int64 microseconds since the epoch (UTC) as float hours."""
    return starts_us.astype(np.float64) / _US_PER_HOUR


@dataclass(frozen=True)
class Clock:
    """Calendar facts of each instant that the mechanisms need (all arrays of one length)."""

    t: np.ndarray  # hours since the epoch, UTC
    doy: np.ndarray  # seasonal day of year, 0 at 1 Jan, continuous
    year: np.ndarray  # fractional calendar year (for fleet sizes and market rules)
    solar_hour: np.ndarray  # local mean solar time, 0-24
    local_hour: np.ndarray  # CPT wall-clock hour, fractional
    rest_day: np.ndarray  # bool: weekend or holiday (lower commercial/industrial activity)


def make_clock(t: np.ndarray) -> Clock:
    """The :class:`Clock` of float UTC hours ``t`` (CPT via the time module's zone, so DST is exact)."""
    days = t / 24.0
    since_2000 = days - _EPOCH_DAY_2000
    local = _cpt_wall_hours(t)
    local_day = np.floor(local / 24.0)
    weekday = (local_day.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    return Clock(
        t=t,
        doy=np.mod(since_2000, _YEAR_DAYS),
        year=2000.0 + since_2000 / _YEAR_DAYS,
        solar_hour=np.mod(t + _LONGITUDE / 15.0, 24.0),
        local_hour=local - 24.0 * local_day,
        rest_day=(weekday >= 5) | _is_holiday(local_day.astype(np.int64)),
    )


def _cpt_wall_hours(t: np.ndarray) -> np.ndarray:
    """CPT wall-clock time of UTC hours ``t``, as float hours since the epoch *of the wall clock*."""
    whole = np.floor(t)
    unique, inverse = np.unique(whole, return_inverse=True)
    instants = pd.DatetimeIndex((unique * _US_PER_HOUR).astype(np.int64).astype("datetime64[us]"), tz="UTC")
    wall = instants.tz_convert(ercot_time.CPT).tz_localize(None).as_unit("us")
    offset_h = (wall.asi8 - instants.tz_localize(None).as_unit("us").asi8) / _US_PER_HOUR
    return t + offset_h[inverse.reshape(t.shape)]


def _is_holiday(epoch_days: np.ndarray) -> np.ndarray:
    """Whether each local day (days since the epoch) is a holiday that lowers Texas load."""
    years = np.unique(1970 + (epoch_days // 365.2425).astype(np.int64))
    holidays = np.array(sorted({d for y in range(years.min() - 1, years.max() + 2) for d in _holidays(y)}))
    return np.isin(epoch_days, holidays)


@functools.lru_cache(maxsize=256)
def _holidays(year: int) -> frozenset[int]:
    """New Year, Memorial Day, July 4, Labor Day, Thanksgiving + Friday, Christmas Eve and Day."""

    def nth_weekday(month: int, weekday: int, n: int) -> dt.date:
        first = dt.date(year, month, 1)
        day = first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
        return day

    last_monday_may = dt.date(year, 5, 31) - dt.timedelta(days=dt.date(year, 5, 31).weekday())
    thanksgiving = nth_weekday(11, 3, 4)
    dates = [
        dt.date(year, 1, 1), last_monday_may, dt.date(year, 7, 4), nth_weekday(9, 0, 1),
        thanksgiving, thanksgiving + dt.timedelta(days=1), dt.date(year, 12, 24), dt.date(year, 12, 25),
    ]  # fmt: skip
    epoch = dt.date(1970, 1, 1)
    return frozenset((d - epoch).days for d in dates)


def _seasonal_bump(doy: np.ndarray, centre: float, width: float) -> np.ndarray:
    """Gaussian bump in day of year around ``centre`` (wrapping around New Year)."""
    distance = np.mod(doy - centre + _YEAR_DAYS / 2, _YEAR_DAYS) - _YEAR_DAYS / 2
    return np.exp(-0.5 * (distance / width) ** 2)


def _summerness(doy: np.ndarray) -> np.ndarray:
    """+1 in late July, -1 in mid January (Texas' temperature seasonality)."""
    return -np.cos(_TWO_PI * (doy - 17.0) / _YEAR_DAYS)


# --- the fleet and market rules by era ------------------------------------------------------------
# ERCOT changed fast: wind roughly doubled 2018-2025, solar grew more than twentyfold, batteries
# arrived from 2022, load grows ~3%/year. Values are mid-year; outside 2018-2026 the ends are held.
_ERA_YEARS = np.array([2018.5, 2019.5, 2020.5, 2021.5, 2022.5, 2023.5, 2024.5, 2025.5, 2026.5])
_ERA: dict[str, np.ndarray] = {
    "load_scale": np.array([0.875, 0.895, 0.895, 0.925, 0.965, 1.000, 1.035, 1.070, 1.100]),
    "wind_mw": np.array([22_000, 24_500, 28_500, 33_000, 36_000, 38_000, 39_500, 41_000, 42_000.0]),
    "solar_mw": np.array([1_500, 2_300, 4_000, 8_000, 13_000, 18_500, 26_000, 32_000, 37_000.0]),
    "storage_mw": np.array([100, 150, 250, 800, 2_500, 4_500, 8_500, 12_500, 15_000.0]),
    "thermal_mw": np.array([73_500, 75_200, 74_500, 75_000, 75_000, 75_700, 75_500, 76_000, 77_000.0]),
    "gas_usd_mmbtu": np.array([3.0, 2.5, 2.0, 3.9, 6.4, 2.5, 2.2, 3.4, 3.5]),
    # Price-responsive large loads (crypto mining, industrial demand response, ERS) that curtail
    # as reserves tighten.
    "flexible_load_mw": np.array([300, 500, 700, 1_500, 2_500, 3_000, 3_500, 4_000, 4_200.0]),
}
# HCAP / VOLL fell from $9,000 to $5,000 and the ORDC minimum contingency level rose from 2,000 to
# 3,000 MW on 1 January 2022 (PUCT's post-Uri changes). Since RTC+B (2025-12-05) scarcity is priced
# through ancillary-service demand curves instead of the ORDC adder; the effect on energy prices in
# shortage is similar, so the simulator keeps one scarcity curve.
_RULE_CHANGE_HOUR = float(ercot_time.day_start(dt.date(2022, 1, 1)).value // 1000) / _US_PER_HOUR
_PRICE_FLOOR = -250.0  # ERCOT's offer floor


def era(name: str, year: np.ndarray) -> np.ndarray:
    """Fleet or market quantity ``name`` at fractional calendar years ``year`` (interpolated)."""
    return np.interp(year, _ERA_YEARS, _ERA[name])


@dataclass(frozen=True)
class MarketRules:
    """Price cap (HCAP, also the ORDC's VOLL) and ORDC minimum contingency level at each time."""

    hcap: np.ndarray
    min_contingency_mw: np.ndarray


def market_rules(t: np.ndarray) -> MarketRules:
    after = t >= _RULE_CHANGE_HOUR
    return MarketRules(hcap=np.where(after, 5_000.0, 9_000.0), min_contingency_mw=np.where(after, 3_000.0, 2_000.0))


# --- weather zones ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZoneSpec:
    """Climate, wind and load characteristics of one ERCOT weather zone (2023 scale)."""

    name: str
    mean_c: float  # annual mean temperature
    seasonal_c: float  # half the January-July difference
    diurnal_c: float  # half the typical day-night range
    cold_exposure: float  # share of a cold snap's anomaly felt here (north and west feel more)
    heat_exposure: float
    hub_wind_ms: float  # mean hub-height wind speed
    wind_share: float  # share of the installed wind fleet
    wind_diurnal: float  # >0: night low-level jet (inland); <0: afternoon sea breeze (coast)
    base_load_mw: float  # mild-weather average load
    flat_share: float  # industrial share that ignores the daily activity cycle
    cooling: float  # fractional load rise per degC above the cooling balance point
    heating: float  # fractional load rise per degC**1.2 below the heating balance point
    growth: float  # extra yearly load growth beyond the system's (Permian oil & gas, data centres)


ZONES: tuple[ZoneSpec, ...] = (
    ZoneSpec("COAST", 21.2, 8.3, 4.5, 0.65, 0.9, 5.8, 0.06, -0.10, 11_300, 0.55, 0.046, 0.013, 0.0),
    ZoneSpec("EAST", 18.9, 9.8, 5.5, 0.90, 1.0, 5.3, 0.00, 0.15, 1_200, 0.35, 0.058, 0.019, 0.0),
    ZoneSpec("FAR_WEST", 18.0, 10.3, 8.0, 0.90, 1.0, 7.1, 0.14, 0.20, 6_200, 0.80, 0.012, 0.008, 0.05),
    ZoneSpec("NORTH", 17.8, 11.5, 7.0, 1.10, 1.0, 7.1, 0.20, 0.22, 740, 0.35, 0.058, 0.020, 0.0),
    ZoneSpec("NORTH_C", 19.6, 10.8, 5.5, 1.00, 1.0, 5.8, 0.02, 0.15, 11_200, 0.32, 0.068, 0.019, 0.01),
    ZoneSpec("SOUTHERN", 22.6, 7.4, 4.5, 0.55, 0.8, 6.6, 0.17, -0.08, 3_200, 0.45, 0.050, 0.012, 0.0),
    ZoneSpec("SOUTH_C", 20.8, 9.4, 6.0, 0.80, 1.0, 5.5, 0.03, 0.15, 6_200, 0.35, 0.065, 0.018, 0.01),
    ZoneSpec("WEST", 18.3, 10.8, 6.5, 1.00, 1.0, 7.4, 0.38, 0.22, 1_150, 0.50, 0.045, 0.017, 0.0),
)
assert tuple(z.name for z in ZONES) == WEATHER_ZONES
_BASE_LOAD_MW = sum(z.base_load_mw for z in ZONES)
_LOAD_WEIGHTS = np.array([z.base_load_mw for z in ZONES]) / _BASE_LOAD_MW
_WIND_SHARES = np.array([z.wind_share for z in ZONES])
_ZONE = {z.name: i for i, z in enumerate(ZONES)}
_WEST_WIND = np.array([z.name in ("WEST", "FAR_WEST", "NORTH") for z in ZONES])
_COASTAL_WIND = np.array([z.name in ("SOUTHERN", "COAST") for z in ZONES])
_HUB_TO_10M = 1.35  # hub-height (~90 m) wind is ~35 % faster than the 10 m wind weather stations report


def _col(values: Iterable[float]) -> np.ndarray:
    """Zone parameters as a (zones, 1) column that broadcasts against (n,) time arrays."""
    return np.array(list(values), dtype=np.float64)[:, None]


def zone_sum(rows: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """sum_z weights[z] * rows[z] over the zone axis, added zone by zone in a fixed order.

    Not ``weights @ rows``: a BLAS product may block the sum differently with the array's length
    or alignment, and the last bit of a value must never depend on how many days were generated.
    """
    total = np.zeros(rows.shape[1:])
    for z in range(rows.shape[0]):
        total = total + (rows[z] if weights is None else weights[z] * rows[z])
    return total


# --- multi-day events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EpisodeSpec:
    """A kind of multi-day event: drawn per candidate start day, so any day can be generated alone."""

    stream: str
    start_probability: Callable[[np.ndarray], np.ndarray]  # by day of year of the start day
    min_hours: float
    max_hours: float
    onset_fraction: float  # share of the duration spent ramping in (the rest ramps out)


HEAT_WAVES = EpisodeSpec("event.heat_wave", lambda doy: 0.045 * _seasonal_bump(doy, 205.0, 30.0), 96.0, 288.0, 0.35)
# Arctic outbreaks: a front brings the cold within hours, the recovery takes days.
COLD_SNAPS = EpisodeSpec("event.cold_snap", lambda doy: 0.022 * _seasonal_bump(doy, 25.0, 24.0), 48.0, 150.0, 0.12)
# Forced outages of large units (or several at once) lasting from half a day to several days.
UNIT_OUTAGES = EpisodeSpec("event.unit_outage", lambda doy: np.full(np.shape(doy), 0.30), 12.0, 120.0, 0.02)


@dataclass(frozen=True)
class Episodes:
    start: np.ndarray  # hour since the epoch
    duration: np.ndarray  # hours
    size: np.ndarray  # uniform(0, 1) severity draw


def episodes(seed: int, spec: EpisodeSpec, t: np.ndarray) -> Episodes:
    """Every episode of ``spec`` that may touch any of the times ``t``.

    Scans each candidate start day from ``max_hours`` before the earliest time up to the latest:
    each day's draws depend only on (seed, stream, day), so the episode set seen by one day is the
    same however many other days are generated with it.
    """
    key = stream_key(seed, spec.stream)
    day = np.floor((t - 6.0) / 24.0)  # days starting 00:00 CST
    lookback = math.ceil(spec.max_hours / 24.0) + 1
    candidates = np.arange(day.min() - lookback, day.max() + 1, dtype=np.int64)
    doy = np.mod(candidates - _EPOCH_DAY_2000, _YEAR_DAYS)
    chosen = candidates[_uniform(key, candidates, 0) < spec.start_probability(doy)]
    start = chosen * 24.0 + 6.0 + 24.0 * _uniform(key, chosen, 1)
    duration = spec.min_hours + (spec.max_hours - spec.min_hours) * _uniform(key, chosen, 2)
    return Episodes(start=start, duration=duration, size=_uniform(key, chosen, 3))


def episode_profile(
    t: np.ndarray, found: Episodes, magnitude: np.ndarray, onset_fraction: float, overlap: str = "sum"
) -> np.ndarray:
    """Magnitude x shape of each episode (eased ramp in over ``onset_fraction``, eased ramp out).

    Overlapping episodes add (``"sum"``: two units out are twice the MW) or the stronger one wins
    (``"max"``: two cold fronts in a row are one cold spell, not twice the cold).
    """
    order = np.argsort(t, kind="stable")
    sorted_t = t[order]
    total = np.zeros(len(t))
    for start, duration, size in zip(found.start, found.duration, magnitude):
        lo, hi = np.searchsorted(sorted_t, [start, start + duration])
        if lo == hi:
            continue
        x = (sorted_t[lo:hi] - start) / duration
        rising = np.clip(x / onset_fraction, 0.0, 1.0)
        falling = np.clip((1.0 - x) / (1.0 - onset_fraction), 0.0, 1.0)
        shape = np.where(x < onset_fraction, rising * rising * (3 - 2 * rising), np.sqrt(falling))
        rows = order[lo:hi]
        total[rows] = total[rows] + size * shape if overlap == "sum" else np.maximum(total[rows], size * shape)
    return total


@dataclass(frozen=True)
class Events:
    """System-wide event intensities at each time, each in [0, 1]."""

    heat: np.ndarray
    cold: np.ndarray
    front: np.ndarray  # the first hours of a cold snap: gusty north winds
    outage_mw: np.ndarray  # forced outages of large units in progress
    outage_started: Episodes  # the outage episodes (for what the day-ahead market already knows)


def make_events(seed: int, t: np.ndarray) -> Events:
    heat = episodes(seed, HEAT_WAVES, t)
    cold = episodes(seed, COLD_SNAPS, t)
    outages = episodes(seed, UNIT_OUTAGES, t)
    # Severity skewed so that most snaps are ordinary and a few are Uri-like.
    cold_severity = 0.3 + 0.7 * cold.size**3
    front = Episodes(cold.start, np.minimum(cold.duration * 0.25, 24.0), cold.size)
    return Events(
        heat=episode_profile(t, heat, 0.4 + 0.6 * heat.size, HEAT_WAVES.onset_fraction, "max"),
        cold=episode_profile(t, cold, cold_severity, COLD_SNAPS.onset_fraction, "max"),
        front=episode_profile(t, front, np.ones(len(front.start)), 0.2, "max"),
        outage_mw=episode_profile(t, outages, _outage_size_mw(outages.size), UNIT_OUTAGES.onset_fraction),
        outage_started=outages,
    )


def _outage_size_mw(size: np.ndarray) -> np.ndarray:
    """One large unit (~500-900 MW) usually; now and then a plant or several units (up to ~2.5 GW)."""
    return 450.0 + 2_000.0 * size**3


# --- weather ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Weather:
    temperature: np.ndarray  # (zones, n) degC
    anomaly: np.ndarray  # (zones, n) the part of temperature forecasters must predict
    hub_wind: np.ndarray  # (zones, n) m/s at hub height
    cloud_logit: np.ndarray  # (n,) latent clear-sky index; clear fraction = sigmoid

    @property
    def clear(self) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.cloud_logit))

    @property
    def system_temperature(self) -> np.ndarray:
        """Load-weighted ERCOT temperature."""
        return zone_sum(self.temperature, _LOAD_WEIGHTS)

    def take(self, index: np.ndarray) -> Weather:
        """The weather at the times picked by ``index``."""
        return Weather(
            self.temperature[:, index], self.anomaly[:, index], self.hub_wind[:, index], self.cloud_logit[index]
        )


def actual_weather(seed: int, clock: Clock, events: Events) -> Weather:
    cloud_logit = _cloud_logit(seed, clock, events)
    clear = 1.0 / (1.0 + np.exp(-cloud_logit))
    anomaly = _temperature_anomaly(seed, clock, events)
    temperature = _temperature_climatology(clock, clear) + anomaly
    return Weather(temperature, anomaly, _hub_wind(seed, clock, events), cloud_logit)


def _temperature_climatology(clock: Clock, clear: np.ndarray) -> np.ndarray:
    """Seasonal normal + diurnal cycle (min near sunrise, max mid-afternoon, damped under clouds)."""
    seasonal = _col(z.mean_c for z in ZONES) + _col(z.seasonal_c for z in ZONES) * _summerness(clock.doy)
    return seasonal + _col(z.diurnal_c for z in ZONES) * (0.55 + 0.45 * clear) * _diurnal_shape(clock.solar_hour)


def _diurnal_shape(solar_hour: np.ndarray) -> np.ndarray:
    """-1 at 06:00 solar time, +1 at 15:00: nine hours of warming, fifteen of cooling."""
    warming = (solar_hour >= 6.0) & (solar_hour < 15.0)
    rising = -np.cos(math.pi * (solar_hour - 6.0) / 9.0)
    falling = np.cos(math.pi * np.mod(solar_hour - 15.0, 24.0) / 15.0)
    return np.where(warming, rising, falling)


def _diurnal_delta(solar_hour: np.ndarray, lag_h: float) -> np.ndarray:
    """How much the diurnal shape rose over the last ``lag_h`` hours (for building thermal lag)."""
    return _diurnal_shape(solar_hour) - _diurnal_shape(np.mod(solar_hour - lag_h, 24.0))


def _temperature_anomaly(seed: int, clock: Clock, events: Events) -> np.ndarray:
    """Persistent departures from normal: fronts and air masses (days), spells (weeks), events.

    Texas winters swing far more than its summers, so synoptic amplitude follows the season.
    """
    t = clock.t
    amplitude = 3.0 - 1.6 * _summerness(clock.doy)
    common = 0.8 * smooth_noise(stream_key(seed, "temp.synoptic"), t, 60.0)
    slow = (1.2 - 0.4 * _summerness(clock.doy)) * smooth_noise(stream_key(seed, "temp.spell"), t, 240.0)
    rows = []
    for zone in ZONES:
        local = 0.6 * smooth_noise(stream_key(seed, f"temp.synoptic.{zone.name}"), t, 40.0)
        fast = 0.5 * smooth_noise(stream_key(seed, f"temp.fast.{zone.name}"), t, 5.0)
        heat = zone.heat_exposure * 2.8 * events.heat
        cold = -zone.cold_exposure * 16.0 * events.cold
        # An arctic air mass *is* the weather pattern: it displaces the ordinary synoptic swings.
        ordinary = (1.0 - 0.8 * np.minimum(events.cold / 0.3, 1.0)) * (amplitude * (common + local) + slow)
        rows.append(ordinary + fast + heat + cold)
    return np.vstack(rows)


def _hub_wind(seed: int, clock: Clock, events: Events) -> np.ndarray:
    """Hub-height wind per zone: seasonal (spring high, late summer low), diurnal, synoptic, fronts.

    Inland West Texas blows hardest at night (the low-level jet) and calms on summer afternoons;
    the coast peaks in the afternoon sea breeze. Heat domes are calm; arctic fronts are gusty.
    """
    t = clock.t
    seasonal = 1.0 + 0.13 * np.cos(_TWO_PI * (clock.doy - 85.0) / _YEAR_DAYS)
    summer = np.clip(_summerness(clock.doy), 0.0, 1.0)
    night = np.cos(_TWO_PI * (clock.solar_hour - 1.0) / 24.0)
    common = smooth_noise(stream_key(seed, "wind.synoptic"), t, 30.0)
    rows = []
    for zone in ZONES:
        local = smooth_noise(stream_key(seed, f"wind.local.{zone.name}"), t, 18.0)
        diurnal = 1.0 + zone.wind_diurnal * (1.0 + 0.6 * summer) * night
        weather = np.exp(0.33 * (0.75 * common + 0.66 * local) - 0.055)
        calm = 1.0 - 0.08 * events.heat
        rows.append(zone.hub_wind_ms * seasonal * diurnal * weather * calm + 3.5 * events.front)
    return np.maximum(np.vstack(rows), 0.2)


def _cloud_logit(seed: int, clock: Clock, events: Events) -> np.ndarray:
    """Latent clear-sky index: Texas summers are mostly clear, winters and springs cloudier."""
    base = 1.25 + 0.55 * _summerness(clock.doy)
    synoptic = 1.2 * smooth_noise(stream_key(seed, "cloud.synoptic"), clock.t, 30.0)
    fast = 0.6 * smooth_noise(stream_key(seed, "cloud.fast"), clock.t, 4.0)
    return base + synoptic + fast + 1.0 * events.heat


# --- load and generation ----------------------------------------------------------------------------

# Weekday activity (commercial + residential) by CPT hour, relative to the daily mean.
_WEEKDAY_ACTIVITY = np.array([
    0.84, 0.80, 0.78, 0.77, 0.78, 0.83, 0.92, 0.99, 1.02, 1.04, 1.05, 1.06,
    1.06, 1.06, 1.06, 1.06, 1.07, 1.09, 1.10, 1.09, 1.06, 1.01, 0.95, 0.89,
])  # fmt: skip
# Weekends and holidays: later morning rise, ~8 % less activity.
_REST_DAY_ACTIVITY = 0.92 * np.array([
    0.88, 0.84, 0.81, 0.79, 0.78, 0.79, 0.82, 0.87, 0.93, 0.98, 1.02, 1.04,
    1.05, 1.06, 1.06, 1.06, 1.07, 1.08, 1.09, 1.08, 1.05, 1.01, 0.96, 0.92,
])  # fmt: skip
_COOLING_BALANCE_C = 18.5  # ~65 F: above it air conditioning runs
_HEATING_BALANCE_C = 14.0


def _activity(clock: Clock) -> np.ndarray:
    hours = np.arange(25.0)
    weekday = np.interp(clock.local_hour, hours, np.append(_WEEKDAY_ACTIVITY, _WEEKDAY_ACTIVITY[0]))
    rest = np.interp(clock.local_hour, hours, np.append(_REST_DAY_ACTIVITY, _REST_DAY_ACTIVITY[0]))
    return np.where(clock.rest_day, rest, weekday)


def zone_loads(clock: Clock, weather: Weather) -> np.ndarray:
    """Load per weather zone (zones, n) in MW from temperature, the clock and the era.

    Buildings lag the air temperature by a few hours, so the effective temperature leans back along
    the diurnal cycle. Cooling grows with a mild convexity above ~65 F; heating grows as
    (balance - T)^1.2 plus a resistance-heat term that takes off below freezing -- why winter cold
    snaps drive ERCOT's steepest demand.
    """
    lag = 0.35 * _col(z.diurnal_c for z in ZONES) * _diurnal_delta(clock.solar_hour, 3.0)
    effective = weather.temperature - lag
    cooling_degrees = np.maximum(effective - _COOLING_BALANCE_C, 0.0)
    heating_degrees = np.maximum(_HEATING_BALANCE_C - effective, 0.0)
    weather_factor = (
        1.0
        + _col(z.cooling for z in ZONES) * (cooling_degrees + 0.004 * cooling_degrees**2)
        + _col(z.heating for z in ZONES) * (heating_degrees**1.2 + 0.25 * np.maximum(-effective, 0.0) ** 1.5)
    )
    flat = _col(z.flat_share for z in ZONES)
    activity = flat + (1.0 - flat) * _activity(clock)
    growth = era("load_scale", clock.year) * (1.0 + _col(z.growth for z in ZONES)) ** (clock.year - 2023.5)
    return _col(z.base_load_mw for z in ZONES) * growth * activity * weather_factor


def _power_curve(hub_wind: np.ndarray) -> np.ndarray:
    """Fleet-aggregated wind power curve: cut-in ~3 m/s, rated ~12 m/s, 7 % losses.

    Spread over hundreds of farms the zone-mean speed maps to output more gently than one
    turbine's curve, hence the wide logistic.
    """
    return 0.93 / (1.0 + np.exp(-(hub_wind - 7.6) / 1.7))


def wind_capacity_factors(weather: Weather, events: Events) -> np.ndarray:
    """Capacity factor per zone (zones, n); blades ice up in the freezing rain of cold snaps."""
    icing = 0.6 * events.cold * np.clip(-weather.temperature / 6.0, 0.0, 1.0)
    return _power_curve(weather.hub_wind) * (1.0 - icing)


def solar_capacity_factor(clock: Clock, clear: np.ndarray) -> np.ndarray:
    """Clear-sky output from the sun's elevation (by day of year and solar hour) x cloudiness."""
    declination = math.radians(23.44) * np.sin(_TWO_PI * (clock.doy - 80.0) / _YEAR_DAYS)
    hour_angle = math.radians(15.0) * (clock.solar_hour - 12.0)
    latitude = math.radians(_LATITUDE)
    sin_elevation = (
        math.sin(latitude) * np.sin(declination) + math.cos(latitude) * np.cos(declination) * np.cos(hour_angle)
    )
    clear_sky = 0.88 * np.maximum(sin_elevation, 0.0) ** 0.5
    return clear_sky * (0.12 + 0.88 * clear)


def thermal_available(seed: int, clock: Clock, events: Events, weather: Weather) -> np.ndarray:
    """Thermal capacity on line or able to start (MW): fleet - maintenance - forced outages.

    Generators schedule maintenance in the mild spring and fall (why ERCOT can run short on a hot
    May evening); forced outages run ~5 % with multi-day swings, plus large-unit trips, plus gas
    supply freeze-offs and frozen equipment in hard cold and derates in extreme heat.
    """
    fleet = thermal_fleet_mw(clock)
    forced = _forced_outage_rate(seed, clock.t)
    return fleet * (1.0 - planned_maintenance(clock.doy) - forced) - events.outage_mw - _weather_outages_mw(weather)


def thermal_fleet_mw(clock: Clock) -> np.ndarray:
    """Installed thermal capability: the era's summer rating, ~6 % more in cold air (winter ratings)."""
    return era("thermal_mw", clock.year) * (1.0 + 0.06 * np.maximum(-_summerness(clock.doy), 0.0))


def planned_maintenance(doy: np.ndarray) -> np.ndarray:
    """Share of the thermal fleet on planned outage by day of year."""
    spring = 0.17 * _seasonal_bump(doy, 95.0, 26.0)  # peak early April
    fall = 0.14 * _seasonal_bump(doy, 300.0, 24.0)  # peak late October
    winter = 0.03 * _seasonal_bump(doy, 20.0, 25.0)
    return 0.025 + spring + fall + winter


def _forced_outage_rate(seed: int, t: np.ndarray) -> np.ndarray:
    return np.clip(0.05 + 0.02 * smooth_noise(stream_key(seed, "thermal.forced"), t, 48.0), 0.015, None)


def _weather_outages_mw(weather: Weather) -> np.ndarray:
    temperature = weather.system_temperature
    cold = 650.0 * np.maximum(-1.0 - temperature, 0.0) ** 1.4
    heat = 150.0 * np.maximum(temperature - 33.0, 0.0) ** 1.3
    return cold + heat


def storage_available(clock: Clock) -> np.ndarray:
    """Battery discharge capability (MW): charged at midday on solar, most available at the evening peak."""
    evening = _hour_bump(clock.local_hour, 19.0, 2.5)
    return era("storage_mw", clock.year) * (0.45 + 0.45 * evening)


def _hour_bump(hour: np.ndarray, centre: float, width: float) -> np.ndarray:
    """Gaussian bump in hour of day around ``centre`` (wrapping around midnight)."""
    distance = np.mod(hour - centre + 12.0, 24.0) - 12.0
    return np.exp(-0.5 * (distance / width) ** 2)


def gas_price(seed: int, clock: Clock, events: Events) -> np.ndarray:
    """Henry-Hub-like gas price ($/MMBtu): the era's level, monthly drift, spikes in cold snaps."""
    drift = np.exp(0.12 * smooth_noise(stream_key(seed, "gas.drift"), clock.t, 24.0 * 20))
    return era("gas_usd_mmbtu", clock.year) * drift * (1.0 + 4.0 * events.cold**2)


_IMPORTS_MW = 800.0  # DC ties and other resources counted in reserve


@dataclass(frozen=True)
class GridState:
    """The physical system at each time (arrays of length n; per-zone arrays are (zones, n))."""

    clock: Clock
    weather: Weather
    load_by_zone: np.ndarray
    wind_cf_by_zone: np.ndarray
    wind_mw: np.ndarray
    solar_mw: np.ndarray
    thermal_mw: np.ndarray
    storage_mw: np.ndarray
    flexible_mw: np.ndarray
    gas: np.ndarray
    markup: np.ndarray  # offer behaviour at the top of the stack (see offer_markup)

    @property
    def load(self) -> np.ndarray:
        return zone_sum(self.load_by_zone)

    @property
    def net_load(self) -> np.ndarray:
        """Load less wind and solar: what dispatchable units and batteries must serve."""
        return self.load - self.wind_mw - self.solar_mw

    @property
    def capacity(self) -> np.ndarray:
        return self.thermal_mw + self.storage_mw + _IMPORTS_MW

    @property
    def reserve(self) -> np.ndarray:
        return self.capacity - self.net_load

    @property
    def drivers(self) -> BasisDrivers:
        west = zone_sum(self.wind_cf_by_zone, _WIND_SHARES * _WEST_WIND) / (_WIND_SHARES * _WEST_WIND).sum()
        coastal = zone_sum(self.wind_cf_by_zone, _WIND_SHARES * _COASTAL_WIND) / (_WIND_SHARES * _COASTAL_WIND).sum()
        scale = era("load_scale", self.clock.year)
        coast = self.load_by_zone[_ZONE["COAST"]] / (ZONES[_ZONE["COAST"]].base_load_mw * scale)
        far_west = self.load_by_zone[_ZONE["FAR_WEST"]] / (ZONES[_ZONE["FAR_WEST"]].base_load_mw * scale)
        panhandle = self.wind_cf_by_zone[_ZONE["NORTH"]]
        solar = self.solar_mw / era("solar_mw", self.clock.year)
        system = self.load / (_BASE_LOAD_MW * scale)
        return BasisDrivers(west, coastal, panhandle, coast, far_west, solar, system)


def grid_state(
    clock: Clock, weather: Weather, events: Events, thermal_mw: np.ndarray, gas: np.ndarray, markup: np.ndarray
) -> GridState:
    cf = wind_capacity_factors(weather, events)
    return GridState(
        clock=clock,
        weather=weather,
        load_by_zone=zone_loads(clock, weather),
        wind_cf_by_zone=cf,
        wind_mw=era("wind_mw", clock.year) * zone_sum(cf, _WIND_SHARES),
        solar_mw=era("solar_mw", clock.year) * solar_capacity_factor(clock, weather.clear),
        thermal_mw=thermal_mw,
        storage_mw=storage_available(clock),
        flexible_mw=era("flexible_load_mw", clock.year),
        gas=gas,
        markup=markup,
    )


def actual_state(seed: int, t: np.ndarray) -> GridState:
    """The realised system at UTC hours ``t``."""
    clock = make_clock(t)
    events = make_events(seed, t)
    weather = actual_weather(seed, clock, events)
    thermal = thermal_available(seed, clock, events, weather)
    return grid_state(clock, weather, events, thermal, gas_price(seed, clock, events), offer_markup(seed, t))


# --- prices -----------------------------------------------------------------------------------------


def energy_price(utilisation: np.ndarray, reserve: np.ndarray, gas: np.ndarray, markup: np.ndarray) -> np.ndarray:
    """System lambda of a rising supply curve ($/MWh).

    Nuclear, coal and wind-with-tax-credits set (even negative) prices when little thermal is needed;
    combined cycles then peakers follow as utilisation rises (gas x heat rate); offers climb
    steeply as the last few GW of headroom are used, by how much depending on the day's offer
    behaviour (``markup``).
    """
    heat_rate = 6.4 + 3.0 * utilisation**2 + 14.0 * utilisation**8
    surplus = 1.0 / (1.0 + np.exp(-(0.24 - utilisation) / 0.03))
    hockey = 1_200.0 * markup * np.exp(-np.maximum(reserve, 0.0) / 4_000.0)
    return gas * heat_rate + 3.0 - 32.0 * surplus + hockey


def offer_markup(seed: int, t: np.ndarray) -> np.ndarray:
    """How aggressively the top of the offer stack is priced: drifts from day to day (median 1)."""
    return np.exp(0.35 * smooth_noise(stream_key(seed, "offers.markup"), t, 24.0))


def scarcity_adder(
    reserve: np.ndarray, energy: np.ndarray, rules: MarketRules, sigma_mw: float = 2_000.0
) -> np.ndarray:
    """ORDC-like adder: (VOLL - lambda) x LOLP, LOLP = P(reserve shortfall below the minimum level).

    ERCOT's Operating Reserve Demand Curve prices the probability that reserves fall below the
    minimum contingency level within the hour, modelled as a normal reserve error.
    """
    lolp = 1.0 - _normal_cdf((reserve - rules.min_contingency_mw) / sigma_mw)
    return np.maximum(rules.hcap - energy, 0.0) * lolp


def system_price(
    net_load: np.ndarray,
    capacity: np.ndarray,
    flexible: np.ndarray,
    gas: np.ndarray,
    markup: np.ndarray,
    rules: MarketRules,
) -> np.ndarray:
    """Real-time system price ($/MWh) of serving ``net_load`` from ``capacity``.

    Flexible large loads curtail as reserves fall toward ~5.5 GW (and count as reserve once they
    do), which is why ERCOT's reserves hover in the mid single-digit GW for hours rather than
    collapsing the moment load peaks.
    """
    reserve = capacity - net_load
    reserve = reserve + flexible / (1.0 + np.exp(-(5_500.0 - reserve) / 1_200.0))
    energy = energy_price(np.clip(net_load / capacity, 0.0, 1.2), reserve, gas, markup)
    return np.clip(energy + scarcity_adder(reserve, energy, rules), _PRICE_FLOOR, rules.hcap)


@dataclass(frozen=True)
class BasisDrivers:
    """What moves congestion between settlement points."""

    west_wind_cf: np.ndarray
    coastal_wind_cf: np.ndarray
    panhandle_wind_cf: np.ndarray
    coast_load_ratio: np.ndarray  # COAST load / its mild-weather base: Houston import constraints
    far_west_load_ratio: np.ndarray  # Permian load pulls West prices up
    solar_cf: np.ndarray
    load_ratio: np.ndarray  # system load / its mild-weather base: how stressed the network is

    def interpolate(self, lo: np.ndarray, hi: np.ndarray, weight: np.ndarray) -> BasisDrivers:
        fields = self.__dataclass_fields__
        return BasisDrivers(*((1 - weight) * getattr(self, f)[lo] + weight * getattr(self, f)[hi] for f in fields))


def west_export_congestion(drivers: BasisDrivers) -> np.ndarray:
    """$/MWh (<= 0) by which West Texas prices fall when its wind and solar exceed export capacity."""
    return -70.0 * np.maximum(drivers.west_wind_cf - 0.40, 0.0) ** 1.2 - 5.0 * drivers.solar_cf


def houston_import_congestion(drivers: BasisDrivers, system: np.ndarray) -> np.ndarray:
    """$/MWh (>= 0) Houston pays when coastal heat pushes its load against the import limits."""
    return np.maximum(drivers.coast_load_ratio - 1.45, 0.0) * (10.0 + 0.06 * np.maximum(system, 0.0))


def hub_basis(drivers: BasisDrivers, system: np.ndarray) -> dict[str, np.ndarray]:
    """Expected basis ($/MWh) of the four hubs and the Panhandle from the drivers.

    West Texas wind exceeds the export capacity of the lines to the load centres, so West and
    especially the Panhandle price below the system (often negative) when it blows, while Permian
    load growth pulls West up; Houston imports power, and its import constraints bind when coastal
    heat drives load up; South Texas coastal wind depresses the South hub.
    """
    permian = 5.0 * np.maximum(drivers.far_west_load_ratio - 1.0, 0.0)
    panhandle = -95.0 * np.maximum(drivers.panhandle_wind_cf - 0.30, 0.0) ** 1.1 - 6.0 * drivers.solar_cf
    return {
        "HB_NORTH": -0.3 + 3.0 * np.maximum(drivers.west_wind_cf - 0.40, 0.0),
        "HB_HOUSTON": 0.8 + houston_import_congestion(drivers, system),
        "HB_SOUTH": 0.4 - 15.0 * np.maximum(drivers.coastal_wind_cf - 0.55, 0.0),
        "HB_WEST": -1.2 + west_export_congestion(drivers) + permian,
        "HB_PAN": -3.5 + panhandle,
    }


# Load zones as combinations of hub basis plus a small loss/congestion offset.
_ZONE_MIX: dict[str, tuple[dict[str, float], float]] = {
    "LZ_AEN": ({"HB_NORTH": 0.5, "HB_SOUTH": 0.5}, 0.9),
    "LZ_CPS": ({"HB_SOUTH": 1.0}, 1.0),
    "LZ_HOUSTON": ({"HB_HOUSTON": 1.0}, 0.4),
    "LZ_LCRA": ({"HB_SOUTH": 0.5, "HB_WEST": 0.3, "HB_NORTH": 0.2}, 0.6),
    "LZ_NORTH": ({"HB_NORTH": 1.0}, 0.5),
    "LZ_RAYBN": ({"HB_NORTH": 1.0}, 0.9),
    "LZ_SOUTH": ({"HB_SOUTH": 1.0}, 0.7),
    "LZ_WEST": ({"HB_WEST": 1.0}, 2.0),
}
# HB_BUSAVG: the average over hub buses, weighted toward the large northern and coastal systems.
_BUSAVG_WEIGHTS = {"HB_NORTH": 0.34, "HB_HOUSTON": 0.28, "HB_SOUTH": 0.22, "HB_WEST": 0.16}


@dataclass(frozen=True)
class ResourceNode:
    """A simulated resource node: which hub it tracks and how exposed it is to local congestion.

    Derived from a blake2b hash of the name, so the same name is the same node everywhere.
    """

    name: str
    hub: str
    offset: float  # $/MWh loss and local-congestion offset
    wind_exposure: float  # multiple of West-style wind congestion
    heat_exposure: float  # multiple of Houston-style import congestion
    noise_scale: float


def resource_node(name: str) -> ResourceNode:
    """The simulated character of the resource node called ``name`` (a pure function of the name)."""
    digest = hashlib.blake2b(name.encode(), digest_size=16, person=b"rtlmp-node").digest()
    u = [b / 255.0 for b in digest]
    return ResourceNode(
        name=name,
        hub=MAIN_HUBS[digest[0] % 4],
        offset=-6.0 + 9.0 * u[1],
        wind_exposure=1.5 * u[2] ** 2,
        heat_exposure=u[3] ** 2,
        noise_scale=0.5 + 1.5 * u[4],
    )


#: ``local(node, scale)``: a node's own additive term in $/MWh (noise, local congestion episodes).
LocalTerm = Callable[[str, float], np.ndarray]


def node_prices(
    system: np.ndarray, drivers: BasisDrivers, local: LocalTerm, extra_nodes: Sequence[ResourceNode]
) -> dict[str, np.ndarray]:
    """Price at every settlement point: system price + basis + the node's local term.

    Load zones mix their hubs (plus a loss offset); HB_HUBAVG is exactly the mean of the four
    hubs and HB_BUSAVG their bus-weighted mean; resource nodes follow their hub with their own
    exposure to West-style wind congestion and Houston-style import congestion.
    """
    basis = hub_basis(drivers, system)
    prices = {hub: system + basis[hub] + local(hub, 1.0) for hub in (*MAIN_HUBS, "HB_PAN")}
    west, houston = west_export_congestion(drivers), houston_import_congestion(drivers, system)
    for zone, (weights, offset) in _ZONE_MIX.items():
        mixed = sum(w * prices[hub] for hub, w in weights.items())
        prices[zone] = mixed + offset + local(zone, 0.5)
    prices["HB_HUBAVG"] = sum(prices[hub] for hub in MAIN_HUBS) / len(MAIN_HUBS)
    prices["HB_BUSAVG"] = sum(w * prices[hub] for hub, w in _BUSAVG_WEIGHTS.items()) + local("HB_BUSAVG", 0.2)
    for node in extra_nodes:
        exposure = node.wind_exposure * west + node.heat_exposure * houston
        prices[node.name] = prices[node.hub] + node.offset + exposure + local(node.name, node.noise_scale)
    return prices


# --- real-time prices ------------------------------------------------------------------------------

_TRIP_PROBABILITY = 0.004  # per five-minute interval: roughly one unexpected unit trip a day
_TRIP_RECOVERY = np.exp(-np.arange(12) / 3.0)  # reserves deployed within ~30 minutes
_RAMP_CAPABILITY_MW_H = 3_000.0  # net-load rise per hour the fleet follows without strain


def five_minute_steps(starts_h: np.ndarray) -> np.ndarray:
    """The five-minute interval number since the epoch of each interval start (the noise index)."""
    return np.round(starts_h * 12.0).astype(np.int64)


def rt_system_and_drivers(seed: int, starts_h: np.ndarray) -> tuple[np.ndarray, BasisDrivers]:
    """Five-minute system price and basis drivers for intervals starting at UTC hours ``starts_h``.

    The hourly state is evaluated at hour midpoints and interpolated; five-minute net-load noise,
    unit trips (reserve lost, then restored) and ramp stress on steep net-load ramps (the evening
    solar drop) then act on the reserve inside SCED.
    """
    tau = starts_h + 2.5 / 60.0
    lo_mid = np.floor(tau - 0.5) + 0.5
    mids, inverse = np.unique(np.concatenate([lo_mid, lo_mid + 1.0]), return_inverse=True)
    state = actual_state(seed, mids)
    lo, hi = inverse[: len(tau)], inverse[len(tau) :]
    weight = tau - lo_mid
    net_load_h, capacity_h = state.net_load, state.capacity

    def at(values: np.ndarray) -> np.ndarray:
        return (1.0 - weight) * values[lo] + weight * values[hi]

    step = five_minute_steps(starts_h)
    wind = at(state.wind_mw)
    net_load = at(net_load_h) + (400.0 + 0.02 * wind) * ar_noise(stream_key(seed, "rt.net_load"), step, 0.9)
    capacity = at(capacity_h) - _unit_trips_mw(seed, step)
    ramp = net_load_h[hi] - net_load_h[lo]
    strain = np.maximum(ramp - _RAMP_CAPABILITY_MW_H, 0.0)
    burst = np.maximum(ar_noise(stream_key(seed, "rt.ramp_burst"), step, 0.6, taps=16), 0.0) ** 1.5
    rules = market_rules(starts_h)
    flexible, gas, markup = at(state.flexible_mw), at(state.gas), at(state.markup)
    price = system_price(net_load + 0.8 * strain * burst, capacity, flexible, gas, markup, rules)
    return price, state.drivers.interpolate(lo, hi, weight)


# Share of congestion episodes that raise (rather than depress) each hub's price: Houston imports,
# the Panhandle exports.
_CONGESTION_UPSIDE = {"HB_NORTH": 0.7, "HB_HOUSTON": 0.9, "HB_SOUTH": 0.7, "HB_WEST": 0.5, "HB_PAN": 0.15}
_CONGESTION_PROBABILITY = 0.003  # per five-minute interval and settlement point: ~0.9 episodes a day
_CONGESTION_DECAY = np.exp(-np.arange(12) / 4.0)  # operators re-dispatch around it within ~half an hour


def congestion_episodes(seed: int, node: str, step: np.ndarray) -> np.ndarray:
    """Short local congestion episodes at one settlement point ($/MWh, before load exposure).

    A transmission constraint binds unexpectedly (a line trips, a wind ramp, a local unit out):
    the local price jumps for some minutes. Sizes are heavy-tailed (median $40, 1 % above
    $500); the caller scales them with load, as constraints bind more often on heavy days.
    """
    key = stream_key(seed, f"rt.congestion.{node}")
    upside = _CONGESTION_UPSIDE.get(node, 0.6)

    def shocks(idx: np.ndarray) -> np.ndarray:
        happens = _uniform(key, idx, 0) < _CONGESTION_PROBABILITY
        sign = np.where(_uniform(key, idx, 1) < upside, 1.0, -1.0)
        return np.where(happens, sign * 40.0 * np.exp(1.1 * _normal(key, idx, 2)), 0.0)

    return _filtered(step, _CONGESTION_DECAY, shocks)


def rt_local_term(seed: int, step: np.ndarray, system: np.ndarray, drivers: BasisDrivers) -> LocalTerm:
    """Each node's own five-minute term: AR noise growing with the price level, plus congestion
    episodes that bind more often on heavy-load days."""
    level = 1.0 + 0.02 * np.abs(system)
    exposure = np.clip(drivers.load_ratio - 0.85, 0.15, 1.0)

    def local(node: str, scale: float) -> np.ndarray:
        noise = 1.5 * level * ar_noise(stream_key(seed, f"rt.node.{node}"), step, 0.75, taps=30)
        return scale * (noise + exposure * congestion_episodes(seed, node, step))

    return local


def _unit_trips_mw(seed: int, step: np.ndarray) -> np.ndarray:
    """Reserve lost to unexpected unit trips (MW), restored as reserves deploy."""
    key = stream_key(seed, "rt.unit_trip")

    def trips(idx: np.ndarray) -> np.ndarray:
        happens = _uniform(key, idx, 0) < _TRIP_PROBABILITY
        return np.where(happens, 400.0 + 900.0 * _uniform(key, idx, 1), 0.0)

    return _filtered(step, _TRIP_RECOVERY, trips)


# --- forecasts ---------------------------------------------------------------------------------------


def _linear_sigma(floor: float, per_hour: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda lead_h: floor + per_hour * np.maximum(lead_h, 0.0)


def revealed_error(
    key: int, vintage: np.ndarray, lead_h: np.ndarray, t: np.ndarray, sigma: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Forecast error ~ N(0, sigma(lead)^2) whose pieces are revealed one publication day at a time.

    The error of vintage v at target t is the sum of the innovations learned on days v+1, v+2, ...
    before t (each a smooth noise indexed by the *absolute* day it is learned), plus a small
    independent nowcast term. Innovation j carries the variance sigma^2(lead_j) - sigma^2(lead_j - 24)
    that its day removes, so the variance grows with lead time exactly as ``sigma`` says, and the
    vintages of v and v+1 share every innovation after v+1: forecasts converge instead of jumping.
    """
    floor = sigma(np.zeros(1))[0]
    total = floor * smooth_noise(key, t, 12.0, vintage, -1)
    for j in range(1, FORECAST_DAYS_AHEAD + 4):
        before, after = lead_h - 24.0 * (j - 1), lead_h - 24.0 * j
        weight = np.sqrt(np.maximum(sigma(before) ** 2 - sigma(after) ** 2, 0.0))
        rows = np.flatnonzero(weight > 0.0)  # day j's news only concerns targets still ahead of it
        if not len(rows):
            break
        total[rows] += weight[rows] * smooth_noise(key, t[rows], 12.0, vintage[rows] + j, 0)
    return total


def vintage_error(
    key: int, vintage: np.ndarray, lead_h: np.ndarray, t: np.ndarray, sigma: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Forecast error ~ N(0, sigma(lead)^2) drawn afresh for each vintage (local detail, model noise).

    Cheaper than :func:`revealed_error`; used for the zone-level parts, while the shared parts that
    dominate the system totals are revealed day by day.
    """
    return sigma(lead_h) * smooth_noise(key, t, 12.0, vintage, 1)


def _anomaly_skill(lead_h: np.ndarray) -> np.ndarray:
    """Share of a weather anomaly a forecast still captures: ~all at a day, under half at a week."""
    return np.exp(-((np.maximum(lead_h, 0.0) / 200.0) ** 2))


_TEMPERATURE_SIGMA = (_linear_sigma(0.35, 0.009), _linear_sigma(0.30, 0.007))  # common, per zone (degC)
_WIND_SIGMA = (_linear_sigma(0.06, 0.0015), _linear_sigma(0.05, 0.0008))  # log hub wind
_CLOUD_SIGMA = _linear_sigma(0.30, 0.006)
_LOAD_SIGMA = (_linear_sigma(0.006, 0.00007), _linear_sigma(0.008, 0.00006))  # fraction of load


def forecast_weather(seed: int, actual: Weather, vintage: np.ndarray, lead_h: np.ndarray, t: np.ndarray) -> Weather:
    """The weather forecast published on ``vintage`` for target times ``t`` (lead in hours).

    Anomalies are partly missed at long lead (forecasts regress to normal); errors are shared
    across zones (a front arrives early or late everywhere) plus a zone-specific part.
    """
    skill = _anomaly_skill(lead_h)
    # Wind errors are multiplicative (lognormal); centre them so the forecast wind speed is unbiased.
    wind_centring = 0.5 * (_WIND_SIGMA[0](lead_h) ** 2 + _WIND_SIGMA[1](lead_h) ** 2)
    common_t = revealed_error(stream_key(seed, "fc.temp"), vintage, lead_h, t, _TEMPERATURE_SIGMA[0])
    common_w = revealed_error(stream_key(seed, "fc.wind"), vintage, lead_h, t, _WIND_SIGMA[0])
    temperature, wind = [], []
    for i, zone in enumerate(ZONES):
        zone_t = vintage_error(stream_key(seed, f"fc.temp.{zone.name}"), vintage, lead_h, t, _TEMPERATURE_SIGMA[1])
        zone_w = vintage_error(stream_key(seed, f"fc.wind.{zone.name}"), vintage, lead_h, t, _WIND_SIGMA[1])
        temperature.append(actual.temperature[i] - (1.0 - skill) * actual.anomaly[i] + common_t + zone_t)
        wind.append(actual.hub_wind[i] * np.exp(common_w + zone_w - wind_centring))
    cloud = actual.cloud_logit + revealed_error(stream_key(seed, "fc.cloud"), vintage, lead_h, t, _CLOUD_SIGMA)
    temperature_array = np.vstack(temperature)
    return Weather(temperature_array, temperature_array - (actual.temperature - actual.anomaly), np.vstack(wind), cloud)


def _issue_hours(vintage_ordinals: np.ndarray) -> np.ndarray:
    """UTC hour at which the weather forecast of each vintage is issued (the information cut-off)."""
    rule = rule_for("weather_forecast")
    unique, inverse = np.unique(vintage_ordinals, return_inverse=True)
    issued = np.array([rule.available_at(dt.date.fromordinal(int(o))).value // 1000 for o in unique], dtype=np.int64)
    return _hours(issued)[inverse]


def forecast_state(seed: int, vintage_ordinals: np.ndarray, t: np.ndarray) -> GridState:
    """The system as forecast on each vintage day for target UTC hours ``t`` (one row per pair).

    Thermal availability is what the market knows at issue time: planned maintenance, the forced
    outage level and unit outages already under way (with their expected return), and the weather
    outages implied by the forecast temperatures -- of which, as in every big freeze, only part is
    anticipated. Outages that start later are a surprise for the real-time market.
    """
    unique_t, inverse = np.unique(t, return_inverse=True)
    clock_u = make_clock(unique_t)
    events_u = make_events(seed, unique_t)
    actual = actual_weather(seed, clock_u, events_u).take(inverse)
    clock, events = _take(clock_u, inverse), _take(events_u, inverse)
    issue = _issue_hours(vintage_ordinals)
    lead = t - issue
    weather = forecast_weather(seed, actual, vintage_ordinals, lead, t)
    known_outages = _known_outages_mw(events.outage_started, t, issue)
    forced = _forced_outage_rate(seed, issue)
    fleet = thermal_fleet_mw(clock)
    expected_weather_outages = 0.6 * _weather_outages_mw(weather)
    thermal = fleet * (1.0 - planned_maintenance(clock.doy) - forced) - known_outages - expected_weather_outages
    # The day-ahead market knows the offer behaviour of the day it trades in, not of the target day.
    state = grid_state(clock, weather, events, thermal, gas_price(seed, clock, events), offer_markup(seed, issue))
    return _with_load_model_error(seed, state, vintage_ordinals, lead, t)


_Record = TypeVar("_Record", Clock, Events)


def _take(record: _Record, index: np.ndarray) -> _Record:
    """``record`` with every per-time array indexed by ``index`` (other fields unchanged)."""
    arrays = {name: value[index] for name, value in record.__dict__.items() if isinstance(value, np.ndarray)}
    return replace(record, **arrays)


def _known_outages_mw(outages: Episodes, t: np.ndarray, issue: np.ndarray) -> np.ndarray:
    """Unit outages that began before the issue time, at their actual profile (returns are scheduled)."""
    total = np.zeros(len(t))
    sizes = _outage_size_mw(outages.size)
    for start, duration, size in zip(outages.start, outages.duration, sizes):
        active = (start <= issue) & (t >= start) & (t < start + duration)
        total += np.where(active, size, 0.0)
    return total


def _with_load_model_error(
    seed: int, state: GridState, vintage: np.ndarray, lead: np.ndarray, t: np.ndarray
) -> GridState:
    """Load forecast errors beyond the weather: behaviour, industrial schedules, model bias."""
    common = revealed_error(stream_key(seed, "fc.load"), vintage, lead, t, _LOAD_SIGMA[0])
    factors = [
        1.0 + common + vintage_error(stream_key(seed, f"fc.load.{zone.name}"), vintage, lead, t, _LOAD_SIGMA[1])
        for zone in ZONES
    ]
    return replace(state, load_by_zone=state.load_by_zone * np.vstack(factors))


# --- day-ahead prices --------------------------------------------------------------------------------

_GAUSS_HERMITE = np.polynomial.hermite_e.hermegauss(9)
_DAM_PREMIUM = 1.03  # DAM buyers pay a little for price certainty


def dam_system_price(state: GridState) -> np.ndarray:
    """Expected real-time price under the forecast conditions: averaged over net-load uncertainty.

    The average over a normal net-load error (Gauss-Hermite) makes DAM prices smooth and lets them
    price *expected* scarcity on tight days instead of the spikes themselves.
    """
    nodes, weights = _GAUSS_HERMITE
    sigma = 1_000.0 + 0.015 * state.net_load  # the uncertainty bidders price, less than the real one
    rules = market_rules(state.clock.t)
    expected = sum(
        w * system_price(state.net_load + z * sigma, state.capacity, state.flexible_mw, state.gas, state.markup, rules)
        for z, w in zip(nodes, weights)
    ) / weights.sum()
    return np.minimum(_DAM_PREMIUM * expected + 0.5, rules.hcap)  # DAM offers are capped at HCAP too


def dam_local_term(seed: int, t: np.ndarray) -> LocalTerm:
    """DAM nodes carry only a little hourly noise: no intra-hour volatility, no surprise congestion."""
    hour = np.floor(t).astype(np.int64)
    return lambda node, scale: scale * 0.6 * _normal(stream_key(seed, f"dam.node.{node}"), hour)


# --- frame assembly ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    """Interval starts of several key days, concatenated day by day."""

    starts_us: np.ndarray  # int64 UTC microseconds
    day_of_row: np.ndarray  # position of each interval's key day in ``days``
    days: tuple[dt.date, ...]

    @property
    def hours(self) -> np.ndarray:
        return _hours(self.starts_us)


def interval_grid(days: Sequence[dt.date], minutes: int, span_days: int = 1) -> Grid:
    """Every ``minutes`` interval of ``span_days`` operating days from each key day (DST-aware)."""
    step = minutes * 60_000_000
    starts, owners = [], []
    for position, day in enumerate(days):
        first = ercot_time.day_start(day).value // 1000
        end = ercot_time.day_start(day + dt.timedelta(days=span_days)).value // 1000
        block = np.arange(first, end, step, dtype=np.int64)
        starts.append(block)
        owners.append(np.full(len(block), position, dtype=np.int64))
    return Grid(np.concatenate(starts), np.concatenate(owners), tuple(days))


def _utc(starts_us: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(starts_us.astype("datetime64[us]")).tz_localize("UTC")


def published_at(dataset: str, grid: Grid, row_starts_us: np.ndarray, row_day: np.ndarray, minutes: int) -> np.ndarray:
    """``published_at`` (int64 UTC microseconds) per row, from the publication-time table."""
    rule = rule_for(dataset)
    if rule.local_time is not None:
        per_day = np.array([rule.available_at(day).value // 1000 for day in grid.days], dtype=np.int64)
        return per_day[row_day]
    stamped = rule.stamp(pd.Series(_utc(row_starts_us)), minutes, grid.days[0])
    return pd.DatetimeIndex(stamped).as_unit("us").asi8


def long_frame(
    dataset: str,
    grid: Grid,
    values: np.ndarray,
    labels: Sequence[str],
    minutes: int,
    extra: dict[str, object] | None = None,
) -> pd.DataFrame:
    """Canonical long frame from a (intervals, labels) matrix: rows interval-major, labels inner."""
    schema = DATASETS[dataset]
    label_column, value_column = _COLUMNS[dataset]
    count = len(labels)
    row_starts = np.repeat(grid.starts_us, count)
    row_day = np.repeat(grid.day_of_row, count)
    columns: dict[str, object] = {
        "interval_start": _utc(row_starts),
        label_column: np.tile(np.asarray(labels, dtype=object), len(grid.starts_us)),
        value_column: values.reshape(-1).astype(np.float64),
        **(extra or {}),
        "published_at": _utc(published_at(dataset, grid, row_starts, row_day, minutes)),
    }
    frame = pd.DataFrame(columns)
    return frame[list(schema.columns)]


_COLUMNS: dict[str, tuple[str, str]] = {
    "rt_prices": ("node", "price"),
    "dam_prices": ("node", "price"),
    "load": ("zone", "load_mw"),
    "load_forecast": ("zone", "load_mw"),
    "renewables": ("fuel", "generation_mw"),
    "renewables_forecast": ("fuel", "generation_mw"),
    "weather": ("location", "temperature_c"),
    "weather_forecast": ("location", "temperature_c"),
}


def split_by_day(frame: pd.DataFrame, grid: Grid, rows_per_interval: int) -> dict[dt.date, pd.DataFrame]:
    """One frame per key day (rows of a day are contiguous by construction)."""
    counts = np.bincount(grid.day_of_row, minlength=len(grid.days)) * rows_per_interval
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return {
        day: frame.iloc[bounds[i] : bounds[i + 1]].reset_index(drop=True) for i, day in enumerate(grid.days)
    }


# --- the source ----------------------------------------------------------------------------------------


class SyntheticMarket(Source):
    """A seeded, deterministic ERCOT-like market producing every canonical dataset offline.

    ``extra_nodes`` adds settlement points beyond :data:`NODES` (e.g. resource nodes); each one's
    character (hub it tracks, basis, congestion exposure) comes from a stable hash of its name.
    """

    name = "synthetic"
    simulated = True

    def __init__(self, seed: int, extra_nodes: Sequence[str] = ()) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"synthetic market seed must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)
        extras = []
        for node in extra_nodes:
            if not isinstance(node, str) or not node.strip():
                raise ValueError(f"extra node names must be non-empty strings, got {node!r}")
            if node not in NODES and node not in extras:
                extras.append(node)
        self._extra = tuple(resource_node(node) for node in extras)
        self.nodes: tuple[str, ...] = NODES + tuple(extras)

    def __repr__(self) -> str:
        return f"SyntheticMarket(seed={self.seed}, extra_nodes={[n.name for n in self._extra]})"

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(DATASETS)

    def fetch(self, dataset: str, day: dt.date) -> pd.DataFrame:
        return self.fetch_many(dataset, [day])[day]

    def fetch_many(self, dataset: str, days: Iterable[dt.date]) -> dict[dt.date, pd.DataFrame]:
        """Every key day in one vectorised pass; each day's frame is identical to fetching it alone."""
        if dataset not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}; the synthetic market provides {sorted(DATASETS)}")
        unique = list(dict.fromkeys(ercot_time.to_date(day) for day in days))
        if not unique:
            return {}
        build = getattr(self, f"_{dataset}")
        frames = build(unique)
        return {day: frames[day] for day in unique}

    # Each builder returns {key day: canonical frame} for a list of key days.

    def _rt_prices(self, days: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
        grid = interval_grid(days, 5)
        starts_h = grid.hours
        system, drivers = rt_system_and_drivers(self.seed, starts_h)
        local = rt_local_term(self.seed, five_minute_steps(starts_h), system, drivers)
        prices = node_prices(system, drivers, local, self._extra)
        matrix = np.column_stack([prices[node] for node in self.nodes])
        frame = long_frame("rt_prices", grid, matrix, self.nodes, 5, {"interval_minutes": np.int64(5)})
        return split_by_day(frame, grid, len(self.nodes))

    def _dam_prices(self, days: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
        grid = interval_grid(days, 60)
        t = grid.hours + 0.5
        vintage = np.array([day.toordinal() - 1 for day in grid.days], dtype=np.int64)[grid.day_of_row]
        state = forecast_state(self.seed, vintage, t)
        bidding_noise = np.exp(0.03 * smooth_noise(stream_key(self.seed, "dam.noise"), t, 3.0))
        system = np.minimum(dam_system_price(state) * bidding_noise, market_rules(t).hcap)
        prices = node_prices(system, state.drivers, dam_local_term(self.seed, t), self._extra)
        matrix = np.column_stack([prices[node] for node in self.nodes])
        frame = long_frame("dam_prices", grid, matrix, self.nodes, 60)
        return split_by_day(frame, grid, len(self.nodes))

    def _load(self, days: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
        grid = interval_grid(days, 60)
        state = actual_state(self.seed, grid.hours + 0.5)
        return self._load_frames("load", grid, state)

    def _load_forecast(self, days: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
        grid, state = self._forecast(days)
        return self._load_frames("load_forecast", grid, state)

    def _renewables(self, days: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
        grid = interval_grid(days, 60)
        state = actual_state(self.seed, grid.hours + 0.5)
        return self._renewable_frames("renewables", grid, state)

    def _renewables_forecast(self, days: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
        grid, state = self._forecast(days)
        return self._renewable_frames("renewables_forecast", grid, state)

    def _weather(self, days: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
        grid = interval_grid(days, 60)
        t = grid.hours + 0.5
        clock = make_clock(t)
        weather = actual_weather(self.seed, clock, make_events(self.seed, t))
        return self._weather_frames("weather", grid, weather)

    def _weather_forecast(self, days: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
        grid, state = self._forecast(days)
        return self._weather_frames("weather_forecast", grid, state.weather)

    def _forecast(self, days: list[dt.date]) -> tuple[Grid, GridState]:
        grid = interval_grid(days, 60, span_days=FORECAST_DAYS_AHEAD + 1)
        vintage = np.array([day.toordinal() for day in grid.days], dtype=np.int64)[grid.day_of_row]
        return grid, forecast_state(self.seed, vintage, grid.hours + 0.5)

    def _load_frames(self, dataset: str, grid: Grid, state: GridState) -> dict[dt.date, pd.DataFrame]:
        matrix = np.column_stack([*state.load_by_zone, state.load])
        labels = (*WEATHER_ZONES, SYSTEM_ZONE)
        return split_by_day(long_frame(dataset, grid, matrix, labels, 60), grid, len(labels))

    def _renewable_frames(self, dataset: str, grid: Grid, state: GridState) -> dict[dt.date, pd.DataFrame]:
        matrix = np.column_stack([state.wind_mw, state.solar_mw])
        return split_by_day(long_frame(dataset, grid, matrix, FUELS, 60), grid, len(FUELS))

    def _weather_frames(self, dataset: str, grid: Grid, weather: Weather) -> dict[dt.date, pd.DataFrame]:
        wind_10m = (weather.hub_wind / _HUB_TO_10M).T.reshape(-1)
        frame = long_frame(dataset, grid, weather.temperature.T, WEATHER_ZONES, 60, {"wind_speed_ms": wind_10m})
        return split_by_day(frame, grid, len(WEATHER_ZONES))

