"""The spike model, its baselines, training windows, candidates and the gate (no luigi here).

* :mod:`~pipeline.model.spike` -- the spike model (monotone additive boosters, a logistic blend, a DAM tail);
* :mod:`~pipeline.model.inputs` -- what the model reads, by input group, and when forecast vintages count;
* :mod:`~pipeline.model.scoring` -- fitting a candidate with its baselines, validation reports, what it serves;
* :mod:`~pipeline.model.baselines` -- climatology, persistence and logistic baselines;
* :mod:`~pipeline.model.calibration` -- Platt scaling and monotonicity across thresholds;
* :mod:`~pipeline.model.dataset` -- labelled training sets, large ones compacted while they are read;
* :mod:`~pipeline.model.windows` -- which issue days a model trained on a date fits and validates on;
* :mod:`~pipeline.model.candidate` -- training a candidate and its metadata;
* :mod:`~pipeline.model.gate` -- a candidate against the previous one.
"""

from pipeline.model.baselines import BASELINES, Climatology, DamAsOf, LogisticBaseline, Persistence
from pipeline.model.calibration import logit, monotone, sigmoid
from pipeline.model.dataset import TrainingSet, join_outcomes, labelled_set, select_days
from pipeline.model.scoring import (
    best_forecasters,
    crossfit_probabilities,
    fit,
    gate_score,
    mixture_score,
    validation_report,
)
from pipeline.model.spike import ModelSettings, SpikeModel

#: Bumped when the model's definition changes, so artifacts of the old definition are not reused.
MODEL_VERSION = 5

__all__ = ["BASELINES", "MODEL_VERSION", "Climatology", "DamAsOf", "LogisticBaseline", "ModelSettings", "Persistence",
           "SpikeModel", "TrainingSet", "best_forecasters", "crossfit_probabilities", "fit",
           "gate_score", "join_outcomes", "labelled_set", "logit", "mixture_score", "monotone", "select_days",
           "sigmoid", "validation_report"]
