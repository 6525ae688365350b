"""DailyInference: the features of issue day D + the model serving D -> forecasts/<D>/forecast.parquet."""

from __future__ import annotations

from typing import Any

import luigi
import pandas as pd
from luigi.task import MixinNaiveBulkComplete

from pipeline import clock, integrity
from pipeline.forecast import STATUS_CACHED_INPUTS, STATUS_DEGRADED, STATUS_OK, forecast_frame
from pipeline.labels import threshold_label
from pipeline.model_records import serving_from_record
from pipeline.ops import alerts
from pipeline.tasks.base import Configured, PipelineTask, ShardTask, TodayInCptParameter, attempts, log
from pipeline.tasks.features import BuildFeatures
from pipeline.tasks.serving import ServeModel
from pipeline.tasks.train import TrainModel
from targets import ArtifactError, ParquetTarget, Stamp
from targets.forecast_files import ForecastTarget


class _Forecasting(MixinNaiveBulkComplete):
    """What the daily forecast and a shard's forecast share: parameters, retries, requirements, the forecast."""

    date = TodayInCptParameter(description="issue day D (default: today in CPT); forecasts D+1..D+3")
    cached_inputs = luigi.BoolParameter(default=False, significant=False,
                                        description="fallback: build features from cached input files only")
    priority = 100

    @property
    def retry_count(self) -> int:  # type: ignore[override]
        return attempts(self.settings.config.error_recovery.inference)

    def _needs(self, shard: int) -> dict[str, luigi.Task]:
        return {"features": self.requires_of(BuildFeatures, date=self.date, cached_inputs=self.cached_inputs,
                                             shard=shard),
                "serving": self.requires_of(ServeModel, date=self.date, cached_inputs=self.cached_inputs, shard=shard)}

    def _stamp_of(self, part: Configured, needs: dict[str, luigi.Task]) -> Stamp:
        """The forecast made from these features and this serving record (expected identities)."""
        return part.lineage.forecast([f"features:{needs['features'].stamp().made_from}",
                                      f"serving:{needs['serving'].stamp().made_from}"],
                                     cached_inputs=self.cached_inputs)

    def _forecast(self, part: Configured, shard: int):  # noqa: ANN202 - a generator: yields the model's task
        """The forecast of this task's nodes, from its features and the model serving ``date``; and its notes.

        The serving model's artifact is a dynamic dependency: if it is gone (a data root cleaned by
        hand), its training task makes it again before the forecast is made.
        """
        record = self.input()["serving"].read()
        serving = serving_from_record(record)
        artifact = yield self.requires_of(TrainModel, date=serving.train_date, shard=shard)
        try:
            model = artifact.load()
        except ArtifactError as exc:  # changed since ServeModel verified it: never served, chosen again next run
            part.records.record_failure(serving.train_date, "invalid", str(exc))
            raise RuntimeError(f"model {serving.model_id} failed its integrity check after it was chosen to serve "
                               f"{self.date}; it is marked invalid, and the next run serves the next valid model") from exc
        features_target = self.input()["features"]
        features = features_target.read()
        settings = part.settings
        set_aside = dict((features_target.stamp().notes if features_target.stamp() else {}).get("set_aside", {}))
        missing = integrity.missing_inputs(features, getattr(model, "columns_", ())).degraded(
            settings.config.integrity.max_missing_share)
        if self.cached_inputs:
            status: str | dict[str, str] = STATUS_CACHED_INPUTS
        else:
            status = {node: STATUS_DEGRADED if set_aside or node in missing else STATUS_OK
                      for node in settings.features.nodes}
        labels = [threshold_label(t) for t in model.thresholds]
        frame = forecast_frame(features, model.predict_served(features, dict(serving.forecasters)), model.thresholds,
                               self.date, settings.issue_time(self.date), [serving.row_model_id(k) for k in labels],
                               status)
        notes = {"degraded": integrity.degraded_notes(set_aside, missing), "serving": record,
                 "input_groups": list(getattr(model, "input_groups", ()) or ())}
        log.info("forecast for %s made (%d rows, model %s, forecasters %s, status %s)", self.date, len(frame),
                 serving.model_id, dict(serving.forecasters) or "model", ", ".join(sorted(set(frame["status"]))))
        return frame, notes


class DailyInference(_Forecasting, PipelineTask):
    """The 72-hour spike-probability forecast issued on ``date`` (default: today in CPT).

    The serving model comes from :class:`~pipeline.tasks.serving.ServeModel` (which gates only the
    newest candidate, so a cold start trains two models). Per threshold, the model or the baseline
    its gate chose serves, and ``model_id`` names it. With ``cached_inputs`` (the fetch fallback)
    the features are built from the input files already on disk, only models already gated are
    considered, every row says ``fallback_cached_inputs``, and a valid forecast already published
    under the same settings is never replaced by it.

    A forecast built from a day with implausible values set aside, or for a node missing more than
    ``integrity.max_missing_share`` of its model inputs, says ``degraded_inputs`` (those nodes'
    rows), names the datasets in its metadata and raises a warning alert.

    With ``market.shard_size``, each shard's forecast is a :class:`ShardForecast` (luigi workers
    make them in parallel) and this task assembles them into the one forecast file.
    """

    # When an alert is raised: the command-line layer's clock (tests replace it).
    alert_clock: clock.Clock = staticmethod(clock.utc_now)

    def requires(self) -> dict[str, Any]:
        if self.settings.sharded:
            return {"shards": [self.requires_of(ShardForecast, date=self.date, cached_inputs=self.cached_inputs,
                                                shard=k) for k in range(len(self.settings.shards))]}
        return self._needs(0)

    def output(self) -> ForecastTarget:
        return self.layout.forecast(self.date)

    def stamp(self) -> Stamp:
        if not self.settings.sharded:
            return self._stamp_of(self.configured, self.requires())
        return self.lineage.forecast([f"shard{k}:{task.stamp().made_from}" for k, task in
                                      enumerate(self.requires()["shards"])], cached_inputs=self.cached_inputs)

    def complete(self) -> bool:
        if self.cached_inputs:  # a fallback never replaces a valid forecast made under the settings in force
            found = self.output().stamp() if self.output().exists() else None
            return found is not None and found.settings == self.stamp().settings
        return self.output().current(self.stamp())

    def run(self):  # noqa: ANN201 - a generator of dynamic dependencies (the serving model)
        if self.settings.sharded:
            parts = [(target.read(), target.stamp()) for target in self.input()["shards"]]
            frame = pd.concat([p for p, _ in parts], ignore_index=True)
            notes = merged_notes([stamp.notes if stamp else {} for _, stamp in parts])
        else:
            frame, notes = yield from self._forecast(self.configured, 0)
        published = self.output().publish(frame, self.stamp().with_notes(**notes))
        log.info("forecast for %s published (%d rows, %d shard(s))", self.date, len(published),
                 len(self.settings.shards))
        if notes.get("degraded") and not self.cached_inputs:  # the fallback's own alert says that much
            self._alert_degraded(notes["degraded"])

    def _alert_degraded(self, degraded: dict[str, str]) -> None:
        detail = "\n".join(f"- {dataset}: {why}" for dataset, why in degraded.items())
        alerts.send(alerts.Alert(kind="degraded_inputs", severity="warning",
                                 title=f"forecast for {self.date} published with degraded inputs: "
                                       f"{', '.join(degraded)}",
                                 detail=f"{detail}\n\nThe affected rows say status degraded_inputs.",
                                 at=self.alert_clock(), job="inference", forecast_date=self.date,
                                 key=f"degraded_inputs:{self.date.isoformat()}"),
                    self.settings.config.alerts, self.layout.alert_log())


class ShardForecast(_Forecasting, ShardTask):
    """The forecast of one shard's nodes, with that shard's model (``forecasts/<D>/shards/``)."""

    def requires(self) -> dict[str, luigi.Task]:
        return self._needs(self.shard)

    def output(self) -> ParquetTarget:
        return self.layout.shard_forecast(self.date)

    def stamp(self) -> Stamp:
        return self._stamp_of(self.configured, self.requires())

    def expected_outputs(self) -> list[tuple[ParquetTarget, Stamp]]:
        return [(self.output(), self.stamp())]

    def run(self):  # noqa: ANN201 - a generator of dynamic dependencies (the serving model)
        frame, notes = yield from self._forecast(self.configured, self.shard)
        self.output().write(frame, self.stamp().with_notes(**notes))


def merged_notes(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The notes of a forecast assembled from shards: every shard's degraded datasets and serving records."""
    degraded: dict[str, str] = {}
    for notes in parts:
        for dataset, why in (notes.get("degraded") or {}).items():
            degraded[dataset] = f"{degraded[dataset]}; {why}" if dataset in degraded else why
    return {"degraded": degraded, "serving": [notes.get("serving") for notes in parts],
            "input_groups": sorted({g for notes in parts for g in notes.get("input_groups") or ()})}
