"""The development S3 store (infrastructure/scripts/objectstore.sh, SeaweedFS): its lifecycle, its access
control, and the S3 guarantees the s3:// data root builds on (read-after-write, conditional writes)."""

from __future__ import annotations

import os
import socket
import stat
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.objectstore_support import (
    ADDRESS,
    GRPC_OFFSET,
    free_port,
    instance_pids,
    instance_ports,
    listening_sockets,
    new_key_pair,
    object_store,  # noqa: F401 - the session fixture
    require_weed,
    run_script,
    running_store,
    s3_client,
    script_env,
    wait_gone,
    weed_pid,
)

LINUX_PROC = Path("/proc/self/net/tcp").exists()


def error_of(caught: pytest.ExceptionInfo) -> tuple[int, str]:
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def client_error():
    from botocore.exceptions import ClientError

    return ClientError


def body(client, bucket: str, key: str) -> bytes:
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


def keys_under(client, bucket: str, prefix: str) -> list[str]:
    keys, token = [], None
    while True:
        options = {"Bucket": bucket, "Prefix": prefix}
        if token:
            options["ContinuationToken"] = token
        page = client.list_objects_v2(**options)
        keys += [item["Key"] for item in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            return keys
        token = page["NextContinuationToken"]


# ----------------------------------------------------------------------------------------------------
# The script: refusals and failure paths (no real weed needed)
# ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("missing", ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "both", "empty secret"])
def test_start_refuses_without_the_key_pair(tmp_path: Path, missing: str) -> None:
    access, secret = new_key_pair()
    if missing == "AWS_ACCESS_KEY_ID":
        access = None
    elif missing == "AWS_SECRET_ACCESS_KEY":
        secret = None
    elif missing == "both":
        access = secret = None
    else:
        secret = ""
    env = script_env(tmp_path / "store", free_port(), access, secret)
    started = run_script(env, "start")
    assert started.returncode == 2
    assert started.stderr.count("\n") == 1 and "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in started.stderr
    assert not instance_pids(tmp_path / "store")
    assert run_script(env, "status").returncode == 3


FAKE_WEED = """\
import http.server, os, signal, subprocess, sys, threading, time
args = sys.argv[1:]
port = int(next(a.split("=", 1)[1] for a in args if a.startswith("-s3.port=")))
data = next(a.split("=", 1)[1] for a in args if a.startswith("-dir="))
mode = MODE  # set when the fake is written: weed runs with an empty environment
if mode == "fail":
    print("fake weed: cannot open the volume folder", file=sys.stderr)
    sys.exit(1)
# Ignores SIGTERM, like a weed stuck in its shutdown, and starts a child that ignores it too.
signal.signal(signal.SIGTERM, signal.SIG_IGN)
subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                  "time.sleep(600)", data])
if mode == "silent":
    time.sleep(600)

class Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # S3 refuses anonymous requests; the master's topology has no volume
        status, reply = (200, b'{"Topology": {"DataCenters": []}}') if self.path == "/dir/status" else (403, b"")
        self.send_response(status)
        self.end_headers()
        self.wfile.write(reply)
    def log_message(self, *args):
        pass

master = int(next(a.split("=", 1)[1] for a in args if a.startswith("-master.port=")))
threading.Thread(target=http.server.HTTPServer(("127.0.0.1", master), Answer).serve_forever, daemon=True).start()
http.server.HTTPServer(("127.0.0.1", port), Answer).serve_forever()
"""


def write_fake_weed(folder: Path, mode: str = "stubborn") -> Path:
    """A stand-in for weed: 'stubborn' serves but ignores SIGTERM, 'fail' exits, 'silent' never answers."""
    path = folder / f"fake-weed-{mode}"
    path.write_text(f"#!{sys.executable}\nMODE = {mode!r}\n{FAKE_WEED}")
    path.chmod(0o755)
    return path


@pytest.fixture
def fake_weed(tmp_path: Path) -> Path:
    return write_fake_weed(tmp_path)


@pytest.fixture
def no_leftovers(tmp_path: Path):
    """Whatever a test started from its folder is killed at the end, and must already be gone."""
    yield
    leftovers = instance_pids(tmp_path)
    for pid in leftovers:
        os.kill(pid, 9)
    assert not leftovers, f"processes left running: {leftovers}"


def test_stop_escalates_to_sigkill_and_leaves_no_process(tmp_path: Path, fake_weed: Path, no_leftovers) -> None:
    directory = tmp_path / "store"
    env = script_env(directory, free_port(), *new_key_pair(), OBJECTSTORE_WEED=str(fake_weed),
                     OBJECTSTORE_STOP_TIMEOUT="1")
    started = run_script(env, "start")
    assert started.returncode == 0, started.stdout + started.stderr
    deadline = time.monotonic() + 5
    while len(instance_pids(directory)) < 2 and time.monotonic() < deadline:  # the fake starts its child
        time.sleep(0.05)
    assert len(instance_pids(directory)) == 2
    status = run_script(env, "status")
    assert status.returncode == 0 and str(weed_pid(directory)) in status.stdout
    stopped = run_script(env, "stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "still running 1 s after SIGTERM; killing it" in stopped.stderr
    assert not wait_gone(directory, 5), "the weed process group survived stop"
    assert run_script(env, "status").returncode == 3
    assert not (directory / "s3.json").exists()


def test_start_fails_with_the_log_tail_when_weed_exits(tmp_path: Path, no_leftovers) -> None:
    directory = tmp_path / "store"
    env = script_env(directory, free_port(), *new_key_pair(), OBJECTSTORE_WEED=str(write_fake_weed(tmp_path, "fail")))
    started = run_script(env, "start")
    assert started.returncode == 1
    assert "weed exited during start" in started.stderr and "cannot open the volume folder" in started.stderr
    assert run_script(env, "status").returncode == 3


def test_start_gives_up_after_the_timeout_and_stops_weed(tmp_path: Path, no_leftovers) -> None:
    directory = tmp_path / "store"
    env = script_env(directory, free_port(), *new_key_pair(), OBJECTSTORE_WEED=str(write_fake_weed(tmp_path, "silent")),
                     OBJECTSTORE_START_TIMEOUT="1", OBJECTSTORE_STOP_TIMEOUT="1")
    started = run_script(env, "start")
    assert started.returncode == 1
    assert "not ready within 1 s (S3 endpoint not answering)" in started.stderr
    assert not wait_gone(directory, 5)
    assert run_script(env, "status").returncode == 3


def test_start_refuses_a_port_in_use(tmp_path: Path, fake_weed: Path, no_leftovers) -> None:
    port = free_port()
    with socket.socket() as squatter:
        squatter.bind((ADDRESS, port + 2))
        squatter.listen()
        env = script_env(tmp_path / "store", port, *new_key_pair(), OBJECTSTORE_WEED=str(fake_weed))
        started = run_script(env, "start")
    assert started.returncode == 1
    assert f"port(s) {port + 2} on 127.0.0.1 already in use" in started.stderr
    assert not instance_pids(tmp_path / "store")


def test_bad_arguments_are_one_line_errors(tmp_path: Path) -> None:
    env = script_env(tmp_path / "store", 60000, *new_key_pair())
    assert run_script(env, "status").returncode == 2  # 60000 + 4 + 10000 > 65535
    env = script_env(tmp_path / "store", free_port(), *new_key_pair())
    made = run_script(env, "mb", "some-bucket")
    assert made.returncode == 1 and "objectstore is not running" in made.stderr
    assert run_script(env, "mb").returncode == 2


# ----------------------------------------------------------------------------------------------------
# The real server: lifecycle through the script
# ----------------------------------------------------------------------------------------------------

def test_start_status_mb_stop_restart_with_new_keys(tmp_path: Path) -> None:
    require_weed()
    directory, port = tmp_path / "store", free_port()
    access, secret = new_key_pair()
    env = script_env(directory, port, access, secret)
    endpoint = f"http://127.0.0.1:{port}"
    ClientError = client_error()
    try:
        assert run_script(env, "status").returncode == 3

        began = time.monotonic()
        started = run_script(env, "start")
        start_seconds = time.monotonic() - began
        assert started.returncode == 0, started.stdout + started.stderr
        assert f"S3 endpoint {endpoint}" in started.stdout
        pid = weed_pid(directory)
        status = run_script(env, "status")
        assert status.returncode == 0 and endpoint in status.stdout and f"pid {pid}" in status.stdout
        again = run_script(env, "start")
        assert again.returncode == 0 and "already running" in again.stdout and weed_pid(directory) == pid

        config = directory / "s3.json"
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
        for _ in range(2):  # mb is idempotent
            made = run_script(env, "mb", "lifecycle")
            assert made.returncode == 0, made.stdout + made.stderr
        bad = run_script(env, "mb", "Not_A_Bucket")
        assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "InvalidBucketName" in bad.stderr

        client = s3_client(endpoint, access, secret)
        assert "lifecycle" in [b["Name"] for b in client.list_buckets()["Buckets"]]
        client.put_object(Bucket="lifecycle", Key="kept/across/restart", Body=b"durable")

        began = time.monotonic()
        stopped = run_script(env, "stop")
        stop_seconds = time.monotonic() - began
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert not instance_pids(directory), "weed still running after stop"
        assert run_script(env, "status").returncode == 3
        assert not list(Path("/tmp").glob(f"seaweedfs-*-grpc-{port + GRPC_OFFSET}.sock"))
        assert run_script(env, "stop").returncode == 0  # stopping a stopped store is fine
        print(f"\nobjectstore start {start_seconds:.1f} s, stop {stop_seconds:.1f} s")

        # A restart with another secret: the data survives, the old secret no longer opens it.
        new_secret = new_key_pair()[1]
        restarted = run_script(script_env(directory, port, access, new_secret), "start")
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        assert body(s3_client(endpoint, access, new_secret), "lifecycle", "kept/across/restart") == b"durable"
        with pytest.raises(ClientError) as caught:
            client.get_object(Bucket="lifecycle", Key="kept/across/restart")
        assert error_of(caught) == (403, "SignatureDoesNotMatch")
        log = (directory / "weed.log").read_text() + (directory / "weed.log.1").read_text()
        assert secret not in log and new_secret not in log
    finally:
        run_script(env, "stop")
        leftovers = wait_gone(directory)
        for pid in leftovers:
            os.kill(pid, 9)
        assert not leftovers


def test_two_instances_run_at_once(object_store, tmp_path: Path) -> None:  # noqa: F811
    ClientError = client_error()
    with running_store(tmp_path / "second", port=free_port(set(object_store.ports())), bucket="second") as second:
        assert second.port != object_store.port
        first_client, second_client = object_store.boto3_client(), second.boto3_client()
        first_client.put_object(Bucket=object_store.bucket, Key="two/first", Body=b"1")
        second_client.put_object(Bucket=second.bucket, Key="two/second", Body=b"2")
        assert body(first_client, object_store.bucket, "two/first") == b"1"
        assert body(second_client, second.bucket, "two/second") == b"2"
        # Separate data and separate keys.
        assert second.bucket not in [b["Name"] for b in first_client.list_buckets()["Buckets"]]
        with pytest.raises(ClientError) as caught:
            s3_client(second.endpoint_url, object_store.access_key, object_store.secret_key).list_buckets()
        assert error_of(caught)[0] == 403
    # Stopping the second left the first serving.
    assert body(object_store.boto3_client(), object_store.bucket, "two/first") == b"1"


# ----------------------------------------------------------------------------------------------------
# Access control and isolation of the shared instance
# ----------------------------------------------------------------------------------------------------

def test_the_key_pair_can_put_get_list_and_delete(object_store) -> None:  # noqa: F811
    client, bucket = object_store.boto3_client(), object_store.bucket
    for name in ("a.parquet", "b/c.parquet", "b/d e+f.csv"):
        client.put_object(Bucket=bucket, Key=f"basic/{name}", Body=name.encode())
    assert keys_under(client, bucket, "basic/") == ["basic/a.parquet", "basic/b/c.parquet", "basic/b/d e+f.csv"]
    assert body(client, bucket, "basic/b/d e+f.csv") == b"b/d e+f.csv"
    listed = client.list_objects_v2(Bucket=bucket, Prefix="basic/", Delimiter="/")
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["basic/b/"]
    client.delete_object(Bucket=bucket, Key="basic/a.parquet")
    assert keys_under(client, bucket, "basic/") == ["basic/b/c.parquet", "basic/b/d e+f.csv"]


def test_a_wrong_secret_an_unknown_key_and_anonymous_requests_are_refused(object_store) -> None:  # noqa: F811
    import urllib.error
    import urllib.request

    ClientError = client_error()
    bucket = object_store.bucket
    object_store.boto3_client().put_object(Bucket=bucket, Key="private/x", Body=b"secret data")
    wrong_secret = s3_client(object_store.endpoint_url, object_store.access_key, "not-the-secret")
    unknown_key = s3_client(object_store.endpoint_url, "AKUNKNOWN000", object_store.secret_key)
    for client, code in ((wrong_secret, "SignatureDoesNotMatch"), (unknown_key, "InvalidAccessKeyId")):
        for call in (lambda c: c.get_object(Bucket=bucket, Key="private/x"),
                     lambda c: c.put_object(Bucket=bucket, Key="private/x", Body=b"overwritten"),
                     lambda c: c.list_objects_v2(Bucket=bucket)):
            with pytest.raises(ClientError) as caught:
                call(client)
            assert error_of(caught) == (403, code)
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        direct.open(f"{object_store.endpoint_url}/{bucket}/private/x", timeout=10)
    assert anonymous.value.code == 403
    assert body(object_store.boto3_client(), bucket, "private/x") == b"secret data"
    log = (object_store.directory / "weed.log").read_text()
    assert object_store.secret_key not in log


def test_the_identities_file_is_private(object_store) -> None:  # noqa: F811
    config = object_store.directory / "s3.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(object_store.directory.stat().st_mode) == 0o700


@pytest.mark.skipif(not LINUX_PROC, reason="reads listening sockets from Linux's /proc")
def test_every_listening_socket_is_on_loopback(object_store) -> None:  # noqa: F811
    pid = weed_pid(object_store.directory)
    sockets = listening_sockets(pid)
    assert sockets and all(address == "127.0.0.1" for address, _ in sockets), sockets
    assert sorted(port for _, port in sockets) == sorted(instance_ports(object_store.port))
    assert instance_pids(object_store.directory) == [pid]  # one process, no helpers


def test_s3_bucket_semantics_match_aws(object_store) -> None:  # noqa: F811
    """No bucket is created on the fly and a bucket with objects cannot be deleted, as on AWS."""
    ClientError = client_error()
    client = object_store.boto3_client()
    with pytest.raises(ClientError) as caught:
        client.put_object(Bucket="no-such-bucket", Key="x", Body=b"1")
    assert error_of(caught) == (404, "NoSuchBucket")
    client.put_object(Bucket=object_store.bucket, Key="semantics/x", Body=b"1")
    with pytest.raises(ClientError) as caught:
        client.delete_bucket(Bucket=object_store.bucket)
    assert error_of(caught) == (409, "BucketNotEmpty")


# ----------------------------------------------------------------------------------------------------
# Guarantees the s3:// data root relies on
# ----------------------------------------------------------------------------------------------------

def test_read_after_write_for_new_overwritten_and_deleted_objects_and_listings(object_store) -> None:  # noqa: F811
    """Strong consistency, as on AWS S3: what one client wrote another sees at once, listings included."""
    ClientError = client_error()
    writer, reader, bucket = object_store.boto3_client(), object_store.boto3_client(), object_store.bucket
    expected: list[str] = []
    for i in range(25):
        key = f"raw/{i:03d}/part.parquet"
        writer.put_object(Bucket=bucket, Key=key, Body=f"v1-{i}".encode())
        expected.append(key)
        assert body(reader, bucket, key) == f"v1-{i}".encode()
        assert reader.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(f"v1-{i}")
        assert keys_under(reader, bucket, "raw/") == expected
        writer.put_object(Bucket=bucket, Key=key, Body=f"v2-{i}".encode())
        assert body(reader, bucket, key) == f"v2-{i}".encode()
    for key in expected[::2]:
        writer.delete_object(Bucket=bucket, Key=key)
        with pytest.raises(ClientError) as caught:
            reader.get_object(Bucket=bucket, Key=key)
        assert error_of(caught) == (404, "NoSuchKey")
    assert keys_under(reader, bucket, "raw/") == expected[1::2]


def test_listing_is_sorted_and_paginates(object_store) -> None:  # noqa: F811
    client, bucket = object_store.boto3_client(), object_store.bucket
    keys = sorted([f"pages/{i:02d}" for i in range(23)] + ["pages/A", "pages/_", "pages/a/b"])
    for key in reversed(keys):
        client.put_object(Bucket=bucket, Key=key, Body=b"")
    seen, token = [], None
    while True:
        options = {"Bucket": bucket, "Prefix": "pages/", "MaxKeys": 5}
        if token:
            options["ContinuationToken"] = token
        page = client.list_objects_v2(**options)
        seen += [item["Key"] for item in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert seen == keys


def test_put_if_none_match_creates_only_when_absent(object_store) -> None:  # noqa: F811
    ClientError = client_error()
    client, bucket = object_store.boto3_client(), object_store.bucket
    created = client.put_object(Bucket=bucket, Key="once/marker", Body=b"first", IfNoneMatch="*")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(ClientError) as caught:
        client.put_object(Bucket=bucket, Key="once/marker", Body=b"second", IfNoneMatch="*")
    assert error_of(caught) == (412, "PreconditionFailed")
    assert body(client, bucket, "once/marker") == b"first"


def test_put_if_match_replaces_only_the_expected_version(object_store) -> None:  # noqa: F811
    ClientError = client_error()
    client, bucket = object_store.boto3_client(), object_store.bucket
    etag = client.put_object(Bucket=bucket, Key="cas/lease", Body=b"holder-a")["ETag"]
    renewed = client.put_object(Bucket=bucket, Key="cas/lease", Body=b"holder-a renewed", IfMatch=etag)
    assert renewed["ETag"] != etag
    with pytest.raises(ClientError) as caught:  # the old ETag no longer matches
        client.put_object(Bucket=bucket, Key="cas/lease", Body=b"holder-b", IfMatch=etag)
    assert error_of(caught) == (412, "PreconditionFailed")
    assert body(client, bucket, "cas/lease") == b"holder-a renewed"
    with pytest.raises(ClientError) as caught:  # AWS answers 404 NoSuchKey here; SeaweedFS 412
        client.put_object(Bucket=bucket, Key="cas/absent", Body=b"x", IfMatch=etag)
    assert error_of(caught)[0] in (404, 412)
    with pytest.raises(ClientError):
        client.head_object(Bucket=bucket, Key="cas/absent")


def test_delete_if_match_removes_only_the_expected_version(object_store) -> None:  # noqa: F811
    ClientError = client_error()
    client, bucket = object_store.boto3_client(), object_store.bucket
    etag = client.put_object(Bucket=bucket, Key="cas/release", Body=b"mine")["ETag"]
    client.put_object(Bucket=bucket, Key="cas/release", Body=b"someone else's", IfMatch=etag)
    with pytest.raises(ClientError) as caught:
        client.delete_object(Bucket=bucket, Key="cas/release", IfMatch=etag)
    assert error_of(caught) == (412, "PreconditionFailed")
    current = client.head_object(Bucket=bucket, Key="cas/release")["ETag"]
    client.delete_object(Bucket=bucket, Key="cas/release", IfMatch=current)
    assert keys_under(client, bucket, "cas/release") == []


def test_multipart_upload_honours_if_none_match(object_store) -> None:  # noqa: F811
    """Large objects (boto3's upload_file above 8 MiB) go through multipart: the same write-once rule holds."""
    ClientError = client_error()
    client, bucket = object_store.boto3_client(), object_store.bucket
    client.put_object(Bucket=bucket, Key="once/big", Body=b"small original")
    upload = client.create_multipart_upload(Bucket=bucket, Key="once/big")
    part = client.upload_part(Bucket=bucket, Key="once/big", UploadId=upload["UploadId"], PartNumber=1, Body=b"big")
    with pytest.raises(ClientError) as caught:
        client.complete_multipart_upload(Bucket=bucket, Key="once/big", UploadId=upload["UploadId"],
                                         MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
                                         IfNoneMatch="*")
    assert error_of(caught) == (412, "PreconditionFailed")
    assert body(client, bucket, "once/big") == b"small original"


def race(clients, attempt) -> list[str]:
    """Run ``attempt(client, i)`` from every client at once; 'ok' or the S3 error code of each."""
    ClientError = client_error()
    outcomes: list[str] = [""] * len(clients)
    barrier = threading.Barrier(len(clients))

    def run(i: int) -> None:
        barrier.wait()
        try:
            attempt(clients[i], i)
            outcomes[i] = "ok"
        except ClientError as error:
            outcomes[i] = error.response["Error"]["Code"]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_concurrent_conditional_writes_have_exactly_one_winner(object_store) -> None:  # noqa: F811
    """Write-once (If-None-Match: *) and compare-and-swap (If-Match) stay atomic under contention."""
    bucket = object_store.bucket
    clients = [object_store.boto3_client() for _ in range(5)]
    for round_ in range(3):
        key = f"race/create/{round_}"
        outcomes = race(clients, lambda c, i, key=key: c.put_object(Bucket=bucket, Key=key, Body=f"w{i}".encode(),
                                                                    IfNoneMatch="*"))
        assert outcomes.count("ok") == 1 and set(outcomes) == {"ok", "PreconditionFailed"}, outcomes
        assert body(clients[0], bucket, key) == f"w{outcomes.index('ok')}".encode()

        key = f"race/swap/{round_}"
        etag = clients[0].put_object(Bucket=bucket, Key=key, Body=b"base")["ETag"]
        outcomes = race(clients, lambda c, i, key=key, etag=etag: c.put_object(
            Bucket=bucket, Key=key, Body=f"w{i}".encode(), IfMatch=etag))
        assert outcomes.count("ok") == 1 and set(outcomes) == {"ok", "PreconditionFailed"}, outcomes
        assert body(clients[0], bucket, key) == f"w{outcomes.index('ok')}".encode()
