"""The spike model, its baselines, training windows, candidates and the gate (no luigi here).

* :mod:`~pipeline.model.spike` -- the calibrated spike model (boosters blended with a logistic model);
* :mod:`~pipeline.model.baselines` -- climatology, persistence and logistic baselines;
* :mod:`~pipeline.model.calibration` -- Platt scaling and monotonicity across thresholds;
* :mod:`~pipeline.model.dataset` -- labelled training sets;
* :mod:`~pipeline.model.windows` -- which issue days a model trained on a date fits and validates on;
* :mod:`~pipeline.model.candidate` -- training a candidate and its metadata;
* :mod:`~pipeline.model.gate` -- a candidate against the previous one.
"""

from pipeline.model.baselines import BASELINES, Climatology, LogisticBaseline, Persistence
from pipeline.model.calibration import fit_platt, logit, monotone, sigmoid
from pipeline.model.dataset import TrainingSet, join_outcomes, labelled_set, select_days
from pipeline.model.spike import (
    ModelSettings,
    SpikeModel,
    crossfit_probabilities,
    fit,
    gate_score,
    validation_report,
)

#: Bumped when the model's definition changes, so artifacts of the old definition are not reused.
MODEL_VERSION = 3

__all__ = ["BASELINES", "MODEL_VERSION", "Climatology", "LogisticBaseline", "ModelSettings", "Persistence",
           "SpikeModel", "TrainingSet", "crossfit_probabilities", "fit", "fit_platt", "gate_score",
           "join_outcomes", "labelled_set", "logit", "monotone", "select_days", "sigmoid", "validation_report"]
