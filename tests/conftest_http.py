"""Fixtures for the HTTP clients' tests: a local server, a fake clock, instant sleeps.

Imported by the test modules that need them (``from tests.conftest_http import *``); the shared
``tests/conftest.py`` stays free of HTTP concerns. The builders of the reports added after
``tests/http_server.py`` filled up live here too (imported by name):

* NP4-188-CD, DAM clearing prices for capacity: the MIS CSV
  (``DeliveryDate,HourEnding,AncillaryType,MCPC,DSTFlag``, e.g. ``08/05/2025,01:00,ECRS,0.07,N``;
  posted once a day as ``DAMCPCNP4188``) and the Public API rows of
  ``/np4-188-cd/dam_clear_price_for_cap`` (``deliveryDate, hourEnding, ancillaryType, MCPC,
  DSTFlag``; ISO dates, ``hourEnding`` unpadded as ``"1:00"``, the flag a JSON boolean);
* NP6-905-CD files holding settlement points of every type;
* NP4-160-SG, the settlement point list: one zip per network model (listed once, no CSV / XML
  twins, e.g. ``CIM_Sep_ML3_1_09302026_SP_List_and_EB_Mapping``) holding
  ``SP_List_EB_Mapping/Settlement_Points_<stamp>.csv``, ``NOIE_Mapping_<stamp>.csv``,
  ``Hub_Name_AND_DC_Ties_<stamp>.csv`` ... (:class:`FakeMisWithZips` lists it as MIS does).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pandas as pd
import pytest

from pipeline.config import ErcotApiConfig, ErcotMisConfig, OpenMeteoConfig
from tests.http_server import FakeMis, LocalHour, LocalServer, MisDocument, flag, local_hours, mdy, zip_of

__all__ = ["FakeClock", "api_config", "clock", "http_server", "mis_config", "open_meteo_config", "rng"]

# Tiny timeouts and no real backoff keep every failure-mode test well under a second.
FAST = {"connect_timeout_seconds": 1.0, "read_timeout_seconds": 0.2, "max_retries": 2, "backoff_seconds": 0.5}


class FakeClock:
    """A monotonic clock that only moves when told to -- or when something "sleeps" on it."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    server = LocalServer()
    yield server
    server.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def rng() -> random.Random:
    return random.Random(1234)


@pytest.fixture
def mis_config(http_server: LocalServer) -> ErcotMisConfig:
    return ErcotMisConfig(base_url=http_server.url, **FAST)


@pytest.fixture
def api_config(http_server: LocalServer) -> ErcotApiConfig:
    return ErcotApiConfig(
        base_url=f"{http_server.url}/api/public-reports",
        token_url=f"{http_server.url}/ercotb2c.onmicrosoft.com/B2C_1_PUBAPI-ROPC-FLOW/oauth2/v2.0/token",
        page_size=10,
        **FAST,
    )


@pytest.fixture
def open_meteo_config(http_server: LocalServer) -> OpenMeteoConfig:
    return OpenMeteoConfig(
        forecast_url=f"{http_server.url}/v1/forecast",
        archive_url=f"{http_server.url}/v1/archive",
        previous_runs_url=f"{http_server.url}/previous/v1/forecast",
        **FAST,
    )


# --- NP4-188-CD: DAM clearing prices for capacity ---------------------------------------------------

ANCILLARY_FIELDS = ["deliveryDate", "hourEnding", "ancillaryType", "MCPC", "DSTFlag"]
Mcpc = Callable[[str, LocalHour], Any]


def ancillary_csv(day: dt.date, mcpc: Mcpc, services: Sequence[str]) -> str:
    """NP4-188-CD as MIS posts it: one row per hour and service of a delivery day."""
    lines = ["DeliveryDate,HourEnding,AncillaryType,MCPC,DSTFlag"]
    lines += [f"{mdy(day)},{hour.hour_ending:02d}:00,{service},{mcpc(service, hour)},{flag(hour.repeated)}"
              for hour in local_hours(day) for service in services]
    return "\n".join(lines) + "\n"


def ancillary_rows(day: dt.date, mcpc: Mcpc, services: Sequence[str]) -> list[list[Any]]:
    """NP4-188-CD as the Public API's report endpoint returns it (rows in ``ANCILLARY_FIELDS`` order)."""
    return [[day.isoformat(), f"{hour.hour_ending}:00", service, mcpc(service, hour), hour.repeated]
            for hour in local_hours(day) for service in services]


# --- NP6-905-CD with typed points, NP4-160-SG ---------------------------------------------------------


def typed_spp_csv(day: dt.date, hour: int, interval: int, points: Sequence[tuple[str, str, float]]) -> str:
    """One NP6-905-CD interval file listing (name, SettlementPointType, price) rows."""
    lines = ["DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,"
             "SettlementPointPrice,DSTFlag"]
    lines += [f"{mdy(day)},{hour},{interval},{name},{kind},{price},N" for name, kind, price in points]
    return "\n".join(lines) + "\n"


SETTLEMENT_POINTS_HEADER = ("ELECTRICAL_BUS,NODE_NAME,PSSE_BUS_NAME,VOLTAGE_LEVEL,SUBSTATION,SETTLEMENT_LOAD_ZONE,"
                            "RESOURCE_NODE,HUB_BUS_NAME,HUB,PSSE_BUS_NUMBER")


def settlement_points_zip(buses: Sequence[tuple[str, str, str, str]], noie: Sequence[tuple[str, str]] = (),
                          stamp: str = "06112026_122819") -> bytes:
    """An NP4-160-SG zip. ``buses``: (ELECTRICAL_BUS, SETTLEMENT_LOAD_ZONE, RESOURCE_NODE, HUB) rows, the
    other columns filled as ERCOT does; ``noie``: (ELECTRICAL_BUS, NOIE load zone) rows."""
    points = [SETTLEMENT_POINTS_HEADER]
    points += [f"{bus},{bus[:4]},{bus}_PSSE,138,SUB{i},{zone},{node},{'HUBBUS' if hub else ''},{hub},{7000 + i}"
               for i, (bus, zone, node, hub) in enumerate(buses)]
    noie_rows = ["PHYSICAL_LOAD,NOIE,VOLTAGE_NAME,SUBSTATION,ELECTRICAL_BUS"]
    noie_rows += [f"LD_{i},{zone},138,NSUB{i},{bus}" for i, (bus, zone) in enumerate(noie)]
    folder = "SP_List_EB_Mapping"
    return zip_of({
        f"{folder}/Settlement_Points_{stamp}.csv": "\n".join(points) + "\n",
        f"{folder}/NOIE_Mapping_{stamp}.csv": "\n".join(noie_rows) + "\n",
        f"{folder}/Hub_Name_AND_DC_Ties_{stamp}.csv": "NAME\nDC_E\nHB_BUSAVG\nHB_HUBAVG\nHB_NORTH\n",
        f"{folder}/Resource_Node_to_Unit_{stamp}.csv": "RESOURCE_NODE,UNIT_SUBSTATION,UNIT_NAME\n",
        f"{folder}/CCP_Resource_Names_{stamp}.csv": "CCP_NAME,LOGICALREOURCENODENAME\n",
    })


class FakeMisWithZips(FakeMis):
    """MIS, plus reports listed once per publication (a zip of several CSVs, no ``_csv`` / ``_xml`` twins)."""

    def __init__(self, server: LocalServer) -> None:
        super().__init__(server)
        self.single: set[str] = set()

    def publish_zip(self, report_type_id: int, friendly_name: str, published: pd.Timestamp,
                    payload: bytes) -> MisDocument:
        document = self.publish(report_type_id, friendly_name, published, "", payload=payload)
        self.single.add(document.doc_id)
        return document

    def listing_json(self, report_type_id: int) -> dict[str, Any]:
        payload = super().listing_json(report_type_id)
        entries = []
        for entry in payload["ListDocsByRptTypeRes"]["DocumentList"]:
            fields = entry["Document"]
            if str(int(fields["DocID"]) - 50_000_000) in self.single:
                continue  # the XML twin FakeMis invents: such reports have none
            if fields["DocID"] in self.single:
                name = fields["FriendlyName"].removesuffix("_csv")
                stamp = pd.Timestamp(fields["PublishDate"]).strftime("%Y%m%d.%H%M%S000")
                constructed = f"RPT.{report_type_id:08d}.0000000000000000.{stamp}.{name}.zip"
                fields.update(FriendlyName=name, ConstructedName=constructed)
            entries.append(entry)
        return {"ListDocsByRptTypeRes": {"DocumentList": entries}}
