"""Test doubles and fixtures for the operations tests: a pipeline root built once, a market source
that is down, luigi run in-process, a local SMTP server.

Imported by the ``test_ops_*`` modules (``from tests.ops_support import *``).
"""

from __future__ import annotations

import base64
import datetime as dt
import shutil
import socketserver
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import luigi
import luigi.retcodes
import pandas as pd
import pytest

from pipeline.ops import base as ops_base
from pipeline.ops import runner as ops_runner
from pipeline.clock import fixed
from pipeline.config import load_config
from pipeline.ercot_time import CPT
from pipeline.sources import Source, SourceError
from pipeline.tasks.inference import DailyInference
from targets import Layout
from tests.conftest import REPO, SMALL_CONFIG, reset_caches

__all__ = [
    "BASE_DAY", "DownSource", "InProcessLuigi", "LocalSmtp", "OPS_CONFIG", "at_cpt", "base_root", "forecast_of",
    "ops_config", "ops_root", "operations", "smtp_server",
]

# The pipeline root every scenario starts from: the forecast of BASE_DAY (a cadence date) exists,
# with its gated model and that of the cadence date before. The scenarios then run the next days.
# (Summer: enough spikes in the small config's windows for the models to have skill.)
BASE_DAY = dt.date(2024, 7, 17)

# The small pipeline with even smaller boosters (a model takes about a second to train). Models
# may serve for 14 days, so the model serving BASE_DAY still serves the days after it even when
# the candidates of the cadence dates just before it were rejected.
PIPELINE_CONFIG = SMALL_CONFIG.replace("max_iter: 30", "max_iter: 8").replace("max_age_days: 6", "max_age_days: 14")

# Fast operations on top of it: no waiting between retries, one retry per job, catch-up limited
# to today, a local luigi scheduler.
OPS_CONFIG = PIPELINE_CONFIG + """
operations:
  catch_up_days: 0
  luigi_scheduler: local
  stop_grace_seconds: 5
error_recovery:
  data_fetching: {retry_delay_seconds: 0, max_retries: 0}
  inference: {retry_delay_seconds: 0, max_retries: 0}
  model_retraining: {retry_delay_seconds: 0, max_retries: 0}
  backtesting: {retry_delay_seconds: 0, max_retries: 0}
scheduler:
  data_fetching: {retry_count: 1}
  inference: {retry_count: 1}
  model_retraining: {retry_count: 0}
  backtesting: {retry_count: 0}
"""


def at_cpt(day: dt.date, hhmm: str) -> dt.datetime:
    hour, minute = map(int, hhmm.split(":"))
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=CPT)


_BUILT: dict[str, Path] = {}


@pytest.fixture(scope="session")
def base_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root holding the forecast of BASE_DAY (built once per session; copy it before changing it).

    (Each test module imports this fixture, which makes one fixture per module: the cache makes
    it one build per session.)
    """
    if "root" not in _BUILT:
        _BUILT["root"] = _build_base(tmp_path_factory)
    return _BUILT["root"]


def _build_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("ops-base")
    root = base / "data"
    override = base / "small.yaml"
    override.write_text(PIPELINE_CONFIG)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RTLMP_CONFIG", str(override))
        patch.setenv("RTLMP_DATA_ROOT", str(root))
        patch.setenv("LUIGI_CONFIG_PATH", str(REPO / "luigi.cfg"))
        reset_caches()
        result = luigi.build([DailyInference(date=BASE_DAY)], local_scheduler=True, detailed_summary=True)
        assert result.status.name == "SUCCESS", result.summary_text
    reset_caches()
    return root


@pytest.fixture
def ops_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write OPS_CONFIG plus ``extra`` YAML (logs under tmp_path) and load it."""

    def _write(extra: str = ""):
        path = tmp_path / "ops.yaml"
        path.write_text(OPS_CONFIG + f"logging:\n  dir: {tmp_path / 'logs'}\n" + extra)
        monkeypatch.setenv("RTLMP_CONFIG", str(path))
        reset_caches()
        return load_config()

    return _write


@pytest.fixture
def ops_root(base_root: Path, tmp_path: Path, use_root) -> Path:
    """A private copy of the base pipeline root, in use as the data root."""
    root = tmp_path / "data"
    shutil.copytree(base_root, root)
    use_root(root)
    return root


class DownSource(Source):
    """The configured market source, except that every fetch fails (the provider is down)."""

    def __init__(self, inner: Source) -> None:
        self.inner = inner
        self.name = inner.name
        self.simulated = inner.simulated
        self.storage_suffix = inner.storage_suffix
        self.calls = 0

    @property
    def datasets(self) -> tuple[str, ...]:
        return self.inner.datasets

    @property
    def storage_key(self) -> str:  # type: ignore[override]
        return self.inner.storage_key

    @property
    def verifiable(self) -> bool:  # type: ignore[override]
        return self.inner.verifiable

    def fingerprint(self, dataset: str, day: dt.date) -> str:
        return self.inner.fingerprint(dataset, day)

    def covers(self, dataset: str, day: dt.date) -> bool:
        return self.inner.covers(dataset, day)

    def fetch(self, dataset: str, day: dt.date) -> pd.DataFrame:
        self.calls += 1
        raise SourceError(f"{dataset} for {day}: market data service unavailable (HTTP 503)")

    def fetch_many(self, dataset: str, days: Iterable[dt.date]) -> dict[dt.date, pd.DataFrame]:
        return {day: self.fetch(dataset, day) for day in days}


@dataclass
class InProcessLuigi:
    """A :class:`pipeline.ops_runner.Runner` running the luigi command line in this process.

    Exactly what the ``luigi`` binary does (``luigi.retcodes.run_with_retcodes``, the same exit
    codes), but monkeypatched sources and functions apply. Records the commands it ran.
    """

    commands: list[list[str]] = field(default_factory=list)

    def __call__(self, command: Sequence[str], timeout_s: float, stop: threading.Event,
                 keep_open: Sequence[int] = ()) -> ops_runner.RunOutcome:
        self.commands.append(list(command))
        reset_caches()
        try:
            luigi.retcodes.run_with_retcodes([*command[1:], "--no-lock"])
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        else:  # run_with_retcodes always exits
            code = 0
        return ops_runner.RunOutcome(code, f"in-process luigi exit code {code}")


def operations(config, clock_at: dt.datetime, runner: ops_runner.Runner | None = None, **kwargs) -> ops_base.Operations:
    return ops_base.Operations(config=config, runner=runner or InProcessLuigi(), clock=fixed(clock_at), **kwargs)


def forecast_of(day: dt.date) -> pd.DataFrame:
    reset_caches()
    return Layout(load_config().data_root).forecast(day).read()


# --- a local SMTP server ---------------------------------------------------------------------------


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    data: str
    login: tuple[str, str] | None


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    server: _SmtpServer

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        self._reply("220 localhost test SMTP")
        sender, recipients, login = "", [], None
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode().rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self._reply("250-localhost")
                self._reply("250 AUTH PLAIN")
            elif verb == "HELO":
                self._reply("250 localhost")
            elif verb == "AUTH":
                _, user, password = base64.b64decode(line.split()[2]).decode().split("\0")
                login = (user, password)
                self._reply("235 2.7.0 Authentication successful")
            elif verb == "MAIL":
                sender = line.split(":", 1)[1].strip().split()[0].strip("<>")
                self._reply("250 OK")
            elif verb == "RCPT":
                recipients.append(line.split(":", 1)[1].strip().strip("<>"))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (chunk := self.rfile.readline().decode()) not in (".\r\n", ""):
                    lines.append(chunk[1:] if chunk.startswith("..") else chunk)
                self.server.mails.append(Mail(sender, recipients, "".join(lines), login))
                sender, recipients = "", []
                self._reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self._reply("250 OK")
            elif verb == "QUIT":
                self._reply("221 Bye")
                return
            else:
                self._reply("502 Command not implemented")


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    mails: list[Mail]


class LocalSmtp:
    """An SMTP server on 127.0.0.1 (free port) keeping every message it receives."""

    def __init__(self) -> None:
        self._server = _SmtpServer(("127.0.0.1", 0), _SmtpHandler)
        self._server.mails = []
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def mails(self) -> list[Mail]:
        return self._server.mails

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def smtp_server() -> Iterator[LocalSmtp]:
    server = LocalSmtp()
    yield server
    server.close()
