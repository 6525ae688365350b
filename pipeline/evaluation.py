"""Forecast verification for binary spike events: scores, calibration and breakdowns.

Every metric takes outcomes ``y`` (0/1) and probabilities ``p``. Brier skill is measured against a
reference forecast (climatology by default). Metrics on fewer than ``MIN_RELIABLE_POSITIVES``
positive outcomes are marked ``reliable: false``: rank and calibration scores on a handful of
spikes say little.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_curve

MIN_RELIABLE_POSITIVES = 30
OPERATING_POINTS = (0.05, 0.1, 0.2, 0.5)
CALIBRATION_BINS = 10
EPSILON = 1e-6


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    q = np.clip(p, EPSILON, 1 - EPSILON)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def reliability(y: np.ndarray, p: np.ndarray, bins: int = CALIBRATION_BINS) -> list[dict[str, float]]:
    """Equal-width probability bins: mean forecast, observed frequency and count per non-empty bin."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1], right=False), 0, bins - 1)
    curve = []
    for b in range(bins):
        in_bin = index == b
        count = int(in_bin.sum())
        if count:
            curve.append({
                "bin_low": float(edges[b]), "bin_high": float(edges[b + 1]), "count": count,
                "mean_probability": float(p[in_bin].mean()), "observed_frequency": float(y[in_bin].mean()),
            })
    return curve


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Count-weighted mean |forecast - observed| over the reliability bins."""
    curve = reliability(y, p, bins)
    total = sum(b["count"] for b in curve)
    return float(sum(b["count"] * abs(b["mean_probability"] - b["observed_frequency"]) for b in curve) / total)


def at_operating_point(y: np.ndarray, p: np.ndarray, cut: float) -> dict[str, float | None]:
    """Precision and recall when alerting on ``p >= cut``."""
    alert = p >= cut
    hits = int((alert & (y == 1)).sum())
    return {
        "threshold_probability": cut,
        "alerts": int(alert.sum()),
        "precision": hits / int(alert.sum()) if alert.any() else None,
        "recall": hits / int(y.sum()) if y.sum() else None,
    }


def ranking_scores(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """ROC AUC and average precision of ``p`` on outcomes ``y`` holding both classes, from one sort.

    The same definitions as scikit-learn's ``roc_auc_score`` (trapezoids under the ROC curve, ties
    as one step) and ``average_precision_score`` (precision at each distinct score, weighted by the
    recall it adds), without their input checks, which cost far more than the sums on the few
    thousand hours of a validation window scored thousands of times in a year's replay.
    """
    order = np.argsort(p, kind="mergesort")[::-1]
    score, hit = p[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]  # last hour of each distinct score
    tps = np.cumsum(hit)[last]
    fps = 1.0 + last - tps
    auc = np.trapezoid(np.r_[0.0, tps] / tps[-1], np.r_[0.0, fps] / fps[-1])
    precision, recall = tps / (tps + fps), tps / tps[-1]
    gained = np.diff(np.r_[0.0, recall]) * precision
    return float(auc), float(max(0.0, np.sum(gained[::-1])))


def binary_metrics(y: Sequence[float], p: Sequence[float], reference: Sequence[float] | None = None) -> dict[str, Any]:
    """Every score of one forecast against outcomes (``reference``: the forecast skill is measured against)."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.shape != p.shape:
        raise ValueError(f"outcomes and probabilities differ in shape: {y.shape} vs {p.shape}")
    if not len(y):
        return {"n": 0, "positives": 0, "reliable": False}
    if np.isnan(p).any() or np.isnan(y).any():
        raise ValueError("metrics need complete outcomes and probabilities (found NaN)")
    positives = int(y.sum())
    both_classes = 0 < positives < len(y)
    score = brier(y, p)
    auc, precision = ranking_scores(y, p) if both_classes else (None, None)
    out: dict[str, Any] = {
        "n": int(len(y)),
        "positives": positives,
        "base_rate": float(y.mean()),
        "mean_probability": float(p.mean()),
        "reliable": positives >= MIN_RELIABLE_POSITIVES,
        "roc_auc": auc,
        "average_precision": precision,
        "brier": score,
        "log_loss": log_loss(y, p),
        "ece": expected_calibration_error(y, p),
        "operating_points": [at_operating_point(y, p, cut) for cut in OPERATING_POINTS],
    }
    if reference is not None:
        ref = brier(y, np.asarray(reference, dtype=float))
        out["brier_reference"] = ref
        out["brier_skill"] = 1.0 - score / ref if ref > 0 else None
    return out


def curves(y: Sequence[float], p: Sequence[float], max_points: int = 200) -> dict[str, Any]:
    """ROC and precision-recall curves (thinned to ``max_points``) and the reliability curve."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    out: dict[str, Any] = {"reliability": reliability(y, p), "value": relative_value(y, p)}
    if 0 < y.sum() < len(y):
        fpr, tpr, _ = roc_curve(y, p)
        precision, recall, _ = precision_recall_curve(y, p)
        out["roc"] = _thin({"fpr": fpr, "tpr": tpr}, max_points)
        out["precision_recall"] = _thin({"recall": recall[::-1], "precision": precision[::-1]}, max_points)
    return out


#: Cost/loss ratios at which the relative economic value is reported (a log-spaced grid).
COST_LOSS_RATIOS = tuple(float(f"{a:.3g}") for a in np.geomspace(0.005, 0.9, 24))


def relative_value(y: Sequence[float], p: Sequence[float],
                   ratios: Sequence[float] = COST_LOSS_RATIOS) -> list[dict[str, float | None]]:
    """Relative economic value of acting on the forecast in the cost-loss model, per cost/loss ratio.

    A user who pays C to protect against a loss L acts when the probability exceeds a = C/L (the
    best rule for a calibrated forecast). With base rate s, hit rate H and false-alarm rate F of
    that rule, the value is (E_climate - E_forecast) / (E_climate - E_perfect) in expense per
    case: 1 is perfect foresight, 0 is no better than always or never protecting (whichever is
    cheaper), negative is worse (Richardson 2000). None where every case or none spiked.
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    s = float(y.mean()) if len(y) else 0.0
    events, quiet = y == 1, y == 0
    out: list[dict[str, float | None]] = []
    for a in ratios:
        if not 0 < s < 1:
            out.append({"ratio": float(a), "value": None})
            continue
        act = p > a
        hit_rate = float(act[events].mean())
        false_alarm_rate = float(act[quiet].mean())
        climate, perfect = min(a, s), s * a
        forecast = false_alarm_rate * a * (1 - s) - hit_rate * s * (1 - a) + s
        out.append({"ratio": float(a), "value": (climate - forecast) / (climate - perfect)})
    return out


def _thin(columns: Mapping[str, np.ndarray], max_points: int) -> dict[str, list[float]]:
    n = len(next(iter(columns.values())))
    keep = np.unique(np.linspace(0, n - 1, min(n, max_points)).round().astype(int))
    return {name: [float(v) for v in values[keep]] for name, values in columns.items()}


# --- breakdowns over a predictions frame --------------------------------------------------------


def evaluate(
    predictions: pd.DataFrame,
    forecasts: Mapping[str, str],
    reference: str,
    breakdowns: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Metrics of each forecast column, per threshold, overall and by each breakdown column.

    ``forecasts`` maps a display name to a probability column (the model and the baselines);
    ``reference`` names the forecast Brier skill is measured against; ``breakdowns`` maps a name to
    a column of ``predictions`` to group by (node, horizon day, hour, month ...). Thresholds are
    never pooled: a $1000 spike and a $100 spike are different events.
    """
    breakdowns = breakdowns or {}
    result: dict[str, Any] = {"by_threshold": {}}
    for threshold, rows in predictions.groupby("threshold", sort=True):
        key = group_key(threshold)
        result["by_threshold"][key] = _score_all(rows, forecasts, reference)
        for name, column in breakdowns.items():
            section = result.setdefault(f"by_threshold_{name}", {}).setdefault(key, {})
            for value, group in rows.groupby(column, sort=True):
                section[group_key(value)] = _score_all(group, forecasts, reference)
    return result


def _score_all(rows: pd.DataFrame, forecasts: Mapping[str, str], reference: str) -> dict[str, Any]:
    y = rows["outcome"].to_numpy(dtype=float)
    ref = rows[forecasts[reference]].to_numpy(dtype=float)
    return {name: binary_metrics(y, rows[column].to_numpy(dtype=float), ref) for name, column in forecasts.items()}


def group_key(value: Any) -> str:
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return str(int(value))
    return str(value)
