"""The day-ahead market: hourly prices bid on the conditions forecast the day before.

Responsibility: DAM prices are the *expected* real-time price under the conditions forecast on the
day before (plus a risk premium), never the actuals -- so the DAM anticipates tight days but not
the surprises that make real-time spikes.
"""

from __future__ import annotations

import numpy as np

from pipeline.sources.synthetic.era import market_rules
from pipeline.sources.synthetic.grid import GridState
from pipeline.sources.synthetic.noise import normal, stream_key
from pipeline.sources.synthetic.prices import LocalTerm, system_price

_GAUSS_HERMITE = np.polynomial.hermite_e.hermegauss(9)
_DAM_PREMIUM = 1.03  # DAM buyers pay a little for price certainty


def dam_system_price(state: GridState) -> np.ndarray:
    """Expected real-time price under the forecast conditions: averaged over net-load uncertainty.

    The average over a normal net-load error (Gauss-Hermite) makes DAM prices smooth and lets them
    price *expected* scarcity on tight days instead of the spikes themselves.
    """
    nodes, weights = _GAUSS_HERMITE
    sigma = 1_000.0 + 0.015 * state.net_load  # the uncertainty bidders price, less than the real one
    rules = market_rules(state.axis.t)
    expected = sum(
        w * system_price(state.net_load + z * sigma, state.capacity, state.flexible_mw, state.gas, state.markup, rules)
        for z, w in zip(nodes, weights)
    ) / weights.sum()
    return np.minimum(_DAM_PREMIUM * expected + 0.5, rules.hcap)  # DAM offers are capped at HCAP too


# Day-ahead reserve prices ($/MW per hour): a floor plus a share of the expected scarcity value,
# the opportunity cost of holding capacity back when the real-time price may spike.
_RESERVE_PRICING: dict[str, tuple[float, float]] = {  # service: (floor, share of expected scarcity)
    "REGUP": (4.0, 0.55),
    "REGDN": (2.0, 0.05),
    "RRS": (3.0, 0.60),
    "NSPIN": (1.0, 0.40),
    "ECRS": (2.0, 0.50),
}


def reserve_prices(seed: int, state: GridState, dam_price: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    """DAM ancillary clearing prices per service, rising with the scarcity the DAM expects.

    ERCOT co-optimises energy and reserves: a MW held as reserve forgoes the energy price, so
    reserve prices climb with the expected scarcity value above the marginal energy cost (the DAM
    price above a gas-fired unit's cost); regulation down is paid mostly when wind floods the night.
    """
    scarcity = np.maximum(dam_price - 8.0 * state.gas, 0.0)
    night = (state.axis.solar_hour < 6.0) | (state.axis.solar_hour >= 20.0)
    night_wind = state.wind_mw / np.maximum(state.load, 1.0) * night
    out = {}
    for service, (floor, share) in _RESERVE_PRICING.items():
        noise = np.exp(0.15 * normal(stream_key(seed, f"as.{service}"), np.floor(t).astype(np.int64)))
        extra = 12.0 * night_wind if service == "REGDN" else 0.0
        out[service] = np.round((floor + share * scarcity + extra) * noise, 2)
    return out


def dam_local_term(seed: int, t: np.ndarray) -> LocalTerm:
    """DAM nodes carry only a little hourly noise: no intra-hour volatility, no surprise congestion."""
    hour = np.floor(t).astype(np.int64)
    return lambda node, scale: scale * 0.6 * normal(stream_key(seed, f"dam.node.{node}"), hour)

