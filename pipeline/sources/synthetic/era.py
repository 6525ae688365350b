"""The installed fleet and the market rules of each era of ERCOT (2018 onwards).

Responsibility: the slowly moving background every mechanism scales with -- fleet sizes, load
growth, gas price level, the price cap and the ORDC's minimum contingency level -- as functions of
time, so a simulated 2019 looks like 2019 and a simulated 2025 like 2025.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from pipeline import ercot_time
from pipeline.sources.synthetic.time_axis import US_PER_HOUR

# ERCOT changed fast: wind roughly doubled 2018-2025, solar grew more than twentyfold, batteries
# arrived from 2022, load grows ~3%/year. Values are mid-year; outside 2018-2026 the ends are held.
_ERA_YEARS = np.array([2018.5, 2019.5, 2020.5, 2021.5, 2022.5, 2023.5, 2024.5, 2025.5, 2026.5])
_ERA: dict[str, np.ndarray] = {
    "load_scale": np.array([0.875, 0.895, 0.895, 0.925, 0.965, 1.000, 1.035, 1.070, 1.100]),
    "wind_mw": np.array([22_000, 24_500, 28_500, 33_000, 36_000, 38_000, 39_500, 41_000, 42_000.0]),
    "solar_mw": np.array([1_500, 2_300, 4_000, 8_000, 13_000, 18_500, 26_000, 32_000, 37_000.0]),
    "storage_mw": np.array([100, 150, 250, 800, 2_500, 4_500, 8_500, 12_500, 15_000.0]),
    "thermal_mw": np.array([73_500, 75_200, 74_500, 75_000, 75_000, 75_700, 75_500, 76_000, 77_000.0]),
    "gas_usd_mmbtu": np.array([3.0, 2.5, 2.0, 3.9, 6.4, 2.5, 2.2, 3.4, 3.5]),
    # Price-responsive large loads (crypto mining, industrial demand response, ERS) that curtail
    # as reserves tighten.
    "flexible_load_mw": np.array([300, 500, 700, 1_500, 2_500, 3_000, 3_500, 4_000, 4_200.0]),
}
# HCAP / VOLL fell from $9,000 to $5,000 and the ORDC minimum contingency level rose from 2,000 to
# 3,000 MW on 1 January 2022 (PUCT's post-Uri changes). Since RTC+B (2025-12-05) scarcity is priced
# through ancillary-service demand curves instead of the ORDC adder; the effect on energy prices in
# shortage is similar, so the simulator keeps one scarcity curve.
_RULE_CHANGE_HOUR = float(ercot_time.day_start(dt.date(2022, 1, 1)).value // 1000) / US_PER_HOUR


def era(name: str, year: np.ndarray) -> np.ndarray:
    """Fleet or market quantity ``name`` at fractional calendar years ``year`` (interpolated)."""
    return np.interp(year, _ERA_YEARS, _ERA[name])


@dataclass(frozen=True)
class MarketRules:
    """Price cap (HCAP, also the ORDC's VOLL) and ORDC minimum contingency level at each time."""

    hcap: np.ndarray
    min_contingency_mw: np.ndarray


def market_rules(t: np.ndarray) -> MarketRules:
    """The price cap and ORDC minimum contingency level in force at UTC hours ``t``."""
    after = t >= _RULE_CHANGE_HOUR
    return MarketRules(hcap=np.where(after, 5_000.0, 9_000.0), min_contingency_mw=np.where(after, 3_000.0, 2_000.0))

