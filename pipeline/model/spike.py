"""The spike model: per threshold, a monotone boosted additive model blended with a log-price logistic
model, extended beyond the fit window's DAM range, recalibrated, monotone across thresholds.

Why this family (chosen on the real 2021-2022 archive, confirmed on 2023; see the README's
measured skill):

* The issue day's DAM price at the target's clock hour is the strongest public sign of a spike,
  and recent real-time spiking the next. Both act *monotonically*: a higher DAM price or a higher
  recent spike rate never makes a spike less likely. Constraining the trees that way
  (``monotonic_cst``) and forbidding interactions (each tree splits one feature, so the model is
  additive in logit space) keeps them from memorising last year's spike dates; deeper trees with
  interactions and seasonal inputs ranked worse out of sample on every year tried.
* A small logistic regression on log DAM and recent RT prices (and the forecast tightness, where
  the model reads forecast vintages), averaged in logit space (``logistic_weight``), smooths the
  trees' steps.
* Forecast vintages (ERCOT's load, wind and solar forecasts, the temperature forecast, their recent
  errors) are inputs where the training window holds enough of them (:mod:`pipeline.model.inputs`);
  more load or net load forecast can only raise the probability, more wind or solar only lower it.
* Trees cannot set apart fewer than ``min_samples_leaf`` rows, so they are flat across the fit
  window's highest DAM prices and beyond; yet a DAM price far above the usual (Winter Storm Uri:
  $1-9k) must raise the probability all the way. Above the knot (the ``min_samples_leaf``-th
  highest DAM of the fit window) a linear tail in log DAM takes over, its slope fitted on the
  rows above the knot with the blend as offset: what the trees and the logistic component left
  unexplained there, never negative.
* The validation window (28 days the booster never saw) shifts the intercept only (a slope
  fitted on so few days hurt ranking), with a prior toward no shift and a cap of one logit.

Training (:func:`pipeline.model.scoring.fit`): calm hours are subsampled per threshold (every spike
kept) and the sampling rate is undone exactly as a logit offset; a threshold with too few spikes
to learn from gets no booster, its probability being the next-lower threshold's times their
historical ratio; probabilities are finally made monotone across thresholds,
P(>$1000) <= P(>$250) <= P(>$100).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from pipeline.config import ModelConfig
from pipeline.labels import threshold_label
from pipeline.model.calibration import logit, monotone, sigmoid
from pipeline.model.dataset import TrainingSet, weight_matrix
from pipeline.model.inputs import (
    INPUT_GROUPS,
    LINEAR_FORECAST_INPUTS,
    LINEAR_INPUTS,
    groups_used,
    is_increasing,
    model_inputs,
    monotone_sign,
    usable_inputs,
)
from pipeline.model.linear import logistic_pipeline

# Re-exported: the inputs (by group), the monotone rule and the logistic component's inputs live in
# pipeline.model.inputs.
__all__ = ["INPUT_GROUPS", "LINEAR_INPUTS", "ModelSettings", "SpikeModel", "fit_intercept", "is_increasing",
           "log_price", "model_inputs"]


#: The DAM tail's prior toward no slope (per squared log-odds per log-$): the rows above the knot are
#: a few hundred of a year's, a prior this small leaves the slope to them.
TAIL_PRIOR = 1.0

#: BLAS threads of the model's linear algebra (the logistic fits and predictions). Its matrices are
#: narrow (a handful of columns): BLAS threads cost more than they save -- several times more when
#: other processes share the cores -- and one thread makes the fitted numbers the same on every
#: machine whatever its core count (a multi-threaded BLAS sums large products in a different order).
BLAS_THREADS = 1

T = TypeVar("T")


def compute_threads(threads: int | None) -> threadpool_limits:
    """The thread limits of every fit and prediction: ``threads`` OpenMP threads for the boosters
    (None: one per core, OpenMP's default) and :data:`BLAS_THREADS` for BLAS."""
    limits: dict[str, int] = {"blas": BLAS_THREADS}
    if threads is not None:
        limits["openmp"] = threads
    return threadpool_limits(limits=limits)


def log_price(values: np.ndarray) -> np.ndarray:
    """ln(max(price, $1)): prices on a log scale, negative and tiny prices as $1 (NaN stays NaN)."""
    return np.log(np.maximum(np.asarray(values, dtype=float), 1.0))


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
    # Features offered to the model's boosters no matter what (by default the season: month, day of year).
    excluded_features: tuple[str, ...]
    # Weight of the logistic component when blended with the booster in logit space (0 = trees only).
    logistic_weight: float
    # OpenMP threads of the boosters (None: one per core). Several luigi workers training at once
    # should share the cores (e.g. 1 each): oversubscribed OpenMP threads slow fits many times over.
    threads: int | None
    # Internals, not configuration: the share of calm hours each booster fits on, the fewest spikes
    # a booster is fitted with, and the prior and cap of the validation window's intercept shift.
    negative_keep: float = 0.2
    min_positives: int = 25
    calibration_prior: float = 200.0
    calibration_cap: float = 1.0

    @classmethod
    def from_config(cls, model: ModelConfig) -> ModelSettings:
        return cls(max_iter=model.max_iter, learning_rate=model.learning_rate, max_leaf_nodes=model.max_leaf_nodes,
                   min_samples_leaf=model.min_samples_leaf, l2_regularization=model.l2_regularization,
                   seed=model.seed, excluded_features=tuple(model.excluded_features),
                   logistic_weight=model.logistic_weight, threads=model.threads)


@dataclass
class SpikeModel:
    nodes: tuple[str, ...]
    thresholds: tuple[float, ...]
    feature_names: tuple[str, ...]
    settings: ModelSettings
    columns_: tuple[str, ...] = ()  # the inputs that hold any data in the fit window
    boosters_: list[HistGradientBoostingClassifier | None] = field(default_factory=list)
    linear_: list[Any] = field(default_factory=list)
    tail_: list[float] = field(default_factory=list)  # log-odds per log-$ of DAM beyond the knot
    dam_knot_: float = float("nan")  # the log DAM price above which the trees are flat (see _dam_knot)
    fallback_ratio_: list[float | None] = field(default_factory=list)
    calibration_: list[float] = field(default_factory=list)  # intercept shift per threshold
    calm_share_: float = 1.0  # share of calm hours the fit window kept (below 1: compacted, see dataset)
    linear_forecasts_: tuple[str, ...] = ()  # forecast inputs of the logistic component
    baselines_: dict[str, Any] = field(default_factory=dict)

    @property
    def input_groups(self) -> list[str]:
        """The input groups (:data:`~pipeline.model.inputs.INPUT_GROUPS`) the fitted model reads."""
        return groups_used(self.columns_, self.thresholds)

    # -- design --
    def _design(self, features: pd.DataFrame) -> np.ndarray:
        node_code = features["node"].map({n: i for i, n in enumerate(self.nodes)})
        if node_code.isna().any():
            unknown = sorted(set(features.loc[node_code.isna(), "node"]))
            raise ValueError(f"the model was trained for nodes {list(self.nodes)}, not {unknown}")
        # Filled a column at a time: a large window's design is then allocated once, not three times.
        out = np.empty((len(features), len(self.columns_) + 1))
        for j, name in enumerate(self.columns_):
            out[:, j] = features[name].to_numpy(dtype=float)
        out[:, -1] = node_code.to_numpy(dtype=float)
        return out

    def _linear_design(self, features: pd.DataFrame) -> np.ndarray:
        hour = features["hour_of_day"].to_numpy(dtype=float)
        prices = log_price(features[list(LINEAR_INPUTS)].to_numpy(dtype=float))
        parts = [prices, np.sin(2 * np.pi * hour / 24), np.cos(2 * np.pi * hour / 24)]
        if self.linear_forecasts_:  # the forecast tightness, where the model reads forecasts
            parts.append(features[list(self.linear_forecasts_)].to_numpy(dtype=float))
        return np.column_stack(parts)

    def _dam_excess(self, features: pd.DataFrame) -> np.ndarray:
        """log DAM beyond the knot (0 below it, or where the DAM is unknown)."""
        return self._excess(log_price(features["dam_hod"].to_numpy(dtype=float)))

    def _excess(self, log_dam: np.ndarray) -> np.ndarray:
        return np.nan_to_num(np.clip(log_dam - self.dam_knot_, 0.0, None), nan=0.0)

    def _booster(self) -> HistGradientBoostingClassifier:
        s = self.settings
        categorical = np.zeros(len(self.columns_) + 1, dtype=bool)
        categorical[-1] = len(self.nodes) > 1
        increasing = [monotone_sign(name) for name in self.columns_] + [0]
        return HistGradientBoostingClassifier(
            max_iter=s.max_iter, learning_rate=s.learning_rate, max_leaf_nodes=s.max_leaf_nodes,
            min_samples_leaf=s.min_samples_leaf, l2_regularization=s.l2_regularization, early_stopping=False,
            random_state=s.seed, categorical_features=categorical if len(self.nodes) > 1 else None,
            monotonic_cst=increasing, interaction_cst="no_interactions",
        )

    # -- fitting --
    def fit_components(self, data: TrainingSet, meanwhile: Callable[[], T] | None = None) -> T | None:
        """Fit the boosters, the logistic components and the tails on ``data``; returns what ``meanwhile``
        returned.

        With ``threads`` unset (use the cores), each threshold's booster, then its logistic component
        and tail, are fitted side by side on a thread per core, the boosters with one OpenMP thread
        each: a booster of a few thousand rows and four leaves spends its time in OpenMP's
        synchronisation when it spreads over the cores -- many times over when other processes
        share them -- while whole fits in parallel keep every core busy. ``meanwhile`` (e.g. the
        baselines' fits) runs on this thread in the meantime. With ``threads`` set (several luigi
        workers sharing the cores), everything runs one after the other on this thread, the
        boosters with that many OpenMP threads each. A fit's result does not depend on its thread
        count or on what runs beside it.
        """
        unknown = sorted(set(self.settings.excluded_features) - set(self.feature_names))
        if unknown:
            raise ValueError(f"model.excluded_features names unknown features {unknown}")
        offered = [n for n in model_inputs(self.feature_names, self.thresholds) if n not in self.settings.excluded_features]
        # Inputs with data in the fit window (e.g. no reserve prices before 2022, no forecasts on the
        # archive), forecast vintages only once the window holds enough days of them.
        self.columns_ = usable_inputs(data.features, offered, self.thresholds)
        # The logistic component reads the forecast tightness too when the model reads forecasts: blended
        # without it, it would damp the forecasts' say in the trees by its weight.
        self.linear_forecasts_ = tuple(name for name in LINEAR_FORECAST_INPUTS if name in self.columns_)
        self.boosters_, self.linear_, self.tail_, self.fallback_ratio_ = [], [], [], []
        self.calm_share_ = data.calm_share
        booster_data: dict[int, tuple[np.ndarray | None, np.ndarray]] = {}
        for k in range(len(self.thresholds)):
            rows, _ = data.rows_for(k)  # a compacted set: the threshold's rows and their weights
            y = data.outcomes[:, k] if rows is None else data.outcomes[rows, k]
            if self.settings.min_positives <= int(y.sum()) < len(y):
                booster_data[k] = (rows, y)
        linear_x = self._linear_design(data.features)
        threads = self.settings.threads
        if threads is not None or (os.cpu_count() or 1) < 2:  # the fits one after the other on this thread
            linear = {k: self._fit_linear(data, k, linear_x) for k in booster_data}
            result = meanwhile() if meanwhile is not None else None
            fitted = {k: self._fit_booster(data.features, rows, y, k, threads) for k, (rows, y) in booster_data.items()}
        else:
            with ThreadPoolExecutor(max_workers=min(len(booster_data), os.cpu_count() or 1) or 1) as pool:
                boosters = {k: pool.submit(self._fit_booster, data.features, rows, y, k, 1)
                            for k, (rows, y) in booster_data.items()}
                linears = {k: pool.submit(self._fit_linear, data, k, linear_x) for k in booster_data}
                result = meanwhile() if meanwhile is not None else None
                fitted = {k: future.result() for k, future in boosters.items()}
                linear = {k: future.result() for k, future in linears.items()}
        for k in range(len(self.thresholds)):
            self.boosters_.append(fitted.get(k))
            self.linear_.append(linear.get(k))
            self.fallback_ratio_.append(None if k in booster_data else self._fallback_ratio(data, k))
        self._fit_tails(data)
        return result

    def _fit_linear(self, data: TrainingSet, k: int, linear_x: np.ndarray) -> Any:
        """Threshold ``k``'s logistic component, on its rows of ``data``."""
        rows, weights = data.rows_for(k)
        y = data.outcomes[:, k] if rows is None else data.outcomes[rows, k]
        return logistic_pipeline(1.0).fit(linear_x if rows is None else linear_x[rows], y,
                                          logisticregression__sample_weight=weights)

    def _fit_tails(self, data: TrainingSet) -> None:
        """The knot and each threshold's DAM tail: the slope in log DAM above the knot that the fitted blend
        left unexplained on the fit window's rows there (never negative; 0 without a booster)."""
        dam = log_price(data.features["dam_hod"].to_numpy(dtype=float))
        self.dam_knot_ = _dam_knot(dam, self.settings.min_samples_leaf)
        self.tail_ = [0.0] * len(self.thresholds)
        above = np.flatnonzero(self._excess(dam) > 0)
        if not len(above):
            return
        blend = self._raw_logits(data.features.iloc[above])  # without a tail yet
        excess, weights = self._excess(dam[above]), weight_matrix(data)
        for k, booster in enumerate(self.boosters_):
            if booster is None:
                continue
            weight = np.ones(len(above)) if weights is None else weights[above, k]  # 0: not in k's fit
            mine = weight > 0
            z, y = blend[mine, k], data.outcomes[above[mine], k]
            self.tail_[k] = max(fit_coefficient(z, excess[mine], y, TAIL_PRIOR, weight[mine]), 0.0)

    @staticmethod
    def _fallback_ratio(data: TrainingSet, k: int) -> float:
        """For a threshold with too few spikes to fit: its spikes per spike of the next-lower threshold
        (per hour, for the lowest)."""
        rows, weights = data.rows_for(k)
        positives = int((data.outcomes[:, k] if rows is None else data.outcomes[rows, k]).sum())
        lower = data.outcomes[:, k - 1].sum() if k else (len(data.outcomes) if weights is None else float(weights.sum()))
        return float((positives + 0.5) / (lower + 1.0))

    def _fit_booster(self, features: pd.DataFrame, rows: np.ndarray | None, y: np.ndarray, k: int,
                     threads: int | None) -> HistGradientBoostingClassifier:
        """Every spike and a seeded share of the calm hours among ``rows`` of ``features`` (None: all) --
        no sample weights: they make sklearn's booster several times slower; the sampling is undone in
        logit space at prediction. The design is built for the rows fitted on only (a large window's
        whole design would be held beside the booster's own copies)."""
        rng = np.random.default_rng([self.settings.seed, k])
        keep = (y == 1) | (rng.random(len(y)) < self.settings.negative_keep)
        chosen = np.flatnonzero(keep) if rows is None else np.flatnonzero(rows)[keep]
        x = self._design(features.iloc[chosen])
        with threadpool_limits(limits=threads, user_api="openmp"):  # OpenMP's thread count is per thread
            return self._booster().fit(x, y[keep])

    def raw_logits(self, features: pd.DataFrame) -> np.ndarray:
        """Blended log-odds [rows, thresholds] before the intercept shift."""
        with compute_threads(self.settings.threads):
            return self._raw_logits(features)

    def _raw_logits(self, features: pd.DataFrame) -> np.ndarray:
        x, linear_x, excess = self._design(features), self._linear_design(features), self._dam_excess(features)
        weight, offset = self.settings.logistic_weight, np.log(self.settings.negative_keep)
        if self.calm_share_ < 1.0:  # the boosters of a compacted set saw that share of the calm hours too
            offset += np.log(self.calm_share_)
        out = np.empty((len(x), len(self.thresholds)))
        for k, booster in enumerate(self.boosters_):
            if booster is None:
                base = sigmoid(out[:, k - 1]) if k else np.ones(len(x))
                out[:, k] = logit(base * self.fallback_ratio_[k])
                continue
            trees = booster.decision_function(x) + offset
            out[:, k] = (1 - weight) * trees + weight * self.linear_[k].decision_function(linear_x) + self.tail_[k] * excess
        return out

    def raw_probabilities(self, features: pd.DataFrame) -> np.ndarray:
        return sigmoid(self.raw_logits(features))

    def calibrate(self, raw: np.ndarray, outcomes: np.ndarray) -> list[float]:
        """The intercept shift per threshold fitted on (raw probability, outcome) pairs."""
        shifts = []
        for k in range(len(self.thresholds)):
            y = outcomes[:, k]
            if self.boosters_[k] is None or not len(y):
                shifts.append(0.0)
            else:
                shift = fit_intercept(logit(raw[:, k]), y, self.settings.calibration_prior)
                shifts.append(float(np.clip(shift, -self.settings.calibration_cap, self.settings.calibration_cap)))
        return shifts

    def apply_calibration(self, raw: np.ndarray, shifts: Sequence[float]) -> np.ndarray:
        return monotone(np.column_stack([sigmoid(logit(raw[:, k]) + b) for k, b in enumerate(shifts)]))

    # -- prediction --
    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated, monotone probabilities [rows, thresholds]."""
        return self.apply_calibration(self.raw_probabilities(features), self.calibration_)

    def predict_baselines(self, features: pd.DataFrame) -> dict[str, np.ndarray]:
        with compute_threads(self.settings.threads):
            return {name: monotone(model.predict(features)) for name, model in self.baselines_.items()}

    def predict_served(self, features: pd.DataFrame, forecasters: dict[str, str]) -> np.ndarray:
        """Probabilities [rows, thresholds] from the forecaster chosen per threshold (the model where none is
        named; see :func:`pipeline.model.scoring.best_forecasters`), monotone however they mix."""
        chosen = [forecasters.get(threshold_label(t), "model") for t in self.thresholds]
        model = self.predict(features)
        with compute_threads(self.settings.threads):
            baselines = {name: self.baselines_[name].predict(features) for name in set(chosen) - {"model"}}
        out = np.column_stack([model[:, k] if name == "model" else baselines[name][:, k]
                               for k, name in enumerate(chosen)])
        return monotone(out)

    def feature_importance(self) -> dict[str, dict[str, float]]:
        """Total split gain per input and threshold, normalised to sum to 1."""
        out = {}
        for threshold, booster in zip(self.thresholds, self.boosters_):
            if booster is None:
                continue
            names = _split_feature_names(booster, [*self.columns_, "node"])
            gains = np.zeros(len(names))
            for iteration in booster._predictors:  # noqa: SLF001 - sklearn keeps split gains here
                nodes = iteration[0].nodes
                splits = nodes[nodes["is_leaf"] == 0]
                np.add.at(gains, splits["feature_idx"], splits["gain"])
            total = gains.sum() or 1.0
            ranked = sorted(zip(names, gains / total), key=lambda item: -item[1])
            out[threshold_label(threshold)] = {name: round(float(g), 6) for name, g in ranked if g > 0}
        return out


def _dam_knot(log_dam: np.ndarray, leaf: int) -> float:
    """The ``leaf``-th highest log DAM price (NaN: no DAM price). A booster's leaf holds at least ``leaf``
    rows, so its trees cannot tell apart the rows above: they are flat there, and the tail takes over."""
    known = log_dam[np.isfinite(log_dam)]
    if not len(known):
        return float("nan")
    rank = len(known) - min(leaf, len(known))  # its position in ascending order
    return float(np.partition(known, rank)[rank])


def fit_coefficient(z: np.ndarray, x: np.ndarray, y: np.ndarray, prior: float,
                    weights: np.ndarray | None = None) -> float:
    """The coefficient c minimising the (weighted) log loss of sigmoid(z + c x) plus ``prior`` * c^2:
    z the log-odds already fitted (an offset), x one more input."""
    w = np.ones(len(y)) if weights is None else weights

    def objective(params: np.ndarray) -> tuple[float, np.ndarray]:
        p = np.clip(sigmoid(z + params[0] * x), 1e-9, 1 - 1e-9)
        loss = -np.sum(w * (y * np.log(p) + (1 - y) * np.log(1 - p))) + prior * params[0] ** 2
        return loss, np.array([np.sum(w * (p - y) * x) + 2 * prior * params[0]])

    return float(minimize(objective, np.array([0.0]), jac=True, method="L-BFGS-B").x[0])


def fit_intercept(z: np.ndarray, y: np.ndarray, prior: float) -> float:
    """The shift b minimising the log loss of sigmoid(z + b) plus ``prior`` * b^2."""
    return fit_coefficient(z, np.ones(len(z)), y, prior)


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
