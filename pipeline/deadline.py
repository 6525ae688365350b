"""The DAM deadline monitor: today's forecast must be out by ``deadlines.dam_closure.time - buffer_minutes``.

At or after that alert time (09:00 CPT by default) with no forecast for today (issue day D):

* ``alert_on_risk`` -- a critical alert (log, email, webhook), once per day;
* ``fallback_on_miss`` -- the inference fallbacks are published right away (see
  :func:`pipeline.jobs.publish_fallback`), so a forecast is out before DAM closes, and that is
  alerted too.

Run by the built-in scheduler on every wake-up and by cron
(``infrastructure/scripts/deadline_monitor.sh``, every few minutes)::

    python -m pipeline.deadline [--now 2024-03-10T09:01] [--dry-run]

Exit code 0 when today's forecast exists (or the alert time has not come), 1 when it is missing
at or after the alert time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline import clock as clocks
from pipeline import ercot_time
from pipeline.config import ConfigError, DamClosure, load_config
from targets import Layout

if TYPE_CHECKING:  # a runtime import would be circular (pipeline.jobs uses this module's state)
    from pipeline.jobs import Operations

log = logging.getLogger("pipeline.deadline")


@dataclass(frozen=True)
class DeadlineState:
    day: dt.date  # issue day D (today in CPT)
    risk_at: dt.datetime  # UTC: DAM closure minus the buffer
    closes_at: dt.datetime  # UTC: DAM closure on D
    complete: bool
    status: str | None  # the forecast's status when it exists
    at_risk: bool  # missing at or after risk_at


def times(day: dt.date, dam: DamClosure) -> tuple[dt.datetime, dt.datetime]:
    """(alert time, closure) of issue day ``day`` in UTC; the buffer is absolute minutes, DST or not."""
    closes = ercot_time.local_time_on(day, dam.time).to_pydatetime()
    return closes - dt.timedelta(minutes=dam.buffer_minutes), closes


def state(now: dt.datetime, dam: DamClosure, layout: Layout) -> DeadlineState:
    day = now.astimezone(ercot_time.CPT).date()
    risk_at, closes_at = times(day, dam)
    forecast = layout.forecast(day)
    complete = forecast.exists()
    status = str(forecast.read()["status"].iloc[0]) if complete else None
    return DeadlineState(day, risk_at, closes_at, complete, status, at_risk=not complete and now >= risk_at)


def _local(at: dt.datetime) -> str:
    local = at.astimezone(ercot_time.CPT)
    return f"{local:%H:%M} {local.tzname()}"


def check(ops: Operations, luigi_binary: str | None = None) -> DeadlineState:
    """Alert and publish the fallback when today's forecast is late; the state afterwards."""
    from pipeline import jobs

    now = ops.clock()
    dam = ops.config.deadlines.dam_closure
    current = state(now, dam, ops.layout)
    if not current.at_risk:
        log.info("deadline check for %s: %s", current.day,
                 f"forecast published ({current.status})" if current.complete else f"alert time {_local(current.risk_at)} not reached")
        return current
    day = current.day
    log.error("forecast for %s not published at %s (alert time %s, DAM closes %s)", day, _local(now),
              _local(current.risk_at), _local(current.closes_at))
    if dam.alert_on_risk:
        ops.alert("deadline_risk", "critical", f"forecast for {day} at risk of missing DAM closure",
                  f"No forecast for {day} at {_local(now)}; DAM closes at {_local(current.closes_at)} "
                  f"(alert {dam.buffer_minutes} minutes before)."
                  + (" Publishing the fallback forecast now." if dam.fallback_on_miss else ""),
                  "inference", day, key=f"deadline_risk:{day.isoformat()}")
    if dam.fallback_on_miss:
        central = jobs.use_central_scheduler(ops.config)
        budget = max(60.0, (current.closes_at - now).total_seconds())
        published = jobs.publish_fallback(ops, day, luigi_binary or jobs.default_luigi(), central, budget)
        if published is not None:
            ops.alert("fallback", "warning", f"forecast for {day} published as {published} before DAM closure",
                      f"Published by the deadline monitor at {_local(ops.clock())}.", "inference", day,
                      key=f"deadline_fallback:{day.isoformat()}")
        else:
            ops.alert("deadline_missed", "critical", f"no forecast for {day}: the fallbacks failed too",
                      "Neither the cached-inputs nor the previous-forecast fallback could be published; "
                      "see logs/error.log.", "inference", day, key=f"deadline_missed:{day.isoformat()}")
    jobs.refresh_status_page(ops)
    return state(ops.clock(), dam, ops.layout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.deadline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--now", type=clocks.parse_instant, help="check as of this time (ISO; default: now)")
    parser.add_argument("--dry-run", action="store_true", help="report the state only: no alert, no fallback")
    args = parser.parse_args(argv)
    from pipeline import jobs, logs

    try:
        config = load_config()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    clock = clocks.fixed(args.now) if args.now else clocks.utc_now
    if args.dry_run:
        current = state(clock(), config.deadlines.dam_closure, Layout(config.data_root))
    else:
        logs.setup(config.logging)
        ops = jobs.Operations(config=config, runner=jobs.LuigiProcess(), clock=clock)
        current = check(ops)
    print(f"forecast for {current.day}: {current.status or 'missing'}; alert time {_local(current.risk_at)}, "
          f"DAM closes {_local(current.closes_at)}" + ("; AT RISK" if current.at_risk else ""))
    return 1 if current.at_risk else 0


if __name__ == "__main__":
    sys.exit(main())
