"""luigid started by the project's script: the UI answers, a job runs through it, /metrics counts it."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.luigid_support import SCRIPTS, get, luigid  # noqa: F401 - fixture
from tests.ops_support import *  # noqa: F403 - fixtures and helpers


def test_luigid_serves_the_ui_and_counts_a_job_run_through_it_in_metrics(luigid, ops_root, ops_config, tmp_path,
                                                                         monkeypatch) -> None:
    port, state = luigid
    status, page = get(f"http://127.0.0.1:{port}/static/visualiser/index.html")
    assert status == 200 and "Luigi Task Status" in page
    # The jobs find luigid where luigi.cfg says it is ([core] scheduler_port), with luigi_scheduler: auto.
    cfg = tmp_path / "luigi.cfg"
    cfg.write_text((REPO / "luigi.cfg").read_text().replace("scheduler_port = 8082", f"scheduler_port = {port}"))
    monkeypatch.setenv("LUIGI_CONFIG_PATH", str(cfg))
    ops_config("operations:\n  luigi_scheduler: auto\n  catch_up_days: 0\n")
    day = BASE_DAY + dt.timedelta(days=1)

    run = subprocess.run([str(SCRIPTS / "daily_data_fetch.sh"), "--now", f"{day.isoformat()}T00:00"],
                         capture_output=True, text=True, timeout=120)

    assert run.returncode == 0, run.stderr[-3000:]
    assert "luigid answers; using it" in run.stderr and "--local-scheduler" not in run.stderr
    _, metrics = get(f"http://127.0.0.1:{port}/metrics")
    assert 'luigi_task_done_total{family="FetchDaily"} 1.0' in metrics
    assert 'luigi_task_done_total{family="FetchLoadForecast"} 1.0' in metrics
    with sqlite3.connect(state / "task-history.db") as history:
        names = {row[0] for row in history.execute("select name from tasks")}
    assert {"RangeDaily", "FetchDaily", "FetchLoadForecast"} <= names
