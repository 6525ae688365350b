"""Real-time price history at the node and system-wide, as of the issue time.

Spikes cluster: an hour that spiked in the last days, at the node or across the system, is the
strongest single sign of another. The group holds same-hour spike rates over 7 and 28 days,
all-hours spike rates, days since the last spike, recent maxima, means and volatility, the same
hour yesterday (persistence) and a week before the target day, and the node's basis to the
system price. Only whole days before the issue day are read (a day's file is complete after
midnight), through the cube's ``known_at`` guard.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from pipeline.features.grid import Cube, Targets, exceed_rate, named, nanmax, nanmean, nanstd
from pipeline.labels import threshold_label

SPIKE_COLUMNS = ("spike_rate_{t}_hod_7d", "spike_rate_{t}_hod_28d", "spike_rate_{t}_all_7d",
                 "sys_spike_rate_{t}_hod_7d", "sys_spike_rate_{t}_all_7d", "days_since_spike_{t}")
PRICE_COLUMNS = ("price_max_hod_d1", "price_max_hod_lastweek", "price_max_hod_max_7d", "price_mean_hod_7d",
                 "price_max_1d", "price_mean_1d", "price_max_7d", "log_price_std_7d", "sys_price_max_hod_d1",
                 "sys_price_max_1d", "sys_price_mean_hod_7d", "basis_mean_7d")


def spike_columns(thresholds: tuple[float, ...]) -> tuple[str, ...]:
    return tuple(name.format(t=threshold_label(t)) for t in thresholds for name in SPIKE_COLUMNS)


def compute_spikes(prices: Cube, targets: Targets, thresholds: tuple[float, ...],
                   lookback_days: int) -> dict[str, np.ndarray]:
    node_max, sys_max = _maxima(prices, targets, lookback_days)
    week = slice(lookback_days - 7, lookback_days)
    n_targets = len(targets.hod)
    out: dict[str, np.ndarray] = {}
    for threshold in thresholds:
        sys_hod = exceed_rate(sys_max[week], threshold, 0)  # [24]
        values = (
            targets.by_node_hour(exceed_rate(node_max[week], threshold, 0)),
            targets.by_node_hour(exceed_rate(node_max, threshold, 0)),
            targets.by_node(exceed_rate(node_max[week], threshold, (0, 1))),
            targets.per_node(sys_hod[targets.hod]),
            targets.per_node(np.full(n_targets, exceed_rate(sys_max[week], threshold, (0, 1)))),
            targets.by_node(_days_since(node_max, threshold)),
        )
        out.update(named([name.format(t=threshold_label(threshold)) for name in SPIKE_COLUMNS], *values))
    return out


def compute_prices(prices: Cube, targets: Targets, lookback_days: int) -> dict[str, np.ndarray]:
    n_nodes, n_targets = targets.n_nodes, len(targets.hod)
    node_max, sys_max = _maxima(prices, targets, lookback_days)
    means = prices.window("price_mean", targets.issue_day - dt.timedelta(days=1), lookback_days, targets.known_by)
    node_mean, sys_mean = means[:, :, :n_nodes], means[:, :, n_nodes]
    week = slice(lookback_days - 7, lookback_days)
    log_prices = np.log1p(np.clip(node_mean[week], 0, None))
    basis = nanmean(node_mean[week] - sys_mean[week][:, :, None], (0, 1))
    return named(
        PRICE_COLUMNS,
        targets.by_node_hour(node_max[-1]),
        _same_hour_last_week(prices, targets),
        targets.by_node_hour(nanmax(node_max[week], 0)),
        targets.by_node_hour(nanmean(node_mean[week], 0)),
        targets.by_node(nanmax(node_max[-1], 0)),
        targets.by_node(nanmean(node_mean[-1], 0)),
        targets.by_node(nanmax(node_max[week], (0, 1))),
        targets.by_node(nanstd(log_prices.reshape(-1, n_nodes))),
        targets.per_node(sys_max[-1][targets.hod]),
        targets.per_node(np.full(n_targets, nanmax(sys_max[-1], 0))),
        targets.per_node(nanmean(sys_mean[week], 0)[targets.hod]),
        targets.by_node(basis),
    )


def _maxima(prices: Cube, targets: Targets, lookback_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Hourly maxima of the lookback days before the issue day: [days, 24, nodes] and the system's [days, 24]."""
    yesterday = targets.issue_day - dt.timedelta(days=1)
    maxes = prices.window("price_max", yesterday, lookback_days, targets.known_by)  # [days, 24, nodes+1]
    return maxes[:, :, : targets.n_nodes], maxes[:, :, targets.n_nodes]


def _same_hour_last_week(prices: Cube, targets: Targets) -> np.ndarray:
    """Same hour one week before each target day (known for horizons up to 7 days)."""
    last_week = np.full((targets.n_nodes, len(targets.hod)), np.nan)
    for j, (day, hour) in enumerate(zip(targets.days, targets.hod)):
        cell = prices.window("price_max", day - dt.timedelta(days=7), 1, targets.known_by)[0, hour, : targets.n_nodes]
        last_week[:, j] = cell
    return last_week.reshape(-1)


def _days_since(node_max: np.ndarray, threshold: float) -> np.ndarray:
    """Days since the last day (within the window) with an hour above ``threshold``; window+1 if none."""
    n_days = node_max.shape[0]
    daily = nanmax(node_max, 1)  # [days, nodes]
    hit = np.where(np.isnan(daily), False, daily > threshold)
    out = np.full(hit.shape[1], float(n_days + 1))
    for node in range(hit.shape[1]):
        days_with = np.flatnonzero(hit[:, node])
        if len(days_with):
            out[node] = float(n_days - days_with[-1])
    return out
