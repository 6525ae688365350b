"""Weather: the temperature forecast for the target hours and yesterday's observed temperature.

Heat and cold drive load; the forecast (newest vintage public by the issue time) is averaged over
the forecast locations, with the target day's extremes and degree hours. Observed weather of D-1
complements it (the forecast group is empty where no forecast vintages exist).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from pipeline.features.grid import Cube, Targets, Vintages, named, nanmax, nanmean

COLUMNS = ("temp_fc_mean", "temp_fc_max", "temp_fc_min", "temp_fc_day_max", "temp_fc_day_min",
           "cooling_degree_fc", "heating_degree_fc", "wind_speed_fc_mean", "temp_hod_d1")
COOLING_BASE_C = 18.0
HEATING_BASE_C = 10.0


def columns() -> tuple[str, ...]:
    return COLUMNS


def compute(observed: Cube, temp_fc: Vintages, wind_speed_fc: Vintages, targets: Targets) -> dict[str, np.ndarray]:
    yesterday = targets.issue_day - dt.timedelta(days=1)
    observed_d1 = observed.window("temp", yesterday, 1, targets.known_by)[0, :, 0]
    span_start, n_hours, at, span_days = targets.span()
    temps = temp_fc.latest(targets.known_by, span_start, n_hours)
    winds = wind_speed_fc.latest(targets.known_by, span_start, n_hours)
    empty = np.full(n_hours, np.nan)
    mean = nanmean(temps, 1) if temps.shape[1] else empty
    high = nanmax(temps, 1) if temps.shape[1] else empty
    low = -nanmax(-temps, 1) if temps.shape[1] else empty
    wind_mean = nanmean(winds, 1) if winds.shape[1] else empty
    mean_at = mean[at]
    return named(
        COLUMNS,
        targets.per_node(mean_at),
        targets.per_node(high[at]),
        targets.per_node(low[at]),
        targets.per_node(targets.day_peaks(mean, span_days)),
        targets.per_node(-targets.day_peaks(-mean, span_days)),
        targets.per_node(np.clip(mean_at - COOLING_BASE_C, 0, None)),
        targets.per_node(np.clip(HEATING_BASE_C - mean_at, 0, None)),
        targets.per_node(wind_mean[at]),
        targets.per_node(observed_d1[targets.hod]),
    )
