"""Targets written once and atomically: a Parquet file checked against its schema, JSON, text, bytes.

Every write goes through the store (:mod:`targets.store`): the file appears complete or not at all,
an existing one is never replaced, and a writer that loses a race leaves nothing behind. A file
that exists but does not open (a Parquet file without its footer, JSON that does not parse) does
not count as existing: luigi sees the target as incomplete, and the rebuild sets the corrupt file
aside (``<name>.corrupt-<token>``, kept for inspection) before writing the good one.
"""

from __future__ import annotations

import copy
import io
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import luigi
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pa_dataset
import pyarrow.parquet as pq

from targets.schema import Schema
from targets.stamp import PARQUET_KEY, STAMP_KEY, Stamp, why_not_current
from targets.store import LOCAL, Store, store_for

log = logging.getLogger("targets")
PARQUET_MAGIC = b"PAR1"
#: Bytes read from a Parquet file's end to parse its footer: a daily feature file's footer (114
#: columns) is about 26 KiB, a raw day's 2 KiB; a longer footer costs a second read.
FOOTER_READ = 64 * 1024


class FileTarget(luigi.Target):
    """A file under a store: complete when it exists and is valid (:meth:`problem` says why not)."""

    #: What a file of this kind that exists but fails its check is set aside as.
    invalid_reason = "corrupt"

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self.store: Store = store_for(self.path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"

    def exists(self) -> bool:
        return self.store.exists(self.path) and self.problem() is None

    def readable(self) -> bool:
        """Whether the file opens as its format says (a truncated or garbled file does not)."""
        return True

    def problem(self) -> str | None:
        """None when the file is valid; else what is wrong with it, in a few words (it must exist)."""
        return None if self.readable() else "it does not open (cut short or garbled)"

    def present_but_corrupt(self) -> bool:
        return self.store.exists(self.path) and self.problem() is not None

    def set_aside(self, reason: str, why: str) -> str:
        """Move the file out of the way (kept beside it for inspection) with one log line saying why."""
        aside = self.store.set_aside(self.path, reason)
        forget_footer(self.path)
        log.warning("%s: %s; set aside as %s", self.path, why, aside)
        return aside

    def _clear_for(self, expected: Stamp | None) -> bool:
        """Make room for a write made under ``expected``; False when the file there is already that one.

        An invalid file is set aside as ``<name>.corrupt-<token>`` (or the kind's reason); a valid one
        made from other settings or inputs as ``<name>.superseded-<token>``, so the published history
        is kept beside the new file.
        """
        forget_footer(self.path)  # decide on the file as it is now, not as this process last saw it
        if not self.store.exists(self.path):
            return True
        problem = self.problem()
        if problem is not None:
            self.set_aside(self.invalid_reason, f"{problem}: rebuilding it")
            return True
        if expected is None:
            return False
        why = why_not_current(self.stamp(), expected)
        if why is None:
            return False
        self.set_aside("superseded", f"made before {why}: remaking it")
        return True

    def stamp(self) -> Stamp | None:
        """The stamp recorded in the file (None: none, or a kind of file that carries none)."""
        return None

    def current(self, expected: Stamp) -> bool:
        """Complete for ``expected``: the file exists, is valid and was made from those settings and inputs."""
        if not self.exists():
            return False
        found = self.stamp()
        return found is not None and found.made_from == expected.made_from

    def _put(self, data: bytes, expected: Stamp | None = None) -> bool:
        """Write ``data`` once; False when the right file was there already (another writer won)."""
        if not self._clear_for(expected):
            return False
        written = self.store.put_once(self.path, data)
        forget_footer(self.path)
        return written


class ParquetTarget(FileTarget):
    """A Parquet file whose frame is checked against ``schema`` on write and on read.

    Its stamp is kept in the file's key-value metadata, so checking that a file is current reads
    only its footer.
    """

    def __init__(self, path: Path | str, schema: Schema) -> None:
        super().__init__(path)
        self.schema = schema

    def footer(self) -> Footer | None:
        """What the footer holds (read from the file's last :data:`FOOTER_READ` bytes, also in an object
        store); None when it does not parse.

        Only the last :data:`PARSED_FOOTERS` are kept; what is worked out from a footer is remembered
        for every file (:meth:`_footer_says`).
        """
        version = self.store.version(self.path) or REMOTE_VERSION
        recent = _PARSED.pop(self.path, None)
        if recent is None or recent[0] != version:
            recent = (version, self._parse())
        _PARSED[self.path] = recent
        if len(_PARSED) > PARSED_FOOTERS:
            del _PARSED[next(iter(_PARSED))]
        return recent[1]

    def _parse(self) -> Footer | None:
        try:
            tail = self.store.read_tail(self.path, FOOTER_READ)  # one read (one request) for most footers
            if len(tail) < 8 or tail[-4:] != PARQUET_MAGIC:
                return None
            length = int.from_bytes(tail[-8:-4], "little") + 8
            if length > len(tail) and len(tail) == FOOTER_READ:  # a footer longer than the first read
                tail = self.store.read_tail(self.path, length)
            tail = tail[-length:]
            # Through ParquetFile, not FileMetaData.schema: that one ties the parsed footer in a
            # reference cycle, held until the garbage collector runs (a quarter of a megabyte per
            # feature file, hundreds of megabytes over a year of a shard's completeness checks).
            parsed = pq.ParquetFile(io.BytesIO(PARQUET_MAGIC + tail))
            return Footer(parsed.schema_arrow, parsed.metadata.num_rows, parsed.metadata.metadata or {})
        except (OSError, ValueError):  # pyarrow: ArrowInvalid (a ValueError) or an I/O error
            return None

    def _footer_says(self, key: object, work_out: Callable[[Footer | None], Any]) -> Any:
        """``work_out(footer)``, remembered under ``key`` per process and file version.

        A local file's version is its identity on disk; an object's holds until this process writes
        or sets it aside (objects are written once, and a write always reads afresh first).
        """
        version = self.store.version(self.path) or REMOTE_VERSION
        cached = _FOOTERS.get(self.path)
        if cached is None or cached[0] != version:
            if len(_FOOTERS) >= FOOTER_CACHE_SIZE:
                _FOOTERS.clear()
            cached = _FOOTERS[self.path] = (version, {})
        if key not in cached[1]:
            cached[1][key] = work_out(self.footer())
        return cached[1][key]

    def readable(self) -> bool:
        return self._footer_says("readable", lambda footer: footer is not None)

    def problem(self) -> str | None:
        """What the footer says is wrong: it does not parse, a declared column is missing or of the
        wrong type, or the file holds no rows where the schema wants some. Subclasses add content checks."""
        return self._footer_says(self.schema, lambda footer: "it does not open (cut short or garbled)"
                                 if footer is None else footer_problem(self.schema, footer))

    def stamp(self) -> Stamp | None:
        return self._footer_says(PARQUET_KEY, lambda footer: Stamp.from_json(footer.metadata.get(PARQUET_KEY))
                                 if footer is not None else None)

    def encode(self, frame: pd.DataFrame, stamp: Stamp | None = None) -> tuple[pd.DataFrame, bytes]:
        """The conformed frame and the Parquet bytes that hold it (and ``stamp``)."""
        conformed = self.schema.conform(frame, where=self.path)
        table = arrow_table(conformed)
        if stamp is not None:
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), PARQUET_KEY: stamp.to_json().encode()})
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        return conformed, buffer.getvalue()

    def write(self, frame: pd.DataFrame, stamp: Stamp | None = None) -> pd.DataFrame:
        """Check ``frame`` and write it once, atomically, with ``stamp``; returns the conformed frame.

        A file already there that is invalid, or current for other settings or inputs, is set aside
        first. A current one stays (daily files are produced by a daily task and by a bulk range task
        with the same function, so it holds the same rows).
        """
        conformed, data = self.encode(frame, stamp)
        self._put(data, stamp)
        return conformed

    def write_once(self, frame: pd.DataFrame, stamp: Stamp | None = None) -> bool:
        """Write unless the right file exists already; False when it did (or another producer won)."""
        if self.exists() and (stamp is None or self.current(stamp)):
            return False
        _, data = self.encode(frame, stamp)
        return self._put(data, stamp)

    def read(self) -> pd.DataFrame:
        """The file's frame, checked against the schema."""
        source = self.path if self.store is LOCAL else io.BytesIO(self.store.read_bytes(self.path))
        return self.schema.conform(pd.read_parquet(source), where=self.path, check_key=False)


FLOAT_BLOCK_MIN = 16


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """A conformed frame (unique column names) as an Arrow table, with the types and nulls
    ``Table.from_pandas`` gives (NaN becomes null).

    ``Table.from_pandas`` works column by column through pandas' metadata, and a pandas Series per
    column costs ~25 µs: most of the time for a day's 114-column feature file (13 ms). The float
    columns here are taken as one 2-D array instead (2 ms).
    """
    floats = [name for name, dtype in frame.dtypes.items() if dtype.kind == "f"]
    arrays: dict[str, pa.Array] = {}
    if len(floats) > FLOAT_BLOCK_MIN:  # selecting the block has a fixed cost of its own (~0.5 ms)
        block = np.ascontiguousarray(frame[floats].to_numpy(dtype="float64").T)
        missing = np.isnan(block)
        for row, name in enumerate(floats):
            arrays[name] = _with_nulls(block[row], missing[row])
    for name in frame.columns:
        if name not in arrays:
            arrays[name] = _arrow_array(frame[name])
    return pa.Table.from_arrays([arrays[name] for name in frame.columns], names=[str(name) for name in frame.columns])


def _arrow_array(column: pd.Series) -> pa.Array:
    dtype = column.dtype
    if dtype.kind == "f":
        values = column.to_numpy()
        return _with_nulls(values, np.isnan(values))
    if dtype.kind in "iub":
        return pa.array(column.to_numpy())
    if isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC":  # a quarter of from_pandas' cost
        values = column.to_numpy(dtype=f"datetime64[{dtype.unit}]")
        return _with_nulls(values, np.isnat(values), pa.timestamp(dtype.unit, tz="UTC"))
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        return pa.array(column.array)  # the Arrow data it holds already
    return pa.Array.from_pandas(column)


def _with_nulls(values: np.ndarray, missing: np.ndarray, kind: pa.DataType | None = None) -> pa.Array:
    return pa.array(values, type=kind, mask=missing if missing.any() else None)


class Footer(NamedTuple):
    """What a Parquet file's footer says: its Arrow schema, its row count and its key-value metadata."""

    arrow: pa.Schema
    num_rows: int
    metadata: dict[bytes, bytes]


def footer_problem(schema: Schema, footer: Footer) -> str | None:
    """What the footer of a file of ``schema`` says is wrong with it (None: nothing)."""
    arrow = footer.arrow
    names = set(arrow.names)
    missing = [c for c in schema.columns if c not in names]
    if missing:
        return f"missing column(s) {missing} of {schema.name}"
    if schema.extra is None:
        extra = sorted(names - set(schema.columns) - {"__index_level_0__"})
        if extra:
            return f"unexpected column(s) {extra} for {schema.name}"
    if footer.num_rows == 0 and not schema.allow_empty:
        return "it holds no rows"
    for column, kind in schema.columns.items():
        if not _ARROW_KINDS[kind](arrow.field(column).type) and footer.num_rows:
            return f"column '{column}' holds {arrow.field(column).type}, not {kind}"
    return None


def _is_utc(kind: pa.DataType) -> bool:
    return pa.types.is_timestamp(kind) and kind.tz in ("UTC", "+00:00", "Etc/UTC")


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)


_ARROW_KINDS = {
    "utc": _is_utc,
    "date": lambda t: pa.types.is_date(t) or pa.types.is_timestamp(t),
    "str": _is_text,
    "float": lambda t: pa.types.is_floating(t) or pa.types.is_integer(t),
    "int": pa.types.is_integer,
    "bool": pa.types.is_boolean,
}

# What was worked out from each file's footer (its verdict per schema, its stamp), keyed by path and
# checked against the file's identity (inode, size, modification time; objects in a store:
# REMOTE_VERSION until forgotten): a window's completeness is checked file by file at every training
# of a backtest, and converting a footer's schema to Arrow costs far more than the check itself.
FOOTER_CACHE_SIZE = 200_000
REMOTE_VERSION = "object"
_FOOTERS: dict[str, tuple[str, dict[object, Any]]] = {}

# The last footers parsed, for the facts asked of a file one after another (valid? then its stamp).
PARSED_FOOTERS = 64
_PARSED: dict[str, tuple[str, Footer | None]] = {}

_DOCUMENTS: dict[str, tuple[str, Any]] = {}


def forget_footer(path: str) -> None:
    """Forget what this process read of ``path`` (after it wrote or moved the file)."""
    _FOOTERS.pop(path, None)
    _PARSED.pop(path, None)
    _DOCUMENTS.pop(path, None)


def read_many(targets: Sequence[ParquetTarget], nodes: Sequence[str] | None = None,
              columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The frames of many files of one schema, concatenated, in one read (much faster than a loop).

    Rows come in the order of ``targets``; the result is checked against the shared schema. With
    ``nodes``, only rows whose ``node`` is one of them are kept, filtered before they become a
    frame (a shard reading files that hold every node). With ``columns``, only those of the
    schema's extra columns are read (the declared ones always are): a training window decodes the
    features its model reads, not every column of the files.
    """
    if not targets:
        raise ValueError("read_many needs at least one file")
    schemas = {id(t.schema) for t in targets}
    if len(schemas) != 1:
        raise ValueError("read_many reads files of one schema at a time")
    store, schema = targets[0].store, targets[0].schema
    keep = pc.field("node").isin(list(nodes)) if nodes is not None else None
    if store is LOCAL:
        dataset = pa_dataset.dataset([t.path for t in targets], format="parquet")
        table = dataset.to_table(filter=keep, columns=_projection(schema, dataset.schema.names, columns))
    else:
        objects, tables = store.read_many([t.path for t in targets]), []
        for k, data in enumerate(objects):
            objects[k] = b""  # each object's bytes go once decoded, its other nodes' rows once filtered
            tables.append(_object_table(data, schema, columns, keep))
        table = pa.concat_tables(tables, promote_options="default")
    where = f"{len(targets)} files from {targets[0].path}"
    return schema.conform(table.to_pandas(), where=where, check_key=False)


def _object_table(data: bytes, schema: Schema, columns: Sequence[str] | None, keep: pc.Expression | None) -> pa.Table:
    """One object's table: its projected columns (:func:`_projection`), its rows kept by ``keep``."""
    source = io.BytesIO(data)
    names = pq.read_schema(source).names if columns is not None else []
    table = pq.read_table(source, columns=_projection(schema, names, columns))
    return table.filter(keep) if keep is not None else table


def _projection(schema: Schema, names: Sequence[str], columns: Sequence[str] | None) -> list[str] | None:
    """The columns of a file (``names``, in its order) to read: every declared column of ``schema`` and
    those of ``columns`` it holds (None: all)."""
    if columns is None:
        return None
    wanted = set(schema.columns).union(columns)
    return [name for name in names if name in wanted]


class JsonTarget(FileTarget):
    """A small JSON document (records, metrics), written once and atomically.

    A mapping can carry a stamp (under :data:`targets.stamp.STAMP_KEY`); :meth:`read` returns the
    document without it. ``validate`` (optional) checks the document's shape and says what is
    wrong, so a record replaced by something else (``[]``) counts as invalid, not as a record.
    """

    def __init__(self, path: Path | str, validate: Callable[[Any], str | None] | None = None) -> None:
        super().__init__(path)
        self.validate = validate

    def _document(self) -> Any:
        """The parsed document, remembered like a Parquet footer (a copy: callers may change theirs)."""
        version = self.store.version(self.path) or REMOTE_VERSION
        cached = _DOCUMENTS.get(self.path)
        if cached is None or cached[0] != version:
            cached = (version, json.loads(self.store.read_bytes(self.path)))
            if len(_DOCUMENTS) >= FOOTER_CACHE_SIZE:
                _DOCUMENTS.clear()
            _DOCUMENTS[self.path] = cached
        return copy.deepcopy(cached[1])

    def readable(self) -> bool:
        return self.problem() is None

    def problem(self) -> str | None:
        try:
            document = self._document()
        except (OSError, ValueError):
            return "it is not valid JSON (cut short or garbled)"
        if self.validate is not None:
            if isinstance(document, dict):
                document = {k: v for k, v in document.items() if k != STAMP_KEY}
            return self.validate(document)
        return None

    def write(self, payload: Any, stamp: Stamp | None = None) -> None:
        if stamp is not None:
            if not isinstance(payload, dict):
                raise TypeError(f"{self.path}: only a mapping can carry a stamp, not {type(payload).__name__}")
            payload = {**payload, STAMP_KEY: stamp.to_dict()}
        text = json.dumps(payload, indent=2, sort_keys=True, default=str, allow_nan=False)
        self._put((text + "\n").encode(), stamp)

    def read(self) -> Any:
        document = self._document()
        if isinstance(document, dict):
            document.pop(STAMP_KEY, None)
        return document

    def stamp(self) -> Stamp | None:
        try:
            document = self._document()
        except (OSError, ValueError):
            return None
        return Stamp.from_dict(document.get(STAMP_KEY)) if isinstance(document, dict) else None


class TextTarget(FileTarget):
    """A text document (HTML report, status page), written once and atomically."""

    def write(self, text: str) -> None:
        self._put(text.encode())

    def replace(self, text: str) -> None:
        """Write atomically over an existing version (a page that is rewritten, e.g. the status page)."""
        self.store.put(self.path, text.encode())


class BytesTarget(FileTarget):
    """A binary file (PNG figure), written once and atomically."""

    def write(self, data: bytes) -> None:
        self._put(data)


class JsonLinesTarget(FileTarget):
    """An append-only log of JSON records, one per line (run history, alert history).

    Each record is appended with a single write, so records from concurrent jobs never interleave;
    a line cut short by a crash is reported and skipped on reading (the records before and after it
    are intact).
    """

    def append(self, record: Any) -> None:
        line = (json.dumps(record, sort_keys=True, default=str, allow_nan=False) + "\n").encode()
        self.store.append(self.path, line)

    def read(self) -> tuple[list[dict[str, Any]], list[int]]:
        """The records, and the numbers of the lines that could not be parsed (cut short by a crash)."""
        if not self.store.exists(self.path):
            return [], []
        records, broken = [], []
        for number, line in enumerate(self.store.read_bytes(self.path).decode("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                broken.append(number)
                continue
            if isinstance(record, dict):
                records.append(record)
            else:
                broken.append(number)
        return records, broken
