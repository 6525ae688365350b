"""Backtest: replay DailyInference over [start, end] and score it against what happened.

The replay runs the production tasks themselves (features, cadence training, gating, inference).
It prepares their inputs in bulk first, so the thousands of daily files exist before the daily
tasks look for them. Each day's serving model follows from its newest gate record alone, so the
results are the same however the window is split into runs. Outputs: ``backtests/<start>_<end>/predictions.parquet`` (forecast
columns, baseline forecasts, realised ``outcome`` and hourly max price), ``metrics.json``, and the
report for people, ``report.html`` with its figures as PNG files beside it (:mod:`pipeline.render`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import luigi
import pandas as pd

from pipeline import backtest, ercot_time, inputs, registry
from pipeline.catalogue import HORIZON_DAYS
from pipeline.labels import threshold_label
from pipeline.model import SpikeModel
from pipeline.progress import Progress
from pipeline.render import backtest_page
from pipeline.render.figures import FIGURE_NAMES
from pipeline.settings import Settings
from pipeline.tasks.base import PipelineTask, log, shard_layout
from pipeline.tasks.features import FeatureRange
from pipeline.tasks.fetch import HourlyPricesRange
from pipeline.tasks.inference import DailyInference
from targets import Layout, ParquetTarget
from targets.files import read_many

HORIZON = dt.timedelta(days=HORIZON_DAYS)


def first_issue_day_needed(settings: Settings, start: dt.date) -> dt.date:
    """The earliest issue day whose features the models serving ``start`` are trained on."""
    return settings.window(settings.cadence.previous(settings.cadence.newest(start))).fit_first


class Backtest(PipelineTask):
    """Forecasts issued on every day in [start, end] (inclusive), joined to realised spikes and scored."""

    start = luigi.DateParameter()
    end = luigi.DateParameter()

    def output(self) -> dict[str, Any]:
        layout = self.layout
        return {"predictions": layout.backtest_predictions(self.start, self.end),
                "metrics": layout.backtest_metrics(self.start, self.end),
                "figures": {name: layout.backtest_figure(self.start, self.end, name) for name in FIGURE_NAMES},
                "report": layout.backtest_report(self.start, self.end)}

    def run(self):  # noqa: ANN201 - a generator of dynamic dependencies
        if self.end < self.start:
            raise ValueError(f"backtest end {self.end} is before its start {self.start}")
        days, shards = ercot_time.days(self.start, self.end), range(len(self.settings.shards))
        self.set_status_message("preparing inputs in bulk")
        first = first_issue_day_needed(self.settings, self.start)
        *features, hourly = yield [*(FeatureRange(start=first, end=self.end, shard=k) for k in shards),
                                   HourlyPricesRange(start=self.start + dt.timedelta(days=1), end=self.end + HORIZON)]
        self.set_progress_percentage(10)
        self.set_status_message(f"replaying {len(days)} daily forecasts")
        forecasts = yield [DailyInference(date=d) for d in days]
        self.set_progress_percentage(90)
        outputs = self.output()
        if not (outputs["predictions"].exists() and outputs["metrics"].exists()):  # else only the report is missing
            progress = Progress("scoring", len(days) * len(shards), percentage=self.set_progress_percentage,
                                message=self.set_status_message, span=(90, 96))
            parts = [assemble(shard_layout(k), self.settings.cadence, self._shard_forecasts(k, days, forecasts),
                              features[k], hourly, on_day=lambda d: progress.advance(d.isoformat())) for k in shards]
            progress.close()
            predictions, unlabelled = pd.concat([p for p, _ in parts], ignore_index=True), sum(n for _, n in parts)
            result = backtest.scored(predictions, unlabelled, self.start, self.end, config_summary(self.settings))
            write_missing(outputs["predictions"], predictions)
            write_missing(outputs["metrics"], result)
            log.info("backtest %s..%s: %d scored rows, %d without outcome", self.start, self.end, len(predictions),
                     unlabelled)
        self._report(outputs)
        self.set_progress_percentage(100)

    def _shard_forecasts(self, shard: int, days: list[dt.date], daily: list[ParquetTarget]) -> dict[dt.date, ParquetTarget]:
        """Shard ``shard``'s forecast of each day: the daily forecast itself when unsharded."""
        if not self.settings.sharded:
            return dict(zip(days, daily))
        return {day: shard_layout(shard).shard_forecast(day) for day in days}

    def _report(self, outputs: dict[str, Any]) -> None:
        """report.html and its PNG figures, rendered from the files just written (so they can be rebuilt)."""
        progress = Progress("rendering report", len(FIGURE_NAMES), percentage=self.set_progress_percentage,
                            message=self.set_status_message, span=(96, 100))
        rendered = backtest_page.render(outputs["predictions"].read(), outputs["metrics"].read(),
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


def assemble(layout: Layout, cadence: registry.Cadence, forecasts: Mapping[dt.date, ParquetTarget],
             features: Mapping[dt.date, ParquetTarget], hourly: Mapping[dt.date, ParquetTarget],
             on_day: Callable[[dt.date], object] | None = None) -> tuple[pd.DataFrame, int]:
    """Predictions of every day (forecast, baselines, outcome) and the count of rows without outcome.

    Each day's baselines come from the model that served it, found by the serving rule over the
    gate records (the same rule inference used); ``on_day`` is told each day once it is assembled.
    """
    models: dict[dt.date, SpikeModel] = {}
    frames, unlabelled = [], 0
    for day, target in forecasts.items():
        forecast = target.read()
        dates = cadence.back_from(day)
        serving = registry.serving(day, layout.gate_records(dates), cadence, layout.failed_models(dates))
        made_by = set(forecast["model_id"])
        named = {serving.row_model_id(threshold_label(t)) for t in forecast["threshold"].unique()} if serving else set()
        if made_by != named:
            raise LookupError(f"the forecast of {day} was made by {sorted(made_by)}, but the gate records now name "
                              f"{sorted(named) or 'no model'}")
        if serving.train_date not in models:
            models[serving.train_date] = layout.model(serving.train_date).load()
        realised = [hourly[d] for d in inputs.outcome_days(day) if d in hourly and hourly[d].exists()]
        labelled, missing = backtest.day_predictions(forecast, features[day].read(), models[serving.train_date],
                                                     read_many(realised) if realised else None)
        if len(labelled):
            frames.append(labelled)
        unlabelled += missing
        if on_day is not None:
            on_day(day)
    if not frames:
        days = list(forecasts)
        raise ValueError(f"no forecast issued {days[0]}..{days[-1]} has a realised outcome yet: nothing to score")
    return pd.concat(frames, ignore_index=True), unlabelled


def config_summary(settings: Settings) -> dict[str, Any]:
    c = settings.config
    return {
        "nodes": list(settings.features.nodes), "thresholds": list(c.market.thresholds),
        "sources": {"market": c.sources.market, "weather": c.sources.weather},
        "simulated": settings.simulated, "issue_time": c.features.issue_time,
        "model": c.model.model_dump(mode="json"), "features_tag": settings.tags.features,
        "model_tag": settings.tags.model,
    }
