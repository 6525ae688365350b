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

from pipeline import ercot_time, evaluation, evidence, labels
from pipeline.model import SpikeModel
from targets.schemas import BASELINE_COLUMNS, PREDICTIONS

OUTCOME_COLUMNS = ["node", "threshold", "interval_start", "outcome", "price_max", "price_mean"]

FORECASTS = {
    "model": "probability",
    "climatology": "p_climatology",
    "persistence_yesterday": "p_persistence_yesterday",
    "persistence_last_week": "p_persistence_last_week",
    "logistic": "p_logistic",
    "dam_asof": "p_dam_asof",
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
            # The issue day's DAM price at the target hour (what a user bidding from the DAM sees).
            "dam_asof": features["dam_hod"].to_numpy(dtype=float),
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
    joined = joined.merge(outcomes[[*keys, "outcome", "price_max", "price_mean"]], on=keys, how="left",
                          validate="one_to_one")
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
    result["decisions"] = decisions(frame)
    result["evidence"] = evidence.spike_evidence(frame)  # distinct spike hours and days: how far to trust the scores
    result["rows"] = int(len(frame))
    result["status_counts"] = {str(k): int(v) for k, v in frame["status"].value_counts().sort_index().items()}
    result["model_ids"] = sorted(frame["model_id"].unique().tolist())
    return result


# --- what acting on the forecast is worth ----------------------------------------------------------

#: Probability cuts at which the decision table reports a flexible load's savings.
DECISION_CUTS = (0.05, 0.1, 0.2, 0.3, 0.5)
#: Thresholds (curtailment costs, $/MWh) the decision table covers when the backtest scores them.
DECISION_THRESHOLDS = (100.0, 250.0)


def decisions(predictions: pd.DataFrame) -> dict[str, Any]:
    """What a flexible load saves by acting on the forecast, against the issue-day DAM and perfect foresight.

    The load draws 1 MW at every node and hour. Curtailing an hour costs K $/MWh (the value of the
    consumption given up; K is the threshold) and avoids paying that hour's real-time price, so it
    saves (price - K). Decisions are made the day before, from the forecast's next-day hours
    (horizon 1-24, each target hour once):

    * forecast: curtail when P(price > K) > p*, for each p* in :data:`DECISION_CUTS`;
    * DAM as-of: curtail when the issue day's DAM price at the same hour is above K;
    * perfect foresight: curtail exactly when the realised price is above K (the most there is).

    Savings are in $ per MW of flexible load over the window, summed over nodes, against never
    curtailing; ``share`` is the fraction of perfect foresight's savings.
    """
    out: dict[str, Any] = {}
    next_day = predictions[predictions["horizon_h"] <= 24]
    for threshold in DECISION_THRESHOLDS:
        rows = next_day[next_day["threshold"] == threshold]
        if rows.empty:
            continue
        gain = rows["price_mean"].to_numpy(dtype=float) - threshold
        perfect = float(np.clip(gain, 0, None).sum())

        def strategy(curtail: np.ndarray, gain: np.ndarray = gain, perfect: float = perfect) -> dict[str, Any]:
            saved = float(gain[curtail].sum())
            return {"saved": saved, "curtailed_hours": int(curtail.sum()),
                    "share": saved / perfect if perfect > 0 else None}

        dam = rows["dam_asof"].to_numpy(dtype=float)
        out[evaluation.group_key(threshold)] = {
            "hours": int(len(rows)),
            "perfect": strategy(gain > 0),
            "dam_asof": strategy(np.nan_to_num(dam, nan=-np.inf) > threshold) if np.isfinite(dam).any() else None,
            "forecast": {f"{cut:g}": strategy(rows["probability"].to_numpy() > cut) for cut in DECISION_CUTS},
        }
    return out


def scored(predictions: pd.DataFrame, unlabelled: int, start: dt.date, end: dt.date,
           config: Mapping[str, Any]) -> dict[str, Any]:
    """``metrics.json`` of a backtest over [start, end]: every metric, the window, the gaps and the settings."""
    result = metrics(predictions)
    result["window"] = {"start": start.isoformat(), "end": end.isoformat(), "days": (end - start).days + 1}
    result["rows_without_outcome"] = unlabelled
    result["config"] = dict(config)
    return result
