"""The gridstatus export of ERCOT's annual real-time hub/load-zone prices (``ercot_rtm_YYYY.parquet``).

gridstatus republishes NP6-785-ER in long format without the settlement point type, so each load
zone's LZ and LZEW (energy-weighted) prices arrive as two indistinguishable rows per interval. How
that is resolved, and how far off the answer can be, is in :func:`read_gridstatus_rt_noted`; where
ERCOT's own layout of a day is in the folder, the archive prefers it (exact LZ prices).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from pipeline import ercot_time
from pipeline.catalogue import GRIDSTATUS_RT
from pipeline.sources.ercot_files import (
    Field,
    ReportFormatError,
    conform_frame,
    parse_numbers,
    parse_text,
    resolve_columns,
    schedule_published_at,
)
from targets.schemas import RT_PRICES

_GS_START = Field("Interval Start", ("interval_start",))
_GS_LOCATION = Field("Location", ("location",))
_GS_PRICE = Field("SPP", ("LMP", "Price"))


def read_gridstatus_rt(path: Path) -> pd.DataFrame:
    """A gridstatus ``ercot_rtm_YYYY.parquet`` export -> ``rt_prices``; see :func:`read_gridstatus_rt_noted`."""
    return read_gridstatus_rt_noted(path)[0]


def read_gridstatus_rt_noted(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """A gridstatus ``ercot_rtm_YYYY.parquet`` export -> (``rt_prices`` 15-min, all points; notes).

    Hubs have one row per interval. Every ``LZ_*`` point has two: ERCOT's LZ and LZEW
    (energy-weighted) prices, with the settlement point type dropped by the export. Comparing the
    export with ERCOT's own February files (``RTM-2020-02.csv``, ``RTM-2021-02.csv``, which keep
    the type) shows the two copies are always exactly {LZ, LZEW}, but in no recoverable order:
    where they differ, the first copy is the LZ price in 1,908 of 3,902 intervals (Feb 2020) and
    3,924 of 7,970 (Feb 2021), and the row position within an interval carries no signal either.
    So the export cannot give the LZ price exactly.

    Rule: a load zone's price is the midpoint of its two copies. It equals the LZ price wherever
    LZ == LZEW (68-85% of intervals, by year) and is within half their spread elsewhere: the 99th
    percentile spread is $0.08-0.47 and the largest $9.29 (2020), $114.54 (2021-02-16, Winter
    Storm Uri), $8.81 (2022), $34.01 (2023). Hubs are exact. Where ERCOT's own layout is in the
    folder for a day, the archive uses that instead (exact LZ, ``rt_spp_to_canonical``'s rule).
    """
    origin = path.name
    header = pd.DataFrame(columns=pq.read_schema(path).names)
    columns = resolve_columns(header, (_GS_START, _GS_LOCATION, _GS_PRICE), GRIDSTATUS_RT, origin)
    raw = pd.read_parquet(path, columns=list(columns.values()))
    starts = raw[columns[_GS_START.name]]
    if not isinstance(starts.dtype, pd.DatetimeTZDtype):
        # Without an offset the repeated fall-back hour cannot be told apart.
        raise ReportFormatError(GRIDSTATUS_RT, origin, f"column {columns[_GS_START.name]!r} is not timezone-aware")
    long = pd.DataFrame({
        "interval_start": starts.dt.tz_convert("UTC").dt.as_unit(ercot_time.TS_UNIT),
        "node": parse_text(raw[columns[_GS_LOCATION.name]], columns[_GS_LOCATION.name], GRIDSTATUS_RT, origin),
        "price": parse_numbers(raw[columns[_GS_PRICE.name]], columns[_GS_PRICE.name], GRIDSTATUS_RT, origin),
    })
    grouped = long.groupby(["interval_start", "node"], sort=True, observed=True)["price"].agg(
        ["mean", "size", "min", "max"])
    _check_gridstatus_copies(grouped["size"], origin)
    out = pd.DataFrame({
        "interval_start": grouped.index.get_level_values("interval_start"),
        "node": grouped.index.get_level_values("node").astype(str),
        "price": grouped["mean"].to_numpy(),
        "interval_minutes": 15,
    })
    out["published_at"] = schedule_published_at("rt_prices", out["interval_start"], 15)
    return conform_frame(RT_PRICES, out, GRIDSTATUS_RT, origin), [_lz_spread_note(grouped, origin)]


def _lz_spread_note(grouped: pd.DataFrame, origin: str) -> str:
    """How far apart the two load-zone copies are (the midpoint rule's worst case is half of it)."""
    zones = grouped[grouped["size"] == 2]
    spread = zones["max"] - zones["min"]
    return (f"{origin}: load-zone prices are the midpoint of the indistinguishable LZ/LZEW copies; the copies "
            f"differ in {int((spread > 0).sum()):,} of {len(spread):,} zone-intervals, by at most ${spread.max():.2f}")


def _check_gridstatus_copies(copies: pd.Series, origin: str) -> None:
    """Hubs must appear once per interval and load zones exactly twice (LZ + LZEW)."""
    nodes = copies.index.get_level_values("node").astype(str)
    expected = np.where(pd.Index(nodes).str.startswith("LZ_"), 2, 1)
    wrong = copies.to_numpy() != expected
    if wrong.any():
        where = copies.index[np.flatnonzero(wrong)[0]]
        raise ReportFormatError(
            GRIDSTATUS_RT, origin, f"{int(wrong.sum())} (interval, point) pairs have an unexpected number of rows, "
            f"e.g. {where[1]} at {where[0]}: {int(copies.iloc[np.flatnonzero(wrong)[0]])}"
        )
