"""Probability helpers: logits and monotonicity across thresholds."""

from __future__ import annotations

import numpy as np

EPS = 1e-6


def logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, EPS, 1 - EPS)
    return np.log(q / (1 - q))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def monotone(probabilities: np.ndarray) -> np.ndarray:
    """Force P(> higher threshold) <= P(> lower threshold) on every row (thresholds ascending)."""
    return np.minimum.accumulate(probabilities, axis=1)

