"""The self-contained status page: its content, and that a real browser loads it cleanly."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.ops import status
from pipeline.ops import base as ops_base
from pipeline.ops import runner as ops_runner
from pipeline.ops import jobs
from pipeline.clock import fixed
from targets import Layout
from tests.ops_support import *  # noqa: F403 - fixtures and helpers

CHROMIUM = Path("/usr/bin/chromium")
NEXT_DAY = BASE_DAY + dt.timedelta(days=1)


class Scripted:
    def __init__(self, *codes: int) -> None:
        self.codes = list(codes)

    def __call__(self, command, timeout_s, stop, keep_open=()):
        return ops_runner.RunOutcome(self.codes.pop(0), "scripted")


@pytest.fixture
def page(ops_root, ops_config) -> Path:
    """The status page after a few job runs: successes, a retried failure, an alert."""
    config = ops_config()
    layout = Layout(ops_root)
    jobs.run_job(ops_base.Operations(config, Scripted(0), fixed(at_cpt(BASE_DAY, "00:00"))), "data_fetching")
    jobs.run_job(ops_base.Operations(config, Scripted(0), fixed(at_cpt(BASE_DAY, "06:00"))), "inference")
    jobs.run_job(ops_base.Operations(config, Scripted(30, 30), fixed(at_cpt(NEXT_DAY, "00:00"))), "data_fetching")
    status.write(config, at_cpt(NEXT_DAY, "00:05"))
    return Path(layout.status_page().path)


def test_the_status_page_shows_jobs_runs_alerts_and_the_latest_forecast(page: Path) -> None:
    html = page.read_text()
    assert re.search(r'<table id="jobs">.*?<td>data_fetching</td>.*?50% of 2', html, re.S)
    assert html.count("<tr>") >= 3 + 3 + 1 + 4
    assert '<table id="runs">' in html and '<table id="alerts">' in html
    assert f"data fetch for {NEXT_DAY} failed" in html
    [encoded] = re.findall(r'id="forecast-chart" alt="[^"]+" src="data:image/png;base64,([^"]+)"', html)
    assert base64.b64decode(encoded).startswith(b"\x89PNG\r\n\x1a\n")
    assert f"Issued {BASE_DAY}" in html and "SIMULATED market data" in html
    assert "src=\"http" not in html and "href=\"http" not in html, "self-contained: no external resources"


def test_job_summary_counts_successes_and_durations() -> None:
    runs = [{"job": "inference", "status": s, "duration_s": d, "started_at": "2024-07-18T11:00:00+00:00"}
            for s, d in [("success", 10), ("fallback", 50), ("already_running", 0), ("success", 30)]]
    summary = status.job_summary("inference", runs)
    assert summary["runs"] == 3 and summary["success_rate"] == pytest.approx(2 / 3)
    assert summary["mean_duration"] == pytest.approx(30) and summary["max_duration"] == 50


@pytest.mark.browser
def test_the_status_page_loads_in_headless_chromium_without_errors(page: Path, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install it with `apt-get install -y chromium` (.ci/run does)")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run([str(CHROMIUM), *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert '<table id="runs">' in dom.stdout and '<table id="jobs">' in dom.stdout
    assert 'id="forecast-chart"' in dom.stdout
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == [], console
    shot = tmp_path / "page.png"
    rendered = subprocess.run([str(CHROMIUM), *flags, f"--screenshot={shot}", "--window-size=1280,2000",
                               page.as_uri()], capture_output=True, text=True, timeout=120)
    assert rendered.returncode == 0 and shot.stat().st_size > 20_000, rendered.stderr[-2000:]
