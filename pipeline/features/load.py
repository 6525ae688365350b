"""Load and net load: how tight the system will be.

Scarcity comes from net load (load minus wind and solar) approaching the available fleet. The
group reads yesterday's actual load and net load (actual load of D-1 is posted at 06:00 on D),
ERCOT's load forecast and the wind and solar forecasts for the target hours (the newest vintage
public by the issue time), and relates yesterday's peak and the forecast to the highest load of
the lookback days (``features.lookback_days``).

How far to trust a forecast is itself information: the ``*_fc_err_d1`` columns are yesterday's
forecast errors -- the forecast for D-1 as known 24 hours before the issue time, against D-1's
actuals (public by the issue time) -- signed, averaged over the hours of D-1 that have both.
A forecast running high or low tends to keep doing so for a few days (the weather regime, a
fleet's availability), so the errors say which way today's forecast is likely off.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from pipeline.features.grid import Cube, Targets, Vintages, named, nanmax, nanmean, nonzero

LOAD_COLUMNS = ("load_hod_d1", "load_peak_d1", "load_peak_7d", "load_peak_vs_recent", "load_fc", "load_fc_day_peak",
                "load_fc_vs_recent_peak", "load_fc_err_d1")
RENEWABLES_COLUMNS = ("wind_fc", "solar_fc", "net_load_fc", "net_load_fc_day_peak", "net_load_fc_ramp",
                      "net_load_fc_vs_recent_peak", "wind_mean_d1", "net_load_hod_d1", "net_load_peak_7d",
                      "net_load_peak_vs_recent", "wind_fc_err_d1", "solar_fc_err_d1", "net_load_fc_err_d1")


def columns() -> tuple[str, ...]:
    return LOAD_COLUMNS + RENEWABLES_COLUMNS


def compute(load_cube: Cube, net_load: Cube, load_fc: Vintages, renewables_fc: Vintages,
            targets: Targets, lookback_days: int) -> dict[str, np.ndarray]:
    yesterday = targets.issue_day - dt.timedelta(days=1)
    n_targets = len(targets.hod)
    load = load_cube.window("load", yesterday, lookback_days, targets.known_by)[:, :, 0]  # [days, 24]
    net = net_load.window("net_load", yesterday, lookback_days, targets.known_by)[:, :, 0]
    wind = net_load.window("wind", yesterday, 1, targets.known_by)[0, :, 0]
    solar = net_load.window("solar", yesterday, 1, targets.known_by)[0, :, 0]

    span_start, n_hours, at, span_days = targets.span()
    load_forecast = load_fc.latest(targets.known_by, span_start, n_hours)[:, 0]
    renewables = renewables_fc.latest(targets.known_by, span_start, n_hours)
    wind_fc, solar_fc = renewables[:, 0], renewables[:, 1]
    net_fc = load_forecast - wind_fc - solar_fc
    load_peak = nonzero(nanmax(load, (0, 1)))  # the highest load of the lookback days
    net_peak = nonzero(nanmax(net, (0, 1)))
    # Yesterday's forecasts of yesterday ([24] by CPT hour), as known a day before the issue time.
    load_fc_d1 = load_fc.on_day(targets.known_a_day_before, yesterday)[:, 0]
    renewables_d1 = renewables_fc.on_day(targets.known_a_day_before, yesterday)
    wind_fc_d1, solar_fc_d1 = renewables_d1[:, 0], renewables_d1[:, 1]
    loads = named(
        LOAD_COLUMNS,
        targets.per_node(load[-1][targets.hod]),
        targets.per_node(np.full(n_targets, nanmax(load[-1], 0))),
        targets.per_node(np.full(n_targets, nanmax(load[-7:], (0, 1)))),
        targets.per_node(np.full(n_targets, nanmax(load[-1], 0) / load_peak)),
        targets.per_node(load_forecast[at]),
        targets.per_node(targets.day_peaks(load_forecast, span_days)),
        targets.per_node(load_forecast[at] / load_peak),
        targets.per_node(np.full(n_targets, mean_error(load_fc_d1, load[-1]) / load_peak)),
    )
    net_loads = named(
        RENEWABLES_COLUMNS,
        targets.per_node(wind_fc[at]),
        targets.per_node(solar_fc[at]),
        targets.per_node(net_fc[at]),
        targets.per_node(targets.day_peaks(net_fc, span_days)),
        targets.per_node(net_fc[at] - net_fc[at - 1]),
        targets.per_node(net_fc[at] / net_peak),
        targets.per_node(np.full(n_targets, nanmean(wind, 0))),
        targets.per_node(net[-1][targets.hod]),
        targets.per_node(np.full(n_targets, nanmax(net[-7:], (0, 1)))),
        targets.per_node(np.full(n_targets, nanmax(net[-1], 0) / net_peak)),
        targets.per_node(np.full(n_targets, mean_error(wind_fc_d1, wind) / load_peak)),
        targets.per_node(np.full(n_targets, mean_error(solar_fc_d1, solar) / load_peak)),
        targets.per_node(np.full(n_targets, mean_error(load_fc_d1 - wind_fc_d1 - solar_fc_d1, net[-1]) / load_peak)),
    )
    return loads | net_loads


def mean_error(forecast: np.ndarray, actual: np.ndarray) -> float:
    """Mean of forecast - actual over the hours where both are known (NaN where none is).

    The errors are then scaled by the recent peak load, so that they read as shares of the system's
    size and compare across years of a growing grid.
    """
    both = ~np.isnan(forecast) & ~np.isnan(actual)
    return float(np.mean(forecast[both] - actual[both])) if both.any() else float("nan")
