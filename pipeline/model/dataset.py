"""Labelled training sets: feature rows joined to their realised outcomes, split by date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.labels import spike_outcomes


@dataclass(frozen=True)
class TrainingSet:
    """Feature rows and their outcomes: ``outcomes[i, k]`` = spike above ``thresholds[k]`` (0/1)."""

    features: pd.DataFrame
    outcomes: np.ndarray
    thresholds: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.features) != len(self.outcomes):
            raise ValueError("features and outcomes differ in length")
        if np.isnan(self.outcomes).any():
            raise ValueError("training outcomes must be complete (drop unlabelled hours first)")


def join_outcomes(features: pd.DataFrame, outcomes: pd.DataFrame, thresholds: Sequence[float]) -> TrainingSet:
    """Attach outcomes (long: node, interval_start, threshold, outcome) to feature rows; drop unlabelled rows."""
    wide = outcomes.pivot_table(index=["node", "interval_start"], columns="threshold", values="outcome",
                                aggfunc="max")
    wide = wide.reindex(columns=[float(t) for t in thresholds])
    keys = pd.MultiIndex.from_frame(features[["node", "interval_start"]])
    matrix = wide.reindex(keys).to_numpy(dtype=float)
    labelled = ~np.isnan(matrix).any(axis=1)
    return TrainingSet(features.loc[labelled].reset_index(drop=True), matrix[labelled], tuple(thresholds))


def labelled_set(features: pd.DataFrame, rt_hourly: pd.DataFrame, thresholds: tuple[float, ...]) -> TrainingSet:
    """Feature rows (with ``issue_day``) joined to their realised spike outcomes."""
    return join_outcomes(features, spike_outcomes(rt_hourly, thresholds), thresholds)


def select_days(data: TrainingSet, first: dt.date, last: dt.date) -> TrainingSet:
    """The rows of issue days [first, last]."""
    days = data.features["issue_day"]
    keep = ((days >= first) & (days <= last)).to_numpy()
    return TrainingSet(data.features.loc[keep].reset_index(drop=True), data.outcomes[keep], data.thresholds)
