"""Hardening: corrupt outputs are rebuilt and never disable the deadline, tampered models are skipped,
no secret reaches a log at DEBUG, concurrent runs both succeed without debris, archive errors name
the file, and the monitoring stack listens on loopback with no default password.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import luigi
import pandas as pd
import pytest
import yaml

from pipeline import logs, registry, report
from pipeline.config import LoggingConfig, load_config
from pipeline.ops import alerts, deadline, status
from pipeline.sources.base import SourceError
from pipeline.sources.ercot_archive import ErcotArchive
from pipeline.tasks.base import current, current_layout, current_settings
from pipeline.tasks.features import BuildFeatures
from pipeline.tasks.inference import DailyInference
from targets import Layout
from tests.conftest import REPO, SMALL_CONFIG
from tests.conftest_http import http_server  # noqa: F401 - fixture
from tests.ops_support import *  # noqa: F403 - fixtures and helpers

NEXT_DAY = BASE_DAY + dt.timedelta(days=1)  # served by BASE_DAY's model


def truncate(path: str | Path) -> bytes:
    whole = Path(path).read_bytes()
    Path(path).write_bytes(whole[: len(whole) // 2])
    return whole


def build(*tasks: luigi.Task) -> None:
    result = luigi.build(list(tasks), local_scheduler=True, detailed_summary=True, workers=1)
    assert result.status.name in {"SUCCESS", "SUCCESS_WITH_RETRY"}, result.summary_text


def alerts_in(root: Path) -> list[dict]:
    return Layout(root).alert_log().read()[0]


# --- corrupt outputs ------------------------------------------------------------------------------


def test_a_truncated_forecast_is_rebuilt_by_a_rerun(ops_root, ops_config) -> None:
    ops_config()
    target = current_layout().forecast(BASE_DAY)
    expected = target.read()
    truncate(target.path)
    assert not DailyInference(date=BASE_DAY).complete()
    build(DailyInference(date=BASE_DAY))
    pd.testing.assert_frame_equal(current_layout().forecast(BASE_DAY).read(), expected)
    assert list(Path(target.path).parent.glob("forecast.parquet.invalid-*")), "the corrupt file is kept aside"


def test_a_corrupt_features_file_is_rebuilt(ops_root, ops_config) -> None:
    ops_config()
    target = current_layout().features(BASE_DAY)
    expected = target.read()
    truncate(target.path)
    build(BuildFeatures(date=BASE_DAY))
    pd.testing.assert_frame_equal(current_layout().features(BASE_DAY).read(), expected)


def test_an_unreadable_forecast_counts_as_missing_so_the_deadline_alerts_and_publishes(ops_root, ops_config):
    config = ops_config()
    layout = current_layout()
    # Today's forecast file is there but cut short (a disk filled up, a copy interrupted).
    Path(layout.forecast(NEXT_DAY).path).parent.mkdir(parents=True, exist_ok=True)
    Path(layout.forecast(NEXT_DAY).path).write_bytes(Path(layout.forecast(BASE_DAY).path).read_bytes()[:300])

    state = deadline.check(operations(config, at_cpt(NEXT_DAY, "09:01")))

    # Made again first (its inputs and model are there), so the published status is the real one.
    assert state.complete and state.status == "ok"
    kinds = [a["kind"] for a in alerts_in(ops_root)]
    assert "deadline_risk" in kinds and "fallback" in kinds
    assert layout.forecast(NEXT_DAY).read()["status"].iloc[0] == state.status
    assert list(Path(layout.forecast(NEXT_DAY).path).parent.glob("forecast.parquet.invalid-*"))


def test_the_status_page_and_the_report_treat_an_unreadable_forecast_as_missing(ops_root, ops_config, capsys):
    config = ops_config()
    truncate(current_layout().forecast(BASE_DAY).path)
    page = Path(status.write(config, at_cpt(NEXT_DAY, "07:00"))).read_text()
    assert "No forecast published in the last two weeks" in page
    assert report.main(["forecast", "--date", BASE_DAY.isoformat()]) == 1
    assert "does not open" in capsys.readouterr().err


# --- model files that cannot run code ----------------------------------------------------------------


def test_a_tampered_model_is_skipped_with_an_alert_for_the_next_valid_one(ops_root, ops_config) -> None:
    ops_config()
    layout, records = current_layout(), current().records
    serving = records.current_serving(NEXT_DAY)
    artifact = layout.model(serving.train_date)
    # An attacker with write access replaces the model and the hash beside it.
    evil = b"not a model, and never unpickled"
    Path(artifact.model_path).write_bytes(evil)
    metadata = json.loads(Path(artifact.metadata_path).read_text())
    metadata["artifact_sha256"] = hashlib.sha256(evil).hexdigest()
    Path(artifact.metadata_path).write_text(json.dumps(metadata))

    build(DailyInference(date=NEXT_DAY))

    used = set(layout.forecast(NEXT_DAY).read()["model_id"])
    assert not {u.split("/")[0] for u in used} & {serving.model_id}
    assert records.failure(serving.train_date)["status"] == "invalid"
    # The same rule, without the invalid model, names the one that served (a backtest finds it too).
    again = records.current_serving(NEXT_DAY)
    assert {again.row_model_id(k) for k in ("100", "1000")} == set(layout.forecast(NEXT_DAY).read()["model_id"])
    [alert] = [a for a in alerts_in(ops_root) if a["kind"] == "model_invalid"]
    assert serving.model_id in alert["title"] and alert["severity"] == "critical"


# --- secrets in logs -------------------------------------------------------------------------------


def test_no_secret_reaches_the_logs_at_debug(tmp_path, http_server, monkeypatch) -> None:  # noqa: F811
    from tests.http_server import Reply

    secret_path = "/services/T0A1B2C3/B0D4E5F6/xoxSECRETtoken42"
    http_server.add("POST", secret_path, Reply(200, "ok"))
    monkeypatch.setenv("RTLMP_WEBHOOK_URL", f"{http_server.url}{secret_path}")
    monkeypatch.setenv("RTLMP_SMTP_PASSWORD", "sm7p-pa55word")
    config = load_config()
    alerts_config = config.alerts.model_copy(update={"webhook": config.alerts.webhook.model_copy(update={"enabled": True})})
    logs.setup(LoggingConfig(dir=tmp_path / "logs", level="DEBUG"), console=False, secrets=logs.secret_variables(config))
    try:
        import logging

        sent = alerts.send(alerts.Alert(kind="test", severity="info", title="webhook test", detail="",
                                        at=at_cpt(BASE_DAY, "09:00")), alerts_config, Layout(tmp_path).alert_log())
        logging.getLogger("pipeline.test").debug("posting to %s with password %s", os.environ["RTLMP_WEBHOOK_URL"],
                                                 "sm7p-pa55word")
        logging.getLogger("urllib3.connectionpool").warning('"POST %s HTTP/1.1" 500', secret_path)
    finally:
        logs.shutdown()
    assert sent.deliveries["webhook"] == "ok" and http_server.requests_to(secret_path)
    logged = "".join(p.read_text() for p in (tmp_path / "logs").glob("*.log"))
    assert "posting to" in logged and "[REDACTED]" in logged
    for secret in ("xoxSECRETtoken42", "B0D4E5F6", "sm7p-pa55word"):
        assert secret not in logged


# --- concurrent writers ----------------------------------------------------------------------------


@pytest.mark.e2e
def test_two_unlocked_runs_of_one_new_day_both_succeed_and_leave_no_debris(tmp_path: Path) -> None:
    config = tmp_path / "small.yaml"
    config.write_text(SMALL_CONFIG)
    root = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTLMP_") or k.startswith("RTLMP_ARTIFACT_KEY")}
    env.update({"RTLMP_DATA_ROOT": str(root), "RTLMP_CONFIG": str(config), "LUIGI_CONFIG_PATH": str(REPO / "luigi.cfg")})
    command = [str(Path(sys.executable).with_name("luigi")), "--module", "pipeline", "DailyInference", "--date",
               "2024-07-16", "--local-scheduler", "--no-lock"]
    outputs = [tmp_path / f"run-{k}.log" for k in range(2)]
    runs = [subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
            for log in outputs]
    for run, log in zip(runs, outputs):
        assert run.wait(timeout=600) == 0, log.read_text()[-3000:]
    forecast = pd.read_parquet(root / "forecasts" / "2024-07-16" / "forecast.parquet")
    assert len(forecast) == 72 * 2 * 2
    debris = [p for p in root.rglob("*") if ".tmp-" in p.name or "luigi-tmp" in p.name]
    assert debris == []
    assert not list(root.rglob("*.failed.json")), "no training is recorded as failed"


# --- archive errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("relative", "dataset", "day"), [
    ("rtm_spp_hub_lz/ercot_rtm_2023.parquet", "rt_prices", dt.date(2023, 7, 1)),
    ("load/Native_Load_2023.xlsx", "load", dt.date(2023, 7, 1)),
    ("fuel_mix/IntGenbyFuel2023.xlsx", "renewables", dt.date(2023, 7, 1)),
    ("dam_spp_hub_lz/NP4-180-ER_DAMLZHBSPP_2023.zip", "dam_prices", dt.date(2023, 7, 1)),
])
def test_a_truncated_archive_file_is_named_with_its_dataset(tmp_path: Path, relative: str, dataset: str,
                                                             day: dt.date) -> None:
    path = tmp_path / relative
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 a file cut short" if path.suffix in (".xlsx", ".zip") else b"PAR1 cut short")
    with pytest.raises(SourceError) as info:
        ErcotArchive(tmp_path).fetch(dataset, day)
    message = str(info.value)
    assert str(path) in message and message.startswith(f"{dataset} 2023")


# --- monitoring stack --------------------------------------------------------------------------------


def test_grafana_and_prometheus_listen_on_loopback_and_grafana_needs_a_password() -> None:
    compose = yaml.safe_load((REPO / "infrastructure" / "monitoring" / "docker-compose.yml").read_text())
    grafana = compose["services"]["grafana"]["environment"]
    assert grafana["GF_SERVER_HTTP_ADDR"] == "127.0.0.1"
    # ${VAR:?message}: compose refuses to start when the variable is unset or empty; no fallback value.
    assert re.fullmatch(r"\$\{GRAFANA_ADMIN_PASSWORD:\?[^}]+\}", grafana["GF_SECURITY_ADMIN_PASSWORD"])
    assert "--web.listen-address=127.0.0.1:9090" in compose["services"]["prometheus"]["command"]
