"""Log files of the scheduled operation: ``logs/scheduler.log`` and ``logs/error.log``, rotated.

:func:`setup` is called once by each command-line entry point that runs jobs (``python -m
pipeline.scheduler``, ``python -m pipeline.jobs``, ``python -m pipeline.deadline``):

* ``<logging.dir>/scheduler.log`` -- everything at ``logging.level`` and above: job starts and ends,
  retries, fallbacks, alerts, and every line of the luigi runs they start;
* ``<logging.dir>/error.log`` -- errors only (failed runs with luigi's tracebacks, failed alert
  deliveries), for the troubleshooting section of the operations guide;
* the console (stderr), so cron mail and ``journalctl`` show the same lines.

Both files rotate at ``logging.max_bytes`` keeping ``logging.backup_count`` old files.

No secret reaches a log at any level. Every handler carries a :class:`RedactSecrets` filter that
replaces the values of the secret environment variables the configuration names (the webhook URL
and its path, which is a Slack webhook's secret; the SMTP password; the ERCOT API password and
subscription key) and bearer tokens. The HTTP library's loggers are held at WARNING, so even at
``logging.level: DEBUG`` they do not log request lines.

Every timestamp carries its UTC offset (``2024-07-16 06:00:01.123-05:00``): the messages speak
of CPT days and hours, and a server may run in UTC, so a bare clock time would be ambiguous.

The ``luigi`` command's logging is :data:`LUIGI_LOGGING_CONF` (``luigi.cfg`` ``[core]
logging_conf_file``; the jobs pass it as ``--logging-conf-file``). It builds its handlers from the
classes here: :class:`TerminalHandler` shows the pipeline's own lines (what was fetched, built and
published, the progress line) and every warning on stderr, while :class:`TaskLogHandler` keeps
luigi's per-task chatter (hundreds of "Informed scheduler ..." lines on a cold run) in
``<logging.dir>/luigi.log`` instead of the terminal.
"""

from __future__ import annotations

import datetime as dt
import logging
import logging.handlers
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from pipeline.config import Config, LoggingConfig, load_config

SCHEDULER_LOG = "scheduler.log"
ERROR_LOG = "error.log"
LUIGI_LOG = "luigi.log"
LUIGI_LOGGING_CONF = Path(__file__).resolve().parents[1] / "config" / "luigi_logging.conf"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# What the luigi command prints on stderr; pipeline.ops.runner parses exactly this shape.
TERMINAL_FORMAT = "%(levelname)s %(name)s: %(message)s"
# luigi logs its end-of-run summary at INFO through its per-task logger; it stays on the terminal.
LUIGI_SUMMARY = "===== Luigi Execution Summary ====="

# Marks the handlers installed here, so a second setup (tests, a reloaded config) replaces them.
_OWNED = "_rtlmp_handler"
# Loggers of the HTTP stack that log request lines (with URL paths) at DEBUG.
HTTP_LOGGERS = ("urllib3", "requests", "http.client")
REDACTED = "[REDACTED]"
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
MIN_SECRET_LENGTH = 6  # shorter values would redact ordinary words


def secret_variables(config: Config) -> list[str]:
    """Names of the environment variables that hold secrets in this configuration."""
    api = config.sources.ercot_api
    return [config.alerts.webhook.url_env, config.alerts.email.password_env, api.password_env,
            api.subscription_key_env]


class RedactSecrets(logging.Filter):
    """Replaces secret values (read from the environment when a record is logged) in every record."""

    def __init__(self, variables: Sequence[str], environ: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.variables = tuple(variables)
        self.environ = os.environ if environ is None else environ

    def secrets(self) -> list[str]:
        values = []
        for name in self.variables:
            value = self.environ.get(name) or ""
            values.append(value)
            if "://" in value:  # a webhook's secret is its path: libraries log the path alone
                values.append(urlsplit(value).path)
        return sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets():
            text = text.replace(secret, REDACTED)
        return _BEARER.sub(lambda m: m.group(1) + REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def setup(config: LoggingConfig, console: bool = True, secrets: Sequence[str] = ()) -> Path:
    """Route the root logger to the rotated log files (and stderr); returns the log folder.

    ``secrets``: names of the environment variables whose values never appear in a log
    (:func:`secret_variables` of the configuration).
    """
    folder = Path(config.dir)
    folder.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    shutdown()
    for name in HTTP_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # The pipeline's loggers follow logging.level: a luigi logging configuration loaded earlier in this
    # process (luigi.cfg's logging_conf_file, applied by luigi.build) pins "pipeline" at INFO.
    logging.getLogger("pipeline").setLevel(logging.NOTSET)
    redacting = RedactSecrets(secrets)
    formatter = ZonedFormatter(FORMAT)
    handlers: list[logging.Handler] = [
        _rotating(folder / SCHEDULER_LOG, config, logging.getLevelName(config.level)),
        _rotating(folder / ERROR_LOG, config, logging.ERROR),
    ]
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setLevel(logging.getLevelName(config.level))
        handlers.append(stream)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(redacting)
        setattr(handler, _OWNED, True)
        root.addHandler(handler)
    root.setLevel(logging.getLevelName(config.level))
    return folder


def shutdown() -> None:
    """Remove (and close) the handlers installed by :func:`setup`."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _OWNED, False)]:
        root.removeHandler(handler)
        handler.close()


def _rotating(path: Path, config: LoggingConfig, level: int) -> logging.Handler:
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=config.max_bytes,
                                                   backupCount=config.backup_count, encoding="utf-8")
    handler.setLevel(level)
    return handler


class ZonedFormatter(logging.Formatter):
    """Timestamps with their UTC offset: ``2024-07-16 06:00:01.123-05:00`` (local time of the machine)."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        moment = dt.datetime.fromtimestamp(record.created).astimezone()
        if datefmt:
            return moment.strftime(datefmt)
        return moment.isoformat(sep=" ", timespec="milliseconds")


def _secret_filter() -> RedactSecrets:
    """The redaction filter for the luigi command's handlers (its configuration names the secrets)."""
    return RedactSecrets(secret_variables(load_config()))


class TerminalHandler(logging.StreamHandler):
    """stderr of the ``luigi`` command: the pipeline's lines, warnings and errors, and luigi's summary.

    luigi's per-task INFO chatter is left to :class:`TaskLogHandler`: on a cold run it is about a
    thousand lines that bury the few a person needs.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream if stream is not None else sys.stderr)
        self.setFormatter(logging.Formatter(TERMINAL_FORMAT))
        self.addFilter(_secret_filter())

    def filter(self, record: logging.LogRecord) -> bool:
        shown = (record.levelno >= logging.WARNING or record.name == "pipeline" or record.name.startswith("pipeline.")
                 or LUIGI_SUMMARY in str(record.msg))
        return shown and bool(super().filter(record))


class TaskLogHandler(logging.handlers.RotatingFileHandler):
    """``<logging.dir>/luigi.log``: everything the ``luigi`` command logs, luigi's per-task lines included.

    Rotated like ``scheduler.log`` (``logging.max_bytes``, ``logging.backup_count``).
    """

    def __init__(self) -> None:
        config = load_config().logging
        folder = Path(config.dir)
        folder.mkdir(parents=True, exist_ok=True)
        super().__init__(folder / LUIGI_LOG, maxBytes=config.max_bytes, backupCount=config.backup_count,
                         encoding="utf-8")
        self.setFormatter(ZonedFormatter(FORMAT))
        self.addFilter(_secret_filter())
