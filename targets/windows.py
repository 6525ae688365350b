"""Rolling windows of daily files: consecutive training windows read only the days they add.

A backtest trains a model every second day on the year before it, so consecutive windows share all
but a couple of days. Files are immutable, so the rows already read for one window can serve the
next. A :class:`RollingReader` is an explicit cache, owned by the tasks that read such windows; it
remembers the last window of each kind and reuses only rows of the very same files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

import pandas as pd

from targets.files import ParquetTarget, read_many

DAY = "_day"


class RollingReader:
    def __init__(self) -> None:
        self._last: dict[str, tuple[dict[dt.date, str], pd.DataFrame]] = {}

    def read(self, kind: str, targets: Mapping[dt.date, ParquetTarget],
             day_of: Callable[[pd.DataFrame], object]) -> pd.DataFrame:
        """The files of ``targets`` in one frame with a ``_day`` column, ordered by day then by row.

        ``day_of`` gives each row's day from a freshly read frame. A sub-window of the last window
        of this kind (e.g. the gate's validation days inside a training window) is served without
        replacing it, so the next overlapping window still finds it.
        """
        paths = {day: target.path for day, target in targets.items()}
        cached_paths, cached = self._last.get(kind, ({}, None))
        reuse = {day for day, path in paths.items() if cached_paths.get(day) == path}
        if cached is not None and reuse == set(paths):
            return cached[cached[DAY].isin(reuse)].reset_index(drop=True)
        parts = [cached[cached[DAY].isin(reuse)]] if reuse and cached is not None else []
        missing = sorted(set(paths) - reuse)
        if missing:
            fresh = read_many([targets[day] for day in missing])
            parts.append(fresh.assign(**{DAY: day_of(fresh)}))
        frame = pd.concat(parts, ignore_index=True)
        if not frame[DAY].is_monotonic_increasing:  # a rolling window only appends later days
            frame = frame.sort_values(DAY, kind="stable", ignore_index=True)
        self._last[kind] = (paths, frame)
        return frame
