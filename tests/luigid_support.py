"""luigid for tests: started and stopped by the project's script on a free port, in a temporary folder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPTS = REPO / "infrastructure" / "scripts"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


@pytest.fixture
def luigid(tmp_path: Path):
    pytest.importorskip("sqlalchemy", reason="luigid's task history needs the luigid extra (SQLAlchemy < 2)")
    pytest.importorskip("prometheus_client", reason="luigid's /metrics needs the luigid extra (prometheus-client)")
    port = free_port()
    options = ["--port", str(port), "--state-dir", str(tmp_path / "luigid-state"),
               "--log-dir", str(tmp_path / "luigid-logs")]
    env = dict(os.environ, **({"RTLMP_VENV": sys.prefix} if sys.prefix != sys.base_prefix else {}))
    started = subprocess.run([str(SCRIPTS / "luigid.sh"), "start", *options], capture_output=True, text=True,
                             timeout=60, env=env)
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield port, tmp_path / "luigid-state"
    finally:
        stopped = subprocess.run([str(SCRIPTS / "luigid.sh"), "stop", *options], capture_output=True, text=True,
                                 timeout=60, env=env)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert subprocess.run([str(SCRIPTS / "luigid.sh"), "status", *options], capture_output=True,
                              env=env).returncode == 3
