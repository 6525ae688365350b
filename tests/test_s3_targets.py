"""Targets in an S3 object store (a real SeaweedFS on 127.0.0.1): the guarantees of local disk.

Write once, atomic objects, appends that never lose a record, corrupt objects set aside, model
artifacts visible only through their metadata (written last), the lease lock across "machines",
and clear one-line errors when the store cannot be used.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from targets import Layout, ModelArtifactTarget, ParquetTarget
from targets.files import JsonLinesTarget, read_many
from targets.lease import LeaseLock
from targets.s3 import Credentials, S3Store
from pipeline.forecast import with_bid_columns
from targets.schemas import FEATURES, FORECAST
from targets.store import StoreError, reset_remote, store_for
from tests.objectstore_support import object_store  # noqa: F401 - fixture

T0 = dt.datetime(2024, 7, 16, 5, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def s3(object_store, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):  # noqa: F811
    """The environment pointed at the test store; yields a fresh ``s3://bucket/<test name>`` root."""
    for name, value in object_store.env().items():
        monkeypatch.setenv(name, value)
    reset_remote()
    yield f"s3://{object_store.bucket}/{request.node.name.replace('[', '-').replace(']', '')}"
    reset_remote()


def forecast_frame(rows: int = 6) -> pd.DataFrame:
    return with_bid_columns(pd.DataFrame({
        "forecast_date": dt.date(2024, 7, 16), "node": ["HB_NORTH"] * rows, "threshold": [100.0] * rows,
        "interval_start": pd.date_range("2024-07-17 05:00", periods=rows, freq="h", tz="UTC"),
        "horizon_h": np.arange(1, rows + 1), "probability": np.linspace(0.01, 0.2, rows),
        "issued_at": pd.Timestamp("2024-07-16 11:00", tz="UTC"), "model_id": "m", "status": "ok",
    }))


def test_a_parquet_target_is_written_once_and_reads_back_identically(s3: str) -> None:
    target = Layout(s3).forecast(dt.date(2024, 7, 16))
    assert not target.exists()
    frame = forecast_frame()
    target.write(frame)
    assert target.exists() and target.path.startswith("s3://")
    pd.testing.assert_frame_equal(target.read(), FORECAST.conform(frame))
    assert target.write_once(forecast_frame().assign(probability=0.5)) is False
    assert target.read()["probability"].iloc[0] == pytest.approx(0.01), "the first object stays"


def test_of_two_racing_writers_exactly_one_wins(s3: str) -> None:
    store = store_for(s3)
    path = f"{s3}/race"
    with ThreadPoolExecutor(8) as pool:
        wins = list(pool.map(lambda i: store.put_once(path, f"writer {i}".encode()), range(8)))
    assert wins.count(True) == 1
    assert store.read_bytes(path) == f"writer {wins.index(True)}".encode()


def test_a_truncated_parquet_object_is_not_complete_and_is_set_aside_on_rebuild(s3: str) -> None:
    target = ParquetTarget(f"{s3}/forecast.parquet", FORECAST)
    buffer = io.BytesIO()
    FORECAST.conform(forecast_frame()).to_parquet(buffer, index=False)
    store = store_for(s3)
    store.put(target.path, buffer.getvalue()[:-20])
    assert not target.exists() and target.present_but_corrupt()
    target.write(forecast_frame())
    assert target.exists()
    kept = [path for path, _ in store.list(f"{s3}/forecast.parquet.corrupt-")]
    assert len(kept) == 1, "the corrupt object is kept for inspection"


def test_read_many_reads_every_object_in_order(s3: str) -> None:
    layout = Layout(s3)
    days = [dt.date(2024, 7, d) for d in (1, 2, 3)]
    for i, day in enumerate(days):
        layout.forecast(day).write(forecast_frame().assign(probability=0.1 * (i + 1)))
    frame = read_many([layout.forecast(day) for day in days])
    assert frame["probability"].round(6).tolist() == [0.1] * 6 + [0.2] * 6 + [0.3] * 6


def test_read_many_reads_only_the_extra_columns_asked_for_from_objects(s3: str) -> None:
    """Objects are projected and filtered as local files are: the declared columns always, the extras
    asked for, the nodes asked for."""
    targets = []
    for day in (1, 2):
        hours = pd.date_range(f"2024-07-0{day}T05:00Z", periods=3, freq="h")
        targets.append(ParquetTarget(f"{s3}/features/{day}.parquet", FEATURES))
        targets[-1].write(pd.DataFrame({"node": ["HB_WEST"] * 3 + ["HB_NORTH"] * 3, "interval_start": [*hours, *hours],
                                        "horizon_h": [1, 2, 3] * 2, "issue_time": hours[0],
                                        "dam_hod": [20.0 * day] * 3 + [-1.0] * 3, "unused": 1.0}))
    frame = read_many(targets, ("HB_WEST",), columns=["dam_hod"])
    assert list(frame.columns) == ["node", "interval_start", "horizon_h", "issue_time", "dam_hod"]
    assert frame["dam_hod"].tolist() == [20.0] * 3 + [40.0] * 3 and set(frame["node"]) == {"HB_WEST"}
    assert len(read_many(targets)) == 12 and "unused" in read_many(targets)


def test_concurrent_appends_lose_no_record(s3: str) -> None:
    log = JsonLinesTarget(f"{s3}/ops/runs.jsonl")

    def append(i: int) -> None:
        log.append({"run": i})

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(append, range(30)))
    records, broken = log.read()
    assert sorted(r["run"] for r in records) == list(range(30)) and broken == []


def test_a_model_artifact_exists_only_once_its_metadata_is_written(s3: str) -> None:
    artifact = ModelArtifactTarget(f"{s3}/models/2024-07-16/m4-test")
    store = store_for(s3)
    store.put(artifact.model_path, b"a model file from a run that died before its metadata")
    assert not artifact.exists(), "a model file without metadata is not an artifact"
    record = artifact.write({"weights": [1, 2, 3]}, {"model_id": "m4-test"})
    assert artifact.exists() and record["model_id"] == "m4-test"
    assert artifact.load() == {"weights": [1, 2, 3]}
    assert artifact.write({"weights": [1, 2, 3]}, {"model_id": "m4-test"})["artifact_sha256"] == record["artifact_sha256"]


def test_a_changed_model_object_is_refused_on_load(s3: str) -> None:
    artifact = ModelArtifactTarget(f"{s3}/models/2024-07-16/m4-test")
    artifact.write({"weights": [1]}, {"model_id": "m4-test"})
    store_for(s3).put(artifact.model_path, b"not the signed model")
    with pytest.raises(Exception, match="does not match the signed metadata"):
        artifact.load()


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def test_the_lease_lock_admits_one_holder_and_is_released(s3: str) -> None:
    clock = Clock(T0)
    store = store_for(s3)
    path = f"{s3}/ops/locks/inference.lock"
    first, second = LeaseLock(path, store, clock), LeaseLock(path, store, clock)
    assert first.acquire()
    try:
        assert not second.acquire(), "another machine's run does not start while the lease holds"
        assert json.loads(store.read_bytes(path))["holder"] == first.holder
    finally:
        first.release()
    assert not store.exists(path)
    assert second.acquire()
    second.release()


def test_a_lock_whose_lease_ended_is_taken_over_and_its_old_holder_learns_it(s3: str) -> None:
    clock = Clock(T0)
    store = store_for(s3)
    path = f"{s3}/ops/locks/inference.lock"
    crashed = LeaseLock(path, store, clock, lease_seconds=300, renew_every_seconds=3600)
    assert crashed.acquire()
    clock.now = T0 + dt.timedelta(seconds=301)  # the holder's machine stopped renewing
    heir = LeaseLock(path, store, clock)
    assert heir.acquire()
    assert not crashed.renew() and crashed.lost
    crashed.release()
    assert store.exists(path), "the old holder does not delete the new holder's lock"
    heir.release()


def test_of_machines_taking_over_an_ended_lease_one_wins(s3: str) -> None:
    clock = Clock(T0)
    store = store_for(s3)
    path = f"{s3}/ops/locks/retrain.lock"
    assert LeaseLock(path, store, clock, renew_every_seconds=3600).acquire()
    clock.now = T0 + dt.timedelta(hours=1)
    contenders = [LeaseLock(path, store, clock, renew_every_seconds=3600) for _ in range(6)]
    barrier = threading.Barrier(len(contenders))

    def take(lock: LeaseLock) -> bool:
        barrier.wait()
        return lock.acquire()

    with ThreadPoolExecutor(len(contenders)) as pool:
        won = list(pool.map(take, contenders))
    assert won.count(True) == 1
    for lock, held in zip(contenders, won):
        if held:
            lock.release()


def test_a_wrong_secret_is_a_one_line_error_naming_the_endpoint(s3: str, object_store) -> None:  # noqa: F811
    store = S3Store(Credentials(object_store.endpoint_url, object_store.access_key, "not-the-secret"))
    with pytest.raises(StoreError) as error:
        store.check_writable(s3)
    assert object_store.endpoint_url in str(error.value) and "\n" not in str(error.value)


def test_an_unreachable_store_is_a_one_line_error_naming_the_endpoint(s3: str) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    store = S3Store(Credentials(endpoint, "AKEXAMPLE", "secret"))
    with pytest.raises(StoreError) as error:
        store.exists(f"{s3}/x")
    assert endpoint in str(error.value) and "unreachable" in str(error.value)


def test_a_missing_bucket_is_named(object_store, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    for name, value in object_store.env().items():
        monkeypatch.setenv(name, value)
    reset_remote()
    with pytest.raises(StoreError, match="no bucket 'no-such-bucket'"):
        store_for("s3://no-such-bucket/x").check_writable("s3://no-such-bucket/x")
    reset_remote()


def test_missing_credentials_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    reset_remote()
    with pytest.raises(StoreError, match="AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY"):
        store_for("s3://rtlmp/x")
    reset_remote()
