"""An S3-compatible object store as the data root: ``s3://BUCKET/PREFIX``.

The store gives the guarantees of :mod:`targets.store` with S3's own primitives:

* a PUT is atomic (an object is complete or absent), so no temporary objects are needed;
* **write once** is a conditional PUT (``If-None-Match: *``): the store refuses it with HTTP 412
  when the key exists, so of two racing writers exactly one wins;
* **append** (the run and alert logs) is a read followed by a PUT conditional on the version read
  (``If-Match: <ETag>``), retried when another writer got in between;
* **set aside** copies the object to ``<key>.<reason>-<token>`` and deletes the original.

The endpoint and the key pair come only from ``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY`` (``AWS_DEFAULT_REGION``, default us-east-1, for the signature); nothing
else in the environment or in ``~/.aws`` is read. The client is boto3 (the ``scale`` extra), made
once per process (luigi's worker processes each make their own). Every failure to reach the store
is a :class:`~targets.store.StoreError` naming the endpoint.

**Outages.** When the endpoint stops answering (refused, reset or timed out after the client's
retries), the call raises :class:`~targets.errors.StoreUnavailable`, and for the next
:data:`OUTAGE_SECONDS` every call fails at once with the same line instead of retrying again: a
run with hundreds of targets learns it in seconds, and a luigi run stops taking new tasks
(:mod:`targets.outage`). Meanwhile ``exists`` answers, for a path it was asked about before, what
the store said then -- objects are written once, so a "yes" cannot have become wrong -- which lets
luigi finish its bookkeeping and print its summary; reads and writes fail, so nothing is built on
that answer, and no object is ever half written (a PUT is complete or absent).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from targets.errors import StoreError, StoreUnavailable
from targets.outage import stop_luigi_runs_on_outage

SCHEME = "s3://"
ENDPOINT_ENV = "AWS_ENDPOINT_URL"
KEY_ID_ENV = "AWS_ACCESS_KEY_ID"
SECRET_ENV = "AWS_SECRET_ACCESS_KEY"
REGION_ENV = "AWS_DEFAULT_REGION"
APPEND_ATTEMPTS = 20
READ_THREADS = 8  # parallel GETs when many small files are read at once
OUTAGE_SECONDS = 30.0  # after the store stopped answering, calls fail at once for this long
_CLIENTS: dict[tuple[int, Credentials], Any] = {}


def is_s3(path: str) -> bool:
    return path.startswith(SCHEME)


def split(path: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> (``bucket``, ``a/b``)."""
    bucket, _, key = path[len(SCHEME):].partition("/")
    return bucket, key


def check_url(url: str) -> str:
    """``url`` if it names a bucket as S3 allows (3-63 lowercase letters, digits, dots, hyphens); else ValueError."""
    bucket, key = split(url)
    if not (3 <= len(bucket) <= 63 and bucket.replace("-", "").replace(".", "").isalnum()
            and bucket == bucket.lower() and bucket[0].isalnum() and bucket[-1].isalnum()):
        raise ValueError(f"{url!r}: {bucket!r} is not a valid bucket name (3-63 lowercase letters, digits, '.', '-')")
    if "//" in key or key.endswith("/"):
        raise ValueError(f"{url!r}: write the prefix without empty parts or a trailing '/' (s3://BUCKET/PREFIX)")
    return url


@dataclass(frozen=True)
class Credentials:
    endpoint_url: str
    key_id: str
    secret: str = field(repr=False)
    region: str = "us-east-1"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        env = os.environ if environ is None else environ
        missing = [name for name in (ENDPOINT_ENV, KEY_ID_ENV, SECRET_ENV) if not env.get(name)]
        if missing:
            raise StoreError(f"an s3:// data root needs the environment variable(s) {', '.join(missing)}")
        endpoint = env[ENDPOINT_ENV].rstrip("/")
        if urlsplit(endpoint).scheme not in ("http", "https") or not urlsplit(endpoint).hostname:
            raise StoreError(f"{ENDPOINT_ENV}={endpoint!r} is not an http(s) URL")
        return cls(endpoint, env[KEY_ID_ENV], env[SECRET_ENV], env.get(REGION_ENV) or "us-east-1")


def _client(credentials: Credentials) -> Any:
    key = (os.getpid(), credentials)
    if key not in _CLIENTS:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise StoreError("an s3:// data root needs boto3: pip install -e '.[scale]'") from None
        host = urlsplit(credentials.endpoint_url).hostname or ""
        options: dict[str, Any] = {"s3": {"addressing_style": "path"}, "connect_timeout": 5, "read_timeout": 60,
                                   "retries": {"max_attempts": 5, "mode": "standard"},
                                   "max_pool_connections": READ_THREADS * 2}
        if host in ("127.0.0.1", "localhost", "::1"):
            options["proxies"] = {}  # a loopback store is never reached through the caller's proxy
        _CLIENTS[key] = boto3.session.Session().client(
            "s3", endpoint_url=credentials.endpoint_url, region_name=credentials.region,
            aws_access_key_id=credentials.key_id, aws_secret_access_key=credentials.secret,
            aws_session_token=None, config=Config(**options))
    return _CLIENTS[key]


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None) or {}
    return response.get("ResponseMetadata", {}).get("HTTPStatusCode")


class S3Store:
    """Objects in one S3-compatible endpoint (paths are ``s3://bucket/key``)."""

    def __init__(self, credentials: Credentials | None = None) -> None:
        self.credentials = credentials or Credentials.from_environment()
        self._outage: tuple[float, str] | None = None  # (since, in monotonic seconds; what failed)
        self._seen: dict[str, bool] = {}  # what exists() answered, for an outage (objects are written once)
        stop_luigi_runs_on_outage()

    @property
    def client(self) -> Any:
        return _client(self.credentials)

    def _call(self, path: str, operation: str, **kwargs: Any) -> Any:
        """One S3 call; a store that cannot be reached or refuses the key pair is a StoreError."""
        from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
        from botocore.exceptions import ConnectionError as EndpointDown

        if self._outage is not None:
            since, message = self._outage
            if time.monotonic() - since < OUTAGE_SECONDS:
                raise StoreUnavailable(message)
            self._outage = None
        bucket, key = split(path)
        try:
            return getattr(self.client, operation)(Bucket=bucket, **({"Key": key} if key else {}), **kwargs)
        except ClientError as exc:
            status = _status(exc)
            code = exc.response.get("Error", {}).get("Code", "")
            if status in (401, 403) or code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"):
                raise StoreError(f"object store {self.credentials.endpoint_url} refused {operation} on {path}: "
                                 f"{code or status} (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)") from None
            if code == "NoSuchBucket":
                raise StoreError(f"object store {self.credentials.endpoint_url} has no bucket {bucket!r} "
                                 f"(create it, e.g. objectstore.sh mb {bucket})") from None
            raise
        except (EndpointDown, HTTPClientError) as exc:
            message = (f"object store {self.credentials.endpoint_url} unreachable ({operation} {path}: "
                       f"{type(exc).__name__})")
            self._outage = (time.monotonic(), message)
            raise StoreUnavailable(message) from None
        except BotoCoreError as exc:
            raise StoreError(f"object store {self.credentials.endpoint_url} unreachable ({operation} {path}: "
                             f"{type(exc).__name__})") from None

    # --- the Store protocol -----------------------------------------------------------------------
    def exists(self, path: str) -> bool:
        """Whether ``path`` exists; during an outage, the answer given before for it (see the module docstring)."""
        try:
            found = self._head(path) is not None
        except StoreUnavailable:
            if path in self._seen:
                return self._seen[path]
            raise
        self._seen[path] = found
        return found

    def version(self, path: str) -> str | None:
        """None: objects are not versioned cheaply here, so nothing read from them is cached."""
        return None

    def _head(self, path: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return self._call(path, "head_object")
        except ClientError as exc:
            if _status(exc) == 404:
                return None
            raise

    def read_bytes(self, path: str) -> bytes:
        return self._get(path)[0]

    def _get(self, path: str, **kwargs: Any) -> tuple[bytes, str]:
        from botocore.exceptions import ClientError

        try:
            response = self._call(path, "get_object", **kwargs)
        except ClientError as exc:
            if _status(exc) == 404:
                raise FileNotFoundError(path) from None
            if _status(exc) == 416:  # a range past the end of an empty object
                return b"", ""
            raise
        return response["Body"].read(), response.get("ETag", "")

    def read_tail(self, path: str, size: int) -> bytes:
        return self._get(path, Range=f"bytes=-{size}")[0]

    def read_many(self, paths: Sequence[str]) -> list[bytes]:
        with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
            return list(pool.map(self.read_bytes, paths))

    def put_once(self, path: str, data: bytes) -> bool:
        return self._put_if(path, data, IfNoneMatch="*")

    def _put_if(self, path: str, data: bytes, **condition: str) -> bool:
        """PUT under ``condition``; False when the store refuses it because the condition does not hold."""
        from botocore.exceptions import ClientError

        try:
            self._call(path, "put_object", Body=data, **condition)
        except ClientError as exc:
            if _status(exc) in (409, 412):  # 409: a concurrent conditional write is in progress
                return False
            raise
        return True

    def put(self, path: str, data: bytes) -> None:
        self._call(path, "put_object", Body=data)

    def append(self, path: str, data: bytes) -> None:
        """Append by read and conditional PUT of the version read; retried while other writers get in first."""
        for attempt in range(APPEND_ATTEMPTS):
            try:
                current, etag = self._get(path)
            except FileNotFoundError:
                if self.put_once(path, data):
                    return
            else:
                if current and not current.endswith(b"\n"):
                    current += b"\n"
                if self._put_if(path, current + data, IfMatch=etag):
                    return
            time.sleep(min(0.05 * 2**attempt, 1.0) * (1 + secrets.randbelow(100) / 100))
        raise StoreError(f"{path}: could not append after {APPEND_ATTEMPTS} attempts (too many concurrent writers)")

    def set_aside(self, path: str, reason: str) -> str:
        aside = f"{path}.{reason}-{secrets.token_hex(4)}"
        bucket, key = split(path)
        self._call(aside, "copy_object", CopySource={"Bucket": bucket, "Key": key})
        self._call(path, "delete_object")
        return aside

    def delete(self, path: str, if_match: str | None = None) -> bool:
        """Delete ``path`` (only the version ``if_match`` when given); False when that version is gone."""
        from botocore.exceptions import ClientError

        try:
            self._call(path, "delete_object", **({"IfMatch": if_match} if if_match else {}))
        except ClientError as exc:
            if _status(exc) in (404, 412):
                return False
            raise
        return True

    def check_writable(self, root: str) -> None:
        """Prove the bucket exists and the key pair may write under ``root``."""
        probe = f"{root}/.write-probe-{secrets.token_hex(4)}"
        self.put(probe, b"")
        self.delete(probe)

    def describe(self, root: str) -> str:
        return f"{root} at {self.credentials.endpoint_url}"

    # --- for the lease lock and for measurements ----------------------------------------------------
    def read_with_version(self, path: str) -> tuple[bytes, str] | None:
        try:
            return self._get(path)
        except FileNotFoundError:
            return None

    def replace_if(self, path: str, data: bytes, etag: str) -> bool:
        return self._put_if(path, data, IfMatch=etag)

    def list(self, prefix: str) -> list[tuple[str, int]]:
        """(path, size) of every object under ``prefix``."""
        bucket, key = split(prefix)
        out = []
        token: dict[str, str] = {}
        while True:
            response = self._call(f"{SCHEME}{bucket}", "list_objects_v2", Prefix=key, **token)
            out += [(f"{SCHEME}{bucket}/{item['Key']}", int(item["Size"])) for item in response.get("Contents", [])]
            if not response.get("IsTruncated"):
                return out
            token = {"ContinuationToken": response["NextContinuationToken"]}
