"""Universe node prices: each node's hub price plus losses and the congestion of its geography.

Responsibility: price every universe node (:mod:`.universe`) in the real-time and the day-ahead
market, vectorised over nodes, on top of the hub prices of :mod:`.prices` (which it never changes).
An ERCOT LMP is ``energy + losses + sum_k SF_k * mu_k``; relative to the node's hub this is

    node = hub * (1 + loss) + offset + sum_k SF_k * mu_k(t) + local(t)

* ``mu_k(t)`` -- the **shadow price** of each recurring constraint of :data:`.geography.CONSTRAINTS`
  ($/MWh at a relative shift factor of 1), computed once per interval from the basis drivers:

  - *west_export*: West Texas wind (and solar) exceed the West-to-North export lines; nodes behind
    the limit fall below HB_WEST, deeply negative on windy nights when wind farms keep producing
    for their tax credits;
  - *panhandle_export*: the same for Panhandle wind behind the Panhandle GTC;
  - *permian_import*: Permian oil-field load outgrows the lines into the Far West; it binds on
    heavy-load evenings when local solar fades and the wind is calm, and Far West prices spike
    while the hubs stay calm;
  - *houston_import*: coastal heat drives Houston load against the import interface;
  - *valley_import*: the Rio Grande Valley's load on hot, calm days;
  - *south_export*: Coastal Bend and Valley wind exceed the lines north to San Antonio.

  Each limit is derated by transmission outages and maintenance (a smooth random derate lasting
  days, known to both markets). In real time the flow fluctuates (AR noise) and limits bind
  unexpectedly -- a line trips, a wind ramp arrives -- in heavy-tailed binding episodes that
  happen mostly when the constraint is already loaded. The day-ahead market sees only the
  expected shadow price under the forecast conditions.
* ``SF_k`` -- each node's **relative shift factor**: its region's typical value
  (:data:`.geography.REGIONS`) scaled by an electrical distance drawn per node and by its
  technology (wind and solar sit at the far end of export lines; loads at the heart of import
  pockets).
* ``loss`` -- the marginal loss factor (remote generation negative, load pockets positive),
  ``offset`` a small fixed basis, and ``local`` the node's own AR noise plus short local
  congestion episodes of its own substation (loads and pocket nodes mostly up, remote generators
  mostly down).

A node's price stays between ``min(hub, -250)`` (the offer floor) and ``max(hub, HCAP)``.

Every random number is indexed by (seed, stream, node id, interval), and every operation on the
(nodes, intervals) arrays is elementwise in a fixed order (no BLAS, no reductions over nodes), so
a node's price does not depend on which other nodes or days are generated with it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.catalogue import HUBS
from pipeline.sources.synthetic.era import market_rules
from pipeline.sources.synthetic.geography import CONSTRAINTS, IMPORT_CONSTRAINTS, REGION_INDEX, REGIONS
from pipeline.sources.synthetic.noise import moving_average, normal, smooth_noise, stream_key, uniform
from pipeline.sources.synthetic.prices import BasisDrivers
from pipeline.sources.synthetic.universe import UniverseNode, node_id

_PRICE_FLOOR = -250.0  # ERCOT's offer floor
_HUB_INDEX = {hub: i for i, hub in enumerate(HUBS)}

# --- nodes as arrays -------------------------------------------------------------------------------

# How much of its region's shift factor a technology carries: (on export limits, on import limits).
_TECH_EXPOSURE: dict[str, tuple[float, float]] = {
    "wind": (1.3, 0.7),
    "solar": (1.1, 0.8),
    "storage": (0.9, 1.1),
    "gas": (0.7, 1.0),
    "coal": (0.7, 0.9),
    "nuclear": (0.5, 0.8),
    "hydro": (0.6, 0.9),
    "load": (0.6, 1.3),
}
# Share of a node's local congestion episodes that raise its price, by technology.
_LOCAL_UPSIDE = {"wind": 0.2, "solar": 0.25, "storage": 0.6, "gas": 0.55, "coal": 0.5, "nuclear": 0.5,
                 "hydro": 0.5, "load": 0.85}


@dataclass(frozen=True)
class NodeArrays:
    """The price parameters of some universe nodes as column arrays (one row per node)."""

    names: tuple[str, ...]
    ids: np.ndarray  # (n, 1) int64 node ids: the index of every random stream of the node
    hub: np.ndarray  # (n,) position of the node's hub in catalogue.HUBS
    loss: np.ndarray  # (n, 1) marginal loss factor
    offset: np.ndarray  # (n, 1) $/MWh
    noise_scale: np.ndarray  # (n, 1)
    upside: np.ndarray  # (n, 1) share of local episodes that raise the price
    shift: np.ndarray  # (n, len(CONSTRAINTS)) relative shift factors

    def __len__(self) -> int:
        return len(self.names)


def node_arrays(seed: int, nodes: Sequence[UniverseNode]) -> NodeArrays:
    """Price parameters of ``nodes``: from the region and technology, varied per node by draws keyed
    by the node's id (so a node's parameters do not depend on the other nodes requested)."""
    ids = np.array([node_id(node.name) for node in nodes], dtype=np.int64).reshape(-1, 1)
    key = stream_key(seed, "universe.parameters")
    u = uniform(key, ids, np.arange(4 + len(CONSTRAINTS), dtype=np.int64))  # (n, draws)
    regions = [REGIONS[REGION_INDEX[node.region]] for node in nodes]
    shift = np.zeros((len(nodes), len(CONSTRAINTS)))
    for i, (node, region) in enumerate(zip(nodes, regions)):
        export, import_ = _TECH_EXPOSURE[node.technology]
        for k, constraint in enumerate(CONSTRAINTS):
            base = region.shift_factors.get(constraint, 0.0)
            tech = import_ if constraint in IMPORT_CONSTRAINTS else export
            shift[i, k] = base * tech * (0.4 + 1.2 * u[i, 4 + k])  # electrical distance
    column = lambda values: np.array(values, dtype=np.float64).reshape(-1, 1)  # noqa: E731
    return NodeArrays(
        names=tuple(node.name for node in nodes),
        ids=ids,
        hub=np.array([_HUB_INDEX[node.hub] for node in nodes], dtype=np.int64),
        loss=column([region.loss for region in regions]) + 0.012 * (u[:, :1] - 0.5),
        offset=-1.0 + 2.0 * u[:, 1:2],
        noise_scale=0.5 + 1.5 * u[:, 2:3],
        upside=column([_LOCAL_UPSIDE[node.technology] for node in nodes]),
        shift=shift,
    )


# --- the constraints -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Limit:
    """A constraint's shadow price ``scale * max(loading, 0) ** power`` of its loading (binding at > 0)."""

    scale: float
    power: float
    loading: Callable[[BasisDrivers], np.ndarray]  # before the outage derate


# Loadings are flow / limit - 1 in spirit: 0 is the limit, +0.1 ten per cent beyond what the lines carry.
_LIMITS: dict[str, _Limit] = {
    "west_export": _Limit(250.0, 1.3, lambda d: d.west_wind_cf + 0.35 * d.solar_cf - 0.55),
    "panhandle_export": _Limit(250.0, 1.3, lambda d: d.panhandle_wind_cf - 0.50),
    "permian_import": _Limit(
        2_000.0, 1.6, lambda d: d.far_west_load_ratio - 1.10 - 0.25 * d.solar_cf - 0.15 * d.west_wind_cf
    ),
    "houston_import": _Limit(400.0, 1.5, lambda d: d.coast_load_ratio - 1.40),
    "valley_import": _Limit(
        300.0, 1.5, lambda d: 0.5 * (d.coast_load_ratio + d.load_ratio) - 1.45 - 0.4 * d.coastal_wind_cf
    ),
    "south_export": _Limit(200.0, 1.3, lambda d: d.coastal_wind_cf + 0.2 * d.solar_cf - 0.60),
}
assert tuple(_LIMITS) == CONSTRAINTS


def loadings(seed: int, drivers: BasisDrivers, t: np.ndarray) -> np.ndarray:
    """(constraints, intervals) loading of each constraint after its outage derate.

    Transmission outages and maintenance lower a limit for days at a time: the derate is a smooth
    random process (knots every two days), a pure function of time, known to both markets.
    """
    rows = []
    for name, limit in _LIMITS.items():
        derate = 0.06 * np.maximum(smooth_noise(stream_key(seed, f"constraint.derate.{name}"), t, 48.0), 0.0) ** 2
        rows.append(limit.loading(drivers) + derate)
    return np.stack(rows)


def shadow_prices(loading: np.ndarray) -> np.ndarray:
    """(constraints, intervals) structural shadow prices ($/MWh at a relative shift factor of 1)."""
    return np.stack(
        [limit.scale * np.maximum(loading[k], 0.0) ** limit.power for k, limit in enumerate(_LIMITS.values())]
    )


# Real-time binding episodes: per five-minute interval and constraint; they bind within ~an hour.
_EPISODE_PROBABILITY = 0.004
_EPISODE_DECAY = np.exp(-np.arange(18) / 5.0)
_EPISODE_WIDTH = 0.15  # loading below the limit at which episodes have faded to a twentieth


def rt_shadow_prices(seed: int, drivers: BasisDrivers, starts_h: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Five-minute shadow prices: the structural price with fluctuating flows, plus binding episodes.

    Flows fluctuate around the hourly conditions (AR noise on the price, ~25 %), and each limit
    binds unexpectedly now and then (a line trips, a ramp arrives): heavy-tailed episodes (median
    $80, 1 % above ~$650) that are large only when the constraint is already near its limit.
    """
    loading = loadings(seed, drivers, starts_h)
    structural = shadow_prices(loading)
    rows = []
    for k, name in enumerate(CONSTRAINTS):
        key = stream_key(seed, f"constraint.rt.{name}")
        wobble = np.exp(0.25 * _ar(key, step))
        exposure = np.clip(1.0 + loading[k] / _EPISODE_WIDTH, 0.05, 1.0)
        rows.append(structural[k] * wobble + exposure * moving_average(step, _EPISODE_DECAY, _episodes(key)))
    return np.stack(rows)


def dam_shadow_prices(seed: int, drivers: BasisDrivers, t: np.ndarray) -> np.ndarray:
    """Hourly day-ahead shadow prices: what the forecast conditions make the limits worth.

    No surprise episodes, and a little below the real-time structural level: the DAM clears
    expected flows, and congestion revenue rights hedge much of the spread.
    """
    return 0.85 * shadow_prices(loadings(seed, drivers, t))


_FLOW_AR = np.sqrt(1 - 0.9**2) * 0.9 ** np.arange(30)  # flows drift over ~an hour


def _ar(key: int, step: np.ndarray) -> np.ndarray:
    return moving_average(step, _FLOW_AR, lambda idx: normal(key, idx, 7))


def _episodes(key: int) -> Callable[[np.ndarray], np.ndarray]:
    def shocks(idx: np.ndarray) -> np.ndarray:
        happens = uniform(key, idx, 0) < _EPISODE_PROBABILITY
        return np.where(happens, 80.0 * np.exp(0.9 * normal(key, idx, 1)), 0.0)

    return shocks


# --- node prices -------------------------------------------------------------------------------------


def moving_average_rows(
    steps: np.ndarray, kernel: np.ndarray, innovations: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """:func:`.noise.moving_average` for many series at once: ``innovations(idx)`` is (rows, len(idx)).

    Same algorithm, so each row at each step depends only on its own index: taps are applied as
    elementwise array operations in a fixed order over contiguous runs of the requested steps.
    """
    unique, inverse = np.unique(steps, return_inverse=True)
    taps = len(kernel)
    breaks = np.flatnonzero(np.diff(unique) != 1) + 1
    parts = []
    for run in np.split(np.arange(len(unique)), breaks):
        first, last = int(unique[run[0]]), int(unique[run[-1]])
        eps = innovations(np.arange(first - taps + 1, last + 1, dtype=np.int64))
        acc = np.zeros((eps.shape[0], len(run)))
        for k in range(taps):
            acc += kernel[k] * eps[:, taps - 1 - k : taps - 1 - k + len(run)]
        parts.append(acc)
    return np.concatenate(parts, axis=1)[:, inverse.reshape(-1)]


_NODE_AR = np.sqrt(1 - 0.75**2) * 0.75 ** np.arange(30)  # the hubs' five-minute AR noise (phi 0.75)
_LOCAL_PROBABILITY = 0.0015  # per five-minute interval and node: one local episode every ~2.3 days
_LOCAL_DECAY = np.exp(-np.arange(12) / 4.0)


@dataclass(frozen=True)
class RealTime:
    """What every universe node's five-minute price needs over some intervals (rows)."""

    seed: int
    step: np.ndarray  # (T,) five-minute interval numbers
    shadow: np.ndarray  # (constraints, T)
    level: np.ndarray  # (T,) noise grows with the price level
    exposure: np.ndarray  # (T,) local constraints bind more often on heavy-load days
    cap: np.ndarray  # (T,) HCAP

    @classmethod
    def build(
        cls, seed: int, starts_h: np.ndarray, step: np.ndarray, system: np.ndarray, drivers: BasisDrivers
    ) -> RealTime:
        return cls(
            seed=seed,
            step=step,
            shadow=rt_shadow_prices(seed, drivers, starts_h, step),
            level=1.0 + 0.02 * np.abs(system),
            exposure=np.clip(drivers.load_ratio - 0.85, 0.15, 1.0),
            cap=market_rules(starts_h).hcap,
        )

    def prices(self, nodes: NodeArrays, hubs: np.ndarray, rows: slice) -> np.ndarray:
        """(nodes, intervals) prices over ``rows`` from the (len(HUBS), intervals) hub prices there."""
        step = self.step[rows]
        key_noise = stream_key(self.seed, "universe.rt.noise")
        key_local = stream_key(self.seed, "universe.rt.local")
        noise = moving_average_rows(step, _NODE_AR, lambda idx: normal(key_noise, nodes.ids, idx))

        def shocks(idx: np.ndarray) -> np.ndarray:
            happens = uniform(key_local, nodes.ids, idx, 0) < _LOCAL_PROBABILITY
            sign = np.where(uniform(key_local, nodes.ids, idx, 1) < nodes.upside, 1.0, -1.0)
            return np.where(happens, sign * 30.0 * np.exp(1.1 * normal(key_local, nodes.ids, idx, 2)), 0.0)

        episodes = moving_average_rows(step, _LOCAL_DECAY, shocks)
        local = nodes.noise_scale * (1.5 * self.level[rows] * noise + self.exposure[rows] * episodes)
        return _assemble(nodes, hubs, self.shadow[:, rows], local, self.cap[rows])


@dataclass(frozen=True)
class DayAhead:
    """What every universe node's hourly DAM price needs over some hours (rows)."""

    seed: int
    hour: np.ndarray  # (T,) hour number since the epoch
    shadow: np.ndarray
    cap: np.ndarray

    @classmethod
    def build(cls, seed: int, t: np.ndarray, drivers: BasisDrivers) -> DayAhead:
        return cls(seed, np.floor(t).astype(np.int64), dam_shadow_prices(seed, drivers, t), market_rules(t).hcap)

    def prices(self, nodes: NodeArrays, hubs: np.ndarray, rows: slice) -> np.ndarray:
        """(nodes, hours) DAM prices: a little hourly noise, no intra-hour volatility or surprises."""
        noise = normal(stream_key(self.seed, "universe.dam.noise"), nodes.ids, self.hour[rows])
        local = nodes.noise_scale * 0.6 * noise
        return _assemble(nodes, hubs, self.shadow[:, rows], local, self.cap[rows])


def _assemble(
    nodes: NodeArrays, hubs: np.ndarray, shadow: np.ndarray, local: np.ndarray, cap: np.ndarray
) -> np.ndarray:
    """hub * (1 + loss) + offset + sum_k SF_k mu_k + local, kept within [min(hub, floor), max(hub, cap)]."""
    hub = hubs[nodes.hub]
    congestion = np.zeros_like(hub)
    for k in range(shadow.shape[0]):  # fixed order, elementwise: no BLAS
        congestion += nodes.shift[:, k : k + 1] * shadow[k]
    price = hub * (1.0 + nodes.loss) + nodes.offset + congestion + local
    return np.minimum(np.maximum(price, np.minimum(hub, _PRICE_FLOOR)), np.maximum(hub, cap))
