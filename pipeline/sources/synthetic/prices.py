"""Price formation: the system energy price, the ORDC scarcity adder, basis and node prices.

Responsibility: turn a reserve margin into $/MWh the way ERCOT's market does. Reserve = available
- net load (+ flexible large loads that curtail as it tightens). The system energy price follows a
rising supply curve (gas price x heat rate rising with utilisation, offers climbing over the last
GW of headroom, negative when wind floods a light system) plus an ORDC-like scarcity adder
(VOLL - energy price) x LOLP(reserve), capped at HCAP ($9,000 through 2021, $5,000 after).
Settlement points add basis/congestion (West and Panhandle low with high wind, Houston high under
coastal heat); resource nodes follow a hub with their own exposure. The real-time and day-ahead
markets (:mod:`.realtime`, :mod:`.day_ahead`) feed these functions different conditions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.catalogue import HUBS, MAIN_HUBS
from pipeline.sources.synthetic.era import MarketRules
from pipeline.sources.synthetic.noise import normal_cdf, smooth_noise, stream_key

_PRICE_FLOOR = -250.0  # ERCOT's offer floor

# --- the system price -------------------------------------------------------------------------------


def energy_price(utilisation: np.ndarray, reserve: np.ndarray, gas: np.ndarray, markup: np.ndarray) -> np.ndarray:
    """System lambda of a rising supply curve ($/MWh).

    Nuclear, coal and wind-with-tax-credits set (even negative) prices when little thermal is needed;
    combined cycles then peakers follow as utilisation rises (gas x heat rate); offers climb
    steeply as the last few GW of headroom are used, by how much depending on the day's offer
    behaviour (``markup``).
    """
    heat_rate = 6.4 + 3.0 * utilisation**2 + 14.0 * utilisation**8
    surplus = 1.0 / (1.0 + np.exp(-(0.24 - utilisation) / 0.03))
    hockey = 1_200.0 * markup * np.exp(-np.maximum(reserve, 0.0) / 4_000.0)
    return gas * heat_rate + 3.0 - 32.0 * surplus + hockey


def offer_markup(seed: int, t: np.ndarray) -> np.ndarray:
    """How aggressively the top of the offer stack is priced: drifts from day to day (median 1)."""
    return np.exp(0.35 * smooth_noise(stream_key(seed, "offers.markup"), t, 24.0))


def scarcity_adder(
    reserve: np.ndarray, energy: np.ndarray, rules: MarketRules, sigma_mw: float = 2_000.0
) -> np.ndarray:
    """ORDC-like adder: (VOLL - lambda) x LOLP, LOLP = P(reserve shortfall below the minimum level).

    ERCOT's Operating Reserve Demand Curve prices the probability that reserves fall below the
    minimum contingency level within the hour, modelled as a normal reserve error.
    """
    lolp = 1.0 - normal_cdf((reserve - rules.min_contingency_mw) / sigma_mw)
    return np.maximum(rules.hcap - energy, 0.0) * lolp


def system_price(
    net_load: np.ndarray,
    capacity: np.ndarray,
    flexible: np.ndarray,
    gas: np.ndarray,
    markup: np.ndarray,
    rules: MarketRules,
) -> np.ndarray:
    """Real-time system price ($/MWh) of serving ``net_load`` from ``capacity``.

    Flexible large loads curtail as reserves fall toward ~5.5 GW (and count as reserve once they
    do), which is why ERCOT's reserves hover in the mid single-digit GW for hours rather than
    collapsing the moment load peaks.
    """
    reserve = capacity - net_load
    reserve = reserve + flexible / (1.0 + np.exp(-(5_500.0 - reserve) / 1_200.0))
    energy = energy_price(np.clip(net_load / capacity, 0.0, 1.2), reserve, gas, markup)
    return np.clip(energy + scarcity_adder(reserve, energy, rules), _PRICE_FLOOR, rules.hcap)


# --- basis and congestion ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BasisDrivers:
    """What moves congestion between settlement points."""

    west_wind_cf: np.ndarray
    coastal_wind_cf: np.ndarray
    panhandle_wind_cf: np.ndarray
    coast_load_ratio: np.ndarray  # COAST load / its mild-weather base: Houston import constraints
    far_west_load_ratio: np.ndarray  # Permian load pulls West prices up
    solar_cf: np.ndarray
    load_ratio: np.ndarray  # system load / its mild-weather base: how stressed the network is

    def interpolate(self, lo: np.ndarray, hi: np.ndarray, weight: np.ndarray) -> BasisDrivers:
        """Each driver linearly between positions ``lo`` and ``hi`` (hourly state -> five-minute)."""
        fields = self.__dataclass_fields__
        return BasisDrivers(*((1 - weight) * getattr(self, f)[lo] + weight * getattr(self, f)[hi] for f in fields))


def west_export_congestion(drivers: BasisDrivers) -> np.ndarray:
    """$/MWh (<= 0) by which West Texas prices fall when its wind and solar exceed export capacity."""
    return -70.0 * np.maximum(drivers.west_wind_cf - 0.40, 0.0) ** 1.2 - 5.0 * drivers.solar_cf


def houston_import_congestion(drivers: BasisDrivers, system: np.ndarray) -> np.ndarray:
    """$/MWh (>= 0) Houston pays when coastal heat pushes its load against the import limits."""
    return np.maximum(drivers.coast_load_ratio - 1.45, 0.0) * (10.0 + 0.06 * np.maximum(system, 0.0))


def hub_basis(drivers: BasisDrivers, system: np.ndarray) -> dict[str, np.ndarray]:
    """Expected basis ($/MWh) of the four hubs and the Panhandle from the drivers.

    West Texas wind exceeds the export capacity of the lines to the load centres, so West and
    especially the Panhandle price below the system (often negative) when it blows, while Permian
    load growth pulls West up; Houston imports power, and its import constraints bind when coastal
    heat drives load up; South Texas coastal wind depresses the South hub.
    """
    permian = 5.0 * np.maximum(drivers.far_west_load_ratio - 1.0, 0.0)
    panhandle = -95.0 * np.maximum(drivers.panhandle_wind_cf - 0.30, 0.0) ** 1.1 - 6.0 * drivers.solar_cf
    return {
        "HB_NORTH": -0.3 + 3.0 * np.maximum(drivers.west_wind_cf - 0.40, 0.0),
        "HB_HOUSTON": 0.8 + houston_import_congestion(drivers, system),
        "HB_SOUTH": 0.4 - 15.0 * np.maximum(drivers.coastal_wind_cf - 0.55, 0.0),
        "HB_WEST": -1.2 + west_export_congestion(drivers) + permian,
        "HB_PAN": -3.5 + panhandle,
    }


# Load zones as combinations of hub basis plus a small loss/congestion offset.
_ZONE_MIX: dict[str, tuple[dict[str, float], float]] = {
    "LZ_AEN": ({"HB_NORTH": 0.5, "HB_SOUTH": 0.5}, 0.9),
    "LZ_CPS": ({"HB_SOUTH": 1.0}, 1.0),
    "LZ_HOUSTON": ({"HB_HOUSTON": 1.0}, 0.4),
    "LZ_LCRA": ({"HB_SOUTH": 0.5, "HB_WEST": 0.3, "HB_NORTH": 0.2}, 0.6),
    "LZ_NORTH": ({"HB_NORTH": 1.0}, 0.5),
    "LZ_RAYBN": ({"HB_NORTH": 1.0}, 0.9),
    "LZ_SOUTH": ({"HB_SOUTH": 1.0}, 0.7),
    "LZ_WEST": ({"HB_WEST": 1.0}, 2.0),
}
# HB_BUSAVG: the average over hub buses, weighted toward the large northern and coastal systems.
_BUSAVG_WEIGHTS = {"HB_NORTH": 0.34, "HB_HOUSTON": 0.28, "HB_SOUTH": 0.22, "HB_WEST": 0.16}


# --- settlement points ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceNode:
    """A simulated resource node: which hub it tracks and how exposed it is to local congestion.

    Derived from a blake2b hash of the name, so the same name is the same node everywhere.
    """

    name: str
    hub: str
    offset: float  # $/MWh loss and local-congestion offset
    wind_exposure: float  # multiple of West-style wind congestion
    heat_exposure: float  # multiple of Houston-style import congestion
    noise_scale: float


def resource_node(name: str) -> ResourceNode:
    """The simulated character of the resource node called ``name`` (a pure function of the name)."""
    digest = hashlib.blake2b(name.encode(), digest_size=16, person=b"rtlmp-node").digest()
    u = [b / 255.0 for b in digest]
    return ResourceNode(
        name=name,
        hub=MAIN_HUBS[digest[0] % 4],
        offset=-6.0 + 9.0 * u[1],
        wind_exposure=1.5 * u[2] ** 2,
        heat_exposure=u[3] ** 2,
        noise_scale=0.5 + 1.5 * u[4],
    )


#: ``local(node, scale)``: a node's own additive term in $/MWh (noise, local congestion episodes).
LocalTerm = Callable[[str, float], np.ndarray]


def node_prices(
    system: np.ndarray, drivers: BasisDrivers, local: LocalTerm, extra_nodes: Sequence[ResourceNode]
) -> dict[str, np.ndarray]:
    """Price at every settlement point: system price + basis + the node's local term.

    Load zones mix their hubs (plus a loss offset); HB_HUBAVG is exactly the mean of the four
    hubs and HB_BUSAVG their bus-weighted mean; resource nodes follow their hub with their own
    exposure to West-style wind congestion and Houston-style import congestion.
    """
    basis = hub_basis(drivers, system)
    prices = {hub: system + basis[hub] + local(hub, 1.0) for hub in HUBS}
    west, houston = west_export_congestion(drivers), houston_import_congestion(drivers, system)
    for zone, (weights, offset) in _ZONE_MIX.items():
        mixed = sum(w * prices[hub] for hub, w in weights.items())
        prices[zone] = mixed + offset + local(zone, 0.5)
    prices["HB_HUBAVG"] = sum(prices[hub] for hub in MAIN_HUBS) / len(MAIN_HUBS)
    prices["HB_BUSAVG"] = sum(w * prices[hub] for hub, w in _BUSAVG_WEIGHTS.items()) + local("HB_BUSAVG", 0.2)
    for node in extra_nodes:
        exposure = node.wind_exposure * west + node.heat_exposure * houston
        prices[node.name] = prices[node.hub] + node.offset + exposure + local(node.name, node.noise_scale)
    return prices

