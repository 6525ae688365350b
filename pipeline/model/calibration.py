"""Probability calibration: logits, Platt scaling with a prior, and monotonicity across thresholds."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

EPS = 1e-6


def logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, EPS, 1 - EPS)
    return np.log(q / (1 - q))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def fit_platt(raw: np.ndarray, y: np.ndarray, prior: float) -> tuple[float, float]:
    """Slope and intercept on logit(raw) minimising log loss plus a Gaussian prior toward (1, 0)."""
    z = logit(raw)

    def objective(params: np.ndarray) -> tuple[float, np.ndarray]:
        a, b = params
        p = np.clip(sigmoid(a * z + b), EPS, 1 - EPS)
        loss = -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) + prior * ((a - 1) ** 2 + b**2)
        residual = p - y
        grad = np.array([np.sum(residual * z) + 2 * prior * (a - 1), np.sum(residual) + 2 * prior * b])
        return loss, grad

    result = minimize(objective, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    a, b = result.x
    return float(a), float(b)


def monotone(probabilities: np.ndarray) -> np.ndarray:
    """Force P(> higher threshold) <= P(> lower threshold) on every row (thresholds ascending)."""
    return np.minimum.accumulate(probabilities, axis=1)

