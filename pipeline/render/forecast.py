"""A day's forecast for people: a plain-text summary table and a PNG chart (pure: no file I/O).

Both say what they show before showing it: the issue day, the nodes, the data source (SIMULATED
for the embedded simulator) and the forecast's status -- a fallback forecast must never pass for a
normal one. Probabilities too small to print (below 0.1 %) read "<0.1 %" and are never offered as
"most likely" hours: three hours at "0.0 %" are no spike hours at all.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pandas as pd

from pipeline import ercot_time
from pipeline.forecast import STATUS_CACHED_INPUTS, STATUS_DEGRADED, STATUS_OK, STATUS_PREVIOUS

#: Below this a probability prints as "<0.1 %" and is not listed among the most likely hours.
SMALLEST_SHOWN = 0.001
#: The lowest top of a chart panel: a panel whose probabilities are all ~0 still shows 0..0.2 %.
MIN_PANEL_TOP = 0.002
#: Nodes named in a title before "and N more".
TITLE_NODES = 6

STATUS_MEANINGS = {
    STATUS_OK: "made normally",
    STATUS_DEGRADED: "made without an input that was set aside or missing",
    STATUS_CACHED_INPUTS: "FALLBACK: made from cached inputs, fresh data could not be fetched",
    STATUS_PREVIOUS: "FALLBACK: the previous forecast re-published, today's forecast failed",
}
SOURCE_NAMES = {
    "synthetic": "SIMULATED market (the embedded ERCOT-like simulator)",
    "ercot_archive": "ERCOT archive files",
    "ercot_mis": "ERCOT MIS",
    "ercot_api": "ERCOT Public API",
}


def source_label(market_source: str) -> str:
    """How the chart and the summary name a market source (``sources.market``)."""
    return SOURCE_NAMES.get(market_source, market_source)


def source_of(forecast: pd.DataFrame) -> str:
    """The market source named in the forecast's model ids (``...-synthetic-s<seed>...``), else 'not stated'."""
    model_ids = " ".join(str(m) for m in forecast["model_id"].unique())
    for key in SOURCE_NAMES:
        if f"-{key}-" in model_ids or model_ids.endswith(f"-{key}"):
            return source_label(key)
    return "source not stated"


def format_probability(p: float) -> str:
    """'12.3 %', '0.4 %', or '<0.1 %' for what would otherwise print as a misleading '0.0 %'."""
    if p != p:  # NaN: no hour of that day in the horizon
        return "-"
    return "<0.1 %" if p < SMALLEST_SHOWN else f"{100 * p:.1f} %"


def status_text(statuses: Sequence[str]) -> str:
    """'ok (made normally)', or each non-ok status with what it means, in capitals for fallbacks."""
    shown = [s for s in sorted(set(statuses)) if s != STATUS_OK] or [STATUS_OK]
    return "; ".join(f"{s} ({STATUS_MEANINGS.get(s, 'see the README')})" for s in shown)


def is_fallback(statuses: Sequence[str]) -> bool:
    return any(str(s).startswith("fallback") for s in statuses)


def nodes_text(nodes: Sequence[str]) -> str:
    nodes = sorted(nodes)
    if len(nodes) <= TITLE_NODES:
        return ", ".join(nodes)
    return f"{', '.join(nodes[:TITLE_NODES])} and {len(nodes) - TITLE_NODES} more"


def cpt_label(ts: pd.Timestamp) -> str:
    """'Sun 03-10 18:00-19:00 CDT' for an hour starting at ``ts`` (UTC)."""
    local = ts.tz_convert(ercot_time.CPT)
    end = (ts + ercot_time.HOUR).tz_convert(ercot_time.CPT)
    return f"{local:%a %m-%d %H:%M}-{end:%H:%M} {local.tzname()}"


def likely_hours(rows: pd.DataFrame, top: int) -> str:
    """The ``top`` most likely hours of one node and threshold, leaving out those below 0.1 %."""
    best = rows[rows["probability"] >= SMALLEST_SHOWN].nlargest(top, "probability")
    if best.empty:
        return "none above 0.1 %"
    return "; ".join(f"{cpt_label(r.interval_start)} {format_probability(r.probability)}" for r in best.itertuples())


def summary_table(forecast: pd.DataFrame, top: int = 3) -> str:
    """Plain-text summary: per node and threshold, the daily peaks and the ``top`` most likely spike hours."""
    first = forecast.iloc[0]
    statuses = list(forecast["status"].unique())
    issued = first["issued_at"].tz_convert(ercot_time.CPT)
    lines = [f"Forecast for {first['forecast_date']}, issued {issued:%Y-%m-%d %H:%M} {issued.tzname()} "
             f"(model {first['model_id']}, status {', '.join(sorted(statuses))})"]
    if set(statuses) != {STATUS_OK}:
        lines.append(f"Status: {status_text(statuses)}")
    local_days = forecast["interval_start"].dt.tz_convert(ercot_time.CPT).dt.date
    days = sorted(local_days.unique())
    lines.append("")
    lines.append("Peak hourly probability of a real-time price above the threshold, per operating day (CPT):")
    lines.append(f"{'node':<12}{'threshold':>10}  " + "".join(f"{d:%a %m-%d}  " for d in days) + "most likely hours")
    for (node, threshold), rows in forecast.groupby(["node", "threshold"], sort=True):
        peaks = rows.groupby(local_days[rows.index])["probability"].max()
        cells = "".join(f"{format_probability(peaks.get(d, float('nan'))):>9}  " for d in days)
        lines.append(f"{node:<12}{'$' + format(threshold, 'g'):>10}  {cells}{likely_hours(rows, top)}")
    return "\n".join(lines)


def panel_top(probabilities: pd.Series) -> float:
    """Upper y limit of one threshold's panel: its own peak plus headroom, so a $1000 panel is readable."""
    return max(MIN_PANEL_TOP, float(probabilities.max()) * 1.15)


def chart_title(forecast: pd.DataFrame) -> str:
    """'Spike probability for HB_NORTH, HB_WEST: forecast issued Tue 2024-07-16 for 07-17 to 07-19 (CPT)'."""
    first = forecast.iloc[0]
    issue_day = pd.Timestamp(first["forecast_date"])
    local = forecast["interval_start"].dt.tz_convert(ercot_time.CPT)
    return (f"Spike probability for {nodes_text(forecast['node'].unique())}: forecast issued "
            f"{issue_day:%a %Y-%m-%d} for {local.min():%m-%d} to {local.max():%m-%d} (hours in CPT)")


def forecast_chart(forecast: pd.DataFrame, source: str | None = None) -> bytes:
    """PNG: probability by hour for every node, one panel per threshold, each on its own scale.

    ``source``: the data source as people should read it (:func:`source_label`); by default the one
    the model ids name. The status and the source are stamped on the chart, a fallback in red.
    """
    import matplotlib.pyplot as plt

    fig = chart_figure(forecast, source)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def chart_figure(forecast: pd.DataFrame, source: str | None = None) -> Any:
    """The matplotlib figure of :func:`forecast_chart` (open: the caller closes it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    statuses = list(forecast["status"].unique())
    fallback = is_fallback(statuses)
    thresholds = sorted(forecast["threshold"].unique())
    fig, axes = plt.subplots(len(thresholds), 1, figsize=(11, 2.4 * len(thresholds) + 1.0), sharex=True,
                             squeeze=False)
    midnights = sorted({pd.Timestamp(d, tz=ercot_time.CPT)
                        for d in forecast["interval_start"].dt.tz_convert(ercot_time.CPT).dt.date.unique()})
    for ax, threshold in zip(axes[:, 0], thresholds):
        rows = forecast[forecast["threshold"] == threshold]
        for node, by_node in rows.groupby("node", sort=True):
            local = by_node["interval_start"].dt.tz_convert(ercot_time.CPT)
            ax.step(local, by_node["probability"], where="post", label=node, linewidth=1.4)
        top = panel_top(rows["probability"])
        ax.set_ylim(0, top)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None if top >= 0.05 else 2))
        ax.set_ylabel(f"P(> ${threshold:g})")
        ax.text(0.995, 0.95, f"peak {format_probability(float(rows['probability'].max()))}", transform=ax.transAxes,
                ha="right", va="top", fontsize=8, color="#444")
        for midnight in midnights[1:]:
            ax.axvline(midnight, color="#999", linewidth=0.8, linestyle=":")
        ax.grid(alpha=0.3)
        if fallback:
            for spine in ax.spines.values():
                spine.set_edgecolor("#c0392b")
                spine.set_linewidth(2)
    axes[0, 0].legend(loc="upper left", ncol=min(4, forecast["node"].nunique()), fontsize=8)
    axes[-1, 0].set_xlabel("hour (America/Chicago)")
    fig.suptitle(chart_title(forecast), fontsize=11, x=0.01, ha="left", y=0.995)
    normal = set(statuses) == {STATUS_OK}
    _stamp(fig, f"Status: {status_text(statuses)}", "ok" if normal else "alert" if fallback else "caution", y=0.955)
    shown_source = source or source_of(forecast)
    _stamp(fig, f"Data source: {shown_source}", "caution" if "SIMULATED" in shown_source else "plain", y=0.925)
    fig.text(0.01, 0.005, f"model {', '.join(sorted(forecast['model_id'].unique()))}", fontsize=7, color="#666")
    fig.autofmt_xdate()
    fig.tight_layout(rect=(0, 0.02, 1, 0.91))
    return fig


STAMP_STYLES = {
    "ok": {"color": "#1e7b34", "fontweight": "bold"},
    "plain": {"color": "#333333"},
    "caution": {"color": "black", "fontweight": "bold",
                "bbox": {"facecolor": "#fff3cd", "edgecolor": "#e0b000", "pad": 3}},
    "alert": {"color": "white", "fontweight": "bold", "bbox": {"facecolor": "#c0392b", "edgecolor": "none", "pad": 3}},
}


def _stamp(fig: object, text: str, style: str, y: float) -> None:
    """One line of the chart's header; a fallback is white on red, simulated data and degraded inputs on amber."""
    fig.text(0.01, y, text, fontsize=9, ha="left", va="top", **STAMP_STYLES[style])  # type: ignore[attr-defined]
