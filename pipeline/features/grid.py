"""The grids features are computed on: day x hour cubes of actuals, and forecast vintages on the hour.

A :class:`Cube` holds hourly values on an (operating day, CPT hour of day, entity) grid together
with the instant each cell became known; reading a window of it as of an instant hides every cell
not yet known then. :class:`Vintages` holds forecast publications and answers "the newest value
known by T for each target hour". Both work in integer microseconds since the epoch.

The helpers at the end lay values out in the feature frame's row order: node-major, then target
hour (``_per_node`` for values shared by every node, ``_by_node`` / ``_by_node_hour`` for values
that differ by node).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline import ercot_time
from pipeline.asof import KNOWN_AT

HOURS_PER_DAY = 24
_NEVER = np.iinfo(np.int64).max
_HOUR_US = 3_600_000_000
_DAY_US = 24 * _HOUR_US


def micros(values: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Microseconds since the epoch (the grids' integer time scale)."""
    return pd.DatetimeIndex(values).as_unit("us").asi8


def micro(timestamp: pd.Timestamp) -> np.int64:
    # Timestamp.value is always nanoseconds, whatever the unit: go through the index form.
    return np.int64(micros(pd.DatetimeIndex([timestamp]))[0])


@dataclass(frozen=True)
class Cube:
    """Values on a (operating day, CPT hour of day, entity) grid, with when each cell became known."""

    first_day: dt.date
    entities: tuple[str, ...]
    values: dict[str, np.ndarray]  # name -> float array [days, 24, entities]
    known_at: np.ndarray  # int64 microseconds since epoch [days, 24, entities]; max = never

    @property
    def n_days(self) -> int:
        return self.known_at.shape[0]

    def window(self, name: str, last_day: dt.date, n_days: int, known_by: np.int64) -> np.ndarray:
        """``n_days`` days ending at ``last_day`` (inclusive), cells unknown at ``known_by`` -> NaN."""
        stop = (last_day - self.first_day).days + 1
        start = stop - n_days
        out = np.full((n_days, HOURS_PER_DAY, len(self.entities)), np.nan)
        lo, hi = max(start, 0), min(stop, self.n_days)
        if hi > lo:
            block = self.values[name][lo:hi]
            known = self.known_at[lo:hi] <= known_by
            out[lo - start : hi - start] = np.where(known, block, np.nan)
        return out


def build_cube(
    frame: pd.DataFrame | None,
    entity_column: str,
    value_columns: dict[str, str],
    entities: Sequence[str],
    first_day: dt.date,
    last_day: dt.date,
) -> Cube:
    """Place hourly records on the day x hour-of-day grid.

    ``value_columns`` maps cube name -> aggregation ("max" or "mean") for the column of that name.
    The fall-back day's repeated hour folds into one cell (max / mean of both copies, known when the
    later one is); the spring-forward day's missing hour stays NaN.
    """
    n_days = (last_day - first_day).days + 1
    shape = (n_days, HOURS_PER_DAY, len(entities))
    known = np.full(shape, _NEVER, dtype=np.int64)
    values = {name: np.full(shape, np.nan) for name in value_columns}
    if frame is None or frame.empty:
        return Cube(first_day, tuple(entities), values, known)
    local = frame["interval_start"].dt.tz_convert(ercot_time.CPT)
    day_index = (local.dt.normalize().dt.tz_localize(None) - pd.Timestamp(first_day)).dt.days.to_numpy()
    hour_index = local.dt.hour.to_numpy()
    lookup = {entity: i for i, entity in enumerate(entities)}
    entity_index = frame[entity_column].map(lookup).to_numpy(dtype=float)
    keep = (day_index >= 0) & (day_index < n_days) & ~np.isnan(entity_index)
    if not keep.any():
        return Cube(first_day, tuple(entities), values, known)
    cells = pd.DataFrame({
        "d": day_index[keep], "h": hour_index[keep], "e": entity_index[keep].astype(int),
        "k": micros(frame.loc[keep, KNOWN_AT]),
        **{name: frame.loc[keep, name].to_numpy(dtype=float) for name in value_columns},
    })
    grouped = cells.groupby(["d", "h", "e"], sort=False)
    aggregated = grouped.agg({"k": "max", **value_columns})
    d, h, e = (aggregated.index.get_level_values(i).to_numpy() for i in range(3))
    known[d, h, e] = aggregated["k"].to_numpy()
    for name in value_columns:
        values[name][d, h, e] = aggregated[name].to_numpy()
    return Cube(first_day, tuple(entities), values, known)


@dataclass(frozen=True)
class Vintages:
    """Forecast publications on the hourly grid: each vintage's values for the hours it covers.

    A vintage is every record that became known at the same instant (one publication).
    """

    entities: tuple[str, ...]
    known_at: np.ndarray  # [vintages] int64 microseconds, ascending
    first_hour: np.ndarray  # [vintages] int64 microseconds: the first hour each block covers
    blocks: tuple[np.ndarray, ...]  # per vintage: float [hours, entities]

    @classmethod
    def build(cls, frame: pd.DataFrame | None, entity_column: str, value_column: str,
              entities: Sequence[str]) -> Vintages:
        if frame is None or frame.empty:
            return cls(tuple(entities), np.empty(0, np.int64), np.empty(0, np.int64), ())
        lookup = {entity: i for i, entity in enumerate(entities)}
        entity_index = frame[entity_column].map(lookup).to_numpy(dtype=float)
        keep = ~np.isnan(entity_index)
        hours = micros(frame.loc[keep, "interval_start"])
        known = micros(frame.loc[keep, KNOWN_AT])
        values = frame.loc[keep, value_column].to_numpy(dtype=float)
        entity_codes = entity_index[keep].astype(int)
        stamps, group = np.unique(known, return_inverse=True)
        order = np.argsort(group, kind="stable")
        bounds = np.searchsorted(group[order], np.arange(len(stamps) + 1))
        first_hours, blocks = [], []
        for g in range(len(stamps)):
            rows = order[bounds[g] : bounds[g + 1]]
            h = hours[rows]
            first = h.min()
            block = np.full(((h.max() - first) // _HOUR_US + 1, len(entities)), np.nan)
            block[(h - first) // _HOUR_US, entity_codes[rows]] = values[rows]
            first_hours.append(first)
            blocks.append(block)
        return cls(tuple(entities), stamps, np.asarray(first_hours, dtype=np.int64), tuple(blocks))

    def latest(self, known_by: np.int64, start: pd.Timestamp, n_hours: int) -> np.ndarray:
        """[n_hours, entities] from ``start``: each hour's value in the newest vintage known by ``known_by``."""
        out = np.full((n_hours, len(self.entities)), np.nan)
        start_us = micro(start)
        oldest_useful = known_by - 10 * 24 * _HOUR_US  # no vintage reaches further than a week ahead
        for v in range(int(np.searchsorted(self.known_at, known_by, side="right")) - 1, -1, -1):
            if self.known_at[v] < oldest_useful:
                break
            block = self.blocks[v]
            offset = int((self.first_hour[v] - start_us) // _HOUR_US)
            lo, hi = max(offset, 0), min(offset + len(block), n_hours)
            if hi <= lo:
                continue
            target = out[lo:hi]
            source = block[lo - offset : hi - offset]
            fill = np.isnan(target) & ~np.isnan(source)
            target[fill] = source[fill]
            if not np.isnan(out).any():
                break
        return out

    def on_day(self, known_by: np.int64, day: dt.date) -> np.ndarray:
        """[24, entities]: operating day ``day`` by CPT hour of day, as forecast by the vintages known by
        ``known_by`` -- laid out like a :class:`Cube` day (the fall-back day's repeated hour averaged,
        the spring-forward day's missing hour NaN), so a forecast lines up with the actuals of the day."""
        start, hod = _clock_hours(day)
        values = self.latest(known_by, start, len(hod))
        out = np.full((HOURS_PER_DAY, len(self.entities)), np.nan)
        if len(np.unique(hod)) == len(hod):  # every day but the fall-back day: one hour per clock hour
            out[hod] = values
            return out
        for hour in np.unique(hod):
            out[hour] = nanmean(values[hod == hour], 0)
        return out


@functools.lru_cache(maxsize=4096)
def _clock_hours(day: dt.date) -> tuple[pd.Timestamp, np.ndarray]:
    """The first UTC hour of operating day ``day`` and the CPT clock hour of each of its hours."""
    hours = ercot_time.operating_day_hours(day)
    return hours[0], np.asarray(hours.tz_convert(ercot_time.CPT).hour)


# --- NaN-aware reductions -------------------------------------------------------------------------


def nanmean(a: np.ndarray, axis: int | tuple[int, ...]) -> np.ndarray:
    count = np.sum(~np.isnan(a), axis=axis)
    total = np.nansum(a, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def nanmax(a: np.ndarray, axis: int | tuple[int, ...]) -> np.ndarray:
    has = np.any(~np.isnan(a), axis=axis)
    filled = np.where(np.isnan(a), -np.inf, a)
    return np.where(has, np.max(filled, axis=axis), np.nan)


def nanstd(a: np.ndarray) -> np.ndarray:
    """Sample standard deviation over axis 0 (NaN with fewer than two known values)."""
    count = np.sum(~np.isnan(a), axis=0)
    mean = nanmean(a, 0)
    with np.errstate(invalid="ignore"):
        var = np.nansum((a - mean) ** 2, axis=0) / np.maximum(count - 1, 1)
    return np.where(count > 1, np.sqrt(var), np.nan)


def exceed_rate(window: np.ndarray, threshold: float, axis: int | tuple[int, ...]) -> np.ndarray:
    """Share of known cells above ``threshold`` (NaN when no cell is known)."""
    exceed = np.where(np.isnan(window), np.nan, (window > threshold).astype(float))
    return nanmean(exceed, axis)


def nonzero(value: float) -> float:
    return np.nan if np.isnan(value) or value == 0 else float(value)


# --- the target hours -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """The target hours of one issue day and the per-row layout of the feature frame."""

    issue_day: dt.date
    known_by: np.int64  # the issue time, microseconds
    hours: pd.DatetimeIndex  # UTC starts of the target hours
    hod: np.ndarray  # CPT hour of day of each target hour
    days: np.ndarray  # CPT operating day of each target hour
    n_nodes: int

    @property
    def known_a_day_before(self) -> np.int64:
        """24 hours before the issue time: what yesterday's forecast knew (for the forecasts' recent errors)."""
        return np.int64(self.known_by - _DAY_US)

    def per_node(self, values_by_hour: np.ndarray) -> np.ndarray:
        """A value per target hour repeated for every node (node-major order)."""
        return np.tile(np.asarray(values_by_hour, dtype=float), self.n_nodes)

    def by_node_hour(self, table: np.ndarray) -> np.ndarray:
        """[24, nodes] -> per (node, target hour), node-major."""
        return table[self.hod, :].T.reshape(-1)

    def by_node(self, values: np.ndarray) -> np.ndarray:
        """[nodes] -> per (node, target hour), node-major."""
        return np.repeat(np.asarray(values, dtype=float), len(self.hod))

    def span(self) -> tuple[pd.Timestamp, int, np.ndarray, np.ndarray]:
        """Hourly span covering the target days (and the hour before the first target, for ramps).

        Returns (start, hours, index of each target hour in the span, CPT day of each span hour).
        """
        start = min(self.hours[0] - ercot_time.HOUR, ercot_time.day_start(min(self.days)))
        end = ercot_time.day_start(max(self.days) + dt.timedelta(days=1))
        hours = pd.date_range(start, end, freq="h", inclusive="left")
        at_targets = np.asarray((self.hours - start) // ercot_time.HOUR, dtype=int)
        return start, len(hours), at_targets, ercot_time.operating_day_of(hours)

    def day_peaks(self, values: np.ndarray, span_days: np.ndarray) -> np.ndarray:
        """The max of ``values`` (one per span hour) over each target hour's CPT day."""
        peaks = {day: nanmax(values[span_days == day], 0) for day in set(self.days)}
        return np.asarray([peaks[day] for day in self.days], dtype=float)


def named(names: Sequence[str], *values: np.ndarray) -> dict[str, np.ndarray]:
    """Feature columns from their declared names and values, in order (a group declares each name once)."""
    if len(names) != len(values):
        raise ValueError(f"{len(values)} values for the {len(names)} declared columns {list(names)}")
    return dict(zip(names, values))
