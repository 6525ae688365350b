"""The gate: a new candidate against the previous cadence date's candidate, on the new validation window.

Each candidate serves, per threshold, its model or a baseline that beat it clearly on its validation
window (:func:`pipeline.model.scoring.best_forecasters`): the record's ``serving`` map.
The candidate's mix is then compared with the incumbent's, chosen the same way on the same
window: the incumbent's booster is out of sample there, and its own calibration (fitted on an
overlapping earlier window) is replaced by cross-fitting, exactly as the candidate's validation
report was made. The record says accepted or rejected, with the scores compared
(:func:`pipeline.registry.decide`).
"""

from __future__ import annotations

import time
from typing import Any

from pipeline import registry
from pipeline.model.dataset import TrainingSet
from pipeline.model.scoring import (
    best_forecasters,
    crossfit_probabilities,
    mixture_score,
    validation_report,
)
from pipeline.model.spike import SpikeModel
from pipeline.model.windows import TrainingWindow


def gate_record(candidate_meta: dict[str, Any], incumbent_meta: dict[str, Any], incumbent: SpikeModel,
                validation_set: TrainingSet, window: TrainingWindow, metric: str, margin: float,
                baseline_margin: float | None) -> dict[str, Any]:
    """The gate decision record of the candidate described by ``candidate_meta``."""
    serving = best_forecasters(candidate_meta["validation"], metric, baseline_margin)
    candidate_score = mixture_score(candidate_meta["validation"], serving, metric)
    started = time.perf_counter()
    incumbent_p = crossfit_probabilities(incumbent, validation_set)
    crossfit_seconds = time.perf_counter() - started
    incumbent_report = validation_report(validation_set, incumbent_p, incumbent.predict_baselines(validation_set.features))
    incumbent_serving = best_forecasters(incumbent_report, metric, baseline_margin)
    incumbent_score = mixture_score(incumbent_report, incumbent_serving, metric)
    decision = registry.decide(candidate_score, incumbent_score, margin)
    return {
        "status": decision.status,
        "reason": decision.reason,
        "metric": metric,
        "serving": serving,
        "candidate_score": decision.candidate_score,
        "incumbent_score": decision.incumbent_score,
        "model_id": candidate_meta["model_id"],
        "incumbent_model_id": incumbent_meta["model_id"],
        # What the incumbent serves if it is retained: chosen on this (newer) window.
        "incumbent_serving": incumbent_serving,
        "train_date": window.train_date.isoformat(),
        "validation_window": [window.validation_first.isoformat(), window.validation_last.isoformat()],
        "crossfit_seconds": round(crossfit_seconds, 3),  # wall time of the incumbent's cross-fitted scoring
    }
