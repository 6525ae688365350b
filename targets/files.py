"""Targets that write atomically: a Parquet file checked against its schema, a JSON record, a CSV twin.

Every write goes to a temporary file beside the final path and is renamed into place only after it
was written completely, so a crash never leaves a file that looks complete.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import luigi
import pandas as pd
import pyarrow.dataset as pa_dataset
from luigi.target import FileAlreadyExists

from targets.schema import Schema


class ParquetTarget(luigi.LocalTarget):
    """A Parquet file whose frame is checked against ``schema`` on write and on read."""

    def __init__(self, path: Path | str, schema: Schema) -> None:
        super().__init__(str(path))
        self.schema = schema

    def write(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Check ``frame`` and write it atomically; returns the conformed frame."""
        conformed = self.schema.conform(frame, where=self.path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with self.temporary_path() as tmp:
            conformed.to_parquet(tmp, index=False)
        return conformed

    def write_once(self, frame: pd.DataFrame) -> bool:
        """Write unless the file exists already; False when another producer wrote it first.

        Daily files can be produced by a daily task and by a bulk range task (same function, same
        bytes); whichever finishes first wins and the other keeps its result.
        """
        if self.exists():
            return False
        try:
            self.write(frame)
        except FileAlreadyExists:
            return False
        return True

    def read(self) -> pd.DataFrame:
        """The file's frame, checked against the schema."""
        return self.schema.conform(pd.read_parquet(self.path), where=self.path, check_key=False)

    def write_csv_twin(self, frame: pd.DataFrame) -> Path:
        """A CSV copy beside the Parquet file (for spreadsheet users), also written atomically."""
        conformed = self.schema.conform(frame, where=self.path)
        csv = CsvTarget(self.csv_path)
        csv.write(conformed)
        return Path(csv.path)

    @property
    def csv_path(self) -> Path:
        return Path(self.path).with_suffix(".csv")


def read_many(targets: Sequence[ParquetTarget]) -> pd.DataFrame:
    """The frames of many files of one schema, concatenated, in one read (much faster than a loop).

    Rows come in the order of ``targets``; the result is checked against the shared schema.
    """
    if not targets:
        raise ValueError("read_many needs at least one file")
    schemas = {id(t.schema) for t in targets}
    if len(schemas) != 1:
        raise ValueError("read_many reads files of one schema at a time")
    table = pa_dataset.dataset([t.path for t in targets], format="parquet").to_table()
    where = f"{len(targets)} files from {targets[0].path}"
    return targets[0].schema.conform(table.to_pandas(), where=where, check_key=False)


class CsvTarget(luigi.LocalTarget):
    def write(self, frame: pd.DataFrame) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with self.temporary_path() as tmp:
            frame.to_csv(tmp, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")


class JsonTarget(luigi.LocalTarget):
    """A small JSON document (records, metrics), written atomically."""

    def write(self, payload: Any) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(payload, indent=2, sort_keys=True, default=str, allow_nan=False)
        with self.temporary_path() as tmp:
            Path(tmp).write_text(text + "\n")

    def read(self) -> Any:
        return json.loads(Path(self.path).read_text())


class TextTarget(luigi.LocalTarget):
    """A text document (HTML report, status page), written atomically."""

    def write(self, text: str) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with self.temporary_path() as tmp:
            Path(tmp).write_text(text)

    def replace(self, text: str) -> None:
        """Write atomically over an existing version (a page that is rewritten, e.g. the status page)."""
        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        tmp.write_text(text)
        os.replace(tmp, path)


class BytesTarget(luigi.LocalTarget):
    """A binary file (PNG figure), written atomically."""

    def write(self, data: bytes) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with self.temporary_path() as tmp:
            Path(tmp).write_bytes(data)


class JsonLinesTarget(luigi.LocalTarget):
    """An append-only log of JSON records, one per line (run history, alert history).

    Each record is appended with a single ``write`` on a file opened for appending, so records
    from concurrent jobs never interleave; a line cut short by a crash is reported and skipped on
    reading (the records before and after it are intact).
    """

    def append(self, record: Any) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(record, sort_keys=True, default=str, allow_nan=False) + "\n").encode()
        with open(self.path, "a+b") as handle:  # appending: every write goes to the end
            size = handle.seek(0, os.SEEK_END)
            if size:
                handle.seek(size - 1)
                if handle.read(1) != b"\n":
                    line = b"\n" + line  # the previous writer died mid-line: start a fresh one
            handle.write(line)

    def read(self) -> tuple[list[dict[str, Any]], list[int]]:
        """The records, and the numbers of the lines that could not be parsed (cut short by a crash)."""
        if not self.exists():
            return [], []
        records, broken = [], []
        for number, line in enumerate(Path(self.path).read_text(encoding="utf-8").splitlines(), start=1):
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
