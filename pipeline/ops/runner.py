"""Running one luigi command as a child process, with a timeout and a graceful stop.

The production :class:`Runner` is :class:`LuigiProcess`; tests pass their own. The child's output
goes line by line into this process's log, and its execution summary is kept for the run record.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from pipeline import logs
from pipeline.config import Config
from pipeline.ops import luigi_settings

log = logging.getLogger("pipeline.jobs")

JOB_TIMEOUT = 124  # like coreutils' timeout(1)
JOB_STOPPED = 128 + signal.SIGTERM  # 143
# Process groups get this long to exit after SIGTERM before they are killed.
KILL_AFTER_SECONDS = 10.0


def default_luigi() -> str:
    """The ``luigi`` command of the running interpreter's environment (the project's .venv)."""
    name = "luigi.exe" if os.name == "nt" else "luigi"
    return str(Path(sys.executable).with_name(name))


@dataclass(frozen=True)
class RunOutcome:
    retcode: int
    summary: str = ""  # luigi's execution summary, or why the command did not finish
    timed_out: bool = False
    stopped: bool = False


class Runner(Protocol):
    """Runs one luigi command line (binary first) within ``timeout_s``, giving up early when ``stop`` is set.

    ``keep_open``: file descriptors the run inherits -- the job's lock, so that it stays held as
    long as any process of the run lives.
    """

    def __call__(self, command: Sequence[str], timeout_s: float, stop: threading.Event,
                 keep_open: Sequence[int] = ()) -> RunOutcome: ...


_LINE = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S+): ?(.*)$")
_SUMMARY = "===== Luigi Execution Summary ====="


class _Output:
    """Copies a luigi child's output into this process's log and keeps its execution summary."""

    def __init__(self, stream: IO[str]) -> None:
        self.summary: list[str] = []
        self.tail: list[str] = []
        self._in_summary = False
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        level, name = logging.INFO, "luigi"
        for raw in stream:
            line = raw.rstrip("\n")
            match = _LINE.match(line)
            if match:
                level, name, line = logging.getLevelName(match[1]), match[2], match[3]
            logging.getLogger(f"luigi-run.{name}").log(level, "%s", line)
            self._keep(line)

    def _keep(self, line: str) -> None:
        if _SUMMARY in line:
            self._in_summary = not self._in_summary
            self.summary.append(line)
            return
        if self._in_summary:
            self.summary.append(line)
        self.tail = (self.tail + [line])[-40:]

    def join(self) -> str:
        self._thread.join(timeout=30)
        return "\n".join(self.summary) if self.summary else "\n".join(self.tail[-15:])


class LuigiProcess:
    """The production :class:`Runner`: the luigi command as a child process.

    Its output goes line by line into the log (``logs/scheduler.log``; errors and tracebacks into
    ``logs/error.log``). On timeout it gets SIGTERM, then SIGKILL; on a stop request, luigi first
    gets SIGUSR1 (finish the running tasks, start no new ones) and ``grace_seconds``. The child
    stays in the job's process group, so killing the group (a crash, ``kill -9 -<pgid>``) ends the
    whole run; it inherits the job's lock, so killing the job's process alone cannot let a second
    run overlap with the orphaned luigi run.
    """

    def __init__(self, logging_conf: Path | None = logs.LUIGI_LOGGING_CONF, grace_seconds: float = 60.0) -> None:
        self.logging_conf = logging_conf
        self.grace_seconds = grace_seconds

    def __call__(self, command: Sequence[str], timeout_s: float, stop: threading.Event,
                 keep_open: Sequence[int] = ()) -> RunOutcome:
        argv = list(command)
        if self.logging_conf is not None:
            argv += ["--logging-conf-file", str(self.logging_conf)]
        log.info("$ %s", shlex.join(argv))
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                                   pass_fds=tuple(keep_open) if os.name != "nt" else ())
        assert process.stdout is not None
        output = _Output(process.stdout)
        deadline = time.monotonic() + timeout_s
        timed_out = stopped = False
        while process.poll() is None:
            if stop.is_set():
                stopped = True
                self._stop(process, graceful=True)
            elif time.monotonic() > deadline:
                timed_out = True
                log.error("luigi run exceeded its timeout of %.0f minutes; stopping it", timeout_s / 60)
                self._stop(process, graceful=False)
            else:
                try:
                    process.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    continue
        summary = output.join()
        if timed_out:
            return RunOutcome(JOB_TIMEOUT, f"timed out after {timeout_s / 60:.0f} minutes\n{summary}", timed_out=True)
        if stopped:
            return RunOutcome(JOB_STOPPED, f"stopped on request\n{summary}", stopped=True)
        return RunOutcome(process.returncode, summary)

    def _stop(self, process: subprocess.Popen[str], graceful: bool) -> None:
        if graceful and hasattr(signal, "SIGUSR1"):
            process.send_signal(signal.SIGUSR1)  # luigi's worker: finish running tasks, take no new ones
            try:
                process.wait(timeout=self.grace_seconds)
                return
            except subprocess.TimeoutExpired:
                log.warning("luigi run still busy after %.0f s; terminating it", self.grace_seconds)
        process.terminate()
        try:
            process.wait(timeout=KILL_AFTER_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()



def central_scheduler_answers(timeout_s: float = 1.0) -> bool:
    """Whether luigid answers at ``[core] scheduler_host``/``scheduler_port`` of luigi.cfg."""
    host, port = luigi_settings.scheduler_address()
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def use_central_scheduler(config: Config) -> bool:
    mode = config.operations.luigi_scheduler
    if mode == "auto":
        central = central_scheduler_answers()
        log.info("luigi_scheduler auto: %s", "luigid answers; using it" if central else
                 "no luigid answering; using a local scheduler")
        return central
    return mode == "central"
