"""Where the data root's files live, and how they are written: once, atomically, leaving no debris.

Every target writes through a :class:`Store`. The guarantees are the same whatever the store:

* **write once** (:meth:`Store.put_once`): the object appears complete or not at all, and an object
  that already exists is never replaced; of two writers racing for one path, one wins and the
  other is told so (``False``), with nothing of its attempt left behind;
* **replace** (:meth:`Store.put`): an atomic overwrite, for the few files that are rewritten (the
  status page) and for clearing invisible debris;
* **set aside** (:meth:`Store.set_aside`): a corrupt file is renamed out of the way, kept for
  inspection, so a rebuild can write the good one in its place.

:class:`LocalStore` does this with a temporary file in the same folder, ``fsync`` and a hard link
(``link(2)`` fails if the name exists, so creation is atomic and exclusive); the temporary file is
always removed (a cache replaced with ``put(..., sync=False)`` skips the ``fsync``). New files get
the permissions of the process umask. :class:`targets.s3.S3Store`
does it in an S3-compatible object store, for a data root ``s3://BUCKET/PREFIX``.

Paths are strings: a local path, or ``s3://bucket/key``; :func:`join` builds them for both.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO, Protocol

from targets.errors import StoreError

__all__ = ["LOCAL", "LocalStore", "Store", "StoreError", "is_remote", "join", "parent", "reset_remote", "shown", "store_for"]

TMP_MARK = ".tmp-"
# A temporary file older than this is debris whatever its pid says (a writer on another machine).
DEBRIS_AGE_S = 24 * 3600
_DEBRIS = re.compile(r"^\..+" + re.escape(TMP_MARK) + r"(?P<pid>\d+)-[0-9a-f]+$")
log = logging.getLogger("targets")


class Store(Protocol):
    def exists(self, path: str) -> bool: ...
    def version(self, path: str) -> str | None: ...
    def read_bytes(self, path: str) -> bytes: ...
    def read_tail(self, path: str, size: int) -> bytes: ...
    def read_many(self, paths: Sequence[str]) -> list[bytes]: ...
    def put_once(self, path: str, data: bytes) -> bool: ...
    def put(self, path: str, data: bytes) -> None: ...
    def append(self, path: str, data: bytes) -> None: ...
    def set_aside(self, path: str, reason: str) -> str: ...
    def check_writable(self, root: str) -> None: ...
    def describe(self, root: str) -> str: ...


class LocalStore:
    """Files on a local (or mounted) filesystem.

    A writer killed with SIGKILL cannot remove its temporary file: the first write of a process into
    a folder sweeps such debris (``.<name>.tmp-<pid>-<token>`` of a process that no longer runs, or
    older than :data:`DEBRIS_AGE_S` whatever its pid: another machine's, on a shared filesystem).
    """

    def __init__(self) -> None:
        self._swept: set[str] = set()

    def exists(self, path: str) -> bool:
        return os.path.isfile(path)

    def version(self, path: str) -> str | None:
        """The file's identity on disk (inode, size, modification time): it changes whenever the file does."""
        try:
            info = os.stat(path)
        except OSError:
            return None
        return f"{info.st_ino}:{info.st_size}:{info.st_mtime_ns}"

    def read_bytes(self, path: str) -> bytes:
        return Path(path).read_bytes()

    def read_tail(self, path: str, size: int) -> bytes:
        with open(path, "rb") as handle:
            end = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, end - size))
            return handle.read()

    def read_many(self, paths: Sequence[str]) -> list[bytes]:
        return [self.read_bytes(path) for path in paths]

    def _temporary(self, path: str, data: bytes | Callable[[BinaryIO], object], sync: bool = True) -> str:
        folder, name = os.path.split(path)
        os.makedirs(folder or ".", exist_ok=True)
        self._sweep(folder or ".")
        tmp = os.path.join(folder, f".{name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")
        # The kernel applies the process umask to the mode (never changed here: threads share it).
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                if isinstance(data, bytes):
                    handle.write(data)
                else:
                    data(handle)
                handle.flush()
                if sync:
                    os.fsync(handle.fileno())
        except BaseException:
            _remove(tmp)
            raise
        return tmp

    def put_once(self, path: str, data: bytes) -> bool:
        tmp = self._temporary(path, data)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV):
                raise
            # A filesystem without hard links: exclusive creation by rename is not atomic there,
            # so check first; the window between check and rename is the filesystem's limit.
            if os.path.exists(path):
                return False
            os.replace(tmp, path)
            return True
        finally:
            _remove(tmp)
        return True

    def put(self, path: str, data: bytes | Callable[[BinaryIO], object], sync: bool = True) -> None:
        """Replace ``path`` atomically with ``data``, or with what ``data(handle)`` writes (streamed, no copy
        in memory). ``sync=False`` skips the ``fsync``: for a cache, whose reader treats a file lost or cut
        short as absent."""
        tmp = self._temporary(path, data, sync)
        try:
            os.replace(tmp, path)
        finally:
            _remove(tmp)

    def append(self, path: str, data: bytes) -> None:
        """Append ``data`` with one write to a file opened for appending (records never interleave)."""
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "a+b") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size:
                handle.seek(size - 1)
                if handle.read(1) != b"\n":
                    data = b"\n" + data  # the previous writer died mid-line: start a fresh one
            handle.write(data)

    def set_aside(self, path: str, reason: str) -> str:
        aside = f"{path}.{reason}-{secrets.token_hex(4)}"
        os.replace(path, aside)
        return aside

    def _sweep(self, folder: str) -> None:
        """Remove the temporary files killed writers left in ``folder`` (once per folder and process)."""
        if folder in self._swept:
            return
        self._swept.add(folder)
        now = time.time()
        with os.scandir(folder) as entries:
            for entry in entries:
                match = _DEBRIS.match(entry.name)
                if match is None or int(match["pid"]) == os.getpid():
                    continue
                try:
                    age = now - entry.stat().st_mtime
                except FileNotFoundError:
                    continue
                if age > DEBRIS_AGE_S or not _alive(int(match["pid"])):
                    _remove(entry.path)
                    log.info("removed %s, left by a writer that was killed", entry.path)

    def check_writable(self, root: str) -> None:
        """Create ``root`` if needed and prove a file can be written in it."""
        if os.path.exists(root) and not os.path.isdir(root):
            raise StoreError(f"data_root {root} is not a folder")
        try:
            os.makedirs(root, exist_ok=True)
            probe = self._temporary(os.path.join(root, ".write-probe"), b"")
        except OSError as exc:
            raise StoreError(f"data_root {root} is not writable ({exc.strerror or exc})") from None
        _remove(probe)

    def describe(self, root: str) -> str:
        return os.path.abspath(root)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it runs, as another user
        return True
    return True


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


LOCAL = LocalStore()
_REMOTE: list[Store] = []


def is_remote(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is in an object store (``s3://...``) rather than on a filesystem."""
    return str(path).startswith("s3://")


def join(root: str | os.PathLike[str], *parts: str) -> str:
    """``root/part/...`` for a local folder or an ``s3://`` prefix alike."""
    if is_remote(root):
        return "/".join([str(root).rstrip("/"), *parts])
    return os.path.join(root, *parts)


def shown(path: str) -> str:
    """``path`` as people should read it: absolute (symlinks resolved) on a filesystem, as is in an object store."""
    return path if is_remote(path) else os.path.realpath(path)


def parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if is_remote(path) else os.path.dirname(path)


def store_for(path: str | os.PathLike[str]) -> Store:
    """The store holding ``path`` (the object store's client is made on first use, from the environment)."""
    if not is_remote(path):
        return LOCAL
    if not _REMOTE:
        from targets.s3 import S3Store

        _REMOTE.append(S3Store())
    return _REMOTE[0]


def reset_remote() -> None:
    """Forget the object store's client (after the environment that configures it changed)."""
    _REMOTE.clear()
