"""Day-ahead ancillary service prices: what the market pays to hold reserves on the issue day.

ERCOT clears reserves (regulation, responsive reserve, non-spinning reserve, ECRS) together with
energy in the DAM. A MW held in reserve forgoes the energy price, so reserve prices climb when the
market expects scarcity: high prices for the issue day, or a jump against the last week, warn of
spikes. Prices of delivery day D are public with the DAM (13:30 on D-1). The group reads the
issue day's prices at the target's clock hour, their daily maximum, and the change of the daily
maximum against the previous week. A service that did not exist yet (ECRS before June 2023) or a
source without these prices leaves its columns NaN.
"""

from __future__ import annotations

import numpy as np

from pipeline.features.grid import Cube, Targets, named, nanmax, nanmean

#: The services read (REGDN, paid when there is too much energy, says little about scarcity).
SERVICES = ("REGUP", "RRS", "NSPIN", "ECRS")
#: Whose sum is the total reserve price (the services that existed throughout).
SUMMED = ("REGUP", "RRS", "NSPIN")
COLUMNS = (*(f"as_{s}_hod" for s in SERVICES), *(f"as_{s}_daymax" for s in SERVICES),
           *(f"as_{s}_vs7" for s in SUMMED), "as_sum_hod", "as_sum_daymax")


def columns() -> tuple[str, ...]:
    return COLUMNS


def compute(reserves: Cube, targets: Targets) -> dict[str, np.ndarray]:
    """``reserves``: ancillary clearing prices on the day x hour grid, one entity per service."""
    issue = targets.issue_day
    window = reserves.window("price", issue, 8, targets.known_by)  # [8, 24, services]; last row = D
    today, week = window[-1], window[:-1]
    by_service = {service: k for k, service in enumerate(reserves.entities)}
    hod, daymax, change = [], [], []
    for service in SERVICES:
        k = by_service[service]
        hod.append(targets.per_node(today[targets.hod, k]))
        daymax.append(targets.per_node(np.full(len(targets.hod), nanmax(today[:, k], 0))))
    for service in SUMMED:
        k = by_service[service]
        before = nanmean(nanmax(week[:, :, k], 1), 0)
        with np.errstate(invalid="ignore"):
            value = np.log1p(nanmax(today[:, k], 0)) - np.log1p(before)
        change.append(targets.per_node(np.full(len(targets.hod), value)))
    total = sum(today[:, by_service[s]] for s in SUMMED)  # NaN where any of them is missing
    return named(COLUMNS, *hod, *daymax, *change, targets.per_node(total[targets.hod]),
                 targets.per_node(np.full(len(targets.hod), nanmax(total, 0))))
