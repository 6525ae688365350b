"""A current-year DAM workbook (NP4-180-ER) whose later month sheets hold only a header.

ERCOT's yearly workbook has a sheet per month from January; the months ahead are there but empty.
Such a month is "not published yet", like a month without a sheet: its days are not covered and
their DAM features are NaN, instead of a failed read that stops a backtest before it starts.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from pipeline.sources.base import DataUnavailable, SourceError
from pipeline.sources.ercot_archive import ErcotArchive
from tests.conftest import small_config
from tests.test_e2e import run_luigi

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
COLUMNS = ["Delivery Date", "Hour Ending", "Repeated Hour Flag", "Settlement Point", "Settlement Point Price"]


def dam_rows(days: list[dt.date], nodes: tuple[str, ...] = ("HB_NORTH", "HB_WEST")) -> pd.DataFrame:
    return pd.DataFrame([[f"{day:%m/%d/%Y}", f"{hour:02d}:00", "N", node, 20.0 + hour]
                         for day in days for hour in range(1, 25) for node in nodes], columns=COLUMNS)


def write_dam_workbook(folder: Path, year: int, sheets: dict[str, pd.DataFrame]) -> Path:
    """ERCOT's distribution form: a zip holding the year's workbook, one sheet per month."""
    workbook = io.BytesIO()
    with pd.ExcelWriter(workbook, engine="openpyxl") as writer:
        for name in MONTHS:
            sheets.get(name, pd.DataFrame(columns=COLUMNS)).to_excel(writer, sheet_name=name, index=False)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"NP4-180-ER_DAMLZHBSPP_{year}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"rpt.00013060.0000000000000000.DAMLZHBSPP_{year}.xlsx", workbook.getvalue())
    return path


def test_month_sheets_holding_only_a_header_are_months_not_published_yet(tmp_path: Path) -> None:
    published = {name: dam_rows([dt.date(2025, month, 1), dt.date(2025, month, 2)])
                 for month, name in enumerate(MONTHS[:5], start=1)}
    write_dam_workbook(tmp_path / "dam_spp_hub_lz", 2025, published)
    archive = ErcotArchive(tmp_path)

    may, june = dt.date(2025, 5, 2), dt.date(2025, 6, 1)
    assert archive.covers("dam_prices", may)
    assert not archive.covers("dam_prices", june), "an empty sheet is a month not published yet"
    frame = archive.fetch("dam_prices", may)
    assert len(frame) == 24 * 2 and set(frame["node"]) == {"HB_NORTH", "HB_WEST"}
    with pytest.raises(DataUnavailable, match="dam_prices for 2025-06-01 is unavailable"):
        archive.fetch("dam_prices", june)
    notes = archive.quality("dam_prices", 2025).notes
    assert any("not in them" in note for note in notes), notes


def test_a_workbook_without_any_published_month_is_one_line_naming_it(tmp_path: Path) -> None:
    path = write_dam_workbook(tmp_path / "dam_spp_hub_lz", 2026, {})
    with pytest.raises(SourceError) as error:
        ErcotArchive(tmp_path).fetch("dam_prices", dt.date(2026, 1, 2))
    assert str(path) in str(error.value) and "no month of the year is published yet" in str(error.value)


@pytest.mark.realdata
@pytest.mark.e2e
def test_a_backtest_past_the_last_published_dam_month_runs(shared_data: Path, tmp_path: Path) -> None:
    """The probe as written: the real archive, with the 2023 DAM workbook's sheets from September on
    holding only their header; a Backtest across the end of August runs and scores every day."""
    archive = tmp_path / "archive"
    archive.mkdir()
    for folder in (shared_data / "ercot").iterdir():
        if folder.name != "dam_spp_hub_lz":
            (archive / folder.name).symlink_to(folder)
    real = shared_data / "ercot" / "dam_spp_hub_lz" / "NP4-180-ER_DAMLZHBSPP_2023.zip"
    with zipfile.ZipFile(real) as zipped:
        [member] = zipped.namelist()
        sheets = pd.read_excel(io.BytesIO(zipped.read(member)), sheet_name=None, dtype=str)
    hubs = ("HB_NORTH",)
    kept = {name: table[table["Settlement Point"].isin(hubs)] for name, table in sheets.items() if name in MONTHS[:8]}
    write_dam_workbook(archive / "dam_spp_hub_lz", 2023, kept)
    config = tmp_path / "partial-dam.yaml"
    config.write_text(small_config(hubs).replace("thresholds: [100, 1000]", "thresholds: [100]")
                      + f"sources:\n  market: ercot_archive\n  archive_dir: {archive}\n  weather: none\n")
    root = tmp_path / "data"

    result = run_luigi(["Backtest", "--start", "2023-08-30", "--end", "2023-09-02"], config, root, timeout=900)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "refusing to write an empty frame" not in result.stderr
    predictions = pd.read_parquet(root / "backtests" / "2023-08-30_2023-09-02" / "predictions.parquet")
    assert sorted(set(pd.to_datetime(predictions["forecast_date"]).dt.date)) == list(
        pd.date_range("2023-08-30", "2023-09-02").date)
