"""End to end through the ``luigi`` command line: exit codes, the contract file, config errors.

The archive tests run the real ERCOT files in ../shared/data (skipped when absent).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from targets.schemas import FORECAST

from tests.conftest import REPO, SMALL_CONFIG

LUIGI = str(Path(sys.executable).with_name("luigi"))
RETCODE_TASK_FAILED = 30

pytestmark = pytest.mark.e2e


def run_luigi(args: list[str], config: Path | None, data_root: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTLMP_") or k.startswith("RTLMP_ARTIFACT_KEY")}
    env.update({"RTLMP_DATA_ROOT": str(data_root), "LUIGI_CONFIG_PATH": str(REPO / "luigi.cfg")})
    if config is not None:
        env["RTLMP_CONFIG"] = str(config)
    return subprocess.run([LUIGI, "--module", "pipeline", *args, "--local-scheduler"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture
def small_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_CONFIG)
    return path


def test_daily_inference_on_a_spring_forward_week(small_yaml: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    first = run_luigi(["DailyInference", "--date", "2024-03-09"], small_yaml, root)
    assert first.returncode == 0, first.stderr[-3000:]
    forecast = pd.read_parquet(root / "forecasts" / "2024-03-09" / "forecast.parquet")
    assert list(forecast.columns) == list(FORECAST.columns)
    assert len(forecast) == 72 * 2 * 2
    assert forecast["probability"].between(0, 1).all()
    assert sorted(forecast["horizon_h"].unique()) == list(range(1, 73))
    hours = sorted(forecast["interval_start"].unique())
    assert len(hours) == 72 and hours[0] == pd.Timestamp("2024-03-10 06:00", tz="UTC")
    assert (pd.Series(hours).diff().dropna() == pd.Timedelta(hours=1)).all()

    started = time.monotonic()
    again = run_luigi(["DailyInference", "--date", "2024-03-09"], small_yaml, root)
    assert again.returncode == 0
    assert "complete ones were encountered" in again.stderr and "ran successfully" not in again.stderr
    assert time.monotonic() - started < 30  # generous: the figure that matters is in the benchmark


@pytest.mark.parametrize(("text", "key"), [("market:\n  colour: red\n", "market.colour"),
                                           ("sources:\n  market: nyiso\n", "sources.market")])
def test_bad_configuration_exits_nonzero_and_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    result = run_luigi(["DailyInference", "--date", "2024-03-09"], config, tmp_path / "data")
    assert result.returncode != 0
    assert key in result.stderr and "bad.yaml" in result.stderr


def test_a_failing_task_gives_a_nonzero_exit_code(tmp_path: Path) -> None:
    empty_archive = tmp_path / "empty-archive"
    empty_archive.mkdir()
    config = tmp_path / "archive.yaml"
    config.write_text(f"sources:\n  market: ercot_archive\n  archive_dir: {empty_archive}\n")
    result = run_luigi(["DailyInference", "--date", "2024-03-09"], config, tmp_path / "data")
    assert result.returncode == RETCODE_TASK_FAILED, result.stderr[-2000:]
    assert not (tmp_path / "data" / "forecasts" / "2024-03-09" / "forecast.parquet").exists()


# --- real ERCOT files -------------------------------------------------------------------------------

ARCHIVE_CONFIG = """
market:
  nodes: [HB_NORTH, HB_HOUSTON]
  thresholds: [100]
sources:
  market: ercot_archive
  archive_dir: {archive}
model:
  history_days: 120
  validation_days: 21
"""


@pytest.fixture
def archive_yaml(shared_data: Path, tmp_path: Path) -> Path:
    path = tmp_path / "archive.yaml"
    path.write_text(ARCHIVE_CONFIG.format(archive=shared_data / "ercot"))
    return path


def realised_spikes(archive: Path, nodes: list[str], threshold: float) -> pd.Series:
    """Spike indicators recomputed straight from the gridstatus export (hubs appear once per interval)."""
    raw = pd.read_parquet(archive / "rtm_spp_hub_lz" / "ercot_rtm_2023.parquet",
                          columns=["Interval Start", "Location", "SPP"])
    raw = raw[raw["Location"].isin(nodes)]
    hour = raw["Interval Start"].dt.tz_convert("UTC").dt.floor("h")
    highest = raw.groupby([raw["Location"], hour])["SPP"].max()
    highest.index.names = ["node", "interval_start"]
    return (highest > threshold).astype(int)


@pytest.mark.realdata
def test_archive_backtest_outcomes_match_the_raw_files(archive_yaml: Path, shared_data: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    result = run_luigi(["Backtest", "--start", "2023-06-01", "--end", "2023-06-14"], archive_yaml, root, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    predictions = pd.read_parquet(root / "backtests" / "2023-06-01_2023-06-14" / "predictions.parquet")
    assert len(predictions) == 14 * 72 * 2
    expected = realised_spikes(shared_data / "ercot", ["HB_NORTH", "HB_HOUSTON"], 100.0)
    keys = pd.MultiIndex.from_frame(predictions[["node", "interval_start"]])
    assert (predictions["outcome"].to_numpy() == expected.reindex(keys).to_numpy()).all()
    assert predictions["outcome"].sum() > 0


@pytest.mark.realdata
def test_archive_forecast_across_the_fall_back_day(archive_yaml: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    result = run_luigi(["DailyInference", "--date", "2021-11-06"], archive_yaml, root)
    assert result.returncode == 0, result.stderr[-3000:]
    forecast = pd.read_parquet(root / "forecasts" / "2021-11-06" / "forecast.parquet")
    for _, rows in forecast.groupby(["node", "threshold"]):
        assert len(rows) == 72 and rows["interval_start"].is_unique
        assert (rows["interval_start"].diff().dropna() == pd.Timedelta(hours=1)).all()
    assert forecast["interval_start"].min() == pd.Timestamp("2021-11-07 05:00", tz="UTC")


PARTIAL_YEAR_CONFIG = """
market:
  nodes: [HB_NORTH]
  thresholds: [100]
sources:
  market: ercot_archive
  archive_dir: {archive}
  weather: none
model:
  history_days: 30
  validation_days: 8
  max_iter: 30
"""
LAST_LOAD_LABEL = "08/31/2023 24:00"  # hour ending 24 of 31 August: the truncated workbook's last row


@pytest.fixture
def partial_year_archive(shared_data: Path, tmp_path: Path) -> Path:
    """The real archive, with ``Native_Load_2023.xlsx`` cut after 31 August as the current year's file is."""
    archive = tmp_path / "archive"
    archive.mkdir()
    for folder in (shared_data / "ercot").iterdir():
        if folder.name != "load":
            (archive / folder.name).symlink_to(folder)
    (archive / "load").mkdir()
    (archive / "load" / "Native_Load_2022.xlsx").symlink_to(shared_data / "ercot" / "load" / "Native_Load_2022.xlsx")
    sheet = pd.read_excel(shared_data / "ercot" / "load" / "Native_Load_2023.xlsx", sheet_name=0)
    [last] = sheet.index[sheet["Hour Ending"] == LAST_LOAD_LABEL]
    sheet.loc[:last].to_excel(archive / "load" / "Native_Load_2023.xlsx", index=False)
    return archive


@pytest.mark.realdata
def test_a_backtest_past_the_end_of_a_partial_year_file_finishes(partial_year_archive: Path, tmp_path: Path) -> None:
    config = tmp_path / "partial.yaml"
    config.write_text(PARTIAL_YEAR_CONFIG.format(archive=partial_year_archive))
    root = tmp_path / "data"

    result = run_luigi(["Backtest", "--start", "2023-08-30", "--end", "2023-09-04"], config, root, timeout=900)

    assert result.returncode == 0, result.stderr[-3000:]
    gaps = [line for line in result.stderr.splitlines() if "load: ercot_archive holds no data" in line]
    assert gaps, "the missing load days are logged"
    assert all("2023-09-01" in line for line in gaps), gaps
    predictions = pd.read_parquet(root / "backtests" / "2023-08-30_2023-09-04" / "predictions.parquet")
    assert sorted(set(pd.to_datetime(predictions["forecast_date"]).dt.date)) == list(
        pd.date_range("2023-08-30", "2023-09-04").date)
    assert len(predictions) == 6 * 72, "outcomes are scored wherever prices exist"
    features = {day: pd.read_parquet(next(root.glob(f"features/*/{day}.parquet"))) for day in ("2023-09-01", "2023-09-02")}
    assert features["2023-09-01"]["load_peak_vs_recent"].notna().all(), "31 August's load is in the file"
    assert features["2023-09-02"]["load_peak_vs_recent"].isna().all(), "1 September's load is not: NaN, not zero"
