"""The scheduled jobs: each one luigi command, run under a lock, with retries, a timeout and its fallback.

Used by the cron scripts (``infrastructure/scripts/*.sh``/``.bat``) and by the built-in scheduler
(``python -m pipeline.scheduler``)::

    python -m pipeline.jobs run inference [--now ISO] [--dry-run] [-- <luigi binary> --module pipeline RangeDaily --of DailyInference]
    python -m pipeline.jobs fallback [--date D] [--now ISO]     # publish today's fallback forecast now
    python -m pipeline.jobs list                                # the jobs and their luigi commands

A run of job J at time ``now``:

1. takes ``ops/locks/<J>.lock`` under the data root (``flock``); when another run holds it, the run
   exits at once with luigi's ``already_running`` code (10), so runs never overlap;
2. runs the job's luigi command with the dates computed in CPT at this layer -- the daily jobs
   through ``RangeDaily --start <today - catch-up> --stop <tomorrow> --now <now>``, so missed days
   are caught up -- plus ``--worker-keep-alive`` and ``--scheduler-retry-delay
   <error_recovery.J.retry_delay_seconds>``, so luigi retries each failed task within the run
   (``error_recovery.J.max_retries`` times, each task's ``retry_count``);
3. gives each attempt ``scheduler.J.timeout_minutes``, and re-runs the command up to
   ``scheduler.J.retry_count`` times, ``error_recovery.J.retry_delay_seconds`` apart;
4. when it still fails, applies the job's configured fallback (below), logs and alerts;
5. appends a record to ``ops/runs.jsonl`` (the command line or the scheduler then rewrites the
   status page).

Fallbacks (``error_recovery.*.fallback``), each explicit, logged, alerted and visible in the output:

* data fetching fails (``use_cached_data``): nothing to publish at 00:00; the inference job falls back
  to the files on disk if the inputs are still missing at 06:00;
* inference fails (today's forecast is missing): if today's features could not be built, the inputs
  are missing -- ``DailyInference --cached-inputs`` (status ``fallback_cached_inputs``); if that is
  not possible or fails too, ``PublishPreviousForecast`` (``use_previous_forecast``, status
  ``fallback_previous``);
* retraining fails (``retain_current_model``): a failure record is left for the candidate, so the
  morning's DailyInference is served by the current model (:mod:`pipeline.registry`'s rule)
  instead of training again (:mod:`pipeline.ops.fallbacks`).

The job's exit code is that of its last luigi run (0 when every task succeeded; 30 when tasks
failed -- also when a fallback forecast was then published, a degraded result; see ``[retcode]`` in
luigi.cfg), 124 after a timeout, 143 when stopped by SIGTERM/SIGINT.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from collections.abc import Callable, Sequence

from pipeline.config import Config, ScheduledTask
from pipeline.ercot_time import operating_day
from pipeline.ops import luigi_settings
from pipeline.ops.base import JobResult, Operations
from pipeline.ops.fallbacks import publish_fallback, retain_current_model
from pipeline.ops.job_specs import JOBS
from pipeline.ops.lock import job_lock
from pipeline.ops.runner import JOB_STOPPED, RunOutcome, default_luigi, use_central_scheduler

log = logging.getLogger("pipeline.jobs")


def schedule_of(config: Config, job: str) -> ScheduledTask:
    return getattr(config.scheduler, job)


def retry_delay_seconds(config: Config, job: str) -> int:
    return getattr(config.error_recovery, job).retry_delay_seconds


def date_window(config: Config, job: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """[start, stop) of the days a daily job makes complete: missed days, then today.

    Retraining looks back one cadence period at most (one candidate), whatever day its trigger
    fires: cron's ``*/2`` and the cadence dates drift apart at month ends.
    """
    back = config.model.retrain_every_days - 1 if job == "model_retraining" else config.operations.catch_up_days
    return today - dt.timedelta(days=back), today + dt.timedelta(days=1)


def run_arguments(config: Config, job: str, now: dt.datetime, central: bool) -> list[str]:
    """What a run at ``now`` appends to the job's luigi command: dates (in CPT), retries, scheduler."""
    spec = JOBS[job]
    today = operating_day(now)
    if spec.ranged:
        start, stop = date_window(config, job, today)
        args = ["--start", start.isoformat(), "--stop", stop.isoformat(), "--now", str(int(now.timestamp()))]
    else:
        args = ["--date", today.isoformat()]
    args += ["--worker-keep-alive", "--scheduler-retry-delay", str(retry_delay_seconds(config, job))]
    if not central:
        args.append("--local-scheduler")
    return args


def run_job(ops: Operations, job: str, command: Sequence[str] | None = None) -> JobResult:
    """Run ``job`` once at ``ops.clock()``: lock, luigi with retries, fallback, alerts, run record."""
    spec = JOBS[job]
    codes = luigi_settings.retcodes()
    started = ops.clock()
    today = operating_day(started)
    run_id = uuid.uuid4().hex[:12]
    lock = job_lock(ops.layout, job, ops.clock)
    if not lock.acquire():
        log.warning("job %s is already running (lock %s held); not starting another run", job, lock.path)
        result = JobResult(job, codes.already_running, "already_running", today)
        _record(ops, result, run_id, started, [])
        return result
    try:
        log.info("job %s started for %s (run %s, pid %d)", job, today, run_id, os.getpid())
        central = use_central_scheduler(ops.config)
        base = list(command) if command else [default_luigi(), *spec.luigi_args()]
        full = base + run_arguments(ops.config, job, started, central)
        keep_open = lock.keep_open()
        outcome, attempts = _attempts(ops, job, full, keep_open)
        result = _conclude(ops, job, today, outcome, attempts, base[0], central, keep_open)
    finally:
        lock.release()
    _record(ops, result, run_id, started, full)
    log.log(logging.INFO if result.retcode == 0 else logging.ERROR, "job %s finished: %s (exit code %d)%s", job,
            result.status, result.retcode, f", fallback {result.fallback}" if result.fallback else "")
    return result


def _attempts(ops: Operations, job: str, command: list[str], keep_open: tuple[int, ...]) -> tuple[RunOutcome, int]:
    settings = schedule_of(ops.config, job)
    delay = retry_delay_seconds(ops.config, job)
    outcome = RunOutcome(0)
    for attempt in range(1, settings.retry_count + 2):
        if attempt > 1:
            log.warning("job %s failed (exit code %d); attempt %d of %d in %d s", job, outcome.retcode, attempt,
                        settings.retry_count + 1, delay)
            if ops.sleep(delay):
                return RunOutcome(JOB_STOPPED, "stopped on request before a retry", stopped=True), attempt - 1
        outcome = ops.runner(command, settings.timeout_minutes * 60, ops.stop, keep_open)
        if outcome.retcode == 0 or outcome.stopped:
            return outcome, attempt
    return outcome, settings.retry_count + 1


def _conclude(ops: Operations, job: str, today: dt.date, outcome: RunOutcome, attempts: int,
              luigi_binary: str, central: bool, keep_open: tuple[int, ...]) -> JobResult:
    def result(status: str, fallback: str | None = None) -> JobResult:
        return JobResult(job, outcome.retcode, status, today, attempts, fallback, outcome.summary)

    if outcome.retcode == 0:
        return result("success")
    if outcome.stopped:
        return result("stopped")
    status = "timeout" if outcome.timed_out else "failed"
    detail = f"exit code {outcome.retcode} after {attempts} attempt(s)\n\n{outcome.summary}"
    if job == "inference":
        return _inference_fallback(ops, today, detail, result, status, luigi_binary, central, keep_open)
    if job == "data_fetching":
        fallback = ops.config.error_recovery.data_fetching.fallback
        ops.alert("job_failed", "warning", f"data fetch for {today} failed",
                  detail + ("\n\nThe 06:00 forecast falls back to the cached data if its inputs are still "
                            "missing then (use_cached_data)." if fallback == "use_cached_data" else ""), job, today)
        return result(status, "use_cached_data" if fallback == "use_cached_data" else None)
    if job == "model_retraining":
        retained = retain_current_model(ops, today)
        ops.alert("job_failed", "warning", f"retraining for {today} failed",
                  detail + (f"\n\nForecasts keep the current model ({retained})." if retained else ""), job, today)
        return result(status, "retain_current_model" if retained else None)
    ops.alert("job_failed", "warning", f"{job} for {today} failed", detail, job, today)
    return result(status)


def _inference_fallback(ops: Operations, today: dt.date, detail: str, result: Callable[..., JobResult], status: str,
                        luigi_binary: str, central: bool, keep_open: tuple[int, ...]) -> JobResult:
    forecast = ops.tagged_layout.forecast(today)
    if forecast.exists():
        # Only catch-up days failed; today's forecast is out.
        ops.alert("job_failed", "warning", f"inference run of {today} failed for earlier days", detail, "inference",
                  today)
        return result(status)
    timeout_s = schedule_of(ops.config, "inference").timeout_minutes * 60
    published = publish_fallback(ops, today, luigi_binary, central, timeout_s, keep_open)
    if published is None:
        ops.alert("no_forecast", "critical", f"no forecast for {today}: inference and its fallbacks failed", detail,
                  "inference", today)
        return result(status)
    ops.alert("fallback", "warning", f"forecast for {today} published as {published}", detail, "inference", today)
    return result("fallback", published)


def _record(ops: Operations, result: JobResult, run_id: str, started: dt.datetime, command: list[str]) -> None:
    finished = ops.clock()
    ops.layout.run_log().append({
        "run_id": run_id, "job": result.job, "today": result.today.isoformat(), "status": result.status,
        "retcode": result.retcode, "attempts": result.attempts, "fallback": result.fallback,
        "started_at": started.astimezone(dt.timezone.utc).isoformat(timespec="seconds"),
        "finished_at": finished.astimezone(dt.timezone.utc).isoformat(timespec="seconds"),
        "duration_s": round((finished - started).total_seconds(), 1),
        "command": command[1:], "summary": result.summary[-4000:],
    })

