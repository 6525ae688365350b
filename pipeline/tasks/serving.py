"""ServeModel: the gate records of the cadence dates before D -> which model serves the forecast of D.

The serving record (``serving/<tag>/<D>.json``) names the model, its gate status, the forecaster per
threshold (the model, or the baseline its gate chose) and the reason; ``DailyInference``,
``ShardForecast`` and ``Backtest`` read it instead of applying the rule themselves. Choosing
includes checking the chosen artifact's integrity: one that fails is marked invalid (a critical
alert goes out) and the rule chooses again.
"""

from __future__ import annotations

import datetime as dt

import luigi

from pipeline import clock, registry
from pipeline.ops import alerts
from pipeline.tasks.base import ShardTask, log
from pipeline.tasks.train import GateModel
from targets import ArtifactError, JsonTarget, Stamp


class ServeModel(ShardTask):
    """The model serving the forecast issued on ``date`` (of one shard), and why."""

    date = luigi.DateParameter()
    cached_inputs = luigi.BoolParameter(default=False, description="fallback: only models already gated on disk")
    # When an alert is raised: the command-line layer's clock (tests replace it).
    alert_clock: clock.Clock = staticmethod(clock.utc_now)

    def may_gate(self) -> bool:
        """Whether this run may train and gate the newest candidate (else: records on disk only).

        Not for the cached-inputs fallback, and not when the candidate's training failed and the
        current model is to be retained (``error_recovery.model_retraining.fallback``). Decided once
        per task: luigi asks for ``requires()`` again when it prints its summary, and the answer must
        not change (nor need the store) by then.
        """
        if not hasattr(self, "_may_gate"):
            retain = self.settings.config.error_recovery.model_retraining.fallback == "retain_current_model"
            self._may_gate = not self.cached_inputs and not (
                retain and self.records.failure(self.settings.cadence.newest(self.date)) is not None)
        return self._may_gate

    def requires(self) -> dict[str, luigi.Task]:
        if not self.may_gate():
            return {}
        return {"gate": self.requires_of(GateModel, date=self.settings.cadence.newest(self.date), shard=self.shard)}

    def output(self) -> JsonTarget:
        return self.records.serving_target(self.date, self.cached_inputs)

    def stamp(self) -> Stamp:
        return self.records.serving_stamp(self.date, gate_newest=self.may_gate())

    def expected_outputs(self) -> list[tuple[JsonTarget, Stamp]]:
        return [(self.output(), self.stamp())]

    def run(self) -> None:
        self._alerts: list[alerts.Pending] = []
        serving, reason = self.records.choose(self.date, self._verify, self._alert)
        for pending in self._alerts:  # delivered while the rule chose again; each bounded by its timeout
            pending.wait()
        if serving.status == "retained":
            log.info("the newest candidate before %s was rejected: the model it lost to, trained on %s, is retained",
                     self.date, serving.train_date)
        self.output().write(self.records.serving_record(self.date, serving, reason), self.stamp())

    def _verify(self, train_date: dt.date) -> None:
        """Check an artifact that is there; one that is gone is made again by the forecast (its training task)."""
        artifact = self.layout.model(train_date)
        if artifact.exists():
            artifact.verify()

    def _alert(self, serving: registry.Serving, error: ArtifactError) -> None:
        """A critical alert, sent in the background so the forecast's path never waits on it."""
        alert = alerts.Alert(kind="model_invalid", severity="critical",
                             title=f"model {serving.model_id} failed its integrity check and was skipped",
                             detail=f"{error}\n\nThe forecast of {self.date} uses the next valid model.",
                             at=self.alert_clock(), job="inference", forecast_date=self.date,
                             key=f"model_invalid:{serving.model_id}")
        config, history = self.settings.config.alerts, self.layout.alert_log()
        self._alerts.append(alerts.in_background(lambda: alerts.send(alert, config, history)))
