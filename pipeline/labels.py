"""Spike labels: the realised outcome of each (node, hour, threshold).

An hour spikes above a threshold when the highest real-time price of any interval in it (5-minute
LMP, else 15-minute SPP) exceeds the threshold. Hours with missing intervals get no label rather
than a guessed one; they are counted as gaps.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def threshold_label(threshold: float) -> str:
    """A threshold as it appears in column names and report keys: 100 -> '100', 2.5 -> '2p5'."""
    return f"{threshold:g}".replace(".", "p")


def hourly_prices(rt_prices: pd.DataFrame) -> pd.DataFrame:
    """Real-time prices (any interval length) -> per (node, hour): max, mean, interval counts.

    ``published_at`` of an hour is that of its last interval (when the whole hour was known).
    """
    hour = rt_prices["interval_start"].dt.floor("h")
    grouped = rt_prices.assign(hour=hour).groupby(["node", "hour"], sort=True)
    out = grouped.agg(
        price_max=("price", "max"),
        price_mean=("price", "mean"),
        n_intervals=("price", "size"),
        minutes=("interval_minutes", "max"),
        published_at=("published_at", "max"),
    ).reset_index()
    out["expected_intervals"] = (60 // out["minutes"]).astype("int64")
    return out.rename(columns={"hour": "interval_start"})[
        ["interval_start", "node", "price_max", "price_mean", "n_intervals", "expected_intervals", "published_at"]
    ]


def spike_outcomes(rt_hourly: pd.DataFrame, thresholds: Sequence[float]) -> pd.DataFrame:
    """Long frame (node, interval_start, threshold, outcome, price_max, price_mean) for complete hours only."""
    complete = rt_hourly.loc[
        rt_hourly["n_intervals"] >= rt_hourly["expected_intervals"], ["node", "interval_start", "price_max", "price_mean"]
    ].reset_index(drop=True)
    frames = [
        complete.assign(threshold=float(threshold), outcome=(complete["price_max"] > threshold).astype(np.int64))
        for threshold in thresholds
    ]
    return pd.concat(frames, ignore_index=True)[["node", "interval_start", "threshold", "outcome", "price_max",
                                                 "price_mean"]]


def incomplete_hours(rt_hourly: pd.DataFrame) -> pd.DataFrame:
    """Hours whose interval count is short of the expected one (reported as data gaps)."""
    short = rt_hourly["n_intervals"] < rt_hourly["expected_intervals"]
    return rt_hourly.loc[short, ["node", "interval_start", "n_intervals", "expected_intervals"]]
