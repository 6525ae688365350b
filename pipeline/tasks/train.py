"""Model tasks: train a candidate on a cadence date, then gate it against the previous candidate.

``TrainModel(date)`` writes an immutable artifact ``models/<date>/<tag>/`` (model + metadata, see
:mod:`pipeline.model.candidate`); with ``market.shard_size``, one per shard of the nodes (a model
pools the nodes of its shard). ``GateModel(date)`` writes the decision beside it
(``<tag>.decision.json``: accepted or rejected, with the scores compared, see
:mod:`pipeline.model.gate`). Which model serves a forecast date is then a rule over these records
(:mod:`pipeline.registry`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import luigi

from pipeline import ercot_time
from pipeline.model import TrainingSet, labelled_set
from pipeline.model.candidate import Provenance, headline, train_candidate, training_columns, training_compaction
from pipeline.model.dataset import Compaction, CompactingReads
from pipeline.model.gate import gate_record
from pipeline.model.windows import TrainingWindow
from pipeline.settings import Settings
from pipeline.tasks.base import ShardTask, attempts, days_of, log
from pipeline.tasks.features import FeatureRange
from pipeline.tasks.fetch import HourlyPricesRange
from targets import JsonTarget, ModelArtifactTarget, ParquetTarget, Stamp
from targets.windows import RollingReader


class NotACadenceDate(ValueError):
    """Models are trained only on cadence dates (model.cadence_anchor + k * model.retrain_every_days)."""


def check_cadence(settings: Settings, day: dt.date) -> None:
    cadence = settings.cadence
    if not cadence.contains(day):
        raise NotACadenceDate(f"{day} is not a cadence date (every {cadence.every_days} days from "
                              f"{cadence.anchor}); the newest one before it is {cadence.newest(day)}")


def load_labelled(reader: RollingReader, features: Mapping[dt.date, ParquetTarget],
                  hourly: Mapping[dt.date, ParquetTarget], thresholds: tuple[float, ...],
                  compaction: Compaction | None = None, shard_nodes: tuple[str, ...] | None = None,
                  columns: Sequence[str] | None = None, keep_in: str | None = None) -> TrainingSet:
    """Feature files joined to the realised outcomes in the hourly price files.

    With ``compaction`` (a training window of a large shard), the fit days' feature files are
    compacted while they are read (:class:`~pipeline.model.dataset.Compaction`): every spike, a
    seeded share of calm hours, the columns the model reads, in single precision. With
    ``shard_nodes``, only those nodes' rows of the price files (which hold every node) are kept. With
    ``columns``, only those feature columns (and the files' keys) are read. With ``keep_in``, the
    windows read are kept there for the next run (:mod:`targets.windows`), but not a compacted one:
    which calm rows a day keeps follows the prices labelling it, files the kept day does not name.
    """
    prices = reader.read("rt_hourly", hourly, lambda f: ercot_time.operating_day_of(f["interval_start"]),
                         nodes=shard_nodes, keep_in=keep_in)
    prices = prices.drop(columns="_day")
    reads = CompactingReads(compaction, prices) if compaction is not None else None
    frame = reader.read("features", features, lambda f: ercot_time.operating_day_of(f["issue_time"]), reads,
                        columns=columns, keep_in=keep_in if compaction is None else None)
    return labelled_set(frame.rename(columns={"_day": "issue_day"}), prices, thresholds, compaction)


def window_inputs(task: ShardTask, window: TrainingWindow, first: dt.date) -> dict[str, luigi.Task]:
    """The feature files of issue days [first, window.validation_last] and the prices labelling them."""
    label_last = window.label_days[1]
    return {"features": task.requires_of(FeatureRange, start=first, end=window.validation_last, shard=task.shard),
            "prices": task.requires_of(HourlyPricesRange, start=first + dt.timedelta(days=1), end=label_last)}


class TrainModel(ShardTask):
    """Labelled features of the training window -> a candidate model artifact for cadence date ``date``."""

    date = luigi.DateParameter()
    # Consecutive training windows of a backtest overlap in all but a couple of days.
    windows = RollingReader()

    @property
    def retry_count(self) -> int:  # type: ignore[override]
        return attempts(self.settings.config.error_recovery.model_retraining)

    def requires(self) -> dict[str, luigi.Task]:
        check_cadence(self.settings, self.date)
        window = self.settings.window(self.date)
        return window_inputs(self, window, window.fit_first)

    def output(self) -> ModelArtifactTarget:
        return self.layout.model(self.date)

    def expected_outputs(self) -> list[tuple[ModelArtifactTarget, Stamp]]:
        return [(self.output(), self.lineage.model(self.date))]

    def run(self) -> None:
        s, window = self.settings, self.settings.window(self.date)
        self.set_status_message(f"loading training window {window.fit_first}..{window.validation_last}")
        data = load_labelled(self.windows, self.input()["features"], self.input()["prices"], s.thresholds,
                             training_compaction(window, s), s.shard_nodes, training_columns(s),
                             self.layout.window_cache())
        self.set_progress_percentage(20)
        self.set_status_message(f"fitting on {len(data.outcomes)} rows")
        weather = self.sources.weather.name if self.sources.weather else None
        provenance = Provenance(s.model_id(self.date), s.tags.features, s.market_source, weather, s.simulated,
                                s.config.model.model_dump(mode="json"))
        fitted, metadata = train_candidate(data, window, s.features.nodes, s, provenance)
        self.output().write(fitted, metadata, self.lineage.model(self.date))
        self.set_progress_percentage(100)
        log.info("trained %s on %d rows: %s", provenance.model_id, metadata["rows"]["fit"],
                 headline(metadata["validation"]))


@TrainModel.event_handler(luigi.Event.FAILURE)
def record_failed_training(task: TrainModel, exception: BaseException) -> None:
    """Leave a failure record beside the missing artifact, so DailyInference retains the current model.

    (Not when the artifact is there and current: then a concurrent run wrote it and only this copy
    failed. A retry that fails again keeps the first record.)
    """
    if task.complete():
        return
    task.records.record_failure(task.date, "failed", f"{type(exception).__name__}: {exception}")
    log.error("training of %s failed (%s: %s); forecasts keep the current model", task.settings.model_id(task.date),
              type(exception).__name__, exception)


class GateModel(ShardTask):
    """Candidate of ``date`` vs the previous cadence date's candidate, on the candidate's validation window."""

    date = luigi.DateParameter()
    windows = TrainModel.windows  # the validation window lies inside the training window just read

    def requires(self) -> dict[str, luigi.Task]:
        window = self.settings.window(self.date)
        return {"candidate": self.requires_of(TrainModel, date=self.date, shard=self.shard),
                "incumbent": self.requires_of(TrainModel, date=self.settings.cadence.previous(self.date),
                                              shard=self.shard),
                **window_inputs(self, window, window.validation_first)}

    def output(self) -> JsonTarget:
        return self.records.decision_target(self.date)

    def expected_outputs(self) -> list[tuple[JsonTarget, Stamp]]:
        return [(self.output(), self.lineage.decision(self.date))]

    def run(self) -> None:
        inputs, window, gate = self.input(), self.settings.window(self.date), self.settings.config.model.gate
        # Read as the training of this window read it, so the window the readers share stays cached.
        validation_set = load_labelled(self.windows, inputs["features"],
                                       days_of(inputs["prices"], *window.validation_label_days),
                                       self.settings.thresholds, training_compaction(window, self.settings),
                                       self.settings.shard_nodes, training_columns(self.settings))
        record = gate_record(inputs["candidate"].metadata(), inputs["incumbent"].metadata(), inputs["incumbent"].load(),
                             validation_set, window, gate.metric, gate.margin, gate.baseline_margin)
        self.records.write_decision(self.date, record)
        log.log(20 if record["status"] == "accepted" else 30, "model %s %s: %s", record["model_id"],
                record["status"], record["reason"])
