"""Is forecast skill drifting? The weekly backtest's windows, its comparison and its alert.

Every Sunday the pipeline replays the last ``backtest.weekly_weeks`` weeks and compares the scores
with the same-length window one week earlier. The watched number is the model's Brier skill score
vs climatology at the lowest threshold: the most frequent spikes give the steadiest estimate, and
a skill below ``backtest.skill_floor`` means the model no longer beats the month × hour base rate
a trader could compute by hand. Pure functions: no luigi, no I/O beyond the logger of the default
alert hook.

A change in skill is a verdict only when both windows hold enough spikes to measure skill
(:func:`pipeline.evidence.is_reliable`): two spike-free weeks differ in their scores by chance
alone, and "skill down 0.016" between them would be noise presented as news. Without enough
spikes in either window the comparison says so instead (``watched.verdict`` is false), and a
window without any spike raises no skill alert.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pipeline import evidence
from pipeline.catalogue import HORIZON_DAYS


WATCHED_METRIC = "brier_skill"
COMPARED_METRICS = ("brier_skill", "roc_auc", "average_precision", "brier", "ece", "positives")


@dataclass(frozen=True)
class Window:
    """Issue days [start, end] of one backtest."""

    start: dt.date
    end: dt.date

    def shifted(self, days: int) -> Window:
        return Window(self.start + dt.timedelta(days=days), self.end + dt.timedelta(days=days))

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def weekly_windows(date: dt.date, weeks: int) -> tuple[Window, Window]:
    """(this week's window, the window a week earlier) for the weekly backtest run on ``date``.

    The window ends on the last issue day whose whole 72-hour horizon lies before ``date``
    (``date - HORIZON_DAYS - 1``): later forecasts would be scored on a partial horizon, and the
    score of a fixed window must not change with the hour the job happens to run.
    """
    if weeks < 1:
        raise ValueError(f"the weekly backtest needs at least one week, got {weeks}")
    end = date - dt.timedelta(days=HORIZON_DAYS + 1)
    current = Window(end - dt.timedelta(days=7 * weeks - 1), end)
    return current, current.shifted(-7)


def lowest_threshold(metrics: Mapping[str, Any]) -> str:
    """Key of the lowest threshold scored in ``metrics`` (keys are strings such as ``'100'``)."""
    keys = list(metrics["by_threshold"])
    if not keys:
        raise ValueError("the backtest metrics score no threshold")
    return min(keys, key=float)


def _change(current: float | None, previous: float | None) -> float | None:
    return None if current is None or previous is None else current - previous


def compare(date: dt.date, current: Mapping[str, Any], previous: Mapping[str, Any],
            skill_floor: float) -> dict[str, Any]:
    """The comparison document: the model's scores this window vs a week earlier, and the floor check.

    ``current`` / ``previous`` are the two backtests' ``metrics.json``; thresholds are compared
    one by one (never pooled). ``watched`` holds the number the alert looks at; its ``verdict`` is
    true only when both windows hold enough spikes for their skill to be compared.
    """
    by_threshold: dict[str, Any] = {}
    for key in sorted(current["by_threshold"], key=float):
        now = current["by_threshold"][key]["model"]
        before = previous["by_threshold"].get(key, {}).get("model", {})
        by_threshold[key] = {
            name: {"current": now.get(name), "previous": before.get(name),
                   "change": _change(now.get(name), before.get(name))}
            for name in COMPARED_METRICS
        }
        spikes = {"current": evidence.of_threshold(current, key), "previous": evidence.of_threshold(previous, key)}
        by_threshold[key]["evidence"] = spikes
        by_threshold[key]["reliable"] = {window: evidence.is_reliable(found) for window, found in spikes.items()}
    key = lowest_threshold(current)
    watched = by_threshold[key][WATCHED_METRIC]
    skill = watched["current"]
    reliable = by_threshold[key]["reliable"]
    return {
        "date": date.isoformat(),
        "current": dict(current["window"]),
        "previous": dict(previous["window"]),
        "simulated": bool(current.get("config", {}).get("simulated", False)),
        "by_threshold": by_threshold,
        "watched": {
            "threshold": key, "metric": WATCHED_METRIC, **watched, "floor": skill_floor,
            "reliable": reliable["current"],
            "verdict": reliable["current"] and reliable["previous"],
            "evidence": by_threshold[key]["evidence"],
            # Unknown skill (no reference Brier score), or skill without a single spike, is reported, not alerted on.
            "below_floor": skill is not None and skill < skill_floor and _spiked(current, key),
        },
    }


def _spiked(metrics: Mapping[str, Any], key: str) -> bool:
    """Whether any scored hour spiked above threshold ``key`` in the window."""
    return bool(metrics["by_threshold"][key]["model"].get("positives", 0))


@dataclass(frozen=True)
class SkillAlert:
    """The model's skill fell below the configured floor in the weekly backtest."""

    date: str
    threshold: str
    metric: str
    current: float
    previous: float | None
    floor: float
    window: Mapping[str, Any]
    reliable: bool

    def message(self) -> str:
        before = "n/a" if self.previous is None else f"{self.previous:+.3f}"
        caveat = "" if self.reliable else (f" (fewer than {evidence.MIN_SPIKE_HOURS} spike hours on "
                                           f"{evidence.MIN_SPIKE_DAYS} days in the window: indicative only)")
        return (f"weekly backtest {self.date}: model {self.metric} at ${self.threshold}/MWh is {self.current:+.3f}, "
                f"below the floor {self.floor:+.3f} (a week earlier: {before}; forecasts issued "
                f"{self.window['start']}..{self.window['end']}){caveat}")


SkillAlertHook = Callable[[SkillAlert], None]


def skill_alert(comparison: Mapping[str, Any]) -> SkillAlert | None:
    """The alert a comparison calls for, or None when skill is at or above the floor."""
    watched = comparison["watched"]
    if not watched["below_floor"]:
        return None
    return SkillAlert(date=comparison["date"], threshold=watched["threshold"], metric=watched["metric"],
                      current=watched["current"], previous=watched["previous"], floor=watched["floor"],
                      window=comparison["current"], reliable=bool(watched["reliable"]))

