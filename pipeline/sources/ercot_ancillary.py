"""DAM ancillary service clearing prices (MCPC) -> the canonical ``ancillary_prices`` frame.

ERCOT publishes them in two layouts, both hourly and hour-ending:

* NP4-188-CD, daily (MIS CSV, Public API): long, one row per service --
  ``DeliveryDate, HourEnding, AncillaryType, MCPC, DSTFlag``;
* NP4-181-ER, yearly (CSV in a zip, or saved as CSV): wide, one column per service --
  ``Delivery Date, Hour Ending, Repeated Hour Flag, REGDN, REGUP , RRS, NSPIN[, ECRS]`` (note the
  trailing space ERCOT leaves in ``REGUP ``; ECRS appears in mid-2023, with blank cells before).

A blank price of a service that did not exist yet is no row, not a zero; a blank where the service
existed is an error naming the row. ``published_at`` is the DAM clearing time (13:30 CPT the day
before delivery) unless the file's posting time is known.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pipeline.catalogue import ANCILLARY_SERVICE_START, ANCILLARY_SERVICES, NP4_188_CD, Report
from pipeline import ercot_time
from pipeline.sources.ercot_files import (
    DELIVERY_DATE,
    HOUR_ENDING,
    REPEATED_FLAG,
    Field,
    ReportFormatError,
    conform_frame,
    flag_column,
    header_key,
    labels_to_utc,
    parse_numbers,
    parse_text,
    published,
    resolve_columns,
)
from targets.schemas import ANCILLARY_PRICES

ANCILLARY_TYPE = Field("AncillaryType", ("Ancillary Type", "ancillaryType"))
MCPC = Field("MCPC", ("mcpc",))


def ancillary_to_canonical(frame: pd.DataFrame, origin: str, published_at: pd.Timestamp | None = None,
                           report: Report = NP4_188_CD) -> pd.DataFrame:
    """An ERCOT table of DAM clearing prices for capacity (either layout) -> ``ancillary_prices``."""
    keys = {header_key(column) for column in frame.columns}
    if ANCILLARY_TYPE.keys & keys:
        long = _long_rows(frame, report, origin)
    else:
        long = _wide_to_long(frame, report, origin)
    known = long["service"].isin(ANCILLARY_SERVICES).to_numpy()
    if not known.all():
        unknown = sorted(set(long.loc[~known, "service"]))
        raise ReportFormatError(report, origin, f"unknown ancillary service(s) {unknown}")
    starts = labels_to_utc(ercot_time.hour_ending_to_utc, [long["date"], long["hour"], long["flag"]], report, origin)
    out = pd.DataFrame({
        "interval_start": starts,
        "service": long["service"].to_numpy(),
        "price": long["price"].to_numpy(),
        "published_at": published("ancillary_prices", starts, 60, published_at, report, origin),
    })
    return conform_frame(ANCILLARY_PRICES, out, report, origin)


def services_on(day: dt.date) -> tuple[str, ...]:
    """The services whose clearing prices exist for delivery day ``day`` (ECRS only from its launch)."""
    return tuple(s for s in ANCILLARY_SERVICES if ANCILLARY_SERVICE_START.get(s, day) <= day)


def _long_rows(frame: pd.DataFrame, report: Report, origin: str) -> pd.DataFrame:
    columns = resolve_columns(frame, (DELIVERY_DATE, HOUR_ENDING, REPEATED_FLAG, ANCILLARY_TYPE, MCPC), report, origin)
    price = columns[MCPC.name]
    return pd.DataFrame({
        "date": frame[columns[DELIVERY_DATE.name]].to_numpy(),
        "hour": frame[columns[HOUR_ENDING.name]].to_numpy(),
        "flag": flag_column(frame, columns).to_numpy(),
        "service": parse_text(frame[columns[ANCILLARY_TYPE.name]], ANCILLARY_TYPE.name, report, origin).str.upper(),
        "price": parse_numbers(frame[price], price, report, origin),
    })


def _wide_to_long(frame: pd.DataFrame, report: Report, origin: str) -> pd.DataFrame:
    """One row per (hour, service) of the yearly layout; blank cells of a service not yet launched dropped."""
    columns = resolve_columns(frame, (DELIVERY_DATE, HOUR_ENDING, REPEATED_FLAG), report, origin)
    by_key = {header_key(column): column for column in frame.columns}
    services = [s for s in ANCILLARY_SERVICES if header_key(s) in by_key]
    if not services:
        raise ReportFormatError(report, origin, f"no ancillary service column (expected some of {ANCILLARY_SERVICES})")
    dates = frame[columns[DELIVERY_DATE.name]]
    parts = []
    for service in services:
        column = by_key[header_key(service)]
        prices = parse_numbers(frame[column], column, report, origin, allow_missing=True)
        blank = np.isnan(prices)
        if blank.any():
            _check_blanks(service, dates[blank], column, report, origin)
        keep = ~blank
        parts.append(pd.DataFrame({
            "date": dates.to_numpy()[keep],
            "hour": frame[columns[HOUR_ENDING.name]].to_numpy()[keep],
            "flag": flag_column(frame, columns).to_numpy()[keep],
            "service": service,
            "price": prices[keep],
        }))
    return pd.concat(parts, ignore_index=True)


def _check_blanks(service: str, dates: pd.Series, column: str, report: Report, origin: str) -> None:
    """Blank prices are allowed only before the service began."""
    start = ANCILLARY_SERVICE_START.get(service)
    days = pd.Series([ercot_time.to_date(d) for d in dates], dtype=object)
    late = days[days >= start] if start is not None else days
    if len(late):
        raise ReportFormatError(report, origin, f"column {column!r} is blank on {late.iloc[0]} "
                                                f"({len(late)} blank hour(s) while the service existed)")
