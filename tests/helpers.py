"""Assertions shared by the tests of every data source."""

from __future__ import annotations

import pandas as pd

from targets.schema import Schema


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
