"""ERCOT facts the whole pipeline shares, each declared here once.

* **Reports**: every data product the sources read, as one :class:`Report` type: its ERCOT id
  (``NP6-905-CD``), title, MIS report type id, Public API endpoint and documentation page. The MIS
  client, the Public API client, the report parsers and the archive reader all name reports from
  this table, so an error message and a request always agree on which product they mean.
* **Settlement points**: ERCOT's trading hubs, hub averages and load zones (every one is published
  in both the real-time and the day-ahead reports). Resource nodes number over a thousand and
  come from the sources themselves.
* **Weather zones**: the eight zones of ERCOT's load reports, the system total's name, and the
  spellings the reports use for them.
* **The forecast horizon**: 72 hours from 00:00 CPT of the day after the issue day.

Time conventions (hour ending, DST flags, holidays) live in :mod:`pipeline.ercot_time`, and the
publication schedule of each report in :mod:`pipeline.publication`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# --- reports -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """An ERCOT data product (or a common export of one).

    ``report_id`` is ERCOT's data-product id, used in every error message and, lower-cased, as the
    Public API's EMIL id; ``report_type_id`` is the MIS ``reportTypeId`` (None when MIS does not
    post it); ``api_endpoint`` the Public API report path (None when the API has none).
    """

    report_id: str
    title: str
    report_type_id: int | None = None
    api_endpoint: str | None = None
    # Documentation page; ERCOT's data-product page for the id when not given.
    page: str | None = None

    @property
    def emil(self) -> str:
        """The Public API's name of the product (its archive route): the id, lower-cased."""
        return self.report_id.lower()

    @property
    def url(self) -> str:
        return self.page or f"https://www.ercot.com/mp/data-products/data-product-details?id={self.report_id}"


NP6_905_CD = Report("NP6-905-CD", "Settlement Point Prices at Resource Nodes, Hubs and Load Zones (15-min)",
                    12301, "/np6-905-cd/spp_node_zone_hub")
NP6_788_CD = Report("NP6-788-CD", "LMPs by Resource Nodes, Load Zones and Trading Hubs (SCED)",
                    12300, "/np6-788-cd/lmp_node_zone_hub")
NP4_190_CD = Report("NP4-190-CD", "DAM Settlement Point Prices", 12331, "/np4-190-cd/dam_stlmnt_pnt_prices")
NP6_345_CD = Report("NP6-345-CD", "Actual System Load by Weather Zone", 13101, "/np6-345-cd/act_sys_load_by_wzn")
NP3_565_CD = Report("NP3-565-CD", "Seven-Day Load Forecast by Model and Weather Zone",
                    14837, "/np3-565-cd/lf_by_model_weather_zone")
NP4_732_CD = Report("NP4-732-CD", "Wind Power Production - Hourly Averaged Actual and Forecasted Values",
                    13028, "/np4-732-cd/wpp_hrly_avrg_actl_fcast")
NP4_737_CD = Report("NP4-737-CD", "Solar Power Production - Hourly Averaged Actual and Forecasted Values",
                    13483, "/np4-737-cd/spp_hrly_avrg_actl_fcast")
NP4_722_CD = Report("NP4-722-CD", "Temperature Forecast by Weather Zone", 12325)
NP4_188_CD = Report("NP4-188-CD", "DAM Clearing Prices for Capacity (ancillary services)", 12329,
                    "/np4-188-cd/dam_clear_price_for_cap")
NP4_160_SG = Report("NP4-160-SG", "Settlement Points List and Electrical Buses Mapping", 10008)
NP6_785_ER = Report("NP6-785-ER", "Historical RTM Load Zone and Hub Prices (annual workbook)", 13061)
NP4_180_ER = Report("NP4-180-ER", "Historical DAM Load Zone and Hub Prices (annual workbook)", 13060)
NP4_181_ER = Report("NP4-181-ER", "Historical DAM Clearing Prices for Capacity (annual)", 13091)

# Files of the archive folder that are not ERCOT report ids of their own.
GRIDSTATUS_RT = Report("NP6-785-ER (gridstatus export)",
                       "gridstatus long-format export of the annual RTM hub/load-zone prices",
                       page="https://github.com/gridstatus/gridstatus")
NATIVE_LOAD = Report("Native_Load", "ERCOT Hourly Load Data Archive", page="https://www.ercot.com/gridinfo/load/load_hist")
FUEL_MIX = Report("IntGenByFuel", "ERCOT Fuel Mix Report (15-min generation by fuel)",
                  page="https://www.ercot.com/gridinfo/generation")
METEOSTAT_HOURLY = Report("Meteostat hourly", "hourly station observations (temperature, humidity) via Meteostat",
                          page="https://dev.meteostat.net/")
PVGIS_HOURLY = Report(
    "PVGIS hourly", "EU JRC PVGIS hourly series (T2m, WS10m; UTC stamped at :30)",
    page="https://joint-research-centre.ec.europa.eu/photovoltaic-geographical-information-system-pvgis_en",
)

# --- settlement points ---------------------------------------------------------------------------

#: The four main trading hubs (the default forecast nodes; HB_HUBAVG is their mean).
MAIN_HUBS: tuple[str, ...] = ("HB_NORTH", "HB_HOUSTON", "HB_SOUTH", "HB_WEST")
#: Every trading hub (settlement point type HU).
HUBS: tuple[str, ...] = (*MAIN_HUBS, "HB_PAN")
#: The hub averages: HB_BUSAVG (type SH, all hub buses) and HB_HUBAVG (type AH, the four main hubs).
HUB_AVERAGES: tuple[str, ...] = ("HB_BUSAVG", "HB_HUBAVG")
#: The load zones (type LZ; each also published energy-weighted as LZEW).
LOAD_ZONES: tuple[str, ...] = ("LZ_AEN", "LZ_CPS", "LZ_HOUSTON", "LZ_LCRA", "LZ_NORTH", "LZ_RAYBN", "LZ_SOUTH",
                               "LZ_WEST")
#: Hubs, hub averages and load zones: the settlement points of the annual hub/load-zone files.
HUBS_AND_ZONES: tuple[str, ...] = (*HUBS, *HUB_AVERAGES, *LOAD_ZONES)
#: The system-wide price the features compare each node with.
SYSTEM_NODE = "HB_HUBAVG"
#: ERCOT's settlement point type (NP6-905-CD SettlementPointType) of each hub, hub average and load zone.
HUB_ZONE_TYPES: dict[str, str] = {**{hub: "HU" for hub in HUBS}, "HB_BUSAVG": "SH", "HB_HUBAVG": "AH",
                                  **{zone: "LZ" for zone in LOAD_ZONES}}
#: Settlement point types of the energy-weighted load-zone copies (NP6-905-CD / NP6-785-ER).
ENERGY_WEIGHTED_TYPES = frozenset({"LZEW", "LZ_DCEW"})

# --- weather zones -------------------------------------------------------------------------------

#: ERCOT's weather zones: the ``zone`` of load frames and the ``location`` of zonal weather frames.
WEATHER_ZONES: tuple[str, ...] = ("COAST", "EAST", "FAR_WEST", "NORTH", "NORTH_C", "SOUTHERN", "SOUTH_C", "WEST")
#: Zone name of the system total in load frames.
SYSTEM_ZONE = "ERCOT"
#: Weather-zone spellings across NP6-345-CD, NP3-565-CD, NP4-722-CD, the Public API and the yearly
#: Native_Load workbooks (which renamed the zones in 2017), mapped to the canonical names.
ZONE_SPELLINGS: dict[str, str] = {
    "COAST": "COAST",
    "EAST": "EAST",
    "FAR_WEST": "FAR_WEST",
    "FWEST": "FAR_WEST",
    "FarWest": "FAR_WEST",
    "NORTH": "NORTH",
    "NORTH_C": "NORTH_C",
    "NCENT": "NORTH_C",
    "NorthCentral": "NORTH_C",
    "SOUTHERN": "SOUTHERN",
    "SOUTH": "SOUTHERN",
    "SOUTH_C": "SOUTH_C",
    "SCENT": "SOUTH_C",
    "SouthCentral": "SOUTH_C",
    "WEST": "WEST",
    "TOTAL": SYSTEM_ZONE,
    "SystemTotal": SYSTEM_ZONE,
    "ERCOT": SYSTEM_ZONE,
}

#: The ``fuel`` values of renewables frames (system-wide MW).
FUELS: tuple[str, ...] = ("wind", "solar")

# --- ancillary services --------------------------------------------------------------------------

#: The ancillary services whose day-ahead clearing prices (MCPC, $/MW per hour) ERCOT publishes:
#: regulation up and down, responsive reserve, non-spinning reserve, and ERCOT Contingency Reserve
#: Service. High reserve prices in the DAM mean the market expects scarcity.
ANCILLARY_SERVICES: tuple[str, ...] = ("REGUP", "REGDN", "RRS", "NSPIN", "ECRS")
#: Services that began after the market did: their prices exist only from this delivery day on.
ANCILLARY_SERVICE_START = {"ECRS": dt.date(2023, 6, 10)}

# --- the forecast ----------------------------------------------------------------------------------

#: Days after the issue day that a forecast covers (D+1 .. D+3).
HORIZON_DAYS = 3
#: Hours a forecast covers: consecutive UTC hours from 00:00 CPT of D+1, so 72 through DST weeks too.
HORIZON_HOURS = 24 * HORIZON_DAYS
