"""Which model serves a day: a rule over immutable, dated model records (never a "latest" pointer).

* Candidates are trained on *cadence dates*: ``cadence_anchor + k * retrain_every_days``. Counting
  from a fixed anchor (not from the day of the month) keeps "every 2 days" regular across month
  ends, where cron's ``*/2`` fires on both the 31st and the 1st.
* The gate accepts a candidate unless its validation score is worse than that of the previous
  cadence date's candidate, scored on the same (new) validation window, by more than the margin.
* The model serving day D is the newest *accepted* candidate trained on a cadence date <= D and no
  more than ``max_age_days`` before D. When every candidate in that span was rejected (each was
  marginally worse than its predecessor, which has now aged out), the newest rejected one serves:
  a fresh model that lost a close comparison beats no forecast. Failed trainings never serve.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["accepted", "rejected", "failed"]


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
    """The model serving a day: its training date (the artifact's key) and its gate status."""

    train_date: dt.date
    status: Status
    model_id: str


def serving(day: dt.date, decisions: Mapping[dt.date, Mapping[str, Any]], cadence: Cadence) -> Serving | None:
    """The model serving ``day`` given the gate records found so far (keyed by train date), or None.

    The newest accepted candidate within ``max_age_days``; when every one there was rejected, the
    newest rejected one.
    """
    candidates = cadence.back_from(day)
    for wanted in ("accepted", "rejected"):
        for train_date in candidates:
            record = decisions.get(train_date)
            if record is not None and record.get("status") == wanted:
                return Serving(train_date, wanted, str(record["model_id"]))
    return None


def next_record_needed(day: dt.date, decisions: Mapping[dt.date, Mapping[str, Any]], skipped: Collection[dt.date],
                       cadence: Cadence) -> dt.date | None:
    """The walk to the serving model: the next train date whose gate record must be read or made.

    Newest first: a candidate's record is needed only when every newer one was rejected (or is
    ``skipped``: its training failed, or it cannot be gated now). None when the records at hand
    decide which model serves.
    """
    for train_date in cadence.back_from(day):
        if train_date in skipped:
            continue
        record = decisions.get(train_date)
        if record is None:
            return train_date
        if record.get("status") == "accepted":
            return None
    return None
