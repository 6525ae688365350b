"""The one HTTP layer of every network source: timeouts, bounded retries, a rate limit, payload checks.

Every request a source makes goes through :class:`HttpClient`, so they all behave the same way:

* ``(connect, read)`` timeouts from the source's config section (``connect_timeout_seconds``,
  ``read_timeout_seconds``); requests' read timeout bounds each wait for bytes, not the whole body.
* Bounded exponential backoff with *full jitter* (sleep ``uniform(0, min(cap, base * 2**attempt))``)
  on HTTP 429, 5xx, connection errors and timeouts, at most ``max_retries`` times. ERCOT's 429
  carries no Retry-After header; when a server does send one, the wait is at least that long.
  After the last attempt a :class:`HttpError` (a :class:`SourceError`) names the method, the URL
  with its query parameters and the last status or failure -- never headers or form bodies, which
  is where credentials and tokens travel.
* Any other 4xx fails at once: retrying a bad request or a wrong key only burns the rate budget.
  401 raises :class:`Unauthorized` with a hint naming the environment variables to check.
* Payload checks turn a truncated zip, malformed JSON or a JSON object missing its documented keys
  into a :class:`SourceError` naming the URL and what is wrong.

Rate limits across threads and processes
----------------------------------------
:class:`RateLimiter` is a token bucket shared by the threads of one process (one client, or several
clients handed the same limiter). Luigi workers are separate processes -- possibly on several
machines -- so no in-process object can pace them together. They share a provider's budget
through luigi's ``[resources]`` instead: a task that calls a rate-limited provider declares the
source's name as a resource (``resources = {"ercot_api": 1}``) and luigi.cfg caps how many such
tasks run at once across every worker of the central scheduler. Recommended luigi.cfg lines::

    [resources]
    # ERCOT Public API: ~30 requests/minute per subscription. One API task at a time; its
    # in-process limiter (sources.ercot_api.requests_per_minute) keeps it under the limit. To run
    # N at once, set ercot_api=N and requests_per_minute to 30 // N in config/pipeline.yaml.
    ercot_api=1
    # MIS downloads have no published limit; a few parallel tasks stay polite.
    ercot_mis=4
    # Open-Meteo free tier: 600 requests/minute, 10,000/day.
    open_meteo=4

(``luigi.cfg`` is owned by the pipeline's operators; these are the values this module is built for.)
"""

from __future__ import annotations

import io
import logging
import random
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import requests

from pipeline.config import HttpConfig
from pipeline.sources.base import SourceError

log = logging.getLogger(__name__)

#: Longest single backoff wait, so a retry never stalls a daily run for minutes.
MAX_BACKOFF_SECONDS = 60.0
#: Statuses worth retrying: throttling and server-side failures.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
#: JSON fields of error bodies that carry a human-readable reason and never echo the request.
_REASON_FIELDS = ("reason", "message", "error_description", "error_key", "error")
_MAX_DETAIL = 300

Params = Mapping[str, Any] | None
Sleep = Callable[[float], None]
Clock = Callable[[], float]


class HttpError(SourceError):
    """An HTTP exchange failed for good. ``status`` is the last HTTP status (None: no response)."""

    def __init__(self, message: str, *, method: str, url: str, status: int | None) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        self.status = status


class Unauthorized(HttpError):
    """HTTP 401: missing, wrong or expired credentials (callers may refresh a token once)."""


# --- rate limiting ---------------------------------------------------------------------------------


class RateLimiter:
    """Token bucket: ``requests_per_minute`` on average, at most ``burst`` at once; thread-safe.

    Each caller reserves a token under the lock (the balance may go negative) and then sleeps
    outside the lock until its token has accrued, so concurrent threads queue fairly without
    holding the lock while they wait. ``burst=1`` spaces requests evenly, which keeps any 60-second
    window within the provider's per-minute budget (ERCOT counts per minute, not per second).
    """

    def __init__(
        self,
        requests_per_minute: float,
        *,
        burst: int = 1,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if requests_per_minute <= 0 or burst < 1:
            raise ValueError("requests_per_minute must be positive and burst at least 1")
        self.rate_per_second = requests_per_minute / 60.0
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._updated = clock()

    def acquire(self) -> float:
        """Take one token, sleeping until it is available; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate_per_second)
            self._updated = now
            self._tokens -= 1.0
            wait = -self._tokens / self.rate_per_second if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


# --- describing requests without leaking secrets ---------------------------------------------------


def full_url(url: str, params: Params = None) -> str:
    """``url`` with its query parameters encoded exactly as requests will send them."""
    if not params:
        return url
    prepared = requests.Request("GET", url, params=dict(params)).prepare()
    return str(prepared.url)


class Redactor:
    """Replaces registered secret values (passwords, keys, tokens) by ``***`` in any text.

    Messages never include headers or bodies in the first place; this is the second guard for the
    rare server that echoes a credential back in an error message.
    """

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4:
            with self._lock:
                self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, "***")
        return text


def _error_detail(response: requests.Response) -> str:
    """A short human-readable reason from an error body (JSON reason fields or plain text)."""
    try:
        payload = response.json()
    except ValueError:
        text = response.text.strip() if response.headers.get("content-type", "").startswith("text/plain") else ""
        return text[:_MAX_DETAIL]
    if isinstance(payload, dict):
        for field in _REASON_FIELDS:
            value = payload.get(field)
            if isinstance(value, str) and value.strip():
                return value.strip()[:_MAX_DETAIL]
    return ""


# --- the client ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Failure:
    """Why an attempt failed in a way worth retrying."""

    description: str
    status: int | None = None
    retry_after: float | None = None


class HttpClient:
    """A requests.Session with the project's timeouts, retries, rate limit and error messages.

    ``name`` labels log records and errors (the source's name). ``status_hints`` adds advice to
    errors of a given status (e.g. 401 -> which environment variables hold the credentials).
    ``sleep`` and ``rng`` are injectable so tests run the whole retry schedule instantly.
    """

    def __init__(
        self,
        config: HttpConfig,
        *,
        name: str,
        session: requests.Session | None = None,
        rate_limiter: RateLimiter | None = None,
        sleep: Sleep = time.sleep,
        rng: random.Random | None = None,
        status_hints: Mapping[int, str] | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.name = name
        self.timeout = (config.connect_timeout_seconds, config.read_timeout_seconds)
        self.max_retries = config.max_retries
        self.backoff_seconds = config.backoff_seconds
        self.session = session if session is not None else requests.Session()
        self.rate_limiter = rate_limiter
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._hints = dict(status_hints or {})
        self.redact = redactor if redactor is not None else Redactor()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Params = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        what: str = "",
    ) -> requests.Response:
        """Send one request with retries; the successful (2xx/3xx) response, or :class:`HttpError`.

        ``what`` names the thing being fetched (report, dataset) for error messages and logs.
        ``headers`` and ``data`` (where credentials travel) are sent but never described.
        """
        target = self.redact(f"{method} {full_url(url, params)}")
        label = f"{self.name}: {what + ': ' if what else ''}{target}"
        attempts = self.max_retries + 1
        failure = _Failure("no attempt made")
        for attempt in range(attempts):
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            outcome = self._attempt(method, url, label, target, params=params, headers=headers, data=data,
                                    json=json_body)
            if isinstance(outcome, requests.Response):
                return outcome
            failure = outcome
            if attempt + 1 < attempts:
                delay = self._backoff(attempt, failure.retry_after)
                log.warning("%s: %s; retry %d of %d in %.2f s", label, failure.description, attempt + 1,
                            self.max_retries, delay)
                self._sleep(delay)
        raise HttpError(
            f"{label} failed after {attempts} attempt(s) ({self.max_retries} retries); last: {failure.description}",
            method=method,
            url=target,
            status=failure.status,
        )

    def _attempt(self, method: str, url: str, label: str, target: str, **kwargs: Any) -> requests.Response | _Failure:
        """One exchange: the response if it succeeded, a retryable failure, or an error raised at once."""
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            # Timeouts and dropped connections are usually transient: retry them.
            return _Failure(self._describe_exception(exc))
        except requests.RequestException as exc:  # invalid URL, too many redirects ...: retrying cannot help
            raise HttpError(f"{label} failed: {self._describe_exception(exc)}", method=method, url=target,
                            status=None) from None
        if response.status_code < 400:
            return response
        if response.status_code not in RETRYABLE_STATUSES:
            raise self._client_error(response, label, method, target)
        return _Failure(self._describe_status(response), response.status_code, _retry_after_seconds(response))

    def get_json(self, url: str, *, params: Params = None, headers: Mapping[str, str] | None = None,
                 required: Sequence[str] = (), what: str = "") -> Any:
        """GET a JSON document and check it holds the ``required`` (dotted) keys."""
        response = self.request("GET", url, params=params, headers=headers, what=what)
        return parse_json(response, required=required, what=what, redact=self.redact)

    def get_bytes(self, url: str, *, params: Params = None, headers: Mapping[str, str] | None = None,
                  what: str = "") -> bytes:
        """GET a binary payload (e.g. a zip)."""
        return self.request("GET", url, params=params, headers=headers, what=what).content

    # -- helpers ----------------------------------------------------------------------------------

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Full jitter: a uniform wait up to the exponential ceiling (bounded), at least Retry-After."""
        ceiling = min(MAX_BACKOFF_SECONDS, self.backoff_seconds * (2**attempt))
        delay = self._rng.uniform(0.0, ceiling)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_BACKOFF_SECONDS))
        return delay

    def _describe_status(self, response: requests.Response) -> str:
        detail = _error_detail(response)
        text = f"HTTP {response.status_code} {response.reason or ''}".rstrip()
        return self.redact(f"{text}: {detail}" if detail else text)

    def _describe_exception(self, exc: BaseException) -> str:
        # requests' messages hold the URL and the low-level cause, never headers or bodies.
        return self.redact(f"{type(exc).__name__}: {exc}")[:_MAX_DETAIL * 2]

    def _client_error(self, response: requests.Response, label: str, method: str, target: str) -> HttpError:
        status = response.status_code
        message = f"{label} failed: {self._describe_status(response)}"
        hint = self._hints.get(status)
        if status == 401:
            message = f"{label}: unauthorized: {hint or 'check the credentials'} ({self._describe_status(response)})"
            return Unauthorized(message, method=method, url=target, status=status)
        if hint:
            message = f"{message} ({hint})"
        return HttpError(message, method=method, url=target, status=status)


def _retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP-date: rare; the exponential backoff applies instead


# --- payload checks --------------------------------------------------------------------------------


def describe_response(response: requests.Response) -> str:
    """'GET https://host/path?query' of the request that produced ``response``."""
    method = response.request.method if response.request is not None else "GET"
    return f"{method} {response.url}"


def has_path(payload: Any, dotted: str) -> bool:
    """Whether ``payload`` holds the nested key ``dotted`` (e.g. ``_meta.totalPages``)."""
    node = payload
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def parse_json(response: requests.Response, *, required: Sequence[str] = (), what: str = "",
               redact: Callable[[str], str] = lambda text: text) -> Any:
    """The JSON body of ``response``; :class:`SourceError` when malformed or lacking ``required`` keys."""
    where = redact(f"{what + ': ' if what else ''}{describe_response(response)}")
    try:
        payload = response.json()
    except ValueError as exc:  # requests.JSONDecodeError is a ValueError
        raise SourceError(f"{where} returned malformed JSON ({len(response.content)} bytes): {exc}") from None
    missing = [key for key in required if not has_path(payload, key)]
    if missing:
        found = sorted(payload) if isinstance(payload, dict) else type(payload).__name__
        raise SourceError(f"{where} returned JSON without the documented key(s) {missing}; found {found}")
    return payload


def open_zip(content: bytes, *, where: str) -> zipfile.ZipFile:
    """``content`` as a zip archive; a truncated or non-zip payload is a :class:`SourceError`."""
    try:
        return zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        raise SourceError(f"{where}: not a complete zip archive ({len(content)} bytes; truncated?): {exc}") from None


def read_member(archive: zipfile.ZipFile, member: str, *, where: str) -> bytes:
    """The bytes of one zip member; a corrupt member (bad CRC, broken deflate) is a :class:`SourceError`."""
    try:
        return archive.read(member)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise SourceError(f"{where}: zip member {member!r} is corrupt: {exc}") from None


def single_csv(content: bytes, *, where: str) -> tuple[str, pd.DataFrame]:
    """The one CSV inside an ERCOT zip, as (member name, frame of its text columns)."""
    archive = open_zip(content, where=where)
    members = [name for name in archive.namelist() if name.lower().endswith(".csv")]
    if len(members) != 1:
        raise SourceError(f"{where}: expected one CSV in the zip, found {archive.namelist()}")
    return members[0], read_csv_bytes(read_member(archive, members[0], where=where), where=f"{where} {members[0]}")


def read_csv_bytes(data: bytes, *, where: str) -> pd.DataFrame:
    """A CSV payload as a frame; ERCOT pads some fields with spaces (e.g. DAM prices), so skip them."""
    try:
        return pd.read_csv(io.BytesIO(data), skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise SourceError(f"{where}: unreadable CSV: {exc}") from None

