"""Progress of long work, shown on the terminal (stderr) and handed to a scheduler UI.

A backtest of a year runs thousands of tasks over several minutes; the person who started it wants
to see that it moves and when it will end, and so does the luigid UI.

* :class:`Progress` counts the steps of one loop inside a task (scoring the days of a backtest) and
  reports each visible change to a terminal bar and to optional callbacks (a luigi task passes its
  ``set_progress_percentage`` / ``set_status_message``).
* :class:`RunProgress` counts the tasks of a whole luigi run -- fetch, features, train, gate,
  infer, score -- from luigi's events (:mod:`pipeline.observer`), and writes the progress line:
  done out of total, percent and ETA.

Neither knows anything about luigi, so both are tested without a scheduler.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, MutableSequence
from typing import TextIO

BAR_WIDTH = 30


def bar_line(label: str, done: int, total: int, note: str = "") -> str:
    """``'scoring [#######.......]  7/30 2024-07-16'``: one line of the terminal bar."""
    filled = BAR_WIDTH * done // total if total else BAR_WIDTH
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    width = len(str(total))
    return f"{label} [{bar}] {done:>{width}}/{total} {note}".rstrip()


class Progress:
    """Counts ``total`` steps; reports each whole-percent change to the terminal and the callbacks.

    ``span`` maps this loop onto part of a task's overall percentage (e.g. scoring is 90-95 % of a
    backtest). On a terminal the bar redraws in place; elsewhere (cron logs) it prints the first
    step and one line per further tenth, so log files stay short.
    """

    def __init__(self, label: str, total: int, *, stream: TextIO | None = None,
                 percentage: Callable[[int], object] | None = None,
                 message: Callable[[str], object] | None = None,
                 span: tuple[int, int] = (0, 100)) -> None:
        if total < 0:
            raise ValueError(f"progress total must not be negative, got {total}")
        self.label, self.total, self.span = label, total, span
        self.stream = stream if stream is not None else sys.stderr
        self.percentage, self.message = percentage, message
        self.done = 0
        self._last_percent = -1
        self._last_tenth = -1
        self._interactive = bool(getattr(self.stream, "isatty", lambda: False)())

    def advance(self, note: str = "") -> None:
        """One step done (``note``: what it was, e.g. the day just scored)."""
        self.done = min(self.done + 1, self.total)
        self._report(note)

    def close(self) -> None:
        """End the terminal line (call once, after the last step)."""
        if self._interactive:
            self.stream.write("\n")
            self.stream.flush()

    def _report(self, note: str) -> None:
        fraction = self.done / self.total if self.total else 1.0
        overall = round(self.span[0] + fraction * (self.span[1] - self.span[0]))
        changed = overall != self._last_percent
        if changed and self.percentage is not None:
            self.percentage(overall)
        if (changed or self.done == self.total) and self.message is not None:
            self.message(f"{self.label}: {self.done}/{self.total} {note}".rstrip())
        self._last_percent = overall
        self._draw(note, fraction)

    def _draw(self, note: str, fraction: float) -> None:
        line = bar_line(self.label, self.done, self.total, note)
        if self._interactive:
            self.stream.write("\r" + line)
            self.stream.flush()
            return
        tenth = int(fraction * 10)
        if tenth != self._last_tenth:
            self._last_tenth = tenth
            self.stream.write(line + "\n")
            self.stream.flush()


# --- overall progress of a luigi run ------------------------------------------------------------------

#: Stages of the pipeline in the order a cold run meets them; the progress line counts each.
STAGES = ("fetch", "features", "train", "gate", "infer", "score", "other")
_STAGE_OF_FAMILY = (
    ("Fetch", "fetch"), ("HourlyPrices", "fetch"),
    ("BuildFeatures", "features"), ("FeatureRange", "features"),
    ("TrainModel", "train"), ("RetrainModel", "train"),
    ("GateModel", "gate"),
    ("ServeModel", "infer"), ("ShardForecast", "infer"), ("DailyInference", "infer"), ("PublishPrevious", "infer"),
    ("Backtest", "score"), ("WeeklyBacktest", "score"),
)
# Shared cells: per stage (total, done, failed, seconds), then the run's start and the last report.
_PER_STAGE = 4
_STARTED, _REPORTED_PERCENT, _REPORTED_AT = (len(STAGES) * _PER_STAGE + i for i in range(3))
CELLS = len(STAGES) * _PER_STAGE + 3


def stage_of(family: str) -> str:
    """The stage a task family belongs to (``FetchRange`` -> fetch, ``GateModel`` -> gate, ...)."""
    for prefix, stage in _STAGE_OF_FAMILY:
        if family.startswith(prefix):
            return stage
    return "other"


def duration_text(seconds: float) -> str:
    """'45 s', '3 min 10 s', '1 h 05 min': an ETA a person reads at a glance."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class RunProgress:
    """Done out of total, percent and ETA over every task a luigi run has to run, by stage.

    Fed with what luigi's events say: a task found incomplete (``pending``), a dependency not yet
    checked (``maybe``: counted until it turns out complete), one found complete before running
    (``complete``: not counted, it is no work), and each start, success and failure. The ETA
    prices each task still to run by its size in days at the time per day its family took so far,
    else its stage's (a model takes longer than a day of features; a year's FetchRange longer than a
    day's fetch), plus the run's observed time between tasks for each, divided by the speed-up of
    several workers. The total grows while running tasks yield new dependencies (a Backtest finds
    its daily forecasts only once its inputs are ready).

    The counts live in ``cells``, a flat sequence of floats: pass a ``multiprocessing`` shared array
    so worker processes forked by luigi (``--workers N``) count into the same numbers. Only the
    process that made this object (luigi's scheduling process) writes the totals; the workers add
    what they ran. Pure: no luigi, no I/O.
    """

    def __init__(self, cells: MutableSequence[float] | None = None, clock: Callable[[], float] = time.monotonic,
                 every_percent: int = 5, every_seconds: float = 60.0) -> None:
        self.cells = cells if cells is not None else [0.0] * CELLS
        if len(self.cells) != CELLS:
            raise ValueError(f"progress needs {CELLS} cells, got {len(self.cells)}")
        self.cells[_REPORTED_PERCENT] = -1.0
        self.clock, self.every_percent, self.every_seconds = clock, every_percent, every_seconds
        self._state: dict[str, str] = {}
        self._stage: dict[str, str] = {}
        self._family: dict[str, str] = {}
        self._units: dict[str, float] = {}
        # (units done, seconds) per family and per stage, of the tasks this process saw finish.
        self._family_time: dict[str, tuple[float, float]] = {}
        self._stage_time: dict[str, tuple[float, float]] = {}
        self._scheduler_pid = os.getpid()

    # --- what luigi found while scheduling (the process that schedules) ---

    def size(self, task_id: str, units: float) -> None:
        """How much work the task is, in days of data (a year's FetchRange is 365, a day's fetch 1)."""
        self._units[task_id] = max(float(units), 1.0)

    def maybe(self, task_id: str, family: str) -> None:
        """A dependency was discovered; luigi has not checked yet whether it is complete."""
        if task_id not in self._state:
            self._set(task_id, family, "maybe")

    def pending(self, task_id: str, family: str) -> None:
        """The task is incomplete: it will run."""
        if self._state.get(task_id) in (None, "maybe", "complete"):
            self._set(task_id, family, "pending")

    def complete(self, task_id: str, family: str) -> None:
        """The task was complete before this run touched it (or completed since, when already counted)."""
        if self._state.get(task_id) in (None, "maybe"):
            self._set(task_id, family, "complete")

    def missing(self, task_id: str, family: str) -> None:
        """External data that is missing, or a completeness check that failed: it will not run."""
        if self._state.get(task_id) in (None, "maybe", "pending"):
            self._set(task_id, family, "missing")

    # --- what the running tasks did (any worker process) ---

    def started(self, task_id: str, family: str) -> None:
        if not self.cells[_STARTED]:
            self.cells[_STARTED] = self.clock()
        self.pending(task_id, family)

    def succeeded(self, task_id: str, family: str, seconds: float | None) -> None:
        index = STAGES.index(self._stage.get(task_id, stage_of(family))) * _PER_STAGE
        self.cells[index + 1] += 1
        self.cells[index + 3] += seconds or 0.0
        units, stage = self._units.get(task_id, 1.0), self._stage.get(task_id, stage_of(family))
        for times, key in ((self._family_time, family), (self._stage_time, stage)):
            done, spent = times.get(key, (0.0, 0.0))
            times[key] = (done + units, spent + (seconds or 0.0))
        self._state[task_id] = "done"

    def failed(self, task_id: str, family: str) -> None:
        self.cells[STAGES.index(self._stage.get(task_id, stage_of(family))) * _PER_STAGE + 2] += 1
        self._state[task_id] = "failed"

    # --- reading it ---

    def counts(self) -> dict[str, tuple[int, int, int]]:
        """(total, done, failed) per stage with any task; done and failed never exceed the total."""
        out = {}
        for number, stage in enumerate(STAGES):
            total, done, failed = (int(self.cells[number * _PER_STAGE + k]) for k in range(3))
            total = max(total, done + failed)
            if total:
                out[stage] = (total, done, failed)
        return out

    def eta_seconds(self) -> float | None:
        """Seconds until every counted task has run, or None before the first one finished.

        Each task still to run is priced by its size (:meth:`size`) at the time per unit its family
        took so far, else its stage, else every task: a day's fetch is not priced like a year's.
        To that come the wall time the run spent between tasks so far, per remaining task, and the
        speed-up of several workers.
        In a forked worker, which does not know the plan task by task, each stage's remaining tasks
        are priced at the stage's mean time per task.
        """
        finished = sum(self.cells[n * _PER_STAGE + 1] for n in range(len(STAGES)))
        spent = sum(self.cells[n * _PER_STAGE + 3] for n in range(len(STAGES)))
        started = self.cells[_STARTED]
        if not finished or not started:
            return None
        if os.getpid() == self._scheduler_pid and self._stage_time:
            work = sum(self._units.get(t, 1.0) * self._rate(t)
                       for t, state in self._state.items() if state in ("maybe", "pending"))
        else:
            work = 0.0
            for number, stage in enumerate(STAGES):
                total, done, failed = self.counts().get(stage, (0, 0, 0))
                stage_done, stage_spent = self.cells[number * _PER_STAGE + 1], self.cells[number * _PER_STAGE + 3]
                work += (total - done - failed) * (stage_spent / stage_done if stage_done else spent / finished)
        # Wall time beyond the tasks' own run time (luigi's scheduling and completeness checks between
        # tasks) is paid per task: it dominates a run of hundreds of one-day fetches. Several workers
        # running side by side show up as more task time than wall time instead.
        elapsed = max(self.clock() - started, 1e-9)
        remaining = sum(total - done - failed for total, done, failed in self.counts().values())
        overhead = max(elapsed - spent, 0.0) / finished
        return work / max(spent / elapsed, 1.0) + remaining * overhead

    def _rate(self, task_id: str) -> float:
        """Seconds per unit of work for this task: its family's so far, else its stage's, else the run's."""
        for times, key in ((self._family_time, self._family.get(task_id)), (self._stage_time, self._stage[task_id])):
            done, seconds = times.get(key, (0.0, 0.0))
            if done:
                return seconds / done
        units = sum(done for done, _ in self._stage_time.values())
        return sum(seconds for _, seconds in self._stage_time.values()) / units if units else 0.0

    def line(self) -> str:
        """'progress 12/26 tasks (46 %), ETA 3 min 10 s; fetch 10/12, features 1/2, train 0/2, ...'."""
        counts = self.counts()
        total = sum(c[0] for c in counts.values())
        done = sum(c[1] for c in counts.values())
        failed = sum(c[2] for c in counts.values())
        percent = 100 * done // total if total else 100
        eta = self.eta_seconds()
        elapsed = self.clock() - self.cells[_STARTED] if self.cells[_STARTED] else 0.0
        if done + failed >= total:
            timing = f"finished in {duration_text(elapsed)}"
        else:
            timing = "ETA after the first task" if eta is None else f"ETA {duration_text(eta)}"
        stages = ", ".join(f"{stage} {c[1]}/{c[0]}" for stage, c in counts.items() if stage != "other")
        failures = f", {failed} failed" if failed else ""
        return f"progress {done}/{total} tasks ({percent} %){failures}, {timing}; {stages}".rstrip("; ")

    def percent(self) -> int:
        counts = self.counts().values()
        total = sum(c[0] for c in counts)
        return 100 * sum(c[1] for c in counts) // total if total else 100

    def due(self) -> bool:
        """Whether the line is worth showing now: every ``every_percent``, every ``every_seconds``, at the end."""
        percent, now = self.percent(), self.clock()
        last_percent, last_at = self.cells[_REPORTED_PERCENT], self.cells[_REPORTED_AT]
        crossed = percent // self.every_percent > last_percent // self.every_percent
        if crossed or percent == 100 or (now - last_at >= self.every_seconds and percent != last_percent):
            self.cells[_REPORTED_PERCENT], self.cells[_REPORTED_AT] = float(percent), now
            return True
        return False

    def _set(self, task_id: str, family: str, state: str) -> None:
        self._state[task_id] = state
        self._stage[task_id] = stage_of(family)
        self._family[task_id] = family
        self._recount()

    def _recount(self) -> None:
        if os.getpid() != self._scheduler_pid:  # a forked worker's view of the plan is out of date
            return
        totals = dict.fromkeys(STAGES, 0)
        for task_id, state in self._state.items():
            if state in ("maybe", "pending", "done", "failed"):
                totals[self._stage[task_id]] += 1
        for number, stage in enumerate(STAGES):
            self.cells[number * _PER_STAGE] = float(totals[stage])
