"""Day-ahead prices: the market's own view of the target hours, as far as it is public at issue time.

DAM prices for delivery day d are public at 13:30 on d-1, so at 06:00 on D the newest known DAM
day is normally D itself, and D+1..D+3 are not known. Each target hour reads the latest known DAM
day at or before its own day (``dam_age_days`` says how old that is) at the same CPT hour.
"""

from __future__ import annotations

import numpy as np

from pipeline.features.grid import Cube, Targets, named, nanmax, nanmean

COLUMNS = ("dam_hod", "dam_max_day", "dam_mean_day", "dam_hod_vs_mean_7d", "dam_age_days")
_WINDOW_DAYS = 14


def columns() -> tuple[str, ...]:
    return COLUMNS


def compute(dam: Cube, targets: Targets) -> dict[str, np.ndarray]:
    shape = (targets.n_nodes, len(targets.hod))
    hod_price, day_max, day_mean, vs_week, age = (np.full(shape, np.nan) for _ in COLUMNS)
    window_end = max(targets.days)
    window = dam.window("dam", window_end, _WINDOW_DAYS, targets.known_by)  # [14, 24, nodes]; last = window_end
    days_known = ~np.all(np.isnan(window), axis=(1, 2))
    for day in sorted(set(targets.days)):
        row_of_day = _WINDOW_DAYS - 1 - (window_end - day).days
        candidates = np.flatnonzero(days_known[: row_of_day + 1])
        if not len(candidates):
            continue
        row = candidates[-1]
        hit = np.flatnonzero(targets.days == day)
        by_hour = window[row]  # [24, nodes]
        week_mean = nanmean(window[max(row - 6, 0) : row + 1], (0, 1))  # [nodes]
        scale = np.where(np.abs(week_mean) < 1, 1.0, week_mean)
        hod_price[:, hit] = by_hour[targets.hod[hit], :].T
        day_max[:, hit] = nanmax(by_hour, 0)[:, None]
        day_mean[:, hit] = nanmean(by_hour, 0)[:, None]
        vs_week[:, hit] = (by_hour[targets.hod[hit], :] / scale).T
        age[:, hit] = float(row_of_day - row)
    return named(COLUMNS, *(a.reshape(-1) for a in (hod_price, day_max, day_mean, vs_week, age)))
