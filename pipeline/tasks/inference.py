"""DailyInference: the features of issue day D + the model serving D -> forecasts/<D>/forecast.parquet."""

from __future__ import annotations

import datetime as dt
from typing import Any

import luigi
import pandas as pd
from luigi.task import MixinNaiveBulkComplete

from pipeline import clock, registry
from pipeline.forecast import STATUS_CACHED_INPUTS, STATUS_OK, forecast_frame
from pipeline.labels import threshold_label
from pipeline.ops import alerts
from pipeline.tasks.base import PipelineTask, ShardTask, TodayInCptParameter, attempts, log
from pipeline.tasks.features import BuildFeatures
from pipeline.tasks.train import GateModel
from targets import ArtifactError, ParquetTarget

Decisions = dict[dt.date, dict[str, Any]]


class _Forecasting(MixinNaiveBulkComplete):
    """What the daily forecast and a shard's forecast share: parameters, retries, requirements, the forecast."""

    date = TodayInCptParameter(description="issue day D (default: today in CPT); forecasts D+1..D+3")
    cached_inputs = luigi.BoolParameter(default=False, significant=False,
                                        description="fallback: build features from cached input files only")
    priority = 100
    # When an alert is raised: the command-line layer's clock (tests replace it).
    alert_clock: clock.Clock = staticmethod(clock.utc_now)

    @property
    def retry_count(self) -> int:  # type: ignore[override]
        return attempts(self.settings.config.error_recovery.inference)

    def _needs(self, shard: int) -> dict[str, luigi.Task]:
        needs: dict[str, luigi.Task] = {"features": BuildFeatures(date=self.date, cached_inputs=self.cached_inputs,
                                                                  shard=shard)}
        newest = self.settings.cadence.newest(self.date)
        if self._may_gate(newest):
            needs["gate"] = GateModel(date=newest, shard=shard)
        return needs

    def _may_gate(self, train_date: dt.date) -> bool:
        """Whether this run may train and gate the candidate of ``train_date`` (else: gate records on disk only)."""
        if self.cached_inputs:
            return False
        retain = self.settings.config.error_recovery.model_retraining.fallback == "retain_current_model"
        return not (retain and self.layout.model_failure(train_date).exists())

    def _forecast(self) -> pd.DataFrame:
        """The forecast of this task's nodes, from its features and the model serving ``date``."""
        layout, cadence = self.layout, self.settings.cadence
        while True:
            dates = cadence.back_from(self.date)
            serving = served(self.date, layout.gate_records(dates), layout.failed_models(dates), cadence)
            try:
                model = layout.model(serving.train_date).load()
                break
            except ArtifactError as exc:
                self._refuse(serving, exc)  # marked invalid: the next pass looks at the next model
        features = self.input()["features"].read()
        labels = [threshold_label(t) for t in model.thresholds]
        frame = forecast_frame(features, model.predict_served(features, dict(serving.forecasters)), model.thresholds,
                               self.date, self.settings.issue_time(self.date), [serving.row_model_id(k) for k in labels],
                               STATUS_CACHED_INPUTS if self.cached_inputs else STATUS_OK)
        log.info("forecast for %s made (%d rows, model %s, forecasters %s, status %s)", self.date, len(frame),
                 serving.model_id, dict(serving.forecasters) or "model", frame["status"].iloc[0])
        return frame

    def _refuse(self, serving: registry.Serving, error: ArtifactError) -> None:
        """Mark the artifact invalid (so it never serves) and alert; the next valid model then serves."""
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


class DailyInference(_Forecasting, PipelineTask):
    """The 72-hour spike-probability forecast issued on ``date`` (default: today in CPT).

    The serving model follows the rule of :mod:`pipeline.registry` over the gate records on disk:
    this task gates only the newest candidate (older records come from the retraining job, or from a
    backtest's bulk gating), so a cold start trains two models. Per threshold, the model or the
    baseline its gate chose serves, and ``model_id`` names it. With ``cached_inputs`` (the fetch
    fallback) the features are built from the input files already on disk, only models already
    gated on disk are considered, and every row says ``fallback_cached_inputs``. A candidate whose
    training failed (a failure record beside it) is not trained again here: the current model is
    retained (``error_recovery.model_retraining.fallback``). A model whose artifact fails its
    integrity check is never loaded: it is marked invalid, an alert goes out, and the next valid
    model within ``model.max_age_days`` serves.

    With ``market.shard_size``, each shard's forecast is a :class:`ShardForecast` (luigi workers
    make them in parallel) and this task assembles them into the one forecast file.
    """

    def requires(self) -> dict[str, Any]:
        if self.settings.sharded:
            return {"shards": [ShardForecast(date=self.date, cached_inputs=self.cached_inputs, shard=k)
                               for k in range(len(self.settings.shards))]}
        return self._needs(0)

    def output(self) -> ParquetTarget:
        return self.layout.forecast(self.date)

    def run(self) -> None:
        if self.settings.sharded:
            frame = pd.concat([target.read() for target in self.input()["shards"]], ignore_index=True)
        else:
            frame = self._forecast()
        self.output().write_csv_twin(frame)
        self.output().write(frame)
        log.info("forecast for %s written (%d rows, %d shard(s))", self.date, len(frame), len(self.settings.shards))


class ShardForecast(_Forecasting, ShardTask):
    """The forecast of one shard's nodes, with that shard's model (``forecasts/<D>/shards/``)."""

    def requires(self) -> dict[str, luigi.Task]:
        return self._needs(self.shard)

    def output(self) -> ParquetTarget:
        return self.layout.shard_forecast(self.date)

    def run(self) -> None:
        self.output().write(self._forecast())


def served(day: dt.date, decisions: Decisions, failed: set[dt.date], cadence: registry.Cadence) -> registry.Serving:
    """The model serving ``day`` (:func:`pipeline.registry.serving`), or an error saying why none can."""
    serving = registry.serving(day, decisions, cadence, failed)
    if serving is None:
        raise LookupError(f"no valid model trained within {cadence.max_age_days} days before {day} has a gate record")
    if serving.status == "retained":
        log.info("the newest candidate before %s was rejected: the model it lost to, trained on %s, is retained",
                 day, serving.train_date)
    return serving
