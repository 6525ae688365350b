"""The spike model: per-threshold gradient-boosted trees blended with a logistic model, recalibrated,
monotone across thresholds.

Why this family: spikes are rare, non-linear interactions of scarcity drivers (tight net load,
evening hours, recent spiking) that trees capture without hand-made interactions;
``HistGradientBoostingClassifier`` handles the missing values our feature groups produce when a
source lacks a dataset, trains on ~100k rows in about a second, and is deterministic given a seed.
One pooled model per threshold across all nodes (the node is a categorical feature) lets a rare
$1000 event at one hub inform the others.

Training (:func:`fit`):

1. Calm hours are subsampled per threshold (``negative_keep``; every spike is kept), which cuts
   fitting time several-fold; the known sampling rate is undone exactly as a logit offset.
2. One booster per threshold on the fit window. A threshold with too few positives to learn from
   gets no booster; its probability is the next-lower threshold's times their historical ratio.
   The boosters are small (7 leaves, 200 rows per leaf) and do not see the season (month, day of
   year): on rolling 2022 windows of real hub data, deeper trees and seasonal inputs memorised the
   previous year's spike dates and lost skill out of sample (on 2023 the season would have helped).
3. A logistic regression on recent spike rates and prices (the ``logistic`` baseline's model) is
   averaged with each booster in logit space (``logistic_weight``); the blend ranks and calibrates
   better than either part on rolling 2022 windows of real hub data.
4. Platt recalibration (slope and intercept on the logit, with a prior centred on "no change")
   on the held-out validation window, which the booster never saw.
5. Monotone rearrangement: P(>$1000) <= P(>$250) <= P(>$100) on every row.

Baselines fitted on the same window travel with the model: month x hour climatology, persistence
(same hour yesterday / a week earlier, calibrated) and a small logistic regression.
"""

from __future__ import annotations

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from pipeline import evaluation
from pipeline.config import ModelConfig
from pipeline.labels import threshold_label
from pipeline.model.baselines import Climatology, LogisticBaseline, Persistence
from pipeline.model.calibration import fit_platt, logit, monotone, sigmoid
from pipeline.model.dataset import TrainingSet


@dataclass(frozen=True)
class ModelSettings:
    """The spike model's settings: the ``model`` section of the configuration, plus fixed internals.

    Built with :meth:`from_config`, so every default lives in the configuration alone.
    """

    max_iter: int
    learning_rate: float
    max_leaf_nodes: int
    min_samples_leaf: int
    l2_regularization: float
    seed: int
    # Features computed but not offered to the booster (by default the season: month, day of year).
    excluded_features: tuple[str, ...]
    # Weight of the logistic component when blended with the booster in logit space (0 = trees only).
    logistic_weight: float
    # Offer both components the month x hour climatology of the fit window (its logit) as an input.
    climatology_input: bool
    # OpenMP threads of the boosters (None: one per core). Several luigi workers training at once
    # should share the cores (e.g. 1 each): oversubscribed OpenMP threads slow fits many times over.
    threads: int | None
    # Internals, not configuration: the share of calm hours each booster fits on, the fewest spikes
    # a booster is fitted with, and the strength of the prior pulling Platt's (slope, intercept)
    # toward (1, 0), in log-loss units.
    negative_keep: float = 0.2
    min_positives: int = 25
    calibration_prior: float = 20.0

    @classmethod
    def from_config(cls, model: ModelConfig) -> ModelSettings:
        return cls(max_iter=model.max_iter, learning_rate=model.learning_rate, max_leaf_nodes=model.max_leaf_nodes,
                   min_samples_leaf=model.min_samples_leaf, l2_regularization=model.l2_regularization,
                   seed=model.seed, excluded_features=tuple(model.excluded_features),
                   logistic_weight=model.logistic_weight, climatology_input=model.climatology_input,
                   threads=model.threads)


@dataclass
class SpikeModel:
    nodes: tuple[str, ...]
    thresholds: tuple[float, ...]
    feature_names: tuple[str, ...]
    settings: ModelSettings
    columns_: tuple[str, ...] = ()  # the offered features that hold any data in the fit window
    boosters_: list[HistGradientBoostingClassifier | None] = field(default_factory=list)
    linear_: LogisticBaseline | None = None
    prior_: Climatology | None = None
    fallback_ratio_: list[float | None] = field(default_factory=list)
    calibration_: list[tuple[float, float]] = field(default_factory=list)
    baselines_: dict[str, Any] = field(default_factory=dict)

    # -- design matrix --
    def _design(self, features: pd.DataFrame, prior: np.ndarray | None) -> np.ndarray:
        node_code = features["node"].map({n: i for i, n in enumerate(self.nodes)})
        if node_code.isna().any():
            unknown = sorted(set(features.loc[node_code.isna(), "node"]))
            raise ValueError(f"the model was trained for nodes {list(self.nodes)}, not {unknown}")
        x = features[list(self.columns_)].to_numpy(dtype=float)
        parts = [x, node_code.to_numpy(dtype=float)]
        return np.column_stack(parts if prior is None else [*parts, prior])

    def _prior(self, features: pd.DataFrame) -> np.ndarray | None:
        """The climatology input (logit, one column per threshold), or None without it."""
        return None if self.prior_ is None else logit(self.prior_.predict(features))

    def _input_names(self) -> list[str]:
        prior = [f"climatology_{threshold_label(t)}" for t in self.thresholds] if self.prior_ is not None else []
        return [*self.columns_, "node", *prior]

    def _booster(self) -> HistGradientBoostingClassifier:
        s = self.settings
        categorical = [len(self.columns_)] if len(self.nodes) > 1 else None
        return HistGradientBoostingClassifier(
            max_iter=s.max_iter, learning_rate=s.learning_rate, max_leaf_nodes=s.max_leaf_nodes,
            min_samples_leaf=s.min_samples_leaf, l2_regularization=s.l2_regularization,
            early_stopping=False, random_state=s.seed, categorical_features=categorical,
        )

    # -- fitting --
    def fit_boosters(self, data: TrainingSet) -> SpikeModel:
        # A feature group whose source is absent for this configuration is all-NaN: leave it out.
        unknown = sorted(set(self.settings.excluded_features) - set(self.feature_names))
        if unknown:
            raise ValueError(f"model.excluded_features names unknown features {unknown}")
        offered = [name for name in self.feature_names if name not in self.settings.excluded_features]
        present = data.features[offered].notna().any(axis=0)
        self.columns_ = tuple(name for name in offered if present[name])
        prior = None
        if self.settings.climatology_input:
            self.prior_ = Climatology(self.thresholds).fit(data)
            prior = logit(self.prior_.predict_left_out(data))
        x = self._design(data.features, prior)
        keep_prob = self.settings.negative_keep
        self.boosters_, self.fallback_ratio_ = [], []
        for k in range(len(self.thresholds)):
            y = data.outcomes[:, k]
            positives = int(y.sum())
            if positives >= self.settings.min_positives and positives < len(y):
                # Every spike, and a seeded share of the calm hours (no sample weights: they make
                # sklearn's booster ~4x slower); the sampling is undone exactly in logit space.
                rng = np.random.default_rng([self.settings.seed, k])
                keep = (y == 1) | (rng.random(len(y)) < keep_prob)
                with threadpool_limits(limits=self.settings.threads, user_api="openmp"):
                    self.boosters_.append(self._booster().fit(x[keep], y[keep]))
                self.fallback_ratio_.append(None)
            else:
                self.boosters_.append(None)
                lower = data.outcomes[:, k - 1].sum() if k else len(data.outcomes)
                self.fallback_ratio_.append(float((data.outcomes[:, k].sum() + 0.5) / (lower + 1.0)))
        # The logistic component sees every row (it is cheap); its smooth extrapolation of recent
        # spike rates complements the trees' step functions.
        self.linear_ = LogisticBaseline(self.thresholds).fit(data, prior) if self.settings.logistic_weight > 0 else None
        return self

    def raw_probabilities(self, features: pd.DataFrame) -> np.ndarray:
        """Blended component probabilities before Platt calibration.

        Per threshold: the booster's probability with the negative subsampling undone, averaged in
        logit space with the logistic component's (weight ``logistic_weight``).
        """
        prior = self._prior(features)
        x = self._design(features, prior)
        out = np.empty((len(x), len(self.thresholds)))
        offset = np.log(self.settings.negative_keep)
        weight = self.settings.logistic_weight if self.linear_ is not None else 0.0
        linear = self.linear_.predict(features, prior) if weight > 0 else None
        for k, booster in enumerate(self.boosters_):
            if booster is not None:
                with threadpool_limits(limits=self.settings.threads, user_api="openmp"):
                    z = logit(booster.predict_proba(x)[:, 1]) + offset
                if linear is not None:
                    z = (1 - weight) * z + weight * logit(linear[:, k])
                out[:, k] = sigmoid(z)
            else:
                base = out[:, k - 1] if k else np.ones(len(x))
                out[:, k] = base * self.fallback_ratio_[k]
        return out

    def calibrate(self, raw: np.ndarray, outcomes: np.ndarray) -> list[tuple[float, float]]:
        """Platt parameters per threshold fitted on (raw probability, outcome) pairs."""
        params = []
        for k in range(len(self.thresholds)):
            y = outcomes[:, k]
            if self.boosters_[k] is None or y.sum() < 5:
                params.append((1.0, 0.0))
            else:
                params.append(fit_platt(raw[:, k], y, self.settings.calibration_prior))
        return params

    def apply_calibration(self, raw: np.ndarray, params: Sequence[tuple[float, float]]) -> np.ndarray:
        out = np.column_stack([sigmoid(a * logit(raw[:, k]) + b) for k, (a, b) in enumerate(params)])
        return monotone(out)

    # -- prediction --
    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated, monotone probabilities [rows, thresholds]."""
        return self.apply_calibration(self.raw_probabilities(features), self.calibration_)

    def predict_baselines(self, features: pd.DataFrame) -> dict[str, np.ndarray]:
        return {name: monotone(model.predict(features)) for name, model in self.baselines_.items()}

    def feature_importance(self) -> dict[str, dict[str, float]]:
        """Total split gain per feature and threshold, normalised to sum to 1."""
        out = {}
        for threshold, booster in zip(self.thresholds, self.boosters_):
            if booster is None:
                continue
            names = _split_feature_names(booster, self._input_names())
            gains = np.zeros(len(names))
            for iteration in booster._predictors:  # noqa: SLF001 - sklearn keeps split gains here
                nodes = iteration[0].nodes
                splits = nodes[nodes["is_leaf"] == 0]
                np.add.at(gains, splits["feature_idx"], splits["gain"])
            total = gains.sum() or 1.0
            ranked = sorted(zip(names, gains / total), key=lambda item: -item[1])
            out[threshold_label(threshold)] = {name: round(float(g), 6) for name, g in ranked if g > 0}
        return out


def _split_feature_names(booster: HistGradientBoostingClassifier, names: list[str]) -> list[str]:
    """Input names in the order the booster's trees index them.

    With categorical features, sklearn encodes them first (its ``_preprocessor`` puts the
    categorical columns before the numeric ones), so a split's ``feature_idx`` is a position in
    that reordered matrix, not in ours.
    """
    preprocessor = getattr(booster, "_preprocessor", None)
    if preprocessor is None:
        return names
    order = [i for _, _, mask in preprocessor.transformers_ for i in np.flatnonzero(mask)]
    return [names[i] for i in order]


def _day_folds(days: np.ndarray) -> np.ndarray:
    """Two folds of whole issue days (first half / second half) for cross-fitted calibration."""
    unique = np.unique(days)
    second = set(unique[len(unique) // 2:])
    return np.asarray([d in second for d in days])


def crossfit_probabilities(model: SpikeModel, data: TrainingSet) -> np.ndarray:
    """Calibrated probabilities on ``data`` with Platt fitted on one half of its days, scored on the other.

    Out of sample for the calibration step; used to score any model (new or incumbent) fairly on
    a validation window, whatever calibration the model itself carries.
    """
    raw = model.raw_probabilities(data.features)
    second_half = _day_folds(data.features["issue_day"].to_numpy())
    out = np.empty_like(raw)
    for fold in (False, True):
        train, score = second_half != fold, second_half == fold
        out[score] = model.apply_calibration(raw[score], model.calibrate(raw[train], data.outcomes[train]))
    return out


def fit(
    fit_set: TrainingSet, validation_set: TrainingSet, nodes: Sequence[str], feature_names: Sequence[str],
    settings: ModelSettings,
) -> tuple[SpikeModel, dict[str, Any]]:
    """Train the model and its baselines; return it with its validation report.

    The report's model scores use cross-fitted calibration (:func:`crossfit_probabilities`), so
    they are out of sample even though the served calibration uses the whole validation window.
    """
    thresholds = fit_set.thresholds
    model = SpikeModel(tuple(nodes), thresholds, tuple(feature_names), settings).fit_boosters(fit_set)
    raw = model.raw_probabilities(validation_set.features)
    model.calibration_ = model.calibrate(raw, validation_set.outcomes)
    model.baselines_ = {
        "climatology": Climatology(thresholds).fit(fit_set),
        "persistence_yesterday": Persistence(thresholds, "price_max_hod_d1").fit(fit_set),
        "persistence_last_week": Persistence(thresholds, "price_max_hod_lastweek").fit(fit_set),
        # The blend's logistic component, when it has no climatology input, is exactly this
        # baseline: fit it once.
        "logistic": (model.linear_ if model.linear_ is not None and model.prior_ is None
                     else LogisticBaseline(thresholds).fit(fit_set)),
    }
    report = validation_report(validation_set, crossfit_probabilities(model, validation_set),
                               model.predict_baselines(validation_set.features))
    return model, report


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
    values = [entry[name][metric] for entry in report.values()]
    return float(np.mean(values))

