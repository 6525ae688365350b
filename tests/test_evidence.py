"""An honest weekly report (issue 20, item 6): trust judged on spike events, no verdict from spike-free windows.

Probes fixed: a single heat-wave week was labelled "reliable" in green; a drift verdict ("down
0.016") was drawn from two spike-free windows right above "these scores say nothing about skill";
zero skill read "Brier score is 0 % lower ... (skill +0.00)"; WeeklyBacktest printed no summary.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pipeline import drift, ercot_time, evidence
from pipeline.render import backtest_page
from tests.conftest import REPO

WEEK = [dt.date(2024, 7, 8) + dt.timedelta(days=n) for n in range(7)]
NODES = ("HB_NORTH", "HB_HOUSTON", "HB_SOUTH", "HB_WEST")


def predictions(spiking_days: list[dt.date], hours: tuple[int, ...] = (16, 17, 18, 19, 20)) -> pd.DataFrame:
    """Forecasts of every issue day in WEEK at four hubs; every hub spikes above $100 at ``hours`` of ``spiking_days``."""
    frames = []
    for day in WEEK:
        starts = pd.DatetimeIndex(ercot_time.forecast_hours(day))
        local = starts.tz_convert(ercot_time.CPT)
        spiked = np.isin(local.hour, hours) & np.isin(local.date, spiking_days)
        for node in NODES:
            frames.append(pd.DataFrame({"forecast_date": day, "node": node, "threshold": 100.0,
                                        "interval_start": starts, "horizon_h": np.arange(1, 73),
                                        "outcome": spiked.astype(int)}))
    return pd.concat(frames, ignore_index=True)


def test_an_hour_counts_once_however_many_nodes_and_forecasts_saw_it() -> None:
    found = evidence.spike_evidence(predictions([dt.date(2024, 7, 12)], hours=(17,)))["100"]
    # 4 hubs x 3 forecasts (issued 07-09, 07-10, 07-11) of the same hour: 12 spike rows, 1 spike hour.
    assert found == {"spike_hours": 1, "spike_days": 1, "spike_rows": 12}


def test_a_single_heat_wave_week_is_not_reliable_however_many_spike_rows_it_has() -> None:
    heat_wave = [dt.date(2024, 7, 9) + dt.timedelta(days=n) for n in range(7)]
    found = evidence.spike_evidence(predictions(heat_wave))["100"]
    assert found["spike_rows"] > 300 and found["spike_hours"] >= evidence.MIN_SPIKE_HOURS
    assert found["spike_days"] < evidence.MIN_SPIKE_DAYS
    assert not evidence.is_reliable(found)


@pytest.mark.parametrize(("hours", "days", "reliable"), [(30, 10, True), (29, 12, False), (80, 9, False)])
def test_reliable_needs_enough_spike_hours_spread_over_enough_days(hours: int, days: int, reliable: bool) -> None:
    assert evidence.is_reliable({"spike_hours": hours, "spike_days": days}) is reliable
    assert evidence.is_reliable(None) is False  # a metrics.json from before the count


def metrics(skill: float, spikes: dict[str, int] | None, positives: int = 200) -> dict[str, Any]:
    model = {"brier_skill": skill, "roc_auc": 0.8, "average_precision": 0.2, "brier": 0.02, "ece": 0.01,
             "positives": positives, "reliable": True}
    out: dict[str, Any] = {"window": {"start": "2024-07-08", "end": "2024-07-14", "days": 7},
                           "config": {"simulated": True}, "by_threshold": {"100": {"model": model}}}
    if spikes is not None:
        out["evidence"] = {"100": spikes}
    return out


ENOUGH = {"spike_hours": 60, "spike_days": 14, "spike_rows": 700}
FEW = {"spike_hours": 3, "spike_days": 1, "spike_rows": 30}
NONE = {"spike_hours": 0, "spike_days": 0, "spike_rows": 0}


def test_no_drift_verdict_when_either_window_has_too_few_spikes() -> None:
    comparison = drift.compare(dt.date(2024, 7, 21), metrics(0.10, ENOUGH), metrics(0.116, FEW), skill_floor=0.0)
    assert comparison["watched"]["verdict"] is False
    sentence = backtest_page.drift_sentence(comparison)
    assert sentence.startswith("No drift verdict at $100: this window has 60 spike hours on 14 days and the window "
                               "a week earlier 3 spike hours on 1 day;")
    assert "down" not in sentence and "up " not in sentence


def test_two_spike_free_windows_give_no_verdict_and_no_alert() -> None:
    comparison = drift.compare(dt.date(2024, 7, 21), metrics(-0.3, NONE, positives=0), metrics(-0.28, NONE, 0), 0.0)
    assert comparison["watched"]["verdict"] is False and comparison["watched"]["below_floor"] is False
    assert drift.skill_alert(comparison) is None
    assert "this window has no spike hour and the window a week earlier no spike hour" in (
        backtest_page.drift_sentence(comparison))


def test_a_verdict_is_drawn_when_both_windows_hold_enough_spikes() -> None:
    comparison = drift.compare(dt.date(2024, 7, 21), metrics(0.10, ENOUGH), metrics(0.15, ENOUGH), 0.0)
    assert comparison["watched"]["verdict"] is True
    assert backtest_page.drift_sentence(comparison) == (
        "Brier skill at $100 is +0.100 this window vs +0.150 a week earlier (down 0.050; floor +0.000).")


def test_the_drift_table_withholds_changes_without_a_verdict() -> None:
    comparison = drift.compare(dt.date(2024, 7, 21), metrics(0.10, ENOUGH), metrics(0.116, FEW), 0.0)
    section = backtest_page.drift_section(comparison)
    assert "too few spikes: no verdict" in section and "-0.016" not in section
    assert "60 (14)" in section and "3 (1)" in section
    assert "at least 30 spike hours on at least 10 different days" in section


@pytest.mark.parametrize(("skill", "phrase"), [
    (0.0, "its Brier score equals climatology's: no skill beyond the base rate"),
    (0.004, "its Brier score equals climatology's: no skill beyond the base rate"),
    (0.14, "its Brier score is 14% lower than climatology's (Brier skill +0.14)"),
    (-0.25, "its Brier score is 25% higher than climatology's (Brier skill -0.25)"),
    (None, "its Brier skill vs climatology is undefined")])
def test_skill_reads_naturally_at_zero_and_elsewhere(skill: float | None, phrase: str) -> None:
    assert backtest_page.skill_phrase(skill) == phrase
    assert "0% lower" not in backtest_page.skill_phrase(skill) and "+0.00)" not in backtest_page.skill_phrase(skill)


def test_the_trust_note_states_the_counts_and_the_rule() -> None:
    model = {"positives": 120}
    assert backtest_page.trust_note(model, FEW) == "indicative only: 3 spike hours on 1 day, fewer than 30 on 10 days"
    assert backtest_page.trust_note(model, ENOUGH) == "reliable: 60 spike hours on 14 days"
    assert backtest_page.trust_note({"positives": 0}, NONE) == "no spike: these scores say nothing about skill"


@pytest.mark.e2e
def test_weekly_backtest_prints_a_plain_summary(tmp_path: Path) -> None:
    config = tmp_path / "override.yaml"
    config.write_text("market:\n  nodes: [HB_NORTH, HB_WEST]\n  thresholds: [250, 1000]\nfeatures:\n  lookback_days: 14\n"
                      "model:\n  history_days: 30\n  validation_days: 8\n  max_age_days: 6\n  max_iter: 30\n"
                      f"backtest:\n  weekly_weeks: 1\nlogging:\n  dir: {tmp_path / 'logs'}\n")
    env = {**os.environ, "RTLMP_CONFIG": str(config), "RTLMP_DATA_ROOT": str(tmp_path / "data"),
           "RTLMP_METRICS_DIR": str(tmp_path / "metrics")}
    luigi = str(Path(sys.executable).with_name("luigi"))
    run = subprocess.run([luigi, "--module", "pipeline", "WeeklyBacktest", "--date", "2024-03-24", "--local-scheduler"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "INFO pipeline: weekly backtest 2024-03-24 of forecasts issued 2024-03-14 to 2024-03-20:" in run.stderr
    assert "INFO pipeline:   - At $250/MWh" in run.stderr
    assert "INFO pipeline:   - No drift verdict at $250" in run.stderr  # a March week in the simulator: no spike
    assert "INFO pipeline: weekly report: " in run.stderr
