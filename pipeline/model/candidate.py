"""Training a candidate on a cadence date: its window's labelled rows -> the model and its metadata.

The metadata travels with the artifact: training window, rows and positives, nodes, thresholds,
features and the input groups they belong to, importances, calibration, validation metrics of the model and its baselines, settings,
seed, sources and package versions -- enough to know later exactly what served a forecast.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from importlib import metadata as package_metadata
from typing import Any

import numpy as np

from pipeline.features import feature_columns
from pipeline.model.baselines import baseline_columns
from pipeline.model.dataset import Compaction, TrainingSet, compaction_for, select_days
from pipeline.model.inputs import LINEAR_INPUTS, model_inputs
from pipeline.model.scoring import fit
from pipeline.model.spike import SpikeModel
from pipeline.model.windows import TrainingWindow

PACKAGES = ("luigi", "pandas", "pyarrow", "scikit-learn", "numpy", "scipy")


@dataclass(frozen=True)
class Provenance:
    """Where a candidate comes from, recorded in its metadata."""

    model_id: str
    features_tag: str
    market_source: str
    weather_source: str | None
    simulated: bool
    settings: dict[str, Any]  # the configuration's model section


def training_compaction(window: TrainingWindow, settings: Any) -> Compaction | None:
    """How a training window of these settings is read: compacted when its fit days hold more rows than
    :data:`~pipeline.model.dataset.FIT_ROW_BUDGET` (a shard of many nodes), else whole (None).

    The columns kept are :func:`training_columns`.
    """
    return compaction_for(window.fit_first, window.fit_last, len(settings.features.nodes),
                          settings.features.horizon_hours, settings.model.seed, settings.thresholds,
                          training_columns(settings))


def training_columns(settings: Any) -> list[str]:
    """The feature columns a training window is read with: every input the model may read and every
    column its baselines read (about 70 of the files' 114 at three thresholds)."""
    thresholds = settings.thresholds
    columns = [*model_inputs(feature_columns(settings.features), thresholds), *LINEAR_INPUTS,
               *baseline_columns(thresholds)]
    return list(dict.fromkeys(columns))


def train_candidate(data: TrainingSet, window: TrainingWindow, nodes: tuple[str, ...], settings: Any,
                    provenance: Provenance) -> tuple[SpikeModel, dict[str, Any]]:
    """Fit on the window's fit days, calibrate and validate on its validation days; the model and its metadata.

    ``settings`` is the pipeline's :class:`~pipeline.settings.Settings` (feature and model settings).
    """
    fit_set = select_days(data, window.fit_first, window.fit_last)
    validation_set = select_days(data, window.validation_first, window.validation_last)
    if not len(fit_set.outcomes) or not len(validation_set.outcomes):
        raise ValueError(f"no labelled rows in the training window {window.as_dict()}")
    started = time.perf_counter()
    fitted, report = fit(fit_set, validation_set, nodes, feature_columns(settings.features), settings.model)
    fit_seconds = time.perf_counter() - started
    meta = metadata(provenance, window, fit_set, validation_set, fitted, report)
    meta["fit_seconds"] = round(fit_seconds, 3)  # wall time of the fit (not the data loading)
    return fitted, meta


def metadata(provenance: Provenance, window: TrainingWindow, fit_set: TrainingSet, validation_set: TrainingSet,
             fitted: SpikeModel, report: dict[str, Any]) -> dict[str, Any]:
    return {
        "model_id": provenance.model_id,
        "train_date": window.train_date.isoformat(),
        "window": window.as_dict(),
        "rows": {"fit": int(len(fit_set.outcomes)), "validation": int(len(validation_set.outcomes))},
        # Below 1: the fit window was compacted (every spike, this share of the calm target hours).
        "calm_share": fit_set.calm_share,
        "positives_fit": {str(t): int(fit_set.outcomes[:, k].sum()) for k, t in enumerate(fit_set.thresholds)},
        "nodes": list(fitted.nodes),
        "thresholds": list(fitted.thresholds),
        "features": list(fitted.columns_),
        # Which kinds of data the model reads (e.g. whether forecast vintages were among them).
        "input_groups": fitted.input_groups,
        "features_without_data": [f for f in fitted.feature_names if f not in fitted.columns_],
        "feature_importance": fitted.feature_importance(),
        "boosters": [b is not None for b in fitted.boosters_],
        "calibration_shift": list(fitted.calibration_),
        # Above the knot ($/MWh: where the trees go flat), each threshold's log-odds per log-$ of DAM.
        "dam_knot": None if np.isnan(fitted.dam_knot_) else round(float(np.exp(fitted.dam_knot_)), 2),
        "dam_tail": list(fitted.tail_),
        "validation": report,
        "settings": provenance.settings,
        "seed": provenance.settings["seed"],
        "sources": {"market": provenance.market_source, "weather": provenance.weather_source,
                    "simulated": provenance.simulated},
        "features_tag": provenance.features_tag,
        "packages": package_versions(),
    }


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        versions[name] = package_metadata.version(name)
    return versions


def headline(report: dict[str, Any]) -> str:
    """One line for the log: the validation AUC per threshold."""
    parts = []
    for threshold, entry in report.items():
        auc = entry["model"].get("roc_auc")
        parts.append(f"${threshold}: AUC {auc:.3f}" if auc is not None else f"${threshold}: AUC n/a")
    return ", ".join(parts)
