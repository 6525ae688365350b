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

**Bounded delivery.** A socket timeout bounds each read, not a delivery: a server that trickles
one byte every two seconds keeps a 5-second timeout from ever firing. So each channel delivers on
a worker thread and gets ``timeout_seconds`` for the whole delivery (connect, TLS, every command
and reply); the channels run side by side, so one alert takes at most the larger of the two. At
the deadline the delivery's sockets are shut down, which ends the worker's blocked read at once,
and the channel is recorded as ``failed: no answer within N s``. :func:`in_background` lets a
caller (the deadline monitor) publish a fallback while an alert is still being delivered.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from typing import Any, Generic, Literal, TypeVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import ProxyManager

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
    channels: dict[str, Delivery] = {}
    if config.email.enabled:
        channels["email"] = Delivery(lambda cut: send_email(alert, config.email, env, cut), config.email.timeout_seconds)
    if config.webhook.enabled:
        channels["webhook"] = Delivery(lambda cut: post_webhook(alert, config.webhook, env, cut),
                                       config.webhook.timeout_seconds)
    deliveries: dict[str, str] = {"log": "ok"}
    for channel, delivery in channels.items():  # started together, so each waits only for what is left
        deliveries[channel] = _outcome(delivery, channel)
    delivered = Alert(**{**asdict(alert), "deliveries": deliveries})
    history.append(delivered.record())
    return delivered


class DeliveryError(RuntimeError):
    """An alert channel refused or could not take the alert (the message never holds a secret)."""


def _outcome(delivery: Delivery, channel: str) -> str:
    try:
        delivery.wait()
    except DeliveryError as exc:
        log.error("alert delivery by %s failed: %s", channel, exc)
        return f"failed: {exc}"
    log.info("alert delivered by %s", channel)
    return "ok"


# After the deadline has cut its sockets, a worker gets this long to notice before it is left behind.
CUT_GRACE_SECONDS = 1.0


class Cut:
    """The sockets of one delivery, so its deadline can shut them down from another thread.

    Each socket is kept as a duplicate descriptor: ``shutdown(2)`` on it ends the connection even
    after TLS has wrapped (and detached) the original socket object.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._descriptors: list[int] = []
        self.done = False

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._descriptors.append(os.dup(sock.fileno()))
            if self.done:
                self._shutdown()

    def shut(self) -> None:
        with self._lock:
            self.done = True
            self._shutdown()

    def _shutdown(self) -> None:
        while self._descriptors:
            with socket.socket(fileno=self._descriptors.pop()) as duplicate:
                try:
                    duplicate.shutdown(socket.SHUT_RDWR)
                except OSError:  # the peer or the worker closed it first: nothing left to cut
                    continue


class Delivery:
    """One channel's delivery, started on a worker thread at once; :meth:`wait` bounds it to ``timeout_s`` in all."""

    def __init__(self, action: Callable[[Cut], None], timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.deadline = time.monotonic() + timeout_s
        self.cut = Cut()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(action,), name="alert delivery", daemon=True)
        self._thread.start()

    def _run(self, action: Callable[[Cut], None]) -> None:
        try:
            action(self.cut)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread, which raises it
            self._error = exc
        finally:
            self.cut.shut()  # closes the duplicate descriptors (the delivery's own sockets are closed by it)

    def wait(self) -> None:
        """Return when delivered; :class:`DeliveryError` when it failed or took longer than ``timeout_s``."""
        self._thread.join(max(0.0, self.deadline - time.monotonic()))
        if self._thread.is_alive():
            self.cut.shut()
            self._thread.join(CUT_GRACE_SECONDS)
            raise DeliveryError(f"no answer within {self.timeout_s:g} s (the whole delivery is bounded by "
                                "timeout_seconds)")
        if self._error is not None:
            raise self._error


T = TypeVar("T")


class Pending(Generic[T]):
    """A call running on a worker thread; :meth:`wait` returns its result or raises its exception."""

    def __init__(self, call: Callable[[], T]) -> None:
        self._result: list[T] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(call,), name="alert", daemon=True)
        self._thread.start()

    def _run(self, call: Callable[[], T]) -> None:
        try:
            self._result.append(call())
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread, which raises it
            self._error = exc

    def wait(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result[0]


def in_background(call: Callable[[], T]) -> Pending[T]:
    """Start ``call`` (e.g. sending an alert) now and let the caller go on (e.g. publishing a fallback)."""
    return Pending(call)


class _CuttableSmtp(smtplib.SMTP):
    """smtplib's client, with its socket handed to the delivery's :class:`Cut` as soon as it connects."""

    def __init__(self, cut: Cut, timeout: float) -> None:
        self._cut = cut
        super().__init__(timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = super()._get_socket(host, port, timeout)
        self._cut.add(sock)
        return sock


def send_email(alert: Alert, config: EmailAlerts, environ: Mapping[str, str], cut: Cut | None = None) -> None:
    message = EmailMessage()
    message["Subject"] = f"{SUBJECT_PREFIX} {alert.severity.upper()}: {alert.title}"
    message["From"] = config.sender
    message["To"] = ", ".join(config.recipients)
    message.set_content(alert.text())
    username, password = environ.get(config.username_env), environ.get(config.password_env)
    try:
        with _CuttableSmtp(cut or Cut(), config.timeout_seconds) as smtp:
            smtp.connect(config.smtp_host, config.smtp_port)
            if config.use_tls:
                smtp.starttls()
            if username and password:
                smtp.login(username, password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        # smtplib's messages carry server replies and addresses, never the password.
        raise DeliveryError(f"{type(exc).__name__} from {config.smtp_host}:{config.smtp_port}: {exc}") from None


def _cuttable_session(cut: Cut) -> requests.Session:
    """A requests session whose every new connection (direct or through an HTTP proxy) is handed to ``cut``."""

    def recorded(base: type[HTTPConnection]) -> type[HTTPConnection]:
        def _new_conn(self: HTTPConnection) -> socket.socket:
            sock = base._new_conn(self)
            cut.add(sock)
            return sock

        return type(f"Cuttable{base.__name__}", (base,), {"_new_conn": _new_conn})

    pools = {"http": type("CuttablePool", (HTTPConnectionPool,), {"ConnectionCls": recorded(HTTPConnection)}),
             "https": type("CuttableTlsPool", (HTTPSConnectionPool,), {"ConnectionCls": recorded(HTTPSConnection)})}

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **kwargs)
            if type(manager) is ProxyManager:  # SOCKS proxies keep their own pools: bounded by the join only
                manager.pool_classes_by_scheme = pools
            return manager

    session = requests.Session()
    for prefix in ("http://", "https://"):
        session.mount(prefix, Adapter())
    return session


def post_webhook(alert: Alert, config: WebhookAlerts, environ: Mapping[str, str], cut: Cut | None = None) -> None:
    url = environ.get(config.url_env)
    if not url:
        raise DeliveryError(f"webhook alerts are enabled but the environment variable {config.url_env} is not set")
    payload = {"text": alert.text()}
    try:
        with _cuttable_session(cut or Cut()) as session:
            response = session.post(url, json=payload, timeout=config.timeout_seconds)
    except requests.RequestException as exc:
        # The exception's message contains the URL (a secret): report its type only.
        raise DeliveryError(f"{type(exc).__name__} posting to the webhook in ${config.url_env}") from None
    if response.status_code >= 300:
        raise DeliveryError(f"the webhook in ${config.url_env} answered HTTP {response.status_code}")
