"""The cron scripts: present, executable, valid; one run at a time; a killed run leaves nothing half-written.

The scenarios run the real scripts (bash, the .venv's python and luigi binary) on a copy of a real
pipeline root, as cron would.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from pipeline.ops import jobs
from targets import Layout
from targets.schemas import FORECAST
from tests.conftest import REPO
from tests.ops_support import *  # noqa: F403 - fixtures and helpers

SCRIPTS = REPO / "infrastructure" / "scripts"
SEED_SCRIPTS = ("daily_data_fetch", "daily_inference", "model_retraining", "weekly_backtesting")
NEXT_DAY = BASE_DAY + dt.timedelta(days=1)
RUN_AT = f"{NEXT_DAY.isoformat()}T06:00"


@pytest.mark.parametrize("name", [*SEED_SCRIPTS, "deadline_monitor", "luigid"])
def test_script_is_executable_and_valid_bash(name: str) -> None:
    script = SCRIPTS / f"{name}.sh"
    assert script.is_file() and os.access(script, os.X_OK), f"{script} is not an executable file"
    assert script.read_text().startswith("#!/usr/bin/env bash\n")
    check = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize("name", [*SEED_SCRIPTS, "deadline_monitor"])
def test_windows_twin_exists_with_crlf_line_ends(name: str) -> None:
    text = (SCRIPTS / f"{name}.bat").read_bytes()
    assert text.startswith(b"@echo off\r\n") and b"\n" not in text.replace(b"\r\n", b"")


@pytest.mark.parametrize("name", SEED_SCRIPTS)
def test_script_runs_its_job_through_luigi_range_wrappers(name: str) -> None:
    """Each script (and its .bat twin) passes the job's own luigi command, the one the scheduler runs."""
    [spec] = [s for s in jobs.JOBS.values() if s.script == name]
    expected = " ".join(spec.luigi_args())
    assert f'run_job {spec.name} "$@" -- "$LUIGI" {expected}\n' in (SCRIPTS / f"{name}.sh").read_text()
    assert f'run {spec.name} %* -- "%LUIGI%" {expected}\r\n' in (SCRIPTS / f"{name}.bat").read_bytes().decode()
    if spec.ranged:
        assert expected.startswith("--module pipeline RangeDaily --of ")


def test_crontab_example_runs_the_seed_schedule_in_central_time() -> None:
    text = (SCRIPTS / "crontab.example").read_text()
    assert "\nCRON_TZ=America/Chicago\n" in text
    entries = {m[2]: m[1] for m in re.finditer(r"^([^#\n=]+?)\s+\$RTLMP/(\w+)\.sh", text, re.MULTILINE)}
    assert entries == {"daily_data_fetch": "0 0 * * *", "daily_inference": "0 6 * * *",
                       "model_retraining": "0 1 */2 * *", "weekly_backtesting": "0 2 * * 0",
                       "deadline_monitor": "*/5 9 * * *"}


def test_dry_run_prints_the_luigi_command_with_dates_in_central_time(ops_config) -> None:
    ops_config()
    result = subprocess.run([str(SCRIPTS / "daily_inference.sh"), "--dry-run", "--now", "2024-11-03T23:30"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    # 23:30 CST on Nov 3 is already Nov 4 in UTC: the dates are still those of the CPT day.
    assert "RangeDaily --of DailyInference --start 2024-11-03 --stop 2024-11-04" in result.stdout
    assert "--worker-keep-alive --scheduler-retry-delay 0 --local-scheduler" in result.stdout


def _script(name: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([str(SCRIPTS / f"{name}.sh"), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def _wait_for(condition, timeout: float = 60.0, every: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def test_overlapping_runs_one_runs_the_other_exits_with_already_running(ops_root, ops_config) -> None:
    """A run that finds the job's lock held exits 10 at once; once the lock is free the job runs.

    The lock is held on purpose by another process (a stand-in for a run in progress), so the
    overlap is certain however busy the machine is.
    """
    ops_config()
    lock_path = Layout(ops_root).job_lock("inference")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(lock_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held", "the holder took no lock"
        second = subprocess.run([str(SCRIPTS / "daily_inference.sh"), "--now", RUN_AT], capture_output=True,
                                text=True, timeout=120)
        assert holder.poll() is None, "the lock holder ended before the second run; the test proved nothing"
    finally:
        holder.communicate(input="release\n", timeout=30)
    assert second.returncode == 10, second.stdout + second.stderr
    assert "already running" in second.stderr
    first = subprocess.run([str(SCRIPTS / "daily_inference.sh"), "--now", RUN_AT], capture_output=True, text=True,
                           timeout=600)
    assert first.returncode == 0, (first.stdout + first.stderr)[-3000:]
    runs, _ = Layout(ops_root).run_log().read()
    assert [r["status"] for r in runs] == ["already_running", "success"]
    assert set(pd.read_parquet(Layout(ops_root).forecast(NEXT_DAY).path)["status"]) == {"ok"}


# Holds a job lock the way a running job does, until told to release it on stdin.
HOLD_LOCK = """
import sys
from pathlib import Path
from pipeline.ops.lock import JobLock
lock = JobLock(Path(sys.argv[1]))
assert lock.acquire()
print("held", flush=True)
sys.stdin.readline()
lock.release()
"""


def _in_flight(root: Path) -> list[Path]:
    """Files being written: the temporary files of atomic writes (``.<name>.tmp-<pid>-<token>``)."""
    found = []
    for folder, _, files in os.walk(root):
        for name in files:
            if name.startswith(".") and ".tmp-" in name:
                found.append(Path(folder) / name)
    return found


def _final_name(in_flight: Path) -> Path:
    """The file a temporary file of an atomic write becomes."""
    return in_flight.with_name(in_flight.name[1:].split(".tmp-")[0])


def test_a_run_killed_mid_write_leaves_no_partial_file_and_the_rerun_completes(ops_root, ops_config) -> None:
    ops_config()
    before = {p for p in ops_root.rglob("*") if p.is_file()}
    run = _script("daily_inference", "--now", RUN_AT)
    caught: list[list[Path]] = []

    def kill_when_writing() -> None:
        # Watch for a file being written; SIGKILL the whole run (script, python, luigi) right then.
        _wait_for(lambda: bool(caught.append(_in_flight(ops_root)) or caught[-1]), timeout=60, every=0.001)
        os.killpg(run.pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_when_writing)
    killer.start()
    run.communicate(timeout=120)
    killer.join()
    assert run.returncode == -signal.SIGKILL
    assert caught[-1], "the run was not caught writing a file"
    interrupted = [_final_name(p) for p in caught[-1] if not _final_name(p).name.startswith(".write-probe")]
    new_files = [p for p in ops_root.rglob("*") if p.is_file() and p not in before]
    assert not Layout(ops_root).forecast(NEXT_DAY).exists()

    # Whatever was interrupted is either complete or invisible: every file under a final name reads.
    for path in new_files:
        if path.suffix == ".parquet" and ".tmp-" not in path.name:
            pd.read_parquet(path)

    rerun = subprocess.run([str(SCRIPTS / "daily_inference.sh"), "--now", RUN_AT], capture_output=True, text=True,
                           timeout=180)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    forecast = FORECAST.conform(pd.read_parquet(Layout(ops_root).forecast(NEXT_DAY).path))
    assert len(forecast) == 72 * 2 * 2 and set(forecast["status"]) == {"ok"}
    for path in ops_root.rglob("*.parquet"):
        pd.read_parquet(path)
    assert all(path.is_file() for path in interrupted), "the files cut off mid-write were written in full"
