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
    built from the input files already on disk, only models already gated on disk are considered,
    and every row says ``fallback_cached_inputs``. A candidate whose training failed (a failure
    record beside it, see :mod:`pipeline.tasks.train`) is not trained again here: the current
    model is retained (``error_recovery.model_retraining.fallback``).
    """

    date = TodayInCptParameter(description="issue day D (default: today in CPT); forecasts D+1..D+3")
    cached_inputs = luigi.BoolParameter(default=False, significant=False,
                                        description="fallback: build features from cached input files only")
    priority = 100

    @property
    def retry_count(self) -> int:  # type: ignore[override]
        # luigi disables a task after retry_count failures: a first attempt plus max_retries retries.
        return self.ctx.config.error_recovery.inference.max_retries + 1

    def requires(self) -> dict[str, luigi.Task]:
        m = self.ctx.config.model
        needs: dict[str, luigi.Task] = {"features": BuildFeatures(date=self.date, cached_inputs=self.cached_inputs)}
        newest = registry.cadence_date(self.date, m.cadence_anchor, m.retrain_every_days)
        if self._may_gate(newest):
            needs["gate"] = GateModel(date=newest)
        return needs

    def _may_gate(self, train_date: dt.date) -> bool:
        """Whether this run may train and gate the candidate of ``train_date`` (else: gate records on disk only)."""
        if self.cached_inputs:
            return False
        retain = self.ctx.config.error_recovery.model_retraining.fallback == "retain_current_model"
        return not (retain and self.ctx.layout.model_failure(train_date, self.ctx.model_tag).exists())

    def output(self) -> ParquetTarget:
        return self.ctx.layout.forecast(self.date)

    def run(self):  # noqa: ANN201 - a generator of dynamic dependencies
        ctx = self.ctx
        m = ctx.config.model
        decisions: dict[dt.date, dict[str, Any]] = {}
        for train_date in registry.cadence_dates_back(self.date, m.cadence_anchor, m.retrain_every_days, m.max_age_days):
            record = ctx.layout.model_decision(train_date, ctx.model_tag)
            if not record.exists():
                if not self._may_gate(train_date):
                    log.warning("no gate record for the candidate of %s (%s): looking at older models", train_date,
                                "cached-inputs fallback" if self.cached_inputs else "its training failed")
                    continue
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
