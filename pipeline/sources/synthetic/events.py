"""Multi-day events: summer heat waves, winter cold snaps and forced outages of large units.

Responsibility: the episodes that make ERCOT's extreme days. They are drawn per *start day* and
found by scanning the start days that could reach a given time, so any day can be generated alone,
in any order, with the same events as when generated within a year.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipeline.sources.synthetic.noise import stream_key, uniform
from pipeline.sources.synthetic.time_axis import EPOCH_DAY_2000, YEAR_DAYS, seasonal_bump


@dataclass(frozen=True)
class EpisodeSpec:
    """A kind of multi-day event: drawn per candidate start day, so any day can be generated alone."""

    stream: str
    start_probability: Callable[[np.ndarray], np.ndarray]  # by day of year of the start day
    min_hours: float
    max_hours: float
    onset_fraction: float  # share of the duration spent ramping in (the rest ramps out)


HEAT_WAVES = EpisodeSpec("event.heat_wave", lambda doy: 0.045 * seasonal_bump(doy, 205.0, 30.0), 96.0, 288.0, 0.35)
# Arctic outbreaks: a front brings the cold within hours, the recovery takes days.
COLD_SNAPS = EpisodeSpec("event.cold_snap", lambda doy: 0.022 * seasonal_bump(doy, 25.0, 24.0), 48.0, 150.0, 0.12)
# Forced outages of large units (or several at once) lasting from half a day to several days.
UNIT_OUTAGES = EpisodeSpec("event.unit_outage", lambda doy: np.full(np.shape(doy), 0.30), 12.0, 120.0, 0.02)


@dataclass(frozen=True)
class Episodes:
    """The episodes of one kind found near the requested times (parallel arrays, one per episode)."""

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
    doy = np.mod(candidates - EPOCH_DAY_2000, YEAR_DAYS)
    chosen = candidates[uniform(key, candidates, 0) < spec.start_probability(doy)]
    start = chosen * 24.0 + 6.0 + 24.0 * uniform(key, chosen, 1)
    duration = spec.min_hours + (spec.max_hours - spec.min_hours) * uniform(key, chosen, 2)
    return Episodes(start=start, duration=duration, size=uniform(key, chosen, 3))


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
    """Heat waves, cold snaps (with the gusty fronts that open them) and unit outages at times ``t``."""
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
        outage_mw=episode_profile(t, outages, outage_size_mw(outages.size), UNIT_OUTAGES.onset_fraction),
        outage_started=outages,
    )


def outage_size_mw(size: np.ndarray) -> np.ndarray:
    """One large unit (~500-900 MW) usually; now and then a plant or several units (up to ~2.5 GW)."""
    return 450.0 + 2_000.0 * size**3
