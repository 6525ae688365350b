"""Backtest: replay DailyInference over [start, end] and score it against what happened.

The replay runs the production tasks themselves (features, cadence training, gating, serving,
inference). It prepares their inputs in bulk first, so the thousands of daily files exist before
the daily tasks look for them. Each day's serving model is read from that day's serving record
(:class:`~pipeline.tasks.serving.ServeModel`), which follows from its newest gate record alone, so
the results are the same however the window is split into runs. The outputs carry the identity of
the forecasts and prices they were made from: after a settings change or a fixed source file, the
next run remakes them (the old files kept beside them as ``.superseded-*``). Outputs: ``backtests/<start>_<end>/predictions.parquet`` (forecast
columns, baseline forecasts, realised ``outcome`` and hourly max price), ``metrics.json``, and the
report for people, ``report.html`` with its figures as PNG files beside it (:mod:`pipeline.render`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import luigi
import pandas as pd

from pipeline import backtest, ercot_time, inputs
from pipeline.catalogue import HORIZON_DAYS
from pipeline.labels import threshold_label
from pipeline.model import SpikeModel
from pipeline.model_records import serving_from_record
from pipeline.progress import Progress
from pipeline.render import backtest_page
from pipeline.render.figures import FIGURE_NAMES
from pipeline.settings import Settings
from pipeline.tasks.base import PipelineTask, configured, log
from pipeline.tasks.features import FeatureRange
from pipeline.tasks.fetch import HourlyPricesRange
from pipeline.tasks.inference import DailyInference
from pipeline.tasks.serving import ServeModel
from targets import JsonTarget, Layout, ParquetTarget, Stamp
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

    def days(self) -> list[dt.date]:
        if self.end < self.start:
            raise ValueError(f"backtest end {self.end} is before its start {self.start}")
        return ercot_time.days(self.start, self.end)

    def stamp(self) -> Stamp:
        """The forecasts replayed and the prices that realised them."""
        days = self.days()
        return self.lineage.backtest(days, [f"{d}:{self.requires_of(DailyInference, date=d).stamp().made_from}"
                                            for d in days])

    def complete(self) -> bool:
        outputs, stamp = self.output(), self.stamp()
        return (outputs["predictions"].current(stamp) and outputs["metrics"].current(stamp)
                and all(t.exists() for t in outputs["figures"].values()) and outputs["report"].exists())

    def run(self):  # noqa: ANN201 - a generator of dynamic dependencies
        days, shards = self.days(), range(len(self.settings.shards))
        self.set_status_message("preparing inputs in bulk")
        first = first_issue_day_needed(self.settings, self.start)
        *features, hourly = yield [*(self.requires_of(FeatureRange, start=first, end=self.end, shard=k) for k in shards),
                                   self.requires_of(HourlyPricesRange, start=self.start + dt.timedelta(days=1),
                                                    end=self.end + HORIZON)]
        self.set_progress_percentage(10)
        self.set_status_message(f"replaying {len(days)} daily forecasts")
        forecasts = yield [self.requires_of(DailyInference, date=d) for d in days]
        servings = yield [[self.requires_of(ServeModel, date=d, shard=k) for d in days] for k in shards]
        self.set_progress_percentage(90)
        outputs, stamp = self.output(), self.stamp()
        if not (outputs["predictions"].current(stamp) and outputs["metrics"].current(stamp)):
            set_aside_stale(outputs)
            progress = Progress("scoring", len(days) * len(shards), percentage=self.set_progress_percentage,
                                message=self.set_status_message, span=(90, 96))
            parts = [assemble(configured(self.config_id, k).layout, self._shard_forecasts(k, days, forecasts),
                              dict(zip(days, servings[k])), features[k], hourly,
                              on_day=lambda d: progress.advance(d.isoformat())) for k in shards]
            progress.close()
            predictions, unlabelled = pd.concat([p for p, _ in parts], ignore_index=True), sum(n for _, n in parts)
            result = backtest.scored(predictions, unlabelled, self.start, self.end, config_summary(self.settings))
            outputs["predictions"].write(predictions, stamp)
            outputs["metrics"].write(result, stamp)
            log.info("backtest %s..%s: %d scored rows, %d without outcome", self.start, self.end, len(predictions),
                     unlabelled)
        self._report(outputs)
        self.set_progress_percentage(100)

    def _shard_forecasts(self, shard: int, days: list[dt.date], daily: list[ParquetTarget]) -> dict[dt.date, ParquetTarget]:
        """Shard ``shard``'s forecast of each day: the daily forecast itself when unsharded."""
        if not self.settings.sharded:
            return dict(zip(days, daily))
        return {day: configured(self.config_id, shard).layout.shard_forecast(day) for day in days}

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


def set_aside_stale(outputs: dict[str, Any]) -> None:
    """Set aside what an earlier run left of a backtest made from other forecasts or settings: the
    report first (it is written last, so a report on disk always belongs to the files beside it)."""
    for target in (outputs["report"], *outputs["figures"].values(), outputs["metrics"], outputs["predictions"]):
        if target.store.exists(target.path):
            target.set_aside("superseded", "made from other forecasts or settings than those in force")


def write_missing(target: luigi.Target, payload: Any) -> None:
    """Write ``payload`` unless ``target`` exists.

    An interrupted run can leave some outputs behind, and the atomic rename refuses to overwrite them.
    """
    if not target.exists():
        target.write(payload)


def assemble(layout: Layout, forecasts: Mapping[dt.date, ParquetTarget], servings: Mapping[dt.date, JsonTarget],
             features: Mapping[dt.date, ParquetTarget], hourly: Mapping[dt.date, ParquetTarget],
             on_day: Callable[[dt.date], object] | None = None) -> tuple[pd.DataFrame, int]:
    """Predictions of every day (forecast, baselines, outcome) and the count of rows without outcome.

    Each day's baselines come from the model that served it, named by its serving record;
    ``on_day`` is told each day once it is assembled.
    """
    models: dict[dt.date, SpikeModel] = {}
    frames, unlabelled = [], 0
    for day, target in forecasts.items():
        forecast = target.read()
        serving = serving_from_record(servings[day].read())
        made_by = set(forecast["model_id"])
        named = {serving.row_model_id(threshold_label(t)) for t in forecast["threshold"].unique()}
        if not made_by <= named:
            raise LookupError(f"the forecast of {day} ({target.path}) was made by {sorted(made_by)}, but its serving "
                              f"record {servings[day].path} names {sorted(named)}")
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
