"""Bounded alert delivery: ``timeout_seconds`` bounds a whole delivery, and no alert delays a fallback.

The servers here trickle: they answer one byte at a time, each well within a socket timeout, so
only a bound on the whole delivery stops them. All on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import socket
import socketserver
import threading
import time
from collections.abc import Iterator, Sequence

import pytest

from pipeline.config import AlertsConfig
from pipeline.ops import alerts, deadline
from pipeline.ops.runner import RunOutcome
from targets import Layout
from targets.files import JsonLinesTarget
from tests.ops_support import at_cpt, operations, ops_config  # noqa: F401 - fixture

AT = dt.datetime(2024, 7, 18, 14, 1, tzinfo=dt.timezone.utc)
TRICKLE_EVERY_S = 0.4  # one byte this often: always within any socket timeout used here
TRICKLE_FOR_S = 8.0  # then the server gives up (so a test of the old, unbounded code ends too)


class _Trickle(socketserver.BaseRequestHandler):
    server: TricklingServer

    def handle(self) -> None:
        self.server.connections += 1
        self.request.settimeout(TRICKLE_FOR_S)
        try:
            self.server.before_reply(self.request)
            started = time.monotonic()
            for byte in self.server.reply * 1000:
                if time.monotonic() - started > TRICKLE_FOR_S:
                    return
                self.request.sendall(bytes([byte]))
                time.sleep(TRICKLE_EVERY_S)
        except OSError:  # the client cut the connection: what a bounded delivery does
            self.server.cut_at.append(time.monotonic())


class TricklingServer(socketserver.ThreadingTCPServer):
    """A TCP server on 127.0.0.1 that answers every connection with ``reply``, one byte at a time."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, reply: bytes, read_request: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Trickle)
        self.reply = reply
        self.read_request = read_request
        self.connections = 0
        self.cut_at: list[float] = []
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def before_reply(self, connection: socket.socket) -> None:
        """An HTTP server reads the request first; an SMTP server speaks first (its greeting trickles)."""
        if not self.read_request:
            return
        data = b""
        while b"\r\n\r\n" not in data:
            data += connection.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            body += connection.recv(65536)


@pytest.fixture
def trickling_webhook() -> Iterator[TricklingServer]:
    server = TricklingServer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", read_request=True)
    server.reply = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 400  # a header line that never ends in time
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def trickling_smtp() -> Iterator[TricklingServer]:
    server = TricklingServer(b"220 " + b"s" * 400 + b"\r\n", read_request=False)
    yield server
    server.shutdown()
    server.server_close()


def an_alert() -> alerts.Alert:
    return alerts.Alert(kind="deadline_risk", severity="critical", title="forecast for 2024-07-18 at risk",
                        detail="No forecast yet.", at=AT, job="inference", forecast_date=dt.date(2024, 7, 18))


def channels(smtp_port: int | None, webhook: bool, timeout_s: float) -> AlertsConfig:
    return AlertsConfig.model_validate({
        "email": {"enabled": smtp_port is not None, "smtp_host": "127.0.0.1", "smtp_port": smtp_port or 25,
                  "recipients": ["ops@example.com"], "timeout_seconds": timeout_s},
        "webhook": {"enabled": webhook, "timeout_seconds": timeout_s},
    })


def delivery_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "alert delivery" and t.is_alive()]


def test_a_trickling_webhook_is_cut_at_timeout_seconds(trickling_webhook: TricklingServer, tmp_path) -> None:
    started = time.monotonic()
    sent = alerts.send(an_alert(), channels(None, webhook=True, timeout_s=1.0),
                       JsonLinesTarget(str(tmp_path / "alerts.jsonl")),
                       {"RTLMP_WEBHOOK_URL": f"http://127.0.0.1:{trickling_webhook.port}/hooks/T0/B0"})
    took = time.monotonic() - started
    assert took < 2.5, f"one alert took {took:.1f} s with timeout_seconds 1"
    assert sent.deliveries["webhook"].startswith("failed: no answer within 1 s")
    time.sleep(TRICKLE_EVERY_S * 2)
    assert trickling_webhook.cut_at, "the connection was shut down at the deadline, not left trickling"
    assert not delivery_threads(), "no delivery thread is left behind"


def test_a_trickling_smtp_server_is_cut_at_timeout_seconds(trickling_smtp: TricklingServer, tmp_path) -> None:
    started = time.monotonic()
    sent = alerts.send(an_alert(), channels(trickling_smtp.port, webhook=False, timeout_s=1.0),
                       JsonLinesTarget(str(tmp_path / "alerts.jsonl")), {})
    took = time.monotonic() - started
    assert took < 2.5, f"one alert took {took:.1f} s with timeout_seconds 1"
    assert sent.deliveries["email"].startswith("failed: no answer within 1 s")
    time.sleep(TRICKLE_EVERY_S * 2)
    assert trickling_smtp.cut_at and not delivery_threads()
    [record], _ = JsonLinesTarget(str(tmp_path / "alerts.jsonl")).read()
    assert record["deliveries"]["email"].startswith("failed: no answer within 1 s")


def test_both_channels_trickling_cost_one_timeout_not_two(trickling_smtp, trickling_webhook, tmp_path) -> None:
    started = time.monotonic()
    sent = alerts.send(an_alert(), channels(trickling_smtp.port, webhook=True, timeout_s=1.5),
                       JsonLinesTarget(str(tmp_path / "alerts.jsonl")),
                       {"RTLMP_WEBHOOK_URL": f"http://127.0.0.1:{trickling_webhook.port}/hook"})
    took = time.monotonic() - started
    assert took < 2.7, f"the channels are delivered side by side (took {took:.1f} s)"
    assert sent.deliveries["email"].startswith("failed") and sent.deliveries["webhook"].startswith("failed")


def test_a_failure_inside_a_delivery_reaches_the_caller() -> None:
    def broken(_cut: alerts.Cut) -> None:
        raise alerts.DeliveryError("refused")

    with pytest.raises(alerts.DeliveryError, match="refused"):
        alerts.Delivery(broken, 5.0).wait()

    def bug(_cut: alerts.Cut) -> None:
        raise KeyError("a bug is not a delivery failure")

    with pytest.raises(KeyError):
        alerts.Delivery(bug, 5.0).wait()


class TimedRunner:
    """A luigi runner that notes when each fallback starts and fails it (nothing is published)."""

    def __init__(self) -> None:
        self.started: list[float] = []

    def __call__(self, command: Sequence[str], timeout_s: float, stop: threading.Event,
                 keep_open: Sequence[int] = ()) -> RunOutcome:
        self.started.append(time.monotonic())
        return RunOutcome(30, "fallback failed (test)")


def test_a_trickling_webhook_never_delays_the_deadline_fallback(ops_config, trickling_webhook, monkeypatch) -> None:
    monkeypatch.setenv("RTLMP_WEBHOOK_URL", f"http://127.0.0.1:{trickling_webhook.port}/hooks/T0/B0")
    config = ops_config("alerts:\n  webhook: {enabled: true, timeout_seconds: 5}\n")
    runner = TimedRunner()
    day = dt.date(2024, 7, 18)
    started = time.monotonic()
    state = deadline.check(operations(config, at_cpt(day, "09:01"), runner=runner))
    took = time.monotonic() - started
    assert runner.started, "the fallbacks were tried"
    assert runner.started[0] - started < 1.0, f"the fallback started {runner.started[0] - started:.1f} s late"
    # The risk alert (delivered meanwhile) and the 'fallbacks failed' alert: at most 5 s each.
    assert took < 2 * 5 + 2.5, f"the deadline check took {took:.1f} s"
    assert state.at_risk
    records, _ = Layout(config.data_root).alert_log().read()
    assert [r["kind"] for r in records] == ["deadline_risk", "deadline_missed"]
    assert all(r["deliveries"]["webhook"].startswith("failed: no answer within 5 s") for r in records)
