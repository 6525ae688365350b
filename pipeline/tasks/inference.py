"""DailyInference: the features of issue day D + the model serving D -> forecasts/<D>/forecast.parquet."""

from __future__ import annotations

import datetime as dt
from typing import Any

import luigi
from luigi.task import MixinNaiveBulkComplete

from pipeline import registry
from pipeline.forecast import STATUS_CACHED_INPUTS, STATUS_OK, forecast_frame
from pipeline.tasks.base import PipelineTask, TodayInCptParameter, attempts, log
from pipeline.tasks.features import BuildFeatures
from pipeline.tasks.train import GateModel
from targets import ParquetTarget


class DailyInference(MixinNaiveBulkComplete, PipelineTask):
    """The 72-hour spike-probability forecast issued on ``date`` (default: today in CPT).

    The serving model follows the rule of :mod:`pipeline.registry`: the walk back asks for each
    older gate record only when the newer candidate was rejected. With ``cached_inputs`` (the fetch
    fallback) the features are built from the input files already on disk, only models already
    gated on disk are considered, and every row says ``fallback_cached_inputs``. A candidate whose
    training failed (a failure record beside it) is not trained again here: the current model is
    retained (``error_recovery.model_retraining.fallback``).
    """

    date = TodayInCptParameter(description="issue day D (default: today in CPT); forecasts D+1..D+3")
    cached_inputs = luigi.BoolParameter(default=False, significant=False,
                                        description="fallback: build features from cached input files only")
    priority = 100

    @property
    def retry_count(self) -> int:  # type: ignore[override]
        return attempts(self.settings.config.error_recovery.inference)

    def requires(self) -> dict[str, luigi.Task]:
        needs: dict[str, luigi.Task] = {"features": BuildFeatures(date=self.date, cached_inputs=self.cached_inputs)}
        newest = self.settings.cadence.newest(self.date)
        if self._may_gate(newest):
            needs["gate"] = GateModel(date=newest)
        return needs

    def _may_gate(self, train_date: dt.date) -> bool:
        """Whether this run may train and gate the candidate of ``train_date`` (else: gate records on disk only)."""
        if self.cached_inputs:
            return False
        retain = self.settings.config.error_recovery.model_retraining.fallback == "retain_current_model"
        return not (retain and self.layout.model_failure(train_date).exists())

    def output(self) -> ParquetTarget:
        return self.layout.forecast(self.date)

    def run(self):  # noqa: ANN201 - a generator of dynamic dependencies
        cadence, decisions, skipped = self.settings.cadence, {}, set()
        while (needed := registry.next_record_needed(self.date, decisions, skipped, cadence)) is not None:
            record = self.layout.model_decision(needed)
            if not record.exists() and not self._may_gate(needed):
                log.warning("no gate record for the candidate of %s (%s): looking at older models", needed,
                            "cached-inputs fallback" if self.cached_inputs else "its training failed")
                skipped.add(needed)
                continue
            decisions[needed] = (record if record.exists() else (yield GateModel(date=needed))).read()
        serving = served(self.date, decisions, cadence)
        features = self.input()["features"].read()
        model = self.layout.model(serving.train_date).load()
        status = STATUS_CACHED_INPUTS if self.cached_inputs else STATUS_OK
        frame = forecast_frame(features, model.predict(features), model.thresholds, self.date,
                               self.settings.issue_time(self.date), serving.model_id, status)
        self.output().write_csv_twin(frame)
        self.output().write(frame)
        log.info("forecast for %s written (%d rows, model %s, status %s)", self.date, len(frame), serving.model_id,
                 status)


def served(day: dt.date, decisions: dict[dt.date, dict[str, Any]], cadence: registry.Cadence) -> registry.Serving:
    """The model serving ``day`` (:func:`pipeline.registry.serving`), or an error saying why none can."""
    serving = registry.serving(day, decisions, cadence)
    if serving is None:
        raise LookupError(f"no accepted or rejected model trained within {cadence.max_age_days} days before {day}")
    if serving.status != "accepted":
        log.warning("every candidate within %d days before %s was rejected: serving the newest, trained on %s",
                    cadence.max_age_days, day, serving.train_date)
    return serving
