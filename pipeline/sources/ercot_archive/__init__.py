"""ERCOT files a user downloaded (and gridstatus exports of them), served as canonical sources.

Package map:

* :mod:`.source` -- :class:`ErcotArchive`, the market source: which file wins for a day, the
  per-year cache, the datasets it serves.
* :mod:`.inventory` -- the folder layout and :func:`scan_archive`; :class:`ArchiveFile`; a parsed
  dataset-year (:class:`YearTable`) and its quality findings (:class:`DataGap`, :func:`find_gaps`,
  series absent for a whole year).
* :mod:`.gridstatus` -- the gridstatus RT export and its LZ/LZEW midpoint rule.
* :mod:`.workbooks` -- ERCOT's own annual workbooks (zipped) and monthly CSV extracts (RT and DAM).
* :mod:`.native_load` -- the hourly load workbooks and their two hour-label styles.
* :mod:`.fuel_mix` -- the 15-minute fuel-mix workbooks -> hourly wind and solar.
* :mod:`.weather` -- PVGIS hourly files and :class:`ArchivedWeather`, the weather source.

Report ids, settlement points and weather zones come from :mod:`pipeline.catalogue`; the table
parsers shared with the MIS and API clients from :mod:`pipeline.sources.ercot_files`.
"""

from pipeline.sources.ercot_archive.fuel_mix import (
    fuel_mix_month_sheets,
    fuel_mix_sheet_intervals,
    quarter_hours_to_hourly_mw,
    read_fuel_mix,
)
from pipeline.sources.ercot_archive.gridstatus import read_gridstatus_rt, read_gridstatus_rt_noted
from pipeline.sources.ercot_archive.inventory import (
    EXPECTED_SERIES,
    ArchiveFile,
    DataGap,
    YearQuality,
    YearTable,
    find_gaps,
    scan_archive,
)
from pipeline.sources.ercot_archive.native_load import native_load_labels, read_native_load
from pipeline.sources.ercot_archive.source import ErcotArchive
from pipeline.sources.ercot_archive.weather import ArchivedWeather, read_pvgis_hourly
from pipeline.sources.ercot_archive.workbooks import (
    read_dam_workbook,
    read_ercot_table,
    read_rt_workbook,
    read_zip_tables,
)

__all__ = [
    "EXPECTED_SERIES",
    "ArchiveFile",
    "ArchivedWeather",
    "DataGap",
    "ErcotArchive",
    "YearQuality",
    "YearTable",
    "find_gaps",
    "fuel_mix_month_sheets",
    "fuel_mix_sheet_intervals",
    "native_load_labels",
    "quarter_hours_to_hourly_mw",
    "read_dam_workbook",
    "read_ercot_table",
    "read_fuel_mix",
    "read_gridstatus_rt",
    "read_gridstatus_rt_noted",
    "read_native_load",
    "read_pvgis_hourly",
    "read_rt_workbook",
    "read_zip_tables",
    "scan_archive",
]
