"""The built-in scheduler: the four jobs on their cron schedules (in CPT), plus the DAM deadline monitor.

    python -m pipeline.scheduler                  # long-running (systemd: infrastructure/systemd/)
    python -m pipeline.scheduler --once           # run the jobs due now, then exit
    python -m pipeline.scheduler --dry-run        # print the schedule and what is due; run nothing
    python -m pipeline.scheduler --once --dry-run --now 2024-03-10T05:59

It reads the ``scheduler`` block of config/pipeline.yaml: per job ``enabled``, ``cron_expression``
(parsed by croniter in America/Chicago, so 06:00 is 06:00 CPT in summer and winter),
``timeout_minutes``, ``retry_count`` and ``priority``. Each job runs through
:func:`pipeline.ops.jobs.run_job` -- the same lock, retries, timeouts, fallbacks, alerts and run log as
the cron scripts -- so cron and this scheduler can even run side by side without overlapping.

A job is due when its latest cron time has passed, no run of it started since (``ops/runs.jsonl``),
and that time is less than the job's ``timeout_minutes`` ago: a scheduler (re)started within a
job's execution window still runs it; later, the next run catches the missed days up (RangeDaily).
A run that found the job's lock held is recorded ``already_running``; that record counts as a
start only while the lock's holder lives (:meth:`pipeline.ops.lock.Lock.current_holder`). When the holder
died (``kill -9``) without a record of its own, the job is due again and is taken over, with one
log line.

Due jobs start in priority order (critical, high, medium, low); each runs in its own thread and
luigi process, so a six-hour backtest never delays the 06:00 forecast. SIGTERM or SIGINT stop the
loop: running jobs are asked to finish their current tasks (``operations.stop_grace_seconds``) and
are then stopped; the process exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import shlex
import signal
import sys
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass


def _parser(instant: Callable[[str], object] = str) -> argparse.ArgumentParser:
    """The command's arguments; ``instant`` reads ``--now`` (the clock's parser once it is loaded)."""
    parser = argparse.ArgumentParser(prog="python -m pipeline.scheduler", description=__doc__.split("\n\n")[0])
    parser.add_argument("--once", action="store_true", help="run the jobs due now, then exit")
    parser.add_argument("--dry-run", action="store_true", help="print the schedule and what is due; run nothing")
    parser.add_argument("--now", type=instant, help="as of this time (ISO; default: now; implies a stopped clock)")
    return parser


if __name__ == "__main__":
    # Answer --help (and refuse unknown options) before the operations machinery loads: seconds of imports.
    _parser().parse_args()

from croniter import croniter  # noqa: E402 - after the early argument check above

from pipeline import clock as clocks
from pipeline import logs
from pipeline.config import Config, ConfigError, load_config
from pipeline.ercot_time import CPT, operating_day
from pipeline.ops import deadline, jobs, luigi_settings, status
from pipeline.ops.base import JobResult, Operations
from pipeline.ops.lock import job_lock
from pipeline.ops.runner import LuigiProcess, central_scheduler_answers

log = logging.getLogger("pipeline.scheduler")

PRIORITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
# Exit code of a job whose thread crashed (luigi's unhandled_exception in luigi.cfg).
JOB_CRASHED = 40
# While today's forecast is late, the deadline monitor runs again at most this often.
DEADLINE_RECHECK = dt.timedelta(minutes=5)


def next_fire(expression: str, after: dt.datetime) -> dt.datetime:
    """The first cron time strictly after ``after``, as CPT wall-clock time."""
    return croniter(expression, after.astimezone(CPT)).get_next(dt.datetime)


def latest_fire(expression: str, now: dt.datetime) -> dt.datetime:
    """The latest cron time at or before ``now``, as CPT wall-clock time."""
    return croniter(expression, now.astimezone(CPT) + dt.timedelta(seconds=1)).get_prev(dt.datetime)


@dataclass(frozen=True)
class Due:
    job: str
    fire: dt.datetime
    priority: str


def due_jobs(config: Config, now: dt.datetime, last_started: dict[str, dt.datetime]) -> list[Due]:
    """Enabled jobs whose latest cron time passed within their window and has had no run since, by priority."""
    due = []
    for job in jobs.JOBS:
        settings = jobs.schedule_of(config, job)
        if not settings.enabled:
            continue
        fire = latest_fire(settings.cron_expression, now)
        if now - fire > dt.timedelta(minutes=settings.timeout_minutes):
            continue
        started = last_started.get(job)
        if started is not None and started >= fire:
            continue
        due.append(Due(job, fire, settings.priority))
    return sorted(due, key=lambda d: (PRIORITY_RANK[d.priority], d.fire))


@dataclass(frozen=True)
class History:
    """What the run history says: when each job last started, and which deferrals no longer hold."""

    starts: dict[str, dt.datetime]
    settled: frozenset[str]  # jobs whose latest "already running" record no longer counts, or never did


def run_history(ops: Operations, jobs: Collection[str] | None = None) -> History:
    """When each job (of ``jobs``; default: all) last started, from ``ops/runs.jsonl``.

    A run that found the lock held (``already_running``) deferred to the holder; its record counts
    only while that holder lives. A stale one is dropped with one log line, so the job is due again.
    """
    starts: dict[str, dt.datetime] = {}
    deferred: dict[str, dt.datetime] = {}
    for record in status.read_log(ops.layout.run_log()):
        job = record["job"]
        if jobs is not None and job not in jobs:
            continue
        started = dt.datetime.fromisoformat(record["started_at"])
        latest = deferred if record.get("status") == "already_running" else starts
        if job not in latest or started > latest[job]:
            latest[job] = started
    settled = set(starts) - set(deferred)
    for job, at in deferred.items():
        if job in starts and starts[job] >= at:
            settled.add(job)  # the holder's own run is on record
            continue
        holder = job_lock(ops.layout, job, ops.clock).current_holder()
        if holder is not None and holder.alive:
            starts[job] = at
            continue
        settled.add(job)
        log.warning("%s: the run of %s deferred to a lock holder that is gone (%s); taking the job over", job,
                    _cpt(at), holder.description if holder else "the lock is free")
    return History(starts, frozenset(settled))


def last_starts(ops: Operations) -> dict[str, dt.datetime]:
    """When each job last started (:func:`run_history`)."""
    return run_history(ops).starts


class Scheduler:
    """The loop: start due jobs in threads, watch the deadline, stop gracefully."""

    def __init__(self, ops: Operations, run: Callable[[Operations, str], JobResult] = jobs.run_job) -> None:
        self.ops = ops
        self._run = run
        self.last_started = last_starts(ops)
        self.deferred: set[str] = set()  # jobs whose last run here found the lock held
        self.threads: dict[str, threading.Thread] = {}
        self.results: list[JobResult] = []
        self._deadline_checked: dt.datetime | None = None
        self._lock = threading.Lock()

    def tick(self) -> list[str]:
        """Start every due job that is not already running here; returns the jobs started."""
        now = self.ops.clock()
        self._recheck_deferred()
        started = []
        for item in due_jobs(self.ops.config, now, self.last_started):
            if self._busy(item.job):
                continue
            log.info("%s is due (cron time %s, priority %s)", item.job, _cpt(item.fire), item.priority)
            self.last_started[item.job] = now
            self.deferred.discard(item.job)
            self._start(item.job, lambda job=item.job: self._job(job))
            started.append(item.job)
        self._watch_deadline(now)
        return started

    def _job(self, job: str) -> None:
        try:
            result = self._run(self.ops, job)
        except Exception:  # the top of a job thread: report the crash, keep the scheduler alive
            log.exception("job %s crashed", job)
            result = JobResult(job, JOB_CRASHED, "crashed", operating_day(self.ops.clock()))
        with self._lock:
            self.results.append(result)
            if result.status == "already_running":
                self.deferred.add(job)
        self._refresh_status_page()

    def _recheck_deferred(self) -> None:
        """Jobs whose run here found the lock held: their start counts only while the holder lives."""
        with self._lock:
            waiting = [job for job in self.deferred if not self._busy(job)]
        if not waiting:
            return
        history = run_history(self.ops, waiting)
        for job in waiting:
            if job not in history.settled:
                continue  # still deferring to a living holder
            with self._lock:
                self.deferred.discard(job)
            if job in history.starts:
                self.last_started[job] = history.starts[job]
            else:
                self.last_started.pop(job, None)

    def _watch_deadline(self, now: dt.datetime) -> None:
        dam = self.ops.config.deadlines.dam_closure
        if not (dam.alert_on_risk or dam.fallback_on_miss):
            return
        current = deadline.state(now, dam, self.ops.layout)
        if not current.at_risk or self._busy("deadline"):
            return
        if self._deadline_checked is not None and now - self._deadline_checked < DEADLINE_RECHECK:
            return
        self._deadline_checked = now
        self._start("deadline", lambda: self._deadline())

    def _deadline(self) -> None:
        try:
            deadline.check(self.ops)
        except Exception:  # the top of a thread: report the crash, keep the scheduler alive
            log.exception("the deadline monitor crashed")
        self._refresh_status_page()

    def _refresh_status_page(self) -> None:
        """The status page after every job and deadline check (a failure to draw it is logged, never fatal)."""
        try:
            with self._lock:
                status.refresh(self.ops.config, self.ops.clock())
        except Exception:  # the top of a job thread: the page is a view, the jobs must go on
            log.exception("the status page could not be rewritten")

    def _busy(self, name: str) -> bool:
        thread = self.threads.get(name)
        return thread is not None and thread.is_alive()

    def _start(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=f"job-{name}")
        self.threads[name] = thread
        thread.start()

    def wait(self) -> None:
        for thread in list(self.threads.values()):
            thread.join()

    def sleep_seconds(self) -> float:
        """Until the next cron time of any enabled job, at most ``operations.poll_seconds``."""
        now = self.ops.clock()
        upcoming = [next_fire(jobs.schedule_of(self.ops.config, job).cron_expression, now)
                    for job in jobs.JOBS if jobs.schedule_of(self.ops.config, job).enabled]
        until = min(((t - now).total_seconds() for t in upcoming), default=float(self.ops.config.operations.poll_seconds))
        return max(1.0, min(until + 0.5, float(self.ops.config.operations.poll_seconds)))

    def run_forever(self) -> None:
        log.info("scheduler started (pid file not used; stop with SIGTERM or SIGINT)")
        while not self.ops.stop.is_set():
            self.tick()
            self.ops.stop.wait(self.sleep_seconds())
        log.info("stop requested: waiting for running jobs to finish their current tasks")
        self.wait()
        log.info("scheduler stopped")

    def run_once(self) -> int:
        started = self.tick()
        if not started:
            log.info("no job is due at %s", _cpt(self.ops.clock()))
        self.wait()
        return max((r.retcode for r in self.results), default=0)


def _cpt(at: dt.datetime) -> str:
    local = at.astimezone(CPT)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def describe(config: Config, now: dt.datetime, last_started: dict[str, dt.datetime]) -> str:
    """The schedule as a table: each job's next run (CPT), whether it is due now, its luigi command."""
    due = {d.job for d in due_jobs(config, now, last_started)}
    mode = config.operations.luigi_scheduler
    central = mode == "central" or (mode == "auto" and central_scheduler_answers())
    lines = [f"now: {_cpt(now)}", f"{'job':<17}{'enabled':<9}{'priority':<10}{'cron (CPT)':<15}{'next run (CPT)':<22}"
             f"{'due now':<9}command"]
    for job, spec in jobs.JOBS.items():
        settings = jobs.schedule_of(config, job)
        command = ["luigi", *spec.luigi_args(), *jobs.run_arguments(config, job, now, central)]
        lines.append(f"{job:<17}{'yes' if settings.enabled else 'no':<9}{settings.priority:<10}"
                     f"{settings.cron_expression:<15}{_cpt(next_fire(settings.cron_expression, now)):<22}"
                     f"{'yes' if job in due else 'no':<9}{shlex.join(command)}")
    risk_at, closes_at = deadline.times(operating_day(now), config.deadlines.dam_closure)
    lines.append(f"deadline monitor: forecast for today expected by {_cpt(risk_at)} (DAM closes {_cpt(closes_at)})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parser(clocks.parse_instant).parse_args(argv)
    # Nothing the jobs write (data root, logs, locks) is writable by group or others, whatever umask
    # the process inherited; a stricter one is kept. Here, before any thread starts.
    os.umask(os.umask(0o022) | 0o022)
    try:
        config = load_config()
        clock = clocks.fixed(args.now) if args.now else clocks.utc_now
        ops = Operations(config=config, runner=LuigiProcess(grace_seconds=config.operations.stop_grace_seconds),
                         clock=clock)
        if args.dry_run:
            print(describe(config, clock(), last_starts(ops)))
            return 0
        logs.setup(config.logging, secrets=logs.secret_variables(config))
        luigi_settings.retcodes()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    scheduler = Scheduler(ops)

    def stop(signum: int, _frame: object) -> None:
        log.warning("received signal %d: stopping", signum)
        ops.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.once:
        return scheduler.run_once()
    scheduler.run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
