"""The simulated physical system: load, wind, solar, thermal and storage capacity, gas price.

Responsibility: from the weather, the events and the era, everything the price needs to know
about supply and demand at each time, gathered in :class:`GridState`.

* **load** per zone from temperature (cooling above ~65 F, steep heating in the cold), the hour /
  weekday / holiday activity profile, and year-over-year growth.
* **supply** -- wind (power curve x installed fleet of the era, icing in cold snaps), solar (clear sky
  by day of year and hour x cloudiness x a fast-growing fleet), thermal available capacity (fleet -
  seasonal maintenance - forced outages, more of them in extreme cold or heat), batteries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipeline.sources.synthetic.era import era
from pipeline.sources.synthetic.events import Events, make_events
from pipeline.sources.synthetic.noise import smooth_noise, stream_key
from pipeline.sources.synthetic.prices import BasisDrivers, offer_markup
from pipeline.sources.synthetic.time_axis import (
    LATITUDE,
    TWO_PI,
    YEAR_DAYS,
    TimeAxis,
    hour_bump,
    make_time_axis,
    seasonal_bump,
    summerness,
)
from pipeline.sources.synthetic.weather import Weather, actual_weather, diurnal_delta
from pipeline.sources.synthetic.zones import (
    BASE_LOAD_MW,
    COASTAL_WIND,
    WEST_WIND,
    WIND_SHARES,
    ZONE_INDEX,
    ZONES,
    per_zone,
    zone_sum,
)

# --- load -------------------------------------------------------------------------------------------

# Weekday activity (commercial + residential) by CPT hour, relative to the daily mean.
_WEEKDAY_ACTIVITY = np.array([
    0.84, 0.80, 0.78, 0.77, 0.78, 0.83, 0.92, 0.99, 1.02, 1.04, 1.05, 1.06,
    1.06, 1.06, 1.06, 1.06, 1.07, 1.09, 1.10, 1.09, 1.06, 1.01, 0.95, 0.89,
])  # fmt: skip
# Weekends and holidays: later morning rise, ~8 % less activity.
_REST_DAY_ACTIVITY = 0.92 * np.array([
    0.88, 0.84, 0.81, 0.79, 0.78, 0.79, 0.82, 0.87, 0.93, 0.98, 1.02, 1.04,
    1.05, 1.06, 1.06, 1.06, 1.07, 1.08, 1.09, 1.08, 1.05, 1.01, 0.96, 0.92,
])  # fmt: skip
_COOLING_BALANCE_C = 18.5  # ~65 F: above it air conditioning runs
_HEATING_BALANCE_C = 14.0


def _activity(axis: TimeAxis) -> np.ndarray:
    """Relative activity (daily mean 1) at each CPT wall-clock hour: people, not the sun, set it."""
    hours = np.arange(25.0)
    weekday = np.interp(axis.local_hour, hours, np.append(_WEEKDAY_ACTIVITY, _WEEKDAY_ACTIVITY[0]))
    rest = np.interp(axis.local_hour, hours, np.append(_REST_DAY_ACTIVITY, _REST_DAY_ACTIVITY[0]))
    return np.where(axis.rest_day, rest, weekday)


def zone_loads(axis: TimeAxis, weather: Weather) -> np.ndarray:
    """Load per weather zone (zones, n) in MW from temperature, the time axis and the era.

    Buildings lag the air temperature by a few hours, so the effective temperature leans back along
    the diurnal cycle. Cooling grows with a mild convexity above ~65 F; heating grows as
    (balance - T)^1.2 plus a resistance-heat term that takes off below freezing -- why winter cold
    snaps drive ERCOT's steepest demand.
    """
    lag = 0.35 * per_zone(z.diurnal_c for z in ZONES) * diurnal_delta(axis.solar_hour, 3.0)
    effective = weather.temperature - lag
    cooling_degrees = np.maximum(effective - _COOLING_BALANCE_C, 0.0)
    heating_degrees = np.maximum(_HEATING_BALANCE_C - effective, 0.0)
    weather_factor = (
        1.0
        + per_zone(z.cooling for z in ZONES) * (cooling_degrees + 0.004 * cooling_degrees**2)
        + per_zone(z.heating for z in ZONES) * (heating_degrees**1.2 + 0.25 * np.maximum(-effective, 0.0) ** 1.5)
    )
    flat = per_zone(z.flat_share for z in ZONES)
    activity = flat + (1.0 - flat) * _activity(axis)
    growth = era("load_scale", axis.year) * (1.0 + per_zone(z.growth for z in ZONES)) ** (axis.year - 2023.5)
    return per_zone(z.base_load_mw for z in ZONES) * growth * activity * weather_factor


# --- renewables -------------------------------------------------------------------------------------


def _power_curve(hub_wind: np.ndarray) -> np.ndarray:
    """Fleet-aggregated wind power curve: cut-in ~3 m/s, rated ~12 m/s, 7 % losses.

    Spread over hundreds of farms the zone-mean speed maps to output more gently than one
    turbine's curve, hence the wide logistic.
    """
    return 0.93 / (1.0 + np.exp(-(hub_wind - 7.6) / 1.7))


def wind_capacity_factors(weather: Weather, events: Events) -> np.ndarray:
    """Capacity factor per zone (zones, n); blades ice up in the freezing rain of cold snaps."""
    icing = 0.6 * events.cold * np.clip(-weather.temperature / 6.0, 0.0, 1.0)
    return _power_curve(weather.hub_wind) * (1.0 - icing)


def solar_capacity_factor(axis: TimeAxis, clear: np.ndarray) -> np.ndarray:
    """Clear-sky output from the sun's elevation (by day of year and solar hour) x cloudiness."""
    declination = math.radians(23.44) * np.sin(TWO_PI * (axis.doy - 80.0) / YEAR_DAYS)
    hour_angle = math.radians(15.0) * (axis.solar_hour - 12.0)
    latitude = math.radians(LATITUDE)
    sin_elevation = (
        math.sin(latitude) * np.sin(declination) + math.cos(latitude) * np.cos(declination) * np.cos(hour_angle)
    )
    clear_sky = 0.88 * np.maximum(sin_elevation, 0.0) ** 0.5
    return clear_sky * (0.12 + 0.88 * clear)


# --- thermal fleet, outages, storage and fuel -------------------------------------------------------


def thermal_available(seed: int, axis: TimeAxis, events: Events, weather: Weather) -> np.ndarray:
    """Thermal capacity on line or able to start (MW): fleet - maintenance - forced outages.

    Generators schedule maintenance in the mild spring and fall (why ERCOT can run short on a hot
    May evening); forced outages run ~5 % with multi-day swings, plus large-unit trips, plus gas
    supply freeze-offs and frozen equipment in hard cold and derates in extreme heat.
    """
    fleet = thermal_fleet_mw(axis)
    forced = forced_outage_rate(seed, axis.t)
    return fleet * (1.0 - planned_maintenance(axis.doy) - forced) - events.outage_mw - weather_outages_mw(weather)


def thermal_fleet_mw(axis: TimeAxis) -> np.ndarray:
    """Installed thermal capability: the era's summer rating, ~6 % more in cold air (winter ratings)."""
    return era("thermal_mw", axis.year) * (1.0 + 0.06 * np.maximum(-summerness(axis.doy), 0.0))


def planned_maintenance(doy: np.ndarray) -> np.ndarray:
    """Share of the thermal fleet on planned outage by day of year."""
    spring = 0.17 * seasonal_bump(doy, 95.0, 26.0)  # peak early April
    fall = 0.14 * seasonal_bump(doy, 300.0, 24.0)  # peak late October
    winter = 0.03 * seasonal_bump(doy, 20.0, 25.0)
    return 0.025 + spring + fall + winter


def forced_outage_rate(seed: int, t: np.ndarray) -> np.ndarray:
    """Share of the thermal fleet on forced outage: ~5 %, drifting over a few days, never below 1.5 %."""
    return np.clip(0.05 + 0.02 * smooth_noise(stream_key(seed, "thermal.forced"), t, 48.0), 0.015, None)


def weather_outages_mw(weather: Weather) -> np.ndarray:
    """Thermal MW lost to the weather: frozen equipment and gas freeze-offs below freezing (steeply,
    as in Uri), derates in extreme heat."""
    temperature = weather.system_temperature
    cold = 650.0 * np.maximum(-1.0 - temperature, 0.0) ** 1.4
    heat = 150.0 * np.maximum(temperature - 33.0, 0.0) ** 1.3
    return cold + heat


def storage_available(axis: TimeAxis) -> np.ndarray:
    """Battery discharge capability (MW): charged at midday on solar, most available at the evening peak."""
    evening = hour_bump(axis.local_hour, 19.0, 2.5)
    return era("storage_mw", axis.year) * (0.45 + 0.45 * evening)


def gas_price(seed: int, axis: TimeAxis, events: Events) -> np.ndarray:
    """Henry-Hub-like gas price ($/MMBtu): the era's level, monthly drift, spikes in cold snaps."""
    drift = np.exp(0.12 * smooth_noise(stream_key(seed, "gas.drift"), axis.t, 24.0 * 20))
    return era("gas_usd_mmbtu", axis.year) * drift * (1.0 + 4.0 * events.cold**2)


# --- grid state -------------------------------------------------------------------------------------

_IMPORTS_MW = 800.0  # DC ties and other resources counted in reserve


@dataclass(frozen=True)
class GridState:
    """The physical system at each time (arrays of length n; per-zone arrays are (zones, n))."""

    axis: TimeAxis
    weather: Weather
    load_by_zone: np.ndarray
    wind_cf_by_zone: np.ndarray
    wind_mw: np.ndarray
    solar_mw: np.ndarray
    thermal_mw: np.ndarray
    storage_mw: np.ndarray
    flexible_mw: np.ndarray
    gas: np.ndarray
    markup: np.ndarray  # offer behaviour at the top of the stack (see offer_markup)

    @property
    def load(self) -> np.ndarray:
        """ERCOT system load: the sum of the weather zones."""
        return zone_sum(self.load_by_zone)

    @property
    def net_load(self) -> np.ndarray:
        """Load less wind and solar: what dispatchable units and batteries must serve."""
        return self.load - self.wind_mw - self.solar_mw

    @property
    def capacity(self) -> np.ndarray:
        """Dispatchable capability: available thermal + battery discharge + imports."""
        return self.thermal_mw + self.storage_mw + _IMPORTS_MW

    @property
    def reserve(self) -> np.ndarray:
        """Headroom left after serving net load (before flexible loads curtail)."""
        return self.capacity - self.net_load

    @property
    def drivers(self) -> BasisDrivers:
        """What moves congestion: wind in the west, coastal and Panhandle fleets, coastal and
        Permian load, solar, and how loaded the network is overall."""
        west = zone_sum(self.wind_cf_by_zone, WIND_SHARES * WEST_WIND) / (WIND_SHARES * WEST_WIND).sum()
        coastal = zone_sum(self.wind_cf_by_zone, WIND_SHARES * COASTAL_WIND) / (WIND_SHARES * COASTAL_WIND).sum()
        scale = era("load_scale", self.axis.year)
        coast = self.load_by_zone[ZONE_INDEX["COAST"]] / (ZONES[ZONE_INDEX["COAST"]].base_load_mw * scale)
        far_west = self.load_by_zone[ZONE_INDEX["FAR_WEST"]] / (ZONES[ZONE_INDEX["FAR_WEST"]].base_load_mw * scale)
        panhandle = self.wind_cf_by_zone[ZONE_INDEX["NORTH"]]
        solar = self.solar_mw / era("solar_mw", self.axis.year)
        system = self.load / (BASE_LOAD_MW * scale)
        return BasisDrivers(west, coastal, panhandle, coast, far_west, solar, system)


def grid_state(
    axis: TimeAxis, weather: Weather, events: Events, thermal_mw: np.ndarray, gas: np.ndarray, markup: np.ndarray
) -> GridState:
    """Assemble the state from the weather; thermal capacity, gas and offer behaviour come from the
    caller, because the actual and the forecast systems know them differently."""
    cf = wind_capacity_factors(weather, events)
    return GridState(
        axis=axis,
        weather=weather,
        load_by_zone=zone_loads(axis, weather),
        wind_cf_by_zone=cf,
        wind_mw=era("wind_mw", axis.year) * zone_sum(cf, WIND_SHARES),
        solar_mw=era("solar_mw", axis.year) * solar_capacity_factor(axis, weather.clear),
        thermal_mw=thermal_mw,
        storage_mw=storage_available(axis),
        flexible_mw=era("flexible_load_mw", axis.year),
        gas=gas,
        markup=markup,
    )


def actual_state(seed: int, t: np.ndarray) -> GridState:
    """The realised system at UTC hours ``t``."""
    axis = make_time_axis(t)
    events = make_events(seed, t)
    weather = actual_weather(seed, axis, events)
    thermal = thermal_available(seed, axis, events, weather)
    return grid_state(axis, weather, events, thermal, gas_price(seed, axis, events), offer_markup(seed, t))

