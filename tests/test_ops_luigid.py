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


# --- the Prometheus + Grafana bundle ---------------------------------------------------------------

MONITORING = REPO / "infrastructure" / "monitoring"
# What luigid's Prometheus collector exports (luigi.contrib.prometheus_metric), plus Prometheus' own.
KNOWN_SERIES = {"luigi_task_started_total", "luigi_task_failed_total", "luigi_task_disabled_total",
                "luigi_task_done_total", "luigi_task_execution_time_seconds", "up", "ALERTS", "vector"}


def _series(expr: str) -> set[str]:
    import re

    names = set(re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*[{(\[]", expr)) | set(re.findall(r"\b(luigi_\w+)", expr))
    functions = {"sum", "max", "increase", "by", "rate", "or"}
    return {n for n in names if n not in functions}


def test_monitoring_bundle_scrapes_luigid_and_provisions_the_dashboard() -> None:
    import json

    import yaml

    compose = yaml.safe_load((MONITORING / "docker-compose.yml").read_text())
    assert set(compose["services"]) == {"prometheus", "grafana"}
    assert compose["services"]["grafana"]["environment"]["GF_SERVER_HTTP_PORT"] == "3000"
    prometheus = yaml.safe_load((MONITORING / "prometheus" / "prometheus.yml").read_text())
    [scrape] = prometheus["scrape_configs"]
    assert scrape["metrics_path"] == "/metrics" and scrape["static_configs"][0]["targets"] == ["127.0.0.1:8082"]
    rules = yaml.safe_load((MONITORING / "prometheus" / "alerts.yml").read_text())["groups"][0]["rules"]
    datasource = yaml.safe_load((MONITORING / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    dashboard = json.loads((MONITORING / "grafana" / "dashboards" / "rtlmp-operations.json").read_text())
    expressions = [t["expr"] for p in dashboard["panels"] for t in p["targets"]] + [r["expr"] for r in rules]
    for expr in expressions:
        assert _series(expr) <= KNOWN_SERIES, expr
    assert {p["datasource"]["uid"] for p in dashboard["panels"]} == {uid}
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    for topic in ("done", "failed", "duration", "success rate", "history", "alert"):
        assert topic in titles, topic
