"""ERCOT's own price files: annual workbooks (zipped) and monthly CSV extracts of them.

NP6-785-ER (real-time, 15-minute) and NP4-180-ER (day-ahead, hourly) are published as one zip per
year holding a workbook with a sheet per month; monthly extracts are a sheet saved as CSV.
NP4-181-ER (day-ahead ancillary clearing prices) is one zip per year holding a CSV, also found
saved as that CSV. All
keep ERCOT's columns (settlement point type included), so they go through the same parsers as the
MIS reports (:mod:`pipeline.sources.ercot_files`), blamed on the annual report's id.

The current year's workbook has a sheet for every month, and the months still ahead hold only the
header row. Such a sheet is a month not published yet, exactly like a month without a sheet: it
is left out, so its days are not covered (their features are NaN) instead of failing the read.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd

from pipeline.catalogue import NP4_180_ER, NP4_181_ER, NP6_785_ER, Report
from pipeline.sources.base import SourceError
from pipeline.sources.ercot_ancillary import ancillary_to_canonical
from pipeline.sources.ercot_archive.inventory import ArchiveFile
from pipeline.sources.ercot_files import conform_frame, dam_spp_to_canonical, rt_spp_to_canonical
from targets.schema import Schema
from targets.schemas import ANCILLARY_PRICES, DAM_PRICES, RT_PRICES


def read_ercot_table(path: Path) -> pd.DataFrame:
    """A monthly CSV extract in ERCOT's layout, all cells as text (the parsers read the numbers)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def read_zip_tables(path: Path) -> list[tuple[str, pd.DataFrame]]:
    """Every table in an ERCOT zip: each sheet of each workbook, or each CSV, with a label for errors."""
    tables: list[tuple[str, pd.DataFrame]] = []
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            lower = member.lower()
            if lower.endswith((".xlsx", ".xls")):
                with archive.open(member) as handle:
                    sheets = pd.read_excel(io.BytesIO(handle.read()), sheet_name=None)
                tables.extend((f"{path.name}:{member}[{name}]", sheet) for name, sheet in sheets.items())
            elif lower.endswith(".csv"):
                with archive.open(member) as handle:
                    tables.append((f"{path.name}:{member}", pd.read_csv(handle, dtype=str, keep_default_na=False)))
    if not tables:
        raise SourceError(f"{path}: no workbook or CSV inside the zip")
    return tables


def published_sheets(tables: list[tuple[str, pd.DataFrame]], path: Path) -> list[tuple[str, pd.DataFrame]]:
    """The sheets of an annual workbook that hold rows: a sheet with only its header is a month not
    published yet. A workbook without any row is refused, naming the file (no month to read at all)."""
    published = [(label, table) for label, table in tables if not table.dropna(how="all").empty]
    if not published:
        raise SourceError(f"{path}: every sheet holds only its header (no month of the year is published yet)")
    return published


def read_rt_workbook(file: ArchiveFile) -> pd.DataFrame:
    """An NP6-785-ER file in ERCOT's layout (monthly CSV or annual zip) -> ``rt_prices``."""
    if file.kind == "rt_month":
        return rt_spp_to_canonical(read_ercot_table(file.path), file.path.name, report=NP6_785_ER)
    sheets = published_sheets(read_zip_tables(file.path), file.path)
    return _concat_conformed(
        RT_PRICES, [rt_spp_to_canonical(t, label, report=NP6_785_ER) for label, t in sheets], NP6_785_ER,
        file.path.name,
    )


def read_dam_workbook(file: ArchiveFile) -> pd.DataFrame:
    """An NP4-180-ER file (monthly CSV or annual zip) -> ``dam_prices``."""
    if file.kind == "dam_month":
        return dam_spp_to_canonical(read_ercot_table(file.path), file.path.name, report=NP4_180_ER)
    sheets = published_sheets(read_zip_tables(file.path), file.path)
    return _concat_conformed(
        DAM_PRICES, [dam_spp_to_canonical(t, label, report=NP4_180_ER) for label, t in sheets], NP4_180_ER,
        file.path.name,
    )


def read_ancillary(file: ArchiveFile) -> pd.DataFrame:
    """An NP4-181-ER file (the yearly CSV, or its zip) -> ``ancillary_prices``."""
    if file.kind == "as_csv":
        return ancillary_to_canonical(read_ercot_table(file.path), file.path.name, report=NP4_181_ER)
    return _concat_conformed(
        ANCILLARY_PRICES,
        [ancillary_to_canonical(t, label, report=NP4_181_ER) for label, t in read_zip_tables(file.path)],
        NP4_181_ER, file.path.name,
    )


def _concat_conformed(schema: Schema, frames: list[pd.DataFrame], report: Report, origin: str) -> pd.DataFrame:
    """The sheets of one file as one canonical frame (a key repeated across sheets is an error)."""
    return conform_frame(schema, pd.concat(frames, ignore_index=True), report, origin)
