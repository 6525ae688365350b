"""An object store that stops mid-run: one line naming the endpoint, exit code 30, luigi's summary, no partial object.

The probe: ``objectstore.sh stop`` 15 s into an ``s3://`` run gave exit code 40 and 3,824 log
lines, and luigi's execution summary itself crashed. The end-to-end test runs a private SeaweedFS
instance (started and stopped by ``objectstore.sh``) so it can stop it mid-run; the unit tests
use a port on 127.0.0.1 where nothing listens.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from targets.errors import StoreError, StoreUnavailable
from targets.s3 import OUTAGE_SECONDS, Credentials, S3Store
from tests.conftest import REPO, small_config
from tests.objectstore_support import require_weed, run_script, running_store, script_env

LUIGI = str(Path(sys.executable).with_name("luigi"))
RETCODE_TASK_FAILED = 30


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_outage_is_one_error_naming_the_endpoint_then_every_call_fails_at_once() -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    store = S3Store(Credentials(endpoint, "AKEXAMPLE", "secret"))
    with pytest.raises(StoreUnavailable) as first:
        store.read_bytes("s3://rtlmp/prod/forecasts/2024-07-18/forecast.parquet")
    assert endpoint in str(first.value) and "\n" not in str(first.value)
    assert isinstance(first.value, StoreError)
    started = time.monotonic()
    for _ in range(50):
        with pytest.raises(StoreUnavailable, match="unreachable"):
            store.exists("s3://rtlmp/prod/raw/x.parquet")
    assert time.monotonic() - started < 1.0, "no retries while the outage lasts"
    assert OUTAGE_SECONDS >= 10


def test_during_an_outage_exists_answers_what_the_store_said_before_and_nothing_else(monkeypatch) -> None:
    store = S3Store(Credentials(f"http://127.0.0.1:{closed_port()}", "AKEXAMPLE", "secret"))
    answers = {"s3://rtlmp/a": {"ETag": "1"}, "s3://rtlmp/b": None}
    monkeypatch.setattr(store, "_head", lambda path: answers[path])
    assert store.exists("s3://rtlmp/a") and not store.exists("s3://rtlmp/b")

    def down(path: str) -> None:
        raise StoreUnavailable(f"object store {store.credentials.endpoint_url} unreachable (head_object {path})")

    monkeypatch.setattr(store, "_head", down)
    assert store.exists("s3://rtlmp/a") and not store.exists("s3://rtlmp/b")
    with pytest.raises(StoreUnavailable):
        store.exists("s3://rtlmp/never-asked")


def _objects(client, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    token: dict[str, str] = {}
    while True:
        listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix, **token)
        keys += [item["Key"] for item in listed.get("Contents", [])]
        if not listed.get("IsTruncated"):
            return keys
        token = {"ContinuationToken": listed["NextContinuationToken"]}


@pytest.mark.e2e
def test_a_store_stopped_mid_run_gives_one_line_exit_30_the_summary_and_no_partial_object(tmp_path: Path) -> None:
    require_weed()
    config = tmp_path / "small.yaml"
    config.write_text(small_config())
    with running_store(tmp_path / "store") as store:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("RTLMP_", "AWS_")) or k.startswith("RTLMP_ARTIFACT_KEY")}
        env.update(store.env())
        env.update({"RTLMP_CONFIG": str(config), "RTLMP_DATA_ROOT": f"s3://{store.bucket}/outage",
                    "LUIGI_CONFIG_PATH": str(REPO / "luigi.cfg")})
        client = store.boto3_client()
        run = subprocess.Popen([LUIGI, "--module", "pipeline", "DailyInference", "--date", "2024-07-16",
                                "--local-scheduler"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and run.poll() is None:  # stop it once raw files are being written
            if len(_objects(client, store.bucket, "outage/raw/")) >= 20:
                break
            time.sleep(0.2)
        assert run.poll() is None, "the run ended before the store could be stopped under it"
        controls = script_env(store.directory, store.port, store.access_key, store.secret_key)
        assert run_script(controls, "stop").returncode == 0
        output, _ = run.communicate(timeout=600)
        assert run_script(controls, "start").returncode == 0  # to look at what the run left behind

        assert run.returncode == RETCODE_TASK_FAILED, output[-3000:]
        named = [line for line in output.splitlines() if "the run stops: object store" in line]
        assert len(named) == 1 and store.endpoint_url in named[0], output[-3000:]
        assert "===== Luigi Execution Summary =====" in output and "Uncaught exception" not in output
        assert output.count("Traceback") <= 2, "one failing task's traceback at most (two with a second worker)"
        assert len(output.splitlines()) < 300, f"{len(output.splitlines())} lines"

        for key in _objects(client, store.bucket, "outage/"):
            body = client.get_object(Bucket=store.bucket, Key=key)["Body"].read()
            if key.endswith(".parquet"):
                pq.read_metadata(io.BytesIO(body))  # a cut object would have no footer
            elif key.endswith(".json"):
                json.loads(body)
