"""ERCOT's eight weather zones as the simulator sees them: climate, wind and load character.

Responsibility: one parameter row per weather zone (names and order from
:mod:`pipeline.catalogue`), the zone weights derived from them, and the fixed-order zone sum that
keeps totals bit-identical however many days are generated at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from pipeline.catalogue import WEATHER_ZONES


@dataclass(frozen=True)
class ZoneSpec:
    """Climate, wind and load characteristics of one ERCOT weather zone (2023 scale)."""

    name: str
    mean_c: float  # annual mean temperature
    seasonal_c: float  # half the January-July difference
    diurnal_c: float  # half the typical day-night range
    cold_exposure: float  # share of a cold snap's anomaly felt here (north and west feel more)
    heat_exposure: float
    hub_wind_ms: float  # mean hub-height wind speed
    wind_share: float  # share of the installed wind fleet
    wind_diurnal: float  # >0: night low-level jet (inland); <0: afternoon sea breeze (coast)
    base_load_mw: float  # mild-weather average load
    flat_share: float  # industrial share that ignores the daily activity cycle
    cooling: float  # fractional load rise per degC above the cooling balance point
    heating: float  # fractional load rise per degC**1.2 below the heating balance point
    growth: float  # extra yearly load growth beyond the system's (Permian oil & gas, data centres)


ZONES: tuple[ZoneSpec, ...] = (
    ZoneSpec("COAST", 21.2, 8.3, 4.5, 0.65, 0.9, 5.8, 0.06, -0.10, 11_300, 0.55, 0.046, 0.013, 0.0),
    ZoneSpec("EAST", 18.9, 9.8, 5.5, 0.90, 1.0, 5.3, 0.00, 0.15, 1_200, 0.35, 0.058, 0.019, 0.0),
    ZoneSpec("FAR_WEST", 18.0, 10.3, 8.0, 0.90, 1.0, 7.1, 0.14, 0.20, 6_200, 0.80, 0.012, 0.008, 0.05),
    ZoneSpec("NORTH", 17.8, 11.5, 7.0, 1.10, 1.0, 7.1, 0.20, 0.22, 740, 0.35, 0.058, 0.020, 0.0),
    ZoneSpec("NORTH_C", 19.6, 10.8, 5.5, 1.00, 1.0, 5.8, 0.02, 0.15, 11_200, 0.32, 0.068, 0.019, 0.01),
    ZoneSpec("SOUTHERN", 22.6, 7.4, 4.5, 0.55, 0.8, 6.6, 0.17, -0.08, 3_200, 0.45, 0.050, 0.012, 0.0),
    ZoneSpec("SOUTH_C", 20.8, 9.4, 6.0, 0.80, 1.0, 5.5, 0.03, 0.15, 6_200, 0.35, 0.065, 0.018, 0.01),
    ZoneSpec("WEST", 18.3, 10.8, 6.5, 1.00, 1.0, 7.4, 0.38, 0.22, 1_150, 0.50, 0.045, 0.017, 0.0),
)
assert tuple(z.name for z in ZONES) == WEATHER_ZONES
BASE_LOAD_MW = sum(z.base_load_mw for z in ZONES)
LOAD_WEIGHTS = np.array([z.base_load_mw for z in ZONES]) / BASE_LOAD_MW
WIND_SHARES = np.array([z.wind_share for z in ZONES])
ZONE_INDEX = {z.name: i for i, z in enumerate(ZONES)}
WEST_WIND = np.array([z.name in ("WEST", "FAR_WEST", "NORTH") for z in ZONES])
COASTAL_WIND = np.array([z.name in ("SOUTHERN", "COAST") for z in ZONES])


def per_zone(values: Iterable[float]) -> np.ndarray:
    """Zone parameters as a (zones, 1) column that broadcasts against (n,) time arrays."""
    return np.array(list(values), dtype=np.float64)[:, None]


def zone_sum(rows: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """sum_z weights[z] * rows[z] over the zone axis, added zone by zone in a fixed order.

    Not ``weights @ rows``: a BLAS product may block the sum differently with the array's length
    or alignment, and the last bit of a value must never depend on how many days were generated.
    """
    total = np.zeros(rows.shape[1:])
    for z in range(rows.shape[0]):
        total = total + (rows[z] if weights is None else weights[z] * rows[z])
    return total

