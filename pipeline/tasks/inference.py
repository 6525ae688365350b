"""DailyInference: the features of issue day D + the model serving D -> forecasts/<D>/forecast.parquet."""

from __future__ import annotations

import datetime as dt
from typing import Any

import luigi
from luigi.task import MixinNaiveBulkComplete

from pipeline import registry
from pipeline.clock import TodayInCptParameter
from pipeline.forecast import STATUS_CACHED_INPUTS, STATUS_OK, forecast_frame
from pipeline.model import SpikeModel
from pipeline.tasks.common import PipelineTask, log
from pipeline.tasks.features import BuildFeatures
from pipeline.tasks.train import GateModel, serving_model
from targets import ParquetTarget


class DailyInference(MixinNaiveBulkComplete, PipelineTask):
    """The 72-hour spike-probability forecast issued on ``date`` (default: today in CPT).

    The serving model is the newest accepted candidate trained on a cadence date <= ``date``
    (at most ``model.max_age_days`` old); the walk back asks for each older gate record only when
    the newer candidate was rejected. With ``cached_inputs`` (the fetch fallback) the features are
    built from the input files already on disk and every row says ``fallback_cached_inputs``.
    """

    date = TodayInCptParameter(description="issue day D (default: today in CPT); forecasts D+1..D+3")
    cached_inputs = luigi.BoolParameter(default=False, significant=False,
                                        description="fallback: build features from cached input files only")
    priority = 100

    @property
    def retry_count(self) -> int:  # type: ignore[override]
        return self.ctx.config.error_recovery.inference.max_retries

    def requires(self) -> dict[str, luigi.Task]:
        m = self.ctx.config.model
        return {
            "features": BuildFeatures(date=self.date, cached_inputs=self.cached_inputs),
            "gate": GateModel(date=registry.cadence_date(self.date, m.cadence_anchor, m.retrain_every_days)),
        }

    def output(self) -> ParquetTarget:
        return self.ctx.layout.forecast(self.date)

    def run(self):  # noqa: ANN201 - a generator of dynamic dependencies
        ctx = self.ctx
        m = ctx.config.model
        decisions: dict[dt.date, dict[str, Any]] = {}
        for train_date in registry.cadence_dates_back(self.date, m.cadence_anchor, m.retrain_every_days, m.max_age_days):
            record = yield GateModel(date=train_date)
            decisions[train_date] = record.read()
            if decisions[train_date]["status"] == "accepted":
                break
        artifact, model_id = serving_model(ctx, decisions, self.date)
        features = self.input()["features"].read()
        spike_model: SpikeModel = artifact.load()
        status = STATUS_CACHED_INPUTS if self.cached_inputs else STATUS_OK
        frame = forecast_frame(features, spike_model.predict(features), spike_model.thresholds, self.date,
                               ctx.issue_time(self.date), model_id, status)
        target = self.output()
        target.write_csv_twin(frame)
        target.write(frame)
        log.info("forecast for %s written (%d rows, model %s, status %s)", self.date, len(frame), model_id, status)
