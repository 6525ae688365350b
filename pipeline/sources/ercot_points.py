"""ERCOT's settlement points: the names that have prices on a day, their types, load zones and hubs.

Two ERCOT products say it, and :meth:`Source.settlement_points` of the MIS and Public API clients
combines them (``market.nodes: all`` means every name listed):

* **NP6-905-CD** (15-minute settlement point prices) is authoritative for names and types: every
  file lists every settlement point that has a price, with its ``SettlementPointType`` -- resource
  nodes ``RN``, ``PCCRN``, ``LCCRN`` (combined-cycle physical / logical) and ``PUN``; hubs ``HU``;
  hub averages ``SH`` (HB_BUSAVG) and ``AH`` (HB_HUBAVG); load zones ``LZ`` and DC ties ``LZ_DC``.
  Each load zone and DC tie is listed twice, the second time energy-weighted (``LZEW``,
  ``LZ_DCEW``): one name, listed once here under its plain type.
* **NP4-160-SG** "Settlement Points List and Electrical Buses Mapping" (MIS reportTypeId 10008, no
  Public API report endpoint) gives load zones and hubs. Each network model (about weekly; MIS
  keeps the files ~31 days) posts one zip of CSVs, e.g.
  ``CIM_Sep_ML3_1_09302026_SP_List_and_EB_Mapping`` (no ``_csv`` / ``_xml`` twins):

  - ``Settlement_Points_<MMDDYYYY_HHMMSS>.csv``, one row per electrical bus: ``ELECTRICAL_BUS,
    NODE_NAME, PSSE_BUS_NAME, VOLTAGE_LEVEL, SUBSTATION, SETTLEMENT_LOAD_ZONE, RESOURCE_NODE,
    HUB_BUS_NAME, HUB, PSSE_BUS_NUMBER``. ``SETTLEMENT_LOAD_ZONE`` names only the four competitive
    zones (LZ_HOUSTON, LZ_NORTH, LZ_SOUTH, LZ_WEST); ``RESOURCE_NODE`` is set on a resource node's
    bus, ``HUB_BUS_NAME`` / ``HUB`` on the buses a hub averages;
  - ``NOIE_Mapping_*.csv`` (``PHYSICAL_LOAD, NOIE, VOLTAGE_NAME, SUBSTATION, ELECTRICAL_BUS``): the
    NOIE load zone (LZ_AEN, LZ_CPS, LZ_LCRA, LZ_RAYBN) of a bus;
  - ``Resource_Node_to_Unit_*.csv``, ``CCP_Resource_Names_*.csv``, ``Hub_Name_AND_DC_Ties_*.csv``
    (not needed here).

  A resource node's load zone is its bus's NOIE zone where the bus has one, else the bus's
  ``SETTLEMENT_LOAD_ZONE``; its hub is its bus's ``HUB`` (blank for most: few resource nodes sit on
  a hub bus). A name the list does not hold (logical combined-cycle nodes, a node newer than the
  model) or holds with conflicting values gets None.

Hubs and hub averages are their own hub; load zones and DC ties are their own load zone.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

import pandas as pd

from pipeline.catalogue import ENERGY_WEIGHTED_TYPES, HUB_ZONE_TYPES, NP4_160_SG, NP6_905_CD, Report
from pipeline.sources.base import SourceError
from pipeline.sources.ercot_documents import Document
from pipeline.sources.ercot_files import (
    SETTLEMENT_POINT,
    SETTLEMENT_POINT_TYPE,
    Field,
    ReportFormatError,
    conform_frame,
    parse_text,
    resolve_columns,
)
from pipeline.sources.http import open_zip, read_member
from targets.schemas import SETTLEMENT_POINTS

#: Types whose point is a hub (its own hub) and types whose point is a load zone (its own zone).
HUB_TYPES = frozenset({"HU", "SH", "AH"})
ZONE_TYPES = frozenset({"LZ", "LZ_DC"})

_POINT_TYPE = dataclasses.replace(SETTLEMENT_POINT_TYPE, required=True)
ELECTRICAL_BUS = Field("ELECTRICAL_BUS", ("Electrical Bus",))
SETTLEMENT_LOAD_ZONE = Field("SETTLEMENT_LOAD_ZONE", ("Settlement Load Zone",))
RESOURCE_NODE = Field("RESOURCE_NODE", ("Resource Node",))
HUB = Field("HUB")
NOIE = Field("NOIE")


# --- names and types: the price report ---------------------------------------------------------


def price_report_points(frame: pd.DataFrame, origin: str, report: Report = NP6_905_CD) -> pd.DataFrame:
    """Every settlement point of one NP6-905-CD table as (name, type); energy-weighted copies folded."""
    columns = resolve_columns(frame, (SETTLEMENT_POINT, _POINT_TYPE), report, origin)
    names = parse_text(frame[columns[SETTLEMENT_POINT.name]], SETTLEMENT_POINT.name, report, origin)
    types = parse_text(frame[columns[_POINT_TYPE.name]], _POINT_TYPE.name, report, origin).str.upper()
    table = pd.DataFrame({"name": names, "type": types}).drop_duplicates()
    plain = table[~table["type"].isin(ENERGY_WEIGHTED_TYPES)]
    clash = plain[plain["name"].duplicated(keep=False)]
    if not clash.empty:
        name = clash["name"].iloc[0]
        raise ReportFormatError(report, origin, f"settlement point {name!r} is listed with several types "
                                                f"{sorted(clash.loc[clash['name'] == name, 'type'])}")
    # A name listed only energy-weighted keeps that type rather than vanish.
    weighted_only = table[~table["name"].isin(plain["name"])].drop_duplicates("name")
    return pd.concat([plain, weighted_only], ignore_index=True).sort_values("name", ignore_index=True)


def newest(documents: Sequence[Document]) -> Document | None:
    """The latest posted of ``documents`` (ties: the highest DocID), or None."""
    return max(documents, key=lambda d: (d.published_at, d.doc_id), default=None)


# --- load zones and hubs: the settlement point list ----------------------------------------------


@dataclass(frozen=True)
class PointMapping:
    """What one NP4-160-SG zip says of each resource node: its load zone and its hub."""

    load_zone: dict[str, str]
    hub: dict[str, str]
    origin: str


def mapping_document(documents: Iterable[Document], end: pd.Timestamp) -> Document | None:
    """The network model in force for a day ending at ``end``: the newest posted before it.

    When every listed model is newer (the store keeps ~31 days), the oldest listed is the closest;
    settlement point zones change slowly.
    """
    listed = list(documents)
    before = [d for d in listed if d.published_at < end]
    if before:
        return newest(before)
    return min(listed, key=lambda d: (d.published_at, d.doc_id), default=None)


def read_mapping(content: bytes, origin: str, report: Report = NP4_160_SG) -> PointMapping:
    """The load zone and hub of every resource node of one NP4-160-SG zip."""
    archive = open_zip(content, where=origin)
    points, points_origin = _member(archive, "Settlement_Points", origin, report)
    columns = resolve_columns(points, (ELECTRICAL_BUS, SETTLEMENT_LOAD_ZONE, RESOURCE_NODE, HUB), report,
                              points_origin)
    nodes = points[points[columns[RESOURCE_NODE.name]] != ""]
    zones = nodes[columns[SETTLEMENT_LOAD_ZONE.name]].str.upper()
    if _has_member(archive, "NOIE_Mapping"):
        noie, noie_origin = _member(archive, "NOIE_Mapping", origin, report)
        noie_columns = resolve_columns(noie, (ELECTRICAL_BUS, NOIE), report, noie_origin)
        by_bus = noie.drop_duplicates(noie_columns[ELECTRICAL_BUS.name]).set_index(
            noie_columns[ELECTRICAL_BUS.name])[noie_columns[NOIE.name]].str.upper()
        noie_zone = nodes[columns[ELECTRICAL_BUS.name]].map(by_bus).fillna("")
        zones = noie_zone.where(noie_zone != "", zones)
    names = nodes[columns[RESOURCE_NODE.name]]
    return PointMapping(_single_values(names, zones), _single_values(names, nodes[columns[HUB.name]]), origin)


def _single_values(names: pd.Series, values: pd.Series) -> dict[str, str]:
    """name -> value where the name's rows agree on one non-blank value (conflicts are left out)."""
    pairs = pd.DataFrame({"name": names.to_numpy(), "value": values.to_numpy()})
    pairs = pairs[pairs["value"] != ""].drop_duplicates()
    single = pairs[~pairs["name"].duplicated(keep=False)]
    return dict(zip(single["name"], single["value"]))


def _has_member(archive: zipfile.ZipFile, prefix: str) -> bool:
    return bool(_members(archive, prefix))


def _members(archive: zipfile.ZipFile, prefix: str) -> list[str]:
    return [name for name in archive.namelist()
            if name.lower().endswith(".csv") and PurePosixPath(name).name.lower().startswith(prefix.lower())]


def _member(archive: zipfile.ZipFile, prefix: str, origin: str, report: Report) -> tuple[pd.DataFrame, str]:
    """The one ``<prefix>*.csv`` of the zip, every cell text with ERCOT's padding stripped."""
    members = _members(archive, prefix)
    if len(members) != 1:
        raise ReportFormatError(report, origin, f"expected one {prefix}*.csv in the zip, found {archive.namelist()}")
    where = f"{origin} {members[0]}"
    try:
        frame = pd.read_csv(io.BytesIO(read_member(archive, members[0], where=origin)), dtype=str,
                            keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise SourceError(f"{where}: unreadable CSV: {exc}") from None
    return frame.apply(lambda column: column.str.strip()), where


# --- the canonical frame -----------------------------------------------------------------------------


def settlement_point_frame(points: pd.DataFrame, mapping: PointMapping | None, origin: str,
                           report: Report = NP6_905_CD) -> pd.DataFrame:
    """(name, type) rows with their load zone and hub, as a :data:`SETTLEMENT_POINTS` frame."""
    zones, hubs = [], []
    for name, kind in zip(points["name"], points["type"]):
        if kind in HUB_TYPES:
            zones.append(None)
            hubs.append(name)
        elif kind in ZONE_TYPES:
            zones.append(name)
            hubs.append(None)
        else:
            zones.append(mapping.load_zone.get(name) if mapping else None)
            hubs.append(mapping.hub.get(name) if mapping else None)
    out = pd.DataFrame({"name": points["name"].to_numpy(), "type": points["type"].to_numpy(),
                        "load_zone": pd.Series(zones, dtype=object), "hub": pd.Series(hubs, dtype=object)})
    return conform_frame(SETTLEMENT_POINTS, out, report, origin)


def catalogue_points(names: Iterable[str], origin: str, report: Report) -> pd.DataFrame:
    """Hubs, hub averages and load zones named in a file, typed from the catalogue.

    A name the catalogue does not know has no known type: an error naming it, not a guess.
    """
    names = sorted(set(names))
    unknown = [name for name in names if name not in HUB_ZONE_TYPES]
    if unknown:
        raise ReportFormatError(report, origin, f"settlement point(s) {unknown} are not hubs or load zones of "
                                                "pipeline.catalogue, so their type is unknown")
    points = pd.DataFrame({"name": names, "type": [HUB_ZONE_TYPES[name] for name in names]})
    return settlement_point_frame(points, None, origin, report)
