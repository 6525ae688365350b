"""The lock that keeps runs of one job from overlapping: a file lock, or a lease in the object store.

A local data root is guarded by ``flock`` on ``ops/locks/<job>.lock``; an ``s3://`` data root,
shared by machines, by a lock object with a lease (:class:`targets.lease.LeaseLock`).

:meth:`Lock.current_holder` says who holds a lock now and whether that holder still lives, so a record
"already running" left by a run that found the lock held counts only as long as the run it
deferred to can still finish (:func:`pipeline.scheduler.last_starts`). A file lock's holder is
alive while the kernel still lists the lock (Linux ``/proc/locks``: the luigi run it started
inherits the lock, and keeps it when the job's process alone is killed) or while its process --
pid *and* start time, so a reused pid does not count -- runs; a lease's while it has not expired.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol

from targets import Layout
from targets.lease import Holder, LeaseLock
from targets.store import store_for

__all__ = ["Holder", "JobLock", "Lock", "job_lock", "process_alive", "process_start"]

PROC = Path("/proc")


class Lock(Protocol):
    path: str | Path

    def acquire(self) -> bool: ...
    def keep_open(self) -> tuple[int, ...]: ...
    def release(self) -> None: ...
    def current_holder(self) -> Holder | None: ...


def job_lock(layout: Layout, job: str, clock: Callable[[], dt.datetime]) -> Lock:
    """The lock guarding ``job``'s runs on this data root."""
    path = layout.job_lock(job)
    if layout.remote:
        return LeaseLock(path, store_for(path), clock)
    return JobLock(Path(path))


class JobLock:
    """An exclusive, non-blocking lock on a file: ``flock(2)`` (``msvcrt`` on Windows).

    The operating system releases it when the holder dies, even by SIGKILL, so a crash never
    leaves a stale lock behind. While held, the file names the holder (pid, process start time,
    host) as one JSON line; a release empties it.
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
        pid = os.getpid()
        handle.write(json.dumps({"pid": pid, "started": process_start(pid), "host": socket.gethostname()}) + "\n")
        handle.flush()
        self._handle = handle
        return True

    def current_holder(self) -> Holder | None:
        """Who the file names as holding the lock, and whether it still does (None: nobody named)."""
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        if not text:
            return None
        try:
            named = json.loads(text)
            pid, started, host = int(named["pid"]), named.get("started"), str(named.get("host", ""))
        except (ValueError, KeyError, TypeError):  # an older lock file held only the pid
            pid, started, host = int(text) if text.isdigit() else 0, None, ""
        held = _listed_by_kernel(self.path)
        here = not host or host == socket.gethostname()
        alive = bool(held) or (process_alive(pid, started) if here else held is None)
        where = f" on {host}" if host and not here else ""
        return Holder(f"pid {pid}{where}" + ("" if alive else ", no longer running"), alive)

    def fileno(self) -> int:
        assert self._handle is not None, "the lock is not held"
        return self._handle.fileno()

    def keep_open(self) -> tuple[int, ...]:
        """The lock file's descriptor: a child that inherits it keeps the lock held if this process dies."""
        return (self.fileno(),)

    def release(self) -> None:
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()
            self._handle.flush()
            _unlock_file(self._handle)
            self._handle.close()
            self._handle = None


def process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, Linux ``/proc``): tells a reused pid from its first owner."""
    fields = _stat_fields(pid)
    return fields[19] if fields else None


def process_alive(pid: int, started: str | None) -> bool:
    """Whether process ``pid`` runs and, when ``started`` is known, is the process that started then."""
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT there: cannot tell, so it counts
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by another user
        pass
    fields = _stat_fields(pid)
    if fields is None:  # no /proc (macOS, Windows): the pid alone
        return True
    return fields[0] != "Z" and (started is None or fields[19] == started)


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or None."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _listed_by_kernel(path: Path) -> bool | None:
    """Whether a ``flock`` on ``path`` is held by any process (Linux ``/proc/locks``); None: cannot tell."""
    try:
        info = path.stat()
        table = (PROC / "locks").read_text()
    except OSError:
        return None
    device = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    return any(line.split()[1] == "FLOCK" and device in line.split() for line in table.splitlines() if line.strip())


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

