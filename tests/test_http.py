"""The shared HTTP layer: timeouts, bounded jittered retries, fail-fast 4xx, rate limit, payload checks."""

from __future__ import annotations

import logging
import random
import threading
import time

import pytest

from pipeline.config import HttpConfig
from pipeline.sources.base import SourceError
from pipeline.sources.http import (
    MAX_BACKOFF_SECONDS,
    HttpClient,
    HttpError,
    RateLimiter,
    Unauthorized,
    full_url,
    open_zip,
    single_csv,
)
from tests.conftest_http import *  # noqa: F403 (fixtures)
from tests.conftest_http import FakeClock
from tests.http_server import LocalServer, Reply, json_reply, truncated, zip_of, zip_reply

CONFIG = HttpConfig(connect_timeout_seconds=1.0, read_timeout_seconds=0.2, max_retries=2, backoff_seconds=0.5)


def make_client(clock: FakeClock, rng: random.Random, **kwargs) -> HttpClient:
    return HttpClient(CONFIG, name="test", sleep=clock.sleep, rng=rng, **kwargs)


def test_json_is_returned_and_query_params_are_sent(http_server: LocalServer, clock, rng) -> None:
    http_server.add("GET", "/data", json_reply({"hello": "world"}))
    payload = make_client(clock, rng).get_json(f"{http_server.url}/data", params={"a": "1 2"}, required=("hello",))
    assert payload == {"hello": "world"}
    assert http_server.requests[0].param("a") == "1 2"
    assert clock.sleeps == []


def test_429_then_success_waits_once_within_the_jitter_bound(http_server: LocalServer, clock, rng) -> None:
    http_server.add("GET", "/data", json_reply({"error_key": "throttled"}, status=429), json_reply({"ok": 1}))
    assert make_client(clock, rng).get_json(f"{http_server.url}/data") == {"ok": 1}
    assert len(http_server.requests) == 2
    assert len(clock.sleeps) == 1 and 0.0 <= clock.sleeps[0] <= CONFIG.backoff_seconds


def test_retry_after_header_is_honoured(http_server: LocalServer, clock, rng) -> None:
    http_server.add("GET", "/data", Reply(status=503, headers={"Retry-After": "7"}), json_reply({"ok": 1}))
    make_client(clock, rng).get_json(f"{http_server.url}/data")
    assert clock.sleeps == [7.0]


def test_repeated_500s_give_up_after_the_configured_retries_naming_url_and_status(
    http_server: LocalServer, clock, rng, caplog: pytest.LogCaptureFixture
) -> None:
    http_server.add("GET", "/report", Reply(status=500, body="boom"))
    with caplog.at_level(logging.WARNING), pytest.raises(HttpError) as caught:
        make_client(clock, rng).request("GET", f"{http_server.url}/report", params={"deliveryDateFrom": "2024-01-02"},
                                        what="NP6-905-CD")
    message = str(caught.value)
    assert len(http_server.requests) == CONFIG.max_retries + 1
    assert f"{http_server.url}/report?deliveryDateFrom=2024-01-02" in message
    assert "NP6-905-CD" in message and "HTTP 500" in message and "3 attempt(s)" in message
    assert caught.value.status == 500
    assert len(clock.sleeps) == CONFIG.max_retries
    assert sum("retry" in record.getMessage() for record in caplog.records) == CONFIG.max_retries


def test_backoff_is_full_jitter_under_an_exponential_bounded_ceiling(rng) -> None:
    client = HttpClient(HttpConfig(max_retries=10, backoff_seconds=2.0), name="t", rng=rng)
    for attempt in range(10):
        ceiling = min(MAX_BACKOFF_SECONDS, 2.0 * 2**attempt)
        delays = [client._backoff(attempt, None) for _ in range(50)]
        assert all(0.0 <= d <= ceiling for d in delays)
    assert max(client._backoff(9, None) for _ in range(200)) > MAX_BACKOFF_SECONDS / 2


def test_client_errors_fail_at_once(http_server: LocalServer, clock, rng) -> None:
    http_server.add("GET", "/missing", json_reply({"message": "no such report"}, status=404))
    with pytest.raises(HttpError, match="HTTP 404.*no such report") as caught:
        make_client(clock, rng).get_json(f"{http_server.url}/missing")
    assert len(http_server.requests) == 1 and clock.sleeps == []
    assert caught.value.status == 404


def test_401_is_unauthorized_with_a_hint_naming_the_env_vars(http_server: LocalServer, clock, rng) -> None:
    http_server.add("GET", "/data", json_reply({"statusCode": 401, "message": "Access denied"}, status=401))
    hint = "check the subscription key / credentials env vars ERCOT_API_SUBSCRIPTION_KEY"
    with pytest.raises(Unauthorized, match="unauthorized: check the subscription key") as caught:
        make_client(clock, rng, status_hints={401: hint}).get_json(f"{http_server.url}/data")
    assert "ERCOT_API_SUBSCRIPTION_KEY" in str(caught.value)
    assert len(http_server.requests) == 1


def test_read_timeouts_are_retried_then_reported(http_server: LocalServer, clock, rng) -> None:
    http_server.add("GET", "/slow", Reply(body=b"late", delay=0.6))
    started = time.monotonic()
    with pytest.raises(HttpError, match="ReadTimeout|timed out") as caught:
        make_client(clock, rng).get_bytes(f"{http_server.url}/slow", params={"x": "1"})
    assert time.monotonic() - started < 2.0
    assert f"{http_server.url}/slow?x=1" in str(caught.value)
    assert caught.value.status is None
    assert len(clock.sleeps) == CONFIG.max_retries


def test_a_timeout_then_success_returns_the_payload(http_server: LocalServer, clock, rng) -> None:
    http_server.add("GET", "/slow", Reply(body=b"late", delay=0.6), Reply(body=b"fresh"))
    assert make_client(clock, rng).get_bytes(f"{http_server.url}/slow") == b"fresh"


def test_connection_refused_is_retried_and_reported(clock, rng) -> None:
    closed = LocalServer()
    url = closed.url
    closed.close()
    with pytest.raises(HttpError, match="ConnectionError") as caught:
        make_client(clock, rng).get_bytes(f"{url}/gone")
    assert f"{url}/gone" in str(caught.value)
    assert len(clock.sleeps) == CONFIG.max_retries


def test_malformed_json_names_the_url(http_server: LocalServer, clock, rng) -> None:
    http_server.add("GET", "/broken", Reply(body='{"_meta": {"totalPages": 1', content_type="application/json"))
    with pytest.raises(SourceError, match="malformed JSON") as caught:
        make_client(clock, rng).get_json(f"{http_server.url}/broken", params={"page": 1})
    assert f"{http_server.url}/broken?page=1" in str(caught.value)


def test_json_missing_documented_keys_names_them(http_server: LocalServer, clock, rng) -> None:
    http_server.add("GET", "/page", json_reply({"_meta": {"currentPage": 1}, "data": []}))
    with pytest.raises(SourceError, match=r"documented key\(s\) \['_meta.totalPages', 'fields'\]"):
        make_client(clock, rng).get_json(f"{http_server.url}/page", required=("_meta.totalPages", "fields", "data"))


def test_truncated_zip_is_a_clear_error(http_server: LocalServer, clock, rng) -> None:
    content = zip_of({"report.csv": "a,b\n" + "1,2\n" * 500})
    http_server.add("GET", "/file", zip_reply(truncated(content)))
    client = make_client(clock, rng)
    payload = client.get_bytes(f"{http_server.url}/file")
    with pytest.raises(SourceError, match="not a complete zip archive.*truncated"):
        open_zip(payload, where=f"GET {http_server.url}/file")


def test_single_csv_reads_the_one_member_and_rejects_others() -> None:
    name, frame = single_csv(zip_of({"x.csv": "DeliveryDate,Price\n01/02/2024, 12.5\n"}), where="here")
    assert name == "x.csv" and frame["Price"].tolist() == [12.5]
    with pytest.raises(SourceError, match="expected one CSV"):
        single_csv(zip_of({"a.csv": "x\n1\n", "b.csv": "x\n2\n"}), where="here")


def test_registered_secrets_never_appear_in_errors_or_logs(
    http_server: LocalServer, clock, rng, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cr3t-subscription-key"
    http_server.add("GET", "/data", json_reply({"message": f"key {secret} throttled"}, status=429))
    client = make_client(clock, rng)
    client.redact.add(secret)
    with caplog.at_level(logging.DEBUG), pytest.raises(HttpError) as caught:
        client.get_json(f"{http_server.url}/data", headers={"Ocp-Apim-Subscription-Key": secret})
    assert secret not in str(caught.value)
    assert all(secret not in record.getMessage() for record in caplog.records)
    assert http_server.requests[0].headers["Ocp-Apim-Subscription-Key"] == secret


def test_full_url_encodes_params_like_requests() -> None:
    assert full_url("http://h/p", {"a": "x y", "b": 2}) == "http://h/p?a=x+y&b=2"
    assert full_url("http://h/p") == "http://h/p"


def test_rate_limiter_spaces_requests_at_the_configured_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(30, clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(4)]
    assert waits == [0.0, 2.0, 2.0, 2.0]
    clock.advance(60)
    assert limiter.acquire() == 0.0  # an idle minute refills only up to the burst size
    assert limiter.acquire() == 2.0


def test_rate_limiter_is_shared_fairly_across_threads() -> None:
    limiter = RateLimiter(60 * 200, burst=1)  # 200 per second, real clock
    started = time.monotonic()
    threads = [threading.Thread(target=lambda: [limiter.acquire() for _ in range(10)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 40 tokens at 200/s: the first is free, the other 39 need >= 0.195 s in total.
    assert time.monotonic() - started >= 0.19


def test_rate_limiter_applies_to_every_attempt(http_server: LocalServer, clock, rng) -> None:
    http_server.add("GET", "/data", Reply(status=429), json_reply({"ok": 1}))
    limiter = RateLimiter(30, clock=clock, sleep=clock.sleep)
    make_client(clock, rng, rate_limiter=limiter).get_json(f"{http_server.url}/data")
    # one backoff sleep plus the limiter's wait before the second attempt (less whatever the backoff covered)
    assert len(http_server.requests) == 2
    assert clock.now - 1_000.0 >= 2.0
