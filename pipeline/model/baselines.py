"""The free baselines every model is measured against, fitted on the same window and kept with it.

* **climatology** -- P(spike) by node, CPT month and hour of day, shrunk toward the node's
  hour-of-day rate: what a seasonal table says;
* **persistence** -- P(spike | the same hour spiked yesterday / a week earlier), calibrated on the
  window;
* **logistic** -- a small logistic regression on recent spike rates, yesterday's price and the
  hour (also the spike model's smooth component);
* **DAM as-of** -- the market's own view as far as it is public at issue time: the issue day's
  DAM price at the target's CPT clock hour, calibrated per threshold and horizon day.

A forecast users pay for has to beat each of them; the backtest reports show it does or does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from pipeline.labels import threshold_label
from pipeline.model.dataset import TrainingSet, weight_matrix
from pipeline.model.linear import logistic_pipeline

BASELINES = ("climatology", "persistence_yesterday", "persistence_last_week", "logistic", "dam_asof")


@dataclass
class Climatology:
    """P(spike) by node, CPT month and hour, shrunk toward the node's hour-of-day rate."""

    thresholds: tuple[float, ...]
    strength: float = 10.0
    table_: dict[tuple[str, int, int], np.ndarray] = field(default_factory=dict)
    by_hour_: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)
    overall_: np.ndarray | None = None

    def fit(self, data: TrainingSet) -> Climatology:
        # One row per (node, target hour): the 3 horizons repeat the same outcome.
        frame, y, w = _unique_targets(data)
        if w is None:  # every row counts once
            self.overall_ = (y.sum(axis=0) + 0.5) / (len(y) + 1.0)
            sums = lambda idx: y[idx].sum(axis=0)  # noqa: E731
            counts = lambda idx: len(idx)  # noqa: E731
        else:  # a compacted set: each threshold's rows with their weights (0 where a row is not its)
            self.overall_ = ((w * y).sum(axis=0) + 0.5) / (w.sum(axis=0) + 1.0)
            sums = lambda idx: (w[idx] * y[idx]).sum(axis=0)  # noqa: E731
            counts = lambda idx: w[idx].sum(axis=0)  # noqa: E731
        hour_groups = frame.groupby(["node", "hour"]).indices
        for key, idx in hour_groups.items():
            self.by_hour_[key] = (sums(idx) + self.strength * self.overall_) / (counts(idx) + self.strength)
        for (node, month, hour), idx in frame.groupby(["node", "month", "hour"]).indices.items():
            prior = self.by_hour_[(node, hour)]
            self.table_[(node, month, hour)] = (sums(idx) + self.strength * prior) / (counts(idx) + self.strength)
        return self

    def predict_left_out(self, data: TrainingSet) -> np.ndarray:
        """Predictions on the rows it was fitted on, each with its own target hour left out.

        As a model input, the in-sample rate would carry a row's own outcome; leaving it out makes
        the training rows look like the rows seen in service.
        """
        frame, y, _ = _unique_targets(data)
        cell = frame.groupby(["node", "month", "hour"]).ngroup().to_numpy()
        sums = np.zeros((cell.max() + 1, y.shape[1]))
        np.add.at(sums, cell, y)
        counts = np.bincount(cell)[:, None].astype(float)
        prior = np.stack([self.by_hour_[key] for key in zip(frame["node"], frame["hour"])])
        left_out = (sums[cell] - y + self.strength * prior) / (counts[cell] - 1.0 + self.strength)
        keys = pd.MultiIndex.from_arrays([frame["node"], frame["interval_start"]])
        rows = keys.get_indexer(pd.MultiIndex.from_arrays([data.features["node"], data.features["interval_start"]]))
        return left_out[rows]

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        nodes = features["node"].to_numpy()
        months = features["month"].to_numpy(dtype=int)
        hours = features["hour_of_day"].to_numpy(dtype=int)
        out = np.empty((len(features), len(self.thresholds)))
        for i, key in enumerate(zip(nodes, months, hours)):
            row = self.table_.get(key)
            if row is None:
                row = self.by_hour_.get((key[0], key[2]), self.overall_)
            out[i] = row
        return out


def _unique_targets(data: TrainingSet) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
    """One row per (node, target hour) -- the horizons repeat the same outcome -- its outcomes, and for a
    compacted set its weight per threshold (:func:`weight_matrix`)."""
    first = ~data.features.duplicated(["node", "interval_start"]).to_numpy()
    # The four columns only (not every feature column's rows), the times kept as datetimes.
    rows = data.features[["node", "interval_start", "month", "hour_of_day"]].loc[first].reset_index(drop=True)
    frame = pd.DataFrame({
        "node": rows["node"].to_numpy(),
        "interval_start": rows["interval_start"],
        "month": rows["month"].to_numpy(dtype=int),
        "hour": rows["hour_of_day"].to_numpy(dtype=int),
    })
    weights = weight_matrix(data)
    return frame, data.outcomes[first], None if weights is None else weights[first]


@dataclass
class Persistence:
    """P(spike | the same hour spiked ``column`` ago), estimated on the training window."""

    thresholds: tuple[float, ...]
    column: str
    rates_: np.ndarray | None = None  # [2, thresholds]: row 0 = did not spike, row 1 = spiked; NaN row = unknown
    unknown_: np.ndarray | None = None

    def fit(self, data: TrainingSet) -> Persistence:
        previous = data.features[self.column].to_numpy(dtype=float)
        w = weight_matrix(data)
        self.rates_ = np.empty((2, len(self.thresholds)))
        for k, threshold in enumerate(self.thresholds):
            y = data.outcomes[:, k]
            known = ~np.isnan(previous)
            spiked = known & (previous > threshold)
            for state, mask in ((0, known & ~spiked), (1, spiked)):
                if w is None:
                    self.rates_[state, k] = (y[mask].sum() + 0.5) / (mask.sum() + 1.0)
                else:
                    self.rates_[state, k] = ((w[mask, k] * y[mask]).sum() + 0.5) / (w[mask, k].sum() + 1.0)
        if w is None:
            self.unknown_ = (data.outcomes.sum(axis=0) + 0.5) / (len(data.outcomes) + 1.0)
        else:
            self.unknown_ = ((w * data.outcomes).sum(axis=0) + 0.5) / (w.sum(axis=0) + 1.0)
        return self

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        previous = features[self.column].to_numpy(dtype=float)
        out = np.empty((len(features), len(self.thresholds)))
        for k, threshold in enumerate(self.thresholds):
            spiked = (previous > threshold).astype(int)
            out[:, k] = np.where(np.isnan(previous), self.unknown_[k], self.rates_[spiked, k])
        return out


LOGISTIC_INPUTS = ("spike_rate_{t}_hod_7d", "spike_rate_{t}_hod_28d", "sys_spike_rate_{t}_hod_7d",
                   "days_since_spike_{t}")
LOGISTIC_SHARED = ("price_max_hod_d1", "price_mean_hod_7d", "horizon_h")


def baseline_columns(thresholds: tuple[float, ...]) -> list[str]:
    """Every feature column the baselines read (what a compacted training set must keep for them)."""
    logistic = [c.format(t=threshold_label(t)) for t in thresholds for c in LOGISTIC_INPUTS]
    return [*logistic, *LOGISTIC_SHARED, "price_max_hod_lastweek", "dam_hod", "horizon_day", "hour_of_day", "month"]


@dataclass
class LogisticBaseline:
    """A small logistic regression on recent spike rates, yesterday's price and the hour."""

    thresholds: tuple[float, ...]
    models_: list[Any] = field(default_factory=list)

    def _design(self, features: pd.DataFrame, threshold: float, prior: np.ndarray | None) -> np.ndarray:
        t = threshold_label(threshold)
        columns = [c.format(t=t) for c in LOGISTIC_INPUTS] + list(LOGISTIC_SHARED)
        x = features[columns].to_numpy(dtype=float)
        x[:, columns.index("price_max_hod_d1")] = np.log1p(np.clip(x[:, columns.index("price_max_hod_d1")], 0, None))
        hour = features["hour_of_day"].to_numpy(dtype=float)
        parts = [x, np.sin(2 * np.pi * hour / 24), np.cos(2 * np.pi * hour / 24)]
        return np.column_stack(parts if prior is None else [*parts, prior])

    def fit(self, data: TrainingSet, prior: np.ndarray | None = None) -> LogisticBaseline:
        """``prior``: optional extra inputs [rows, thresholds] (the climatology's logit), one column per threshold."""
        self.models_ = []
        for k, threshold in enumerate(self.thresholds):
            rows, weights = data.rows_for(k)
            y = data.outcomes[:, k] if rows is None else data.outcomes[rows, k]
            if 0 < y.sum() < len(y):
                model = logistic_pipeline(1.0)
                design = self._design(data.features, threshold, None if prior is None else prior[:, k])
                model.fit(design if rows is None else design[rows], y, logisticregression__sample_weight=weights)
                self.models_.append(model)
            else:
                count = len(y) if weights is None else float(weights.sum())
                positives = y.sum() if weights is None else float((weights * y).sum())
                self.models_.append(float((positives + 0.5) / (count + 1.0)))
        return self

    def predict(self, features: pd.DataFrame, prior: np.ndarray | None = None) -> np.ndarray:
        out = np.empty((len(features), len(self.thresholds)))
        for k, (threshold, model) in enumerate(zip(self.thresholds, self.models_)):
            if isinstance(model, float):
                out[:, k] = model
            else:
                design = self._design(features, threshold, None if prior is None else prior[:, k])
                out[:, k] = model.predict_proba(design)[:, 1]
        return out



@dataclass
class DamAsOf:
    """P(spike) from the issue day's DAM price at the target's clock hour (feature ``dam_hod``).

    The DAM for the delivery day itself clears after the issue time, so the newest public DAM day
    is the issue day: a user bidding tomorrow's hours sees today's prices at the same hours. A
    logistic regression on log(max(DAM, $1)) per threshold and horizon day (1-3) turns the price
    into a probability; an hour without a DAM price gets the fit window's median price.
    """

    thresholds: tuple[float, ...]
    median_: float = 0.0
    models_: dict[tuple[int, int], Any] = field(default_factory=dict)

    def _design(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        dam = features["dam_hod"].to_numpy(dtype=float)
        price = np.where(np.isnan(dam), self.median_, dam)
        day = np.clip(features["horizon_day"].to_numpy(dtype=float), 1, 3).astype(int)
        return np.log(np.maximum(price, 1.0))[:, None], day

    def fit(self, data: TrainingSet) -> DamAsOf:
        # The median of a compacted set is taken over its sampled rows: a uniform sample of all hours.
        dam = data.features["dam_hod"] if not data.compacted else data.features.loc[data.sampled, "dam_hod"]
        known = dam.dropna()
        self.median_ = float(known.median()) if len(known) else 1.0
        x, day = self._design(data.features)
        self.models_ = {}
        for k in range(len(self.thresholds)):
            in_fit, weights = data.rows_for(k)
            for h in (1, 2, 3):
                rows = day == h if in_fit is None else (day == h) & in_fit
                y = data.outcomes[rows, k]
                w = None if weights is None else weights[(day == h)[in_fit]]
                if 0 < y.sum() < len(y) and len(known):
                    self.models_[k, h] = LogisticRegression(C=100.0, max_iter=500).fit(x[rows], y, sample_weight=w)
                elif w is None:
                    self.models_[k, h] = float((y.sum() + 0.5) / (len(y) + 1.0))
                else:
                    self.models_[k, h] = float(((w * y).sum() + 0.5) / (w.sum() + 1.0))
        return self

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        x, day = self._design(features)
        out = np.empty((len(features), len(self.thresholds)))
        for (k, h), model in self.models_.items():
            rows = day == h
            if rows.any():
                out[rows, k] = model if isinstance(model, float) else model.predict_proba(x[rows])[:, 1]
        return out
