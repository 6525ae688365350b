"""DailyInference: the features of issue day D + the model serving D -> forecasts/<D>/forecast.parquet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator
from typing import Any

import luigi
from luigi.task import MixinNaiveBulkComplete

from pipeline import clock, registry
from pipeline.forecast import STATUS_CACHED_INPUTS, STATUS_OK, forecast_frame
from pipeline.ops import alerts
from pipeline.tasks.base import PipelineTask, TodayInCptParameter, attempts, log
from pipeline.tasks.features import BuildFeatures
from pipeline.tasks.train import GateModel
from targets import ArtifactError, ParquetTarget

Decisions = dict[dt.date, dict[str, Any]]


class DailyInference(MixinNaiveBulkComplete, PipelineTask):
    """The 72-hour spike-probability forecast issued on ``date`` (default: today in CPT).

    The serving model follows the rule of :mod:`pipeline.registry`: the walk back asks for each
    older gate record only when the newer candidate was rejected. With ``cached_inputs`` (the fetch
    fallback) the features are built from the input files already on disk, only models already
    gated on disk are considered, and every row says ``fallback_cached_inputs``. A candidate whose
    training failed (a failure record beside it) is not trained again here: the current model is
    retained (``error_recovery.model_retraining.fallback``). A model whose artifact fails its
    integrity check is never loaded: it is marked invalid, an alert goes out, and the next valid
    model within ``model.max_age_days`` serves.
    """

    date = TodayInCptParameter(description="issue day D (default: today in CPT); forecasts D+1..D+3")
    cached_inputs = luigi.BoolParameter(default=False, significant=False,
                                        description="fallback: build features from cached input files only")
    priority = 100
    # When an alert is raised: the command-line layer's clock (tests replace it).
    alert_clock: clock.Clock = staticmethod(clock.utc_now)

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
        decisions: Decisions = {}
        while True:
            yield from self._walk(decisions)
            serving = served(self.date, decisions, self.settings.cadence)
            try:
                model = self.layout.model(serving.train_date).load()
                break
            except ArtifactError as exc:
                self._refuse(serving, exc)
                decisions.pop(serving.train_date)
        features = self.input()["features"].read()
        status = STATUS_CACHED_INPUTS if self.cached_inputs else STATUS_OK
        frame = forecast_frame(features, model.predict(features), model.thresholds, self.date,
                               self.settings.issue_time(self.date), serving.model_id, status)
        self.output().write_csv_twin(frame)
        self.output().write(frame)
        log.info("forecast for %s written (%d rows, model %s, status %s)", self.date, len(frame), serving.model_id,
                 status)

    def _walk(self, decisions: Decisions) -> Generator[luigi.Task, Any, None]:
        """Read (or make, yielding GateModel) the gate records the serving rule needs, into ``decisions``."""
        cadence, skipped = self.settings.cadence, set()
        while (needed := registry.next_record_needed(self.date, decisions, skipped, cadence)) is not None:
            record = self.layout.model_decision(needed)
            if self.layout.model_failure(needed).exists() or (not record.exists() and not self._may_gate(needed)):
                log.warning("the candidate of %s is not used here (%s): looking at older models", needed,
                            "cached-inputs fallback" if self.cached_inputs else "its training or artifact failed")
                skipped.add(needed)
                continue
            decisions[needed] = (record if record.exists() else (yield GateModel(date=needed))).read()

    def _refuse(self, serving: registry.Serving, error: ArtifactError) -> None:
        """Mark the artifact invalid (so it never serves) and alert; the walk then goes on to older models."""
        self.layout.model_failure(serving.train_date).write({
            "status": "invalid", "model_id": serving.model_id, "train_date": serving.train_date.isoformat(),
            "error": str(error)})
        config = self.settings.config
        alerts.send(alerts.Alert(kind="model_invalid", severity="critical",
                                 title=f"model {serving.model_id} failed its integrity check and was skipped",
                                 detail=f"{error}\n\nThe forecast of {self.date} uses the next valid model.",
                                 at=self.alert_clock(), job="inference", forecast_date=self.date,
                                 key=f"model_invalid:{serving.model_id}"),
                    config.alerts, self.layout.alert_log())


def served(day: dt.date, decisions: Decisions, cadence: registry.Cadence) -> registry.Serving:
    """The model serving ``day`` (:func:`pipeline.registry.serving`), or an error saying why none can."""
    serving = registry.serving(day, decisions, cadence)
    if serving is None:
        raise LookupError(f"no valid accepted or rejected model trained within {cadence.max_age_days} days before {day}")
    if serving.status != "accepted":
        log.warning("every candidate within %d days before %s was rejected: serving the newest, trained on %s",
                    cadence.max_age_days, day, serving.train_date)
    return serving
