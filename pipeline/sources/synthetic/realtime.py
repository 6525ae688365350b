"""The real-time market: five-minute system prices and each settlement point's own five-minute term.

Responsibility: SCED-like prices from the realised system. The hourly state is interpolated to five
minutes; AR net-load noise, unexpected unit trips and ramp stress at the evening solar ramp act on
the reserve, and every settlement point adds AR noise and short local congestion episodes.
"""

from __future__ import annotations

import numpy as np

from pipeline.sources.synthetic.era import market_rules
from pipeline.sources.synthetic.grid import actual_state
from pipeline.sources.synthetic.noise import ar_noise, moving_average, normal, stream_key, uniform
from pipeline.sources.synthetic.prices import BasisDrivers, LocalTerm, system_price

_TRIP_PROBABILITY = 0.004  # per five-minute interval: roughly one unexpected unit trip a day
_TRIP_RECOVERY = np.exp(-np.arange(12) / 3.0)  # reserves deployed within ~30 minutes
_RAMP_CAPABILITY_MW_H = 3_000.0  # net-load rise per hour the fleet follows without strain


def five_minute_steps(starts_h: np.ndarray) -> np.ndarray:
    """The five-minute interval number since the epoch of each interval start (the noise index)."""
    return np.round(starts_h * 12.0).astype(np.int64)


def rt_system_and_drivers(seed: int, starts_h: np.ndarray) -> tuple[np.ndarray, BasisDrivers]:
    """Five-minute system price and basis drivers for intervals starting at UTC hours ``starts_h``.

    The hourly state is evaluated at hour midpoints and interpolated; five-minute net-load noise,
    unit trips (reserve lost, then restored) and ramp stress on steep net-load ramps (the evening
    solar drop) then act on the reserve inside SCED.
    """
    tau = starts_h + 2.5 / 60.0
    lo_mid = np.floor(tau - 0.5) + 0.5
    mids, inverse = np.unique(np.concatenate([lo_mid, lo_mid + 1.0]), return_inverse=True)
    state = actual_state(seed, mids)
    lo, hi = inverse[: len(tau)], inverse[len(tau) :]
    weight = tau - lo_mid
    net_load_h, capacity_h = state.net_load, state.capacity

    def at(values: np.ndarray) -> np.ndarray:
        return (1.0 - weight) * values[lo] + weight * values[hi]

    step = five_minute_steps(starts_h)
    wind = at(state.wind_mw)
    net_load = at(net_load_h) + (400.0 + 0.02 * wind) * ar_noise(stream_key(seed, "rt.net_load"), step, 0.9)
    capacity = at(capacity_h) - _unit_trips_mw(seed, step)
    ramp = net_load_h[hi] - net_load_h[lo]
    strain = np.maximum(ramp - _RAMP_CAPABILITY_MW_H, 0.0)
    burst = np.maximum(ar_noise(stream_key(seed, "rt.ramp_burst"), step, 0.6, taps=16), 0.0) ** 1.5
    rules = market_rules(starts_h)
    flexible, gas, markup = at(state.flexible_mw), at(state.gas), at(state.markup)
    price = system_price(net_load + 0.8 * strain * burst, capacity, flexible, gas, markup, rules)
    return price, state.drivers.interpolate(lo, hi, weight)


# Share of congestion episodes that raise (rather than depress) each hub's price: Houston imports,
# the Panhandle exports.
_CONGESTION_UPSIDE = {"HB_NORTH": 0.7, "HB_HOUSTON": 0.9, "HB_SOUTH": 0.7, "HB_WEST": 0.5, "HB_PAN": 0.15}
_CONGESTION_PROBABILITY = 0.003  # per five-minute interval and settlement point: ~0.9 episodes a day
_CONGESTION_DECAY = np.exp(-np.arange(12) / 4.0)  # operators re-dispatch around it within ~half an hour


def congestion_episodes(seed: int, node: str, step: np.ndarray) -> np.ndarray:
    """Short local congestion episodes at one settlement point ($/MWh, before load exposure).

    A transmission constraint binds unexpectedly (a line trips, a wind ramp, a local unit out):
    the local price jumps for some minutes. Sizes are heavy-tailed (median $40, 1 % above
    $500); the caller scales them with load, as constraints bind more often on heavy days.
    """
    key = stream_key(seed, f"rt.congestion.{node}")
    upside = _CONGESTION_UPSIDE.get(node, 0.6)

    def shocks(idx: np.ndarray) -> np.ndarray:
        happens = uniform(key, idx, 0) < _CONGESTION_PROBABILITY
        sign = np.where(uniform(key, idx, 1) < upside, 1.0, -1.0)
        return np.where(happens, sign * 40.0 * np.exp(1.1 * normal(key, idx, 2)), 0.0)

    return moving_average(step, _CONGESTION_DECAY, shocks)


def rt_local_term(seed: int, step: np.ndarray, system: np.ndarray, drivers: BasisDrivers) -> LocalTerm:
    """Each node's own five-minute term: AR noise growing with the price level, plus congestion
    episodes that bind more often on heavy-load days."""
    level = 1.0 + 0.02 * np.abs(system)
    exposure = np.clip(drivers.load_ratio - 0.85, 0.15, 1.0)

    def local(node: str, scale: float) -> np.ndarray:
        noise = 1.5 * level * ar_noise(stream_key(seed, f"rt.node.{node}"), step, 0.75, taps=30)
        return scale * (noise + exposure * congestion_episodes(seed, node, step))

    return local


def _unit_trips_mw(seed: int, step: np.ndarray) -> np.ndarray:
    """Reserve lost to unexpected unit trips (MW), restored as reserves deploy."""
    key = stream_key(seed, "rt.unit_trip")

    def trips(idx: np.ndarray) -> np.ndarray:
        happens = uniform(key, idx, 0) < _TRIP_PROBABILITY
        return np.where(happens, 400.0 + 900.0 * uniform(key, idx, 1), 0.0)

    return moving_average(step, _TRIP_RECOVERY, trips)

