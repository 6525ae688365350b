"""Monitoring that counts real work: the pipeline's metrics file and the Prometheus bundle built on it.

Probes fixed: luigid's ``luigi_task_done_total`` also counted tasks found already complete, so the
"forecasts done" panel, the success rate and the ``NoForecastToday`` rule were satisfied by runs
that did nothing; the compose file had no Alertmanager, so the rules notified nobody.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from pipeline.ops import metrics
from pipeline.ops.metrics import MetricsFile
from tests.conftest import REPO

MONITORING = REPO / "infrastructure" / "monitoring"
UTC = dt.timezone.utc
ISSUE_DAY = dt.date(2024, 7, 16)
AT_0600_CDT = dt.datetime(2024, 7, 16, 11, 0, tzinfo=UTC)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(name, sorted labels) -> value of every sample, parsed as Prometheus parses the file."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_the_textfile_counts_tasks_that_ran_and_forecasts_published(tmp_path: Path) -> None:
    file = MetricsFile(tmp_path)
    file.task_run("DailyInference", "success", 12.5, AT_0600_CDT)
    file.task_run("FetchRange", "failure", None, AT_0600_CDT)
    file.forecast(ISSUE_DAY, "ok", AT_0600_CDT)
    file.forecast(dt.date(2024, 7, 1), "fallback_previous", AT_0600_CDT)  # a backfill: not today's product
    found = samples(file.textfile.read_text())
    assert found[("rtlmp_task_runs_total", (("family", "DailyInference"), ("outcome", "success")))] == 1
    assert found[("rtlmp_task_runs_total", (("family", "FetchRange"), ("outcome", "failure")))] == 1
    assert found[("rtlmp_task_last_run_seconds", (("family", "DailyInference"),))] == 12.5
    assert found[("rtlmp_forecasts_published_total", (("issue", "today"), ("status", "ok")))] == 1
    assert found[("rtlmp_forecasts_published_total", (("issue", "past"), ("status", "fallback_previous")))] == 1
    published = ("rtlmp_forecast_published_timestamp_seconds", (("issue_date", "2024-07-16"), ("status", "ok")))
    assert found[published] == AT_0600_CDT.timestamp()
    # 00:00 CDT of the newest issue day: what NoForecastToday compares with the clock.
    assert found[("rtlmp_forecast_latest_issue_day_start_seconds", ())] == dt.datetime(
        2024, 7, 16, 5, 0, tzinfo=UTC).timestamp()


def test_counters_survive_between_processes_and_never_lose_a_count(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_ten_runs, args=(tmp_path,)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    state = MetricsFile(tmp_path).read_state()
    assert state["tasks"]["FetchLoad"]["success"] == 40


def _ten_runs(folder: Path) -> None:
    for _ in range(10):
        MetricsFile(folder).task_run("FetchLoad", "success", 0.01, AT_0600_CDT)


def test_only_the_last_two_weeks_of_issue_days_are_listed(tmp_path: Path) -> None:
    file = MetricsFile(tmp_path)
    for back in range(20):
        file.forecast(ISSUE_DAY - dt.timedelta(days=back), "ok", AT_0600_CDT)
    recent = file.read_state()["forecasts"]["recent"]
    assert len(recent) == metrics.RECENT_FORECASTS and max(recent) == "2024-07-16"
    assert file.read_state()["forecasts"]["latest_issue_date"] == "2024-07-16"


def test_the_folder_is_rtlmp_metrics_dir_or_the_log_folder(tmp_path: Path) -> None:
    assert metrics.metrics_folder("logs", {}) == Path("logs/metrics")
    assert metrics.metrics_folder("logs", {"RTLMP_METRICS_DIR": str(tmp_path)}) == tmp_path


def test_times_must_carry_their_zone(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        MetricsFile(tmp_path).task_run("X", "success", 1.0, dt.datetime(2024, 7, 16, 6, 0))


# --- the Prometheus bundle ---------------------------------------------------------------------------------


def _expressions() -> list[str]:
    rules = yaml.safe_load((MONITORING / "prometheus" / "alerts.yml").read_text())["groups"][0]["rules"]
    dashboard = json.loads((MONITORING / "grafana" / "dashboards" / "rtlmp-operations.json").read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]] + [r["expr"] for r in rules]


def test_panels_and_rules_use_only_the_pipelines_metrics_and_health() -> None:
    """No expression may rest on luigid's task counters, which count work that did not happen."""
    state = metrics.empty_state()
    metrics.add_task_run(state, "TrainModel", "success", 1.0, AT_0600_CDT)
    metrics.add_forecast(state, ISSUE_DAY, "ok", AT_0600_CDT)
    written = set(re.findall(r"^(rtlmp_\w+?)(?:\{| )", metrics.render(state), re.MULTILINE))
    for expr in _expressions():
        assert "luigi_task" not in expr, expr
        assert set(re.findall(r"\brtlmp_\w+", expr)) <= written, expr


def test_the_bundle_has_node_exporter_alertmanager_prometheus_and_grafana_on_loopback() -> None:
    compose = yaml.safe_load((MONITORING / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"node-exporter", "prometheus", "alertmanager", "grafana"}
    assert "--web.listen-address=127.0.0.1:9100" in services["node-exporter"]["command"]
    assert "--collector.textfile.directory=/textfile" in services["node-exporter"]["command"]
    assert services["node-exporter"]["volumes"] == ["${RTLMP_METRICS_DIR:-../../logs/metrics}:/textfile:ro"]
    assert "--web.listen-address=127.0.0.1:9093" in services["alertmanager"]["command"][0]
    assert set(services["alertmanager"]["environment"]) >= {"RTLMP_WEBHOOK_URL", "RTLMP_ALERT_EMAIL_TO",
                                                           "RTLMP_SMTP_SMARTHOST", "RTLMP_SMTP_PASSWORD"}
    prometheus = yaml.safe_load((MONITORING / "prometheus" / "prometheus.yml").read_text())
    assert prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9093"]
    targets = {s["job_name"]: s["static_configs"][0]["targets"] for s in prometheus["scrape_configs"]}
    assert targets == {"rtlmp": ["127.0.0.1:9100"], "luigid": ["127.0.0.1:8082"]}
    dashboard = json.loads((MONITORING / "grafana" / "dashboards" / "rtlmp-operations.json").read_text())
    datasource = yaml.safe_load((MONITORING / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    assert {p["datasource"]["uid"] for p in dashboard["panels"]} == {datasource["datasources"][0]["uid"]}
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    for topic in ("forecasts published", "fallback", "tasks run", "failed", "duration", "success rate",
                  "publication time", "alert"):
        assert topic in titles, topic


def _render_alertmanager(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(MONITORING / "alertmanager" / "render-config.sh")],
                          env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True, timeout=30)


def test_alertmanager_routes_to_the_webhook_and_email_named_in_the_environment() -> None:
    url = "https://hooks.example.invalid/services/T/B/it's"
    result = _render_alertmanager({"RTLMP_WEBHOOK_URL": url, "RTLMP_ALERT_EMAIL_TO": "ops@example.invalid",
                                   "RTLMP_SMTP_SMARTHOST": "smtp.example.invalid:587",
                                   "RTLMP_SMTP_USERNAME": "rtlmp", "RTLMP_SMTP_PASSWORD": "pa'ss"})
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    [receiver] = config["receivers"]
    assert config["route"]["receiver"] == receiver["name"]
    assert receiver["slack_configs"][0]["api_url"] == url
    email = receiver["email_configs"][0]
    assert (email["to"], email["smarthost"], email["auth_password"]) == ("ops@example.invalid",
                                                                          "smtp.example.invalid:587", "pa'ss")


def test_alertmanager_without_channels_says_so_and_email_needs_a_server() -> None:
    quiet = _render_alertmanager({})
    assert quiet.returncode == 0 and "UI only" in quiet.stderr
    assert yaml.safe_load(quiet.stdout)["receivers"] == [{"name": "rtlmp"}]
    broken = _render_alertmanager({"RTLMP_ALERT_EMAIL_TO": "ops@example.invalid"})
    assert broken.returncode == 2 and "RTLMP_SMTP_SMARTHOST" in broken.stderr


@pytest.mark.skipif(shutil.which("promtool") is None or shutil.which("amtool") is None,
                    reason="promtool and amtool not installed (Debian: apt-get install prometheus prometheus-alertmanager)")
def test_promtool_and_amtool_accept_every_rule_config_and_expression(tmp_path: Path) -> None:
    check = subprocess.run([str(MONITORING / "check.sh")], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS" in check.stdout
    # Every dashboard expression parses: promtool checks them as recording rules.
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": f"panel:{n}", "expr": e}
                                                        for n, e in enumerate(_expressions())]}]}
    (tmp_path / "panels.yml").write_text(yaml.safe_dump(rules))
    parsed = subprocess.run(["promtool", "check", "rules", str(tmp_path / "panels.yml")], capture_output=True,
                            text=True, timeout=60)
    assert parsed.returncode == 0, parsed.stdout + parsed.stderr
