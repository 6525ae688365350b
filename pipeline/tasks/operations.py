"""Entry points of the scheduled jobs: one date parameter each, so ``RangeDaily`` can drive them.

* ``FetchDaily(date)`` -- the 00:00 data job: every dataset file that became public in the 24
  hours before 00:00 CPT on ``date`` (:func:`pipeline.publication.published_between`), so the
  inputs of the morning forecast are on disk before it runs.
* ``RetrainModel(date)`` -- the retraining job: the gated candidate of ``date`` on cadence dates
  (``model.retrain_every_days`` from ``model.cadence_anchor``), trivially complete on every other
  date. Cron's ``*/2`` fires on both the 31st and the 1st; whatever the trigger, the cadence holds.
* ``PublishPreviousForecast(date)`` -- the inference fallback (``use_previous_forecast``): the
  newest earlier forecast that still overlaps the new horizon, re-labelled ``fallback_previous``
  and written atomically to the contract path ``forecasts/<date>/forecast.parquet``.
"""

from __future__ import annotations

import datetime as dt

import luigi
from luigi.task import MixinNaiveBulkComplete

from pipeline import ercot_time, publication, registry
from pipeline.forecast import republished
from pipeline.tasks.common import Context, PipelineTask, log
from pipeline.tasks.fetch import FETCH_TASKS, FetchDataset
from pipeline.tasks.train import GateModel
from pipeline.training import HORIZON_DAYS
from targets import ParquetTarget


def due_fetches(ctx: Context, day: dt.date) -> list[FetchDataset]:
    """Fetch tasks of every file published in the 24 hours before 00:00 CPT on ``day``."""
    after, until = ercot_time.day_start(day - dt.timedelta(days=1)), ercot_time.day_start(day)
    tasks: list[FetchDataset] = []
    for dataset, task_cls in FETCH_TASKS.items():
        source = ctx.source_for(dataset)
        if source is None:
            continue
        for key_day in publication.published_between(dataset, source.name, after, until):
            if source.covers(dataset, key_day):
                tasks.append(task_cls(date=key_day))
    return tasks


class FetchDaily(MixinNaiveBulkComplete, luigi.WrapperTask, PipelineTask):
    """The daily data job for ``date``: the dataset files due by 00:00 CPT on that day."""

    date = luigi.DateParameter()

    def requires(self) -> list[FetchDataset]:
        return due_fetches(self.ctx, self.date)


class RetrainModel(MixinNaiveBulkComplete, PipelineTask):
    """The retraining job for ``date``: the gated candidate on cadence dates, nothing otherwise."""

    date = luigi.DateParameter()

    def _gate(self) -> GateModel | None:
        m = self.ctx.config.model
        if registry.is_cadence_date(self.date, m.cadence_anchor, m.retrain_every_days):
            return GateModel(date=self.date)
        return None

    def requires(self) -> list[GateModel]:
        gate = self._gate()
        return [gate] if gate is not None else []

    def complete(self) -> bool:
        gate = self._gate()
        return gate is None or gate.complete()

    def run(self) -> None:
        decision = self.input()[0].read()
        log.info("retraining for %s: model %s %s (%s)", self.date, decision["model_id"], decision["status"],
                 decision["reason"])


def previous_forecast_day(ctx: Context, day: dt.date) -> dt.date:
    """The newest issue day before ``day`` whose forecast exists and still covers part of ``day``'s horizon."""
    for back in range(1, HORIZON_DAYS):
        candidate = day - dt.timedelta(days=back)
        if ctx.layout.forecast(candidate).exists():
            return candidate
    raise FileNotFoundError(f"no forecast issued in the {HORIZON_DAYS - 1} days before {day} to re-publish")


class PublishPreviousForecast(PipelineTask):
    """Inference fallback: the previous forecast re-labelled ``fallback_previous`` for issue day ``date``."""

    date = luigi.DateParameter()

    def output(self) -> ParquetTarget:
        return self.ctx.layout.forecast(self.date)

    def run(self) -> None:
        ctx = self.ctx
        source_day = previous_forecast_day(ctx, self.date)
        self.set_status_message(f"re-publishing the forecast issued on {source_day}")
        frame = republished(ctx.layout.forecast(source_day).read(), self.date, ctx.issue_time(self.date))
        target = self.output()
        target.write_csv_twin(frame)
        target.write(frame)
        log.warning("forecast for %s published as fallback_previous: the forecast issued on %s re-labelled "
                    "(model %s)", self.date, source_day, frame["model_id"].iloc[0])
