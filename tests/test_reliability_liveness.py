"""Scheduler liveness: an ``already_running`` record counts only while the lock's holder lives.

The probe: two ``pipeline.scheduler --once`` at 06:01; the first is killed with ``-9``. Its
deferring twin left an ``already_running`` record, and before the fix inference stayed "due now:
no" for the rest of the morning. Here the holder is a real process holding the job's lock.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import scheduler
from pipeline.clock import fixed
from pipeline.ops import base as ops_base
from pipeline.ops import jobs
from pipeline.ops import lock as ops_lock
from pipeline.ops.runner import RunOutcome
from targets import Layout
from targets.lease import LeaseLock
from tests.ops_support import at_cpt

DAY = dt.date(2024, 7, 18)

HOLD_LOCK = """
import sys, time
from pathlib import Path
from pipeline.ops.lock import JobLock
lock = JobLock(Path(sys.argv[1]))
assert lock.acquire()
print("held", flush=True)
time.sleep(600)
"""

# The holder starts a child that inherits the lock's descriptor (as a job's luigi run does), then
# waits; killing the holder alone leaves the child holding the lock.
HOLD_LOCK_WITH_CHILD = """
import subprocess, sys, time
from pathlib import Path
from pipeline.ops.lock import JobLock
lock = JobLock(Path(sys.argv[1]))
assert lock.acquire()
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], pass_fds=lock.keep_open())
print(child.pid, flush=True)
time.sleep(600)
"""


def ran_at(config, now: dt.datetime) -> ops_base.Operations:
    return ops_base.Operations(config=config, runner=never_runs, clock=fixed(now))


def never_runs(command, timeout_s, stop, keep_open=()) -> RunOutcome:
    raise AssertionError("this test starts no luigi run")


class Holder:
    """A process holding a job's lock, started the way a running job holds it."""

    def __init__(self, lock_path: str, script: str = HOLD_LOCK) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", script, lock_path], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.first_line = self.process.stdout.readline().strip()
        assert self.first_line, "the holder took no lock"

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture
def holders() -> Iterator[list[Holder]]:
    started: list[Holder] = []
    yield started
    for holder in started:
        if holder.process.poll() is None:
            holder.kill()


def test_a_deferring_record_counts_while_the_holder_lives_and_not_after_it_was_killed(write_config, holders,
                                                                                      caplog) -> None:
    config = write_config("operations:\n  luigi_scheduler: local\n")
    lock_path = Layout(config.data_root).job_lock("inference")
    holder = Holder(lock_path)
    holders.append(holder)
    second = jobs.run_job(ran_at(config, at_cpt(DAY, "06:01")), "inference")
    assert second.status == "already_running"

    assert "inference" not in [d.job for d in scheduler.due_jobs(config, at_cpt(DAY, "06:05"),
                                                                 scheduler.last_starts(ran_at(config, at_cpt(DAY, "06:05"))))]
    holder.kill()
    caplog.set_level(logging.WARNING, logger="pipeline.scheduler")
    started: list[str] = []
    later = scheduler.Scheduler(ran_at(config, at_cpt(DAY, "06:10")), run=lambda ops, job: started.append(job) or
                                ops_base.JobResult(job, 0, "success", DAY))
    assert later.tick() == ["inference"], "the dead holder's deferral is taken over"
    later.wait()
    takeovers = [r for r in caplog.records if "taking the job over" in r.getMessage()]
    assert len(takeovers) == 1 and "inference" in takeovers[0].getMessage()
    assert "no longer running" in takeovers[0].getMessage()


def test_a_lock_inherited_by_the_holders_luigi_run_still_counts_after_the_holder_is_killed(write_config,
                                                                                             holders) -> None:
    if not Path("/proc/locks").exists():
        pytest.skip("no /proc/locks (Linux only): an orphaned run's lock is not visible here")
    config = write_config("operations:\n  luigi_scheduler: local\n")
    lock_path = Layout(config.data_root).job_lock("inference")
    holder = Holder(lock_path, HOLD_LOCK_WITH_CHILD)
    holders.append(holder)
    child = int(holder.first_line)
    try:
        assert jobs.run_job(ran_at(config, at_cpt(DAY, "06:01")), "inference").status == "already_running"
        holder.kill()
        lock = ops_lock.JobLock(lock_path)
        assert lock.current_holder() is not None and lock.current_holder().alive, "the orphaned run still holds the lock"
        assert scheduler.Scheduler(ran_at(config, at_cpt(DAY, "06:10")), run=pytest.fail).tick() == []
    finally:
        os.kill(child, signal.SIGKILL)
    _wait_gone(child)
    assert not ops_lock.JobLock(lock_path).current_holder().alive


def _wait_gone(pid: int) -> None:
    for _ in range(200):
        if not ops_lock.process_alive(pid, None):
            return
        import time

        time.sleep(0.05)
    raise AssertionError(f"process {pid} still runs")


def test_the_long_running_scheduler_takes_a_job_over_when_the_holder_dies(write_config, holders) -> None:
    config = write_config("operations:\n  luigi_scheduler: local\n")
    holder = Holder(Layout(config.data_root).job_lock("inference"))
    holders.append(holder)
    now = [at_cpt(DAY, "06:01")]
    ops = ops_base.Operations(config=config, runner=lambda *a, **k: RunOutcome(0, "done"), clock=lambda: now[0])
    calls: list[str] = []

    def run(ops: ops_base.Operations, job: str) -> ops_base.JobResult:
        calls.append(job)
        return jobs.run_job(ops, job)

    loop = scheduler.Scheduler(ops, run=run)
    assert "inference" in loop.tick()
    loop.wait()
    assert [r.status for r in loop.results if r.job == "inference"] == ["already_running"]
    now[0] = at_cpt(DAY, "06:03")
    assert "inference" not in loop.tick(), "the holder lives: its run counts"
    holder.kill()
    now[0] = at_cpt(DAY, "06:05")
    assert loop.tick() == ["inference"], "the holder died without a record: the job is run again"
    loop.wait()
    assert [r.status for r in loop.results if r.job == "inference"] == ["already_running", "success"]
    now[0] = at_cpt(DAY, "06:07")
    assert loop.tick() == [], "and once only"


def test_a_released_lock_names_no_holder_and_a_held_one_names_this_process(tmp_path: Path) -> None:
    lock = ops_lock.JobLock(tmp_path / "inference.lock")
    assert lock.current_holder() is None
    assert lock.acquire()
    try:
        named = json.loads((tmp_path / "inference.lock").read_text())
        assert named["pid"] == os.getpid() and named["started"] == ops_lock.process_start(os.getpid())
        assert lock.current_holder().alive
    finally:
        lock.release()
    assert lock.current_holder() is None and (tmp_path / "inference.lock").read_text() == ""


def test_a_reused_pid_is_not_the_holder(tmp_path: Path) -> None:
    """A lock file naming a pid that now belongs to another process (another start time) is stale."""
    if ops_lock.process_start(os.getpid()) is None:
        pytest.skip("no /proc: process start times are not available here")
    path = tmp_path / "inference.lock"
    path.write_text(json.dumps({"pid": os.getpid(), "started": "1", "host": os.uname().nodename}) + "\n")
    holder = ops_lock.JobLock(path).current_holder()
    assert holder is not None and not holder.alive
    path.write_text(json.dumps({"pid": os.getpid(), "started": ops_lock.process_start(os.getpid()),
                                "host": os.uname().nodename}) + "\n")
    assert ops_lock.JobLock(path).current_holder().alive


class MemoryStore:
    """Just the conditional-write calls a :class:`LeaseLock` makes, in memory."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.version = 0

    def put_once(self, path: str, data: bytes) -> bool:
        if path in self.objects:
            return False
        return self.replace(path, data)

    def replace(self, path: str, data: bytes) -> bool:
        self.version += 1
        self.objects[path] = (data, str(self.version))
        return True

    def read_with_version(self, path: str) -> tuple[bytes, str] | None:
        return self.objects.get(path)

    def replace_if(self, path: str, data: bytes, etag: str) -> bool:
        return path in self.objects and self.objects[path][1] == etag and self.replace(path, data)

    def delete(self, path: str, if_match: str | None = None) -> bool:
        return self.objects.pop(path, None) is not None


def test_a_lease_counts_while_fresh_and_not_after_it_ended(write_config, monkeypatch, caplog) -> None:
    config = write_config("operations:\n  luigi_scheduler: local\n")
    store = MemoryStore()
    now = [at_cpt(DAY, "06:01")]
    path = "s3://rtlmp/prod/ops/locks/inference.lock"
    crashed = LeaseLock(path, store, lambda: now[0], lease_seconds=300, renew_every_seconds=3600)  # type: ignore[arg-type]
    assert crashed.acquire()
    crashed._stop.set()  # it dies: no renewal, no release
    monkeypatch.setattr(scheduler, "job_lock", lambda layout, job, clock: LeaseLock(path, store, clock))  # type: ignore[arg-type]
    monkeypatch.setattr(jobs, "job_lock", lambda layout, job, clock: LeaseLock(path, store, clock))  # type: ignore[arg-type]
    ops = ops_base.Operations(config=config, runner=never_runs, clock=lambda: now[0])
    assert jobs.run_job(ops, "inference").status == "already_running"

    now[0] = at_cpt(DAY, "06:05")
    assert LeaseLock(path, store, lambda: now[0]).current_holder().alive  # type: ignore[arg-type]
    assert "inference" not in [d.job for d in scheduler.due_jobs(config, now[0], scheduler.last_starts(ops))]
    now[0] = at_cpt(DAY, "06:07")  # the lease (5 minutes from 06:01) has ended
    assert not LeaseLock(path, store, lambda: now[0]).current_holder().alive  # type: ignore[arg-type]
    caplog.set_level(logging.WARNING, logger="pipeline.scheduler")
    assert "inference" in [d.job for d in scheduler.due_jobs(config, now[0], scheduler.last_starts(ops))]
    assert any("lease until" in r.getMessage() and "taking the job over" in r.getMessage() for r in caplog.records)
