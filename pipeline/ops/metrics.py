"""Prometheus metrics of the work the pipeline actually did, as a node-exporter textfile.

Why a textfile and not luigid's ``/metrics``: luigid counts a task "done" also when a worker only
found it complete, so one already-complete ``DailyInference`` raised "forecasts done" while
nothing ran, and a run that did nothing satisfied the alerts. These metrics are written by the
pipeline itself, from luigi's events in the process that ran the task: SUCCESS fires only for a
task whose ``run()`` finished (:mod:`pipeline.observer`), and a forecast counts as published only
when the task that ran wrote the day's forecast file.

Why node-exporter's textfile collector and not a Pushgateway: the counters must survive the short
``luigi`` processes that cron starts, and a file on the machine that did the work needs no extra
service, works offline and keeps each machine's counts apart (Prometheus sums them with ``sum``).
The file is ``<folder>/rtlmp.prom`` (:data:`TEXTFILE`); beside it, ``rtlmp-metrics.json`` keeps
the counters between processes. Each update takes an exclusive ``flock`` on ``rtlmp-metrics.lock``,
reads the state, adds to it and rewrites both files atomically, so concurrent luigi workers and
cron jobs on one machine never lose a count and counters never go down.

Metrics (all prefixed ``rtlmp_``):

* ``task_runs_total{family, outcome}`` -- tasks that ran, by outcome ``success`` / ``failure``;
* ``task_run_seconds_total{family}``, ``task_last_run_seconds{family}``,
  ``task_last_success_timestamp_seconds{family}`` -- time spent running;
* ``forecasts_published_total{status, issue}`` -- forecast files written, by ``status`` (``ok``,
  ``fallback_*`` ...) and ``issue``: ``today`` when published on its own issue day (the daily
  product), ``past`` for catch-up, backfill and backtest replays;
* ``forecast_published_timestamp_seconds{issue_date, status}`` -- when each of the last
  :data:`RECENT_FORECASTS` issue days was published (the newest publication of that day);
* ``forecast_latest_issue_day_start_seconds`` -- 00:00 CPT of the newest issue day published: the
  alert "no forecast today" fires when this is more than 33 hours old (09:00 CPT of the next day);
* ``metrics_updated_timestamp_seconds`` -- when this file was last written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pipeline import ercot_time
from targets.files import TextTarget

TEXTFILE = "rtlmp.prom"
STATE = "rtlmp-metrics.json"
LOCK = "rtlmp-metrics.lock"
METRICS_DIR_ENV = "RTLMP_METRICS_DIR"
RECENT_FORECASTS = 14
OUTCOMES = ("success", "failure")

State = dict[str, Any]


def metrics_folder(logging_dir: Path | str, environ: Mapping[str, str] | None = None) -> Path:
    """``RTLMP_METRICS_DIR`` (node-exporter's textfile directory) or ``<logging.dir>/metrics``."""
    env = os.environ if environ is None else environ
    return Path(env.get(METRICS_DIR_ENV) or Path(logging_dir) / "metrics")


def empty_state() -> State:
    return {"tasks": {}, "forecasts": {"published": {}, "recent": {}, "latest_issue_date": None}, "updated": None}


def _seconds(at: dt.datetime) -> float:
    if at.tzinfo is None:
        raise ValueError(f"metrics need timezone-aware times, got {at!r}")
    return at.timestamp()


def add_task_run(state: State, family: str, outcome: str, seconds: float | None, at: dt.datetime) -> State:
    """Count one task that ran (``outcome``: success or failure) and the time it took."""
    if outcome not in OUTCOMES:
        raise ValueError(f"task outcome must be one of {OUTCOMES}, got {outcome!r}")
    task = state["tasks"].setdefault(family, {"success": 0, "failure": 0, "seconds": 0.0})
    task[outcome] += 1
    if seconds is not None:
        task["seconds"] += float(seconds)
        task["last_seconds"] = float(seconds)
    if outcome == "success":
        task["last_success"] = _seconds(at)
    state["updated"] = _seconds(at)
    return state


def add_forecast(state: State, issue_date: dt.date, status: str, published_at: dt.datetime) -> State:
    """Count one published forecast file: its issue day, status and publication time."""
    forecasts = state["forecasts"]
    issue = "today" if ercot_time.operating_day(published_at) == issue_date else "past"
    key = f"{status}|{issue}"
    forecasts["published"][key] = forecasts["published"].get(key, 0) + 1
    recent = forecasts["recent"]
    recent[issue_date.isoformat()] = {"status": status, "published_at": _seconds(published_at)}
    for old in sorted(recent)[:-RECENT_FORECASTS]:
        del recent[old]
    latest = forecasts["latest_issue_date"]
    if latest is None or issue_date.isoformat() > latest:
        forecasts["latest_issue_date"] = issue_date.isoformat()
    state["updated"] = _seconds(published_at)
    return state


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _sample(name: str, labels: Mapping[str, str], value: float) -> str:
    inside = ",".join(f'{key}="{_label(str(val))}"' for key, val in labels.items())
    return f"{name}{{{inside}}} {value!r}" if inside else f"{name} {value!r}"


def _family(name: str, kind: str, help_text: str, samples: list[str]) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *samples]


def render(state: State) -> str:
    """The Prometheus text exposition of ``state`` (what node-exporter serves)."""
    tasks, forecasts = state["tasks"], state["forecasts"]
    lines: list[str] = []
    lines += _family("rtlmp_task_runs_total", "counter", "Tasks whose run() finished (success) or raised (failure).",
                     [_sample("rtlmp_task_runs_total", {"family": f, "outcome": o}, float(tasks[f][o]))
                      for f in sorted(tasks) for o in OUTCOMES])
    lines += _family("rtlmp_task_run_seconds_total", "counter", "Seconds spent in successful task runs.",
                     [_sample("rtlmp_task_run_seconds_total", {"family": f}, float(tasks[f]["seconds"]))
                      for f in sorted(tasks)])
    lines += _family("rtlmp_task_last_run_seconds", "gauge", "Duration of the last successful run of the task.",
                     [_sample("rtlmp_task_last_run_seconds", {"family": f}, tasks[f]["last_seconds"])
                      for f in sorted(tasks) if "last_seconds" in tasks[f]])
    lines += _family("rtlmp_task_last_success_timestamp_seconds", "gauge", "When the task last ran successfully.",
                     [_sample("rtlmp_task_last_success_timestamp_seconds", {"family": f}, tasks[f]["last_success"])
                      for f in sorted(tasks) if "last_success" in tasks[f]])
    published = [_sample("rtlmp_forecasts_published_total", dict(zip(("status", "issue"), key.split("|"))),
                         float(count)) for key, count in sorted(forecasts["published"].items())]
    lines += _family("rtlmp_forecasts_published_total", "counter",
                     "Forecast files written, by status; issue=today when published on their issue day.", published)
    recent = forecasts["recent"]
    lines += _family("rtlmp_forecast_published_timestamp_seconds", "gauge",
                     "When the forecast of each recent issue day was published.",
                     [_sample("rtlmp_forecast_published_timestamp_seconds",
                              {"issue_date": day, "status": recent[day]["status"]}, recent[day]["published_at"])
                      for day in sorted(recent)])
    latest = forecasts["latest_issue_date"]
    if latest is not None:
        start = ercot_time.day_start(dt.date.fromisoformat(latest))
        lines += _family("rtlmp_forecast_latest_issue_day_start_seconds", "gauge",
                         "00:00 CPT of the newest issue day with a published forecast.",
                         [_sample("rtlmp_forecast_latest_issue_day_start_seconds", {}, start.timestamp())])
    if state["updated"] is not None:
        lines += _family("rtlmp_metrics_updated_timestamp_seconds", "gauge", "When the pipeline last wrote this file.",
                         [_sample("rtlmp_metrics_updated_timestamp_seconds", {}, state["updated"])])
    return "\n".join(lines) + "\n"


class MetricsFile:
    """The textfile and its state in one folder; every update is locked, read, changed and rewritten."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    @property
    def textfile(self) -> Path:
        return self.folder / TEXTFILE

    def read_state(self) -> State:
        path = self.folder / STATE
        if not path.exists():
            return empty_state()
        return json.loads(path.read_text(encoding="utf-8"))

    def update(self, change: Callable[[State], State]) -> State:
        """Apply ``change`` to the stored counters under the lock and rewrite the textfile."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with _locked(self.folder / LOCK):
            state = change(self.read_state())
            TextTarget(str(self.folder / STATE)).replace(json.dumps(state, sort_keys=True))
            TextTarget(str(self.textfile)).replace(render(state))
        return state

    def task_run(self, family: str, outcome: str, seconds: float | None, at: dt.datetime) -> None:
        self.update(lambda state: add_task_run(state, family, outcome, seconds, at))

    def forecast(self, issue_date: dt.date, status: str, published_at: dt.datetime) -> None:
        self.update(lambda state: add_forecast(state, issue_date, status, published_at))


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock among this machine's processes (``flock``; Windows has none: updates may race)."""
    try:
        import fcntl
    except ImportError:  # Windows: the .bat jobs run one at a time
        yield
        return
    with open(path, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
