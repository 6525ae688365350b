"""Entry points of the scheduled jobs: one date parameter each, so ``RangeDaily`` can drive them.

* ``FetchDaily(date)`` -- the 00:00 data job: every dataset file that became public in the 24
  hours before 00:00 CPT on ``date`` (:func:`pipeline.inputs.due_fetches`), so the inputs of the
  morning forecast are on disk before it runs.
* ``RetrainModel(date)`` -- the retraining job: the gated candidate of ``date`` on cadence dates
  (``model.retrain_every_days`` from ``model.cadence_anchor``), trivially complete on every other
  date. Cron's ``*/2`` fires on both the 31st and the 1st; whatever the trigger, the cadence holds.
* ``PublishPreviousForecast(date)`` -- the inference fallback (``use_previous_forecast``): the
  newest earlier valid forecast that still overlaps the new horizon, re-labelled
  ``fallback_previous`` and published with its twins to ``forecasts/<date>/`` (never over a valid
  forecast made under the settings in force; an invalid one is set aside).
"""

from __future__ import annotations

import datetime as dt

import luigi
from luigi.task import MixinNaiveBulkComplete

from pipeline.catalogue import HORIZON_DAYS
from pipeline.forecast import republished
from pipeline.inputs import due_fetches
from pipeline.tasks.base import PipelineTask, log
from pipeline.tasks.fetch import FETCH_TASKS, FetchDataset
from pipeline.tasks.train import GateModel
from targets.forecast_files import ForecastTarget


class FetchDaily(MixinNaiveBulkComplete, luigi.WrapperTask, PipelineTask):
    """The daily data job for ``date``: the dataset files due by 00:00 CPT on that day."""

    date = luigi.DateParameter()

    def requires(self) -> list[FetchDataset]:
        return [self.requires_of(FETCH_TASKS[dataset], date=day)
                for dataset, day in due_fetches(self.sources, list(FETCH_TASKS), self.date)]


class RetrainModel(MixinNaiveBulkComplete, PipelineTask):
    """The retraining job for ``date``: the gated candidate on cadence dates, nothing otherwise."""

    date = luigi.DateParameter()

    def requires(self) -> list[GateModel]:
        if not self.settings.cadence.contains(self.date):
            return []
        return [self.requires_of(GateModel, date=self.date, shard=k) for k in range(len(self.settings.shards))]

    def complete(self) -> bool:
        return all(task.complete() for task in self.requires())

    def run(self) -> None:
        for target in self.input():
            decision = target.read()
            log.info("retraining for %s: model %s %s (%s)", self.date, decision["model_id"], decision["status"],
                     decision["reason"])


class PublishPreviousForecast(PipelineTask):
    """Inference fallback: the previous forecast re-labelled ``fallback_previous`` for issue day ``date``."""

    date = luigi.DateParameter()

    def output(self) -> ForecastTarget:
        return self.layout.forecast(self.date)

    def complete(self) -> bool:
        """A valid forecast made under the settings in force is there (whatever made it)."""
        found = self.output().stamp() if self.output().exists() else None
        return found is not None and found.settings == self.lineage.forecast([]).settings

    def run(self) -> None:
        source_day = self._previous_day()
        self.set_status_message(f"re-publishing the forecast issued on {source_day}")
        previous = self.layout.forecast(source_day)
        frame = republished(previous.read(), self.date, self.settings.issue_time(self.date))
        stamp = self.lineage.forecast([f"previous:{source_day}:{previous.stamp().made_from}"],
                                      degraded={}, republished_from=source_day.isoformat())
        self.output().publish(frame, stamp)
        log.warning("forecast for %s published as fallback_previous: the forecast issued on %s re-labelled "
                    "(model %s)", self.date, source_day, frame["model_id"].iloc[0])

    def _previous_day(self) -> dt.date:
        """The newest issue day before ``date`` whose forecast exists and still covers part of its horizon."""
        for back in range(1, HORIZON_DAYS):
            candidate = self.date - dt.timedelta(days=back)
            if self.layout.forecast(candidate).exists():
                return candidate
        raise FileNotFoundError(f"no forecast issued in the {HORIZON_DAYS - 1} days before {self.date} to re-publish")
