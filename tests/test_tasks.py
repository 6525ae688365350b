"""Task tier on a temporary data root with the simulator: the chain, idempotence, and as-of correctness."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import luigi
import numpy as np
import pandas as pd
import pytest

from pipeline import ercot_time
from pipeline.tasks.base import current_layout
from pipeline.tasks.features import BuildFeatures, FeatureRange
from pipeline.tasks.fetch import FETCH_TASKS, FetchRange
from pipeline.tasks.inference import DailyInference
from targets.schemas import FORECAST, FORECAST_DATASETS

from tests.conftest import SMALL_CONFIG, reset_caches
from tests.helpers import rewrite_parquet

ISSUE_DAY = dt.date(2024, 7, 16)


def build(*tasks: luigi.Task) -> None:
    result = luigi.build(list(tasks), local_scheduler=True, detailed_summary=True, workers=1)
    assert result.status.name in {"SUCCESS", "SUCCESS_WITH_RETRY"}, result.summary_text


def forecast_of(day: dt.date) -> pd.DataFrame:
    reset_caches()
    return current_layout().forecast(day).read()


def test_daily_inference_writes_the_contract_forecast(small_pipeline, data_root: Path) -> None:
    build(DailyInference(date=dt.date(2024, 3, 9)))
    forecast = forecast_of(dt.date(2024, 3, 9))
    assert list(forecast.columns) == list(FORECAST.columns)
    assert len(forecast) == 72 * 2 * 2
    assert forecast["probability"].between(0, 1).all()
    for (_, _), rows in forecast.groupby(["node", "threshold"]):
        assert rows["horizon_h"].tolist() == list(range(1, 73))
        assert list(rows["interval_start"]) == list(ercot_time.forecast_hours(dt.date(2024, 3, 9)))
    wide = forecast.pivot_table(index=["node", "interval_start"], columns="threshold", values="probability")
    assert (wide[1000.0] <= wide[100.0]).all()
    assert (data_root / "forecasts" / "2024-03-09" / "forecast.csv").is_file()
    assert set(forecast["status"]) == {"ok"}
    decisions = list((data_root / "models").glob("*/*.decision.json"))
    assert decisions, "the serving model has a gate record"


def test_rerunning_does_no_work(small_pipeline, data_root: Path) -> None:
    build(DailyInference(date=dt.date(2024, 3, 9)))
    before = {p: p.stat().st_mtime_ns for p in data_root.rglob("*") if p.is_file()}
    reset_caches()
    result = luigi.build([DailyInference(date=dt.date(2024, 3, 9))], local_scheduler=True, detailed_summary=True)
    assert "complete ones were encountered" in result.summary_text and "ran successfully" not in result.summary_text
    after = {p: p.stat().st_mtime_ns for p in data_root.rglob("*") if p.is_file()}
    assert before == after


def test_daily_and_bulk_feature_tasks_write_identical_files(small_pipeline, tmp_path: Path, use_root) -> None:
    use_root(tmp_path / "daily")
    build(BuildFeatures(date=ISSUE_DAY))
    daily = current_layout().features(ISSUE_DAY).read()
    use_root(tmp_path / "bulk")
    build(FeatureRange(start=ISSUE_DAY - dt.timedelta(days=2), end=ISSUE_DAY + dt.timedelta(days=1)))
    bulk = current_layout().features(ISSUE_DAY).read()
    pd.testing.assert_frame_equal(daily, bulk)


# --- as-of correctness -----------------------------------------------------------------------------


def _perturb(frame: pd.DataFrame, rows: pd.Series) -> pd.DataFrame:
    """Scale and shift every numeric value (except published_at / interval columns) on the given rows."""
    frame = frame.copy()
    numeric = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    frame.loc[rows, numeric] = frame.loc[rows, numeric] * 3.0 + 77.0
    return frame


def _rewrite_raw(root: Path, change) -> int:
    """Apply ``change(dataset, frame) -> frame`` to every raw file under ``root``; count changed files."""
    changed = 0
    for path in sorted((root / "raw").rglob("*.parquet")):
        dataset = path.parent.name
        frame = pd.read_parquet(path)
        new = change(dataset, frame)
        if not new.equals(frame):
            rewrite_parquet(path, new)
            changed += 1
    return changed


def _reset_derived(root: Path) -> None:
    for folder in ("derived", "features", "models", "serving", "forecasts"):
        shutil.rmtree(root / folder, ignore_errors=True)


@pytest.fixture(scope="module")
def history_with_future(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A data root holding raw data from well before to well after the issue time, and its forecast.

    Built once for the module (the tests copy it before changing anything).
    """
    base = tmp_path_factory.mktemp("asof")
    root = base / "original"
    override = base / "small.yaml"
    override.write_text(SMALL_CONFIG)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RTLMP_CONFIG", str(override))
        patch.setenv("RTLMP_DATA_ROOT", str(root))
        reset_caches()
        first, last = ISSUE_DAY - dt.timedelta(days=80), ISSUE_DAY + dt.timedelta(days=6)
        build(*[FetchRange(dataset=name, start=first, end=last) for name in FETCH_TASKS])
        build(DailyInference(date=ISSUE_DAY))
        forecast = forecast_of(ISSUE_DAY)
    reset_caches()
    return root, forecast


def test_data_published_after_the_issue_time_cannot_change_the_forecast(
        history_with_future, small_pipeline, tmp_path: Path, use_root) -> None:
    original_root, original = history_with_future
    issue_at = ercot_time.local_time_on(ISSUE_DAY, "06:00")
    root = tmp_path / "perturbed"
    shutil.copytree(original_root, root)
    _reset_derived(root)

    def later_values_and_revisions(dataset: str, frame: pd.DataFrame) -> pd.DataFrame:
        late = frame["published_at"] > issue_at
        frame = _perturb(frame, late)
        if dataset in FORECAST_DATASETS:
            # A revised publication that appeared one minute after the issue time.
            revision = _perturb(frame, pd.Series(True, index=frame.index))
            revision["published_at"] = issue_at + pd.Timedelta(minutes=1)
            frame = pd.concat([frame, revision], ignore_index=True)
        return frame

    assert _rewrite_raw(root, later_values_and_revisions) > 100
    use_root(root)
    build(DailyInference(date=ISSUE_DAY))
    pd.testing.assert_frame_equal(forecast_of(ISSUE_DAY), original)


# Per dataset, features of each group it feeds: the control must move every one of them.
CONTROL_COLUMNS = {"rt_prices": ("price_max_hod_d1", "rtx_hod_7d"), "load_forecast": ("load_fc",),
                   "weather_forecast": ("temp_fc_mean",),
                   "dam_prices": ("dam_hod", "dam_hod_max7", "dam_hod_ratio", "sys_dam_hod", "rtx_hod_7d"),
                   "ancillary_prices": ("as_RRS_hod", "as_sum_daymax", "as_REGUP_vs7"),
                   "renewables_forecast": ("wind_fc",), "load": ("load_hod_d1", "load_peak_vs_recent"),
                   "renewables": ("wind_mean_d1",), "weather": ("temp_hod_d1", "temp_max_d1", "cdh_d1")}


@pytest.mark.parametrize("dataset", sorted(CONTROL_COLUMNS))
def test_data_published_before_the_issue_time_does_change_the_features(
        history_with_future, small_pipeline, tmp_path: Path, use_root, dataset: str) -> None:
    """The control, for every feature group: perturbing data that *was* public at the issue time
    moves the features, so the test above could fail for any group."""
    original_root, _ = history_with_future
    issue_at = ercot_time.local_time_on(ISSUE_DAY, "06:00")
    root = tmp_path / "control"
    shutil.copytree(original_root, root)
    _reset_derived(root)

    def recent_known_values(name: str, frame: pd.DataFrame) -> pd.DataFrame:
        if name != dataset:
            return frame
        recent = (frame["published_at"] <= issue_at) & (frame["published_at"] > issue_at - pd.Timedelta(days=2))
        return _perturb(frame, recent)

    assert _rewrite_raw(root, recent_known_values) > 0
    use_root(root)
    build(BuildFeatures(date=ISSUE_DAY))
    changed = current_layout().features(ISSUE_DAY).read()
    use_root(original_root)
    reference = current_layout().features(ISSUE_DAY).read()
    for column in CONTROL_COLUMNS[dataset]:
        assert not np.allclose(changed[column], reference[column], equal_nan=True), column


def test_recent_prices_move_the_forecast(history_with_future, small_pipeline, tmp_path: Path, use_root) -> None:
    """The control for the forecast: prices public at the issue time move it, whichever forecaster
    serves a threshold (the model reads real-time and day-ahead prices, the DAM baseline the latter)."""
    original_root, original = history_with_future
    root = tmp_path / "prices"
    shutil.copytree(original_root, root)
    _reset_derived(root)
    issue_at = ercot_time.local_time_on(ISSUE_DAY, "06:00")

    def spiky_yesterday(name: str, frame: pd.DataFrame) -> pd.DataFrame:
        if name not in ("rt_prices", "dam_prices"):
            return frame
        recent = (frame["published_at"] <= issue_at) & (frame["published_at"] > issue_at - pd.Timedelta(days=2))
        return _perturb(frame, recent)

    _rewrite_raw(root, spiky_yesterday)
    use_root(root)
    build(DailyInference(date=ISSUE_DAY))
    assert not np.allclose(forecast_of(ISSUE_DAY)["probability"], original["probability"])


def test_the_next_training_reads_the_window_the_last_one_kept_and_trains_the_same_model(
        small_pipeline, data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A training keeps its window under cache/windows/ for the next run (a new process: nothing in
    memory), which reads only the days added since; its model is the one a training from the files
    alone makes."""
    from pipeline.tasks.train import TrainModel
    from targets.windows import RollingReader

    first = TrainModel(date=dt.date(2024, 3, 7))
    second_day = first.settings.cadence.newest(dt.date(2024, 3, 11))
    build(first)
    kept = Path(first.layout.window_cache())
    assert sorted(p.name for p in kept.iterdir()) == ["features.arrow", "rt_hourly.arrow"]

    def train_anew() -> tuple[dict, np.ndarray]:
        monkeypatch.setattr(TrainModel, "windows", RollingReader())  # a new process: nothing in memory
        reset_caches()
        build(TrainModel(date=second_day))
        reset_caches()
        artifact = current_layout().model(second_day)
        probe = current_layout().features(second_day - dt.timedelta(days=5)).read()
        metadata = {k: v for k, v in artifact.metadata().items() if k not in ("fit_seconds", "signature")}
        model = artifact.load()
        return metadata, np.column_stack([model.predict(probe), *model.predict_baselines(probe).values()])

    written = (kept / "features.arrow").stat().st_mtime_ns
    from_kept = train_anew()
    assert (kept / "features.arrow").stat().st_mtime_ns == written, "served from the kept window, not rewritten"
    shutil.rmtree(data_root / "models" / second_day.isoformat())
    shutil.rmtree(kept)
    from_files = train_anew()
    assert from_kept[0] == from_files[0]
    np.testing.assert_array_equal(from_kept[1], from_files[1])
