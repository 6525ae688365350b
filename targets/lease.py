"""A lock object with a lease, for a data root in an object store: runs on many machines never overlap.

A local ``flock`` guards only one machine. With an ``s3://`` data root the lock is an object,
``ops/locks/<job>.lock``, holding its holder and the time its lease ends:

* **acquire** creates it with a conditional PUT (``If-None-Match: *``): of two machines, one wins;
  a lock whose lease has ended (its holder died without releasing) is taken over with a PUT
  conditional on the version read (``If-Match``), so of two machines taking it over, one wins;
* **renew** extends the lease, conditional on the holder's own version; a holder that finds
  another version has lost the lock (it was away longer than the lease) and says so;
* **release** deletes the holder's own version only;
* **holder** reads who holds it and whether the lease is still fresh (a holder that died leaves
  the object behind until its lease ends: then it is stale).

Times come from the clock handed in (the command-line layer's); the lease must be long against the
clock skew between machines (NTP keeps it far below a second; the lease is minutes).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from targets.s3 import S3Store

log = logging.getLogger("targets.lease")

LEASE_SECONDS = 300.0
RENEW_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class Holder:
    """Who holds a lock now, as the lock itself says, and whether that holder can still be running."""

    description: str
    alive: bool


class LeaseLock:
    """An exclusive lock object under an object store, kept alive by a renewing thread while held."""

    def __init__(self, path: str, store: S3Store, clock: Callable[[], dt.datetime],
                 lease_seconds: float = LEASE_SECONDS, renew_every_seconds: float = RENEW_EVERY_SECONDS) -> None:
        self.path = path
        self.store = store
        self.clock = clock
        self.lease = dt.timedelta(seconds=lease_seconds)
        self.renew_every = renew_every_seconds
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._etag: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False

    def _body(self) -> bytes:
        now = self.clock()
        return json.dumps({"holder": self.holder, "acquired_or_renewed_at": now.isoformat(),
                           "expires_at": (now + self.lease).isoformat()}).encode()

    def acquire(self) -> bool:
        if not self.store.put_once(self.path, self._body()):
            current = self.store.read_with_version(self.path)
            if current is not None and not self._expired(current[0]):
                return False
            taken = (self.store.put_once(self.path, self._body()) if current is None
                     else self.store.replace_if(self.path, self._body(), current[1]))
            if not taken:
                return False
            if current is not None:
                log.warning("%s: took over a lock whose lease had ended (%s)", self.path, current[0].decode()[:200])
        mine = self.store.read_with_version(self.path)
        if mine is None or json.loads(mine[0]).get("holder") != self.holder:
            return False
        self._etag = mine[1]
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew_loop, name=f"lease {self.path}", daemon=True)
        self._thread.start()
        return True

    def current_holder(self) -> Holder | None:
        """The lock object's holder and whether its lease is fresh (None: no lock object)."""
        current = self.store.read_with_version(self.path)
        if current is None:
            return None
        try:
            named = json.loads(current[0])
            description = f"{named['holder']}, lease until {named['expires_at']}"
        except (ValueError, KeyError, TypeError):
            description = "an unreadable lock object"
        return Holder(description, alive=not self._expired(current[0]))

    def _expired(self, body: bytes) -> bool:
        try:
            expires = dt.datetime.fromisoformat(json.loads(body)["expires_at"])
        except (ValueError, KeyError, TypeError):
            return True  # not a lock this code wrote, or cut short: nobody holds it
        return expires <= self.clock()

    def renew(self) -> bool:
        """Extend the lease; False (and ``lost``) when another holder's version is there."""
        if self._etag is None:
            return False
        if not self.store.replace_if(self.path, self._body(), self._etag):
            self.lost = True
            log.error("%s: the lock was taken by another holder (this one was away longer than the lease)", self.path)
            return False
        current = self.store.read_with_version(self.path)
        if current is None or json.loads(current[0]).get("holder") != self.holder:
            self.lost = True
            return False
        self._etag = current[1]
        return True

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.renew_every):
            if not self.renew():
                return

    def keep_open(self) -> tuple[int, ...]:
        """File descriptors a child process must inherit to keep the lock: none (the lease is renewed here)."""
        return ()

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._etag is not None and not self.lost:
            self.store.delete(self.path, if_match=self._etag)
        self._etag = None
