"""The built-in scheduler and the job runner, with an injected clock and fake luigi runs."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import threading
import time

import pytest

from pipeline import scheduler
from pipeline.ops import base as ops_base
from pipeline.ops import lock as ops_lock
from pipeline.ops import runner as ops_runner
from pipeline.ops import jobs
from pipeline.clock import fixed
from pipeline.config import load_config
from pipeline.ercot_time import CPT
from targets import Layout
from tests.conftest import REPO
from tests.ops_support import *  # noqa: F403 - fixtures and helpers


class FakeLuigi:
    """A runner answering with scripted exit codes (the last one repeats) and recording the calls."""

    def __init__(self, *codes: int, timed_out: bool = False) -> None:
        self.codes = list(codes) or [0]
        self.calls: list[tuple[list[str], float]] = []
        self.timed_out = timed_out

    def __call__(self, command, timeout_s, stop, keep_open=()):
        self.calls.append((list(command), timeout_s))
        code = self.codes.pop(0) if len(self.codes) > 1 else self.codes[0]
        if self.timed_out:
            return ops_runner.RunOutcome(ops_runner.JOB_TIMEOUT, "timed out", timed_out=True)
        return ops_runner.RunOutcome(code, f"exit {code}")


# --- cron times in CPT -------------------------------------------------------------------------


def test_cron_times_are_central_prevailing_time_in_summer_and_winter() -> None:
    winter, summer = at_cpt(dt.date(2024, 1, 15), "05:00"), at_cpt(dt.date(2024, 7, 15), "05:00")
    assert scheduler.next_fire("0 6 * * *", winter).utcoffset() == dt.timedelta(hours=-6)
    assert scheduler.next_fire("0 6 * * *", winter).astimezone(dt.timezone.utc).hour == 12
    assert scheduler.next_fire("0 6 * * *", summer).astimezone(dt.timezone.utc).hour == 11


def test_sunday_backtest_still_fires_on_the_spring_forward_night() -> None:
    """02:00 does not exist on 2024-03-10 (a Sunday): the run moves to 03:00 CDT rather than being lost."""
    fire = scheduler.next_fire("0 2 * * 0", at_cpt(dt.date(2024, 3, 9), "12:00"))
    assert fire.astimezone(CPT).replace(tzinfo=None) == dt.datetime(2024, 3, 10, 3, 0)


def test_latest_fire_includes_the_current_minute() -> None:
    now = at_cpt(dt.date(2024, 7, 18), "06:00")
    assert scheduler.latest_fire("0 6 * * *", now) == now


# --- what is due ---------------------------------------------------------------------------------


def test_a_job_is_due_from_its_cron_time_until_it_ran_or_its_window_passed(write_config) -> None:
    config = write_config("")
    day = dt.date(2024, 7, 18)
    assert [d.job for d in scheduler.due_jobs(config, at_cpt(day, "06:00"), {})] == ["inference"]
    assert [d.job for d in scheduler.due_jobs(config, at_cpt(day, "07:59"), {})] == ["inference"]
    assert scheduler.due_jobs(config, at_cpt(day, "08:01"), {}) == [], "past the 120-minute window"
    ran = {"inference": at_cpt(day, "06:00")}
    assert scheduler.due_jobs(config, at_cpt(day, "06:30"), ran) == []
    assert scheduler.due_jobs(config, at_cpt(day, "05:59"), {}) == []


def test_jobs_due_together_start_in_priority_order_and_disabled_ones_never(write_config) -> None:
    config = write_config("""
scheduler:
  backtesting: {cron_expression: "0 3 * * *"}
  model_retraining: {cron_expression: "0 3 * * *"}
  inference: {cron_expression: "0 3 * * *"}
  data_fetching: {cron_expression: "0 3 * * *"}
""")
    now = at_cpt(dt.date(2024, 7, 18), "03:00")
    assert [d.job for d in scheduler.due_jobs(config, now, {})] == [
        "inference", "data_fetching", "model_retraining", "backtesting"]
    config = write_config("scheduler:\n  inference: {cron_expression: '0 3 * * *', enabled: false}\n")
    assert "inference" not in [d.job for d in scheduler.due_jobs(config, now, {})]


def test_tick_starts_each_due_job_once_and_once_returns_the_worst_exit_code(write_config, tmp_path) -> None:
    config = write_config("scheduler:\n  data_fetching: {cron_expression: '0 6 * * *'}\n")
    order: list[str] = []
    release = threading.Event()

    def run(ops, job):
        order.append(job)
        release.wait(5)
        return ops_base.JobResult(job, 30 if job == "data_fetching" else 0, "failed", dt.date(2024, 7, 18))

    ops = ops_base.Operations(config=config, runner=FakeLuigi(), clock=fixed(at_cpt(dt.date(2024, 7, 18), "06:00")))
    loop = scheduler.Scheduler(ops, run=run)
    assert loop.tick() == ["inference", "data_fetching"]
    assert loop.tick() == [], "a job still running (or already started for this cron time) is not started again"
    release.set()
    assert loop.run_once() == 30
    assert sorted(order) == ["data_fetching", "inference"]


def test_a_restarted_scheduler_does_not_rerun_a_job_the_run_history_shows(write_config) -> None:
    config = write_config("")
    ops = ops_base.Operations(config=config, runner=FakeLuigi(0), clock=fixed(at_cpt(dt.date(2024, 7, 18), "06:05")))
    jobs.run_job(ops, "inference")
    restarted = scheduler.Scheduler(ops, run=lambda o, j: pytest.fail(f"{j} ran twice"))
    assert restarted.tick() == []


def test_dry_run_once_prints_the_next_run_of_each_job_in_cpt() -> None:
    result = subprocess.run([sys.executable, "-m", "pipeline.scheduler", "--once", "--dry-run"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for job in jobs.JOBS:
        [line] = [line for line in result.stdout.splitlines() if line.startswith(job)]
        assert " CST " in line or " CDT " in line, line
    pinned = subprocess.run([sys.executable, "-m", "pipeline.scheduler", "--once", "--dry-run", "--now",
                             "2024-07-20T23:30"], cwd=REPO, capture_output=True, text=True, timeout=60)
    lines = {line.split()[0]: line for line in pinned.stdout.splitlines()[2:6]}
    assert "2024-07-21 00:00 CDT" in lines["data_fetching"]
    assert "2024-07-21 06:00 CDT" in lines["inference"]
    assert "2024-07-21 01:00 CDT" in lines["model_retraining"]  # */2: the 21st is odd
    assert "2024-07-21 02:00 CDT" in lines["backtesting"]  # the 21st is a Sunday
    assert "forecast for today expected by 2024-07-20 09:00 CDT" in pinned.stdout


def test_the_scheduler_stops_gracefully_on_sigterm(ops_config, tmp_path) -> None:
    # Nothing to do (no job, no deadline watch): the test is about stopping, whatever the wall clock says.
    ops_config("scheduler:\n  inference: {enabled: false}\n  data_fetching: {enabled: false}\n"
               "  model_retraining: {enabled: false}\n  backtesting: {enabled: false}\n"
               "deadlines:\n  dam_closure: {alert_on_risk: false, fallback_on_miss: false}\n")
    process = subprocess.Popen([sys.executable, "-m", "pipeline.scheduler"], cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    log_file = tmp_path / "logs" / "scheduler.log"
    deadline = time.monotonic() + 30
    while not (log_file.exists() and "scheduler started" in log_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "scheduler stopped" in log_file.read_text()


# --- a job run -------------------------------------------------------------------------------------


def test_a_failed_run_is_retried_after_the_configured_delay(write_config, tmp_path) -> None:
    config = write_config(f"scheduler:\n  backtesting: {{retry_count: 2}}\nlogging:\n  dir: {tmp_path}\n"
                          "operations:\n  luigi_scheduler: local\n")
    waits: list[float] = []
    runner = FakeLuigi(30, 30, 0)
    ops = ops_base.Operations(config=config, runner=runner, clock=fixed(at_cpt(dt.date(2024, 7, 21), "02:00")),
                          wait=lambda s: waits.append(s) or False)
    result = jobs.run_job(ops, "backtesting")
    assert (result.status, result.retcode, result.attempts) == ("success", 0, 3)
    assert waits == [1800, 1800]  # error_recovery.backtesting.retry_delay_seconds
    command, timeout = runner.calls[0]
    assert command[1:] == ["--module", "pipeline", "WeeklyBacktest", "--date", "2024-07-21", "--worker-keep-alive",
                           "--scheduler-retry-delay", "1800", "--local-scheduler"]
    assert timeout == 360 * 60


def test_a_run_that_times_out_is_reported_with_exit_code_124(write_config, tmp_path) -> None:
    config = write_config(f"scheduler:\n  backtesting: {{retry_count: 0}}\nlogging:\n  dir: {tmp_path}\n"
                          "operations:\n  luigi_scheduler: local\n")
    ops = ops_base.Operations(config=config, runner=FakeLuigi(timed_out=True),
                          clock=fixed(at_cpt(dt.date(2024, 7, 21), "02:00")))
    result = jobs.run_job(ops, "backtesting")
    assert (result.status, result.retcode) == ("timeout", 124)
    [alert], _ = Layout(config.data_root).alert_log().read()
    assert alert["title"] == "backtesting for 2024-07-21 failed" and "timed out" in alert["detail"]


def test_a_held_lock_makes_the_run_exit_with_already_running(write_config) -> None:
    config = write_config("operations:\n  luigi_scheduler: local\n")
    holder = ops_lock.JobLock(Layout(config.data_root).job_lock("inference"))
    assert holder.acquire()
    try:
        runner = FakeLuigi(0)
        result = jobs.run_job(ops_base.Operations(config=config, runner=runner, clock=fixed(at_cpt(dt.date(2024, 7, 18), "06:00"))),
                              "inference")
    finally:
        holder.release()
    assert (result.status, result.retcode) == ("already_running", 10)
    assert runner.calls == []


def test_range_dates_are_computed_in_cpt_whatever_the_utc_date(write_config) -> None:
    config = write_config("operations:\n  catch_up_days: 3\n")
    late_evening = dt.datetime(2024, 11, 4, 5, 30, tzinfo=dt.timezone.utc)  # 23:30 CST on Nov 3
    args = jobs.run_arguments(config, "inference", late_evening, central=True)
    assert args[:4] == ["--start", "2024-10-31", "--stop", "2024-11-04"]
    assert args[5] == str(int(late_evening.timestamp()))
    retrain = jobs.run_arguments(config, "model_retraining", late_evening, central=False)
    assert retrain[:4] == ["--start", "2024-11-02", "--stop", "2024-11-04"], "one cadence period back"
    assert retrain[-1] == "--local-scheduler"


class SleepingChild:
    """A stand-in for a luigi process that ignores nothing and runs for a long time."""

    command = [sys.executable, "-c", "import time; print('INFO luigi-interface: working', flush=True); time.sleep(60)"]


def test_luigi_process_kills_a_run_past_its_timeout() -> None:
    runner = ops_runner.LuigiProcess(logging_conf=None, grace_seconds=1)
    started = time.monotonic()
    outcome = runner(SleepingChild.command, timeout_s=0.5, stop=threading.Event())
    assert outcome.timed_out and outcome.retcode == ops_runner.JOB_TIMEOUT
    assert time.monotonic() - started < 15
    assert "working" in outcome.summary


def test_luigi_process_stops_a_run_when_asked() -> None:
    runner = ops_runner.LuigiProcess(logging_conf=None, grace_seconds=1)
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    outcome = runner(SleepingChild.command, timeout_s=60, stop=stop)
    assert outcome.stopped and outcome.retcode == ops_runner.JOB_STOPPED


def test_a_late_forecast_makes_the_scheduler_run_the_deadline_monitor(ops_root, ops_config) -> None:
    config = ops_config("deadlines:\n  dam_closure: {fallback_on_miss: false}\n")
    day = BASE_DAY + dt.timedelta(days=1)
    ops = ops_base.Operations(config=config, runner=FakeLuigi(), clock=fixed(at_cpt(day, "09:01")))
    loop = scheduler.Scheduler(ops, run=lambda o, j: pytest.fail(f"{j} is not due at 09:01"))
    assert loop.tick() == []
    loop.wait()
    [alert], _ = Layout(ops_root).alert_log().read()
    assert (alert["kind"], alert["key"]) == ("deadline_risk", f"deadline_risk:{day}")
    restarted = scheduler.Scheduler(ops)
    restarted.tick()
    restarted.wait()
    assert len(Layout(ops_root).alert_log().read()[0]) == 1, "a restarted scheduler does not repeat the alert"
