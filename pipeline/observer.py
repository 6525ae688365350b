"""What a luigi run's events say, passed on to whoever watches the run.

luigi announces what its worker finds and does through events on the task classes: a dependency
discovered, a task found complete, a task started, its run time, its success or failure. The
``luigi`` command hooks one :class:`RunObserver` to them (:func:`pipeline.watch_runs`), which

* keeps the run's progress (:class:`~pipeline.progress.RunProgress`) and logs the progress line --
  done out of total, percent and ETA across fetch, features, train, gate, infer and score -- on
  ``pipeline.progress`` every few percent, so it shows on the terminal;
* sends the same line and percentage to luigid for the task named on the command line (what a
  task's own ``set_status_message`` / ``set_progress_percentage`` do), so the UI shows it too;
* counts in the metrics file (:mod:`pipeline.ops.metrics`) only work that happened: luigi fires
  SUCCESS for a task whose ``run()`` finished and never for one it found complete, and a forecast
  is counted when the task that ran wrote the day's forecast file.

No luigi import: tasks arrive as objects with ``task_id``, ``task_family``, ``output()`` and, for
the daily tasks, ``date``.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from pipeline.config import Config
from pipeline.ops.metrics import MetricsFile, metrics_folder
from pipeline.progress import CELLS, RunProgress
from targets import Layout

log = logging.getLogger("pipeline.progress")

#: Sends (task id, status message, percentage) to luigid.
Reporter = Callable[[str, str, int], None]


class Task(Protocol):
    """What the observer reads of a luigi task."""

    task_id: str
    task_family: str

    def output(self) -> Any: ...


def flatten(value: Any) -> Iterator[Any]:
    """Every target in a task's ``output()`` (a target, or dicts and lists of them)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from flatten(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from flatten(item)
    elif value is not None:
        yield value


def size_of(task: Any) -> float:
    """A task's work in days of data: ``end - start + 1`` for a range task, else 1 (for the ETA)."""
    start, end = getattr(task, "start", None), getattr(task, "end", None)
    if isinstance(start, dt.date) and isinstance(end, dt.date):
        return float((end - start).days + 1)
    return 1.0


def overall_status(statuses: list[str]) -> str:
    """One status for a forecast: ``ok`` when every row is, else its other statuses joined by '+'."""
    others = sorted(set(statuses) - {"ok"})
    return "+".join(others) if others else "ok"


class RunObserver:
    """Turns luigi's events into the progress line, luigid status messages and the metrics file."""

    def __init__(self, progress: RunProgress, clock: Callable[[], dt.datetime],
                 forecast_of: Callable[[dt.date], Any], metrics: MetricsFile | None = None,
                 luigid: Reporter | None = None, root_task_id: Callable[[], str | None] = lambda: None) -> None:
        self.progress, self.clock, self.forecast_of = progress, clock, forecast_of
        self.metrics, self.luigid, self.root_task_id = metrics, luigid, root_task_id
        self._seconds: dict[str, float] = {}

    @classmethod
    def for_config(cls, config: Config, clock: Callable[[], dt.datetime], metrics_dir: str | None = None,
                   luigid: Reporter | None = None,
                   root_task_id: Callable[[], str | None] = lambda: None) -> RunObserver:
        """The observer of a ``luigi`` command: counts shared with the worker processes luigi forks."""
        cells = multiprocessing.RawArray("d", CELLS)
        folder = metrics_dir if metrics_dir is not None else metrics_folder(config.logging.dir)
        return cls(RunProgress(cells), clock, Layout(config.data_root).forecast, MetricsFile(folder), luigid,
                   root_task_id)

    def handlers(self) -> dict[str, Callable[..., None]]:
        """luigi event name -> handler (``luigi.Event.<name>``)."""
        return {"DEPENDENCY_DISCOVERED": self.on_discovered, "DEPENDENCY_PRESENT": self.on_present,
                "DEPENDENCY_MISSING": self.on_missing, "BROKEN_TASK": self.on_broken, "START": self.on_start,
                "PROCESSING_TIME": self.on_processing_time, "SUCCESS": self.on_success,
                "FAILURE": self.on_failure}

    # --- scheduling ---

    def on_discovered(self, task: Task, dependency: Task) -> None:
        """luigi walks the dependencies of incomplete tasks only: ``task`` will run."""
        self.progress.pending(task.task_id, task.task_family)
        self.progress.maybe(dependency.task_id, dependency.task_family)
        for seen in (task, dependency):
            self.progress.size(seen.task_id, size_of(seen))

    def on_present(self, task: Task) -> None:
        self.progress.complete(task.task_id, task.task_family)

    def on_missing(self, task: Task) -> None:
        self.progress.missing(task.task_id, task.task_family)

    def on_broken(self, task: Task, _error: BaseException) -> None:
        self.progress.missing(task.task_id, task.task_family)

    # --- running ---

    def on_start(self, task: Task) -> None:
        self.progress.size(task.task_id, size_of(task))
        self.progress.started(task.task_id, task.task_family)

    def on_processing_time(self, task: Task, seconds: float) -> None:
        self._seconds[task.task_id] = float(seconds)

    def on_success(self, task: Task) -> None:
        seconds = self._seconds.pop(task.task_id, None)
        self.progress.succeeded(task.task_id, task.task_family, seconds)
        if self.metrics is not None:
            now = self.clock()
            self.metrics.task_run(task.task_family, "success", seconds, now)
            published = self.published_forecast(task)
            if published is not None:
                self.metrics.forecast(published[0], published[1], now)
        self.report()

    def on_failure(self, task: Task, _error: BaseException) -> None:
        self.progress.failed(task.task_id, task.task_family)
        if self.metrics is not None:
            self.metrics.task_run(task.task_family, "failure", None, self.clock())
        self.report()

    def published_forecast(self, task: Task) -> tuple[dt.date, str] | None:
        """(issue day, status) when ``task`` writes the forecast file of its ``date``, else None."""
        day = getattr(task, "date", None)
        if not isinstance(day, dt.date):
            return None
        forecast = self.forecast_of(day)
        if forecast.path not in {getattr(target, "path", None) for target in flatten(task.output())}:
            return None
        return day, overall_status(list(forecast.read()["status"].unique()))

    def report(self) -> None:
        """Log the progress line and send it to luigid, when it moved enough to be worth a line."""
        if not self.progress.due():
            return
        line = self.progress.line()
        log.info("%s", line)
        if self.luigid is not None:
            root = self.root_task_id()
            if root is not None:
                self.luigid(root, line, self.progress.percent())
