"""What a luigi run does when its object store stops answering mid-run: stop, say why once, summarise.

Without this, every task still pending runs, fails on the store and logs its traceback (thousands
of lines), and luigi's execution summary itself crashes on the store. With it, the first task that
fails with :class:`~targets.errors.StoreUnavailable` makes the worker take no new task -- the
signal luigi's workers already obey for "finish the running tasks, start no new ones" (SIGUSR1) --
and logs one line naming the endpoint. The run then exits with luigi's ``task_failed`` code (30,
``[retcode]`` in luigi.cfg) after its summary, which :class:`targets.s3.S3Store` lets finish by
answering existence checks from what the run had already seen (objects are written once).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import Callable

import luigi

from targets.errors import StoreUnavailable

log = logging.getLogger("targets")

_REGISTERED: list[bool] = []


def stop_luigi_runs_on_outage() -> None:
    """Install (once per process) the luigi handler that stops a run at its first store outage."""
    if _REGISTERED or not hasattr(signal, "SIGUSR1"):
        return
    _REGISTERED.append(True)
    luigi.Task.event_handler(luigi.Event.FAILURE)(_on_failure)


def _on_failure(task: luigi.Task, exception: BaseException) -> None:
    if not isinstance(exception, StoreUnavailable):
        return
    worker = _worker_pid()
    if worker is None:
        return
    log.error("the run stops: %s; no new task starts, luigi's summary follows (exit code 30, task failed)", exception)
    os.kill(worker, signal.SIGUSR1)


def _worker_pid() -> int | None:
    """The luigi worker running this task: this process, or the parent of a task process (``--workers N``).

    None when no handler for SIGUSR1 is known to be installed (its default action ends the process).
    """
    if type(multiprocessing.current_process()).__name__ == "TaskProcess":
        return os.getppid()
    handler: Callable[..., object] | int | None = signal.getsignal(signal.SIGUSR1)
    return os.getpid() if callable(handler) else None
