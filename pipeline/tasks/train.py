"""Model tasks: train a candidate on a cadence date, then gate it against the previous candidate.

``TrainModel(date)`` writes an immutable artifact ``models/<date>/<tag>/`` (model + metadata:
training window, features, thresholds, package versions, seed, validation metrics of the model and
its baselines, feature importances). ``GateModel(date)`` writes the decision beside it
(``<tag>.decision.json``: accepted or rejected, with the scores compared). Which model serves a
forecast date is then a rule over these records (:mod:`pipeline.registry`).
"""

from __future__ import annotations

import datetime as dt
import platform
import time
from importlib import metadata as package_metadata
from typing import Any

import luigi
import pandas as pd

from pipeline import ercot_time, model, registry, training
from pipeline.features import feature_columns
from pipeline.model import SpikeModel, TrainingSet
from pipeline.tasks.common import Context, PipelineTask, log, read_days
from pipeline.tasks.features import FeatureRange
from pipeline.tasks.fetch import HourlyPricesRange
from targets import JsonTarget, ModelArtifactTarget

PACKAGES = ("luigi", "pandas", "pyarrow", "scikit-learn", "numpy", "scipy")


class NotACadenceDate(ValueError):
    """Models are trained only on cadence dates (model.cadence_anchor + k * model.retrain_every_days)."""


def window_for(ctx: Context, train_date: dt.date) -> training.TrainingWindow:
    m = ctx.config.model
    return training.training_window(train_date, m.history_days, m.validation_days,
                                    ctx.config.features.issue_time, ctx.market.name)


def check_cadence(ctx: Context, day: dt.date) -> None:
    m = ctx.config.model
    if not registry.is_cadence_date(day, m.cadence_anchor, m.retrain_every_days):
        newest = registry.cadence_date(day, m.cadence_anchor, m.retrain_every_days)
        raise NotACadenceDate(f"{day} is not a cadence date (every {m.retrain_every_days} days from "
                              f"{m.cadence_anchor}); the newest one before it is {newest}")


def load_labelled(ctx: Context, first: dt.date, last: dt.date) -> TrainingSet:
    """Features of issue days [first, last] joined to their realised outcomes."""
    features = read_days(ctx, "features", ercot_time.days(first, last),
                         lambda d: ctx.layout.features(ctx.features_tag, d),
                         lambda f: ercot_time.operating_day_of(f["issue_time"]))
    features = features.rename(columns={"_day": "issue_day"})
    label_first, label_last = first + dt.timedelta(days=1), last + dt.timedelta(days=training.HORIZON_DAYS)
    hourly_days = [d for d in ercot_time.days(label_first, label_last) if ctx.market.covers("rt_prices", d)]
    hourly = read_days(ctx, "rt_hourly", hourly_days, lambda d: ctx.layout.rt_hourly(ctx.market.storage_key, d),
                       lambda f: ercot_time.operating_day_of(f["interval_start"]))
    return training.labelled_set(features, hourly.drop(columns="_day"), ctx.config.market.thresholds)


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        versions[name] = package_metadata.version(name)
    return versions


class TrainModel(PipelineTask):
    """Labelled features of the training window -> a candidate model artifact for cadence date ``date``."""

    date = luigi.DateParameter()

    @property
    def retry_count(self) -> int:  # type: ignore[override]
        # luigi disables a task after retry_count failures: a first attempt plus max_retries retries.
        return self.ctx.config.error_recovery.model_retraining.max_retries + 1

    def requires(self) -> list[luigi.Task]:
        check_cadence(self.ctx, self.date)
        window = window_for(self.ctx, self.date)
        label_first, label_last = window.label_days
        return [FeatureRange(start=window.fit_first, end=window.validation_last),
                HourlyPricesRange(start=label_first, end=label_last)]

    def output(self) -> ModelArtifactTarget:
        return self.ctx.layout.model(self.date, self.ctx.model_tag)

    def run(self) -> None:
        ctx = self.ctx
        window = window_for(ctx, self.date)
        self.set_status_message(f"loading training window {window.fit_first}..{window.validation_last}")
        data = load_labelled(ctx, window.fit_first, window.validation_last)
        fit_set = training.select_days(data, window.fit_first, window.fit_last)
        validation_set = training.select_days(data, window.validation_first, window.validation_last)
        _check_enough(fit_set, validation_set, window)
        self.set_progress_percentage(20)
        self.set_status_message(f"fitting on {len(fit_set.outcomes)} rows")
        names = feature_columns(ctx.feature_settings)
        started = time.perf_counter()
        fitted, report = model.fit(fit_set, validation_set, ctx.config.market.nodes, names, ctx.model_settings)
        fit_seconds = time.perf_counter() - started
        self.set_progress_percentage(90)
        self.set_status_message("writing the artifact")
        metadata = self._metadata(window, fit_set, validation_set, fitted, report)
        metadata["fit_seconds"] = round(fit_seconds, 3)  # wall time of model.fit (not the data loading)
        self.output().write(fitted, metadata)
        self.set_progress_percentage(100)
        log.info("trained %s on %d rows: %s", self.model_id, len(fit_set.outcomes), _headline(report))

    @property
    def model_id(self) -> str:
        return f"{self.date.isoformat()}.{self.ctx.model_tag}"

    def _metadata(self, window: training.TrainingWindow, fit_set: TrainingSet, validation_set: TrainingSet,
                  fitted: SpikeModel, report: dict[str, Any]) -> dict[str, Any]:
        ctx = self.ctx
        return {
            "model_id": self.model_id,
            "train_date": self.date.isoformat(),
            "window": window.as_dict(),
            "rows": {"fit": int(len(fit_set.outcomes)), "validation": int(len(validation_set.outcomes))},
            "positives_fit": {str(t): int(fit_set.outcomes[:, k].sum()) for k, t in enumerate(fit_set.thresholds)},
            "nodes": list(ctx.config.market.nodes),
            "thresholds": list(ctx.config.market.thresholds),
            "features": list(fitted.columns_),
            "features_without_data": [f for f in fitted.feature_names if f not in fitted.columns_],
            "feature_importance": fitted.feature_importance(),
            "boosters": [b is not None for b in fitted.boosters_],
            "calibration": [list(p) for p in fitted.calibration_],
            "validation": report,
            "settings": ctx.config.model.model_dump(mode="json"),
            "seed": ctx.config.model.seed,
            "sources": {"market": ctx.market.name, "weather": ctx.weather.name if ctx.weather else None,
                        "simulated": ctx.market.simulated},
            "features_tag": ctx.features_tag,
            "packages": package_versions(),
        }


@TrainModel.event_handler(luigi.Event.FAILURE)
def record_failed_training(task: TrainModel, exception: BaseException) -> None:
    """Leave a failure record beside the missing artifact, so DailyInference retains the current model.

    (Not when the artifact exists: then a concurrent run wrote it and only this copy failed. A retry
    that fails again keeps the first record.)
    """
    record = task.ctx.layout.model_failure(task.date, task.ctx.model_tag)
    if task.output().exists() or record.exists():
        return
    record.write({
        "status": "failed", "model_id": task.model_id, "train_date": task.date.isoformat(),
        "error": f"{type(exception).__name__}: {exception}",
    })
    log.error("training of %s failed (%s: %s); forecasts keep the current model", task.model_id,
              type(exception).__name__, exception)


def _check_enough(fit_set: TrainingSet, validation_set: TrainingSet, window: training.TrainingWindow) -> None:
    if not len(fit_set.outcomes) or not len(validation_set.outcomes):
        raise ValueError(f"no labelled rows in the training window {window.as_dict()}")


def _headline(report: dict[str, Any]) -> str:
    parts = []
    for threshold, entry in report.items():
        auc = entry["model"].get("roc_auc")
        parts.append(f"${threshold}: AUC {auc:.3f}" if auc is not None else f"${threshold}: AUC n/a")
    return ", ".join(parts)


class GateModel(PipelineTask):
    """Candidate of ``date`` vs the previous cadence date's candidate, on the candidate's validation window."""

    date = luigi.DateParameter()

    def previous_date(self) -> dt.date:
        return self.date - dt.timedelta(days=self.ctx.config.model.retrain_every_days)

    def requires(self) -> dict[str, luigi.Task]:
        window = window_for(self.ctx, self.date)
        label_first, label_last = window.label_days
        return {
            "candidate": TrainModel(date=self.date),
            "incumbent": TrainModel(date=self.previous_date()),
            "features": FeatureRange(start=window.validation_first, end=window.validation_last),
            "prices": HourlyPricesRange(start=window.validation_first + dt.timedelta(days=1), end=label_last),
        }

    def output(self) -> JsonTarget:
        return self.ctx.layout.model_decision(self.date, self.ctx.model_tag)

    def run(self) -> None:
        ctx = self.ctx
        window = window_for(ctx, self.date)
        candidate: ModelArtifactTarget = self.input()["candidate"]
        incumbent: ModelArtifactTarget = self.input()["incumbent"]
        candidate_meta, incumbent_meta = candidate.metadata(), incumbent.metadata()
        metric = ctx.config.model.gate.metric
        candidate_score = model.gate_score(candidate_meta["validation"], metric)
        validation_set = load_labelled(ctx, window.validation_first, window.validation_last)
        incumbent_model: SpikeModel = incumbent.load()
        # Scored exactly like the candidate: its booster is out of sample on this window, and its
        # own calibration (fitted on an overlapping earlier window) is replaced by cross-fitting.
        started = time.perf_counter()
        incumbent_p = model.crossfit_probabilities(incumbent_model, validation_set)
        crossfit_seconds = time.perf_counter() - started
        incumbent_report = model.validation_report(validation_set, incumbent_p,
                                                   incumbent_model.predict_baselines(validation_set.features))
        incumbent_score = model.gate_score(incumbent_report, metric)
        decision = registry.decide(candidate_score, incumbent_score, ctx.config.model.gate.margin)
        self.output().write({
            "status": decision.status,
            "reason": decision.reason,
            "metric": metric,
            "candidate_score": decision.candidate_score,
            "incumbent_score": decision.incumbent_score,
            "model_id": candidate_meta["model_id"],
            "incumbent_model_id": incumbent_meta["model_id"],
            "train_date": self.date.isoformat(),
            "validation_window": [window.validation_first.isoformat(), window.validation_last.isoformat()],
            "crossfit_seconds": round(crossfit_seconds, 3),  # wall time of the incumbent's cross-fitted scoring
        })
        log.log(20 if decision.status == "accepted" else 30, "model %s %s: %s", candidate_meta["model_id"],
                decision.status, decision.reason)


def serving_model(ctx: Context, decisions: dict[dt.date, dict[str, Any]], day: dt.date) -> tuple[ModelArtifactTarget, str]:
    """The artifact and id of the model serving ``day`` given the gate records found so far."""
    m = ctx.config.model
    chosen = registry.serving_train_date(day, decisions, m.cadence_anchor, m.retrain_every_days, m.max_age_days)
    if chosen is None:
        raise LookupError(f"no accepted or rejected model trained within {m.max_age_days} days before {day}")
    if decisions[chosen].get("status") != "accepted":
        log.warning("every candidate within %d days before %s was rejected: serving the newest, trained on %s",
                    m.max_age_days, day, chosen)
    target = ctx.layout.model(chosen, ctx.model_tag)
    return target, target.metadata()["model_id"]

