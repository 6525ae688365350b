"""The published forecast: one row per (node, threshold, target hour), the public contract.

Columns (DESIGN 3.3): forecast_date, issued_at, node, threshold, interval_start, horizon_h,
probability, model_id, status, and for bidding delivery_date, hour_ending and dst_flag (ERCOT's
operating day, hour ending and DSTFlag of the hour). ``status`` is ``ok``, ``degraded_inputs``
(an input was set aside as implausible, or too many model inputs were missing) or the fallback
used (``fallback_*``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from pipeline import ercot_time
from pipeline.catalogue import HORIZON_HOURS
from targets.schemas import FORECAST

STATUS_OK = "ok"
STATUS_DEGRADED = "degraded_inputs"
STATUS_CACHED_INPUTS = "fallback_cached_inputs"
STATUS_PREVIOUS = "fallback_previous"


def forecast_frame(
    features: pd.DataFrame,
    probabilities: np.ndarray,
    thresholds: Sequence[float],
    forecast_date: dt.date,
    issued_at: pd.Timestamp,
    model_id: str | Sequence[str],
    status: str | Mapping[str, str] = STATUS_OK,
) -> pd.DataFrame:
    """Long contract frame from feature rows and their [rows, thresholds] probabilities.

    ``model_id``: one id, or one per threshold (a threshold served by a baseline names it).
    ``status``: one for every row, or one per node (a node whose inputs are degraded says so).
    """
    if probabilities.shape != (len(features), len(thresholds)):
        raise ValueError(f"probabilities of shape {probabilities.shape} do not match "
                         f"{len(features)} rows x {len(thresholds)} thresholds")
    if np.isnan(probabilities).any() or (probabilities < 0).any() or (probabilities > 1).any():
        raise ValueError("probabilities must be finite and within [0, 1]")
    ids = [model_id] * len(thresholds) if isinstance(model_id, str) else list(model_id)
    if len(ids) != len(thresholds):
        raise ValueError(f"{len(ids)} model ids for {len(thresholds)} thresholds")
    blocks = []
    for k, threshold in enumerate(thresholds):
        blocks.append(pd.DataFrame({
            "node": features["node"].to_numpy(),
            "threshold": float(threshold),
            "interval_start": features["interval_start"].reset_index(drop=True),
            "horizon_h": features["horizon_h"].to_numpy(),
            "probability": probabilities[:, k],
            "model_id": ids[k],
        }))
    frame = pd.concat(blocks, ignore_index=True)
    frame.insert(0, "forecast_date", [forecast_date] * len(frame))
    frame.insert(1, "issued_at", pd.DatetimeIndex([issued_at] * len(frame)))
    frame["status"] = status if isinstance(status, str) else frame["node"].map(dict(status)).fillna(STATUS_OK)
    frame = frame.sort_values(["node", "threshold", "interval_start"], kind="stable").reset_index(drop=True)
    return FORECAST.conform(with_bid_columns(frame))


def overall_status(frame: pd.DataFrame) -> str:
    """One status for a whole forecast: the fallback used, else degraded_inputs if any node is, else ok."""
    statuses = set(frame["status"])
    fallbacks = sorted(s for s in statuses if s.startswith("fallback_"))
    if fallbacks:
        return fallbacks[0]
    return STATUS_DEGRADED if STATUS_DEGRADED in statuses else STATUS_OK


def with_bid_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` plus ERCOT's delivery date, hour ending and DSTFlag of each row's ``interval_start``."""
    delivery, hour_ending, dst_flag = ercot_time.hour_ending_of(frame["interval_start"])
    return frame.assign(delivery_date=delivery, hour_ending=hour_ending, dst_flag=dst_flag)


def republished(previous: pd.DataFrame, forecast_date: dt.date, issued_at: pd.Timestamp,
                horizon_hours: int = HORIZON_HOURS) -> pd.DataFrame:
    """The previous forecast re-labelled for ``forecast_date`` (the inference fallback).

    The new horizon starts 24 hours later: the hours the previous forecast covered are carried
    over, and the last day (which it did not cover) repeats its final day's same-hour values,
    the best persistence available. Every row says ``fallback_previous``.
    """
    hours = ercot_time.forecast_hours(forecast_date, horizon_hours)
    out = []
    for (node, threshold), rows in previous.groupby(["node", "threshold"], sort=True):
        by_hour = rows.set_index("interval_start")["probability"]
        values = []
        for hour in hours:
            value = by_hour.get(hour)
            step_back = hour
            while value is None or (isinstance(value, float) and np.isnan(value)):
                step_back = step_back - pd.Timedelta(hours=24)
                if step_back < by_hour.index.min():
                    raise ValueError(f"previous forecast cannot cover {hour} for {node} ${threshold:g}")
                value = by_hour.get(step_back)
            values.append(float(value))
        out.append(pd.DataFrame({
            "node": node, "threshold": float(threshold), "interval_start": hours,
            "horizon_h": np.arange(1, len(hours) + 1), "probability": values, "model_id": rows["model_id"].iloc[0],
        }))
    frame = pd.concat(out, ignore_index=True)
    frame.insert(0, "forecast_date", [forecast_date] * len(frame))
    frame.insert(1, "issued_at", pd.DatetimeIndex([issued_at] * len(frame)))
    frame["status"] = STATUS_PREVIOUS
    return FORECAST.conform(with_bid_columns(frame))
