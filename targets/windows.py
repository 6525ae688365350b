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

A daily run is a new process, so the window can also be *kept on disk* between runs (``keep_in``, a
local folder): the next run's first read of that kind reuses the kept days whose files are unchanged
(the same path and the same identity on disk: inode, size and modification time) and read the same
way, and reads the day or two added since. Reading a year of daily feature files costs a few
milliseconds per file in Parquet's per-column overhead; the kept window is one Arrow file. It is a
cache: a kept file that is missing, cut short or not a kept window is ignored (with a warning) and
the days are read from their files.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import pandas as pd
import pyarrow as pa

from targets.files import ParquetTarget, read_many
from targets.stamp import digest
from targets.store import LOCAL, is_remote, join

log = logging.getLogger("targets")

DAY = "_day"
#: Files read at a time when a window is reduced while it is read: a week of a 100-node shard is
#: about 50,000 rows of every feature column, read and reduced before the next week is read.
CHUNK_DAYS = 7
#: A kept window is written again once more than this many of its days had to be read from their
#: files: a daily run adds a day or two to the window kept the day before, and a backtest, whose
#: consecutive windows are served from memory, writes its first window only.
REKEEP_DAYS = CHUNK_DAYS
_KEPT_KEY = b"rtlmp_window"


class Reduction(Protocol):
    """What a reader keeps of a window's rows: ``__call__`` reduces a frame of whole days (with the
    ``_day`` column); ``key`` names how a day is reduced (equal keys: equal results)."""

    def key(self, day: dt.date) -> str: ...

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame: ...


_WHOLE = "whole"


class RollingReader:
    def __init__(self) -> None:
        # kind -> (identity of each day's file, how each day was read, the rows)
        self._last: dict[str, tuple[dict[dt.date, str], dict[dt.date, str], pd.DataFrame]] = {}

    def read(self, kind: str, targets: Mapping[dt.date, ParquetTarget],
             day_of: Callable[[pd.DataFrame], object], reduce: Reduction | None = None,
             nodes: Sequence[str] | None = None, columns: Sequence[str] | None = None,
             keep_in: str | None = None) -> pd.DataFrame:
        """The files of ``targets`` in one frame with a ``_day`` column, ordered by day then by row.

        ``day_of`` gives each row's day from a freshly read frame. A sub-window of the last window
        of this kind (e.g. the gate's validation days inside a training window) is served without
        replacing it, so the next overlapping window still finds it. With ``reduce``, the rows are
        what it keeps of them (read :data:`CHUNK_DAYS` files at a time). With ``nodes``, only those
        nodes' rows are read (:func:`~targets.files.read_many`): a shard's share of files that hold
        every node. With ``columns``, only those of the files' extra columns are read (the schema's
        declared columns always are). With ``keep_in`` (a local folder), the window is also kept
        there for the next process (see the module doc).
        """
        files = {day: _identity(target) for day, target in targets.items()}
        rows = _WHOLE if nodes is None else "nodes-" + digest(list(nodes))
        read = _WHOLE if columns is None else "columns-" + digest(list(columns))
        keys = {day: f"{reduce.key(day) if reduce is not None else _WHOLE}/{rows}/{read}" for day in targets}
        kept = None if keep_in is None else join(keep_in, f"{kind}.arrow")
        cached_files, cached_keys, cached = self._last.get(kind) or _load_kept(kept) or ({}, {}, None)
        reuse = {day for day, file in files.items() if cached_files.get(day) == file and cached_keys.get(day) == keys[day]}
        if cached is not None and reuse == set(files):
            return _rows_of(cached, reuse, cached_files).reset_index(drop=True)
        parts = [_rows_of(cached, reuse, cached_files)] if reuse and cached is not None else []
        missing = sorted(set(files) - reuse)
        step = CHUNK_DAYS if reduce is not None else max(len(missing), 1)
        for first in range(0, len(missing), step):
            fresh = read_many([targets[day] for day in missing[first:first + step]], nodes, columns)
            fresh = fresh.assign(**{DAY: day_of(fresh)})
            parts.append(reduce(fresh) if reduce is not None else fresh)
        frame = pd.concat(parts, ignore_index=True)
        if not frame[DAY].is_monotonic_increasing:  # a rolling window only appends later days
            frame = frame.sort_values(DAY, kind="stable", ignore_index=True)
        self._last[kind] = (files, keys, frame)
        if kept is not None and len(missing) > REKEEP_DAYS:
            _keep(kept, files, keys, frame)
        return frame


def _rows_of(frame: pd.DataFrame, days: set[dt.date], held: Mapping[dt.date, str]) -> pd.DataFrame:
    """The rows of ``frame`` (ordered by day, holding the days of ``held``) whose day is in ``days``.

    A rolling window keeps a run of consecutive days (the window drops its first days and appends
    new ones), whose rows are a slice of the frame: taken as such, without testing every row.
    """
    first, last = min(days), max(days)
    if all(day in days for day in held if first <= day <= last):
        day_of_row = frame[DAY].to_numpy()
        start, end = day_of_row.searchsorted(first, side="left"), day_of_row.searchsorted(last, side="right")
        return frame.iloc[start:end]
    return frame[frame[DAY].isin(days)]


def _identity(target: ParquetTarget) -> str:
    """A file's path and its identity on disk (a local file's inode, size and modification time; objects,
    written once, have none cheaply)."""
    return f"{target.path}@{target.store.version(target.path)}"


def _keep(path: str, files: Mapping[dt.date, str], keys: Mapping[dt.date, str], frame: pd.DataFrame) -> None:
    """Write ``frame`` to ``path`` as an Arrow file, with what each day was read from and how."""
    if is_remote(path):
        raise ValueError(f"a window is kept in a local folder only, not in {path}")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    index = json.dumps({day.isoformat(): [files[day], keys[day]] for day in files}).encode()
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _KEPT_KEY: index})

    def write(handle: object) -> None:
        with pa.ipc.new_file(handle, table.schema) as writer:
            writer.write_table(table)

    LOCAL.put(path, write, sync=False)


def _load_kept(path: str | None) -> tuple[dict[dt.date, str], dict[dt.date, str], pd.DataFrame] | None:
    """The window kept in ``path`` (None: nothing usable kept there)."""
    if path is None or not os.path.isfile(path):
        return None
    try:
        # Read whole, then parsed: Arrow's file reader would fetch it from disk buffer by buffer.
        table = pa.ipc.open_file(pa.BufferReader(LOCAL.read_bytes(path))).read_all()
        index = {dt.date.fromisoformat(day): (file, key)
                 for day, (file, key) in json.loads(table.schema.metadata[_KEPT_KEY]).items()}
        frame = table.to_pandas()
    except (OSError, ValueError, KeyError, TypeError) as exc:  # cut short, garbled, or not a kept window
        log.warning("the window kept in %s is not usable (%s): its days are read from their files", path, exc)
        return None
    return {day: file for day, (file, _) in index.items()}, {day: key for day, (_, key) in index.items()}, frame
