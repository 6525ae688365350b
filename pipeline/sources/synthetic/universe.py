"""The simulated market's universe of resource nodes: 1,000+ ERCOT-like settlement points.

Responsibility: which settlement points the simulated market lists beyond ERCOT's hubs and load
zones, and what each one is. ERCOT settles over a thousand resource nodes; the simulator draws its
own (never ERCOT's) from the seed:

1. **Plants.** Plants are drawn one at a time until the universe holds at least
   :data:`UNIVERSE_TARGET` nodes: a region (:data:`.geography.REGIONS`, by its share of plants), a
   design from the region's mix (wind and solar out West, gas and industrial cogeneration on the
   coast, ...), an invented plant abbreviation (:func:`.naming.plant_name`, unique), and a load
   zone from the region's load zones. The plant's hub is its region's hub.
2. **Nodes.** Each plant has one or more nodes named ``<PLANT>_<UNIT>``
   (:func:`.naming.unit_names`): type ``RN`` mostly, ``LCCRN`` + ``PCCRN`` for combined-cycle
   trains and their turbines, ``PUN`` for cogeneration behind a private use network. Every node
   inherits its plant's region, weather zone, load zone, hub and technology.

The universe is a pure function of the seed -- the same on every day (no commissioning or
retirement dates), so a shard of nodes means the same nodes on every day -- and cached per seed.
Prices come from :mod:`.congestion`. :func:`settlement_points` lists hubs, hub averages and load
zones (from :mod:`pipeline.catalogue`) followed by the universe, as the
:data:`targets.schemas.SETTLEMENT_POINTS` frame.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass

import pandas as pd

from pipeline.catalogue import HUB_AVERAGES, HUB_ZONE_TYPES, HUBS, HUBS_AND_ZONES, LOAD_ZONES
from pipeline.sources.synthetic.geography import DESIGNS, REGION_INDEX, REGIONS, ZONE_HUB
from pipeline.sources.synthetic.naming import Draws, plant_name, unit_names

#: The universe stops growing at the first plant that takes it to this many nodes or more.
UNIVERSE_TARGET = 1_150
#: A valid simulated node name: capitals, digits and underscores, starting with a capital.
NAME_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]*$")
# Settlement point types of ERCOT's hubs and hub averages (NP6-905-CD's SettlementPointType).
_HUB_TYPE = "HU"

_ZONE_TYPE = "LZ"


@dataclass(frozen=True)
class UniverseNode:
    """One simulated resource node: how it settles (type, load zone, hub) and what it is."""

    name: str
    type: str  # RN, LCCRN, PCCRN or PUN
    plant: str
    design: str  # see geography.DESIGNS
    technology: str  # wind, solar, storage, gas, coal, nuclear, hydro, load
    region: str  # see geography.REGIONS
    weather_zone: str
    load_zone: str
    hub: str

    @property
    def node_id(self) -> int:
        """A stable 63-bit id of the name: the index of the node's random streams."""
        return node_id(self.name)


def node_id(name: str) -> int:
    """A stable 63-bit id of a node name (blake2b), independent of the universe it is in."""
    digest = hashlib.blake2b(name.encode(), digest_size=8, person=b"rtlmp-univ").digest()
    return int.from_bytes(digest, "little") >> 1


@dataclass(frozen=True)
class Universe:
    """The simulated market's resource nodes for one seed, sorted by name."""

    seed: int
    nodes: tuple[UniverseNode, ...]

    @functools.cached_property
    def by_name(self) -> dict[str, UniverseNode]:
        return {node.name: node for node in self.nodes}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(node.name for node in self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __contains__(self, name: object) -> bool:
        return name in self.by_name

    def frame(self) -> pd.DataFrame:
        """Every node with all its attributes (for inspection, plots and sharding by region)."""
        return pd.DataFrame([node.__dict__ for node in self.nodes], columns=list(UniverseNode.__dataclass_fields__))


@functools.lru_cache(maxsize=8)
def universe(seed: int) -> Universe:
    """The universe of resource nodes of ``seed`` (cached; the same object on every call)."""
    draws = Draws(seed, "universe.plants")
    region_shares = {region.name: region.plant_share for region in REGIONS}
    nodes: list[UniverseNode] = []
    plants: set[str] = set()
    names: set[str] = set(HUBS_AND_ZONES)
    while len(nodes) < UNIVERSE_TARGET:
        region = REGIONS[REGION_INDEX[draws.weighted(region_shares)]]
        design = draws.weighted(region.designs)
        plant = plant_name(draws, design)
        if plant in plants:  # a name already taken: draw the next plant instead
            continue
        units = unit_names(draws, plant, design)
        load_zone = draws.weighted(region.load_zones)
        unit_set = {name for name, _ in units}
        if len(unit_set) < len(units) or unit_set & names or not all(NAME_PATTERN.match(name) for name in unit_set):
            continue
        plants.add(plant)
        for name, kind in units:
            names.add(name)
            nodes.append(UniverseNode(name, kind, plant, design, DESIGNS[design], region.name, region.weather_zone,
                                      load_zone, region.hub))
    return Universe(int(seed), tuple(sorted(nodes, key=lambda node: node.name)))


def universe_names(seed: int) -> tuple[str, ...]:
    """The names of the universe's resource nodes (what ``market.nodes: all`` adds to hubs and zones)."""
    return universe(seed).names


def settlement_points(seed: int) -> pd.DataFrame:
    """Hubs (HU), hub averages (SH, AH), load zones (LZ), then the universe: a SETTLEMENT_POINTS frame.

    A hub row names itself as its hub; a load zone row names itself as its load zone and the hub
    it mostly follows; hubs and hub averages have no load zone.
    """
    rows: list[tuple[str, str, str | None, str | None]] = []
    rows += [(hub, _HUB_TYPE, None, hub) for hub in HUBS]
    rows += [(average, HUB_ZONE_TYPES[average], None, average) for average in HUB_AVERAGES]
    rows += [(zone, _ZONE_TYPE, zone, ZONE_HUB[zone]) for zone in LOAD_ZONES]
    rows += [(node.name, node.type, node.load_zone, node.hub) for node in universe(seed).nodes]
    frame = pd.DataFrame(rows, columns=["name", "type", "load_zone", "hub"], dtype=object)
    return frame
