"""The backtest report for people: one self-contained ``report.html`` plus its figures as PNG files.

A trader should learn in two minutes whether the spike probabilities can be trusted: a plain
summary first, then the headline scores of the model against every baseline, then the pictures
(calibration, ROC / precision-recall, forecast vs realised prices per node, skill by horizon and
hour of day), then what went wrong in the window (fallbacks, missing prices) and exactly which
configuration and models produced it. Everything is rendered from ``predictions.parquet`` and
``metrics.json`` alone, so a report can be rebuilt from the files. The page needs no network:
CSS is inline and figures are embedded as base64 PNG (matplotlib, Agg backend). Pure: no luigi,
no file I/O.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pipeline import ercot_time, evidence
from pipeline.render.figures import FIGURE_MAKERS, FIGURE_NAMES, FORECAST_NAMES, LABELS, Figure, dollars, thresholds
from pipeline.render.forecast import format_probability

__all__ = ["FIGURE_NAMES", "RenderedReport", "drift_sentence", "headline_text", "render_backtest",
           "summary_sentences"]

# (metric key, column heading, True when higher is better)
HEADLINE_METRICS = (
    ("roc_auc", "ROC AUC", True),
    ("average_precision", "avg precision", True),
    ("brier", "Brier", False),
    ("brier_skill", "Brier skill vs clim.", True),
    ("log_loss", "log loss", False),
    ("ece", "ECE", False),
)
# Mean forecast within this relative distance of the observed spike rate reads as "about right".
CALIBRATION_TOLERANCE = 0.2
# Keys of metrics.json that have their own section; anything else is listed under data gaps.
RENDERED_KEYS = frozenset({
    "by_threshold", "by_threshold_node", "by_threshold_horizon_day", "by_threshold_hour", "by_threshold_month",
    "curves", "rows", "status_counts", "model_ids", "window", "rows_without_outcome", "config", "decisions",
    "evidence",
})
# Below this Brier skill (in either direction) the forecast is as good as climatology, and says so.
NO_SKILL = 0.005


@dataclass(frozen=True)
class RenderedReport:
    """The HTML page and the same figures as PNG bytes by name (see :data:`FIGURE_NAMES`)."""

    html: str
    figures: dict[str, bytes]


def render(predictions: pd.DataFrame, metrics: Mapping[str, Any],
                    comparison: Mapping[str, Any] | None = None,
                    on_step: Callable[[str], object] | None = None) -> RenderedReport:
    """Render a backtest (its predictions and metrics, optionally the weekly comparison) for people.

    ``on_step`` is told the name of each figure as it is drawn (progress for long backtests).
    """
    if predictions.empty:
        raise ValueError("nothing to report: the backtest has no scored forecast rows")
    if "evidence" not in metrics:  # a metrics.json from before spike hours were counted
        metrics = {**metrics, "evidence": evidence.spike_evidence(predictions)}
    figures = []
    for name, draw in FIGURE_MAKERS.items():
        figures.append(draw(predictions, metrics))
        if on_step is not None:
            on_step(name)
    page = _page(predictions, metrics, figures, comparison)
    return RenderedReport(html=page, figures={f.name: f.png for f in figures})


# --- numbers and sentences ---------------------------------------------------------------------------


def fmt(value: float | None, spec: str = ".3f") -> str:
    """A score for people: ``n/a`` when it is undefined (e.g. ROC AUC without any spike)."""
    return "n/a" if value is None else format(value, spec)


def best_baseline(scores: Mapping[str, Any]) -> str:
    """The baseline with the lowest Brier score (the one the model most needs to beat)."""
    baselines = [name for name in FORECAST_NAMES if name != "model"]
    return min(baselines, key=lambda name: scores[name]["brier"])


def threshold_sentence(threshold: str, scores: Mapping[str, Any], spikes: Mapping[str, Any] | None = None) -> str:
    """One plain sentence on the model vs climatology and the best baseline at one threshold.

    ``spikes``: the threshold's spike evidence (:mod:`pipeline.evidence`); scores on too few distinct
    spike hours are called indicative, with the numbers that make them so.
    """
    model, climatology = scores["model"], scores["climatology"]
    n, positives = model["n"], model["positives"]
    if positives == 0:
        return (f"At {dollars(threshold)}/MWh no hour spiked in the {n:,} node-hours scored, so this window "
                f"says nothing about the model's skill at that level.")
    rival = best_baseline(scores)
    counted = f"; {evidence.describe(spikes)}" if spikes is not None else ""
    sentence = (f"At {dollars(threshold)}/MWh ({positives:,} spike node-hours in {n:,} node-hours, "
                f"{model['base_rate']:.1%}{counted}), the model's ROC AUC is {fmt(model['roc_auc'], '.2f')} vs "
                f"{fmt(climatology['roc_auc'], '.2f')} for climatology; {skill_phrase(model.get('brier_skill'))}. "
                f"The best baseline by Brier score is {LABELS[rival]} "
                f"({skill_phrase(scores[rival].get('brier_skill'), short=True)}), "
                f"{'which the model beats' if model['brier'] <= scores[rival]['brier'] else 'which beats the model'}.")
    if not evidence.is_reliable(spikes):
        sentence += (f" Fewer than {evidence.MIN_SPIKE_HOURS} spike hours on {evidence.MIN_SPIKE_DAYS} days: "
                     "treat these numbers as indicative.")
    return sentence


def skill_phrase(skill: float | None, short: bool = False) -> str:
    """The Brier skill in words a trader reads.

    'its Brier score is 14 % lower than climatology's (Brier skill +0.14)'; at zero skill 'its Brier
    score equals climatology's: no skill beyond the base rate' rather than '0 % lower (skill +0.00)'.
    ``short``: 'Brier skill +0.14' / 'no skill beyond climatology', for a parenthesis.
    """
    if skill is None:
        return "Brier skill undefined" if short else "its Brier skill vs climatology is undefined"
    if abs(skill) < NO_SKILL:
        return "no skill beyond climatology" if short else "its Brier score equals climatology's: no skill beyond the base rate"
    if short:
        return f"Brier skill {skill:+.2f}"
    direction = "lower" if skill > 0 else "higher"
    return f"its Brier score is {abs(skill):.0%} {direction} than climatology's (Brier skill {skill:+.2f})"


def calibration_sentence(threshold: str, scores: Mapping[str, Any]) -> str:
    """Mean forecast vs observed spike rate: is the model too eager or too timid on average?

    Without a single spike there is nothing to be calibrated against, and the sentence says so
    rather than calling a forecast of 0.03 % "over-forecast".
    """
    model = scores["model"]
    forecast, observed = model["mean_probability"], model["base_rate"]
    if not model["positives"]:
        return (f"Calibration at {dollars(threshold)} cannot be judged: no hour spiked (the model forecast "
                f"{format_probability(forecast)} on average).")
    if forecast < observed * (1 - CALIBRATION_TOLERANCE):
        verdict = "it under-forecast spikes"
    elif forecast > observed * (1 + CALIBRATION_TOLERANCE):
        verdict = "it over-forecast spikes"
    else:
        verdict = "about right on average"
    return (f"Calibration at {dollars(threshold)}: the model forecast {format_probability(forecast)} on average and "
            f"{format_probability(observed)} of hours spiked, {verdict} (expected calibration error "
            f"{fmt(model['ece'])}).")


def horizon_sentence(threshold: str, metrics: Mapping[str, Any]) -> str | None:
    """ROC AUC for day 1/2/3: how fast ranking skill fades with lead time (None without a breakdown or spikes)."""
    by_day = metrics.get("by_threshold_horizon_day", {}).get(threshold)
    if not by_day or all(by_day[day]["model"].get("roc_auc") is None for day in by_day):
        return None
    parts = [f"day {day} {fmt(by_day[day]['model']['roc_auc'], '.2f')}" for day in sorted(by_day, key=int)]
    return (f"ROC AUC by horizon at {dollars(threshold)}: " + ", ".join(parts)
            + " (day 1 = the operating day bid in the DAM).")


def data_sentence(metrics: Mapping[str, Any]) -> str:
    """Fallbacks and unscored rows in one sentence: the first thing to doubt in a bad window."""
    statuses = metrics.get("status_counts", {})
    unusual = {k: v for k, v in statuses.items() if k != "ok"}
    missing = metrics.get("rows_without_outcome", 0)
    if unusual:
        text = "Fallbacks were used: " + ", ".join(f"{v:,} rows {k}" for k, v in sorted(unusual.items())) + "."
    else:
        text = f"All {metrics.get('rows', 0):,} scored forecast rows were produced normally (status ok)."
    if missing:
        text += f" {missing:,} forecast rows had no complete realised price and are not scored."
    return text


def summary_sentences(metrics: Mapping[str, Any], comparison: Mapping[str, Any] | None = None) -> list[str]:
    """The plain-language summary at the top of the report (and of the command-line summary)."""
    keys = thresholds(metrics)
    sentences = []
    sentences.extend(threshold_sentence(k, metrics["by_threshold"][k], evidence.of_threshold(metrics, k)) for k in keys)
    sentences.append(calibration_sentence(keys[0], metrics["by_threshold"][keys[0]]))
    horizon = horizon_sentence(keys[0], metrics)
    if horizon:
        sentences.append(horizon)
    if comparison is not None:
        sentences.append(drift_sentence(comparison))
    sentences.append(data_sentence(metrics))
    return sentences


def drift_sentence(comparison: Mapping[str, Any]) -> str:
    """The watched skill this window vs a week earlier, prefixed ALERT when below the floor.

    The change is a verdict only when both windows hold enough spikes (``watched.verdict``);
    otherwise the sentence says that no verdict can be drawn, and why, with each window's count.
    """
    w = comparison["watched"]
    at = dollars(w["threshold"])
    if not w.get("verdict", True):
        spikes = w.get("evidence", {})
        text = (f"No drift verdict at {at}: this window has {evidence.describe(spikes.get('current'))} and the "
                f"window a week earlier {evidence.describe(spikes.get('previous'))}; comparing skill needs at least "
                f"{evidence.MIN_SPIKE_HOURS} spike hours on {evidence.MIN_SPIKE_DAYS} days in each.")
        if w["below_floor"]:
            text = (f"ALERT: Brier skill at {at} is {fmt(w['current'], '+.3f')} this window, below the floor "
                    f"{w['floor']:+.3f} (indicative: too few spikes). " + text)
        return text
    change = w["change"]
    trend = "" if change is None else (f"down {-change:.3f}; " if change < 0 else f"up {change:.3f}; ")
    text = (f"Brier skill at {at} is {fmt(w['current'], '+.3f')} this window vs "
            f"{fmt(w['previous'], '+.3f')} a week earlier ({trend}floor {w['floor']:+.3f}).")
    return ("ALERT: " + text + " Skill is below the floor.") if w["below_floor"] else text


def is_simulated(metrics: Mapping[str, Any]) -> bool:
    """True when the backtest ran on the embedded market simulator (``config.simulated``)."""
    return bool(metrics.get("config", {}).get("simulated", False))


def headline_text(metrics: Mapping[str, Any]) -> str:
    """The headline table as fixed-width text (for ``python -m pipeline.report backtest``)."""
    widths = [max(len(title), 7) + 2 for _, title, _ in HEADLINE_METRICS]
    first = max(len(label) for label in LABELS.values()) + 2
    lines = [f"{'forecast':<{first}}" + "".join(f"{title:>{w}}" for (_, title, _), w in zip(HEADLINE_METRICS, widths))
             + "  positives/n"]
    for key in thresholds(metrics):
        scores = metrics["by_threshold"][key]
        lines.append(f"> {dollars(key)}/MWh  ({trust_note(scores['model'], evidence.of_threshold(metrics, key))})")
        for name in FORECAST_NAMES:
            s = scores[name]
            cells = "".join(f"{fmt(s.get(metric), '.4f'):>{w}}" for (metric, _, _), w in zip(HEADLINE_METRICS, widths))
            lines.append(f"{LABELS[name]:<{first}}{cells}  {s['positives']:,}/{s['n']:,}")
    return "\n".join(lines)


# --- HTML ---------------------------------------------------------------------------------------------

CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d1d1f;margin:0 auto;
max-width:1120px;padding:0 20px 40px;line-height:1.45}
h1{font-size:1.5em;margin:.8em 0 .2em}
h2{font-size:1.2em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
.sub{color:#555;margin:0 0 1em}.banner{background:#fff3cd;border:1px solid #e0b000;padding:.6em .9em;font-weight:600}
.alert{background:#fde2e1;border:1px solid #c0392b;padding:.6em .9em;font-weight:600}
nav a{margin-right:1em;font-size:.9em}ul.summary li{margin:.35em 0}
table{border-collapse:collapse;font-size:.88em;margin:.5em 0}
th,td{padding:.25em .6em;text-align:right;border-bottom:1px solid #eee}
th:first-child,td:first-child{text-align:left}tr.group th{background:#f2f4f7;text-align:left}
td.best{font-weight:700}.flag{color:#a05a00}.ok{color:#1e7b34}tr.model td{background:#f7fbff}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{color:#555;font-size:.88em}
pre{background:#f6f8fa;padding:.7em;overflow-x:auto;font-size:.82em}
"""


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _row(cells: Sequence[str], css: str = "") -> str:
    """One ``<tr>`` of already-escaped ``<td>`` cells."""
    attr = f' class="{css}"' if css else ""
    return f"<tr{attr}>" + "".join(cells) + "</tr>"


def _table(head: Sequence[str], rows: Sequence[str], css: str) -> str:
    """An HTML table from escaped headings and complete ``<tr>`` rows."""
    header = "".join(f"<th>{_esc(h)}</th>" for h in head)
    return f'<table class="{css}"><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _best(scores: Mapping[str, Any], metric: str, higher: bool) -> float | None:
    values = [scores[n].get(metric) for n in FORECAST_NAMES if scores[n].get(metric) is not None]
    if not values:
        return None
    return max(values) if higher else min(values)


def trust_note(model: Mapping[str, Any], spikes: Mapping[str, Any] | None) -> str:
    """How far one threshold's scores can be trusted, from its distinct spike hours and days (the stated rule)."""
    if model["positives"] == 0:
        return "no spike: these scores say nothing about skill"
    if not evidence.is_reliable(spikes):
        return (f"indicative only: {evidence.describe(spikes)}, fewer than {evidence.MIN_SPIKE_HOURS} "
                f"on {evidence.MIN_SPIKE_DAYS} days")
    return f"reliable: {evidence.describe(spikes)}"


def _threshold_heading(key: str, model: Mapping[str, Any], columns: int, spikes: Mapping[str, Any] | None) -> str:
    """The group row of one threshold: spike counts, base rate and how far the scores can be trusted."""
    css = "ok" if evidence.is_reliable(spikes) else "flag"
    return (f'<tr class="group"><th colspan="{columns}">&gt; {_esc(dollars(key))}/MWh — {model["positives"]:,} '
            f'spike node-hours of {model["n"]:,} ({model["base_rate"]:.2%}) — '
            f'<span class="{css}">{_esc(trust_note(model, spikes))}</span></th></tr>')


def headline_table(metrics: Mapping[str, Any]) -> str:
    """Model vs every baseline per threshold; the best value of each column in bold (when spikes happened)."""
    head = ["forecast", *(title for _, title, _ in HEADLINE_METRICS)]
    rows: list[str] = []
    for key in thresholds(metrics):
        scores = metrics["by_threshold"][key]
        rows.append(_threshold_heading(key, scores["model"], len(head), evidence.of_threshold(metrics, key)))
        best = {metric: _best(scores, metric, higher) for metric, _, higher in HEADLINE_METRICS}
        for name in FORECAST_NAMES:
            s = scores[name]
            cells = [f"<td>{_esc(LABELS[name])}</td>"]
            for metric, _, _ in HEADLINE_METRICS:
                is_best = s["positives"] > 0 and s.get(metric) is not None and s.get(metric) == best[metric]
                mark = ' class="best"' if is_best else ""
                cells.append(f"<td{mark}>{fmt(s.get(metric), '.4f')}</td>")
            rows.append(_row(cells, "model" if name == "model" else ""))
    return _table(head, rows, "headline")


def breakdown_table(metrics: Mapping[str, Any], section: str, label: str,
                    name_of: Callable[[str], str]) -> str:
    """Model skill per group of one breakdown (node, horizon day) and threshold, with the best baseline."""
    head = [label, "threshold", "model ROC AUC", "model Brier skill", "best baseline (Brier)", "its skill",
            "positives"]
    rows = []
    for key in thresholds(metrics):
        groups = metrics.get(section, {}).get(key, {})
        for group in sorted(groups, key=lambda g: (int(g) if g.isdigit() else 0, g)):
            scores = groups[group]
            rival = best_baseline(scores)
            model = scores["model"]
            quiet = model["positives"] == 0  # skill without a spike is not skill: show none
            cells = [name_of(group), dollars(key), "no spikes" if quiet else fmt(model["roc_auc"]),
                     "no spikes" if quiet else fmt(model.get("brier_skill"), "+.3f"), LABELS[rival],
                     "" if quiet else fmt(scores[rival].get("brier_skill"), "+.3f"), f"{model['positives']:,}"]
            rows.append(_row([f"<td>{_esc(c)}</td>" for c in cells]))
    return _table(head, rows, section)


def decision_table(metrics: Mapping[str, Any]) -> str:
    """A flexible load's savings when it acts on the forecast, the issue-day DAM or perfect foresight."""
    head = ["curtailment cost", "rule", "hours curtailed", "saved ($ per MW)", "share of perfect foresight"]
    rows = []
    for key, table in metrics.get("decisions", {}).items():
        rules = [(f"forecast P(> {dollars(key)}) > {cut}", result) for cut, result in table["forecast"].items()]
        if table["dam_asof"] is not None:
            rules.append((f"issue-day DAM price > {dollars(key)}", table["dam_asof"]))
        rules.append(("perfect foresight", table["perfect"]))
        for rule, result in rules:
            share = "" if result["share"] is None else f"{result['share']:.0%}"
            cells = [f"{dollars(key)}/MWh", rule, f"{result['curtailed_hours']:,}", f"{result['saved']:,.0f}", share]
            rows.append(_row([f"<td>{_esc(c)}</td>" for c in cells]))
    if not rows:
        return '<p class="sub">No $100 or $250 threshold in this backtest: no decision table.</p>'
    return (_table(head, rows, "decisions")
            + '<p class="sub">A flexible load of 1 MW at every node decides the day before, for each next-day hour, '
              "whether to curtail; curtailing costs the threshold ($/MWh of consumption given up) and saves the "
              "hour's real-time price. Savings are against never curtailing, over the window and all nodes.</p>")


def _figure_html(figure: Figure) -> str:
    data = base64.b64encode(figure.png).decode("ascii")
    return (f'<figure id="fig-{figure.name}"><img alt="{_esc(figure.title)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_esc(figure.caption)}</figcaption></figure>")


def gaps_section(predictions: pd.DataFrame, metrics: Mapping[str, Any]) -> str:
    """Forecast statuses, unscored rows, forecast days without any scored row, and other metrics notes."""
    statuses = metrics.get("status_counts", {})
    rows = [_row([f"<td>{_esc(status)}</td>", f"<td>{count:,}</td>",
                  f"<td>{_esc(_status_days(predictions, status))}</td>"])
            for status, count in sorted(statuses.items())]
    unusual = sorted((k, v) for k, v in statuses.items() if k != "ok")
    fallbacks = ("Fallback forecasts in this window: " + ", ".join(f"{k} ({v:,} rows)" for k, v in unusual) + "."
                 if unusual else "No fallback forecast in this window: every scored row has status ok.")
    parts = [_table(["forecast status", "rows", "forecast dates"], rows, "statuses"), f"<p>{_esc(fallbacks)}</p>",
             f"<p>Forecast rows without a complete realised price (not scored): "
             f"<b>{metrics.get('rows_without_outcome', 0):,}</b>.</p>"]
    absent = _days_without_rows(predictions, metrics)
    if absent:
        parts.append(f"<p>Forecast dates in the window with no scored row: {_esc(', '.join(absent))}.</p>")
    extra = {k: v for k, v in metrics.items() if k not in RENDERED_KEYS}
    if extra:
        parts.append("<p>Further notes in metrics.json:</p><pre>"
                     + _esc(json.dumps(extra, indent=2, sort_keys=True, default=str)) + "</pre>")
    return "".join(parts)


def _status_days(predictions: pd.DataFrame, status: str) -> str:
    """The forecast dates with rows of ``status`` ('all' when every date has it)."""
    days = sorted({str(d) for d in predictions.loc[predictions["status"] == status, "forecast_date"]})
    if len(days) == predictions["forecast_date"].nunique():
        return "all"
    return ", ".join(days) if len(days) <= 12 else f"{', '.join(days[:12])} and {len(days) - 12} more"


def _days_without_rows(predictions: pd.DataFrame, metrics: Mapping[str, Any]) -> list[str]:
    """Issue days of the window with no scored row at all (every hour of their horizon unlabelled)."""
    window = metrics.get("window")
    if not window:
        return []
    wanted = ercot_time.days(dt.date.fromisoformat(window["start"]), dt.date.fromisoformat(window["end"]))
    present = {str(d) for d in predictions["forecast_date"]}
    return [d.isoformat() for d in wanted if d.isoformat() not in present]


def config_section(metrics: Mapping[str, Any]) -> str:
    """The exact configuration and model ids behind the numbers."""
    model_ids = metrics.get("model_ids", [])
    items = "".join(f"<li><code>{_esc(m)}</code></li>" for m in model_ids)
    config = json.dumps(metrics.get("config", {}), indent=2, sort_keys=True, default=str)
    return (f"<p>{len(model_ids)} model(s) served forecasts in this window:</p><ul>{items}</ul>"
            f"<p>Configuration:</p><pre>{_esc(config)}</pre>")


DRIFT_METRICS = (("brier_skill", "Brier skill", ".3f"), ("roc_auc", "ROC AUC", ".3f"),
                 ("average_precision", "avg precision", ".3f"), ("positives", "spike node-hours", ",.0f"))


def drift_section(comparison: Mapping[str, Any]) -> str:
    """The weekly comparison: the model's scores this window vs the window a week earlier, per threshold.

    Each threshold shows both windows' spike hours and days; a change is shown only where both
    windows hold enough spikes to compare skill, "no verdict" elsewhere.
    """
    css = "alert" if comparison["watched"]["below_floor"] else "sub"
    current, previous = comparison["current"], comparison["previous"]
    rows = []
    for key, by_metric in comparison["by_threshold"].items():
        reliable = by_metric.get("reliable", {})
        verdict = bool(reliable.get("current")) and bool(reliable.get("previous"))
        spikes = by_metric.get("evidence", {})
        rows.append(_row([f"<td>{_esc(c)}</td>" for c in (
            dollars(key), "spike hours (days)", _spike_cell(spikes.get("current")), _spike_cell(spikes.get("previous")),
            "" if verdict else "too few spikes: no verdict")]))
        for metric, label, spec in DRIFT_METRICS:
            v = by_metric[metric]
            change = fmt(v["change"], "+" + spec) if verdict or metric == "positives" else "no verdict"
            cells = [dollars(key), label, fmt(v["current"], spec), fmt(v["previous"], spec), change]
            rows.append(_row([f"<td>{_esc(c)}</td>" for c in cells]))
    return (f'<p class="{css}">{_esc(drift_sentence(comparison))}</p>'
            f'<p class="sub">This window: forecasts issued {_esc(current["start"])} to {_esc(current["end"])}; '
            f'a week earlier: {_esc(previous["start"])} to {_esc(previous["end"])}. A change in skill is a '
            f"verdict only where both windows pass the rule: {_esc(evidence.RULE)}.</p>"
            + _table(["threshold", "model metric", "this window", "a week earlier", "change"], rows, "drift"))


def _spike_cell(spikes: Mapping[str, Any] | None) -> str:
    return "unknown" if spikes is None else f"{spikes['spike_hours']:,} ({spikes['spike_days']:,})"


def _title(metrics: Mapping[str, Any], comparison: Mapping[str, Any] | None) -> str:
    window = metrics.get("window", {})
    kind = f"Weekly backtest {comparison['date']}" if comparison is not None else "Spike forecast backtest"
    label = " (SIMULATED DATA)" if is_simulated(metrics) else ""
    return f"{kind}: forecasts issued {window.get('start', '?')} to {window.get('end', '?')}{label}"


def _sections(predictions: pd.DataFrame, metrics: Mapping[str, Any], figures: Mapping[str, Figure],
              comparison: Mapping[str, Any] | None) -> list[tuple[str, str, str]]:
    """(anchor, heading, HTML) of every section, in reading order: the verdict first, provenance last."""
    summary = '<ul class="summary">' + "".join(
        f"<li>{_esc(s)}</li>" for s in summary_sentences(metrics, comparison)) + "</ul>"
    sections = [("summary", "Summary", summary)]
    if comparison is not None:
        sections.append(("drift", "Skill drift vs the previous week", drift_section(comparison)))
    return sections + [
        ("headline", "Headline scores: model vs baselines", headline_table(metrics) + HEADLINE_NOTE),
        ("reliability", "Reliability", _figure_html(figures["reliability"])),
        ("curves", "ROC and precision-recall", _figure_html(figures["roc_pr"])),
        ("value", "What the forecast is worth", _figure_html(figures["value"]) + decision_table(metrics)),
        ("timeline", "Forecast vs realised spikes", _figure_html(figures["timeline"])),
        ("horizon", "Skill by horizon and hour", _figure_html(figures["skill_by_horizon"])
         + breakdown_table(metrics, "by_threshold_horizon_day", "horizon", lambda g: f"day {g}")
         + _figure_html(figures["skill_by_hour"])),
        ("nodes", "Skill by node", breakdown_table(metrics, "by_threshold_node", "node", str)),
        ("gaps", "Data gaps and fallbacks", gaps_section(predictions, metrics)),
        ("config", "Configuration and models", config_section(metrics)),
    ]


HEADLINE_NOTE = ('<p class="sub">Brier skill vs climatology: 1 is perfect, 0 is no better than the month × hour '
                 "spike frequency, negative is worse. ECE: expected calibration error. Lower is better for Brier, "
                 "log loss and ECE; the best value per column is in bold. A spike node-hour is one node's hour "
                 f"above the threshold, scored once per forecast that covered it. Reliable: {_esc(evidence.RULE)}.</p>")
SIMULATED_BANNER = ('<p class="banner">SIMULATED DATA — prices and outcomes come from the embedded ERCOT-like market '
                    "simulator, not from ERCOT. Use this report to check the pipeline, not to judge real trading.</p>")


def _page(predictions: pd.DataFrame, metrics: Mapping[str, Any], figures: Sequence[Figure],
          comparison: Mapping[str, Any] | None) -> str:
    """Assemble the sections into one HTML document (inline CSS, no script, no external resource)."""
    sections = _sections(predictions, metrics, {f.name: f for f in figures}, comparison)
    nodes = ", ".join(metrics.get("config", {}).get("nodes", sorted(predictions["node"].unique())))
    sub = (f"{metrics.get('window', {}).get('days', '?')} issue days · nodes {nodes} · {metrics.get('rows', 0):,} "
           "scored node-hour-threshold rows · hours in Central Prevailing Time")
    nav = "<nav>" + "".join(f'<a href="#{sid}">{_esc(title)}</a>' for sid, title, _ in sections) + "</nav>"
    body = "".join(f'<section id="{sid}"><h2>{_esc(title)}</h2>{content}</section>' for sid, title, content in sections)
    title = _esc(_title(metrics, comparison))
    banner = SIMULATED_BANNER if is_simulated(metrics) else ""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<style>{CSS}</style></head><body><h1>{title}</h1><p class="sub">{_esc(sub)}</p>'
            f"{banner}{nav}{body}</body></html>\n")
