"""Simulated weather per ERCOT weather zone: temperature, hub-height wind and cloudiness.

Responsibility: the actual weather that drives load and renewables. Temperature = climatology
(season) + diurnal cycle + persistent anomalies (smooth multi-day noise) + occasional summer heat
waves and winter cold snaps; hub-height wind per zone (spring high, summer afternoon low, night
low-level jet, fronts, heat-dome calm); cloudiness as a latent clear-sky index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipeline.sources.synthetic.events import Events
from pipeline.sources.synthetic.noise import smooth_noise, stream_key
from pipeline.sources.synthetic.time_axis import TWO_PI, YEAR_DAYS, TimeAxis, summerness
from pipeline.sources.synthetic.zones import LOAD_WEIGHTS, ZONES, per_zone, zone_sum

HUB_TO_10M = 1.35  # hub-height (~90 m) wind is ~35 % faster than the 10 m wind weather stations report


@dataclass(frozen=True)
class Weather:
    """The weather at each time: per-zone rows (zones, n) and the system-wide cloud index (n,)."""

    temperature: np.ndarray  # (zones, n) degC
    anomaly: np.ndarray  # (zones, n) the part of temperature forecasters must predict
    hub_wind: np.ndarray  # (zones, n) m/s at hub height
    cloud_logit: np.ndarray  # (n,) latent clear-sky index; clear fraction = sigmoid

    @property
    def clear(self) -> np.ndarray:
        """Clear-sky fraction in (0, 1): the logistic of the latent index."""
        return 1.0 / (1.0 + np.exp(-self.cloud_logit))

    @property
    def system_temperature(self) -> np.ndarray:
        """Load-weighted ERCOT temperature."""
        return zone_sum(self.temperature, LOAD_WEIGHTS)

    def take(self, index: np.ndarray) -> Weather:
        """The weather at the times picked by ``index``."""
        return Weather(
            self.temperature[:, index], self.anomaly[:, index], self.hub_wind[:, index], self.cloud_logit[index]
        )


def actual_weather(seed: int, axis: TimeAxis, events: Events) -> Weather:
    """The realised weather at the times of ``axis`` (clouds first: they damp the diurnal cycle)."""
    cloud_logit = _cloud_logit(seed, axis, events)
    clear = 1.0 / (1.0 + np.exp(-cloud_logit))
    anomaly = _temperature_anomaly(seed, axis, events)
    temperature = _temperature_climatology(axis, clear) + anomaly
    return Weather(temperature, anomaly, _hub_wind(seed, axis, events), cloud_logit)


def _temperature_climatology(axis: TimeAxis, clear: np.ndarray) -> np.ndarray:
    """Seasonal normal + diurnal cycle (min near sunrise, max mid-afternoon, damped under clouds)."""
    seasonal = per_zone(z.mean_c for z in ZONES) + per_zone(z.seasonal_c for z in ZONES) * summerness(axis.doy)
    return seasonal + per_zone(z.diurnal_c for z in ZONES) * (0.55 + 0.45 * clear) * _diurnal_shape(axis.solar_hour)


def _diurnal_shape(solar_hour: np.ndarray) -> np.ndarray:
    """-1 at 06:00 solar time, +1 at 15:00: nine hours of warming, fifteen of cooling."""
    warming = (solar_hour >= 6.0) & (solar_hour < 15.0)
    rising = -np.cos(math.pi * (solar_hour - 6.0) / 9.0)
    falling = np.cos(math.pi * np.mod(solar_hour - 15.0, 24.0) / 15.0)
    return np.where(warming, rising, falling)


def diurnal_delta(solar_hour: np.ndarray, lag_h: float) -> np.ndarray:
    """How much the diurnal shape rose over the last ``lag_h`` hours (for building thermal lag)."""
    return _diurnal_shape(solar_hour) - _diurnal_shape(np.mod(solar_hour - lag_h, 24.0))


def _temperature_anomaly(seed: int, axis: TimeAxis, events: Events) -> np.ndarray:
    """Persistent departures from normal: fronts and air masses (days), spells (weeks), events.

    Texas winters swing far more than its summers, so synoptic amplitude follows the season.
    """
    t = axis.t
    amplitude = 3.0 - 1.6 * summerness(axis.doy)
    common = 0.8 * smooth_noise(stream_key(seed, "temp.synoptic"), t, 60.0)
    slow = (1.2 - 0.4 * summerness(axis.doy)) * smooth_noise(stream_key(seed, "temp.spell"), t, 240.0)
    rows = []
    for zone in ZONES:
        local = 0.6 * smooth_noise(stream_key(seed, f"temp.synoptic.{zone.name}"), t, 40.0)
        fast = 0.5 * smooth_noise(stream_key(seed, f"temp.fast.{zone.name}"), t, 5.0)
        heat = zone.heat_exposure * 2.8 * events.heat
        cold = -zone.cold_exposure * 16.0 * events.cold
        # An arctic air mass *is* the weather pattern: it displaces the ordinary synoptic swings.
        ordinary = (1.0 - 0.8 * np.minimum(events.cold / 0.3, 1.0)) * (amplitude * (common + local) + slow)
        rows.append(ordinary + fast + heat + cold)
    return np.vstack(rows)


def _hub_wind(seed: int, axis: TimeAxis, events: Events) -> np.ndarray:
    """Hub-height wind per zone: seasonal (spring high, late summer low), diurnal, synoptic, fronts.

    Inland West Texas blows hardest at night (the low-level jet) and calms on summer afternoons;
    the coast peaks in the afternoon sea breeze. Heat domes are calm; arctic fronts are gusty.
    """
    t = axis.t
    seasonal = 1.0 + 0.13 * np.cos(TWO_PI * (axis.doy - 85.0) / YEAR_DAYS)
    summer = np.clip(summerness(axis.doy), 0.0, 1.0)
    night = np.cos(TWO_PI * (axis.solar_hour - 1.0) / 24.0)
    common = smooth_noise(stream_key(seed, "wind.synoptic"), t, 30.0)
    rows = []
    for zone in ZONES:
        local = smooth_noise(stream_key(seed, f"wind.local.{zone.name}"), t, 18.0)
        diurnal = 1.0 + zone.wind_diurnal * (1.0 + 0.6 * summer) * night
        weather = np.exp(0.33 * (0.75 * common + 0.66 * local) - 0.055)
        calm = 1.0 - 0.08 * events.heat
        rows.append(zone.hub_wind_ms * seasonal * diurnal * weather * calm + 3.5 * events.front)
    return np.maximum(np.vstack(rows), 0.2)


def _cloud_logit(seed: int, axis: TimeAxis, events: Events) -> np.ndarray:
    """Latent clear-sky index: Texas summers are mostly clear, winters and springs cloudier."""
    base = 1.25 + 0.55 * summerness(axis.doy)
    synoptic = 1.2 * smooth_noise(stream_key(seed, "cloud.synoptic"), axis.t, 30.0)
    fast = 0.6 * smooth_noise(stream_key(seed, "cloud.fast"), axis.t, 4.0)
    return base + synoptic + fast + 1.0 * events.heat

