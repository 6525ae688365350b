"""Every fallback with sharding on (``market.shard_size``): the same promises as unsharded, per shard.

* retraining fails (``retain_current_model``): every shard keeps its current model and the morning
  forecast trains nothing again;
* inference fails (``use_previous_forecast``): the previous forecast is republished;
* data fetching fails (``use_cached_data``): the forecast is made from the files on disk;
* a shard's model fails its integrity check: that shard serves its next valid model.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import luigi
import pytest

import pipeline.model.candidate
import pipeline.sources
from pipeline.ops import jobs
from pipeline.sources import market_source
from pipeline.tasks import inference as inference_tasks
from pipeline.tasks.base import configured, current, current_config_id
from pipeline.tasks.inference import DailyInference
from tests.conftest import reset_caches
from tests.ops_support import OPS_CONFIG, PIPELINE_CONFIG, DownSource, InProcessLuigi, at_cpt, operations

BASE_DAY = dt.date(2024, 7, 17)  # a cadence date
NEXT_DAY = BASE_DAY + dt.timedelta(days=1)
CADENCE_DAY = BASE_DAY + dt.timedelta(days=2)
SHARDED = "  shard_size: 1\n"
_BUILT: dict[str, Path] = {}


def sharded(text: str) -> str:
    return text.replace("  thresholds: [100, 1000]\n", "  thresholds: [100, 1000]\n" + SHARDED)


@pytest.fixture(scope="module")
def sharded_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sharded data root (two shards of one node) holding the forecast of BASE_DAY."""
    if "root" not in _BUILT:
        base = tmp_path_factory.mktemp("sharded")
        override = base / "sharded.yaml"
        override.write_text(sharded(PIPELINE_CONFIG))
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("RTLMP_CONFIG", str(override))
            patch.setenv("RTLMP_DATA_ROOT", str(base / "data"))
            reset_caches()
            result = luigi.build([DailyInference(date=BASE_DAY)], local_scheduler=True, detailed_summary=True)
            assert result.status.name == "SUCCESS", result.summary_text
        reset_caches()
        _BUILT["root"] = base / "data"
    return _BUILT["root"]


@pytest.fixture
def sharded_ops(sharded_base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = tmp_path / "data"
    shutil.copytree(sharded_base, root)
    path = tmp_path / "ops.yaml"
    path.write_text(sharded(OPS_CONFIG) + f"logging:\n  dir: {tmp_path / 'logs'}\n")
    monkeypatch.setenv("RTLMP_CONFIG", str(path))
    monkeypatch.setenv("RTLMP_DATA_ROOT", str(root))
    reset_caches()
    return current().settings.config


def forecast(day: dt.date):
    reset_caches()
    return current().layout.forecast(day).read()


def serving_ids(day: dt.date) -> set[str]:
    return {model_id.split("/")[0] for model_id in forecast(day)["model_id"]}


def test_the_configuration_is_sharded(sharded_ops) -> None:
    settings = current().settings
    assert settings.sharded and len(settings.shards) == 2


def test_a_failed_retrain_keeps_every_shards_current_model(sharded_ops, monkeypatch) -> None:
    before = serving_ids(BASE_DAY)
    calls = []

    def failing_fit(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        raise MemoryError("training ran out of memory")

    monkeypatch.setattr(pipeline.model.candidate, "fit", failing_fit)
    retrain = jobs.run_job(operations(sharded_ops, at_cpt(CADENCE_DAY, "01:00")), "model_retraining")
    assert retrain.fallback == "retain_current_model"
    for part in current().shards():
        assert part.records.failure(CADENCE_DAY) is not None, "each shard's candidate is marked failed"
    trained = len(calls)

    inference = jobs.run_job(operations(sharded_ops, at_cpt(CADENCE_DAY, "06:00")), "inference")

    assert inference.status == "success"
    assert len(calls) == trained, "no shard trained its failed candidate again"
    assert serving_ids(CADENCE_DAY) == before
    assert set(forecast(CADENCE_DAY)["status"]) == {"ok"}


def test_an_inference_failure_republishes_the_previous_forecast(sharded_ops, monkeypatch) -> None:
    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("inference crashed")

    monkeypatch.setattr(inference_tasks, "forecast_frame", broken)
    result = jobs.run_job(operations(sharded_ops, at_cpt(NEXT_DAY, "06:00")), "inference")
    assert result.fallback == "fallback_previous", "every shard built its features: the cached-inputs fallback is skipped"
    published = forecast(NEXT_DAY)
    assert set(published["status"]) == {result.fallback}
    assert set(published["node"]) == {"HB_NORTH", "HB_WEST"}


def test_a_market_source_down_forecasts_from_cached_inputs(sharded_ops, monkeypatch) -> None:
    down: list[DownSource] = []

    def failing_market(config):  # noqa: ANN001, ANN202
        source = DownSource(market_source(config))
        down.append(source)
        return source

    monkeypatch.setattr(pipeline.sources, "market_source", failing_market)
    result = jobs.run_job(operations(sharded_ops, at_cpt(NEXT_DAY, "06:00")), "inference")
    assert any(source.calls for source in down), "the market source was asked and failed"
    assert result.fallback == "fallback_cached_inputs"
    assert set(forecast(NEXT_DAY)["status"]) == {"fallback_cached_inputs"}


def test_a_shards_tampered_model_is_skipped_for_its_next_valid_one(sharded_ops) -> None:
    whole = current()
    shard = configured(current_config_id(), 1)
    serving = shard.records.current_serving(NEXT_DAY)
    artifact = shard.layout.model(serving.train_date)
    evil = b"not a model"
    Path(artifact.model_path).write_bytes(evil)
    metadata = json.loads(Path(artifact.metadata_path).read_text())
    metadata["artifact_sha256"] = hashlib.sha256(evil).hexdigest()
    Path(artifact.metadata_path).write_text(json.dumps(metadata))

    result = luigi.build([DailyInference(date=NEXT_DAY)], local_scheduler=True, detailed_summary=True, workers=1)

    assert result.status.name == "SUCCESS", result.summary_text
    assert shard.records.failure(serving.train_date)["status"] == "invalid"
    rows = forecast(NEXT_DAY)
    west = rows[rows["node"] == whole.settings.shards[1][0]]
    assert serving.model_id not in {m.split("/")[0] for m in west["model_id"]}
