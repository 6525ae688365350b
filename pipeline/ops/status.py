"""The self-contained status page ``status/index.html`` under the data root, for users without Grafana.

One HTML file with no external resources (styles inline, the forecast chart embedded as a base64
PNG): today's forecast and the DAM deadline, each job's schedule, last run, success rate and
durations, the recent runs and the alert history. The command-line layer rewrites it after every
job run and deadline check (``python -m pipeline.jobs``, ``python -m pipeline.deadline``, the
scheduler); ``python -m pipeline.status [--now ISO]`` rewrites it by hand.

:func:`render` is pure (a :class:`StatusView` in, HTML out); :func:`collect` reads the run and
alert logs (``ops/runs.jsonl``, ``ops/alerts.jsonl``) and the newest forecast.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pipeline import ercot_time
from pipeline.config import Config
from pipeline.configured import Configured
from pipeline.ops import deadline
from pipeline.render.forecast import forecast_chart, source_label
from pipeline.settings import Settings
from pipeline.sources import Sources
from targets import Layout
from targets.files import JsonLinesTarget

log = logging.getLogger("pipeline.status")

JOB_ORDER = ("data_fetching", "inference", "model_retraining", "backtesting")
RECENT_RUNS = 50
RECENT_ALERTS = 50
RATE_WINDOW = 30  # runs per job behind the success rate and mean duration


@dataclass(frozen=True)
class LatestForecast:
    day: dt.date
    frame: pd.DataFrame
    chart_png: bytes | None
    degraded: dict[str, str] = field(default_factory=dict)  # dataset -> why (the forecast's metadata)


@dataclass(frozen=True)
class StatusView:
    generated_at: dt.datetime
    data_root: str
    simulated: bool
    schedules: dict[str, tuple[bool, str]]  # job -> (enabled, cron expression)
    runs: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    deadline: deadline.DeadlineState
    latest: LatestForecast | None


def read_log(target: JsonLinesTarget) -> list[dict[str, Any]]:
    records, broken = target.read()
    if broken:
        log.warning("%s: skipped %d line(s) cut short by a crash (lines %s)", target.path, len(broken),
                    ", ".join(map(str, broken[:10])))
    return records


def newest_forecast_day(layout: Layout, today: dt.date, days_back: int = 14) -> dt.date | None:
    for back in range(days_back + 1):
        day = today - dt.timedelta(days=back)
        if layout.forecast(day).exists():
            return day
    return None


def collect(config: Config, now: dt.datetime) -> StatusView:
    """What the page shows; a forecast file that fails its check counts as missing (never a traceback)."""
    sources = Sources.from_config(config)
    layout = Configured(Settings.from_config(config, sources), sources).layout
    today = ercot_time.operating_day(now)
    latest = None
    day = newest_forecast_day(layout, today)
    if day is not None:
        target = layout.forecast(day)
        frame = target.read()
        stamp = target.stamp()
        degraded = dict((stamp.notes.get("degraded") or {}) if stamp else {})
        latest = LatestForecast(day, frame, forecast_chart(frame, source_label(config.sources.market)), degraded)
    schedules = {job: (getattr(config.scheduler, job).enabled, getattr(config.scheduler, job).cron_expression)
                 for job in JOB_ORDER}
    return StatusView(
        generated_at=now, data_root=layout.describe_root(), simulated=config.sources.market == "synthetic",
        schedules=schedules, runs=read_log(layout.run_log()), alerts=read_log(layout.alert_log()),
        deadline=deadline.state(now, config.deadlines.dam_closure, layout), latest=latest)


def refresh(config: Config, now: dt.datetime) -> str | None:
    """Rewrite the status page when ``operations.status_page`` is on; its path, or None."""
    return write(config, now) if config.operations.status_page else None


def write(config: Config, now: dt.datetime) -> str:
    """Render the status page for ``now`` and write it atomically; returns its path."""
    target = Layout(config.data_root).status_page()
    target.replace(render(collect(config, now)))
    log.info("status page written: %s", target.path)
    return target.path


# --- rendering ---------------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d2330;background:#fafbfc}
h1{font-size:1.4em;margin:0 0 4px} h2{font-size:1.1em;margin:28px 0 8px;border-bottom:1px solid #dde1e6}
.meta{color:#5b6473;font-size:.9em} table{border-collapse:collapse;font-size:.88em;background:#fff}
th,td{border:1px solid #dde1e6;padding:4px 8px;text-align:left;vertical-align:top} th{background:#eef1f5}
td.num{text-align:right} .ok{color:#16794a;font-weight:600} .warn{color:#a15c00;font-weight:600}
.bad{color:#b3261e;font-weight:600} .badge{display:inline-block;padding:1px 8px;border-radius:10px;background:#eef1f5}
img.chart{max-width:100%;border:1px solid #dde1e6;background:#fff} pre{white-space:pre-wrap;margin:0;font-size:.85em}
"""

_STATUS_CLASS = {"success": "ok", "ok": "ok", "fallback": "warn", "already_running": "warn", "stopped": "warn",
                 "failed": "bad", "timeout": "bad", "critical": "bad", "warning": "warn", "info": "ok"}


def _cls(value: str) -> str:
    if value.startswith("fallback_"):
        return "warn"
    return _STATUS_CLASS.get(value, "")


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _local(timestamp: str | dt.datetime | None) -> str:
    if not timestamp:
        return ""
    value = dt.datetime.fromisoformat(timestamp) if isinstance(timestamp, str) else timestamp
    local = value.astimezone(ercot_time.CPT)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = float(seconds)
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _table(table_id: str, headers: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> str:
    if not rows:
        return f'<p class="meta" id="{table_id}-empty">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _td(value: object, css: str = "") -> str:
    return f'<td class="{css}">{_e(value)}</td>' if css else f"<td>{_e(value)}</td>"


def job_summary(job: str, runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Last run, success rate and durations of ``job`` over its last RATE_WINDOW runs that ran."""
    ran = [r for r in runs if r.get("job") == job and r.get("status") != "already_running"]
    window = ran[-RATE_WINDOW:]
    durations = [float(r["duration_s"]) for r in window if r.get("duration_s") is not None]
    succeeded = sum(1 for r in window if r.get("status") == "success")
    return {
        "last": ran[-1] if ran else None,
        "runs": len(window),
        "success_rate": succeeded / len(window) if window else None,
        "mean_duration": statistics.fmean(durations) if durations else None,
        "max_duration": max(durations) if durations else None,
    }


def render(view: StatusView) -> str:
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>RTLMP spike forecaster - status</title>", f"<style>{_STYLE}</style></head><body>",
        "<h1>ERCOT RTLMP spike forecaster &mdash; operations status</h1>",
        f'<p class="meta">Generated {_e(_local(view.generated_at))} &middot; data root {_e(view.data_root)}'
        + (' &middot; <span class="badge warn">SIMULATED market data</span>' if view.simulated else "") + "</p>",
        _deadline_section(view.deadline),
        _forecast_section(view.latest),
        _jobs_section(view),
        _runs_section(view.runs),
        _alerts_section(view.alerts),
        "</body></html>",
    ]
    return "\n".join(parts)


def _deadline_section(state: deadline.DeadlineState) -> str:
    if state.complete:
        verdict = f'<span class="{_cls(state.status or "ok")}">published ({_e(state.status)})</span>'
    elif state.at_risk:
        verdict = '<span class="bad">MISSING &mdash; at risk of missing DAM closure</span>'
    else:
        verdict = '<span class="warn">not published yet</span>'
    return (f'<h2>Today&#39;s forecast and the DAM deadline</h2><p id="deadline">Forecast for {_e(state.day)}: {verdict}. '
            f"Alert time {_e(_local(state.risk_at))}, DAM closes {_e(_local(state.closes_at))}.</p>")


def _forecast_section(latest: LatestForecast | None) -> str:
    if latest is None:
        return '<h2>Latest forecast</h2><p class="meta" id="forecast-empty">No forecast published in the last two weeks.</p>'
    frame = latest.frame
    first = frame.iloc[0]
    statuses = ", ".join(sorted(frame["status"].unique()))
    parts = ["<h2>Latest forecast</h2>",
             f'<p id="forecast-meta">Issued {_e(latest.day)} (issue time {_e(_local(first["issued_at"].to_pydatetime()))}), '
             f'model {_e(first["model_id"])}, status <span class="{_cls(statuses)}">{_e(statuses)}</span>, '
             f"{len(frame)} rows.</p>"]
    if latest.chart_png:
        encoded = base64.b64encode(latest.chart_png).decode("ascii")
        parts.append(f'<img class="chart" id="forecast-chart" alt="spike probability by hour" '
                     f'src="data:image/png;base64,{encoded}">')
    if latest.degraded:
        items = "".join(f"<li>{_e(dataset)}: {_e(why)}</li>" for dataset, why in sorted(latest.degraded.items()))
        parts.append(f'<p class="warn" id="forecast-degraded">Degraded inputs:</p><ul>{items}</ul>')
    peaks = frame.groupby(["node", "threshold"], sort=True)["probability"].max().reset_index()
    rows = [[_td(r.node), _td(f"${r.threshold:g}", "num"), _td(f"{r.probability:.1%}", "num")] for r in peaks.itertuples()]
    parts.append(_table("forecast-peaks", ["node", "threshold", "peak hourly probability (72 h)"], rows, "empty forecast"))
    return "\n".join(parts)


def _jobs_section(view: StatusView) -> str:
    rows = []
    for job in JOB_ORDER:
        enabled, cron = view.schedules[job]
        summary = job_summary(job, view.runs)
        last = summary["last"] or {}
        rate = summary["success_rate"]
        rows.append([
            _td(job), _td(f"{cron} (CPT)" + ("" if enabled else " - disabled")),
            _td(_local(last.get("started_at"))), _td(last.get("status", "never run"), _cls(last.get("status", ""))),
            _td(_duration(last.get("duration_s")), "num"),
            _td("" if rate is None else f"{rate:.0%} of {summary['runs']}", "num"),
            _td(_duration(summary["mean_duration"]), "num"), _td(_duration(summary["max_duration"]), "num"),
        ])
    headers = ["job", "schedule", "last run", "last status", "last duration", "success rate", "mean duration",
               "longest"]
    return "<h2>Jobs</h2>" + _table("jobs", headers, rows, "no jobs")


def _runs_section(runs: Sequence[dict[str, Any]]) -> str:
    rows = []
    for r in reversed(runs[-RECENT_RUNS:]):
        rows.append([_td(_local(r.get("started_at"))), _td(r.get("job")), _td(r.get("today")),
                     _td(r.get("status"), _cls(str(r.get("status", "")))), _td(r.get("retcode"), "num"),
                     _td(r.get("attempts"), "num"), _td(_duration(r.get("duration_s")), "num"),
                     _td(r.get("fallback") or "")])
    headers = ["started", "job", "day", "status", "exit code", "attempts", "duration", "fallback"]
    return "<h2>Recent runs</h2>" + _table("runs", headers, rows, "No scheduled job has run yet.")


def _alerts_section(alerts: Sequence[dict[str, Any]]) -> str:
    rows = []
    for a in reversed(alerts[-RECENT_ALERTS:]):
        deliveries = ", ".join(f"{k}: {v}" for k, v in sorted((a.get("deliveries") or {}).items()))
        rows.append([_td(_local(a.get("at"))), _td(a.get("severity"), _cls(str(a.get("severity", "")))),
                     _td(a.get("title")), _td(a.get("job") or ""), _td(deliveries)])
    return "<h2>Alerts</h2>" + _table("alerts", ["raised", "severity", "alert", "job", "delivered"], rows,
                                      "No alerts.")
