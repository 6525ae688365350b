"""Day-ahead prices: the market's own view of the target hours, as far as it is public at issue time.

DAM prices for delivery day d are public at 13:30 on d-1, so at 06:00 on D the newest known DAM
day is the issue day D itself; D+1..D+3 are not known. The issue day's DAM price at the target's
CPT clock hour is the single best public sign of a spike there: the market prices expected
scarcity, hour by hour. Around it the group describes the DAM day's shape (its maximum, mean,
this hour's rank and share of the maximum), its recent history at the same hour (yesterday, the
last 3, 7 and 14 days, a week before the target day), the system's DAM, and how real-time prices
have lately run above or below the DAM at the same hour (``rtx_*``: the log ratio of RT hourly
maxima to DAM, days up to D-1).

``dam_age_days`` says how old the newest known DAM day is for each target day (1-3 normally; more
when the source lacks recent DAM files). A source without DAM prices leaves the group NaN.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from pipeline.features.grid import Cube, Targets, named, nanmax, nanmean

COLUMNS = ("dam_hod", "dam_max_day", "dam_mean_day", "dam_hod_vs_mean_7d", "dam_age_days", "dam_hod_ratio",
           "dam_hod_rank", "dam_hod_d1", "dam_hod_max3", "dam_hod_max7", "dam_hod_mean7", "dam_hod_max14",
           "dam_mean_day_lookback", "sys_dam_hod", "dam_hod_lastweek",
           "rtx_hod_7d", "rtx_hod_lookback", "rtx_all_7d", "rtx_max_hod_lookback")
#: Days of DAM history the group reads before the issue day.
HISTORY_DAYS = 14


def columns() -> tuple[str, ...]:
    return COLUMNS


def compute(dam: Cube, prices: Cube, targets: Targets, lookback_days: int) -> dict[str, np.ndarray]:
    """``dam``: DAM prices (entities: nodes, then the system node); ``prices``: RT hourly maxima and means."""
    n, n_targets = targets.n_nodes, len(targets.hod)
    out = {name: np.full((n, n_targets), np.nan) for name in COLUMNS[:14]}
    window_end = max(targets.days)
    history = dam.window("dam", window_end, lookback_days + 4, targets.known_by)  # [days, 24, nodes+1]
    for day in sorted(set(targets.days)):
        newest = _newest_known_row(history[: len(history) - (window_end - day).days])
        if newest is None:
            continue
        hit = np.flatnonzero(targets.days == day)
        hours = targets.hod[hit]
        past = history[: newest + 1, :, :n]  # the DAM days known for this target day, newest last
        node_day, day_max, day_mean = past[-1], nanmax(past[-1], 0), nanmean(past[-1], 0)
        hod = node_day[hours, :].T  # [nodes, hits]
        week_mean = nanmean(past[-7:], (0, 1))
        rank = np.argsort(np.argsort(np.nan_to_num(node_day, nan=-1e9), axis=0), axis=0) / 23.0
        values = {
            "dam_hod": hod,
            "dam_max_day": day_max[:, None],
            "dam_mean_day": day_mean[:, None],
            "dam_hod_vs_mean_7d": hod / np.where(np.abs(week_mean) < 1, 1.0, week_mean)[:, None],
            "dam_age_days": float(len(history) - 1 - (window_end - day).days - newest),
            "dam_hod_ratio": hod / np.maximum(day_max, 1.0)[:, None],
            "dam_hod_rank": rank[hours, :].T,
            "dam_hod_d1": past[-2][hours, :].T if len(past) > 1 else np.nan,
            "dam_hod_max3": nanmax(past[-3:], 0)[hours, :].T,
            "dam_hod_max7": nanmax(past[-7:], 0)[hours, :].T,
            "dam_hod_mean7": nanmean(past[-7:], 0)[hours, :].T,
            "dam_hod_max14": nanmax(past[-HISTORY_DAYS:], 0)[hours, :].T,
            "dam_mean_day_lookback": nanmean(past[-lookback_days:], (0, 1))[:, None],
            "sys_dam_hod": history[newest, hours, n][None, :],
        }
        for name, value in values.items():
            out[name][:, hit] = value
    out["dam_hod_lastweek"] = _same_hour_week_before(dam, targets, n).reshape(n, n_targets)
    columns = [out[name].reshape(-1) for name in COLUMNS[:15]]
    return named(COLUMNS, *columns, *_rt_over_dam(prices, dam, targets, lookback_days, n))


def _newest_known_row(history: np.ndarray) -> int | None:
    """Row of the newest day with any known DAM price (the issue day itself when its DAM is on file)."""
    known = np.flatnonzero(~np.all(np.isnan(history), axis=(1, 2)))
    return int(known[-1]) if len(known) else None


def _same_hour_week_before(dam: Cube, targets: Targets, n: int) -> np.ndarray:
    """The DAM price at the same hour one week before each target day (public: at most D-4)."""
    out = np.full((n, len(targets.hod)), np.nan)
    for j, (day, hour) in enumerate(zip(targets.days, targets.hod)):
        out[:, j] = dam.window("dam", day - dt.timedelta(days=7), 1, targets.known_by)[0, hour, :n]
    return out.reshape(-1)


def _rt_over_dam(prices: Cube, dam: Cube, targets: Targets, lookback_days: int, n: int) -> tuple[np.ndarray, ...]:
    """How far real-time hourly maxima ran above the DAM at the same node and hour, up to D-1 (log ratio)."""
    yesterday = targets.issue_day - dt.timedelta(days=1)
    rt = prices.window("price_max", yesterday, lookback_days, targets.known_by)[:, :, :n]
    da = dam.window("dam", yesterday, lookback_days, targets.known_by)[:, :, :n]
    with np.errstate(invalid="ignore"):
        ratio = np.log(np.maximum(rt, 1.0)) - np.log(np.maximum(da, 1.0))
    week = slice(lookback_days - 7, lookback_days)
    return (targets.by_node_hour(nanmean(ratio[week], 0)), targets.by_node_hour(nanmean(ratio, 0)),
            targets.by_node(nanmean(ratio[week], (0, 1))), targets.by_node_hour(nanmax(ratio, 0)))
