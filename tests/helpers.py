"""Assertions and file edits shared by the tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from targets.schema import Schema
from targets.stamp import PARQUET_KEY as STAMP_PARQUET_KEY


def assert_canonical(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """``frame`` conforms to ``schema``, its time columns are UTC and intervals are aligned."""
    conformed = schema.conform(frame)
    for column, kind in schema.columns.items():
        if kind == "utc":
            assert str(conformed[column].dt.tz) == "UTC", f"{column} is not UTC"
    starts = conformed["interval_start"]
    assert (starts.dt.second == 0).all() and (starts.dt.minute % 5 == 0).all(), "interval starts off the 5-minute grid"
    if "published_at" in conformed and schema.name in {"rt_prices", "load", "renewables", "weather", "rt_hourly"}:
        # Actuals become public only after their interval has started (in fact after it ends).
        assert (conformed["published_at"] > starts).all(), "an actual value is published before its interval"
    return conformed


def rewrite_parquet(path: Path, frame: pd.DataFrame) -> None:
    """Replace the Parquet file at ``path`` by ``frame``, keeping the stamp the file carries.

    What a source would have published with other values: the file still says it was read from the
    same source and settings, so the pipeline uses its values (a file without its stamp would be
    read again from the source).
    """
    metadata = pq.read_metadata(path).metadata or {}
    stamp = {STAMP_PARQUET_KEY: metadata[STAMP_PARQUET_KEY]} if STAMP_PARQUET_KEY in metadata else {}
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **stamp})
    path.unlink()
    pq.write_table(table, path)
