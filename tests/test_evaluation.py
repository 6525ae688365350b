"""Verification metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline import evaluation


def test_brier_log_loss_and_skill_by_hand() -> None:
    y = np.array([1, 0, 0, 1])
    p = np.array([0.9, 0.1, 0.2, 0.6])
    metrics = evaluation.binary_metrics(y, p, reference=np.full(4, 0.5))
    assert metrics["brier"] == pytest.approx((0.01 + 0.01 + 0.04 + 0.16) / 4)
    assert metrics["brier_reference"] == pytest.approx(0.25)
    assert metrics["brier_skill"] == pytest.approx(1 - 0.055 / 0.25)
    assert metrics["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.9, 0.8, 0.6])))
    assert metrics["roc_auc"] == 1.0
    assert metrics["reliable"] is False  # 2 positives < 30


def test_auc_and_average_precision_by_hand_with_ties() -> None:
    # scores 0.8 (hit), 0.5 (hit, miss: a tie), 0.2 (miss): ROC (0,0) (0,.5) (.5,1) (1,1); of the
    # four hit-miss pairs, three rank right and the tie counts half
    y, p = np.array([1.0, 1.0, 0.0, 0.0]), np.array([0.8, 0.5, 0.5, 0.2])
    auc, precision = evaluation.ranking_scores(y, p)
    assert auc == pytest.approx(3.5 / 4)
    assert precision == pytest.approx(0.5 * 1.0 + 0.5 * (2 / 3))  # recall steps of 0.5 at precision 1 and 2/3


@pytest.mark.parametrize("decimals", [None, 1, 2])
def test_auc_and_average_precision_agree_with_scikit_learn(decimals: int | None) -> None:
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(decimals or 0)
    for _ in range(50):
        n = int(rng.integers(2, 3000))
        y = (rng.random(n) < rng.uniform(0.01, 0.5)).astype(float)
        if not 0 < y.sum() < n:
            continue
        p = np.clip(rng.random(n) * 0.3 + y * rng.random(n) * 0.3, 0, 1)
        p = p if decimals is None else np.round(p, decimals)  # many ties
        auc, precision = evaluation.ranking_scores(y, p)
        assert auc == pytest.approx(roc_auc_score(y, p), abs=1e-12)
        assert precision == pytest.approx(average_precision_score(y, p), abs=1e-12)


def test_ece_of_a_perfectly_calibrated_forecast_is_zero() -> None:
    p = np.repeat([0.1, 0.5], 10)
    y = np.r_[np.r_[np.ones(1), np.zeros(9)], np.r_[np.ones(5), np.zeros(5)]]
    assert evaluation.expected_calibration_error(y, p) == pytest.approx(0.0)
    assert evaluation.expected_calibration_error(y, np.full(20, 0.9)) == pytest.approx(0.9 - 0.3)


def test_operating_points() -> None:
    point = evaluation.at_operating_point(np.array([1, 0, 1, 0]), np.array([0.6, 0.7, 0.1, 0.0]), 0.5)
    assert point == {"threshold_probability": 0.5, "alerts": 2, "precision": 0.5, "recall": 0.5}


def test_single_class_has_no_auc() -> None:
    metrics = evaluation.binary_metrics(np.zeros(5), np.full(5, 0.1))
    assert metrics["roc_auc"] is None and metrics["positives"] == 0


def test_nan_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="NaN"):
        evaluation.binary_metrics(np.array([0, 1]), np.array([0.1, np.nan]))


def test_evaluate_never_pools_thresholds_and_breaks_down() -> None:
    frame = pd.DataFrame({
        "threshold": [100.0] * 4 + [1000.0] * 4, "node": ["A", "A", "B", "B"] * 2,
        "outcome": [1, 0, 1, 0, 0, 0, 0, 1], "p": [0.8, 0.2, 0.6, 0.3, 0.1, 0.1, 0.1, 0.2],
        "clim": 0.5,
    })
    result = evaluation.evaluate(frame, {"model": "p", "climatology": "clim"}, "climatology", {"node": "node"})
    assert set(result["by_threshold"]) == {"100", "1000"}
    assert result["by_threshold"]["100"]["model"]["n"] == 4
    assert result["by_threshold_node"]["100"]["A"]["model"]["roc_auc"] == 1.0
