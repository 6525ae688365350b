"""Calendar of the target hour: CPT hour of day, weekday, holiday, season and how far ahead it lies.

Scarcity follows the daily load shape and the season; holidays lower load like a weekend. The
season columns (``month``, ``doy_*``) are computed for every model but the booster does not see
them by default (``model.excluded_features``): on real data they let trees memorise past spike
dates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline import ercot_time
from pipeline.features.grid import Targets, named

COLUMNS = ("hour_of_day", "day_of_week", "is_weekend", "is_holiday", "month", "doy_sin", "doy_cos",
           "horizon_hours", "horizon_day")


def columns() -> tuple[str, ...]:
    return COLUMNS


def compute(targets: Targets) -> dict[str, np.ndarray]:
    local = pd.DatetimeIndex(targets.hours).tz_convert(ercot_time.CPT)
    doy = np.asarray(local.day_of_year, dtype=float)
    weekday = np.asarray(local.day_of_week, dtype=float)
    horizon_day = np.asarray([(d - targets.issue_day).days for d in targets.days], dtype=float)
    values = (
        np.asarray(local.hour, dtype=float),
        weekday,
        (weekday >= 5).astype(float),
        np.asarray([ercot_time.is_holiday(d) for d in targets.days], dtype=float),
        np.asarray(local.month, dtype=float),
        np.sin(2 * np.pi * doy / 365.25),
        np.cos(2 * np.pi * doy / 365.25),
        np.arange(1, len(targets.hours) + 1, dtype=float),
        horizon_day,
    )
    return named(COLUMNS, *(targets.per_node(v) for v in values))
