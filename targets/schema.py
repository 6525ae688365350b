"""Declared frame schemas: column kinds, time zones, keys, and whether emptiness is allowed.

``Schema.conform`` is the one gate every frame passes before it is written (and after it is read):
it checks that the declared columns exist with convertible types, that timestamps are tz-aware
(stored as UTC), that key columns are unique and non-null, and returns the frame with canonical
dtypes and column order. Errors name the schema, the column and the offending value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

Kind = Literal["utc", "date", "str", "float", "int", "bool"]
TS_UNIT = "us"
_UTC_DTYPE = pd.DatetimeTZDtype(unit=TS_UNIT, tz="UTC")


class SchemaError(ValueError):
    """A frame does not match its declared schema."""


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: schemas are module constants
class Schema:
    name: str
    columns: dict[str, Kind]
    key: tuple[str, ...] = ()
    allow_empty: bool = False
    # Extra columns of this kind are allowed (e.g. the many numeric feature columns).
    extra: Kind | None = None
    # Columns that may hold nulls (NaN / NaT); every other column must be complete.
    nullable: frozenset[str] = field(default_factory=frozenset)

    def conform(self, frame: pd.DataFrame, where: str = "", check_key: bool = True) -> pd.DataFrame:
        """``frame`` with canonical dtypes and column order, or :class:`SchemaError`.

        ``check_key=False`` skips the (costly) uniqueness check, for frames read back from files
        that passed it when they were written.
        """
        label = f"{self.name}{f' ({where})' if where else ''}"
        if not isinstance(frame, pd.DataFrame):
            raise SchemaError(f"{label}: expected a pandas DataFrame, got {type(frame).__name__}")
        if frame.empty and not self.allow_empty:
            raise SchemaError(f"{label}: refusing to write an empty frame")
        if frame.columns.has_duplicates:
            twice = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
            raise SchemaError(f"{label}: column(s) {twice} appear more than once")
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise SchemaError(f"{label}: missing column(s) {missing}; have {list(frame.columns)}")
        extras = [c for c in frame.columns if c not in self.columns]
        if extras and self.extra is None:
            raise SchemaError(f"{label}: unexpected column(s) {extras}")
        out = {}
        for column, kind in self.columns.items():
            out[column] = _convert(frame[column], kind, f"{label}: column '{column}'")
        self._check_nulls(out, label)
        if check_key:
            self._check_key(out, label)
        result = pd.DataFrame(out, index=pd.RangeIndex(len(frame)), copy=False)
        if extras:
            result = pd.concat([result, _convert_block(frame[extras], self.extra, label)], axis=1)
        return result

    def _check_nulls(self, columns: dict[str, pd.Series], label: str) -> None:
        for column, values in columns.items():
            if column in self.nullable:
                continue
            missing = values.array.isna()  # the array's own mask: a tenth of Series.isna's cost
            if missing.any():
                row = int(np.flatnonzero(missing)[0])
                raise SchemaError(f"{label}: column '{column}' has {int(missing.sum())} missing value(s), first at row {row}")

    def _check_key(self, columns: dict[str, pd.Series], label: str) -> None:
        if not self.key or not len(columns[self.key[0]]):
            return
        # One dense integer code per distinct key, built column by column (re-factorised at each
        # step, so it never overflows); a key repeats exactly where its code does.
        code = None
        for column in self.key:
            codes, uniques = pd.factorize(columns[column], use_na_sentinel=False)
            code = codes if code is None else pd.factorize(code * len(uniques) + codes)[0]
        if code.max() + 1 < len(code):
            duplicated = pd.Series(code).duplicated(keep=False).to_numpy()
            first = int(np.flatnonzero(duplicated)[0])
            example = {column: columns[column].iloc[first] for column in self.key}
            raise SchemaError(f"{label}: {int(duplicated.sum())} rows share a key {self.key}, e.g. {example}")


def _convert(series: pd.Series, kind: Kind, label: str) -> pd.Series:
    values = series.reset_index(drop=True)
    if kind == "utc":
        if not isinstance(values.dtype, pd.DatetimeTZDtype):
            raise SchemaError(f"{label} must hold tz-aware timestamps (UTC), got dtype {values.dtype}")
        if values.dtype == _UTC_DTYPE:
            return values
        return values.dt.tz_convert("UTC").dt.as_unit(TS_UNIT)
    if kind == "date":
        return _to_dates(values, label)
    if kind == "str":
        if values.dtype == object:
            inferred = pd.api.types.infer_dtype(values, skipna=True)
            if inferred not in ("string", "empty"):
                raise SchemaError(f"{label} must hold text, found values inferred as {inferred}")
        elif not pd.api.types.is_string_dtype(values.dtype):
            raise SchemaError(f"{label} must hold text, got dtype {values.dtype}")
        return values
    if kind == "float":
        if pd.api.types.is_bool_dtype(values.dtype) or not pd.api.types.is_numeric_dtype(values.dtype):
            raise SchemaError(f"{label} must be numeric, got dtype {values.dtype}")
        return values if values.dtype == "float64" else values.astype("float64")
    if kind == "int":
        if not pd.api.types.is_integer_dtype(values.dtype):
            if pd.api.types.is_float_dtype(values.dtype) and values.notna().all() and (values % 1 == 0).all():
                return values.astype("int64")
            raise SchemaError(f"{label} must hold integers, got dtype {values.dtype}")
        return values.astype("int64")
    if kind == "bool":
        if not pd.api.types.is_bool_dtype(values.dtype):
            raise SchemaError(f"{label} must hold booleans, got dtype {values.dtype}")
        return values.astype(bool)
    raise SchemaError(f"{label}: unknown column kind {kind!r}")


def _convert_block(block: pd.DataFrame, kind: Kind, label: str) -> pd.DataFrame:
    """Many extra columns of one kind at once (the feature table has dozens of float columns)."""
    block = block.reset_index(drop=True)
    if kind == "float":
        bad = [c for c, d in block.dtypes.items() if pd.api.types.is_bool_dtype(d) or not pd.api.types.is_numeric_dtype(d)]
        if bad:
            raise SchemaError(f"{label}: column '{bad[0]}' must be numeric, got dtype {block[bad[0]].dtype}")
        return block.astype("float64")
    return pd.DataFrame({c: _convert(block[c], kind, f"{label}: column '{c}'") for c in block.columns})


def _to_dates(values: pd.Series, label: str) -> pd.Series:
    def one(value: object) -> dt.date:
        if isinstance(value, pd.Timestamp | dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        raise SchemaError(f"{label} must hold dates, got {value!r}")

    return pd.Series([one(v) for v in values], dtype=object)
