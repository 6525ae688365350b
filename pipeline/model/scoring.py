"""Fitting a candidate with its baselines, and scoring forecasters on a validation window.

:func:`fit` trains the spike model and every baseline on the fit window and calibrates the model on
the validation window. Its report scores the model with cross-fitted calibration
(:func:`crossfit_probabilities`): out of sample for the calibration too, so the model and the
baselines are compared fairly. :func:`best_forecasters` then picks, per threshold, what a
candidate serves: its model, or a baseline that scored clearly better.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline import evaluation
from pipeline.labels import threshold_label
from pipeline.model.baselines import Climatology, DamAsOf, LogisticBaseline, Persistence
from pipeline.model.dataset import TrainingSet
from pipeline.model.spike import ModelSettings, SpikeModel, compute_threads


def fit(
    fit_set: TrainingSet, validation_set: TrainingSet, nodes: Sequence[str], feature_names: Sequence[str],
    settings: ModelSettings,
) -> tuple[SpikeModel, dict[str, Any]]:
    """Train the model and its baselines; return it with its validation report.

    The validation window's raw probabilities are computed once: the calibration and the
    cross-fitted report both start from them.
    """
    thresholds = fit_set.thresholds
    with compute_threads(settings.threads):
        model = SpikeModel(tuple(nodes), thresholds, tuple(feature_names), settings)
        # The baselines fit while the model's boosters do (see SpikeModel.fit_components).
        model.baselines_ = model.fit_components(fit_set, meanwhile=lambda: {
            "climatology": Climatology(thresholds).fit(fit_set),
            "persistence_yesterday": Persistence(thresholds, "price_max_hod_d1").fit(fit_set),
            "persistence_last_week": Persistence(thresholds, "price_max_hod_lastweek").fit(fit_set),
            "logistic": LogisticBaseline(thresholds).fit(fit_set),
            "dam_asof": DamAsOf(thresholds).fit(fit_set),
        })
        raw = model.raw_probabilities(validation_set.features)
        model.calibration_ = model.calibrate(raw, validation_set.outcomes)
        report = validation_report(validation_set, crossfit_probabilities(model, validation_set, raw),
                                   model.predict_baselines(validation_set.features))
    return model, report


def _day_folds(days: np.ndarray) -> np.ndarray:
    """Two folds of whole issue days (first half / second half) for cross-fitted calibration."""
    unique = np.unique(days)
    second = set(unique[len(unique) // 2:])
    return np.asarray([d in second for d in days])


def crossfit_probabilities(model: SpikeModel, data: TrainingSet, raw: np.ndarray | None = None) -> np.ndarray:
    """Calibrated probabilities on ``data``, the calibration fitted on one half of its days and scored on the other.

    Used to score any model (new or incumbent) fairly on a validation window, whatever calibration
    the model itself carries. ``raw``: the model's raw probabilities on ``data``, when known already.
    """
    raw = model.raw_probabilities(data.features) if raw is None else raw
    second_half = _day_folds(data.features["issue_day"].to_numpy())
    out = np.empty_like(raw)
    for fold in (False, True):
        train, score = second_half != fold, second_half == fold
        out[score] = model.apply_calibration(raw[score], model.calibrate(raw[train], data.outcomes[train]))
    return out


def validation_report(data: TrainingSet, model_p: np.ndarray, baselines: dict[str, np.ndarray]) -> dict[str, Any]:
    """Metrics of the model and each baseline per threshold on a labelled set."""
    report: dict[str, Any] = {}
    for k, threshold in enumerate(data.thresholds):
        y = data.outcomes[:, k]
        reference = baselines["climatology"][:, k]
        entry = {"model": evaluation.binary_metrics(y, model_p[:, k], reference)}
        for name, p in baselines.items():
            entry[name] = evaluation.binary_metrics(y, p[:, k], reference)
        report[threshold_label(threshold)] = entry
    return report


def gate_score(report: dict[str, Any], metric: str, name: str = "model") -> float:
    """One number to compare models on the same validation window: the mean of ``metric`` over thresholds."""
    return float(np.mean([entry[name][metric] for entry in report.values()]))


def best_forecasters(report: dict[str, Any], metric: str, baseline_margin: float | None) -> dict[str, str]:
    """Per threshold label, what a candidate serves: its model, or a baseline that clearly beat it.

    A baseline serves a threshold only when its ``metric`` on the validation window is lower than
    the model's by more than ``baseline_margin`` (relative); of several, the lowest. None: the model
    always serves. A small validation window rarely tells forecasters apart at rare thresholds (a
    handful of spikes in 28 days), and switching on noise served worse forecasts over whole years
    than either the model or the baseline alone (see the README's measured skill).
    """
    chosen = {}
    for label, entry in report.items():
        limit = entry["model"][metric] * (1.0 - baseline_margin) if baseline_margin is not None else -np.inf
        better = [(e[metric], name) for name, e in entry.items() if name != "model" and e[metric] < limit]
        chosen[label] = min(better)[1] if better else "model"
    return chosen


def mixture_score(report: dict[str, Any], forecasters: dict[str, str], metric: str) -> float:
    """The mean over thresholds of ``metric`` of the forecaster chosen for each threshold."""
    return float(np.mean([entry[forecasters[label]][metric] for label, entry in report.items()]))
