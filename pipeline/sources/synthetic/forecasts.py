"""Forecast vintages: weather, load and renewables as published on each day for the week ahead.

Responsibility: forecasts (load, wind/solar, weather vintages) are the same chain as the actuals,
driven by forecast weather: actual + errors that grow with lead time and are *revealed day by day*,
so consecutive vintages agree and converge on the actual. What the market knows at issue time
(outages under way, the day's offer behaviour) is kept apart from what it cannot know yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

import numpy as np

from pipeline.publication import rule_for
from pipeline.sources.synthetic.events import Episodes, Events, make_events, outage_size_mw
from pipeline.sources.synthetic.grid import (
    GridState,
    forced_outage_rate,
    gas_price,
    grid_state,
    planned_maintenance,
    thermal_fleet_mw,
    weather_outages_mw,
)
from pipeline.sources.synthetic.noise import smooth_noise, stream_key
from pipeline.sources.synthetic.prices import offer_markup
from pipeline.sources.synthetic.time_axis import TimeAxis, epoch_hours, make_time_axis
from pipeline.sources.synthetic.weather import Weather, actual_weather
from pipeline.sources.synthetic.zones import ZONES

#: Days after the vintage day a forecast covers: the vintage of day d spans d .. d+7 (CPT).
FORECAST_DAYS_AHEAD = 7

# --- errors that grow with lead time ----------------------------------------------------------------


def _linear_sigma(floor: float, per_hour: float) -> Callable[[np.ndarray], np.ndarray]:
    """Error standard deviation as a function of lead hours: ``floor`` at nowcast, growing linearly."""
    return lambda lead_h: floor + per_hour * np.maximum(lead_h, 0.0)


def revealed_error(
    key: int, vintage: np.ndarray, lead_h: np.ndarray, t: np.ndarray, sigma: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Forecast error ~ N(0, sigma(lead)^2) whose pieces are revealed one publication day at a time.

    The error of vintage v at target t is the sum of the innovations learned on days v+1, v+2, ...
    before t (each a smooth noise indexed by the *absolute* day it is learned), plus a small
    independent nowcast term. Innovation j carries the variance sigma^2(lead_j) - sigma^2(lead_j - 24)
    that its day removes, so the variance grows with lead time exactly as ``sigma`` says, and the
    vintages of v and v+1 share every innovation after v+1: forecasts converge instead of jumping.
    """
    floor = sigma(np.zeros(1))[0]
    total = floor * smooth_noise(key, t, 12.0, vintage, -1)
    for j in range(1, FORECAST_DAYS_AHEAD + 4):
        before, after = lead_h - 24.0 * (j - 1), lead_h - 24.0 * j
        weight = np.sqrt(np.maximum(sigma(before) ** 2 - sigma(after) ** 2, 0.0))
        rows = np.flatnonzero(weight > 0.0)  # day j's news only concerns targets still ahead of it
        if not len(rows):
            break
        total[rows] += weight[rows] * smooth_noise(key, t[rows], 12.0, vintage[rows] + j, 0)
    return total


def vintage_error(
    key: int, vintage: np.ndarray, lead_h: np.ndarray, t: np.ndarray, sigma: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Forecast error ~ N(0, sigma(lead)^2) drawn afresh for each vintage (local detail, model noise).

    Cheaper than :func:`revealed_error`; used for the zone-level parts, while the shared parts that
    dominate the system totals are revealed day by day.
    """
    return sigma(lead_h) * smooth_noise(key, t, 12.0, vintage, 1)


def _anomaly_skill(lead_h: np.ndarray) -> np.ndarray:
    """Share of a weather anomaly a forecast still captures: ~all at a day, under half at a week."""
    return np.exp(-((np.maximum(lead_h, 0.0) / 200.0) ** 2))


# Error sizes, set so that the simulated forecasts miss by about as much as ERCOT's published
# forecast performance (orders of magnitude; the checks are in tests/test_synthetic.py):
# * load (ERCOT's mid-term load forecast): day-ahead MAPE about 3 % (ERCOT's monthly MAPE chart runs
#   about 2-4 % for the day-ahead horizon), rising over the week;
# * wind (STWPF): day-ahead mean absolute error about 7 % of the installed fleet;
# * solar (STPPF): day-ahead mean absolute error about 4 % of the installed fleet;
# * temperature (the point forecasts weather services publish): about 1-1.5 degC mean absolute error
#   a day ahead, about 3 degC a week ahead.
# Load errors come from the temperature errors (through the load's weather response) plus the load
# model's own error below.
_TEMPERATURE_SIGMA = (_linear_sigma(0.6, 0.016), _linear_sigma(0.5, 0.010))  # common, per zone (degC)
_WIND_SIGMA = (_linear_sigma(0.075, 0.0019), _linear_sigma(0.06, 0.0010))  # log hub wind
_CLOUD_SIGMA = _linear_sigma(0.80, 0.016)
_LOAD_SIGMA = (_linear_sigma(0.012, 0.00010), _linear_sigma(0.010, 0.00008))  # fraction of load


# --- the forecast system ---------------------------------------------------------------------------


def forecast_weather(seed: int, actual: Weather, vintage: np.ndarray, lead_h: np.ndarray, t: np.ndarray) -> Weather:
    """The weather forecast published on ``vintage`` for target times ``t`` (lead in hours).

    Anomalies are partly missed at long lead (forecasts regress to normal); errors are shared
    across zones (a front arrives early or late everywhere) plus a zone-specific part.
    """
    skill = _anomaly_skill(lead_h)
    # Wind errors are multiplicative (lognormal); centre them so the forecast wind speed is unbiased.
    wind_centring = 0.5 * (_WIND_SIGMA[0](lead_h) ** 2 + _WIND_SIGMA[1](lead_h) ** 2)
    common_t = revealed_error(stream_key(seed, "fc.temp"), vintage, lead_h, t, _TEMPERATURE_SIGMA[0])
    common_w = revealed_error(stream_key(seed, "fc.wind"), vintage, lead_h, t, _WIND_SIGMA[0])
    temperature, wind = [], []
    for i, zone in enumerate(ZONES):
        zone_t = vintage_error(stream_key(seed, f"fc.temp.{zone.name}"), vintage, lead_h, t, _TEMPERATURE_SIGMA[1])
        zone_w = vintage_error(stream_key(seed, f"fc.wind.{zone.name}"), vintage, lead_h, t, _WIND_SIGMA[1])
        temperature.append(actual.temperature[i] - (1.0 - skill) * actual.anomaly[i] + common_t + zone_t)
        wind.append(actual.hub_wind[i] * np.exp(common_w + zone_w - wind_centring))
    cloud = actual.cloud_logit + revealed_error(stream_key(seed, "fc.cloud"), vintage, lead_h, t, _CLOUD_SIGMA)
    temperature_array = np.vstack(temperature)
    return Weather(temperature_array, temperature_array - (actual.temperature - actual.anomaly), np.vstack(wind), cloud)


def _issue_hours(vintage_ordinals: np.ndarray) -> np.ndarray:
    """UTC hour at which the weather forecast of each vintage is issued (the information cut-off)."""
    rule = rule_for("weather_forecast")
    unique, inverse = np.unique(vintage_ordinals, return_inverse=True)
    issued = np.array([rule.available_at(dt.date.fromordinal(int(o))).value // 1000 for o in unique], dtype=np.int64)
    return epoch_hours(issued)[inverse]


def forecast_state(seed: int, vintage_ordinals: np.ndarray, t: np.ndarray) -> GridState:
    """The system as forecast on each vintage day for target UTC hours ``t`` (one row per pair).

    Thermal availability is what the market knows at issue time: planned maintenance, the forced
    outage level and unit outages already under way (with their expected return), and the weather
    outages implied by the forecast temperatures -- of which, as in every big freeze, only part is
    anticipated. Outages that start later are a surprise for the real-time market.
    """
    unique_t, inverse = np.unique(t, return_inverse=True)
    axis_u = make_time_axis(unique_t)
    events_u = make_events(seed, unique_t)
    actual = actual_weather(seed, axis_u, events_u).take(inverse)
    axis, events = _take(axis_u, inverse), _take(events_u, inverse)
    issue = _issue_hours(vintage_ordinals)
    lead = t - issue
    weather = forecast_weather(seed, actual, vintage_ordinals, lead, t)
    known_outages = _known_outages_mw(events.outage_started, t, issue)
    forced = forced_outage_rate(seed, issue)
    fleet = thermal_fleet_mw(axis)
    expected_weather_outages = 0.6 * weather_outages_mw(weather)
    thermal = fleet * (1.0 - planned_maintenance(axis.doy) - forced) - known_outages - expected_weather_outages
    # The day-ahead market knows the offer behaviour of the day it trades in, not of the target day.
    state = grid_state(axis, weather, events, thermal, gas_price(seed, axis, events), offer_markup(seed, issue))
    return _with_load_model_error(seed, state, vintage_ordinals, lead, t)


_Record = TypeVar("_Record", TimeAxis, Events)


def _take(record: _Record, index: np.ndarray) -> _Record:
    """``record`` with every per-time array indexed by ``index`` (other fields unchanged)."""
    arrays = {name: value[index] for name, value in record.__dict__.items() if isinstance(value, np.ndarray)}
    return replace(record, **arrays)


def _known_outages_mw(outages: Episodes, t: np.ndarray, issue: np.ndarray) -> np.ndarray:
    """Unit outages that began before the issue time, at their actual profile (returns are scheduled)."""
    total = np.zeros(len(t))
    sizes = outage_size_mw(outages.size)
    for start, duration, size in zip(outages.start, outages.duration, sizes):
        active = (start <= issue) & (t >= start) & (t < start + duration)
        total += np.where(active, size, 0.0)
    return total


def _with_load_model_error(
    seed: int, state: GridState, vintage: np.ndarray, lead: np.ndarray, t: np.ndarray
) -> GridState:
    """Load forecast errors beyond the weather: behaviour, industrial schedules, model bias."""
    common = revealed_error(stream_key(seed, "fc.load"), vintage, lead, t, _LOAD_SIGMA[0])
    factors = [
        1.0 + common + vintage_error(stream_key(seed, f"fc.load.{zone.name}"), vintage, lead, t, _LOAD_SIGMA[1])
        for zone in ZONES
    ]
    return replace(state, load_by_zone=state.load_by_zone * np.vstack(factors))

