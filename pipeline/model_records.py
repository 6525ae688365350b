"""Gate, failure and serving records: the one place that reads and writes them, per shard.

Beside each model artifact ``models/<train date>/<tag>/`` lie its records:

* ``<tag>.decision.json`` -- the gate's decision (accepted or rejected, the scores, the forecaster
  per threshold), written by ``GateModel``;
* ``<tag>.failed.json`` -- the candidate cannot serve: its training failed (``failed``) or its
  artifact failed its integrity check (``invalid``); written when training fails, when the
  retraining job fails (the ``retain_current_model`` fallback) and when a chosen artifact does not
  verify;
* ``serving/<tag>/<D>.json`` -- which model serves the forecast of D and why, the output of
  ``ServeModel``; forecasts and backtests read it instead of re-applying the rule.

A record counts only when it is valid (a file replaced by ``[]`` is named in one log line, set
aside and treated as missing) and current: a decision made from other inputs than those in force,
or a failure of a candidate whose inputs have changed since, is ignored. Which model serves is the
rule of :mod:`pipeline.registry`, applied here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from pipeline import registry
from pipeline.lineage import Lineage
from targets import ArtifactError, JsonTarget, Layout, Stamp
from targets.stamp import combined, digest

log = logging.getLogger("pipeline")

DECISION_STATUSES = ("accepted", "rejected")
FAILURE_STATUSES = ("failed", "invalid")
SERVING_VERSION = 1


def decision_problem(record: Any) -> str | None:
    """What makes ``record`` not a gate decision (None: it is one)."""
    if not isinstance(record, dict):
        return f"it holds a {type(record).__name__}, not a gate record"
    if record.get("status") not in DECISION_STATUSES:
        return f"its status is {record.get('status')!r}, not one of {DECISION_STATUSES}"
    for key in ("model_id", "incumbent_model_id"):
        if not isinstance(record.get(key), str):
            return f"it has no {key}"
    for key in ("serving", "incumbent_serving"):
        if not isinstance(record.get(key) or {}, dict):
            return f"its {key} is not a mapping"
    return None


def failure_problem(record: Any) -> str | None:
    if not isinstance(record, dict):
        return f"it holds a {type(record).__name__}, not a failure record"
    if record.get("status") not in FAILURE_STATUSES:
        return f"its status is {record.get('status')!r}, not one of {FAILURE_STATUSES}"
    return None


def serving_problem(record: Any) -> str | None:
    if not isinstance(record, dict):
        return f"it holds a {type(record).__name__}, not a serving record"
    if not isinstance(record.get("model_id"), str) or not isinstance(record.get("train_date"), str):
        return "it names no model"
    if not isinstance(record.get("forecasters") or {}, dict):
        return "its forecasters are not a mapping"
    return None


def serving_from_record(record: dict[str, Any]) -> registry.Serving:
    """The :class:`~pipeline.registry.Serving` a serving record describes."""
    return registry.Serving(dt.date.fromisoformat(record["train_date"]), record["status"], record["model_id"],
                            dict(record.get("forecasters") or {}))


class ModelRecords:
    """The records of one configuration's (or one shard's) models under ``layout``."""

    def __init__(self, layout: Layout, lineage: Lineage) -> None:
        self.layout, self.lineage = layout, lineage
        self.cadence = lineage.settings.cadence

    # --- targets -----------------------------------------------------------------------------------
    def decision_target(self, train_date: dt.date) -> JsonTarget:
        target = self.layout.model_decision(train_date)
        target.validate = decision_problem
        return target

    def failure_target(self, train_date: dt.date) -> JsonTarget:
        target = self.layout.model_failure(train_date)
        target.validate = failure_problem
        return target

    def serving_target(self, day: dt.date, cached_inputs: bool = False) -> JsonTarget:
        target = self.layout.serving(day, cached_inputs)
        target.validate = serving_problem
        return target

    # --- gate decisions ----------------------------------------------------------------------------
    def write_decision(self, train_date: dt.date, record: dict[str, Any]) -> None:
        self.decision_target(train_date).write(record, self.lineage.decision(train_date))

    def decision_is_current(self, train_date: dt.date) -> bool:
        return self.decision_target(train_date).current(self.lineage.decision(train_date))

    def decision(self, train_date: dt.date) -> dict[str, Any] | None:
        """The gate decision of ``train_date`` when it is valid and current, else None (an invalid one
        is set aside with one log line)."""
        target = self.decision_target(train_date)
        if not target.store.exists(target.path):
            return None
        problem = target.problem()
        if problem is not None:
            target.set_aside("corrupt", f"{problem}; it is treated as missing")
            return None
        return target.read() if target.current(self.lineage.decision(train_date)) else None

    # --- failures ----------------------------------------------------------------------------------
    def failure(self, train_date: dt.date) -> dict[str, Any] | None:
        """The failure record of ``train_date``'s candidate, when valid and about its current inputs."""
        target = self.failure_target(train_date)
        if not target.store.exists(target.path):
            return None
        problem = target.problem()
        if problem is not None:
            target.set_aside("corrupt", f"{problem}; it is treated as missing")
            return None
        record = target.read()
        made_for = record.get("for")
        return record if made_for in (None, self.lineage.model(train_date).made_from) else None

    def record_failure(self, train_date: dt.date, status: str, error: str) -> dict[str, Any]:
        """Record that ``train_date``'s candidate cannot serve (kept if one is there already)."""
        existing = self.failure(train_date)
        if existing is not None:
            return existing
        target = self.failure_target(train_date)
        if target.store.exists(target.path):  # about inputs no longer in force
            target.set_aside("superseded", "a failure of a candidate whose inputs have changed since")
        record = {"status": status, "model_id": self.lineage.settings.model_id(train_date),
                  "train_date": train_date.isoformat(), "error": error,
                  "for": self.lineage.model(train_date).made_from}
        target.write(record)
        return record

    # --- serving -----------------------------------------------------------------------------------
    def serving_stamp(self, day: dt.date, gate_newest: bool) -> Stamp:
        """The identity of the serving record of ``day``: the records that decide it under the rule.

        The rule reads the newest gate record within ``max_age_days`` and the failure records of its
        two models; only when neither can serve does it read the next older record. The identity is
        made of exactly those, so records of other dates appearing later never change it. With
        ``gate_newest`` the newest cadence date's decision is a requirement and counts by its
        expected identity, whatever is on disk.
        """
        newest = self.cadence.newest(day)
        parts = []
        for train_date in self.cadence.back_from(day):
            if gate_newest and train_date == newest:
                decision = self.lineage.decision(train_date).made_from
            elif self.decision(train_date) is not None:
                decision = self.decision_target(train_date).stamp().made_from  # type: ignore[union-attr]
            else:
                continue
            incumbent = self.cadence.previous(train_date)
            failures = [self.failure(train_date), self.failure(incumbent)]
            parts.append(f"{train_date}:{decision}:" + ":".join(digest(f) if f else "none" for f in failures))
            incumbent_usable = failures[1] is None and (day - incumbent).days <= self.cadence.max_age_days
            if failures[0] is None or incumbent_usable:
                break
        return Stamp(digest("serving", SERVING_VERSION, self.lineage.settings.tags.model, gate_newest), combined(parts))

    def choose(self, day: dt.date, verify: Callable[[dt.date], None],
               on_invalid: Callable[[registry.Serving, ArtifactError], None]) -> tuple[registry.Serving, str]:
        """The model serving ``day`` and why, by the rule of :mod:`pipeline.registry` over the current records.

        ``verify(train_date)`` checks the artifact's integrity (raising :class:`ArtifactError`); one that
        fails is marked invalid, reported through ``on_invalid``, and the rule looks again.
        """
        while True:
            dates = self.cadence.back_from(day)
            decisions = {c: record for c in dates if (record := self.decision(c)) is not None}
            failed = {c for c in dates if self.failure(c) is not None}
            serving = registry.serving(day, decisions, self.cadence, failed)
            if serving is None:
                raise LookupError(f"no valid model trained within {self.cadence.max_age_days} days before {day} "
                                  f"has a current gate record under {self.layout.describe_root()}")
            try:
                verify(serving.train_date)
            except ArtifactError as exc:
                self.record_failure(serving.train_date, "invalid", str(exc))
                on_invalid(serving, exc)
                continue
            return serving, _reason(day, serving, decisions, failed)

    def current_serving(self, day: dt.date) -> registry.Serving | None:
        """The model the rule names for ``day`` from the current records (no integrity check), or None."""
        dates = self.cadence.back_from(day)
        decisions = {c: record for c in dates if (record := self.decision(c)) is not None}
        return registry.serving(day, decisions, self.cadence, {c for c in dates if self.failure(c) is not None})

    def serving_record(self, day: dt.date, serving: registry.Serving, reason: str) -> dict[str, Any]:
        return {"forecast_date": day.isoformat(), "train_date": serving.train_date.isoformat(),
                "model_id": serving.model_id, "status": serving.status, "forecasters": dict(serving.forecasters),
                "reason": reason}


def _reason(day: dt.date, serving: registry.Serving, decisions: dict[dt.date, dict[str, Any]],
            failed: set[dt.date]) -> str:
    """Why ``serving`` serves ``day``, in one sentence."""
    newest = max(decisions) if decisions else None
    skipped = sorted(c for c in failed if c >= serving.train_date)
    note = f" (candidates {', '.join(map(str, skipped))} cannot serve: failed or invalid)" if skipped else ""
    if serving.status == "accepted":
        return f"the gate of {serving.train_date} accepted its candidate" + note
    if serving.status == "retained":
        return (f"the newest candidate{f' ({newest})' if newest else ''} lost its gate to the model trained on "
                f"{serving.train_date}, which is retained" + note)
    return f"the model of {serving.train_date} serves although its gate rejected it: the other model of that " \
           f"record cannot serve" + note
