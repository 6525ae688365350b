"""Integrity: an output counts as done only when it is valid and was made from the inputs and settings in force.

The six probes of the integrity issue, each tried as a user or an operator would:

1. a forecast file replaced by a readable Parquet file with the wrong columns;
2. a forecast with the right columns and zero rows;
3. publication cut short after the CSV (a full disk): the CSV must never show an unpublished forecast;
4. a setting changed between two runs (a threshold added; the retraining cadence changed);
5. impossible prices in a real archive file (1e9, +inf);
6. a fixed archive file after a run on the same data root (the raw copy must be read again);

plus the smaller findings: a settlement point no source knows, records that are not records, debris
of killed writers. Real-archive probes read ../shared/data and skip when it is absent.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import luigi
import numpy as np
import pandas as pd
import pytest

from pipeline import report
from pipeline.ops import deadline, status
from pipeline.tasks.backtest import Backtest
from pipeline.tasks.base import current, current_layout
from pipeline.tasks.fetch import write_fetched
from targets import Layout, ParquetTarget, Stamp
from targets.schemas import RT_PRICES
from pipeline.tasks.inference import DailyInference
from targets import store as store_module
from targets.forecast_files import long_csv
from tests.conftest import REPO, SHARED_DATA, reset_caches, small_config
from tests.ops_support import *  # noqa: F403 - fixtures and helpers

NEXT_DAY = BASE_DAY + dt.timedelta(days=1)  # served by BASE_DAY's model


def build(*tasks: luigi.Task) -> luigi.execution_summary.LuigiRunResult:
    result = luigi.build(list(tasks), local_scheduler=True, detailed_summary=True, workers=1)
    assert result.status.name in {"SUCCESS", "SUCCESS_WITH_RETRY"}, result.summary_text
    return result


def alerts_in(root: Path) -> list[dict]:
    return Layout(root).alert_log().read()[0]


def wrong_schema(path: Path) -> None:
    pd.DataFrame({"node": ["HB_NORTH"], "p": [0.5]}).to_parquet(path, index=False)


# --- probe 1: a forecast with the wrong schema ---------------------------------------------------------


def test_a_forecast_with_the_wrong_schema_is_missing_for_the_deadline_which_alerts_and_publishes(
        ops_root, ops_config, caplog) -> None:
    config = ops_config()
    layout = current_layout()
    build(DailyInference(date=NEXT_DAY))
    wrong_schema(Path(layout.forecast(NEXT_DAY).path))

    assert not DailyInference(date=NEXT_DAY).complete()
    runner = InProcessLuigi()
    state = deadline.check(operations(config, at_cpt(NEXT_DAY, "09:05"), runner))

    assert state.complete and state.status == "ok", "the damaged forecast is made again first"
    assert runner.commands[0][3:6] == ["DailyInference", "--date", NEXT_DAY.isoformat()]
    kinds = [a["kind"] for a in alerts_in(ops_root)]
    assert "deadline_risk" in kinds and "fallback" in kinds
    assert "is invalid (missing column(s)" in caplog.text
    assert list(Path(layout.forecast(NEXT_DAY).path).parent.glob("forecast.parquet.invalid-*"))
    page = Path(status.write(config, at_cpt(NEXT_DAY, "09:06"))).read_text()
    assert f"Forecast for {NEXT_DAY}" in page and "published" in page


def test_a_forecast_with_the_wrong_schema_is_rebuilt_by_daily_inference(ops_root, ops_config) -> None:
    ops_config()
    target = current_layout().forecast(BASE_DAY)
    expected = target.read()
    wrong_schema(Path(target.path))

    assert not DailyInference(date=BASE_DAY).complete()
    build(DailyInference(date=BASE_DAY))

    pd.testing.assert_frame_equal(current_layout().forecast(BASE_DAY).read(), expected)


def test_the_deadline_command_reports_a_wrong_schema_forecast_as_missing_without_a_traceback(
        ops_root, ops_config) -> None:
    """From the command line, as an operator runs it (a dry run: the state, no fallback)."""
    ops_config()
    wrong_schema(Path(current_layout().forecast(BASE_DAY).path))
    result = subprocess.run([sys.executable, "-m", "pipeline.deadline", "--dry-run", "--now",
                             f"{BASE_DAY}T09:05"], cwd=REPO, capture_output=True, text=True, timeout=120,
                            env=os.environ.copy())
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "missing" in result.stdout and "AT RISK" in result.stdout


# --- probe 2: a forecast with zero rows -----------------------------------------------------------------


def test_a_forecast_with_zero_rows_is_not_complete_and_a_rerun_rebuilds_it(ops_root, ops_config) -> None:
    ops_config()
    target = current_layout().forecast(BASE_DAY)
    expected = target.read()
    Path(target.path).unlink()
    expected.iloc[:0].to_parquet(target.path, index=False)

    assert not target.exists() and "no rows" in target.problem()
    assert not DailyInference(date=BASE_DAY).complete()
    build(DailyInference(date=BASE_DAY))
    pd.testing.assert_frame_equal(current_layout().forecast(BASE_DAY).read(), expected)


@pytest.mark.parametrize("damage, problem", [
    (lambda f: f.assign(probability=f["probability"] * 40), "not finite numbers in [0, 1]"),
    (lambda f: f.assign(probability=np.where(f["threshold"] == f["threshold"].max(), 0.9, 0.01)), "must not rise"),
    (lambda f: f.iloc[:-5], "rows, not nodes x thresholds x hours"),
    (lambda f: f.assign(probability=np.nan), "'probability' has 288 missing value(s)"),
])
def test_a_forecast_with_impossible_content_is_invalid(ops_root, ops_config, damage, problem) -> None:
    ops_config()
    target = current_layout().forecast(BASE_DAY)
    damaged = damage(target.read())
    Path(target.path).unlink()
    damaged.to_parquet(target.path, index=False)
    assert problem in (current_layout().forecast(BASE_DAY).problem() or "")


# --- probe 3: the CSV and the Parquet file never disagree --------------------------------------------------


def test_a_publication_cut_short_after_the_csv_leaves_twins_that_the_fallback_rewrites(
        ops_root, ops_config, monkeypatch) -> None:
    config = ops_config()
    layout = current_layout()
    forecast_path = layout.forecast(NEXT_DAY).path
    real_put_once = store_module.LocalStore.put_once

    def disk_full_for_the_forecast(self, path, data):  # noqa: ANN001, ANN202
        if path == forecast_path:
            raise OSError(errno.ENOSPC, "No space left on device", path)
        return real_put_once(self, path, data)

    monkeypatch.setattr(store_module.LocalStore, "put_once", disk_full_for_the_forecast)
    result = luigi.build([DailyInference(date=NEXT_DAY)], local_scheduler=True, detailed_summary=True, workers=1)
    assert result.status.name == "FAILED"
    assert Path(layout.forecast(NEXT_DAY).csv_path).exists() and not Path(forecast_path).exists()

    monkeypatch.setattr(store_module.LocalStore, "put_once", real_put_once)  # space freed by 09:05

    state = deadline.check(operations(config, at_cpt(NEXT_DAY, "09:05")))

    assert state.complete and state.status.startswith("fallback_")
    published = layout.forecast(NEXT_DAY)
    frame = published.read()
    assert Path(published.csv_path).read_bytes() == long_csv(frame)
    csv = pd.read_csv(published.csv_path)
    assert set(csv["status"]) == set(frame["status"])
    assert np.allclose(csv["probability"].to_numpy(), frame["probability"].to_numpy())
    wide = pd.read_csv(published.wide_path)
    assert set(wide["status"]) == set(frame["status"])


def test_a_reader_that_finds_a_twin_disagreeing_regenerates_it(ops_root, ops_config, capsys) -> None:
    ops_config()
    target = current_layout().forecast(BASE_DAY)
    Path(target.csv_path).write_text("node,probability\nHB_NORTH,0.99\n")
    Path(target.wide_path).unlink()

    assert report.main(["forecast", "--date", BASE_DAY.isoformat()]) == 0

    frame = target.read()
    assert Path(target.csv_path).read_bytes() == long_csv(frame)
    assert Path(target.wide_path).exists()


# --- probe 4: settings are part of identity ---------------------------------------------------------------


def test_a_threshold_added_remakes_the_forecast_and_keeps_the_superseded_one(write_config, data_root) -> None:
    write_config(small_config())
    build(DailyInference(date=NEXT_DAY))
    before = current_layout().forecast(NEXT_DAY).read()
    assert set(before["threshold"]) == {100.0, 1000.0}

    write_config(small_config().replace("thresholds: [100, 1000]", "thresholds: [100, 250, 1000]"))
    assert not DailyInference(date=NEXT_DAY).complete()
    build(DailyInference(date=NEXT_DAY))

    after = current_layout().forecast(NEXT_DAY)
    assert set(after.read()["threshold"]) == {100.0, 250.0, 1000.0}
    folder = Path(after.path).parent
    [superseded] = folder.glob("forecast.parquet.superseded-*")
    assert set(pd.read_parquet(superseded)["threshold"]) == {100.0, 1000.0}
    assert list(folder.glob("forecast.csv.superseded-*")) and list(folder.glob("forecast_wide.csv.superseded-*"))
    notes = after.stamp().notes["settings"]
    assert notes["market.thresholds"] == [100.0, 250.0, 1000.0]


def test_a_backtest_after_the_retraining_cadence_changed_completes(write_config, data_root) -> None:
    start, end = dt.date(2024, 7, 16), dt.date(2024, 7, 17)
    write_config(small_config())
    build(Backtest(start=start, end=end))
    first = current_layout().backtest_predictions(start, end).read()

    write_config(small_config(model="  retrain_every_days: 3\n"))
    assert not Backtest(start=start, end=end).complete()
    build(Backtest(start=start, end=end))

    layout = current_layout()
    second = layout.backtest_predictions(start, end).read()
    assert len(second) == len(first)
    folder = Path(layout.backtest_predictions(start, end).path).parent
    assert list(folder.glob("predictions.parquet.superseded-*")) and list(folder.glob("report.html.superseded-*"))
    assert (folder / "report.html").exists()
    assert Backtest(start=start, end=end).complete()


def test_tasks_carry_the_configuration_in_their_identity(write_config, tmp_path) -> None:
    """A long-running process: the override file edited in place between two tasks of one day."""
    write_config(small_config())
    one = DailyInference(date=NEXT_DAY)
    (tmp_path / "override.yaml").write_text(small_config(model="  max_iter: 31\n  seed: 8\n"))
    two = DailyInference(date=NEXT_DAY)
    assert one.task_id != two.task_id
    assert one.settings.config.model.max_iter == 30 and two.settings.config.model.max_iter == 31
    assert one.requires()["serving"].config_id == one.config_id  # dependencies inherit the configuration


# --- the smaller findings ----------------------------------------------------------------------------------


def test_a_gate_record_replaced_by_a_list_is_named_once_and_treated_as_missing(ops_root, ops_config, caplog) -> None:
    ops_config()
    records = current().records
    train_date = current().settings.cadence.newest(BASE_DAY)
    target = records.decision_target(train_date)
    Path(target.path).write_text("[]\n")

    assert records.decision(train_date) is None
    lines = [r for r in caplog.records if "not a gate record" in r.getMessage()]
    assert len(lines) == 1 and target.path in lines[0].getMessage()
    build(DailyInference(date=NEXT_DAY))  # the gate runs again and the forecast is made
    assert records.decision(train_date) is not None


def test_a_temporary_file_left_by_a_killed_writer_is_swept_by_the_next_write(tmp_path: Path) -> None:
    folder = tmp_path / "forecasts" / "2024-07-17"
    folder.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    debris = folder / f".forecast.parquet.tmp-{int(dead.stdout)}-0a1b2c3d"
    debris.write_bytes(b"half a file")
    mine = folder / f".forecast.csv.tmp-{os.getpid()}-0a1b2c3d"
    mine.write_bytes(b"in progress")

    store_module.LocalStore().put(str(folder / "forecast.csv"), b"a,b\n")

    assert not debris.exists(), "a dead writer's temporary file is removed"
    assert mine.exists(), "this process's own temporary files are left alone"


# --- probes 5 and 6: the real archive ----------------------------------------------------------------------

ARCHIVE_YEAR = 2023
ISSUE = dt.date(2023, 8, 20)
ARCHIVE_CONFIG = """
market:
  nodes: [HB_NORTH, HB_HOUSTON]
  thresholds: [100, 250]
sources:
  market: ercot_archive
  archive_dir: {archive}
  weather: none
features:
  lookback_days: 14
model:
  history_days: 60
  validation_days: 10
  max_age_days: 6
  max_iter: 30
"""


def _archive_copy(shared: Path, folder: Path) -> Path:
    """The real archive's 2023 real-time prices, DAM and load, copied so a file can be edited."""
    for name in ("rtm_spp_hub_lz", "dam_spp_hub_lz", "load"):
        (folder / name).mkdir(parents=True)
    shutil.copy(shared / "ercot" / "rtm_spp_hub_lz" / f"ercot_rtm_{ARCHIVE_YEAR}.parquet", folder / "rtm_spp_hub_lz")
    shutil.copy(shared / "ercot" / "dam_spp_hub_lz" / f"NP4-180-ER_DAMLZHBSPP_{ARCHIVE_YEAR}.zip",
                folder / "dam_spp_hub_lz")
    shutil.copy(shared / "ercot" / "load" / f"Native_Load_{ARCHIVE_YEAR}.xlsx", folder / "load")
    return folder


def _corrupt(archive: Path, day: dt.date, values: list[float]) -> None:
    """Set HB_NORTH's real-time price of the first intervals of ``day`` (CPT) to ``values``."""
    path = archive / "rtm_spp_hub_lz" / f"ercot_rtm_{ARCHIVE_YEAR}.parquet"
    frame = pd.read_parquet(path)
    local = pd.to_datetime(frame["Interval Start"]).dt.tz_convert("America/Chicago")
    rows = np.flatnonzero(((frame["Location"] == "HB_NORTH") & (local.dt.date == day)).to_numpy())[: len(values)]
    frame.loc[frame.index[rows], "SPP"] = values
    frame.to_parquet(path, index=False)


def _archive_forecast(archive: Path, root: Path, day: dt.date, config: Path) -> tuple[pd.DataFrame, Stamp]:
    """``DailyInference`` of ``day`` on ``archive`` into ``root``: the forecast and its stamp."""
    config.write_text(ARCHIVE_CONFIG.format(archive=archive))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RTLMP_CONFIG", str(config))
        patch.setenv("RTLMP_DATA_ROOT", str(root))
        reset_caches()
        build(DailyInference(date=day))
        forecast = current_layout().forecast(day)
        frame, stamp = forecast.read(), forecast.stamp()
    reset_caches()
    return frame, stamp


CORRUPT_DAY = ISSUE - dt.timedelta(days=1)
CORRUPT = [1e9, float("inf"), float("inf"), float("inf"), float("inf")]
Root = tuple[Path, Path, pd.DataFrame, Stamp]  # archive, data root, forecast of ISSUE and its stamp
_ROOTS: dict[str, Root] = {}


def _archive_root(kind: str, shared: Path, base: Path) -> Root:
    """(archive, data root, forecast of ISSUE) for a clean or a corrupted copy of the archive, built once."""
    if kind not in _ROOTS:
        archive = _archive_copy(shared, base / f"{kind}-archive")
        if kind == "dirty":
            _corrupt(archive, CORRUPT_DAY, CORRUPT)
        forecast, stamp = _archive_forecast(archive, base / f"{kind}-root", ISSUE, base / f"{kind}.yaml")
        _ROOTS[kind] = (archive, base / f"{kind}-root", forecast, stamp)
    return _ROOTS[kind]


@pytest.fixture(scope="module")
def archive_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real ERCOT data not found at {SHARED_DATA} (see the README's test section)")
    return tmp_path_factory.mktemp("archive-probes")


@pytest.fixture(scope="module")
def clean(archive_base: Path) -> Root:
    return _archive_root("clean", SHARED_DATA, archive_base)


@pytest.fixture(scope="module")
def dirty(archive_base: Path) -> Root:
    return _archive_root("dirty", SHARED_DATA, archive_base)


@pytest.mark.realdata
def test_impossible_prices_are_set_aside_and_the_forecast_says_degraded_inputs(clean, dirty) -> None:
    _, dirty_root, forecast, stamp = dirty
    assert set(forecast["status"]) == {"degraded_inputs"}
    assert stamp.notes["degraded"] == {"rt_prices": "5 implausible value(s) set aside"}
    raw = Layout(dirty_root).root + f"/raw/ercot_archive/rt_prices/{CORRUPT_DAY}.parquet"
    notes = ParquetTarget(raw, RT_PRICES).stamp().notes
    assert notes["set_aside"] == {"rt_prices": 5}
    assert "HB_NORTH" in notes["examples"][0] and "price = 1000000000.0" in notes["examples"][0]
    assert "price = inf" in notes["examples"][1]
    at = (forecast["node"] == "HB_NORTH") & (forecast["threshold"] == 100.0)
    clean_forecast = clean[2]
    moved = abs(forecast.loc[at, "probability"].mean() - clean_forecast.loc[at, "probability"].mean())
    assert moved < 0.01, f"the set-aside prices moved P(>$100) at HB_NORTH by {moved:.3f}"
    kinds = [a["kind"] for a in alerts_in(dirty_root)]
    assert "degraded_inputs" in kinds


@pytest.mark.realdata
def test_the_set_aside_values_are_named_in_one_log_line(shared_data, tmp_path, write_config, caplog) -> None:
    """The same archive file, fetched on its own: one line names the file, column and rows."""
    archive = _archive_copy(shared_data, tmp_path / "archive")
    _corrupt(archive, CORRUPT_DAY, CORRUPT)
    write_config(ARCHIVE_CONFIG.format(archive=archive))
    configured = current()
    write_fetched(configured, configured.sources.market, "rt_prices", [CORRUPT_DAY])
    lines = [r.getMessage() for r in caplog.records if "set aside" in r.getMessage()]
    assert len(lines) == 1, lines
    assert "ercot_rtm_2023.parquet" in lines[0] and "5 value(s) of column 'price'" in lines[0]
    assert "HB_NORTH" in lines[0] and "= 1000000000.0" in lines[0] and "= inf" in lines[0]


@pytest.mark.realdata
def test_a_fixed_archive_file_is_read_again_and_the_next_forecast_equals_a_clean_roots(
        clean, dirty, tmp_path) -> None:
    dirty_archive, dirty_root, _, _ = dirty
    archive, root = tmp_path / "archive", tmp_path / "root"
    shutil.copytree(dirty_archive, archive)
    shutil.copytree(dirty_root, root)
    clean_archive, clean_root, _, _ = clean
    shutil.copy(clean_archive / "rtm_spp_hub_lz" / f"ercot_rtm_{ARCHIVE_YEAR}.parquet",
                archive / "rtm_spp_hub_lz")  # the fix
    next_day = ISSUE + dt.timedelta(days=1)

    fixed, _ = _archive_forecast(archive, root, next_day, tmp_path / "fixed.yaml")
    reference_root = tmp_path / "clean-root"
    shutil.copytree(clean_root, reference_root)
    reference, _ = _archive_forecast(clean_archive, reference_root, next_day, tmp_path / "clean.yaml")

    pd.testing.assert_frame_equal(fixed, reference)
    assert set(fixed["status"]) == {"ok"}
    raw = root / "raw" / "ercot_archive" / "rt_prices" / f"{CORRUPT_DAY}.parquet"
    assert list(raw.parent.glob(f"{raw.name}.superseded-*")), "the stale raw copy is kept aside"


@pytest.mark.realdata
def test_a_forecast_past_the_end_of_the_archive_says_degraded_inputs(shared_data, tmp_path) -> None:
    """The archive's files end on 2023-12-31: a forecast issued on 2024-01-03 misses a quarter of its inputs."""
    day = dt.date(2024, 1, 3)
    forecast, stamp = _archive_forecast(shared_data / "ercot", tmp_path / "root", day, tmp_path / "archive.yaml")
    assert set(forecast["status"]) == {"degraded_inputs"}
    degraded = stamp.notes["degraded"]
    assert "rt_prices" in degraded and "inputs missing for HB_HOUSTON, HB_NORTH" in degraded["rt_prices"]
