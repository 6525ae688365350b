"""The figures of the backtest report, drawn with matplotlib (Agg) from predictions and metrics.

Each function takes the backtest's ``predictions`` frame and its ``metrics.json`` mapping and
returns a :class:`Figure` (PNG bytes with a heading and a one-sentence reading guide), so the
HTML page and the PNG files beside it show the very same pictures. Scores on groups without a
single spike are not drawn: a Brier skill or ROC AUC there says nothing about spikes and would
look like skill. Pure: no luigi, no file I/O.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from pipeline import backtest, ercot_time
from pipeline.evaluation import MIN_RELIABLE_POSITIVES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure

FORECAST_NAMES = tuple(backtest.FORECASTS)  # the model first, then the baselines
LABELS = {
    "model": "model",
    "climatology": "climatology (month × hour)",
    "persistence_yesterday": "persistence (yesterday)",
    "persistence_last_week": "persistence (last week)",
    "logistic": "logistic regression",
    "dam_asof": "DAM as-of (issue-day DAM price)",
}
COLORS = {
    "model": "#1f4e79",
    "climatology": "#8c8c8c",
    "persistence_yesterday": "#e69f00",
    "persistence_last_week": "#cc79a7",
    "logistic": "#009e73",
    "dam_asof": "#d55e00",
}
THRESHOLD_COLORS = ("#1f77b4", "#ff7f0e", "#d62728", "#9467bd", "#8c564b")
TIMELINE_MAX_NODES = 8
SKILL_AXIS = (-1.0, 1.0)  # Brier skill per hour is clipped here: one bad hour must not flatten the rest
DPI = 100


@dataclass(frozen=True)
class Figure:
    """One rendered figure: file name stem, heading, one-sentence reading guide, PNG bytes."""

    name: str
    title: str
    caption: str
    png: bytes


FigureMaker = Callable[[pd.DataFrame, Mapping[str, Any]], Figure]


def thresholds(metrics: Mapping[str, Any]) -> list[str]:
    """Threshold keys of ``metrics`` ('100', '1000', ...) in increasing $/MWh."""
    return sorted(metrics["by_threshold"], key=float)


def dollars(threshold: str | float) -> str:
    """'$1,000' for a threshold key ('1000') or value (1000.0)."""
    value = float(threshold)
    return f"${value:,.0f}" if value == int(value) else f"${value:,g}"


# --- matplotlib plumbing ------------------------------------------------------------------------------


def _pyplot():  # noqa: ANN202 - the matplotlib.pyplot module
    """pyplot on the Agg backend (no display: reports are rendered by batch jobs)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: MplFigure) -> bytes:
    """PNG bytes of ``fig`` (closed afterwards); no software tag, so equal figures give equal files."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    _pyplot().close(fig)
    return buffer.getvalue()


def _finish(fig: MplFigure, metrics: Mapping[str, Any]) -> bytes:
    """PNG bytes of a finished figure, stamped when the data is simulated (the PNGs travel without the page)."""
    if metrics.get("config", {}).get("simulated", False):
        fig.text(0.995, 0.995, "SIMULATED DATA", ha="right", va="top", fontsize=9, fontweight="bold",
                 color="#b07800")
    return _png(fig)


def _empty_panel(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9, color="#555555", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def with_spikes(metrics: Mapping[str, Any]) -> list[str]:
    """Threshold keys with at least one realised spike: only those have ROC, precision-recall or skill."""
    return [key for key in thresholds(metrics) if metrics["by_threshold"][key]["model"]["positives"] > 0]


def _without_spikes_note(metrics: Mapping[str, Any]) -> str:
    quiet = [dollars(key) for key in thresholds(metrics) if key not in with_spikes(metrics)]
    return f" Not drawn: {', '.join(quiet)} (no spike in this window)." if quiet else ""


def _subplots(rows: int, columns: int, size: tuple[float, float], **options: Any):  # noqa: ANN202 - (figure, axes)
    """A grid of at least one row (a figure of only thresholds without spikes still says so).

    Constrained layout keeps each panel's title clear of the axis labels of the panel above it.
    """
    plt = _pyplot()
    return plt.subplots(max(rows, 1), columns, figsize=(size[0], size[1] * max(rows, 1)), squeeze=False,
                        layout="constrained", **options)


def _nothing_to_draw(axes: Any) -> None:
    for ax in axes.flat:
        _empty_panel(ax, "no spike above any threshold in this window: nothing to score")


# --- the figures ------------------------------------------------------------------------------------


def reliability_figure(predictions: pd.DataFrame, metrics: Mapping[str, Any]) -> Figure:
    """Observed spike frequency against forecast probability per probability bin, per threshold."""
    plt = _pyplot()
    keys = thresholds(metrics)
    fig, axes = _subplots(1, len(keys), (4.6 * len(keys), 4.4))
    for ax, key in zip(axes[0], keys):
        _reliability_panel(ax, key, metrics["curves"][key])
        if key not in with_spikes(metrics):  # still worth seeing: were the forecasts rightly low?
            ax.set_title(f"> {dollars(key)}/MWh (no spikes)")
    axes[0, 0].legend(loc="upper left", fontsize=7)
    return Figure("reliability", "Reliability diagram",
                  "Points on the diagonal mean 'when the model says 20 %, it spikes 20 % of the time'; "
                  "numbers are the hours in each model bin.", _finish(fig, metrics))


def _reliability_panel(ax: Axes, key: str, curves: Mapping[str, Any]) -> None:
    ax.plot([0, 1], [0, 1], color="#bbbbbb", linestyle="--", linewidth=1, label="perfectly calibrated")
    for name in FORECAST_NAMES:
        bins = curves[name]["reliability"]
        is_model = name == "model"
        ax.plot([b["mean_probability"] for b in bins], [b["observed_frequency"] for b in bins], marker="o",
                markersize=5 if is_model else 3, linewidth=2.2 if is_model else 1, alpha=1 if is_model else 0.7,
                color=COLORS[name], label=LABELS[name])
    for b in curves["model"]["reliability"]:
        ax.annotate(f"{b['count']:,}", (b["mean_probability"], b["observed_frequency"]), textcoords="offset points",
                    xytext=(4, 4), fontsize=7, color=COLORS["model"])
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="forecast probability (bin mean)", ylabel="observed spike frequency",
           title=f"> {dollars(key)}/MWh")
    ax.grid(alpha=0.3)


def roc_pr_figure(predictions: pd.DataFrame, metrics: Mapping[str, Any]) -> Figure:
    """ROC and precision-recall curves of every forecast, one row per threshold that saw spikes."""
    keys = with_spikes(metrics)
    fig, axes = _subplots(len(keys), 2, (10, 3.8))
    if not keys:
        _nothing_to_draw(axes)
    for row, key in zip(axes, keys):
        _roc_pr_row(row, key, metrics["curves"][key], metrics["by_threshold"][key]["model"]["base_rate"])
    return Figure("roc_pr", "ROC and precision-recall curves",
                  "Higher and further left is better; precision-recall shows how many warnings are false "
                  "alarms at each share of spikes caught." + _without_spikes_note(metrics), _finish(fig, metrics))


def _roc_pr_row(row: Sequence[Axes], key: str, curves: Mapping[str, Any], base_rate: float) -> None:
    for name in FORECAST_NAMES:
        style = {"color": COLORS[name], "linewidth": 2.2 if name == "model" else 1, "label": LABELS[name]}
        row[0].plot(curves[name]["roc"]["fpr"], curves[name]["roc"]["tpr"], **style)
        row[1].plot(curves[name]["precision_recall"]["recall"], curves[name]["precision_recall"]["precision"], **style)
    row[0].plot([0, 1], [0, 1], color="#bbbbbb", linestyle="--", linewidth=1)
    row[1].axhline(base_rate, color="#bbbbbb", linestyle="--", linewidth=1, label=f"spike rate {base_rate:.1%}")
    row[0].set(xlabel="false alarm rate", ylabel="hit rate", title=f"ROC, > {dollars(key)}/MWh")
    row[1].set(xlabel="recall (share of spikes warned of)", ylabel="precision (warnings that spiked)",
               title=f"Precision-recall, > {dollars(key)}/MWh", xlim=(0, 1), ylim=(0, 1.02))
    for ax in row:
        ax.grid(alpha=0.3)
    row[1].legend(loc="upper right", fontsize=7)


def timeline_nodes(day_ahead: pd.DataFrame, lowest: float) -> tuple[list[str], int]:
    """The nodes drawn in the timeline (most spikes at the lowest threshold first) and how many are left out."""
    spikes = day_ahead[day_ahead["threshold"] == lowest].groupby("node")["outcome"].sum()
    ranked = sorted(spikes.index, key=lambda node: (-spikes[node], node))
    return ranked[:TIMELINE_MAX_NODES], max(0, len(ranked) - TIMELINE_MAX_NODES)


def timeline_figure(predictions: pd.DataFrame, metrics: Mapping[str, Any]) -> Figure:
    """Per node: day-ahead forecast probability per threshold vs the realised hourly max price."""
    plt = _pyplot()
    frame = backtest.with_breakdowns(predictions)
    day_ahead = frame[frame["horizon_day"] == 1]
    if day_ahead.empty:  # e.g. only day-3 hours had prices yet: show what there is
        day_ahead = frame
    levels = sorted(day_ahead["threshold"].unique())
    nodes, left_out = timeline_nodes(day_ahead, levels[0])
    fig, axes = _subplots(len(nodes), 1, (11, 2.8), sharex=True)
    for k, (ax, node) in enumerate(zip(axes[:, 0], nodes)):
        _timeline_panel(ax, day_ahead[day_ahead["node"] == node], levels, node, legend=k == 0)
    axes[-1, 0].set_xlabel("hour (America/Chicago)")
    fig.autofmt_xdate()
    caption = ("Forecasts for the next operating day (horizon hours 1-24, the day bid in the DAM): coloured steps are "
               "the spike probabilities (left axis), grey the realised hourly max price (right axis, log scale; "
               f"linear between -$10 and $10), red triangles the hours above {dollars(levels[0])}.")
    if left_out:
        caption += f" {left_out} further nodes with fewer spikes are not drawn."
    return Figure("timeline", "Forecast vs realised prices, per node", caption, _finish(fig, metrics))


def _timeline_panel(ax: Axes, rows: pd.DataFrame, levels: Sequence[float], node: str, legend: bool) -> None:
    """One node: probabilities on the left axis, hourly max price (symlog) and spikes on the right."""
    price_ax = ax.twinx()
    lowest = rows[rows["threshold"] == levels[0]].sort_values("interval_start")
    local = lowest["interval_start"].dt.tz_convert(ercot_time.CPT)
    price_ax.plot(local, lowest["price_max"], color="#9a9a9a", linewidth=0.8, label="hourly max price")
    spiked = lowest["outcome"] == 1
    price_ax.scatter(local[spiked], lowest.loc[spiked, "price_max"], marker="v", color="#d62728", s=18, zorder=3,
                     label=f"spike > {dollars(levels[0])}")
    # ERCOT prices go negative (wind at night) and to $5,000: a symmetric log axis shows both.
    price_ax.set_yscale("symlog", linthresh=10)
    price_ax.set_ylabel("$/MWh", fontsize=8)
    for k, level in enumerate(levels):
        color = THRESHOLD_COLORS[k % len(THRESHOLD_COLORS)]
        price_ax.axhline(level, color=color, linestyle=":", linewidth=0.8)
        by_level = rows[rows["threshold"] == level].sort_values("interval_start")
        ax.step(by_level["interval_start"].dt.tz_convert(ercot_time.CPT), by_level["probability"], where="post",
                color=color, linewidth=1.3, label=f"P(> {dollars(level)})")
    ax.set_ylim(0, max(0.05, float(rows["probability"].max()) * 1.25))
    ax.set_ylabel("probability", fontsize=8)
    ax.text(0.995, 0.96, node, transform=ax.transAxes, ha="right", va="top", fontsize=9, fontweight="bold",
            bbox={"facecolor": "white", "edgecolor": "#cccccc", "pad": 2})
    ax.grid(alpha=0.3)
    if not legend:
        return
    prob_handles, prob_labels = ax.get_legend_handles_labels()
    price_handles, price_labels = price_ax.get_legend_handles_labels()
    ax.legend(prob_handles + price_handles, prob_labels + price_labels, loc="lower left",
              bbox_to_anchor=(0.0, 1.0), fontsize=7, ncol=len(levels) + 2, frameon=False)


def breakdown_series(metrics: Mapping[str, Any], section: str, key: str, name: str,
                     metric: str) -> list[tuple[int, float, bool]]:
    """(group, value, reliable) of one forecast's ``metric`` per group of a breakdown (hour, horizon day).

    Groups without a spike, or where the metric is undefined, are left out.
    """
    groups = metrics.get(section, {}).get(key, {})
    points = []
    for group in sorted(groups, key=int):
        scores = groups[group][name]
        if scores["positives"] > 0 and scores.get(metric) is not None:
            points.append((int(group), float(scores[metric]), bool(scores["reliable"])))
    return points


def horizon_figure(predictions: pd.DataFrame, metrics: Mapping[str, Any]) -> Figure:
    """Brier skill and ROC AUC by horizon day (1-3), per threshold, for the model and the baselines."""
    keys = with_spikes(metrics)
    fig, axes = _subplots(len(keys), 2, (10, 3.2))
    if not keys:
        _nothing_to_draw(axes)
    for row, key in zip(axes, keys):
        for ax, (metric, title) in zip(row, (("brier_skill", "Brier skill vs climatology"), ("roc_auc", "ROC AUC"))):
            _horizon_panel(ax, metrics, key, metric)
            ax.set_title(f"{title}, > {dollars(key)}/MWh", fontsize=9)
    if keys:
        axes[0, 0].legend(loc="lower left", fontsize=7)
    return Figure("skill_by_horizon", "Skill by horizon day",
                  "Day 1 is the operating day bid in the DAM; skill usually fades with lead time. "
                  "A missing bar means no spike at that horizon." + _without_spikes_note(metrics),
                  _finish(fig, metrics))


def _horizon_panel(ax: Axes, metrics: Mapping[str, Any], key: str, metric: str) -> None:
    shown = [name for name in FORECAST_NAMES if name != "climatology"]  # climatology's skill is 0 by definition
    width = 0.8 / len(shown)
    drawn = False
    for k, name in enumerate(shown):
        points = breakdown_series(metrics, "by_threshold_horizon_day", key, name, metric)
        if points:
            offset = (k - (len(shown) - 1) / 2) * width
            ax.bar([p[0] + offset for p in points], [p[1] for p in points], width=width, color=COLORS[name],
                   label=LABELS[name])
            drawn = True
    if not drawn:
        _empty_panel(ax, "undefined at every horizon")
        return
    ax.axhline(0.5 if metric == "roc_auc" else 0.0, color="#444444", linewidth=0.8, linestyle="--")
    ax.set_xticks([1, 2, 3], ["day 1", "day 2", "day 3"])
    ax.grid(alpha=0.3, axis="y")


def hour_figure(predictions: pd.DataFrame, metrics: Mapping[str, Any]) -> Figure:
    """Per threshold and CPT hour of day: Brier skill, and mean forecast vs observed spike frequency."""
    keys = with_spikes(metrics)
    fig, axes = _subplots(len(keys), 2, (11, 3.0))
    if not keys:
        _nothing_to_draw(axes)
    for row, key in zip(axes, keys):
        _hour_skill_panel(row[0], metrics, key)
        _hour_frequency_panel(row[1], metrics, key)
    for ax in axes[-1]:
        ax.set_xlabel("hour starting (CPT)")
    return Figure("skill_by_hour", "Skill by hour of day",
                  "Left: Brier skill vs climatology per hour (large dots: at least "
                  f"{MIN_RELIABLE_POSITIVES} spikes; clipped to {SKILL_AXIS[0]:g}..{SKILL_AXIS[1]:g}, hours without "
                  "a spike left out). Right: how often each hour spiked vs the model's average probability."
                  + _without_spikes_note(metrics), _finish(fig, metrics))


def _hour_skill_panel(ax: Axes, metrics: Mapping[str, Any], key: str) -> None:
    low, high = SKILL_AXIS
    for name in ("model", "logistic", "persistence_yesterday"):
        points = breakdown_series(metrics, "by_threshold_hour", key, name, "brier_skill")
        hours = [p[0] for p in points]
        values = [min(high, max(low, p[1])) for p in points]
        ax.plot(hours, values, color=COLORS[name], marker="o", markersize=3,
                linewidth=2 if name == "model" else 1, label=LABELS[name])
        solid = [(h, v) for (h, v), p in zip(zip(hours, values), points) if p[2]]
        ax.scatter([h for h, _ in solid], [v for _, v in solid], color=COLORS[name], s=30, zorder=3)
    ax.axhline(0, color="#444444", linewidth=0.8)
    ax.set(xlim=(-0.6, 23.6), ylim=(low - 0.05, high + 0.05), ylabel="Brier skill",
           title=f"Brier skill by hour, > {dollars(key)}/MWh")
    ax.set_xticks(range(0, 24, 2))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=7)


def _hour_frequency_panel(ax: Axes, metrics: Mapping[str, Any], key: str) -> None:
    groups = metrics.get("by_threshold_hour", {}).get(key, {})
    hours = sorted(groups, key=int)
    ax.bar([int(h) for h in hours], [groups[h]["model"]["base_rate"] for h in hours], color="#d9d9d9",
           label="observed spike frequency")
    ax.plot([int(h) for h in hours], [groups[h]["model"]["mean_probability"] for h in hours], color=COLORS["model"],
            marker="o", markersize=3, linewidth=2, label="model mean probability")
    ax.set(xlim=(-0.6, 23.6), ylabel="share of hours", title=f"Spike frequency by hour, > {dollars(key)}/MWh")
    ax.set_xticks(range(0, 24, 2))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=7)


VALUE_AXIS = (-0.5, 1.0)  # relative value below -0.5 is off the chart: far worse than no forecast


def value_figure(predictions: pd.DataFrame, metrics: Mapping[str, Any]) -> Figure:
    """Relative economic value of every forecast against the user's cost/loss ratio, per threshold with spikes."""
    keys = with_spikes(metrics)
    fig, axes = _subplots(1, max(len(keys), 1), (4.6 * max(len(keys), 1), 3.8))
    if not keys:
        _nothing_to_draw(axes)
    for ax, key in zip(axes[0], keys):
        for name in FORECAST_NAMES:
            points = [(v["ratio"], v["value"]) for v in metrics["curves"][key][name].get("value", [])
                      if v["value"] is not None]
            if points:
                ratios, values = zip(*points)
                ax.plot(ratios, [min(max(v, VALUE_AXIS[0]), VALUE_AXIS[1]) for v in values], color=COLORS[name],
                        linewidth=2.2 if name == "model" else 1, label=LABELS[name])
        ax.axhline(0, color="#bbbbbb", linestyle="--", linewidth=1)
        ax.set(xscale="log", ylim=VALUE_AXIS, xlabel="cost / loss ratio of protecting", ylabel="relative value",
               title=f"Economic value, > {dollars(key)}/MWh")
        ax.grid(alpha=0.3)
    if keys:
        axes[0, 0].legend(loc="lower left", fontsize=7)
    return Figure("value", "Economic value for users (cost-loss model)",
                  "A user who pays C to avoid a loss L acts when the probability exceeds C/L: 1 is the value of "
                  "perfect foresight, 0 that of acting on the spike frequency alone, below 0 a loss against it."
                  + _without_spikes_note(metrics), _finish(fig, metrics))


FIGURE_MAKERS: dict[str, FigureMaker] = {
    "reliability": reliability_figure,
    "roc_pr": roc_pr_figure,
    "value": value_figure,
    "timeline": timeline_figure,
    "skill_by_horizon": horizon_figure,
    "skill_by_hour": hour_figure,
}
FIGURE_NAMES = tuple(FIGURE_MAKERS)
