"""Backtest assembly: forecasts + baseline forecasts + realised outcomes -> predictions and metrics.

Pure functions over frames, so the metrics in ``metrics.json`` can be recomputed from
``predictions.parquet`` alone (:func:`metrics` is what the backtest task calls).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pipeline import ercot_time, evaluation, labels
from pipeline.model import SpikeModel
from targets.schemas import BASELINE_COLUMNS, PREDICTIONS

OUTCOME_COLUMNS = ["node", "threshold", "interval_start", "outcome", "price_max"]

FORECASTS = {
    "model": "probability",
    "climatology": "p_climatology",
    "persistence_yesterday": "p_persistence_yesterday",
    "persistence_last_week": "p_persistence_last_week",
    "logistic": "p_logistic",
}
REFERENCE = "climatology"


def baseline_columns(features: pd.DataFrame, baselines: Mapping[str, np.ndarray], thresholds: tuple[float, ...]) -> pd.DataFrame:
    """Baseline probabilities [rows, thresholds] per baseline -> long frame keyed like the forecast."""
    blocks = []
    for k, threshold in enumerate(thresholds):
        block = pd.DataFrame({
            "node": features["node"].to_numpy(),
            "threshold": float(threshold),
            "interval_start": features["interval_start"].reset_index(drop=True),
        })
        for name, probabilities in baselines.items():
            block[f"p_{name}"] = probabilities[:, k]
        blocks.append(block)
    return pd.concat(blocks, ignore_index=True)


def day_predictions(forecast: pd.DataFrame, features: pd.DataFrame, model: SpikeModel,
                    hourly: pd.DataFrame | None) -> tuple[pd.DataFrame, int]:
    """One issue day's forecast with the serving model's baseline forecasts and the realised outcomes.

    ``hourly`` holds the hourly real-time prices of the target days that exist so far (None: none).
    Returns (labelled rows, rows without an outcome yet).
    """
    baselines = baseline_columns(features, model.predict_baselines(features), model.thresholds)
    if hourly is None:
        outcomes = pd.DataFrame(columns=OUTCOME_COLUMNS)
    else:
        outcomes = labels.spike_outcomes(hourly, model.thresholds)
    return join_predictions(forecast, baselines, outcomes)


def join_predictions(forecast: pd.DataFrame, baselines: pd.DataFrame, outcomes: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Forecast rows with baselines and outcomes; returns (labelled rows, rows without an outcome)."""
    keys = ["node", "threshold", "interval_start"]
    joined = forecast.merge(baselines, on=keys, how="left", validate="one_to_one")
    missing_baseline = joined[list(BASELINE_COLUMNS)].isna().any(axis=1)
    if missing_baseline.any():
        raise ValueError(f"{int(missing_baseline.sum())} forecast rows have no baseline forecast")
    joined = joined.merge(outcomes[[*keys, "outcome", "price_max"]], on=keys, how="left", validate="one_to_one")
    unlabelled = joined["outcome"].isna()
    labelled = joined.loc[~unlabelled].copy()
    if labelled.empty:  # e.g. the last issue days of an archive: their hours are not in it
        return labelled, int(unlabelled.sum())
    labelled["outcome"] = labelled["outcome"].astype("int64")
    return PREDICTIONS.conform(labelled), int(unlabelled.sum())


def with_breakdowns(predictions: pd.DataFrame) -> pd.DataFrame:
    """Columns to group metrics by: horizon day (1-3), CPT hour of day, CPT month."""
    local = predictions["interval_start"].dt.tz_convert(ercot_time.CPT)
    return predictions.assign(
        horizon_day=((predictions["horizon_h"] - 1) // 24 + 1).astype(int),
        hour=local.dt.hour,
        month=local.dt.strftime("%Y-%m"),
    )


def metrics(predictions: pd.DataFrame) -> dict[str, Any]:
    """Every metric of the model and the baselines, per threshold, overall and by node, horizon day, hour, month."""
    frame = with_breakdowns(predictions)
    result = evaluation.evaluate(
        frame, FORECASTS, REFERENCE,
        breakdowns={"node": "node", "horizon_day": "horizon_day", "hour": "hour", "month": "month"},
    )
    result["curves"] = {
        evaluation.group_key(threshold): {
            name: evaluation.curves(rows["outcome"].to_numpy(), rows[column].to_numpy())
            for name, column in FORECASTS.items()
        }
        for threshold, rows in frame.groupby("threshold", sort=True)
    }
    result["rows"] = int(len(frame))
    result["status_counts"] = {str(k): int(v) for k, v in frame["status"].value_counts().sort_index().items()}
    result["model_ids"] = sorted(frame["model_id"].unique().tolist())
    return result


def scored(predictions: pd.DataFrame, unlabelled: int, start: dt.date, end: dt.date,
           config: Mapping[str, Any]) -> dict[str, Any]:
    """``metrics.json`` of a backtest over [start, end]: every metric, the window, the gaps and the settings."""
    result = metrics(predictions)
    result["window"] = {"start": start.isoformat(), "end": end.isoformat(), "days": (end - start).days + 1}
    result["rows_without_outcome"] = unlabelled
    result["config"] = dict(config)
    return result
