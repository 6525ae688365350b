"""The DAM deadline monitor: today's forecast must be out by ``deadlines.dam_closure.time - buffer_minutes``.

At or after that alert time (09:00 CPT by default) with no forecast for today (issue day D):

* ``alert_on_risk`` -- a critical alert (log, email, webhook), once per day;
* ``fallback_on_miss`` -- the inference fallbacks are published right away (see
  :func:`pipeline.ops.fallbacks.publish_fallback`), so a forecast is out before DAM closes, and
  that is alerted too.

Run by the built-in scheduler on every wake-up and by cron
(``infrastructure/scripts/deadline_monitor.sh``, every few minutes, through ``python -m
pipeline.deadline``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from dataclasses import dataclass

from pipeline import ercot_time
from pipeline.config import DamClosure
from pipeline.ops.alerts import in_background
from pipeline.ops.base import Operations
from pipeline.forecast import overall_status
from pipeline.ops.fallbacks import publish_fallback
from pipeline.ops.runner import default_luigi, use_central_scheduler
from targets import Layout

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
    """Today's forecast against the deadline; a forecast file that fails its check counts as missing."""
    day = ercot_time.operating_day(now)
    risk_at, closes_at = times(day, dam)
    forecast = layout.forecast(day)
    problem = forecast.problem() if forecast.store.exists(forecast.path) else None
    if problem is not None:
        log.error("the forecast for %s at %s is invalid (%s): it counts as missing", day, forecast.path, problem)
    complete = forecast.store.exists(forecast.path) and problem is None
    status = overall_status(forecast.read()) if complete else None
    return DeadlineState(day, risk_at, closes_at, complete, status, at_risk=not complete and now >= risk_at)


def _local(at: dt.datetime) -> str:
    local = at.astimezone(ercot_time.CPT)
    return f"{local:%H:%M} {local.tzname()}"


def check(ops: Operations, luigi_binary: str | None = None) -> DeadlineState:
    """Alert and publish the fallback when today's forecast is late; the state afterwards."""
    now = ops.clock()
    dam = ops.config.deadlines.dam_closure
    current = state(now, dam, ops.tagged_layout)
    if current.complete:
        ops.tagged_layout.forecast(current.day).repair_twins()
    if not current.at_risk:
        log.info("deadline check for %s: %s", current.day,
                 f"forecast published ({current.status})" if current.complete else f"alert time {_local(current.risk_at)} not reached")
        return current
    day = current.day
    log.error("forecast for %s not published at %s (alert time %s, DAM closes %s)", day, _local(now),
              _local(current.risk_at), _local(current.closes_at))
    # Delivered while the fallback is published: an alert channel that hangs must never delay it.
    risk = in_background(lambda: _alert_risk(ops, current, now)) if dam.alert_on_risk else None
    if dam.fallback_on_miss:
        central = use_central_scheduler(ops.config)
        budget = max(60.0, (current.closes_at - now).total_seconds())
        published = publish_fallback(ops, day, luigi_binary or default_luigi(), central, budget)
        if risk is not None:
            risk.wait()  # the risk alert is in the history before the fallback's
        if published is not None:
            ops.alert("fallback", "warning", f"forecast for {day} published as {published} before DAM closure",
                      f"Published by the deadline monitor at {_local(ops.clock())}.", "inference", day,
                      key=f"deadline_fallback:{day.isoformat()}")
        else:
            ops.alert("deadline_missed", "critical", f"no forecast for {day}: the fallbacks failed too",
                      "Neither the cached-inputs nor the previous-forecast fallback could be published; "
                      "see logs/error.log.", "inference", day, key=f"deadline_missed:{day.isoformat()}")
    if risk is not None:
        risk.wait()
    return state(ops.clock(), dam, ops.tagged_layout)


def _alert_risk(ops: Operations, current: DeadlineState, now: dt.datetime) -> None:
    dam, day = ops.config.deadlines.dam_closure, current.day
    ops.alert("deadline_risk", "critical", f"forecast for {day} at risk of missing DAM closure",
              f"No forecast for {day} at {_local(now)}; DAM closes at {_local(current.closes_at)} "
              f"(alert {dam.buffer_minutes} minutes before)."
              + (" Publishing the fallback forecast now." if dam.fallback_on_miss else ""),
              "inference", day, key=f"deadline_risk:{day.isoformat()}")


def describe(current: DeadlineState) -> str:
    """One line for people: today's forecast, the alert time and the DAM closure."""
    return (f"forecast for {current.day}: {current.status or 'missing'}; alert time {_local(current.risk_at)}, "
            f"DAM closes {_local(current.closes_at)}" + ("; AT RISK" if current.at_risk else ""))
