"""Scale-out end to end: a sharded universe on SeaweedFS, luigid and several workers, through the ``luigi`` command.

The forecast made by several workers against luigid with every target in the object store equals,
bit for bit, the forecast of one worker with a local data root. A run killed mid-shard is completed
by the next one, leaving no partial object; an unreachable store or luigid is a one-line error.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from pipeline.sources.synthetic import universe_names
from targets.store import reset_remote
from tests.conftest import REPO, small_config
from tests.luigid_support import luigid  # noqa: F401 - fixture
from tests.objectstore_support import object_store  # noqa: F401 - fixture

pytestmark = pytest.mark.e2e

LUIGI = str(Path(sys.executable).with_name("luigi"))
ISSUE_DAY = "2024-07-16"
NODES = ["HB_NORTH", "HB_WEST", *universe_names(20240101)[:4]]
CONFIG = small_config(NODES, market="  shard_size: 2\n", model="  threads: 1\n")


def luigi_env(config: Path, data_root: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RTLMP_", "AWS_")) or k.startswith("RTLMP_ARTIFACT_KEY")}
    env.update({"RTLMP_CONFIG": str(config), "RTLMP_DATA_ROOT": data_root,
                "LUIGI_CONFIG_PATH": str(REPO / "luigi.cfg"), **(extra or {})})
    return env


def daily_inference(scheduler: list[str], workers: int) -> list[str]:
    return [LUIGI, "--module", "pipeline", "DailyInference", "--date", ISSUE_DAY, "--workers", str(workers), *scheduler]


def central(port: int) -> list[str]:
    return ["--scheduler-host", "127.0.0.1", "--scheduler-port", str(port)]


def run(command: list[str], env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def read_forecast(store_env: dict[str, str], root: str) -> pd.DataFrame:
    from targets import Layout

    saved = {k: os.environ.get(k) for k in store_env}
    os.environ.update(store_env)
    reset_remote()
    try:
        return Layout(root).forecast(dt.date.fromisoformat(ISSUE_DAY)).read()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        reset_remote()


@pytest.fixture(scope="module")
def local_forecast(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The reference: one worker, local scheduler, local data root."""
    base = tmp_path_factory.mktemp("local")
    config = base / "scale.yaml"
    config.write_text(CONFIG)
    result = run(daily_inference(["--local-scheduler"], 1), luigi_env(config, str(base / "data")))
    assert result.returncode == 0, result.stderr[-3000:]
    return pd.read_parquet(base / "data" / "forecasts" / ISSUE_DAY / "forecast.parquet")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "scale.yaml"
    path.write_text(CONFIG + f"logging:\n  dir: {tmp_path / 'logs'}\n")
    return path


def test_workers_on_luigid_with_an_object_store_forecast_bit_for_bit_as_one_local_worker(
        local_forecast: pd.DataFrame, object_store, luigid, config: Path) -> None:  # noqa: F811
    port, state = luigid
    root = f"s3://{object_store.bucket}/e2e-workers"
    result = run(daily_inference(central(port), 3), luigi_env(config, root, object_store.env()))
    assert result.returncode == 0, result.stderr[-3000:]
    task_log = (config.parent / "logs" / "luigi.log").read_text()  # luigi's per-task lines
    assert "done      ShardForecast(" in task_log and "--local-scheduler" not in result.args
    pd.testing.assert_frame_equal(read_forecast(object_store.env(), root), local_forecast, check_exact=True)
    keys = [item["Key"] for item in object_store.boto3_client().list_objects_v2(
        Bucket=object_store.bucket, Prefix="e2e-workers/")["Contents"]]
    assert any(key.startswith("e2e-workers/raw/") for key in keys)
    assert sum(key.endswith("/metadata.json") for key in keys) == 3 * 2, "3 shards x (candidate, incumbent)"
    assert sum("/shards/" in key for key in keys) == 3


def test_a_worker_killed_mid_shard_then_a_rerun_completes_and_leaves_no_partial_object(
        local_forecast: pd.DataFrame, object_store, config: Path) -> None:  # noqa: F811
    root = f"s3://{object_store.bucket}/e2e-killed"
    env = luigi_env(config, root, object_store.env())
    client = object_store.boto3_client()
    process = subprocess.Popen(daily_inference(["--local-scheduler"], 2), cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and process.poll() is None:
        listed = client.list_objects_v2(Bucket=object_store.bucket, Prefix="e2e-killed/models/")
        if any(item["Key"].endswith("/model.pkl") for item in listed.get("Contents", [])):
            break  # training has begun in some shard
        time.sleep(0.2)
    assert process.poll() is None, "the run ended before it could be killed mid-shard"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)

    rerun = run(daily_inference(["--local-scheduler"], 2), env)

    assert rerun.returncode == 0, rerun.stderr[-3000:]
    pd.testing.assert_frame_equal(read_forecast(object_store.env(), root), local_forecast, check_exact=True)
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=object_store.bucket,
                                                            Prefix="e2e-killed/", MaxKeys=10000)["Contents"]]
    artifacts = {key.rsplit("/", 1)[0] for key in keys if key.startswith("e2e-killed/models/")
                 and key.endswith(("/model.pkl", "/metadata.json"))}
    for folder in artifacts:
        assert f"{folder}/model.pkl" in keys and f"{folder}/metadata.json" in keys, f"{folder} is incomplete"
    assert not [key for key in keys if ".tmp-" in key]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_object_store_is_a_one_line_error_naming_the_endpoint(config: Path) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    env = luigi_env(config, "s3://rtlmp/down", {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "AKEXAMPLE",
                                                "AWS_SECRET_ACCESS_KEY": "secret"})
    result = run(daily_inference(["--local-scheduler"], 1), env, timeout=120)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert endpoint in line and "unreachable" in line


def test_an_unreachable_luigid_is_a_one_line_error_naming_it(config: Path, tmp_path: Path) -> None:
    port = _closed_port()
    result = run(daily_inference(central(port), 2), luigi_env(config, str(tmp_path / "data")), timeout=120)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert f"127.0.0.1:{port}" in line and "luigid" in line
