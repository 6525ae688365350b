"""Checks before luigi schedules anything: one clear line for bad input, instead of a flood of tracebacks.

The ``luigi`` command imports this package (``--module pipeline``) while it parses its arguments,
before it builds or schedules a task. At that moment :func:`check_luigi_command` checks, once:

* the configuration (``config/pipeline.yaml``, ``RTLMP_CONFIG``, ``RTLMP_DATA_ROOT``): an unknown
  key or a bad value;
* every date argument (``--date``, ``--start``, ``--end``, ``--stop`` and their
  ``--<Task>-<name>`` forms): a real ``YYYY-MM-DD`` date, and no issue day more than
  :data:`MAX_DAYS_AHEAD` days after today in CPT (no data can exist for it);
* that ``data_root`` is a folder (or an object store prefix) this process can write;
* without ``--local-scheduler``, that luigid answers where the command will look for it.

A problem prints one line naming the key, value or path to stderr and exits with
:data:`INVALID_INPUT` (2), before luigi starts a worker. This is the command-line layer: it reads
the wall clock.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

from pipeline import clock
from pipeline.config import ConfigError, load_config
from pipeline.ops import luigi_settings
from targets.store import StoreError, store_for

INVALID_INPUT = 2
MAX_DAYS_AHEAD = 7
SCHEDULER_TIMEOUT_S = 5
DATE_OPTIONS = ("date", "start", "end", "stop")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class InvalidInput(ValueError):
    """An input the pipeline cannot run with; the message names it."""


def is_luigi_command(argv: Sequence[str]) -> bool:
    """Whether this process is the ``luigi`` command (its console script, or ``python -m luigi``)."""
    if not argv:
        return False
    program = os.path.basename(argv[0])
    return program in ("luigi", "luigi.exe") or argv[0].replace("\\", "/").endswith("luigi/__main__.py")


def date_arguments(args: Sequence[str]) -> list[tuple[str, str]]:
    """(option, value) of every date option in luigi's arguments."""
    found = []
    for index, arg in enumerate(args):
        if not arg.startswith("--"):
            continue
        name, _, value = arg[2:].partition("=")
        if name.rsplit("-", 1)[-1] not in DATE_OPTIONS:
            continue
        if not value and index + 1 < len(args):
            value = args[index + 1]
        found.append((f"--{name}", value))
    return found


def check_dates(args: Sequence[str], today: dt.date) -> None:
    latest = today + dt.timedelta(days=MAX_DAYS_AHEAD)
    for option, value in date_arguments(args):
        if not _DATE.match(value):
            raise InvalidInput(f"{option} {value!r} is not a date (YYYY-MM-DD)")
        try:
            day = dt.date.fromisoformat(value)
        except ValueError as exc:
            raise InvalidInput(f"{option} {value}: {exc}") from None
        # --stop is exclusive: its last issue day is the day before.
        issue_day = day - dt.timedelta(days=1) if option.endswith("stop") else day
        if issue_day > latest:
            raise InvalidInput(f"{option} {value} is more than {MAX_DAYS_AHEAD} days after today ({today} in CPT): "
                               "no data exists for it yet")


def option_value(args: Sequence[str], name: str) -> str | None:
    """The value of ``--name value`` or ``--name=value`` in luigi's arguments (None: not given)."""
    for index, arg in enumerate(args):
        if arg == f"--{name}" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    return None


def check_scheduler(args: Sequence[str]) -> None:
    """Without ``--local-scheduler``: luigid must answer where luigi will look (arguments, then luigi.cfg)."""
    if "--local-scheduler" in args:
        return
    url = option_value(args, "scheduler-url")
    if url:
        parts = urlsplit(url)
        host, port = parts.hostname or "localhost", parts.port or 8082
    else:
        default_host, default_port = luigi_settings.scheduler_address()
        host = option_value(args, "scheduler-host") or default_host
        port = int(option_value(args, "scheduler-port") or default_port)
    try:
        socket.create_connection((host, port), timeout=SCHEDULER_TIMEOUT_S).close()
    except OSError as exc:
        raise InvalidInput(f"luigid at {host}:{port} is unreachable ({exc.strerror or exc}): start it "
                           "(infrastructure/scripts/luigid.sh start) or add --local-scheduler") from None


def check(args: Sequence[str], today: dt.date) -> None:
    """Every check, in order; raises :class:`InvalidInput` naming the first problem."""
    try:
        config = load_config()
    except ConfigError as exc:
        raise InvalidInput(" ".join(line.strip() for line in str(exc).splitlines())) from None
    check_dates(args, today)
    root = str(config.data_root)
    try:
        store_for(root).check_writable(root)
    except StoreError as exc:
        raise InvalidInput(str(exc)) from None
    check_scheduler(args)


def check_luigi_command(argv: Sequence[str] | None = None) -> None:
    """Run :func:`check` when this process is the ``luigi`` command; on a problem print it and exit 2."""
    argv = list(sys.argv if argv is None else argv)
    if not is_luigi_command(argv) or "--help" in argv or "--help-all" in argv:
        return
    try:
        check(argv[1:], clock.today_cpt())
    except InvalidInput as exc:
        print(f"rtlmp: {exc}", file=sys.stderr)
        raise SystemExit(INVALID_INPUT) from None
