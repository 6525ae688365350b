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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["accepted", "rejected", "failed"]


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


def serving_train_date(
    day: dt.date, decisions: Mapping[dt.date, Mapping[str, Any]], anchor: dt.date, every_days: int, max_age_days: int
) -> dt.date | None:
    """The train date of the model serving ``day`` given gate records keyed by train date."""
    candidates = cadence_dates_back(day, anchor, every_days, max_age_days)
    for wanted in ("accepted", "rejected"):
        for train_date in candidates:
            record = decisions.get(train_date)
            if record is not None and record.get("status") == wanted:
                return train_date
    return None


def accepted(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in records if r.get("status") == "accepted"]
