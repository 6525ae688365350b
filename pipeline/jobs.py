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
5. appends a record to ``ops/runs.jsonl`` and rewrites the status page.

Fallbacks (``error_recovery.*.fallback``), each explicit, logged, alerted and visible in the output:

* data fetching fails (``use_cached_data``): nothing to publish at 00:00; the inference job falls back
  to the files on disk if the inputs are still missing at 06:00;
* inference fails (today's forecast is missing): if today's features could not be built, the inputs
  are missing -- ``DailyInference --cached-inputs`` (status ``fallback_cached_inputs``); if that is
  not possible or fails too, ``PublishPreviousForecast`` (``use_previous_forecast``, status
  ``fallback_previous``);
* retraining fails (``retain_current_model``): a failure record is left for the candidate, so the
  morning's DailyInference serves the newest accepted model instead of training again.

The job's exit code is that of its last luigi run (0 when every task succeeded; 30 when tasks
failed -- also when a fallback forecast was then published, a degraded result; see ``[retcode]`` in
luigi.cfg), 124 after a timeout, 143 when stopped by SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

import luigi.configuration
import luigi.retcodes

from pipeline import clock as clocks
from pipeline import logs, registry
from pipeline.alerts import Alert, Severity, send
from pipeline.config import Config, ConfigError, ScheduledTask, load_config
from pipeline.ercot_time import CPT
from pipeline.forecast import STATUS_CACHED_INPUTS, STATUS_PREVIOUS
from targets import Layout

log = logging.getLogger("pipeline.jobs")

JOB_TIMEOUT = 124  # like coreutils' timeout(1)
JOB_STOPPED = 128 + signal.SIGTERM  # 143
# Process groups get this long to exit after SIGTERM before they are killed.
KILL_AFTER_SECONDS = 10.0


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: its key in ``scheduler``/``error_recovery``, its cron script and its luigi task."""

    name: str
    script: str
    task: str
    ranged: bool  # driven by RangeDaily (missed days caught up) or one task for today

    def luigi_args(self) -> list[str]:
        """The luigi arguments the cron scripts pass (the run adds the dates and retry settings)."""
        if self.ranged:
            return ["--module", "pipeline", "RangeDaily", "--of", self.task]
        return ["--module", "pipeline", self.task]


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec("data_fetching", "daily_data_fetch", "FetchDaily", ranged=True),
        JobSpec("inference", "daily_inference", "DailyInference", ranged=True),
        JobSpec("model_retraining", "model_retraining", "RetrainModel", ranged=True),
        JobSpec("backtesting", "weekly_backtesting", "WeeklyBacktest", ranged=False),
    )
}


def schedule_of(config: Config, job: str) -> ScheduledTask:
    return getattr(config.scheduler, job)


def retry_delay_seconds(config: Config, job: str) -> int:
    return getattr(config.error_recovery, job).retry_delay_seconds


def today_in_cpt(now: dt.datetime) -> dt.date:
    return now.astimezone(CPT).date()


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
    today = today_in_cpt(now)
    if spec.ranged:
        start, stop = date_window(config, job, today)
        args = ["--start", start.isoformat(), "--stop", stop.isoformat(), "--now", str(int(now.timestamp()))]
    else:
        args = ["--date", today.isoformat()]
    args += ["--worker-keep-alive", "--scheduler-retry-delay", str(retry_delay_seconds(config, job))]
    if not central:
        args.append("--local-scheduler")
    return args


def default_luigi() -> str:
    """The ``luigi`` command of the running interpreter's environment (the project's .venv)."""
    name = "luigi.exe" if os.name == "nt" else "luigi"
    return str(Path(sys.executable).with_name(name))


# --- running luigi -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunOutcome:
    retcode: int
    summary: str = ""  # luigi's execution summary, or why the command did not finish
    timed_out: bool = False
    stopped: bool = False


class Runner(Protocol):
    """Runs one luigi command line (binary first) within ``timeout_s``, giving up early when ``stop`` is set.

    ``keep_open``: file descriptors the run inherits -- the job's lock, so that it stays held as
    long as any process of the run lives.
    """

    def __call__(self, command: Sequence[str], timeout_s: float, stop: threading.Event,
                 keep_open: Sequence[int] = ()) -> RunOutcome: ...


_LINE = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S+): ?(.*)$")
_SUMMARY = "===== Luigi Execution Summary ====="


class _Output:
    """Copies a luigi child's output into this process's log and keeps its execution summary."""

    def __init__(self, stream: IO[str]) -> None:
        self.summary: list[str] = []
        self.tail: list[str] = []
        self._in_summary = False
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        level, name = logging.INFO, "luigi"
        for raw in stream:
            line = raw.rstrip("\n")
            match = _LINE.match(line)
            if match:
                level, name, line = logging.getLevelName(match[1]), match[2], match[3]
            logging.getLogger(f"luigi-run.{name}").log(level, "%s", line)
            self._keep(line)

    def _keep(self, line: str) -> None:
        if _SUMMARY in line:
            self._in_summary = not self._in_summary
            self.summary.append(line)
            return
        if self._in_summary:
            self.summary.append(line)
        self.tail = (self.tail + [line])[-40:]

    def join(self) -> str:
        self._thread.join(timeout=30)
        return "\n".join(self.summary) if self.summary else "\n".join(self.tail[-15:])


class LuigiProcess:
    """The production :class:`Runner`: the luigi command as a child process.

    Its output goes line by line into the log (``logs/scheduler.log``; errors and tracebacks into
    ``logs/error.log``). On timeout it gets SIGTERM, then SIGKILL; on a stop request, luigi first
    gets SIGUSR1 (finish the running tasks, start no new ones) and ``grace_seconds``. The child
    stays in the job's process group, so killing the group (a crash, ``kill -9 -<pgid>``) ends the
    whole run; it inherits the job's lock, so killing the job's process alone cannot let a second
    run overlap with the orphaned luigi run.
    """

    def __init__(self, logging_conf: Path | None = logs.LUIGI_LOGGING_CONF, grace_seconds: float = 60.0) -> None:
        self.logging_conf = logging_conf
        self.grace_seconds = grace_seconds

    def __call__(self, command: Sequence[str], timeout_s: float, stop: threading.Event,
                 keep_open: Sequence[int] = ()) -> RunOutcome:
        argv = list(command)
        if self.logging_conf is not None:
            argv += ["--logging-conf-file", str(self.logging_conf)]
        log.info("$ %s", shlex.join(argv))
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                                   pass_fds=tuple(keep_open) if os.name != "nt" else ())
        assert process.stdout is not None
        output = _Output(process.stdout)
        deadline = time.monotonic() + timeout_s
        timed_out = stopped = False
        while process.poll() is None:
            if stop.is_set():
                stopped = True
                self._stop(process, graceful=True)
            elif time.monotonic() > deadline:
                timed_out = True
                log.error("luigi run exceeded its timeout of %.0f minutes; stopping it", timeout_s / 60)
                self._stop(process, graceful=False)
            else:
                try:
                    process.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    continue
        summary = output.join()
        if timed_out:
            return RunOutcome(JOB_TIMEOUT, f"timed out after {timeout_s / 60:.0f} minutes\n{summary}", timed_out=True)
        if stopped:
            return RunOutcome(JOB_STOPPED, f"stopped on request\n{summary}", stopped=True)
        return RunOutcome(process.returncode, summary)

    def _stop(self, process: subprocess.Popen[str], graceful: bool) -> None:
        if graceful and hasattr(signal, "SIGUSR1"):
            process.send_signal(signal.SIGUSR1)  # luigi's worker: finish running tasks, take no new ones
            try:
                process.wait(timeout=self.grace_seconds)
                return
            except subprocess.TimeoutExpired:
                log.warning("luigi run still busy after %.0f s; terminating it", self.grace_seconds)
        process.terminate()
        try:
            process.wait(timeout=KILL_AFTER_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- locks -----------------------------------------------------------------------------------------


class JobLock:
    """An exclusive, non-blocking lock on a file: ``flock(2)`` (``msvcrt`` on Windows).

    The operating system releases it when the holder dies, even by SIGKILL, so a crash never
    leaves a stale lock behind. The file holds the holder's pid for people looking at it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        try:
            _lock_file(handle)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return True

    def fileno(self) -> int:
        assert self._handle is not None, "the lock is not held"
        return self._handle.fileno()

    def release(self) -> None:
        if self._handle is not None:
            _unlock_file(self._handle)
            self._handle.close()
            self._handle = None


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock_file(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock_file(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_file(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock_file(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# --- luigi's own settings ------------------------------------------------------------------------------


def luigi_retcodes() -> luigi.retcodes.retcode:
    """luigi's ``[retcode]`` settings; refuses to go on when they are luigi's defaults (0 on failure)."""
    codes = luigi.retcodes.retcode()
    if codes.task_failed == 0 or codes.already_running == 0:
        raise ConfigError("luigi's [retcode] section is not loaded (a failed run would exit 0): run from the "
                          "repository, where luigi.cfg is, or set LUIGI_CONFIG_PATH to it")
    return codes


def central_scheduler_answers(timeout_s: float = 1.0) -> bool:
    """Whether luigid answers at ``[core] scheduler_host``/``scheduler_port`` of luigi.cfg."""
    settings = luigi.configuration.get_config()
    host = settings.get("core", "scheduler_host", "localhost")
    port = settings.getint("core", "scheduler_port", 8082)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def use_central_scheduler(config: Config) -> bool:
    mode = config.operations.luigi_scheduler
    if mode == "auto":
        central = central_scheduler_answers()
        log.info("luigi_scheduler auto: %s", "luigid answers; using it" if central else
                 "no luigid answering; using a local scheduler")
        return central
    return mode == "central"


# --- a job run -------------------------------------------------------------------------------------


@dataclass
class Operations:
    """What a job run needs: configuration, where files live, how to run luigi, the clock, a stop signal."""

    config: Config
    runner: Runner
    clock: clocks.Clock = clocks.utc_now
    stop: threading.Event = field(default_factory=threading.Event)
    wait: Callable[[float], bool] | None = None  # sleeps between retries; True when stopped meanwhile
    environ: dict[str, str] | None = None  # for alert secrets (default: os.environ)

    @property
    def layout(self) -> Layout:
        return Layout(self.config.data_root)

    def sleep(self, seconds: float) -> bool:
        return self.wait(seconds) if self.wait is not None else self.stop.wait(seconds)

    def alert(self, kind: str, severity: Severity, title: str, detail: str, job: str | None = None,
              forecast_date: dt.date | None = None, key: str | None = None) -> Alert:
        alert = Alert(kind=kind, severity=severity, title=title, detail=detail, at=self.clock(), job=job,
                      forecast_date=forecast_date, key=key)
        return send(alert, self.config.alerts, self.layout.alert_log(), self.environ)


@dataclass(frozen=True)
class JobResult:
    job: str
    retcode: int
    status: str  # success | failed | fallback | already_running | timeout | stopped
    today: dt.date
    attempts: int = 0
    fallback: str | None = None
    summary: str = ""


def run_job(ops: Operations, job: str, command: Sequence[str] | None = None) -> JobResult:
    """Run ``job`` once at ``ops.clock()``: lock, luigi with retries, fallback, alerts, run record."""
    spec = JOBS[job]
    codes = luigi_retcodes()
    started = ops.clock()
    today = today_in_cpt(started)
    run_id = uuid.uuid4().hex[:12]
    lock = JobLock(ops.layout.job_lock(job))
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
        keep_open = (lock.fileno(),)
        outcome, attempts = _attempts(ops, job, full, keep_open)
        result = _conclude(ops, job, today, outcome, attempts, base[0], central, keep_open)
    finally:
        lock.release()
    _record(ops, result, run_id, started, full)
    log.log(logging.INFO if result.retcode == 0 else logging.ERROR, "job %s finished: %s (exit code %d)%s", job,
            result.status, result.retcode, f", fallback {result.fallback}" if result.fallback else "")
    refresh_status_page(ops)
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
    forecast = ops.layout.forecast(today)
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


def publish_fallback(ops: Operations, day: dt.date, luigi_binary: str, central: bool, timeout_s: float,
                     keep_open: Sequence[int] = ()) -> str | None:
    """Publish the configured fallback forecast for ``day``; the status it carries, or None if none could be."""
    from pipeline.tasks.common import context  # the task layer, needed here only to find today's features

    ctx = context()
    forecast = ctx.layout.forecast(day)
    steps: list[tuple[str, list[str]]] = []
    recovery = ops.config.error_recovery
    if recovery.data_fetching.fallback == "use_cached_data":
        if ctx.layout.features(ctx.features_tag, day).exists():
            log.info("the features of %s were built, so its inputs were fetched: no cached-inputs fallback", day)
        else:
            steps.append((STATUS_CACHED_INPUTS, ["DailyInference", "--date", day.isoformat(), "--cached-inputs"]))
    if recovery.inference.fallback == "use_previous_forecast":
        steps.append((STATUS_PREVIOUS, ["PublishPreviousForecast", "--date", day.isoformat()]))
    for status, task in steps:
        if forecast.exists():
            break
        if ops.stop.is_set():
            log.warning("stop requested: not trying the %s fallback for %s", status, day)
            break
        log.warning("forecast for %s missing: trying the %s fallback", day, status)
        command = [luigi_binary, "--module", "pipeline", *task] + ([] if central else ["--local-scheduler"])
        outcome = ops.runner(command, timeout_s, ops.stop, keep_open)
        if not forecast.exists():
            log.error("the %s fallback for %s failed (exit code %d)", status, day, outcome.retcode)
    if not forecast.exists():
        return None
    return str(forecast.read()["status"].iloc[0])


def retain_current_model(ops: Operations, today: dt.date) -> str | None:
    """Mark the candidate of the newest cadence date failed (unless gated); the model that keeps serving."""
    from pipeline.tasks.common import context

    ctx = context()
    m = ops.config.model
    if ops.config.error_recovery.model_retraining.fallback != "retain_current_model":
        return None
    newest = registry.cadence_date(today, m.cadence_anchor, m.retrain_every_days)
    failure = ctx.layout.model_failure(newest, ctx.model_tag)
    if not ctx.layout.model_decision(newest, ctx.model_tag).exists() and not failure.exists():
        failure.write({"status": "failed", "train_date": newest.isoformat(), "error": "the retraining job failed"})
    for train_date in registry.cadence_dates_back(today, m.cadence_anchor, m.retrain_every_days, m.max_age_days):
        decision = ctx.layout.model_decision(train_date, ctx.model_tag)
        if decision.exists() and decision.read()["status"] == "accepted":
            return str(decision.read()["model_id"])
    return "none accepted on disk yet"


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


def refresh_status_page(ops: Operations) -> None:
    if ops.config.operations.status_page:
        from pipeline import status

        status.write(ops.config, ops.clock())


# --- command line ----------------------------------------------------------------------------------


def _operations(args: argparse.Namespace) -> Operations:
    config = load_config()
    logs.setup(config.logging)
    clock = clocks.fixed(args.now) if args.now else clocks.utc_now
    return Operations(config=config, runner=LuigiProcess(grace_seconds=config.operations.stop_grace_seconds),
                      clock=clock)


def _stop_on_signals(ops: Operations) -> None:
    def handle(signum: int, _frame: object) -> None:
        log.warning("received signal %d: stopping the running job", signum)
        ops.stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handle)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.jobs", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run one scheduled job now")
    run.add_argument("job", choices=sorted(JOBS))
    run.add_argument("--now", type=clocks.parse_instant, help="run as if it were this time (ISO; default: now)")
    run.add_argument("--dry-run", action="store_true", help="print the luigi command, run nothing")
    fallback = commands.add_parser("fallback", help="publish the fallback forecast for a day now")
    fallback.add_argument("--date", type=dt.date.fromisoformat, help="issue day (default: today in CPT)")
    fallback.add_argument("--now", type=clocks.parse_instant)
    commands.add_parser("list", help="list the jobs and their luigi commands")
    parser.epilog = "run <job> [options] -- <luigi binary> <arguments>: the luigi command (default: the job's own)"
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    luigi_command = argv[split + 1:] or None
    try:
        if args.command == "list":
            return _list()
        ops = _operations(args)
        if args.command == "fallback":
            day = args.date or today_in_cpt(ops.clock())
            central = use_central_scheduler(ops.config)
            published = publish_fallback(ops, day, default_luigi(), central,
                                         schedule_of(ops.config, "inference").timeout_minutes * 60)
            print(f"forecast for {day}: {published or 'missing'}")
            return 0 if published else 1
        command = luigi_command
        if args.dry_run:
            base = command or [default_luigi(), *JOBS[args.job].luigi_args()]
            print(shlex.join(base + run_arguments(ops.config, args.job, ops.clock(), use_central_scheduler(ops.config))))
            return 0
        _stop_on_signals(ops)
        return run_job(ops, args.job, command).retcode
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


def _list() -> int:
    for spec in JOBS.values():
        print(f"{spec.name:<17} infrastructure/scripts/{spec.script}.sh  luigi {' '.join(spec.luigi_args())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
