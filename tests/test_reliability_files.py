"""Private files: no unpickling from a place another user can write, nothing group- or world-writable.

luigid unpickles ``luigi-state.pickle`` when it starts. ``luigid --background`` daemonizes with
umask 0, so the old ``luigid.sh start`` left that file mode 0666: any local user could choose the
code luigid (root, on the machine of the probe) runs at its next start. The first test reproduces
that as root with the user ``nobody`` and shows it impossible through ``luigid.sh`` now; the others
create files through every start path (luigid.sh, the systemd unit template, a cron script, the
built-in scheduler) from a process whose umask is 0 and check that none is group- or world-writable.
"""

from __future__ import annotations

import os
import pickle
import pwd
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPTS = REPO / "infrastructure" / "scripts"
SYSTEMD = REPO / "infrastructure" / "systemd"
LUIGID = str(Path(sys.executable).with_name("luigid"))
INSTALL_DIR = "/opt/rtlmp-spike-forecaster"

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def script_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RTLMP_", "LUIGID_"))
           or k.startswith("RTLMP_ARTIFACT_KEY")}
    if sys.prefix != sys.base_prefix:
        env["RTLMP_VENV"] = sys.prefix
    return {**env, **extra}


def luigid_sh(action: str, state: Path, logs: Path, port: int, umask: int = 0) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPTS / "luigid.sh"), action, "--port", str(port), "--state-dir", str(state),
                           "--log-dir", str(logs)], capture_output=True, text=True, timeout=90, env=script_env(),
                          umask=umask)


def exposed(root: Path) -> list[str]:
    """Every path under ``root`` (itself included) that group or others may write."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = path.lstat().st_mode
        if not stat.S_ISLNK(mode) and mode & 0o022:
            found.append(f"{path} {stat.S_IMODE(mode):04o}")
    return found


def answers(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/graph", timeout=1)
    except OSError:
        return False
    return True


def wait_until(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture(autouse=True)
def _luigid_extra() -> None:
    pytest.importorskip("sqlalchemy", reason="luigid's task history needs the luigid extra (SQLAlchemy < 2)")
    pytest.importorskip("prometheus_client", reason="luigid's /metrics needs the luigid extra (prometheus-client)")


# --- the root code execution ---------------------------------------------------------------------------


class _RunsCode:
    """A pickle whose loading runs a shell command (what an attacker would plant)."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


@pytest.fixture
def nobody() -> Iterator[int]:
    """The uid of ``nobody``, when this test runs as root and ``nobody`` can run a shell."""
    if os.geteuid() != 0:
        pytest.skip("the root code execution is reproduced as root only (luigid ran as root in the probe); "
                    f"this test runs as uid {os.geteuid()}")
    try:
        uid = pwd.getpwnam("nobody").pw_uid
    except KeyError:
        pytest.skip("there is no user 'nobody' to play the local attacker")
    try:
        probe = subprocess.run(["/bin/sh", "-c", "id -u"], capture_output=True, text=True, user=uid, group=uid,
                               timeout=60, check=False)
    except OSError as exc:
        pytest.skip(f"user 'nobody' cannot run /bin/sh: {exc}")
    if probe.returncode != 0 or probe.stdout.strip() != str(uid):
        pytest.skip(f"user 'nobody' cannot run /bin/sh: {probe.stderr.strip()[-200:]}")
    yield uid


@pytest.fixture
def shared_base() -> Iterator[Path]:
    """A folder every user may traverse (mode 0711), as a home or /var/lib is; pytest's own are 0700."""
    base = Path(tempfile.mkdtemp(prefix="rtlmp-private-"))
    base.chmod(0o711)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def plant_as(uid: int, path: Path, payload: bytes) -> subprocess.CompletedProcess:
    """As user ``uid``, overwrite ``path`` with ``payload`` (the attacker's step: a shell is all it takes)."""
    return subprocess.run(["/bin/sh", "-c", 'cat > "$1"', "sh", str(path)], input=payload, capture_output=True,
                          user=uid, group=uid, timeout=60, check=False)


def start_luigid_in_background(state: Path, logs: Path, port: int) -> int:
    """luigid started as the old luigid.sh started it: ``--background`` (which sets umask 0)."""
    env = script_env(LUIGID_STATE_DIR=str(state), LUIGI_CONFIG_PATH=str(REPO / "infrastructure" / "luigid.cfg"))
    # A stopped luigid leaves its pid file: read before the new daemon writes its own, it would name the
    # dead one, and the new daemon would outlive the test's stop().
    (state / "luigid.pid").unlink(missing_ok=True)
    subprocess.run([LUIGID, "--background", "--pidfile", str(state / "luigid.pid"), "--logdir", str(logs),
                    "--state-path", str(state / "luigi-state.pickle"), "--port", str(port), "--address", "127.0.0.1"],
                   cwd=state, env=env, check=True, timeout=60)
    assert wait_until(lambda: (state / "luigid.pid").exists()), "luigid wrote no pid file"
    return int((state / "luigid.pid").read_text().strip())


def stop(pid: int) -> None:
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        return
    if not wait_until(lambda: not Path(f"/proc/{pid}").exists() if Path("/proc").exists() else True, 20):
        os.kill(pid, 9)


def test_root_code_execution_through_the_state_file_is_reproduced_then_impossible(nobody: int, shared_base: Path):
    marker = shared_base / "ran-as-uid"
    payload = pickle.dumps(_RunsCode(f"id -u > {marker}"))

    # Before: luigid --background leaves its state world-writable; nobody plants code; root runs it.
    state, logs, port = shared_base / "old-state", shared_base / "old-logs", free_port()
    state.mkdir(mode=0o755)
    logs.mkdir(mode=0o755)
    pid = start_luigid_in_background(state, logs, port)
    assert wait_until(lambda: answers(port)), "luigid did not answer"
    stop(pid)
    assert wait_until(lambda: (state / "luigi-state.pickle").exists())
    assert stat.S_IMODE((state / "luigi-state.pickle").stat().st_mode) & 0o002, "the state file was world-writable"
    assert plant_as(nobody, state / "luigi-state.pickle", payload).returncode == 0, "nobody could write it"
    pid = start_luigid_in_background(state, logs, port)
    assert wait_until(marker.exists, 30), "the planted pickle ran when luigid started"
    stop(pid)
    assert marker.read_text().strip() == "0", "... and it ran as root"

    # After: luigid.sh refuses that state folder as it is, naming the planted file, and runs nothing.
    marker.unlink()
    refused = luigid_sh("start", state, logs, port, umask=0o022)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert f"{state / 'luigi-state.pickle'} is writable by group or others (mode 0666)" in line
    time.sleep(1)
    assert not marker.exists() and not answers(port)

    # After: luigid.sh keeps a fresh state private, so nobody cannot plant anything in it.
    state, logs = shared_base / "state", shared_base / "logs"
    for action in ("start", "stop"):
        result = luigid_sh(action, state, logs, port)
        assert result.returncode == 0, result.stdout + result.stderr
    assert (state / "luigi-state.pickle").exists()
    attempt = plant_as(nobody, state / "luigi-state.pickle", payload)
    assert attempt.returncode != 0 and b"Permission denied" in attempt.stderr
    assert exposed(state) == [] and exposed(logs) == []


# --- every start path, from a process with umask 0 -------------------------------------------------------


def test_luigid_sh_keeps_its_state_and_logs_private_whatever_the_callers_umask(tmp_path: Path) -> None:
    state, logs, port = tmp_path / "state", tmp_path / "logs", free_port()
    started = luigid_sh("start", state, logs, port, umask=0)
    assert started.returncode == 0, started.stdout + started.stderr
    stopped = luigid_sh("stop", state, logs, port, umask=0)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert (state / "luigi-state.pickle").exists() and (state / "task-history.db").exists()
    for folder in (state, logs):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert [p for p in folder.iterdir() if p.stat().st_mode & 0o077] == [], "files are luigid's user's alone"


@pytest.mark.parametrize("problem", ["group_writable_folder", "foreign_owner", "symlink"])
def test_luigid_sh_refuses_a_state_path_another_user_could_write_in_one_line(tmp_path: Path, problem: str) -> None:
    state, logs, port = tmp_path / "state", tmp_path / "logs", free_port()
    state.mkdir()
    if problem == "group_writable_folder":
        state.chmod(0o770)
        named = f"{state} is writable by group or others (mode 0770)"
    elif problem == "foreign_owner":
        if os.geteuid() != 0:
            pytest.skip("making a file owned by another user needs root")
        (state / "luigi-state.pickle").write_bytes(b"")
        os.chown(state / "luigi-state.pickle", 65534, 65534)
        named = f"{state / 'luigi-state.pickle'} is owned by uid 65534"
    else:
        (state / "luigi-state.pickle").symlink_to(tmp_path / "elsewhere.pickle")
        named = f"{state / 'luigi-state.pickle'} is a symbolic link"
    result = luigid_sh("start", state, logs, port, umask=0o022)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("luigid.sh: refusing to start: ") and named in line
    assert not answers(port)


def unit_settings(name: str) -> dict[str, list[str]]:
    """The ``[Service]`` settings of a unit template (a key may repeat, e.g. ``Environment``)."""
    settings: dict[str, list[str]] = {}
    section = ""
    for line in (SYSTEMD / name).read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def test_the_systemd_units_set_a_private_umask_and_private_folders() -> None:
    luigid = unit_settings("rtlmp-luigid.service")
    assert luigid["UMask"] == ["0077"]
    assert luigid["StateDirectoryMode"] == ["0700"] and luigid["LogsDirectoryMode"] == ["0700"]
    environment = dict(item.split("=", 1) for item in luigid["Environment"])
    assert environment["LUIGID_STATE_DIR"] == "/var/lib/" + luigid["StateDirectory"][0]
    assert environment["LUIGID_LOG_DIR"] == "/var/log/" + luigid["LogsDirectory"][0]
    assert unit_settings("rtlmp-scheduler.service")["UMask"] == ["0022"]


def test_luigid_started_as_the_systemd_unit_would_writes_nothing_others_can_write(tmp_path: Path) -> None:
    """The unit template run as systemd would: its umask, its state and log folders (mode as declared,
    here under tmp_path), its environment, its ExecStart and ExecStop."""
    unit = unit_settings("rtlmp-luigid.service")
    state, logs, port = tmp_path / "var-lib-rtlmp-luigid", tmp_path / "var-log-rtlmp-luigid", free_port()
    state.mkdir(mode=int(unit["StateDirectoryMode"][0], 8))
    logs.mkdir(mode=int(unit["LogsDirectoryMode"][0], 8))
    environment = dict(item.split("=", 1) for item in unit["Environment"])
    environment.update(LUIGID_STATE_DIR=str(state), LUIGID_LOG_DIR=str(logs), LUIGID_PORT=str(port))
    env = script_env(**environment)
    for setting in ("ExecStart", "ExecStop"):
        command = unit[setting][0].replace(INSTALL_DIR, str(REPO)).split()
        result = subprocess.run(command, env=env, umask=int(unit["UMask"][0], 8), capture_output=True, text=True,
                                timeout=90, cwd=REPO)
        assert result.returncode == 0, result.stdout + result.stderr
    assert (state / "luigi-state.pickle").exists()
    assert exposed(state) == [] and exposed(logs) == []


OPS_YAML = """
deadlines:
  dam_closure: {{alert_on_risk: true, fallback_on_miss: false}}
logging:
  dir: {logs}
"""


def test_a_cron_script_writes_nothing_others_can_write_whatever_crons_umask(tmp_path: Path) -> None:
    root, logs = tmp_path / "data", tmp_path / "logs"
    config = tmp_path / "ops.yaml"
    config.write_text(OPS_YAML.format(logs=logs))
    env = script_env(RTLMP_CONFIG=str(config), RTLMP_DATA_ROOT=str(root), LUIGI_CONFIG_PATH=str(REPO / "luigi.cfg"))
    result = subprocess.run([str(SCRIPTS / "deadline_monitor.sh"), "--now", "2024-07-18T09:05"], env=env, umask=0,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr  # at risk: the forecast is missing
    assert (root / "ops" / "alerts.jsonl").exists() and list(logs.glob("*.log"))
    assert exposed(root) == [] and exposed(logs) == []


def test_the_built_in_scheduler_writes_nothing_others_can_write_whatever_its_umask(tmp_path: Path) -> None:
    root, logs = tmp_path / "data", tmp_path / "logs"
    config = tmp_path / "ops.yaml"
    config.write_text(OPS_YAML.format(logs=logs) + "operations:\n  luigi_scheduler: local\nscheduler:\n"
                      + "".join(f"  {job}: {{enabled: false}}\n"
                                for job in ("data_fetching", "inference", "model_retraining", "backtesting")))
    env = script_env(RTLMP_CONFIG=str(config), RTLMP_DATA_ROOT=str(root), LUIGI_CONFIG_PATH=str(REPO / "luigi.cfg"))
    result = subprocess.run([sys.executable, "-m", "pipeline.scheduler", "--once", "--now", "2024-07-18T09:05"],
                            env=env, umask=0, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (root / "ops" / "alerts.jsonl").exists() and list(logs.glob("*.log"))
    assert exposed(root) == [] and exposed(logs) == []


def test_the_security_document_lists_every_probe_with_its_promise() -> None:
    text = (REPO / "docs" / "security.md").read_text()
    assert re.search(r"luigid unpickles\s.{0,60}luigi-state\.pickle", text, re.S)
    for probe in ("trickles one byte every 2 s", "killed with `-9`", "HB_NOPE", "99 99 * * *", "1e308",
                  "nine levels of nested aliases", "archive_dir", "--end 2024-01-01", "--dataset prices",
                  "--shard 3", "RangeDaily", "objectstore.sh stop", "NP4-180-ER"):
        assert probe in text, f"docs/security.md does not list the probe {probe!r}"
