"""Backtest: replay DailyInference over [start, end] and score it against what happened.

The replay runs the production tasks themselves (features, cadence training, gating, inference);
it only prepares their inputs in bulk first, so the thousands of daily files exist before the
daily tasks look for them. Outputs: ``backtests/<start>_<end>/predictions.parquet`` (forecast
columns, baseline forecasts, realised ``outcome`` and hourly max price), ``metrics.json``, and the
report for people, ``report.html`` with its figures as PNG files beside it (:mod:`pipeline.reporting`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import luigi
import pandas as pd

from pipeline import backtest, ercot_time, labels, registry, reporting
from pipeline.model import SpikeModel
from pipeline.progress import Progress
from pipeline.report_figures import FIGURE_NAMES
from pipeline.tasks.common import Context, PipelineTask, log
from pipeline.tasks.features import FeatureRange
from pipeline.tasks.fetch import HourlyPricesRange
from pipeline.tasks.inference import DailyInference
from pipeline.tasks.train import window_for
from pipeline.training import HORIZON_DAYS
from targets import JsonTarget, ParquetTarget


def first_issue_day_needed(ctx: Context, start: dt.date) -> dt.date:
    """The earliest issue day whose features the models serving ``start`` are trained on."""
    m = ctx.config.model
    newest = registry.cadence_date(start, m.cadence_anchor, m.retrain_every_days)
    incumbent = newest - dt.timedelta(days=m.retrain_every_days)
    return window_for(ctx, incumbent).fit_first


class Backtest(PipelineTask):
    """Forecasts issued on every day in [start, end] (inclusive), joined to realised spikes and scored."""

    start = luigi.DateParameter()
    end = luigi.DateParameter()

    def output(self) -> dict[str, Any]:
        layout = self.ctx.layout
        return {"predictions": layout.backtest_predictions(self.start, self.end),
                "metrics": layout.backtest_metrics(self.start, self.end),
                "figures": {name: layout.backtest_figure(self.start, self.end, name) for name in FIGURE_NAMES},
                "report": layout.backtest_report(self.start, self.end)}

    def _days(self) -> list[dt.date]:
        if self.end < self.start:
            raise ValueError(f"backtest end {self.end} is before its start {self.start}")
        return ercot_time.days(self.start, self.end)

    def run(self):  # noqa: ANN201 - a generator of dynamic dependencies
        ctx = self.ctx
        days = self._days()
        self.set_status_message("preparing inputs in bulk")
        yield [FeatureRange(start=first_issue_day_needed(ctx, self.start), end=self.end),
               HourlyPricesRange(start=self.start + dt.timedelta(days=1), end=self.end + dt.timedelta(days=HORIZON_DAYS))]
        self.set_progress_percentage(10)
        self.set_status_message(f"replaying {len(days)} daily forecasts")
        yield [DailyInference(date=d) for d in days]
        self.set_progress_percentage(90)
        self._score(days)
        self._report()
        self.set_progress_percentage(100)

    def _score(self, days: list[dt.date]) -> None:
        """predictions.parquet and metrics.json; skipped when an earlier run wrote both (only the report is missing)."""
        outputs = self.output()
        if outputs["predictions"].exists() and outputs["metrics"].exists():
            return
        progress = Progress("scoring", len(days), percentage=self.set_progress_percentage,
                            message=self.set_status_message, span=(90, 96))
        predictions, unlabelled = assemble(self.ctx, days, on_day=lambda day: progress.advance(day.isoformat()))
        progress.close()
        self.set_status_message("computing metrics")
        result = backtest.metrics(predictions)
        result["window"] = {"start": self.start.isoformat(), "end": self.end.isoformat(), "days": len(days)}
        result["rows_without_outcome"] = unlabelled
        result["config"] = _config_summary(self.ctx)
        write_missing(outputs["predictions"], predictions)
        write_missing(outputs["metrics"], result)
        log.info("backtest %s..%s: %d scored rows, %d without outcome", self.start, self.end, len(predictions),
                 unlabelled)

    def _report(self) -> None:
        """report.html and its PNG figures, rendered from the files just written (so they can be rebuilt)."""
        outputs = self.output()
        progress = Progress("rendering report", len(FIGURE_NAMES), percentage=self.set_progress_percentage,
                            message=self.set_status_message, span=(96, 100))
        rendered = reporting.render_backtest(outputs["predictions"].read(), outputs["metrics"].read(),
                                             on_step=progress.advance)
        progress.close()
        for name, png in rendered.figures.items():
            write_missing(outputs["figures"][name], png)
        write_missing(outputs["report"], rendered.html)  # last: a report on disk means the figures are too
        log.info("backtest report: %s", outputs["report"].path)


def write_missing(target: luigi.Target, payload: Any) -> None:
    """Write ``payload`` unless ``target`` exists.

    An interrupted run can leave some outputs behind, and the atomic rename refuses to overwrite them.
    """
    if not target.exists():
        target.write(payload)


def assemble(ctx: Context, days: list[dt.date],
             on_day: Callable[[dt.date], object] | None = None) -> tuple[pd.DataFrame, int]:
    """Predictions of every day (forecast, baselines, outcome) and the count of rows without outcome.

    ``on_day`` is told each day once it is assembled (progress on the terminal and in luigid).
    """
    models: dict[str, SpikeModel] = {}
    frames, unlabelled = [], 0
    for day in days:
        forecast = ctx.layout.forecast(day).read()
        features = ctx.layout.features(ctx.features_tag, day).read()
        model_id = forecast["model_id"].iloc[0]
        if model_id not in models:
            train_date = dt.date.fromisoformat(model_id.split(".", 1)[0])
            models[model_id] = ctx.layout.model(train_date, ctx.model_tag).load()
        spike_model = models[model_id]
        baselines = backtest.baseline_columns(features, spike_model.predict_baselines(features), spike_model.thresholds)
        outcomes = _outcomes(ctx, day)
        labelled, missing = backtest.join_predictions(forecast, baselines, outcomes)
        if len(labelled):
            frames.append(labelled)
        unlabelled += missing
        if on_day is not None:
            on_day(day)
    if not frames:
        raise ValueError(f"no forecast issued {days[0]}..{days[-1]} has a realised outcome yet: "
                         "nothing to score")
    return pd.concat(frames, ignore_index=True), unlabelled


def _outcomes(ctx: Context, issue_day: dt.date) -> pd.DataFrame:
    target_days = [issue_day + dt.timedelta(days=k) for k in range(1, HORIZON_DAYS + 1)]
    hourly = [ctx.layout.rt_hourly(ctx.market.storage_key, d) for d in target_days]
    frames = [t.read() for t in hourly if t.exists()]
    if not frames:
        return pd.DataFrame(columns=["node", "threshold", "interval_start", "outcome", "price_max"])
    return labels.spike_outcomes(pd.concat(frames, ignore_index=True), ctx.config.market.thresholds)


def _config_summary(ctx: Context) -> dict[str, Any]:
    c = ctx.config
    return {
        "nodes": list(c.market.nodes), "thresholds": list(c.market.thresholds),
        "sources": {"market": c.sources.market, "weather": c.sources.weather},
        "simulated": ctx.market.simulated, "issue_time": c.features.issue_time,
        "model": c.model.model_dump(mode="json"), "features_tag": ctx.features_tag, "model_tag": ctx.model_tag,
    }
