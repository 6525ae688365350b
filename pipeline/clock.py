"""The command-line layer's clock: the only place the wall clock is read.

Everything below takes dates and times as inputs. Command-line entry points (the ``luigi`` command's
default forecast date, ``python -m pipeline.scheduler``, the deadline monitor, ``make demo``) ask
this module for "now", and tests inject their own clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pipeline.ercot_time import CPT, UTC, operating_day

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(tz=UTC)


def today_cpt(clock: Clock = utc_now) -> dt.date:
    """Today's date in Central Prevailing Time (the operating day key)."""
    return operating_day(clock())


def fixed(at: dt.datetime) -> Clock:
    """A clock stopped at ``at`` (``--now`` on the operations commands, and tests)."""
    if at.tzinfo is None:
        raise ValueError("a fixed clock needs a timezone-aware time")
    return lambda: at


def parse_instant(text: str) -> dt.datetime:
    """An ISO time for ``--now``: with an offset (``2024-03-10T09:01-05:00``, ``...Z``), or CPT wall-clock time."""
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=CPT)
    return value
