"""Alerts: always to the log and the alert history; by email (SMTP) and webhook when configured.

An alert is a small record (what happened, to which job and forecast date, how bad). :func:`send`
logs it, appends it to ``ops/alerts.jsonl`` under the data root (the status page shows the
history) and delivers it to every configured channel:

* email through ``smtplib`` to ``alerts.email.recipients`` (STARTTLS with ``use_tls``; login when
  the environment variables named by ``username_env``/``password_env`` are set);
* a Slack-compatible incoming webhook: ``POST {"text": ...}`` as JSON to the URL held by the
  environment variable named by ``alerts.webhook.url_env``.

Secrets (the SMTP password, the webhook URL) are read from the environment when an alert is sent
and never logged: a failed delivery is logged with the exception's type and, for HTTP, the status
code only. A failed delivery does not stop the job that raised the alert (which is busy
publishing a fallback); it is logged as an error and recorded with the alert.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from typing import Literal

import requests

from pipeline.config import AlertsConfig, EmailAlerts, WebhookAlerts
from targets.files import JsonLinesTarget

log = logging.getLogger("pipeline.alerts")

Severity = Literal["info", "warning", "critical"]
_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "critical": logging.ERROR}
SUBJECT_PREFIX = "[RTLMP forecaster]"


@dataclass(frozen=True)
class Alert:
    """One alert. ``key`` identifies the condition: an alert whose key is already in the history is not sent again."""

    kind: str  # e.g. fallback, job_failed, deadline_risk, deadline_missed
    severity: Severity
    title: str
    detail: str
    at: dt.datetime  # when it was raised (UTC)
    job: str | None = None
    forecast_date: dt.date | None = None
    key: str | None = None
    deliveries: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        lines = [f"{self.severity.upper()}: {self.title}", "", self.detail.rstrip(), ""]
        if self.job:
            lines.append(f"job: {self.job}")
        if self.forecast_date:
            lines.append(f"forecast date: {self.forecast_date.isoformat()}")
        lines.append(f"raised at: {self.at.astimezone(dt.timezone.utc).isoformat(timespec='seconds')}")
        return "\n".join(lines)

    def record(self) -> dict[str, object]:
        record = asdict(self)
        record["at"] = self.at.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
        record["forecast_date"] = self.forecast_date.isoformat() if self.forecast_date else None
        return record


def already_sent(history: JsonLinesTarget, key: str) -> bool:
    records, _ = history.read()
    return any(r.get("key") == key for r in records)


def send(alert: Alert, config: AlertsConfig, history: JsonLinesTarget,
         environ: Mapping[str, str] | None = None) -> Alert:
    """Log, record and deliver ``alert``; returns it with the outcome of each delivery.

    With a ``key`` already in ``history`` nothing is sent again (the condition was reported).
    """
    env = os.environ if environ is None else environ
    if alert.key is not None and already_sent(history, alert.key):
        log.info("alert %s already sent; not repeating it", alert.key)
        return alert
    log.log(_LEVELS[alert.severity], "ALERT %s: %s -- %s", alert.severity.upper(), alert.title,
            alert.detail.strip().replace("\n", " | "))
    deliveries: dict[str, str] = {"log": "ok"}
    if config.email.enabled:
        deliveries["email"] = _deliver(lambda: send_email(alert, config.email, env), "email")
    if config.webhook.enabled:
        deliveries["webhook"] = _deliver(lambda: post_webhook(alert, config.webhook, env), "webhook")
    delivered = Alert(**{**asdict(alert), "deliveries": deliveries})
    history.append(delivered.record())
    return delivered


class DeliveryError(RuntimeError):
    """An alert channel refused or could not take the alert (the message never holds a secret)."""


def _deliver(action: Callable[[], None], channel: str) -> str:
    try:
        action()
    except DeliveryError as exc:
        log.error("alert delivery by %s failed: %s", channel, exc)
        return f"failed: {exc}"
    log.info("alert delivered by %s", channel)
    return "ok"


def send_email(alert: Alert, config: EmailAlerts, environ: Mapping[str, str]) -> None:
    message = EmailMessage()
    message["Subject"] = f"{SUBJECT_PREFIX} {alert.severity.upper()}: {alert.title}"
    message["From"] = config.sender
    message["To"] = ", ".join(config.recipients)
    message.set_content(alert.text())
    username, password = environ.get(config.username_env), environ.get(config.password_env)
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout_seconds) as smtp:
            if config.use_tls:
                smtp.starttls()
            if username and password:
                smtp.login(username, password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        # smtplib's messages carry server replies and addresses, never the password.
        raise DeliveryError(f"{type(exc).__name__} from {config.smtp_host}:{config.smtp_port}: {exc}") from None


def post_webhook(alert: Alert, config: WebhookAlerts, environ: Mapping[str, str]) -> None:
    url = environ.get(config.url_env)
    if not url:
        raise DeliveryError(f"webhook alerts are enabled but the environment variable {config.url_env} is not set")
    payload = {"text": alert.text()}
    try:
        response = requests.post(url, json=payload, timeout=config.timeout_seconds)
    except requests.RequestException as exc:
        # The exception's message contains the URL (a secret): report its type only.
        raise DeliveryError(f"{type(exc).__name__} posting to the webhook in ${config.url_env}") from None
    if response.status_code >= 300:
        raise DeliveryError(f"the webhook in ${config.url_env} answered HTTP {response.status_code}")
