"""Weather: the temperature forecast for the target hours, and the observed temperature of recent days.

Heat and cold drive load; the forecast (newest vintage public by the issue time) is averaged over
the forecast locations, with the target day's extremes and degree hours. Observed weather (hourly
observations, each public an hour after it ends; whole days up to D-1) complements it, and is all
there is where no forecast vintages exist (the archive): yesterday's temperature at the target's
hour, its daily maximum and minimum and their change against the week before, and cooling and
heating degree-hours of yesterday and the last three days.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from pipeline.features.grid import Cube, Targets, Vintages, named, nanmax, nanmean

FORECAST_COLUMNS = ("temp_fc_mean", "temp_fc_max", "temp_fc_min", "temp_fc_day_max", "temp_fc_day_min",
                    "cooling_degree_fc", "heating_degree_fc", "wind_speed_fc_mean", "temp_fc_err_d1")
OBSERVED_COLUMNS = ("temp_hod_d1", "temp_max_d1", "temp_min_d1", "temp_max_chg", "temp_min_chg", "cdh_d1", "hdh_d1",
                    "cdh_sum3", "hdh_sum3")
COLUMNS = FORECAST_COLUMNS + OBSERVED_COLUMNS
COOLING_BASE_C = 18.0
HEATING_BASE_C = 10.0


def columns() -> tuple[str, ...]:
    return COLUMNS


def compute(observed: Cube, temp_fc: Vintages, wind_speed_fc: Vintages, targets: Targets) -> dict[str, np.ndarray]:
    return _forecast(observed, temp_fc, wind_speed_fc, targets) | _observed(observed, targets)


def _forecast(observed: Cube, temp_fc: Vintages, wind_speed_fc: Vintages, targets: Targets) -> dict[str, np.ndarray]:
    """The forecast for the target hours, and yesterday's forecast error (the forecast for D-1 known a day
    before the issue time, less D-1's observed mean temperature: a forecast running warm or cold)."""
    span_start, n_hours, at, span_days = targets.span()
    temps = temp_fc.latest(targets.known_by, span_start, n_hours)
    winds = wind_speed_fc.latest(targets.known_by, span_start, n_hours)
    empty = np.full(n_hours, np.nan)
    mean = nanmean(temps, 1) if temps.shape[1] else empty
    high = nanmax(temps, 1) if temps.shape[1] else empty
    low = -nanmax(-temps, 1) if temps.shape[1] else empty
    wind_mean = nanmean(winds, 1) if winds.shape[1] else empty
    mean_at = mean[at]
    yesterday = targets.issue_day - dt.timedelta(days=1)
    forecast_d1 = temp_fc.on_day(targets.known_a_day_before, yesterday)
    mean_d1 = nanmean(forecast_d1, 1) if forecast_d1.shape[1] else np.full(24, np.nan)
    observed_d1 = observed.window("temp", yesterday, 1, targets.known_by)[0, :, 0]
    both = ~np.isnan(mean_d1) & ~np.isnan(observed_d1)
    error_d1 = float(np.mean(mean_d1[both] - observed_d1[both])) if both.any() else float("nan")
    return named(
        FORECAST_COLUMNS,
        targets.per_node(mean_at),
        targets.per_node(high[at]),
        targets.per_node(low[at]),
        targets.per_node(targets.day_peaks(mean, span_days)),
        targets.per_node(-targets.day_peaks(-mean, span_days)),
        targets.per_node(np.clip(mean_at - COOLING_BASE_C, 0, None)),
        targets.per_node(np.clip(HEATING_BASE_C - mean_at, 0, None)),
        targets.per_node(wind_mean[at]),
        targets.per_node(np.full(len(at), error_d1)),
    )


def _observed(observed: Cube, targets: Targets) -> dict[str, np.ndarray]:
    """Observed temperature of the 8 days up to D-1 (the days of D are not complete at issue time)."""
    yesterday = targets.issue_day - dt.timedelta(days=1)
    temps = observed.window("temp", yesterday, 8, targets.known_by)[:, :, 0]  # [8, 24]; last = D-1
    highs, lows = nanmax(temps, 1), -nanmax(-temps, 1)
    cooling = _degree_hours(temps - COOLING_BASE_C)
    heating = _degree_hours(HEATING_BASE_C - temps)
    n = len(targets.hod)
    constant = lambda value: targets.per_node(np.full(n, value))  # noqa: E731 - one value for every row
    return named(
        OBSERVED_COLUMNS,
        targets.per_node(temps[-1][targets.hod]),
        constant(highs[-1]),
        constant(lows[-1]),
        constant(highs[-1] - nanmean(highs[:-1], 0)),
        constant(lows[-1] - nanmean(lows[:-1], 0)),
        constant(cooling[-1]),
        constant(heating[-1]),
        constant(_sum_known(cooling[-3:])),
        constant(_sum_known(heating[-3:])),
    )


def _degree_hours(excess: np.ndarray) -> np.ndarray:
    """Per day, the sum over its hours of the positive part of ``excess``; NaN for a day with no observation."""
    return np.where(np.isnan(excess).all(1), np.nan, np.nansum(np.clip(excess, 0, None), 1))


def _sum_known(values: np.ndarray) -> float:
    return float(np.nansum(values)) if np.isfinite(values).any() else float("nan")
