"""Pure tier: the backtest report rendered from a small hand-made predictions / metrics pair."""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pipeline import backtest, drift, ercot_time, report
from pipeline.render import backtest_page
from pipeline.render.figures import FIGURE_NAMES
from targets import Layout
from pipeline.forecast import with_bid_columns
from targets.schemas import PREDICTIONS

ISSUE_DAYS = [dt.date(2024, 7, 1), dt.date(2024, 7, 2), dt.date(2024, 7, 3)]
WINDOW = {"start": "2024-07-01", "end": "2024-07-04", "days": 4}  # 07-04 has no scored row
NODES = ("HB_NORTH", "HB_WEST")
THRESHOLDS = (50.0, 100.0, 1000.0)  # many spikes, a few, none
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SECTIONS = ("summary", "headline", "reliability", "curves", "value", "timeline", "horizon", "nodes", "gaps", "config")


def _hourly_prices(hours: pd.DatetimeIndex, node_offset: float) -> np.ndarray:
    """A daily shape peaking in the late afternoon (CPT) with a few scarcity spikes over $100."""
    local_hour = hours.tz_convert(ercot_time.CPT).hour.to_numpy()
    shape = 25 + 30 * np.exp(-((local_hour - 17) ** 2) / 8.0) + node_offset
    spikes = np.where((local_hour == 18) & (hours.day.to_numpy() % 2 == 0), 160.0, 0.0)
    return shape + spikes


def hand_made_predictions() -> pd.DataFrame:
    """3 issue days x 2 nodes x 3 thresholds x 72 hours; node HB_WEST fell back on 2024-07-02."""
    rng = np.random.default_rng(11)
    blocks = []
    for day in ISSUE_DAYS:
        hours = pd.DatetimeIndex(ercot_time.forecast_hours(day))
        for k, node in enumerate(NODES):
            prices = _hourly_prices(hours, node_offset=5.0 * k)
            for threshold in THRESHOLDS:
                outcome = (prices > threshold).astype(int)
                signal = 1 / (1 + np.exp(-(prices - threshold) / (0.2 * threshold)))
                blocks.append(pd.DataFrame({
                    "forecast_date": day, "issued_at": ercot_time.local_time_on(day, "06:00"), "node": node,
                    "threshold": threshold, "interval_start": hours, "horizon_h": np.arange(1, 73),
                    "probability": np.clip(signal + rng.normal(0, 0.03, 72), 0.001, 0.999),
                    "model_id": f"{day - dt.timedelta(days=day.day % 2)}.m1-test",
                    "status": "fallback_previous" if (day == ISSUE_DAYS[1] and node == "HB_WEST") else "ok",
                    "outcome": outcome, "price_max": prices, "price_mean": prices - 4.0,
                    "dam_asof": np.roll(prices, 24) * 0.95,
                    "p_climatology": np.full(72, max(outcome.mean(), 0.002)),
                    "p_persistence_yesterday": np.roll(outcome, 24) * 0.9 + 0.05,
                    "p_persistence_last_week": np.full(72, 0.05),
                    "p_logistic": np.clip(signal * 0.8 + 0.02, 0, 1),
                    "p_dam_asof": np.clip(signal * 0.7 + 0.03, 0, 1),
                }))
    return PREDICTIONS.conform(with_bid_columns(pd.concat(blocks, ignore_index=True)))


def hand_made_metrics(predictions: pd.DataFrame, simulated: bool = True) -> dict[str, Any]:
    """What the Backtest task writes: the pure metrics plus window, unscored rows, config and a note."""
    metrics = backtest.metrics(predictions)
    metrics.update(window=WINDOW, rows_without_outcome=5, incomplete_hours=2,
                   config={"nodes": list(NODES), "thresholds": list(THRESHOLDS), "simulated": simulated,
                           "sources": {"market": "synthetic" if simulated else "ercot_archive"}})
    return metrics


@pytest.fixture(scope="module")
def pair() -> tuple[pd.DataFrame, dict[str, Any]]:
    predictions = hand_made_predictions()
    return predictions, hand_made_metrics(predictions)


@pytest.fixture(scope="module")
def rendered(pair) -> backtest_page.RenderedReport:
    return backtest_page.render(*pair)


def _attributes(page: str, name: str) -> list[str]:
    return re.findall(rf'\b{name}="([^"]*)"', page)


def test_the_report_has_every_section_in_reading_order(rendered) -> None:
    positions = [rendered.html.find(f'<section id="{sid}">') for sid in SECTIONS]
    assert -1 not in positions, dict(zip(SECTIONS, positions))
    assert positions == sorted(positions)
    assert '<table class="headline">' in rendered.html


def test_every_figure_is_embedded_and_also_returned_as_png(rendered) -> None:
    sources = _attributes(rendered.html, "src")
    assert len(sources) == len(FIGURE_NAMES) == len(rendered.figures)
    embedded = [base64.b64decode(src.removeprefix("data:image/png;base64,")) for src in sources]
    assert all(src.startswith("data:image/png;base64,") for src in sources)
    assert embedded == [rendered.figures[name] for name in FIGURE_NAMES]
    assert all(png.startswith(PNG_SIGNATURE) for png in embedded)


def test_the_page_needs_no_network(rendered) -> None:
    assert all(src.startswith("data:") for src in _attributes(rendered.html, "src"))
    assert all(href.startswith("#") for href in _attributes(rendered.html, "href"))
    without_images = re.sub(r'src="data:[^"]*"', "", rendered.html)
    assert "http" not in without_images
    assert "<script" not in rendered.html and "<link" not in rendered.html and "url(" not in rendered.html


def test_simulated_data_is_labelled_and_real_data_is_not(pair, rendered) -> None:
    assert "SIMULATED DATA" in rendered.html.split("<body>", 1)[1][:2000], "label near the top"
    assert "(SIMULATED DATA)</title>" in rendered.html
    predictions, _ = pair
    real = backtest_page.render(predictions, hand_made_metrics(predictions, simulated=False))
    assert "SIMULATED" not in real.html
    # The PNG files travel without the page: they carry the label themselves.
    assert all(real.figures[name] != rendered.figures[name] for name in FIGURE_NAMES)


def test_the_summary_states_model_vs_climatology_per_threshold(pair, rendered) -> None:
    _, metrics = pair
    model, climatology = metrics["by_threshold"]["50"]["model"], metrics["by_threshold"]["50"]["climatology"]
    summary = rendered.html.split('<section id="summary">', 1)[1].split("</section>", 1)[0]
    assert (f"At $50/MWh ({model['positives']:,} spike node-hours in {model['n']:,} node-hours"
            in summary)
    assert f"ROC AUC is {model['roc_auc']:.2f} vs {climatology['roc_auc']:.2f} for climatology" in summary
    assert "At $1,000/MWh no hour spiked" in summary
    assert "Fallbacks were used" in summary


def test_the_headline_table_flags_how_far_each_threshold_can_be_trusted(pair, rendered) -> None:
    _, metrics = pair
    positives = {k: metrics["by_threshold"][k]["model"]["positives"] for k in ("50", "100", "1000")}
    assert positives["50"] >= 30 and 0 < positives["100"] < 30 and positives["1000"] == 0
    table = rendered.html.split('<table class="headline">', 1)[1].split("</table>", 1)[0]
    assert table.count('<tr class="group">') == 3
    assert table.count('<tr class="model">') == 3
    for label in backtest_page.LABELS.values():
        assert table.count(f"<td>{label}</td>") == 3
    # Three issue days hold spikes on too few days to pass the rule, however many spike rows $50 has.
    assert table.count("indicative only: ") == 2 and "reliable: " not in table
    assert "no spike: these scores say nothing about skill" in table
    assert "Reliable: scores count as reliable only with at least 30 spike hours on at least 10" in rendered.html


def test_gaps_section_lists_fallbacks_unscored_rows_missing_days_and_other_notes(rendered) -> None:
    gaps = rendered.html.split('<section id="gaps">', 1)[1].split("</section>", 1)[0]
    assert "fallback_previous" in gaps and "2024-07-02" in gaps
    assert "not scored): <b>5</b>" in gaps
    assert "no scored row: 2024-07-04" in gaps
    assert "incomplete_hours" in gaps


def test_configuration_and_model_ids_are_shown(pair, rendered) -> None:
    _, metrics = pair
    config = rendered.html.split('<section id="config">', 1)[1]
    for model_id in metrics["model_ids"]:
        assert f"<code>{model_id}</code>" in config
    assert "&quot;simulated&quot;: true" in config


def test_the_weekly_comparison_is_shown_and_alerts_below_the_floor(pair) -> None:
    predictions, metrics = pair
    comparison = drift.compare(dt.date(2024, 7, 14), metrics, metrics, skill_floor=1.0)
    page = backtest_page.render(predictions, metrics, comparison).html
    assert page.index('<section id="drift">') < page.index('<section id="headline">')
    assert '<p class="alert">ALERT: Brier skill at $50' in page
    assert "Weekly backtest 2024-07-14" in page


def test_headline_text_lists_every_forecast_per_threshold(pair) -> None:
    _, metrics = pair
    text = backtest_page.headline_text(metrics)
    assert text.count("> $") == 3
    for label in backtest_page.LABELS.values():
        assert text.count(label) == 3
    assert f"{metrics['by_threshold']['50']['model']['roc_auc']:.4f}" in text


def test_an_empty_backtest_is_refused(pair) -> None:
    predictions, metrics = pair
    with pytest.raises(ValueError, match="no scored forecast rows"):
        backtest_page.render(predictions.iloc[:0], metrics)


def test_the_figures_are_the_same_for_the_same_backtest(pair, rendered) -> None:
    again = backtest_page.render(*pair)
    assert again.figures == rendered.figures


# --- the command line -----------------------------------------------------------------------------


def test_report_backtest_prints_the_summary_and_where_the_report_is(pair, data_root, capsys) -> None:
    _, metrics = pair
    start, end = dt.date(2024, 7, 1), dt.date(2024, 7, 4)
    layout = Layout(data_root)
    layout.backtest_metrics(start, end).write(metrics)
    layout.backtest_report(start, end).write("<html></html>")
    assert report.main(["backtest", "--start", "2024-07-01", "--end", "2024-07-04"]) == 0
    out = capsys.readouterr().out
    assert "SIMULATED market" in out
    assert "At $50/MWh" in out and "logistic regression" in out
    assert f"Full report: {(data_root / 'backtests' / '2024-07-01_2024-07-04' / 'report.html').resolve()}" in out


def test_report_backtest_says_how_to_run_a_missing_backtest(capsys) -> None:
    assert report.main(["backtest", "--start", "2024-07-01", "--end", "2024-07-04"]) == 1
    assert "luigi --module pipeline Backtest --start 2024-07-01 --end 2024-07-04" in capsys.readouterr().err


def test_report_forecast_still_answers(capsys) -> None:
    assert report.main(["forecast", "--date", "2024-07-01"]) == 1
    assert "no forecast for 2024-07-01" in capsys.readouterr().err
