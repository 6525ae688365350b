"""Log files of the scheduled operation: ``logs/scheduler.log`` and ``logs/error.log``, rotated.

:func:`setup` is called once by each command-line entry point that runs jobs (``python -m
pipeline.scheduler``, ``python -m pipeline.jobs``, ``python -m pipeline.deadline``):

* ``<logging.dir>/scheduler.log`` -- everything at ``logging.level`` and above: job starts and ends,
  retries, fallbacks, alerts, and every line of the luigi runs they start;
* ``<logging.dir>/error.log`` -- errors only (failed runs with luigi's tracebacks, failed alert
  deliveries), for the troubleshooting section of the operations guide;
* the console (stderr), so cron mail and ``journalctl`` show the same lines.

Both files rotate at ``logging.max_bytes`` keeping ``logging.backup_count`` old files.

The ``luigi`` command's own logging is set up by luigi; the jobs pass it
:data:`LUIGI_LOGGING_CONF` (``--logging-conf-file``) so the pipeline's INFO lines appear beside
luigi's, in one readable format, and end up in ``scheduler.log``.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from pipeline.config import LoggingConfig

SCHEDULER_LOG = "scheduler.log"
ERROR_LOG = "error.log"
LUIGI_LOGGING_CONF = Path(__file__).resolve().parents[1] / "config" / "luigi_logging.conf"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Marks the handlers installed here, so a second setup (tests, a reloaded config) replaces them.
_OWNED = "_rtlmp_handler"


def setup(config: LoggingConfig, console: bool = True) -> Path:
    """Route the root logger to the rotated log files (and stderr); returns the log folder."""
    folder = Path(config.dir)
    folder.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    shutdown()
    formatter = logging.Formatter(FORMAT)
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
