"""Progress of long runs and metrics of real work, from luigi's events (issue 20, items 3 and 4).

Probes fixed: long runs gave no feedback (no overall progress, no ETA, the pipeline's own lines
hidden, a thousand lines of luigi chatter on the terminal); luigid's ``luigi_task_done_total``
counted tasks merely found complete, so one already-complete DailyInference raised "forecasts done".
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import luigi
import pandas as pd
import pytest

from pipeline.observer import RunObserver, overall_status
from pipeline.ops.metrics import MetricsFile
from pipeline.progress import CELLS, RunProgress, duration_text, stage_of
from tests.conftest import REPO
from tests.luigid_support import get, luigid  # noqa: F401 - fixture

NOW = dt.datetime(2024, 7, 16, 11, 5, tzinfo=dt.timezone.utc)  # 06:05 CDT on the issue day
LUIGI = str(Path(sys.executable).with_name("luigi"))


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- the progress line (pure) -------------------------------------------------------------------------


def test_stages_follow_the_task_families() -> None:
    assert [stage_of(f) for f in ("FetchRange", "HourlyPricesRange", "FeatureRange", "TrainModel", "GateModel",
                                  "ServeModel", "DailyInference", "PublishPreviousForecast", "Backtest",
                                  "RangeDaily")] == [
        "fetch", "fetch", "features", "train", "gate", "infer", "infer", "infer", "score", "other"]


def test_the_line_shows_done_of_total_percent_eta_and_each_stage() -> None:
    clock = Clock()
    progress = RunProgress(clock=clock)
    for n in range(4):
        progress.pending(f"fetch{n}", "FetchRange")
    progress.pending("train", "TrainModel")
    progress.started("fetch0", "FetchRange")
    clock.now += 10
    progress.succeeded("fetch0", "FetchRange", 10.0)
    line = progress.line()
    assert line.startswith("progress 1/5 tasks (20 %), ETA ")
    assert "fetch 1/4" in line and "train 0/1" in line
    # 3 fetches at 10 s each plus one training at the mean of what ran (10 s), at the observed pace.
    assert progress.eta_seconds() == pytest.approx(40.0)


def test_each_stage_is_timed_on_its_own() -> None:
    clock = Clock()
    progress = RunProgress(clock=clock)
    for task, family in (("f1", "FetchRange"), ("f2", "FetchRange"), ("t1", "TrainModel"), ("t2", "TrainModel")):
        progress.pending(task, family)
    progress.started("f1", "FetchRange")
    progress.succeeded("f1", "FetchRange", 2.0)
    progress.succeeded("t1", "TrainModel", 30.0)
    clock.now += 32
    assert progress.eta_seconds() == pytest.approx(2.0 + 30.0)


def test_tasks_found_complete_are_no_work_and_tasks_that_ran_stay_counted() -> None:
    progress = RunProgress()
    progress.pending("daily", "DailyInference")
    progress.maybe("features", "BuildFeatures")
    progress.maybe("done-before", "FetchLoad")
    progress.complete("done-before", "FetchLoad")  # luigi found it complete: not counted
    progress.started("features", "BuildFeatures")
    progress.succeeded("features", "BuildFeatures", 1.0)
    progress.complete("features", "BuildFeatures")  # a later walk finds it complete because it ran
    assert progress.counts() == {"features": (1, 1, 0), "infer": (1, 0, 0)}
    assert progress.line().startswith("progress 1/2 tasks (50 %)")


def test_a_failure_is_shown_and_the_end_says_how_long_it_took() -> None:
    clock = Clock()
    progress = RunProgress(clock=clock)
    progress.pending("a", "FetchRange")
    progress.pending("b", "TrainModel")
    progress.started("a", "FetchRange")
    clock.now += 125
    progress.succeeded("a", "FetchRange", 120.0)
    progress.failed("b", "TrainModel")
    assert progress.line() == "progress 1/2 tasks (50 %), 1 failed, finished in 2 min 05 s; fetch 1/1, train 0/1"


def test_the_line_is_due_after_the_first_task_every_five_percent_and_at_the_end() -> None:
    clock = Clock()
    progress = RunProgress(clock=clock)
    for n in range(100):
        progress.pending(f"t{n}", "FetchLoad")
    due = []
    for n in range(100):
        progress.succeeded(f"t{n}", "FetchLoad", 0.1)
        due.append(progress.due())
    assert due[0] and due[-1] and sum(due) == 1 + 20


def test_shared_cells_must_have_the_right_size() -> None:
    with pytest.raises(ValueError, match=f"{CELLS} cells"):
        RunProgress(cells=[0.0] * 3)


@pytest.mark.parametrize(("seconds", "text"), [(4.4, "4 s"), (190, "3 min 10 s"), (3900, "1 h 05 min")])
def test_durations_read_at_a_glance(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


# --- the observer on luigi's events, in process ------------------------------------------------------


class Leaf(luigi.Task):
    """A fetch-like task writing one file."""

    date = luigi.DateParameter()
    folder = luigi.Parameter()

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(f"{self.folder}/leaf-{self.date}")

    def run(self) -> None:
        with self.output().open("w") as out:
            out.write("x")


class Forecast(luigi.Task):
    """A DailyInference-like task whose output is the day's forecast file."""

    date = luigi.DateParameter()
    folder = luigi.Parameter()
    fail = luigi.BoolParameter(default=False)

    def requires(self) -> Leaf:
        return Leaf(date=self.date, folder=self.folder)

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(f"{self.folder}/forecast-{self.date}")

    def run(self) -> None:
        if self.fail:
            raise RuntimeError("inference failed")
        with self.output().open("w") as out:
            out.write("ok")


class ForecastFile:
    """What the observer reads of the day's forecast target: its path and its rows' status."""

    def __init__(self, folder: Path, day: dt.date) -> None:
        self.path = f"{folder}/forecast-{day}"

    def read(self) -> pd.DataFrame:
        return pd.DataFrame({"status": ["ok", "ok"]})


@pytest.fixture
def observed(tmp_path: Path):
    """An observer hooked to luigi's events for one test; yields (observer, data folder, reports to luigid)."""
    reports: list[tuple[str, str, int]] = []
    observer = RunObserver(RunProgress(), lambda: NOW, lambda day: ForecastFile(tmp_path, day),
                           MetricsFile(tmp_path / "metrics"), lambda *report: reports.append(report),
                           root_task_id=lambda: "the-root")
    handlers = observer.handlers()
    for event, handler in handlers.items():
        luigi.Task.event_handler(getattr(luigi.Event, event))(handler)
    yield observer, tmp_path, reports
    for event, handler in handlers.items():
        luigi.Task.remove_event_handler(getattr(luigi.Event, event), handler)


def _build(*tasks: luigi.Task) -> bool:
    return luigi.build(list(tasks), local_scheduler=True, workers=1, log_level="WARNING")


def test_a_run_counts_the_tasks_that_ran_and_the_forecast_it_published(observed) -> None:
    observer, folder, reports = observed
    assert _build(Forecast(date=dt.date(2024, 7, 16), folder=str(folder)))
    state = observer.metrics.read_state()
    assert {family: counts["success"] for family, counts in state["tasks"].items()} == {"Leaf": 1, "Forecast": 1}
    assert state["forecasts"]["published"] == {"ok|today": 1}
    assert state["forecasts"]["recent"]["2024-07-16"]["published_at"] == NOW.timestamp()
    text = (folder / "metrics" / "rtlmp.prom").read_text()
    assert 'rtlmp_task_runs_total{family="Forecast",outcome="success"} 1.0' in text
    assert 'rtlmp_forecasts_published_total{status="ok",issue="today"} 1.0' in text
    assert reports[-1][0] == "the-root" and reports[-1][2] == 100
    assert reports[-1][1].startswith("progress 2/2 tasks (100 %), finished in")


def test_an_already_complete_forecast_counts_nothing(observed) -> None:
    """The probe: rerunning a complete DailyInference must not look like a forecast was made."""
    observer, folder, _ = observed
    task = Forecast(date=dt.date(2024, 7, 16), folder=str(folder))
    assert _build(task)
    before = (folder / "metrics" / "rtlmp.prom").read_text()
    luigi.task_register.Register.clear_instance_cache()
    assert _build(Forecast(date=dt.date(2024, 7, 16), folder=str(folder)))
    assert (folder / "metrics" / "rtlmp.prom").read_text() == before


def test_a_task_that_failed_is_counted_as_a_failure_and_publishes_nothing(observed) -> None:
    observer, folder, _ = observed
    assert not _build(Forecast(date=dt.date(2024, 7, 17), folder=str(folder), fail=True))
    state = observer.metrics.read_state()
    assert state["tasks"]["Forecast"] == {"success": 0, "failure": 1, "seconds": 0.0}
    assert state["forecasts"]["published"] == {}


def test_a_forecast_with_any_fallback_row_is_counted_under_that_status() -> None:
    assert overall_status(["ok", "fallback_previous", "ok"]) == "fallback_previous"
    assert overall_status(["ok"]) == "ok"


def test_without_luigid_nothing_is_sent(tmp_path: Path) -> None:
    observer = RunObserver(RunProgress(), lambda: NOW, lambda day: ForecastFile(tmp_path, day), None, None)
    observer.progress.pending("a", "FetchLoad")
    observer.on_success(type("T", (), {"task_id": "a", "task_family": "FetchLoad", "output": lambda self: None})())
    assert observer.progress.line().startswith("progress 1/1 tasks (100 %)")


# --- logging of the luigi command ---------------------------------------------------------------------


def _record(name: str, level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, None, None)


def test_the_terminal_shows_the_pipelines_lines_and_warnings_not_luigis_chatter() -> None:
    from pipeline.logs import TerminalHandler

    handler = TerminalHandler()
    shown = [handler.filter(_record(name, level, message)) for name, level, message in (
        ("pipeline", logging.INFO, "fetched rt_prices 2024-07-01..2024-07-14 from synthetic"),
        ("pipeline.progress", logging.INFO, "progress 3/10 tasks (30 %), ETA 12 s"),
        ("luigi-interface", logging.INFO, "Informed scheduler that task   X   has status   PENDING"),
        ("luigi-interface", logging.WARNING, "Data for X does not exist (yet?)"),
        ("luigi-interface", logging.INFO, "\n===== Luigi Execution Summary =====\n..."),
        ("urllib3", logging.INFO, "GET /"))]
    assert shown == [True, True, False, True, True, False]


def test_log_timestamps_carry_their_utc_offset() -> None:
    from pipeline.logs import FORMAT, ZonedFormatter

    line = ZonedFormatter(FORMAT).format(_record("pipeline.jobs", logging.INFO, "job inference started"))
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d INFO pipeline\.jobs: job", line), line


def test_the_demo_shows_progress_and_warnings_only() -> None:
    from pipeline.demo import shown_lines

    lines = ["INFO luigi-interface: Informed scheduler that task", "INFO pipeline: fetched load 2024-07-01",
             "INFO pipeline.progress: progress 5/20 tasks (25 %), ETA 1 min 02 s; fetch 5/12",
             "WARNING pipeline: model rejected", "ERROR luigi-interface: failed"]
    assert list(shown_lines(lines)) == ["progress 5/20 tasks (25 %), ETA 1 min 02 s; fetch 5/12",
                                        "WARNING pipeline: model rejected", "ERROR luigi-interface: failed"]



# --- through the luigi command (e2e) -------------------------------------------------------------------

SMALL = """market:
  nodes: [HB_NORTH, HB_WEST]
  thresholds: [100, 1000]
features:
  lookback_days: 14
model:
  history_days: 30
  validation_days: 8
  max_age_days: 6
  max_iter: 30
logging:
  dir: {logs}
"""


def _luigi(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "override.yaml"
    config.write_text(SMALL.format(logs=tmp_path / "logs"))
    env = {**os.environ, "RTLMP_CONFIG": str(config), "RTLMP_DATA_ROOT": str(tmp_path / "data"),
           "RTLMP_METRICS_DIR": str(tmp_path / "metrics")}
    return subprocess.run([LUIGI, "--module", "pipeline", *args, "--local-scheduler"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.mark.e2e
def test_a_backtest_shows_progress_with_percent_and_eta_and_a_rerun_counts_nothing(tmp_path: Path) -> None:
    run = _luigi(["Backtest", "--start", "2024-07-15", "--end", "2024-07-16"], tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = [line for line in run.stderr.splitlines() if line.startswith("INFO pipeline.progress: progress ")]
    assert any(re.search(r"progress \d+/\d+ tasks \(\d+ %\), ETA \d", line) for line in lines), lines
    assert re.search(r"progress (\d+)/\1 tasks \(100 %\), finished in", lines[-1]), lines[-1]
    assert "fetch " in lines[-1] and "train " in lines[-1] and "gate " in lines[-1] and "infer " in lines[-1]
    assert "INFO pipeline: fetched " in run.stderr  # the pipeline's own lines, by default
    assert "Informed scheduler" not in run.stderr  # luigi's per-task chatter is in the log file instead
    assert "Informed scheduler" in (tmp_path / "logs" / "luigi.log").read_text()
    assert "param_name" not in run.stderr
    metrics = MetricsFile(tmp_path / "metrics")
    before = metrics.read_state()
    assert before["forecasts"]["published"] == {"ok|past": 2}
    assert before["tasks"]["DailyInference"]["success"] == 2 and before["tasks"]["Backtest"]["success"] == 1

    again = _luigi(["DailyInference", "--date", "2024-07-16"], tmp_path)  # complete: nothing runs

    assert again.returncode == 0, again.stderr[-3000:]
    assert metrics.read_state() == before


def test_luigid_shows_the_progress_line_on_the_task_named_on_the_command_line(luigid, tmp_path: Path) -> None:
    """The same line as on the terminal, through luigid's own status message and percentage."""
    import json
    import urllib.parse

    port, _ = luigid
    config = tmp_path / "override.yaml"
    config.write_text(SMALL.format(logs=tmp_path / "logs"))
    env = {**os.environ, "RTLMP_CONFIG": str(config), "RTLMP_DATA_ROOT": str(tmp_path / "data"),
           "RTLMP_METRICS_DIR": str(tmp_path / "metrics")}
    run = subprocess.run([LUIGI, "--module", "pipeline", "FetchRange", "--dataset", "load", "--start", "2024-07-01",
                          "--end", "2024-07-03", "--scheduler-port", str(port)], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    query = urllib.parse.quote(json.dumps({"status": "DONE", "upstream_status": "", "search": "FetchRange"}))
    _, body = get(f"http://127.0.0.1:{port}/api/task_list?data={query}")
    [task] = json.loads(body)["response"].values()
    assert task["status_message"].startswith("progress 1/1 tasks (100 %), finished in ")
    assert task["progress_percentage"] == 100


def test_a_task_is_priced_at_its_familys_time_before_its_stages() -> None:
    """A year's FetchRange must not make every remaining day's fetch look like a year's."""
    clock = Clock()
    progress = RunProgress(clock=clock)
    for task, family in (("range", "FetchRange"), ("day1", "FetchLoad"), ("day2", "FetchLoad"), ("day3", "FetchLoad")):
        progress.pending(task, family)
    progress.started("range", "FetchRange")
    progress.succeeded("range", "FetchRange", 30.0)
    progress.succeeded("day1", "FetchLoad", 1.0)
    clock.now += 31
    assert progress.eta_seconds() == pytest.approx(2 * 1.0)


def test_a_days_fetch_is_priced_at_a_day_of_the_range_before_it() -> None:
    """A year's FetchRange must not make each of the next days' fetches look like a year's."""
    clock = Clock()
    progress = RunProgress(clock=clock)
    progress.pending("range", "FetchRange")
    progress.size("range", 365)
    for day in range(10):
        progress.maybe(f"day{day}", "FetchLoad")
    progress.started("range", "FetchRange")
    clock.now += 36.5
    progress.succeeded("range", "FetchRange", 36.5)
    assert progress.eta_seconds() == pytest.approx(10 * 0.1)


def test_range_tasks_are_sized_in_days() -> None:
    from pipeline.observer import size_of

    task = type("T", (), {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 1, 31)})()
    assert size_of(task) == 31 and size_of(object()) == 1


def test_the_time_between_tasks_is_counted_for_each_remaining_task() -> None:
    """Hundreds of one-day fetches cost more in luigi's bookkeeping between tasks than in their runs."""
    clock = Clock()
    progress = RunProgress(clock=clock)
    for n in range(4):
        progress.pending(f"day{n}", "FetchLoad")
    progress.started("day0", "FetchLoad")
    progress.succeeded("day0", "FetchLoad", 1.0)
    clock.now += 3.0  # 1 s of task, 2 s between tasks
    assert progress.eta_seconds() == pytest.approx(3 * (1.0 + 2.0))
