"""Canonical frames from simulated arrays: interval grids of key days, long frames, publication times.

Responsibility: the only place where simulated numbers meet the pipeline's storage contract
(:data:`targets.schemas.DATASETS`): interval starts per key day (DST-aware, via
:mod:`pipeline.ercot_time`), the long row layout of each dataset and its ``published_at`` from the
publication-time table, so simulated files look exactly like downloaded ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline import ercot_time
from pipeline.publication import rule_for
from pipeline.sources.synthetic.time_axis import epoch_hours
from targets.schemas import DATASETS


@dataclass(frozen=True)
class IntervalGrid:
    """Interval starts of several key days, concatenated day by day."""

    starts_us: np.ndarray  # int64 UTC microseconds
    day_of_row: np.ndarray  # position of each interval's key day in ``days``
    days: tuple[dt.date, ...]

    @property
    def hours(self) -> np.ndarray:
        """Interval starts as float hours since the epoch (the simulator's time coordinate)."""
        return epoch_hours(self.starts_us)


def interval_grid(days: Sequence[dt.date], minutes: int, span_days: int = 1) -> IntervalGrid:
    """Every ``minutes`` interval of ``span_days`` operating days from each key day (DST-aware)."""
    step = minutes * 60_000_000
    starts, owners = [], []
    for position, day in enumerate(days):
        first = ercot_time.day_start(day).value // 1000
        end = ercot_time.day_start(day + dt.timedelta(days=span_days)).value // 1000
        block = np.arange(first, end, step, dtype=np.int64)
        starts.append(block)
        owners.append(np.full(len(block), position, dtype=np.int64))
    return IntervalGrid(np.concatenate(starts), np.concatenate(owners), tuple(days))


def _utc(starts_us: np.ndarray) -> pd.DatetimeIndex:
    """int64 UTC microseconds as a tz-aware index (the canonical timestamp columns)."""
    return pd.DatetimeIndex(starts_us.astype("datetime64[us]")).tz_localize("UTC")


def published_at(
    dataset: str, grid: IntervalGrid, row_starts_us: np.ndarray, row_day: np.ndarray, minutes: int
) -> np.ndarray:
    """``published_at`` (int64 UTC microseconds) per row, from the publication-time table."""
    rule = rule_for(dataset)
    if rule.local_time is not None:
        per_day = np.array([rule.available_at(day).value // 1000 for day in grid.days], dtype=np.int64)
        return per_day[row_day]
    stamped = rule.stamp(pd.Series(_utc(row_starts_us)), minutes, grid.days[0])
    return pd.DatetimeIndex(stamped).as_unit("us").asi8


def long_frame(
    dataset: str,
    grid: IntervalGrid,
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
    "ancillary_prices": ("service", "price"),
    "load": ("zone", "load_mw"),
    "load_forecast": ("zone", "load_mw"),
    "renewables": ("fuel", "generation_mw"),
    "renewables_forecast": ("fuel", "generation_mw"),
    "weather": ("location", "temperature_c"),
    "weather_forecast": ("location", "temperature_c"),
}


def split_by_day(frame: pd.DataFrame, grid: IntervalGrid, rows_per_interval: int) -> dict[dt.date, pd.DataFrame]:
    """One frame per key day (rows of a day are contiguous by construction)."""
    counts = np.bincount(grid.day_of_row, minlength=len(grid.days)) * rows_per_interval
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return {
        day: frame.iloc[bounds[i] : bounds[i + 1]].reset_index(drop=True) for i, day in enumerate(grid.days)
    }

