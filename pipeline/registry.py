"""Which model serves a day: a rule over immutable, dated model records (never a "latest" pointer).

* Candidates are trained on *cadence dates*: ``cadence_anchor + k * retrain_every_days``. Counting
  from a fixed anchor (not from the day of the month) keeps "every 2 days" regular across month
  ends, where cron's ``*/2`` fires on both the 31st and the 1st.
* Each candidate serves, per threshold, whichever of its model and its free baselines scored best
  on its validation window, so no forecast is worse there than a baseline. The gate accepts a
  candidate unless that mix scores worse than the previous cadence date's candidate's, both scored
  on the same (new) validation window, by more than the margin.
* The model serving day D follows from the newest gate record of a cadence date <= D: accepted,
  its candidate serves; rejected, the incumbent it lost to is retained. Either must be at most
  ``max_age_days`` old. Failed trainings and artifacts that fail their integrity check never
  serve: the other model of the record serves, else the next older record decides. Each day's
  serving model is therefore fixed by one gate decision, whatever else is on disk, and a cold
  start trains two models (the newest candidate and its incumbent).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["accepted", "rejected", "failed", "retained"]


@dataclass(frozen=True)
class Cadence:
    """Training dates (``anchor + k * every_days``) and how long a model may serve (``max_age_days``)."""

    anchor: dt.date
    every_days: int
    max_age_days: int

    def newest(self, day: dt.date) -> dt.date:
        """The newest cadence date on or before ``day``."""
        return cadence_date(day, self.anchor, self.every_days)

    def contains(self, day: dt.date) -> bool:
        return is_cadence_date(day, self.anchor, self.every_days)

    def previous(self, train_date: dt.date) -> dt.date:
        """The cadence date before ``train_date`` (the incumbent a candidate is gated against)."""
        return self.newest(train_date) - dt.timedelta(days=self.every_days)

    def back_from(self, day: dt.date) -> list[dt.date]:
        """Cadence dates that may serve ``day``: the newest on or before it, back to ``max_age_days``."""
        return cadence_dates_back(day, self.anchor, self.every_days, self.max_age_days)


def cadence_date(day: dt.date, anchor: dt.date, every_days: int) -> dt.date:
    """The newest cadence date on or before ``day``."""
    return day - dt.timedelta(days=(day - anchor).days % every_days)


def is_cadence_date(day: dt.date, anchor: dt.date, every_days: int) -> bool:
    return (day - anchor).days % every_days == 0


def cadence_dates_back(day: dt.date, anchor: dt.date, every_days: int, max_age_days: int) -> list[dt.date]:
    """Cadence dates from the newest on or before ``day`` back to ``max_age_days`` before it."""
    newest = cadence_date(day, anchor, every_days)
    dates = []
    current = newest
    while (day - current).days <= max_age_days:
        dates.append(current)
        current -= dt.timedelta(days=every_days)
    return dates


@dataclass(frozen=True)
class GateDecision:
    status: Status
    reason: str
    candidate_score: float | None
    incumbent_score: float | None


def decide(candidate_score: float, incumbent_score: float | None, margin: float, lower_is_better: bool = True) -> GateDecision:
    """Accept unless the candidate is worse than the incumbent by more than ``margin`` (relative)."""
    if incumbent_score is None:
        return GateDecision("accepted", "no previous candidate to compare with", candidate_score, None)
    if lower_is_better:
        worse = candidate_score > incumbent_score * (1.0 + margin)
    else:
        worse = candidate_score < incumbent_score * (1.0 - margin)
    if worse:
        return GateDecision(
            "rejected", f"validation score {candidate_score:.6g} is worse than the previous candidate's "
            f"{incumbent_score:.6g} (margin {margin:g})", candidate_score, incumbent_score)
    return GateDecision("accepted", f"validation score {candidate_score:.6g} vs previous {incumbent_score:.6g}",
                        candidate_score, incumbent_score)


@dataclass(frozen=True)
class Serving:
    """The model serving a day: its training date (the artifact's key), gate status and id, and, per
    threshold label, the forecaster it serves there: its model, or one of its baselines where that
    scored better on the validation window (no entry: the model)."""

    train_date: dt.date
    status: Status
    model_id: str
    forecasters: Mapping[str, str] = field(default_factory=dict)

    def forecaster(self, threshold_label: str) -> str:
        return self.forecasters.get(threshold_label, "model")

    def row_model_id(self, threshold_label: str) -> str:
        """The ``model_id`` a forecast row of this threshold carries: the model's, or ``<id>/<baseline>``."""
        name = self.forecaster(threshold_label)
        return self.model_id if name == "model" else f"{self.model_id}/{name}"


def serving(day: dt.date, decisions: Mapping[dt.date, Mapping[str, Any]], cadence: Cadence,
            unusable: Collection[dt.date] = ()) -> Serving | None:
    """The model serving ``day``, from the newest gate record within ``max_age_days``; or None.

    That gate compared its candidate with the previous cadence date's candidate on the newest
    validation window: accepted, the candidate serves; rejected, the incumbent is retained (it
    scored better on the newest data). When that model is ``unusable`` (its artifact failed its
    integrity check, or its training failed), the other model of the same record serves; when
    both are, the next older record decides.
    """
    for train_date in cadence.back_from(day):
        record = decisions.get(train_date)
        if record is None:
            continue
        candidate = Serving(train_date, "accepted", str(record["model_id"]), dict(record.get("serving") or {}))
        incumbent = Serving(train_date - dt.timedelta(days=cadence.every_days), "retained",
                            str(record.get("incumbent_model_id")), dict(record.get("incumbent_serving") or {}))
        order = (candidate, incumbent) if record.get("status") == "accepted" else (incumbent, candidate)
        for choice in order:
            if choice.train_date not in unusable and (day - choice.train_date).days <= cadence.max_age_days:
                return choice if choice is incumbent or record.get("status") == "accepted" else Serving(
                    choice.train_date, "rejected", choice.model_id, choice.forecasters)
    return None
