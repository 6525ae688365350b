"""Alerts (log, history, SMTP, webhook), log files, and the operations tasks, on local servers only."""

from __future__ import annotations

import datetime as dt
import logging

import luigi
import pytest

from pipeline import ercot_time, logs, publication
from pipeline.ops import alerts
from pipeline.config import AlertsConfig, LoggingConfig
from pipeline.tasks.operations import FetchDaily, RetrainModel
from pipeline.tasks.train import GateModel
from targets.files import JsonLinesTarget
from tests.conftest_http import http_server  # noqa: F401 - fixture
from tests.http_server import Reply
from tests.ops_support import *  # noqa: F403 - fixtures and helpers

AT = dt.datetime(2024, 7, 18, 14, 1, tzinfo=dt.timezone.utc)


def an_alert(**changes) -> alerts.Alert:
    fields = dict(kind="deadline_risk", severity="critical", title="forecast for 2024-07-18 at risk",
                  detail="No forecast yet.", at=AT, job="inference", forecast_date=dt.date(2024, 7, 18))
    return alerts.Alert(**{**fields, **changes})


def channels(smtp_port: int, email: bool = True, webhook: bool = True) -> AlertsConfig:
    return AlertsConfig.model_validate({
        "email": {"enabled": email, "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "recipients": ["ops@example.com"],
                  "timeout_seconds": 2},
        "webhook": {"enabled": webhook, "timeout_seconds": 2},
    })


def test_an_alert_goes_to_the_log_the_history_the_mailbox_and_the_webhook(smtp_server, http_server, tmp_path, caplog):
    http_server.add("POST", "/hook", Reply(200, "ok"))
    history = JsonLinesTarget(str(tmp_path / "alerts.jsonl"))
    sent = alerts.send(an_alert(), channels(smtp_server.port), history, {"RTLMP_WEBHOOK_URL": f"{http_server.url}/hook"})
    assert sent.deliveries == {"log": "ok", "email": "ok", "webhook": "ok"}
    assert "ALERT CRITICAL: forecast for 2024-07-18 at risk" in caplog.text
    [mail] = smtp_server.mails
    assert mail.recipients == ["ops@example.com"] and mail.login is None
    assert "forecast date: 2024-07-18" in mail.data
    [post] = http_server.requests_to("/hook")
    assert post.json()["text"].startswith("CRITICAL: forecast for 2024-07-18 at risk")
    [record], broken = history.read()
    assert broken == [] and record["kind"] == "deadline_risk" and record["at"] == "2024-07-18T14:01:00+00:00"


def test_an_alert_with_a_key_is_sent_once(smtp_server, tmp_path):
    history = JsonLinesTarget(str(tmp_path / "alerts.jsonl"))
    config = channels(smtp_server.port, webhook=False)
    for _ in range(3):
        alerts.send(an_alert(key="deadline_risk:2024-07-18"), config, history, {})
    assert len(smtp_server.mails) == 1 and len(history.read()[0]) == 1


def test_failed_deliveries_are_recorded_and_logged_without_the_secret(http_server, tmp_path, caplog):
    http_server.add("POST", "/secret-token-123", Reply(500, "boom"))
    with socket_closed_port() as port:
        sent = alerts.send(an_alert(), channels(port), JsonLinesTarget(str(tmp_path / "a.jsonl")),
                           {"RTLMP_WEBHOOK_URL": f"{http_server.url}/secret-token-123", "RTLMP_SMTP_PASSWORD": "pw-xyz"})
    assert sent.deliveries["email"].startswith("failed: ConnectionRefusedError")
    assert sent.deliveries["webhook"] == "failed: the webhook in $RTLMP_WEBHOOK_URL answered HTTP 500"
    assert "secret-token-123" not in caplog.text and "pw-xyz" not in caplog.text
    assert any(r.levelno == logging.ERROR and "alert delivery by webhook failed" in r.getMessage() for r in caplog.records)


def test_an_unreachable_webhook_is_reported_by_exception_type_only(tmp_path, caplog):
    with socket_closed_port() as port:
        sent = alerts.send(an_alert(), channels(1, email=False), JsonLinesTarget(str(tmp_path / "a.jsonl")),
                           {"RTLMP_WEBHOOK_URL": f"http://127.0.0.1:{port}/T0/B0/XXXXsecret"})
    assert sent.deliveries["webhook"] == "failed: ConnectionError posting to the webhook in $RTLMP_WEBHOOK_URL"
    assert "XXXXsecret" not in caplog.text


class socket_closed_port:
    """A port on 127.0.0.1 where nothing listens."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        return None


def test_log_files_are_written_and_rotated(tmp_path):
    config = LoggingConfig(dir=tmp_path / "logs", max_bytes=2000, backup_count=2)
    logs.setup(config, console=False)
    try:
        log = logging.getLogger("pipeline.jobs")
        for n in range(60):
            log.info("job inference step %d of a long run", n)
        log.error("job inference failed")
    finally:
        logs.shutdown()
    folder = tmp_path / "logs"
    assert "job inference failed" in (folder / "error.log").read_text()
    assert "step" not in (folder / "error.log").read_text(), "error.log holds errors only"
    assert (folder / "scheduler.log.1").exists() and (folder / "scheduler.log.2").exists()
    assert not (folder / "scheduler.log.3").exists()


# --- the operations tasks ----------------------------------------------------------------------------


def test_consecutive_daily_fetch_windows_fetch_every_file_exactly_once() -> None:
    days = [dt.date(2024, 3, 8) + dt.timedelta(days=k) for k in range(5)]  # across the spring-forward day
    for dataset in publication.RULES:
        fetched = []
        for day in days:
            fetched += publication.published_between(dataset, "synthetic", ercot_time.day_start(day - dt.timedelta(days=1)),
                                                     ercot_time.day_start(day))
        assert len(fetched) == len(set(fetched)) == 5, dataset
        assert fetched == sorted(fetched)


def test_fetch_daily_requires_the_files_public_by_midnight(ops_config) -> None:
    ops_config()
    names = sorted((t.task_family, t.date.isoformat()) for t in FetchDaily(date=dt.date(2024, 7, 18)).requires())
    assert ("FetchRtPrices", "2024-07-16") in names  # public 00:05 on the 17th
    assert ("FetchDamPrices", "2024-07-18") in names  # cleared 13:30 on the 17th
    assert ("FetchLoadForecast", "2024-07-17") in names
    assert ("FetchLoad", "2024-07-16") in names  # posted 06:00 on the 17th
    assert ("FetchAncillaryPrices", "2024-07-18") in names  # cleared with the DAM
    assert len(names) == 9


def test_retraining_trains_on_cadence_dates_only_so_any_trigger_is_harmless(ops_config) -> None:
    ops_config()
    month_end = [RetrainModel(date=dt.date(2024, 7, 31)), RetrainModel(date=dt.date(2024, 8, 1))]
    cadence = [t for t in month_end if t.requires()]
    assert [t.date for t in cadence] == [dt.date(2024, 7, 31)]  # 2024-07-31 is anchor + k * 2 days
    assert cadence[0].requires() == [GateModel(date=dt.date(2024, 7, 31))]
    assert not cadence[0].complete()
    assert RetrainModel(date=dt.date(2024, 8, 1)).complete()
    assert RetrainModel.bulk_complete([dt.date(2024, 7, 31), dt.date(2024, 8, 1)]) == [dt.date(2024, 8, 1)]


def test_a_failed_fetch_is_retried_max_retries_times_within_a_run(ops_config, monkeypatch) -> None:
    import pipeline.sources
    from pipeline.sources import market_source

    ops_config("error_recovery:\n  data_fetching: {retry_delay_seconds: 0, max_retries: 2}\n")
    down: list[DownSource] = []
    monkeypatch.setattr(pipeline.sources, "market_source", lambda c: down.append(DownSource(market_source(c))) or down[-1])
    runner = InProcessLuigi()
    outcome = runner(["luigi", "--module", "pipeline", "FetchDamPrices", "--date", "2024-07-18", "--local-scheduler",
                      "--worker-keep-alive", "--scheduler-retry-delay", "0"], 60, None)
    assert outcome.retcode == 30
    assert sum(source.calls for source in down) == 3, "one attempt and max_retries retries"


def test_a_history_line_cut_short_by_a_crash_is_skipped_and_the_next_record_is_intact(tmp_path) -> None:
    history = JsonLinesTarget(str(tmp_path / "runs.jsonl"))
    history.append({"run": 1})
    with open(history.path, "a") as handle:
        handle.write('{"run": 2, "stat')  # killed mid-write
    history.append({"run": 3})
    records, broken = history.read()
    assert records == [{"run": 1}, {"run": 3}] and broken == [2]
