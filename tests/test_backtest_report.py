"""Task tier: Backtest writes predictions, metrics and the report; WeeklyBacktest compares and alerts.

One weekly run on the simulator (two one-week backtests) is shared by the module; the tests only
read its files, except the rerun test, which restores what it removes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import luigi
import pytest

from pipeline import backtest, drift, report
from pipeline.render.figures import FIGURE_NAMES
from pipeline.tasks.backtest import Backtest
from pipeline.tasks.weekly import WeeklyBacktest
from targets import Layout

from tests.conftest import REPO, SMALL_CONFIG, reset_caches

RUN_DAY = dt.date(2024, 7, 21)  # a Sunday
WEEKLY_CONFIG = SMALL_CONFIG + """
backtest:
  weekly_weeks: 1
  skill_floor: 1.0  # no model reaches a perfect Brier score: the alert must fire
"""
TASK_KEYS = {"window", "rows_without_outcome", "config"}  # what Backtest adds to backtest.metrics()
CHROMIUM = Path("/usr/bin/chromium")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class WeeklyRun:
    root: Path
    config: Path
    alerts: list[drift.SkillAlert]
    current: drift.Window
    previous: drift.Window

    @property
    def layout(self) -> Layout:
        return Layout(self.root)


def build(*tasks: luigi.Task) -> None:
    result = luigi.build(list(tasks), local_scheduler=True, detailed_summary=True, workers=1)
    assert result.status.name in {"SUCCESS", "SUCCESS_WITH_RETRY"}, result.summary_text


@pytest.fixture(scope="module")
def weekly(tmp_path_factory: pytest.TempPathFactory) -> WeeklyRun:
    """WeeklyBacktest for RUN_DAY on the simulator, with a recording alert hook."""
    base = tmp_path_factory.mktemp("weekly")
    config = base / "weekly.yaml"
    config.write_text(WEEKLY_CONFIG)
    alerts: list[drift.SkillAlert] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RTLMP_CONFIG", str(config))
        patch.setenv("RTLMP_DATA_ROOT", str(base / "data"))
        patch.setenv("LUIGI_CONFIG_PATH", str(REPO / "luigi.cfg"))
        patch.setattr(WeeklyBacktest, "alert_hook", lambda self: alerts.append)
        reset_caches()
        build(WeeklyBacktest(date=RUN_DAY))
    reset_caches()
    current, previous = drift.weekly_windows(RUN_DAY, weeks=1)
    return WeeklyRun(base / "data", config, alerts, current, previous)


def test_backtest_writes_predictions_metrics_and_the_report(weekly: WeeklyRun) -> None:
    folder = Path(weekly.layout.backtest_metrics(weekly.current.start, weekly.current.end).path).parent
    assert {p.name for p in folder.iterdir()} == {
        "predictions.parquet", "metrics.json", "report.html", *(f"{name}.png" for name in FIGURE_NAMES)}
    for name in FIGURE_NAMES:
        assert (folder / f"{name}.png").read_bytes().startswith(PNG_SIGNATURE)
    page = (folder / "report.html").read_text()
    assert '<table class="headline">' in page and "SIMULATED DATA" in page
    assert page.count('src="data:image/png;base64,') == len(FIGURE_NAMES)


def test_metrics_json_is_what_the_predictions_file_gives(weekly: WeeklyRun) -> None:
    layout = weekly.layout
    predictions = layout.backtest_predictions(weekly.current.start, weekly.current.end).read()
    stored = layout.backtest_metrics(weekly.current.start, weekly.current.end).read()
    recomputed = json.loads(json.dumps(backtest.metrics(predictions), sort_keys=True, default=str))
    assert set(stored) - set(recomputed) == TASK_KEYS
    assert {key: stored[key] for key in recomputed} == recomputed
    assert stored["window"] == {**weekly.current.as_dict(), "days": 7}
    assert stored["config"]["simulated"] is True


def test_a_missing_report_is_rendered_again_without_rescoring(weekly: WeeklyRun, monkeypatch) -> None:
    layout = weekly.layout
    start, end = weekly.previous.start, weekly.previous.end
    scored = {t.path: Path(t.path).stat().st_mtime_ns
              for t in (layout.backtest_predictions(start, end), layout.backtest_metrics(start, end))}
    Path(layout.backtest_report(start, end).path).unlink()
    Path(layout.backtest_figure(start, end, "timeline").path).unlink()
    monkeypatch.setenv("RTLMP_CONFIG", str(weekly.config))
    monkeypatch.setenv("RTLMP_DATA_ROOT", str(weekly.root))
    reset_caches()
    build(Backtest(start=start, end=end))
    assert Path(layout.backtest_report(start, end).path).is_file()
    assert Path(layout.backtest_figure(start, end, "timeline").path).is_file()
    assert {path: Path(path).stat().st_mtime_ns for path in scored} == scored


def test_weekly_backtest_compares_with_the_week_before_and_alerts_below_the_floor(weekly: WeeklyRun) -> None:
    comparison = weekly.layout.weekly_comparison(RUN_DAY).read()
    assert comparison["date"] == RUN_DAY.isoformat()
    assert comparison["current"] == {**weekly.current.as_dict(), "days": 7}
    assert comparison["previous"] == {**weekly.previous.as_dict(), "days": 7}
    assert set(comparison["by_threshold"]) == {"100", "1000"}
    watched = comparison["watched"]
    assert watched["threshold"] == "100" and watched["floor"] == 1.0 and watched["below_floor"] is True
    previous_metrics = weekly.layout.backtest_metrics(weekly.previous.start, weekly.previous.end).read()
    assert watched["previous"] == previous_metrics["by_threshold"]["100"]["model"]["brier_skill"]
    (alert,) = weekly.alerts
    assert alert.threshold == "100" and alert.current == watched["current"] and alert.floor == 1.0
    page = Path(weekly.layout.weekly_report(RUN_DAY).path).read_text()
    assert '<section id="drift">' in page and "ALERT: Brier skill at $100" in page


def test_the_default_alert_hook_sends_through_the_alert_channels_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RTLMP_DATA_ROOT", str(tmp_path))
    monkeypatch.delenv("RTLMP_CONFIG", raising=False)
    reset_caches()
    skill = drift.SkillAlert(date=RUN_DAY.isoformat(), threshold="100", metric="brier_skill", current=-0.2,
                             previous=0.1, floor=0.0, window={"start": "2024-07-07", "end": "2024-07-13"},
                             reliable=True)
    hook = WeeklyBacktest(date=RUN_DAY).alert_hook()
    hook(skill)
    hook(skill)  # a retry of the same weekly run: the condition is already reported
    reset_caches()
    (record,) = [json.loads(line) for line in (tmp_path / "ops" / "alerts.jsonl").read_text().splitlines()]
    assert record["kind"] == "skill_below_floor" and record["severity"] == "warning"
    assert record["job"] == "weekly_backtesting" and record["deliveries"] == {"log": "ok"}
    assert "brier_skill at $100/MWh is -0.200, below the floor +0.000" in record["detail"]


def test_report_command_summarises_the_backtest(weekly: WeeklyRun, monkeypatch, capsys) -> None:
    monkeypatch.setenv("RTLMP_CONFIG", str(weekly.config))
    monkeypatch.setenv("RTLMP_DATA_ROOT", str(weekly.root))
    reset_caches()
    start, end = weekly.current.start.isoformat(), weekly.current.end.isoformat()
    assert report.main(["backtest", "--start", start, "--end", end]) == 0
    out = capsys.readouterr().out
    assert "> $100/MWh" in out and "climatology (month × hour)" in out
    report_path = Path(weekly.layout.backtest_report(weekly.current.start, weekly.current.end).path)
    assert f"Full report: {report_path.resolve()}" in out


# --- the report in a real browser ---------------------------------------------------------------

# Written into a copy of the report (the report itself has no script): counts decoded images.
IMAGE_PROBE = ('<script>window.addEventListener("load",function(){var n=0;for(const i of document.images)'
               '{if(i.complete&&i.naturalWidth>0)n++;}document.body.setAttribute("data-decoded",'
               'n+"/"+document.images.length);});</script></body>')


def headless_chromium(page: Path, profile: Path) -> subprocess.CompletedProcess[str]:
    """Open ``page`` in headless Chromium offline; stdout is the DOM after load, stderr the log."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--dump-dom"]
    return subprocess.run([str(CHROMIUM), *flags, page.resolve().as_uri()], capture_output=True, text=True,
                          timeout=60, check=True)


@pytest.mark.browser
def test_the_report_renders_in_chromium_without_console_errors(weekly: WeeklyRun, tmp_path: Path) -> None:
    if not CHROMIUM.is_file():
        pytest.skip(f"headless Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    report_path = Path(weekly.layout.backtest_report(weekly.current.start, weekly.current.end).path)
    opened = headless_chromium(report_path, tmp_path / "profile")
    assert '<table class="headline">' in opened.stdout
    images = re.findall(r"<img [^>]*>", opened.stdout)
    assert len(images) == len(FIGURE_NAMES)
    assert all('src="data:image/png;base64,' in img for img in images)
    console = [line for line in opened.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console  # e.g. a blocked resource or a script error
    probe = tmp_path / "probe.html"
    probe.write_text(report_path.read_text().replace("</body>", IMAGE_PROBE))
    probed = headless_chromium(probe, tmp_path / "profile-probe")
    assert f'data-decoded="{len(FIGURE_NAMES)}/{len(FIGURE_NAMES)}"' in probed.stdout
