"""The seed's fallbacks, end to end on a copy of a real pipeline root (simulator, small config).

Each scenario runs a scheduled job as cron would (``pipeline.jobs.run_job``), with luigi run
in-process so a broken source or model can be injected.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import numpy as np
import pytest

import pipeline.model.candidate
import pipeline.sources
from pipeline import registry
from pipeline.ops import deadline
from pipeline.ops import jobs
from pipeline.sources import market_source
from pipeline.tasks.base import current_layout
from pipeline.tasks import inference as inference_tasks
from targets import Layout
from tests.conftest_http import http_server  # noqa: F401 - fixture
from tests.ops_support import *  # noqa: F403 - fixtures and helpers

NEXT_DAY = BASE_DAY + dt.timedelta(days=1)  # not a cadence date: served by BASE_DAY's model
CADENCE_DAY = BASE_DAY + dt.timedelta(days=2)


def alerts_in(root) -> list[dict]:
    records, _ = Layout(root).alert_log().read()
    return records


def serving_model(forecast) -> str:
    """The model a forecast was served by (rows served by a baseline carry ``<model>/<baseline>``)."""
    [model_id] = set(forecast["model_id"].str.split("/").str[0])
    return model_id


def runs_in(root) -> list[dict]:
    records, _ = Layout(root).run_log().read()
    return records


def test_market_source_down_publishes_the_forecast_from_cached_inputs(ops_root, ops_config, monkeypatch, caplog):
    config = ops_config()
    current_model = serving_model(forecast_of(BASE_DAY))
    down: list[DownSource] = []
    monkeypatch.setattr(pipeline.sources, "market_source", lambda c: down.append(DownSource(market_source(c))) or down[-1])
    ops = operations(config, at_cpt(NEXT_DAY, "06:00"))

    result = jobs.run_job(ops, "inference")

    assert any(source.calls for source in down), "the market source was asked and failed"
    assert result.retcode == 30 and result.attempts == 2, result
    assert (result.status, result.fallback) == ("fallback", "fallback_cached_inputs")
    forecast = forecast_of(NEXT_DAY)
    assert set(forecast["status"]) == {"fallback_cached_inputs"}
    assert len(forecast) == 72 * 2 * 2 and forecast["probability"].between(0, 1).all()
    assert serving_model(forecast) == current_model
    [alert] = [a for a in alerts_in(ops_root) if a["kind"] == "fallback"]
    assert alert["title"] == f"forecast for {NEXT_DAY} published as fallback_cached_inputs"
    assert any("ALERT WARNING" in r.getMessage() and "fallback_cached_inputs" in r.getMessage() for r in caplog.records)
    [run] = runs_in(ops_root)
    assert (run["job"], run["status"], run["fallback"]) == ("inference", "fallback", "fallback_cached_inputs")


def test_inference_failure_republishes_the_previous_forecast_before_the_deadline(ops_root, ops_config, monkeypatch):
    config = ops_config()

    def broken(*args, **kwargs):
        raise RuntimeError("model server exploded")

    monkeypatch.setattr(inference_tasks, "forecast_frame", broken)
    ops = operations(config, at_cpt(NEXT_DAY, "06:00"))

    result = jobs.run_job(ops, "inference")

    assert (result.status, result.fallback) == ("fallback", "fallback_previous")
    runner: InProcessLuigi = ops.runner  # type: ignore[assignment]
    assert [c[3] for c in runner.commands] == ["RangeDaily", "RangeDaily", "PublishPreviousForecast"], \
        "the inputs were fetched, so the cached-inputs fallback is skipped"
    forecast, previous = forecast_of(NEXT_DAY), forecast_of(BASE_DAY)
    assert set(forecast["status"]) == {"fallback_previous"}
    assert set(forecast["forecast_date"]) == {NEXT_DAY}
    assert forecast["model_id"].iloc[0] == previous["model_id"].iloc[0]
    # The hours both horizons cover (48) carry the previous forecast's values.
    overlap = forecast.merge(previous, on=["node", "threshold", "interval_start"], suffixes=("", "_prev"))
    assert len(overlap) == 48 * 2 * 2
    np.testing.assert_allclose(overlap["probability"], overlap["probability_prev"])
    # Published at the 06:00 run: the deadline monitor at 09:01 finds it and stays quiet.
    at_deadline = operations(config, at_cpt(NEXT_DAY, "09:01"))
    state = deadline.check(at_deadline)
    assert state.complete and state.status == "fallback_previous" and not state.at_risk
    assert not [a for a in alerts_in(ops_root) if a["kind"].startswith("deadline")]


def _worse_fit(original):
    """Train on outcomes shuffled across rows: a candidate with no skill that still trains normally."""

    def fit(fit_set, *args, **kwargs):
        rng = np.random.default_rng(0)
        shuffled = type(fit_set)(fit_set.features, fit_set.outcomes[rng.permutation(len(fit_set.outcomes))],
                                 fit_set.thresholds)
        return original(shuffled, *args, **kwargs)

    return fit


def test_a_retrain_that_validates_worse_is_rejected_and_the_current_model_serves(ops_root, ops_config, monkeypatch):
    config = ops_config()
    current_model = serving_model(forecast_of(BASE_DAY))
    original_fit = pipeline.model.candidate.fit
    monkeypatch.setattr(pipeline.model.candidate, "fit", _worse_fit(original_fit))

    retrain = jobs.run_job(operations(config, at_cpt(CADENCE_DAY, "01:00")), "model_retraining")

    assert retrain.status == "success", retrain
    decision = current_layout().model_decision(CADENCE_DAY).read()
    assert decision["status"] == "rejected", decision
    assert decision["candidate_score"] > decision["incumbent_score"]
    monkeypatch.setattr(pipeline.model.candidate, "fit", original_fit)

    inference = jobs.run_job(operations(config, at_cpt(CADENCE_DAY, "06:00")), "inference")

    assert inference.status == "success"
    forecast = forecast_of(CADENCE_DAY)
    assert set(forecast["status"]) == {"ok"}
    assert serving_model(forecast) == current_model


def test_a_failed_retrain_keeps_the_current_model_without_training_again(ops_root, ops_config, monkeypatch):
    config = ops_config()
    current_model = serving_model(forecast_of(BASE_DAY))
    calls = []

    def failing_fit(*args, **kwargs):
        calls.append(1)
        raise MemoryError("training ran out of memory")

    monkeypatch.setattr(pipeline.model.candidate, "fit", failing_fit)

    retrain = jobs.run_job(operations(config, at_cpt(CADENCE_DAY, "01:00")), "model_retraining")

    assert retrain.retcode == 30 and retrain.fallback == "retain_current_model"
    failure = current_layout().model_failure(CADENCE_DAY).read()
    assert "MemoryError" in failure["error"]
    [alert] = [a for a in alerts_in(ops_root) if a["kind"] == "job_failed"]
    assert current_model in alert["detail"], "the alert names the model that keeps serving"
    trained = len(calls)

    inference = jobs.run_job(operations(config, at_cpt(CADENCE_DAY, "06:00")), "inference")

    assert inference.status == "success"
    assert len(calls) == trained, "the morning forecast did not retrain the failed candidate"
    forecast = forecast_of(CADENCE_DAY)
    assert set(forecast["status"]) == {"ok"}
    assert serving_model(forecast) == current_model


def test_deadline_at_risk_alerts_by_email_and_webhook_and_publishes_the_fallback(
        ops_root, ops_config, smtp_server, http_server, monkeypatch, tmp_path):
    from tests.http_server import Reply

    http_server.add("POST", "/hooks/T000/B000", Reply(200, "ok"))
    monkeypatch.setenv("RTLMP_WEBHOOK_URL", f"{http_server.url}/hooks/T000/B000")
    monkeypatch.setenv("RTLMP_SMTP_USERNAME", "forecaster")
    monkeypatch.setenv("RTLMP_SMTP_PASSWORD", "s3cret-pa55")
    config = ops_config(f"""
alerts:
  email: {{enabled: true, smtp_host: 127.0.0.1, smtp_port: {smtp_server.port}, recipients: [desk@example.com]}}
  webhook: {{enabled: true}}
""")
    from pipeline import logs

    logs.setup(config.logging, console=False)
    try:
        state = deadline.check(operations(config, at_cpt(NEXT_DAY, "09:01")))
    finally:
        logs.shutdown()

    subjects = [email.message_from_string(m.data, policy=email.policy.default)["Subject"] for m in smtp_server.mails]
    assert subjects[0] == f"[RTLMP forecaster] CRITICAL: forecast for {NEXT_DAY} at risk of missing DAM closure"
    assert smtp_server.mails[0].recipients == ["desk@example.com"]
    assert smtp_server.mails[0].login == ("forecaster", "s3cret-pa55")
    posts = http_server.requests_to("/hooks/T000/B000")
    assert "at risk of missing DAM closure" in posts[0].json()["text"]
    assert posts[0].headers["Content-Type"] == "application/json"
    # ... and the fallback went out before closure, and was announced too.
    assert state.complete and state.status == "fallback_cached_inputs"
    assert "published as fallback_cached_inputs" in posts[1].json()["text"] and len(smtp_server.mails) == 2
    logged = "".join(p.read_text() for p in (tmp_path / "logs").glob("*.log"))
    assert "at risk of missing DAM closure" in logged
    assert "s3cret-pa55" not in logged and "/hooks/T000/B000" not in logged
    assert [a["deliveries"] for a in alerts_in(ops_root)][0] == {"email": "ok", "log": "ok", "webhook": "ok"}
