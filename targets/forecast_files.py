"""The published forecast of one issue day: ``forecast.parquet`` and its two spreadsheet twins.

``forecasts/<D>/`` holds three files made from one frame in one publication step:

* ``forecast.parquet`` -- the contract file (one row per node, threshold and hour), written LAST:
  it is the commit point, so a forecast is published when, and only when, it is there and valid;
* ``forecast.csv`` -- the same rows for spreadsheet users (timestamps ISO in UTC, ``dst_flag`` as
  ERCOT writes it, ``Y``/``N``);
* ``forecast_wide.csv`` -- one row per node, threshold and operating day, the probabilities in
  columns ``HE01`` .. ``HE24`` (and ``HE02*``, ERCOT's label of the repeated hour, on a fall-back
  day), to paste into a DAM bid sheet.

A forecast is valid only when its schema is right, it has exactly one row per configured node,
threshold and hour of the horizon (72 consecutive hours from 00:00 CPT of D+1), every probability
is finite and in [0, 1], and the probabilities never rise with the threshold. A file that fails is
set aside (``forecast.parquet.invalid-<token>``, one log line) and counts as missing: the task
rebuilds it, and the deadline monitor, status page and report treat the day as unpublished.

The twins are rewritten (atomically) before the Parquet file, so a crash between them leaves twins
of an unpublished forecast: the next publication -- the forecast or a fallback -- rewrites them,
and a reader that finds a twin disagreeing with the Parquet file regenerates it
(:meth:`ForecastTarget.repair_twins`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from targets.files import ParquetTarget, forget_footer, log
from targets.schema import Schema
from targets.stamp import Stamp, why_not_current
from targets.store import parent, join

WIDE_NAME = "forecast_wide.csv"
CSV_NAME = "forecast.csv"
MONOTONE_TOLERANCE = 1e-9
STATUSES = ("ok", "degraded_inputs", "fallback_cached_inputs", "fallback_previous")
WIDE_KEY = ["node", "threshold", "delivery_date"]
WIDE_TAIL = ["forecast_date", "issued_at", "status", "model_id"]


@dataclass(frozen=True)
class ForecastShape:
    """What a valid forecast of one issue day holds: these nodes and thresholds, ``hours`` hours from ``first_hour``."""

    nodes: tuple[str, ...]
    thresholds: tuple[float, ...]
    first_hour: pd.Timestamp
    hours: int


class ForecastTarget(ParquetTarget):
    """``forecast.parquet`` of one issue day, checked for content, published with its twins."""

    invalid_reason = "invalid"

    def __init__(self, path: Path | str, schema: Schema, day: object,
                 shape: Callable[[], ForecastShape] | None = None) -> None:
        super().__init__(path, schema)
        self.day = day
        self._shape = shape
        self._checked: dict[tuple[str | None, bool], str | None] = {}

    @property
    def csv_path(self) -> str:
        return join(parent(self.path), CSV_NAME)

    @property
    def wide_path(self) -> str:
        return join(parent(self.path), WIDE_NAME)

    def problem(self) -> str | None:
        """What is wrong with the file as the forecast of this day under the configured shape (None: nothing)."""
        return self._problem(with_shape=True)

    def _problem(self, with_shape: bool) -> str | None:
        problem = super().problem()
        if problem is not None:
            return problem
        version = self.store.version(self.path)
        key = (version, with_shape)
        if version is not None and key in self._checked:
            return self._checked[key]
        try:
            frame = self.read()
        except (OSError, ValueError) as exc:  # SchemaError is a ValueError
            problem = f"it does not read as a forecast ({exc})"
        else:
            problem = content_problem(frame, self.day, self._shape() if self._shape and with_shape else None)
        if version is not None:
            self._checked[key] = problem
        return problem

    def _clear_for(self, expected: Stamp | None) -> bool:
        """As for any file, except that a forecast made under other settings is superseded, not invalid,
        even where it does not hold the rows the new settings ask for (it was right for its own)."""
        forget_footer(self.path)
        if self.store.exists(self.path) and expected is not None and self._problem(with_shape=False) is None:
            found = self.stamp()
            why = why_not_current(found, expected)
            if why is not None:
                self._set_aside_with_twins(f"made before {why}: remaking it")
                return True
        return super()._clear_for(expected)

    def _set_aside_with_twins(self, why: str) -> None:
        """Keep a superseded published forecast beside the new one: the Parquet file and its twins."""
        for twin in (self.csv_path, self.wide_path):
            if self.store.exists(twin):
                self.store.set_aside(twin, "superseded")
        self.set_aside("superseded", why)

    def publish(self, frame: pd.DataFrame, stamp: Stamp) -> pd.DataFrame:
        """Write the day's three files from ``frame``: the twins first, the Parquet file last (the commit point).

        A forecast already there that is invalid, or made from other settings or inputs, is set aside
        with its twins (``.superseded-*``), so the history of what was published is kept. When the
        same forecast is already there (a concurrent run), it stays and the twins are made to match it.
        """
        conformed, data = self.encode(frame, stamp)
        problem = content_problem(conformed, self.day, self._shape() if self._shape else None)
        if problem is not None:
            raise ValueError(f"{self.path}: refusing to publish a forecast that {problem}")
        if self.store.exists(self.path) and self.problem() is None and self.current(stamp):
            self.repair_twins()
            return conformed
        self._clear_for(stamp)  # before the twins are rewritten: a superseded forecast keeps its own
        self.store.put(self.wide_path, wide_csv(conformed))
        self.store.put(self.csv_path, long_csv(conformed))
        if not self._put(data, stamp):
            self.repair_twins()  # another writer published first: its twins must win
        return conformed

    def repair_twins(self) -> list[str]:
        """Rewrite any twin missing or disagreeing with the published Parquet file; the paths rewritten."""
        if not self.exists():
            return []
        frame = self.read()
        repaired = []
        for path, render in ((self.csv_path, long_csv), (self.wide_path, wide_csv)):
            expected = render(frame)
            if not self.store.exists(path) or self.store.read_bytes(path) != expected:
                self.store.put(path, expected)
                repaired.append(path)
                log.warning("%s did not match the published forecast %s: rewritten from it", path, self.path)
        return repaired


def content_problem(frame: pd.DataFrame, day: object, shape: ForecastShape | None) -> str | None:
    """What is wrong with a forecast frame of issue day ``day`` (None: nothing)."""
    if frame.empty:
        return "holds no rows"
    if set(frame["forecast_date"]) != {day}:
        return f"is not the forecast of {day} (forecast_date {sorted(map(str, set(frame['forecast_date'])))[:3]})"
    probability = frame["probability"].to_numpy(dtype=float)
    if not np.isfinite(probability).all() or (probability < 0).any() or (probability > 1).any():
        return "has probabilities that are not finite numbers in [0, 1]"
    statuses = set(frame["status"]) - set(STATUSES)
    if statuses:
        return f"has unknown status values {sorted(statuses)}"
    if shape is not None:
        nodes, thresholds = set(frame["node"]), set(frame["threshold"])
        if nodes != set(shape.nodes) or thresholds != set(shape.thresholds):
            return (f"covers nodes {sorted(nodes)[:5]} and thresholds {sorted(thresholds)}, not the configured "
                    f"{list(shape.nodes)[:5]} and {list(shape.thresholds)}")
        expected_rows = len(shape.nodes) * len(shape.thresholds) * shape.hours
        if len(frame) != expected_rows:
            return f"has {len(frame)} rows, not nodes x thresholds x hours = {expected_rows}"
        hours = pd.date_range(shape.first_hour, periods=shape.hours, freq="h").as_unit("ns").asi8
        for (node, threshold), rows in frame.groupby(["node", "threshold"], sort=False):
            if not np.array_equal(np.sort(pd.DatetimeIndex(rows["interval_start"]).as_unit("ns").asi8), hours):
                return f"does not hold the {shape.hours} hours from {shape.first_hour} for {node} ${threshold:g}"
    wide = frame.pivot_table(index=["node", "interval_start"], columns="threshold", values="probability",
                             aggfunc="first").sort_index(axis=1)
    if wide.shape[1] > 1:
        steps = np.diff(wide.to_numpy(dtype=float), axis=1)
        if (steps > MONOTONE_TOLERANCE).any():
            row, column = np.argwhere(steps > MONOTONE_TOLERANCE)[0]
            node, hour = wide.index[row]
            return (f"has P(>${wide.columns[column + 1]:g}) above P(>${wide.columns[column]:g}) for {node} at "
                    f"{hour} (probabilities must not rise with the threshold)")
    return None


def long_csv(frame: pd.DataFrame) -> bytes:
    """``forecast.csv``: the rows of the Parquet file, times in UTC (ISO), ``dst_flag`` as Y/N."""
    out = frame.copy()
    out["dst_flag"] = np.where(out["dst_flag"].astype(bool), "Y", "N")
    return out.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ").encode()


def hour_column(hour_ending: int, dst_flag: bool) -> str:
    """``HE01`` .. ``HE24``; ``HE02*`` for the repeated hour of a fall-back day (ERCOT shows it as 02:00*)."""
    return f"HE{int(hour_ending):02d}" + ("*" if dst_flag else "")


def wide_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per node, threshold and operating day, the hours' probabilities in columns ``HE01`` .. ``HE24``."""
    long = frame.assign(hour=[hour_column(h, f) for h, f in zip(frame["hour_ending"], frame["dst_flag"])])
    values = long.pivot_table(index=WIDE_KEY, columns="hour", values="probability", aggfunc="first")
    full = [f"HE{h:02d}" for h in range(1, 25)]
    columns = sorted(set(full) | set(values.columns), key=lambda c: (int(c[2:4]), c.endswith("*")))
    values = values.reindex(columns=columns)
    tail = long.groupby(WIDE_KEY, sort=True)[WIDE_TAIL].first()
    return values.join(tail).reset_index()


def wide_csv(frame: pd.DataFrame) -> bytes:
    """``forecast_wide.csv``: :func:`wide_frame` as CSV (an hour outside the horizon is an empty cell)."""
    return wide_frame(frame).to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ", na_rep="").encode()
