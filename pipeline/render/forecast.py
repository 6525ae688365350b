"""A day's forecast for people: a plain-text summary table and a PNG chart (pure: no file I/O)."""

from __future__ import annotations

import io

import pandas as pd

from pipeline import ercot_time


def cpt_label(ts: pd.Timestamp) -> str:
    """'Sun 03-10 18:00-19:00 CDT' for an hour starting at ``ts`` (UTC)."""
    local = ts.tz_convert(ercot_time.CPT)
    end = (ts + ercot_time.HOUR).tz_convert(ercot_time.CPT)
    return f"{local:%a %m-%d %H:%M}-{end:%H:%M} {local.tzname()}"


def summary_table(forecast: pd.DataFrame, top: int = 3) -> str:
    """Plain-text summary: per node and threshold, the ``top`` most likely spike hours and daily peaks."""
    lines = []
    first = forecast.iloc[0]
    statuses = ", ".join(sorted(forecast["status"].unique()))
    issued = first["issued_at"].tz_convert(ercot_time.CPT)
    lines.append(f"Forecast for {first['forecast_date']}, issued {issued:%Y-%m-%d %H:%M} {issued.tzname()} "
                 f"(model {first['model_id']}, status {statuses})")
    local_days = forecast["interval_start"].dt.tz_convert(ercot_time.CPT).dt.date
    days = sorted(local_days.unique())
    header = f"{'node':<12}{'threshold':>10}  " + "".join(f"{d:%a %m-%d}  " for d in days) + "most likely hours"
    lines.append("")
    lines.append("Peak hourly probability of a real-time price above the threshold, per operating day (CPT):")
    lines.append(header)
    for (node, threshold), rows in forecast.groupby(["node", "threshold"], sort=True):
        peaks = rows.groupby(local_days[rows.index])["probability"].max()
        best = rows.nlargest(top, "probability")
        hours = "; ".join(f"{cpt_label(r.interval_start)} {r.probability:.1%}" for r in best.itertuples())
        cells = "".join(f"{peaks.get(d, float('nan')):>9.1%}  " for d in days)
        lines.append(f"{node:<12}{'$' + format(threshold, 'g'):>10}  {cells}{hours}")
    return "\n".join(lines)


def forecast_chart(forecast: pd.DataFrame) -> bytes:
    """PNG: probability by hour for every node, one panel per threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    thresholds = sorted(forecast["threshold"].unique())
    fig, axes = plt.subplots(len(thresholds), 1, figsize=(11, 2.6 * len(thresholds)), sharex=True, squeeze=False)
    for ax, threshold in zip(axes[:, 0], thresholds):
        rows = forecast[forecast["threshold"] == threshold]
        for node, by_node in rows.groupby("node", sort=True):
            local = by_node["interval_start"].dt.tz_convert(ercot_time.CPT)
            ax.step(local, by_node["probability"], where="post", label=node, linewidth=1.4)
        ax.set_ylabel(f"P(> ${threshold:g})")
        ax.set_ylim(0, max(0.05, float(rows["probability"].max()) * 1.15))
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="upper left", ncol=4, fontsize=8)
    first = forecast.iloc[0]
    axes[0, 0].set_title(f"Real-time price spike probability, forecast issued {first['forecast_date']} "
                         f"(hours in CPT; model {first['model_id']})", fontsize=10)
    axes[-1, 0].set_xlabel("hour (America/Chicago)")
    fig.autofmt_xdate()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()
