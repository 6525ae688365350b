"""The lock that keeps runs of one job from overlapping: a file lock, or a lease in the object store.

A local data root is guarded by ``flock`` on ``ops/locks/<job>.lock``; an ``s3://`` data root,
shared by machines, by a lock object with a lease (:class:`targets.lease.LeaseLock`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol

from targets import Layout
from targets.lease import LeaseLock
from targets.store import store_for


class Lock(Protocol):
    path: str | Path

    def acquire(self) -> bool: ...
    def keep_open(self) -> tuple[int, ...]: ...
    def release(self) -> None: ...


def job_lock(layout: Layout, job: str, clock: Callable[[], dt.datetime]) -> Lock:
    """The lock guarding ``job``'s runs on this data root."""
    path = layout.job_lock(job)
    if layout.remote:
        return LeaseLock(path, store_for(path), clock)
    return JobLock(Path(path))


class JobLock:
    """An exclusive, non-blocking lock on a file: ``flock(2)`` (``msvcrt`` on Windows).

    The operating system releases it when the holder dies, even by SIGKILL, so a crash never
    leaves a stale lock behind. The file holds the holder's pid for people looking at it.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._handle: IO[str] | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        try:
            _lock_file(handle)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return True

    def fileno(self) -> int:
        assert self._handle is not None, "the lock is not held"
        return self._handle.fileno()

    def keep_open(self) -> tuple[int, ...]:
        """The lock file's descriptor: a child that inherits it keeps the lock held if this process dies."""
        return (self.fileno(),)

    def release(self) -> None:
        if self._handle is not None:
            _unlock_file(self._handle)
            self._handle.close()
            self._handle = None


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock_file(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock_file(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_file(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock_file(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

