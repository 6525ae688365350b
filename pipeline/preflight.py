"""Checks before luigi schedules anything: one clear line for bad input, instead of a flood of tracebacks.

The ``luigi`` command imports this package (``--module pipeline``) while it parses its arguments,
before it builds or schedules a task. At that moment :func:`check_luigi_command` checks, once:

* the configuration (``config/pipeline.yaml``, ``RTLMP_CONFIG``, ``RTLMP_DATA_ROOT``): an unknown
  key or a bad value;
* every date argument (``--date``, ``--start``, ``--end``, ``--stop`` and their
  ``--<Task>-<name>`` forms): a real ``YYYY-MM-DD`` date, and no issue day more than
  :data:`MAX_DAYS_AHEAD` days after today in CPT (no data can exist for it); an ``--end`` before
  its ``--start``, or a ``--stop`` not after it (``Backtest``, ``FetchRange``, ``FeatureRange``,
  ``RangeDaily``);
* ``RangeDaily``'s ``--now`` and ``--days-forward``: the range may not reach further than
  :data:`MAX_DAYS_AHEAD` days after today either (it runs up to the day of ``--now``);
* ``--dataset``: one of the datasets (listed in the message);
* ``--shard``: a shard the configuration has (0 only, when ``market.shard_size`` is null);
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
from pipeline.config import Config, ConfigError, load_config
from pipeline.ops import luigi_settings
from pipeline.sources import Sources, resolve_nodes
from targets.schemas import MARKET_DATASETS, WEATHER_DATASETS
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


def named_options(args: Sequence[str], names: Sequence[str]) -> list[tuple[str, str]]:
    """(option, value) of every ``--name`` and ``--<Task>-name`` in luigi's arguments, for ``name`` in ``names``."""
    found = []
    for index, arg in enumerate(args):
        if not arg.startswith("--"):
            continue
        name, equals, value = arg[2:].partition("=")
        if not any(name == wanted or name.endswith(f"-{wanted}") for wanted in names):
            continue
        if not equals and index + 1 < len(args):
            value = args[index + 1]
        found.append((f"--{name}", value))
    return found


def date_arguments(args: Sequence[str]) -> list[tuple[str, str]]:
    """(option, value) of every date option in luigi's arguments."""
    return named_options(args, DATE_OPTIONS)


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


def check_ranges(args: Sequence[str]) -> None:
    """An ``--end`` before its ``--start``, or a ``--stop`` (exclusive) not after it: an empty or reversed range."""
    dates = {option: dt.date.fromisoformat(value) for option, value in date_arguments(args)}  # checked before
    for option, day in dates.items():
        if not option.endswith("start"):
            continue
        prefix = option[:-len("start")]
        end, stop = dates.get(f"{prefix}end"), dates.get(f"{prefix}stop")
        if end is not None and end < day:
            raise InvalidInput(f"{prefix}end {end} is before {option} {day}: the range is empty")
        if stop is not None and stop <= day:
            raise InvalidInput(f"{prefix}stop {stop} is not after {option} {day} (--stop is exclusive): "
                               "the range is empty")


def check_range_reach(args: Sequence[str], today: dt.date) -> None:
    """A ``RangeDaily`` whose ``--now`` (plus ``--days-forward``) reaches past :data:`MAX_DAYS_AHEAD` days."""
    latest = today + dt.timedelta(days=MAX_DAYS_AHEAD)
    forward = 0
    for option, value in named_options(args, ("days-forward",)):
        if not value.lstrip("-").isdigit():
            raise InvalidInput(f"{option} {value!r} is not a whole number of days")
        forward = int(value)
    for option, value in named_options(args, ("now",)):
        if not value.lstrip("-").isdigit():
            raise InvalidInput(f"{option} {value!r} is not a time in seconds since the epoch")
        # RangeDaily runs every day before its moving stop, the UTC instant now + days_forward.
        stop = dt.datetime.fromtimestamp(int(value), tz=dt.timezone.utc) + dt.timedelta(days=forward)
        reach = (stop - dt.timedelta(microseconds=1)).date()
        if reach > latest and not _stopped_in_time(args, latest):
            raise InvalidInput(f"{option} {value} ({stop:%Y-%m-%d %H:%M} UTC) makes the range reach {reach}, more "
                               f"than {MAX_DAYS_AHEAD} days after today ({today} in CPT): no data exists for it yet")
        return
    if forward > MAX_DAYS_AHEAD and not _stopped_in_time(args, latest):
        raise InvalidInput(f"--days-forward {forward} reaches more than {MAX_DAYS_AHEAD} days after today "
                           f"({today} in CPT): no data exists for it yet")


def _stopped_in_time(args: Sequence[str], latest: dt.date) -> bool:
    """Whether a ``--stop`` ends the range by ``latest`` whatever ``--now`` says."""
    stops = [dt.date.fromisoformat(value) for option, value in date_arguments(args) if option.endswith("stop")]
    return any(stop - dt.timedelta(days=1) <= latest for stop in stops)


DATASETS = (*MARKET_DATASETS, *WEATHER_DATASETS)


def check_dataset(args: Sequence[str]) -> None:
    for option, value in named_options(args, ("dataset",)):
        if value not in DATASETS:
            raise InvalidInput(f"{option} {value!r} is not a dataset; choose one of {', '.join(DATASETS)}")


def check_shard(args: Sequence[str], config: Config) -> None:
    """``--shard K``: a shard of the configured nodes (``market.shard_size``), 0-based."""
    for option, value in named_options(args, ("shard",)):
        if not value.isdigit():
            raise InvalidInput(f"{option} {value!r} is not a shard number (0, 1, ...)")
        shard, size = int(value), config.market.shard_size
        if size is None:
            if shard != 0:
                raise InvalidInput(f"{option} {shard}: the configuration is not sharded (market.shard_size is "
                                   "null), so its only shard is 0")
            continue
        nodes = len(resolve_nodes(config, Sources.from_config(config).market))
        count = -(-nodes // size)
        if shard >= count:
            raise InvalidInput(f"{option} {shard} does not exist: {nodes} nodes in shards of {size} make "
                               f"{count} shard(s), 0..{count - 1}")


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
    check_ranges(args)
    check_range_reach(args, today)
    check_dataset(args)
    check_shard(args, config)
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
