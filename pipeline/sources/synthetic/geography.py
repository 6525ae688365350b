"""Where the simulated resource nodes are: regions, their load zones and hubs, and the constraints.

Responsibility: the map the universe of resource nodes (:mod:`.universe`) is drawn on and priced
against (:mod:`.congestion`).

* **Regions.** ERCOT's resources cluster by geography, and the geography fixes how a node settles:
  Panhandle and West Texas wind, Permian (Far West) solar and oil-field load, North and North
  Central gas and load around Dallas-Fort Worth, East Texas coal and gas, the Houston coast's
  combined cycles and industrial cogeneration, Coastal Bend and Rio Grande Valley wind, the Austin /
  San Antonio corridor. Each region names the load zone(s) its nodes settle in, the trading hub
  whose price they track, the weather zone it lies in, how many of the universe's plants are there
  and which technologies they use. Load-zone and hub names come from :mod:`pipeline.catalogue`
  (checked at import).
* **Constraints.** Congestion in ERCOT comes from a handful of recurring transmission limits
  (generic transmission constraints, GTCs, and import interfaces). An LMP is
  ``lambda + loss + sum_k SF_k * mu_k``: a node's shift factor SF on constraint k times the
  constraint's shadow price mu. Relative to its hub, a node on the exporting side of an export
  limit (West Texas wind behind the West-to-North lines) has a negative relative shift factor, a
  node inside an import-limited load pocket (the Permian, Houston, the Rio Grande Valley) a
  positive one. :data:`REGIONS` gives each region's typical relative shift factors; the universe
  scales them per node with a drawn electrical distance.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.catalogue import HUBS, LOAD_ZONES, WEATHER_ZONES

#: The recurring transmission constraints of the simulated network, in a fixed order (the column
#: order of every shift-factor matrix). Market reasons in :mod:`.congestion`.
CONSTRAINTS: tuple[str, ...] = (
    "west_export",  # West Texas wind and solar exceed the West-to-North/Central export lines
    "panhandle_export",  # Panhandle wind exceeds the Panhandle GTC
    "permian_import",  # Permian oil-field load exceeds what the import lines into the Far West carry
    "houston_import",  # Houston load on hot days exceeds the import interface into the coast
    "valley_import",  # Rio Grande Valley load when its coastal wind is calm
    "south_export",  # Coastal Bend and Valley wind exceed the lines north to San Antonio
)
CONSTRAINT_INDEX = {name: k for k, name in enumerate(CONSTRAINTS)}
IMPORT_CONSTRAINTS = frozenset(name for name in CONSTRAINTS if name.endswith("_import"))

#: Technologies of simulated resources: what a node's plant or load is.
TECHNOLOGIES: tuple[str, ...] = ("wind", "solar", "storage", "gas", "coal", "nuclear", "hydro", "load")

#: Plant designs: what the naming and the node types follow. ``design -> technology``.
DESIGNS: dict[str, str] = {
    "wind": "wind",
    "solar": "solar",
    "storage": "storage",
    "combined_cycle": "gas",  # one logical (LCCRN) node per train plus its physical units (PCCRN)
    "peaker": "gas",  # combustion turbines
    "steam": "gas",  # older gas steam units
    "cogeneration": "gas",  # industrial cogeneration behind a private use network (PUN)
    "coal": "coal",
    "nuclear": "nuclear",
    "hydro": "hydro",
    "load": "load",  # large flexible loads: oil-field pumping, crypto mining, data centres
}


@dataclass(frozen=True)
class Region:
    """One geographic cluster of resource nodes and how its nodes settle and congest.

    ``load_zones`` maps each load zone the region's nodes settle in to its share of the nodes;
    ``shift_factors`` maps constraints to the region's typical shift factor relative to ``hub``
    (negative: exporting side, price falls when the constraint binds; positive: import pocket).
    ``loss`` is the typical marginal loss factor (remote generation negative, load pockets
    positive); ``designs`` the share of the region's plants by design.
    """

    name: str
    weather_zone: str
    hub: str
    load_zones: dict[str, float]
    plant_share: float
    designs: dict[str, float]
    shift_factors: dict[str, float]
    loss: float


REGIONS: tuple[Region, ...] = (
    Region(
        "PANHANDLE", "NORTH", "HB_PAN", {"LZ_WEST": 0.75, "LZ_NORTH": 0.25}, 0.06,
        {"wind": 0.70, "solar": 0.08, "storage": 0.08, "peaker": 0.04, "steam": 0.02, "load": 0.08},
        {"panhandle_export": -0.8, "west_export": -0.15}, -0.030,
    ),
    Region(
        "FAR_WEST", "FAR_WEST", "HB_WEST", {"LZ_WEST": 1.0}, 0.12,
        {"solar": 0.34, "wind": 0.12, "storage": 0.18, "peaker": 0.10, "steam": 0.04, "combined_cycle": 0.01,
         "load": 0.21},
        {"west_export": -0.7, "permian_import": 1.0}, -0.020,
    ),
    Region(
        "WEST", "WEST", "HB_WEST", {"LZ_WEST": 0.85, "LZ_LCRA": 0.15}, 0.17,
        {"wind": 0.50, "solar": 0.20, "storage": 0.14, "peaker": 0.05, "steam": 0.03, "combined_cycle": 0.01,
         "load": 0.07},
        {"west_export": -0.9, "permian_import": 0.2}, -0.025,
    ),
    Region(
        "NORTH", "NORTH", "HB_NORTH", {"LZ_NORTH": 0.9, "LZ_RAYBN": 0.1}, 0.08,
        {"wind": 0.38, "solar": 0.16, "storage": 0.12, "peaker": 0.10, "steam": 0.05, "combined_cycle": 0.05,
         "coal": 0.04, "load": 0.10},
        {"west_export": -0.3, "panhandle_export": -0.25}, -0.010,
    ),
    Region(
        "NORTH_C", "NORTH_C", "HB_NORTH", {"LZ_NORTH": 0.85, "LZ_RAYBN": 0.15}, 0.12,
        {"solar": 0.22, "storage": 0.20, "peaker": 0.16, "steam": 0.07, "combined_cycle": 0.11, "coal": 0.04,
         "nuclear": 0.01, "load": 0.09, "hydro": 0.01, "wind": 0.09},
        {"west_export": 0.05}, 0.005,
    ),
    Region(
        "EAST", "EAST", "HB_NORTH", {"LZ_NORTH": 0.75, "LZ_RAYBN": 0.25}, 0.07,
        {"combined_cycle": 0.10, "peaker": 0.10, "steam": 0.10, "coal": 0.14, "solar": 0.28, "storage": 0.16,
         "hydro": 0.02, "load": 0.06, "cogeneration": 0.04},
        {"houston_import": -0.05}, 0.000,
    ),
    Region(
        "COAST", "COAST", "HB_HOUSTON", {"LZ_HOUSTON": 1.0}, 0.14,
        {"combined_cycle": 0.14, "cogeneration": 0.20, "peaker": 0.10, "steam": 0.08, "storage": 0.22,
         "solar": 0.10, "nuclear": 0.01, "load": 0.15},
        {"houston_import": 0.8}, 0.010,
    ),
    Region(
        "COASTAL_BEND", "SOUTHERN", "HB_SOUTH", {"LZ_SOUTH": 1.0}, 0.07,
        {"wind": 0.46, "solar": 0.16, "storage": 0.14, "combined_cycle": 0.04, "steam": 0.04, "peaker": 0.06,
         "load": 0.10},
        {"south_export": -0.9, "valley_import": 0.1}, -0.015,
    ),
    Region(
        "SOUTH_C", "SOUTH_C", "HB_SOUTH", {"LZ_CPS": 0.35, "LZ_AEN": 0.15, "LZ_LCRA": 0.35, "LZ_SOUTH": 0.15}, 0.11,
        {"solar": 0.30, "storage": 0.22, "combined_cycle": 0.09, "peaker": 0.12, "steam": 0.06, "coal": 0.05,
         "hydro": 0.04, "load": 0.08, "wind": 0.04},
        {"west_export": 0.05}, 0.000,
    ),
    Region(
        "SOUTHERN", "SOUTHERN", "HB_SOUTH", {"LZ_SOUTH": 0.9, "LZ_CPS": 0.1}, 0.06,
        {"wind": 0.32, "solar": 0.28, "storage": 0.18, "combined_cycle": 0.04, "peaker": 0.08, "load": 0.10},
        {"valley_import": 1.0, "south_export": -0.4}, -0.010,
    ),
)
REGION_INDEX = {region.name: i for i, region in enumerate(REGIONS)}

#: The trading hub each load zone's row of the settlement-point list names (the hub whose price the
#: zone mostly follows, as in :mod:`.prices`' zone mix: Austin and the LCRA settle near the South hub).
ZONE_HUB: dict[str, str] = {
    "LZ_AEN": "HB_SOUTH",
    "LZ_CPS": "HB_SOUTH",
    "LZ_HOUSTON": "HB_HOUSTON",
    "LZ_LCRA": "HB_SOUTH",
    "LZ_NORTH": "HB_NORTH",
    "LZ_RAYBN": "HB_NORTH",
    "LZ_SOUTH": "HB_SOUTH",
    "LZ_WEST": "HB_WEST",
}


def _check() -> None:
    """Every name used here is one the catalogue declares; every share table sums to one."""
    assert set(ZONE_HUB) == set(LOAD_ZONES) and set(ZONE_HUB.values()) <= set(HUBS)
    assert abs(sum(r.plant_share for r in REGIONS) - 1.0) < 1e-9
    for region in REGIONS:
        assert region.weather_zone in WEATHER_ZONES and region.hub in HUBS, region.name
        assert set(region.load_zones) <= set(LOAD_ZONES), region.name
        assert abs(sum(region.load_zones.values()) - 1.0) < 1e-9, region.name
        assert abs(sum(region.designs.values()) - 1.0) < 1e-9, region.name
        assert set(region.designs) <= set(DESIGNS) and set(region.shift_factors) <= set(CONSTRAINTS), region.name


_check()
