"""Which inputs are usable: plausibility bounds on canonical values, and how degraded a forecast is.

Two rules, both applied where data enters or leaves the pipeline, never silently:

* **Bounds** (``integrity.bounds``): a canonical value outside its plausible range, or not finite
  where a value is required, is corrupt (a price of 1e9 or +inf, a negative load). The fetch sets
  it aside -- the row is left out of the raw file (a nullable value becomes missing) -- and says so
  in one log line naming the dataset, day, source file, column and the rows; the raw file's stamp
  counts what was set aside, and every forecast built from that day says ``degraded_inputs``.
* **Missing inputs** (``integrity.max_missing_share``): a node whose share of model inputs with no
  value on the issue day exceeds the limit (past the end of an archive's files, an unknown
  settlement point) is forecast from too little: its rows say ``degraded_inputs``. Only inputs
  that had values when the model was trained count (the archive has no forecasts: no model trained
  on it ever had them).

Pure functions: no I/O, no luigi.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.config import Bound, BoundsConfig

# Value columns of the canonical datasets and the bound each must respect.
VALUE_BOUNDS: dict[str, dict[str, str]] = {
    "rt_prices": {"price": "price"},
    "dam_prices": {"price": "price"},
    "ancillary_prices": {"price": "ancillary_price"},
    "load": {"load_mw": "load_mw"},
    "load_forecast": {"load_mw": "load_mw"},
    "renewables": {"generation_mw": "generation_mw"},
    "renewables_forecast": {"generation_mw": "generation_mw"},
    "weather": {"temperature_c": "temperature_c", "wind_speed_ms": "wind_speed_ms"},
    "weather_forecast": {"temperature_c": "temperature_c", "wind_speed_ms": "wind_speed_ms"},
}
# The columns that say which series a row belongs to, for naming rows in a log line.
SERIES_COLUMN = {"rt_prices": "node", "dam_prices": "node", "ancillary_prices": "service", "load": "zone",
                 "load_forecast": "zone", "renewables": "fuel", "renewables_forecast": "fuel",
                 "weather": "location", "weather_forecast": "location"}
EXAMPLES = 5


@dataclass(frozen=True)
class SetAside:
    """What :func:`plausible` took out of one frame: counts per column and a few examples."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.counts)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_notes(self) -> dict[str, object]:
        return {"counts": dict(self.counts), "examples": list(self.examples)}

    def describe(self, bounds: BoundsConfig, dataset: str) -> str:
        columns = ", ".join(f"{n} value(s) of column '{c}' outside [{_bound(bounds, dataset, c).min:g}, "
                            f"{_bound(bounds, dataset, c).max:g}] or not finite" for c, n in self.counts.items())
        return f"{columns}, e.g. {'; '.join(self.examples)}"


def _bound(bounds: BoundsConfig, dataset: str, column: str) -> Bound:
    return getattr(bounds, VALUE_BOUNDS[dataset][column])


def plausible(frame: pd.DataFrame, dataset: str, bounds: BoundsConfig,
              nullable: Collection[str] = ()) -> tuple[pd.DataFrame, SetAside]:
    """``frame`` without its implausible values, and what was set aside.

    A value is implausible when it is not finite or lies outside its bound. In a ``nullable``
    column it becomes missing (NaN is allowed there); otherwise its row is dropped. A missing value
    in a nullable column is not implausible.
    """
    columns = VALUE_BOUNDS.get(dataset, {})
    if not columns:
        return frame, SetAside()
    drop = np.zeros(len(frame), dtype=bool)
    counts: dict[str, int] = {}
    examples: list[str] = []
    cleared: dict[str, np.ndarray] = {}
    for column in columns:
        values = frame[column].to_numpy(dtype=float)
        bound = _bound(bounds, dataset, column)
        present = ~np.isnan(values) if column in nullable else np.ones(len(values), dtype=bool)
        with np.errstate(invalid="ignore"):
            bad = present & ~(np.isfinite(values) & (values >= bound.min) & (values <= bound.max))
        if not bad.any():
            continue
        counts[column] = int(bad.sum())
        for row in np.flatnonzero(bad)[: max(0, EXAMPLES - len(examples))]:
            examples.append(_example(frame, dataset, column, int(row)))
        if column in nullable:
            cleared[column] = bad
        else:
            drop |= bad
    if not counts:
        return frame, SetAside()
    kept = frame.copy()
    for column, bad in cleared.items():
        kept.loc[bad, column] = np.nan
    return kept.loc[~drop].reset_index(drop=True), SetAside(counts, examples)


def _example(frame: pd.DataFrame, dataset: str, column: str, row: int) -> str:
    series = SERIES_COLUMN.get(dataset)
    who = f"{frame[series].iloc[row]} " if series in frame.columns else ""
    when = frame["interval_start"].iloc[row]
    when_text = when.strftime("%Y-%m-%dT%H:%MZ") if hasattr(when, "strftime") else str(when)
    return f"row {row} ({who}{when_text}) {column} = {float(frame[column].iloc[row])!r}"


# --- missing model inputs --------------------------------------------------------------------------

# Feature column prefixes and the dataset each group is computed from (longest prefix first).
_FEATURE_DATASETS: tuple[tuple[str, str], ...] = (
    ("sys_dam", "dam_prices"), ("dam_", "dam_prices"), ("rtx_", "dam_prices"),
    ("as_", "ancillary_prices"),
    ("net_load_fc", "load_forecast"), ("load_fc", "load_forecast"), ("wind_fc", "renewables_forecast"),
    ("solar_fc", "renewables_forecast"), ("net_load", "load"), ("load_", "load"), ("wind_mean", "renewables"),
    ("solar_mean", "renewables"),
    ("temp_fc", "weather_forecast"), ("cooling_degree_fc", "weather_forecast"),
    ("heating_degree_fc", "weather_forecast"), ("wind_speed_fc", "weather_forecast"),
    ("temp_", "weather"), ("cdh", "weather"), ("hdh", "weather"),
    ("spike_rate", "rt_prices"), ("sys_spike", "rt_prices"), ("days_since_spike", "rt_prices"),
    ("price_", "rt_prices"), ("sys_price", "rt_prices"), ("log_price", "rt_prices"), ("basis", "rt_prices"),
)


def feature_dataset(column: str) -> str | None:
    """The dataset a feature column is computed from (None: calendar and horizon, always known)."""
    for prefix, dataset in _FEATURE_DATASETS:
        if column.startswith(prefix):
            return dataset
    return None


@dataclass(frozen=True)
class MissingInputs:
    """Per node: the share of counted model inputs with no value, and the datasets they come from."""

    share: dict[str, float]
    datasets: dict[str, list[str]]

    def degraded(self, limit: float) -> dict[str, list[str]]:
        """The nodes whose share exceeds ``limit``, with the datasets of their missing inputs."""
        return {node: self.datasets[node] for node, share in self.share.items() if share > limit}


def missing_inputs(features: pd.DataFrame, inputs: Collection[str]) -> MissingInputs:
    """Which model ``inputs`` have no value at all for each node of ``features``.

    ``inputs`` are the model inputs that had values in training (a dataset the sources never
    provided is not among them); the always-known calendar inputs are not counted.
    """
    counted = [c for c in inputs if c in features.columns and feature_dataset(c) is not None]
    share: dict[str, float] = {}
    datasets: dict[str, list[str]] = {}
    if not counted:
        return MissingInputs({}, {})
    empty = features[counted].isna().groupby(features["node"].to_numpy()).all()
    for node, row in empty.iterrows():
        missing = [c for c in counted if row[c]]
        share[str(node)] = len(missing) / len(counted)
        datasets[str(node)] = sorted({feature_dataset(c) or "" for c in missing})
    return MissingInputs(share, datasets)


def degraded_notes(set_aside: Mapping[str, int], missing: Mapping[str, list[str]]) -> dict[str, str]:
    """``{dataset: why}`` for a forecast's metadata and alert: what made it degraded."""
    notes: dict[str, str] = {}
    for dataset, count in sorted(set_aside.items()):
        notes[dataset] = f"{count} implausible value(s) set aside"
    by_dataset: dict[str, list[str]] = {}
    for node, datasets in missing.items():
        for dataset in datasets:
            by_dataset.setdefault(dataset, []).append(node)
    for dataset, nodes in sorted(by_dataset.items()):
        text = f"inputs missing for {', '.join(sorted(nodes)[:5])}" + (f" and {len(nodes) - 5} more" if len(nodes) > 5 else "")
        notes[dataset] = f"{notes[dataset]}; {text}" if dataset in notes else text
    return notes
