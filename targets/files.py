"""Targets written once and atomically: a Parquet file checked against its schema, JSON, text, bytes.

Every write goes through the store (:mod:`targets.store`): the file appears complete or not at all,
an existing one is never replaced, and a writer that loses a race leaves nothing behind. A file
that exists but does not open (a Parquet file without its footer, JSON that does not parse) does
not count as existing: luigi sees the target as incomplete, and the rebuild sets the corrupt file
aside (``<name>.corrupt-<token>``, kept for inspection) before writing the good one.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import luigi
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pa_dataset
import pyarrow.parquet as pq

from targets.schema import Schema
from targets.store import LOCAL, Store, store_for

log = logging.getLogger("targets")
PARQUET_MAGIC = b"PAR1"


class FileTarget(luigi.Target):
    """A file under a store: complete when it exists and opens (:meth:`readable`)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self.store: Store = store_for(self.path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"

    def exists(self) -> bool:
        return self.store.exists(self.path) and self.readable()

    def readable(self) -> bool:
        """Whether the file opens as its format says (a truncated or garbled file does not)."""
        return True

    def present_but_corrupt(self) -> bool:
        return self.store.exists(self.path) and not self.readable()

    def _put(self, data: bytes) -> bool:
        """Write ``data`` once; False when a readable file was there already (another writer won)."""
        if self.present_but_corrupt():
            aside = self.store.set_aside(self.path, "corrupt")
            log.warning("%s did not open: set aside as %s and rebuilt", self.path, aside)
        return self.store.put_once(self.path, data)


class ParquetTarget(FileTarget):
    """A Parquet file whose frame is checked against ``schema`` on write and on read."""

    def __init__(self, path: Path | str, schema: Schema) -> None:
        super().__init__(path)
        self.schema = schema

    def readable(self) -> bool:
        """The footer parses: read from the end only (two small reads, also in an object store)."""
        try:
            end = self.store.read_tail(self.path, 8)
            if len(end) != 8 or end[4:] != PARQUET_MAGIC:
                return False
            footer = self.store.read_tail(self.path, int.from_bytes(end[:4], "little") + 8)
            pq.read_metadata(io.BytesIO(PARQUET_MAGIC + footer))
        except (OSError, ValueError):  # pyarrow: ArrowInvalid (a ValueError) or an I/O error
            return False
        return True

    def write(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Check ``frame`` and write it once, atomically; returns the conformed frame.

        When another producer wrote the file first (the same bytes: daily files are produced by a
        daily task and by a bulk range task with the same function), its file stays.
        """
        conformed = self.schema.conform(frame, where=self.path)
        buffer = io.BytesIO()
        conformed.to_parquet(buffer, index=False)
        self._put(buffer.getvalue())
        return conformed

    def write_once(self, frame: pd.DataFrame) -> bool:
        """Write unless the file exists already; False when another producer wrote it first."""
        if self.exists():
            return False
        conformed = self.schema.conform(frame, where=self.path)
        buffer = io.BytesIO()
        conformed.to_parquet(buffer, index=False)
        return self._put(buffer.getvalue())

    def read(self) -> pd.DataFrame:
        """The file's frame, checked against the schema."""
        source = self.path if self.store is LOCAL else io.BytesIO(self.store.read_bytes(self.path))
        return self.schema.conform(pd.read_parquet(source), where=self.path, check_key=False)

    def write_csv_twin(self, frame: pd.DataFrame) -> str:
        """A CSV copy beside the Parquet file (for spreadsheet users), also written once and atomically."""
        conformed = self.schema.conform(frame, where=self.path)
        csv = CsvTarget(self.csv_path)
        csv.write(conformed)
        return csv.path

    @property
    def csv_path(self) -> str:
        return self.path.removesuffix(".parquet") + ".csv"


def read_many(targets: Sequence[ParquetTarget]) -> pd.DataFrame:
    """The frames of many files of one schema, concatenated, in one read (much faster than a loop).

    Rows come in the order of ``targets``; the result is checked against the shared schema.
    """
    if not targets:
        raise ValueError("read_many needs at least one file")
    schemas = {id(t.schema) for t in targets}
    if len(schemas) != 1:
        raise ValueError("read_many reads files of one schema at a time")
    store = targets[0].store
    if store is LOCAL:
        table = pa_dataset.dataset([t.path for t in targets], format="parquet").to_table()
    else:
        tables = [pq.read_table(io.BytesIO(data)) for data in store.read_many([t.path for t in targets])]
        table = pa.concat_tables(tables, promote_options="default")
    where = f"{len(targets)} files from {targets[0].path}"
    return targets[0].schema.conform(table.to_pandas(), where=where, check_key=False)


class CsvTarget(FileTarget):
    def write(self, frame: pd.DataFrame) -> None:
        text = frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
        self._put(text.encode())


class JsonTarget(FileTarget):
    """A small JSON document (records, metrics), written once and atomically."""

    def readable(self) -> bool:
        try:
            json.loads(self.store.read_bytes(self.path))
        except (OSError, ValueError):
            return False
        return True

    def write(self, payload: Any) -> None:
        text = json.dumps(payload, indent=2, sort_keys=True, default=str, allow_nan=False)
        self._put((text + "\n").encode())

    def read(self) -> Any:
        return json.loads(self.store.read_bytes(self.path))


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
