"""Rolling windows of daily files: consecutive training windows read only the days they add.

A backtest trains a model every second day on the year before it, so consecutive windows share all
but a couple of days. Files are immutable, so the rows already read for one window can serve the
next. A :class:`RollingReader` is an explicit cache, owned by the tasks that read such windows; it
remembers the last window of each kind and reuses only rows of the very same files.

A window can also be *reduced while it is read* (a :class:`Reduction`, e.g. a training window's
calm hours sampled and unused columns dropped): its files are then read a chunk of days at a time
and each chunk reduced before the next is read, so the whole window never sits in memory at once.
The cache remembers how each day was reduced, and reuses a day only if it would be reduced the same
way again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import pandas as pd

from targets.files import ParquetTarget, read_many
from targets.stamp import digest

DAY = "_day"
#: Files read at a time when a window is reduced while it is read: a week of a 100-node shard is
#: about 50,000 rows of every feature column, read and reduced before the next week is read.
CHUNK_DAYS = 7


class Reduction(Protocol):
    """What a reader keeps of a window's rows: ``__call__`` reduces a frame of whole days (with the
    ``_day`` column); ``key`` names how a day is reduced (equal keys: equal results)."""

    def key(self, day: dt.date) -> str: ...

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame: ...


_WHOLE = "whole"


class RollingReader:
    def __init__(self) -> None:
        # kind -> (path of each day, how each day was reduced, the rows)
        self._last: dict[str, tuple[dict[dt.date, str], dict[dt.date, str], pd.DataFrame]] = {}

    def read(self, kind: str, targets: Mapping[dt.date, ParquetTarget],
             day_of: Callable[[pd.DataFrame], object], reduce: Reduction | None = None,
             nodes: Sequence[str] | None = None, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The files of ``targets`` in one frame with a ``_day`` column, ordered by day then by row.

        ``day_of`` gives each row's day from a freshly read frame. A sub-window of the last window
        of this kind (e.g. the gate's validation days inside a training window) is served without
        replacing it, so the next overlapping window still finds it. With ``reduce``, the rows are
        what it keeps of them (read :data:`CHUNK_DAYS` files at a time). With ``nodes``, only those
        nodes' rows are read (:func:`~targets.files.read_many`): a shard's share of files that hold
        every node. With ``columns``, only those of the files' extra columns are read (the schema's
        declared columns always are).
        """
        paths = {day: target.path for day, target in targets.items()}
        rows = _WHOLE if nodes is None else "nodes-" + digest(list(nodes))
        read = _WHOLE if columns is None else "columns-" + digest(list(columns))
        keys = {day: f"{reduce.key(day) if reduce is not None else _WHOLE}/{rows}/{read}" for day in targets}
        cached_paths, cached_keys, cached = self._last.get(kind, ({}, {}, None))
        reuse = {day for day, path in paths.items()
                 if cached_paths.get(day) == path and cached_keys.get(day) == keys[day]}
        if cached is not None and reuse == set(paths):
            return cached[cached[DAY].isin(reuse)].reset_index(drop=True)
        parts = [cached[cached[DAY].isin(reuse)]] if reuse and cached is not None else []
        missing = sorted(set(paths) - reuse)
        step = CHUNK_DAYS if reduce is not None else max(len(missing), 1)
        for first in range(0, len(missing), step):
            fresh = read_many([targets[day] for day in missing[first:first + step]], nodes, columns)
            fresh = fresh.assign(**{DAY: day_of(fresh)})
            parts.append(reduce(fresh) if reduce is not None else fresh)
        frame = pd.concat(parts, ignore_index=True)
        if not frame[DAY].is_monotonic_increasing:  # a rolling window only appends later days
            frame = frame.sort_values(DAY, kind="stable", ignore_index=True)
        self._last[kind] = (paths, keys, frame)
        return frame
