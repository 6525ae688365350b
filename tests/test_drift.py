"""Pure tier: the weekly backtest's windows, its comparison and its skill alert."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pipeline import drift


def metrics_with(skill_by_threshold: dict[str, float | None], start: str = "2024-07-04",
                 end: str = "2024-07-10") -> dict[str, Any]:
    """A metrics.json reduced to what the comparison reads."""
    return {
        "window": {"start": start, "end": end, "days": 7},
        "config": {"simulated": True},
        "by_threshold": {
            key: {"model": {"brier_skill": skill, "roc_auc": 0.9, "average_precision": 0.3, "brier": 0.02,
                            "ece": 0.01, "positives": 40, "reliable": True}}
            for key, skill in skill_by_threshold.items()
        },
    }


def test_the_window_ends_on_the_last_forecast_whose_horizon_is_over() -> None:
    current, previous = drift.weekly_windows(dt.date(2024, 7, 21), weeks=4)
    # Forecasts issued on 07-17 cover 07-18..07-20: all realised by Sunday 07-21.
    assert current == drift.Window(dt.date(2024, 6, 20), dt.date(2024, 7, 17))
    assert previous == drift.Window(dt.date(2024, 6, 13), dt.date(2024, 7, 10))


def test_weeks_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least one week"):
        drift.weekly_windows(dt.date(2024, 7, 21), weeks=0)


def test_the_comparison_watches_brier_skill_at_the_lowest_threshold() -> None:
    current = metrics_with({"1000": 0.5, "100": 0.05, "250": 0.2}, "2024-07-11", "2024-07-17")
    previous = metrics_with({"1000": 0.4, "100": 0.15, "250": 0.2})
    comparison = drift.compare(dt.date(2024, 7, 21), current, previous, skill_floor=0.1)
    assert list(comparison["by_threshold"]) == ["100", "250", "1000"]
    watched = comparison["watched"]
    assert watched["threshold"] == "100" and watched["metric"] == "brier_skill"
    assert watched["current"] == 0.05 and watched["previous"] == 0.15
    assert watched["change"] == pytest.approx(-0.10)
    assert watched["below_floor"] is True
    assert comparison["current"]["start"] == "2024-07-11" and comparison["previous"]["end"] == "2024-07-10"


def test_skill_at_or_above_the_floor_raises_no_alert() -> None:
    comparison = drift.compare(dt.date(2024, 7, 21), metrics_with({"100": 0.0}), metrics_with({"100": 0.3}), 0.0)
    assert drift.skill_alert(comparison) is None


def test_undefined_skill_is_reported_but_not_alerted() -> None:
    comparison = drift.compare(dt.date(2024, 7, 21), metrics_with({"100": None}), metrics_with({"100": 0.3}), 0.0)
    assert comparison["watched"]["current"] is None and comparison["watched"]["change"] is None
    assert drift.skill_alert(comparison) is None


def test_a_threshold_new_this_week_has_no_previous_score() -> None:
    comparison = drift.compare(dt.date(2024, 7, 21), metrics_with({"100": 0.2, "500": 0.1}),
                               metrics_with({"100": 0.2}), 0.0)
    assert comparison["by_threshold"]["500"]["brier_skill"] == {"current": 0.1, "previous": None, "change": None}


def test_the_alert_message_names_metric_threshold_floor_and_window() -> None:
    comparison = drift.compare(dt.date(2024, 7, 21), metrics_with({"100": -0.2}), metrics_with({"100": 0.1}), 0.0)
    alert = drift.skill_alert(comparison)
    assert alert is not None
    message = alert.message()
    assert "brier_skill at $100/MWh is -0.200, below the floor +0.000" in message
    assert "a week earlier: +0.100" in message
