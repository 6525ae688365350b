"""The settlement points a market source lists, so a misspelt ``market.nodes`` is refused at load.

A name the source does not price is not an error anywhere downstream: the simulator gives any
name a hashed character, and the archive simply has no rows for it, so its features come out NaN
and a forecast is still published. The configuration check (:func:`pipeline.config.build_config`)
therefore compares ``market.nodes`` with the configured source's own list:

* ``synthetic``: ERCOT's hubs, hub averages and load zones plus the seed's universe of resource
  nodes (:func:`pipeline.sources.synthetic.universe.universe_names`);
* ``ercot_archive``: the points of the archive's newest real-time year (the list ``market.nodes:
  all`` means); an archive without real-time files is held to the catalogue's hubs and zones,
  the only points its files can carry;
* ``ercot_mis`` and ``ercot_api``: ERCOT lists its resource nodes only online (NP6-905-CD,
  NP4-160-SG), so offline only names shaped like a hub or load zone (``HB_*``, ``LZ_*``) can be
  checked, against :data:`pipeline.catalogue.HUBS_AND_ZONES`; resource node names pass.

This module takes plain values, not the configuration object: the configuration imports it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from pipeline.catalogue import HUBS_AND_ZONES
from pipeline.sources.ercot_archive.inventory import ArchiveFile, scan_archive
from pipeline.sources.ercot_archive.workbooks import read_rt_workbook
from pipeline.sources.synthetic.universe import universe_names

# Hub and load-zone names are shaped like this; ERCOT's live sources are checked on these only.
HUB_ZONE_PREFIXES = ("HB_", "LZ_")
SUGGESTIONS = 3


class PointListError(ValueError):
    """The source's list of settlement points cannot be read (the message names the file)."""


@dataclass(frozen=True)
class PointList:
    """The names a source lists, where the list comes from, and whether every name can be checked."""

    names: frozenset[str]
    where: str
    only_hubs_and_zones: bool = False  # ERCOT's live sources: resource nodes are not known offline

    def checks(self, name: str) -> bool:
        return not self.only_hubs_and_zones or name.startswith(HUB_ZONE_PREFIXES)


def listed_points(market: str, seed: int, archive_dir: Path | None) -> PointList:
    """The settlement points the market source ``market`` lists (see the module docstring)."""
    if market == "synthetic":
        return PointList(frozenset(HUBS_AND_ZONES) | frozenset(universe_names(seed)),
                         f"the simulator's hubs, load zones and universe of seed {seed}")
    if market == "ercot_archive" and archive_dir is not None:
        return archive_points(archive_dir)
    return PointList(frozenset(HUBS_AND_ZONES), f"ERCOT's hubs and load zones (pipeline.catalogue; the {market} "
                                                 "source lists resource nodes only online)", only_hubs_and_zones=True)


def archive_points(root: Path) -> PointList:
    """The points of the archive's newest real-time year, read from the files' node columns only."""
    files = scan_archive(root).get("rt_prices", [])
    if not files:
        return PointList(frozenset(HUBS_AND_ZONES), f"ERCOT's hubs and load zones (no real-time file under {root})")
    year = max(f.year for f in files)
    newest = [f for f in files if f.year == year]
    names: set[str] = set()
    for file in newest:
        names.update(_file_points(file))
    return PointList(frozenset(names), f"the real-time files of {year} under {root}")


def _file_points(file: ArchiveFile) -> Iterable[str]:
    try:
        if file.kind == "gridstatus_rt":
            column = next((c for c in pq.read_schema(file.path).names if c.lower() == "location"), None)
            if column is not None:
                return pq.read_table(file.path, columns=[column]).column(column).unique().to_pylist()
        frame: pd.DataFrame = read_rt_workbook(file)
        return frame["node"].unique().tolist()
    except Exception as exc:  # noqa: BLE001 - parquet, zip, xlsx and parser errors differ; re-raised naming the file
        raise PointListError(f"cannot list the settlement points of {file.path}: {type(exc).__name__}: {exc}") from exc


def unknown_points(nodes: Sequence[str], listed: PointList) -> list[str]:
    """One phrase per configured name the list does not hold, with the closest listed names."""
    problems = []
    for node in nodes:
        if node in listed.names or not listed.checks(node):
            continue
        close = difflib.get_close_matches(node, sorted(listed.names), n=SUGGESTIONS)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        problems.append(f"{node!r} is not a settlement point of {listed.where}{hint}")
    return problems


def unknown_nodes(nodes: Sequence[str], market: str, seed: int, archive_dir: Path | None) -> list[str]:
    """:func:`unknown_points` of ``nodes`` against the source's list; a list that cannot be read is one phrase."""
    try:
        listed = listed_points(market, seed, archive_dir)
    except PointListError as exc:
        return [str(exc)]
    return unknown_points(nodes, listed)
