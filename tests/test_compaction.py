"""Large training windows compacted while read: every spike, a fixed share of calm hours, weights that
undo the sampling; small windows untouched; a reader that reduces a window chunk by chunk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import ercot_time
from pipeline.model import fit
from pipeline.model.baselines import Climatology, DamAsOf, Persistence
from pipeline.model.dataset import (
    FIT_ROW_BUDGET,
    Compaction,
    CompactingReads,
    TrainingSet,
    compaction_for,
    select_days,
    target_uniforms,
)
from targets import ParquetTarget
from targets.schemas import FEATURES, RT_HOURLY
from targets.windows import RollingReader
from tests.test_model import FAST, FEATURES as MODEL_FEATURES, THRESHOLDS, synthetic_set

FIRST = dt.date(2024, 5, 1)


def compacted(data: TrainingSet, share: float, seed: int = 7) -> TrainingSet:
    """``data`` reduced as a :class:`Compaction` of all its days would keep it."""
    drawn = target_uniforms(data.features, seed) < share
    keep = drawn | (data.outcomes[:, 0] == 1)
    return TrainingSet(data.features.loc[keep].reset_index(drop=True), data.outcomes[keep], data.thresholds,
                       share, drawn[keep])


def test_a_target_hour_draws_the_same_number_at_every_horizon_and_in_any_order() -> None:
    hours = pd.date_range("2024-07-01", periods=500, freq="h", tz="UTC")
    frame = pd.DataFrame({"node": np.repeat(["HB_NORTH", "LZ_WEST"], 500), "interval_start": np.tile(hours, 2)})
    u = target_uniforms(frame, seed=7)
    shuffled = frame.sample(frac=1.0, random_state=1)
    assert np.array_equal(target_uniforms(shuffled, seed=7), u[shuffled.index.to_numpy()])
    assert not np.array_equal(u[:500], u[500:])  # nodes draw independently
    assert not np.array_equal(target_uniforms(frame, seed=8), u)
    assert ((u >= 0) & (u < 1)).all() and abs(u.mean() - 0.5) < 0.05


def test_only_windows_beyond_the_budget_are_compacted() -> None:
    four_hubs = compaction_for(FIRST, FIRST + dt.timedelta(days=364), 4, 72, 7, THRESHOLDS, ["dam_hod"])
    assert four_hubs is None  # the default configuration fits exactly as before
    shard = compaction_for(FIRST, FIRST + dt.timedelta(days=364), 100, 72, 7, THRESHOLDS, ["dam_hod"])
    assert shard is not None and shard.calm_share == pytest.approx(FIT_ROW_BUDGET / (365 * 100 * 72))


def test_compaction_keeps_every_spike_a_share_of_calm_hours_and_the_validation_days_whole() -> None:
    data = synthetic_set(80, FIRST, seed=4)
    features = data.features.assign(issue_time=pd.Timestamp("2024-05-01T11:00Z"), horizon_h=1, unused=1.0)
    rt_hourly = pd.DataFrame({"node": features["node"], "interval_start": features["interval_start"],
                              "price_max": np.where(data.outcomes[:, 0] == 1, 500.0, 20.0), "price_mean": 20.0,
                              "n_intervals": 12, "expected_intervals": 12})
    fit_last = FIRST + dt.timedelta(days=59)
    compaction = Compaction(FIRST, fit_last, 0.25, 7, THRESHOLDS, ("dam_hod", "hour_of_day"))
    kept = compaction.reduce(features, rt_hourly, "issue_day")

    assert "unused" not in kept and {"dam_hod", "hour_of_day", "node", "interval_start", "issue_time"} <= set(kept)
    fit_day = kept["issue_day"] <= fit_last
    spikes = features.loc[data.outcomes[:, 0] == 1, "interval_start"]
    assert set(spikes[features["issue_day"] <= fit_last]) <= set(kept.loc[fit_day, "interval_start"])
    assert (~fit_day).sum() == (features["issue_day"] > fit_last).sum()  # validation days whole
    calm_fit = (features["issue_day"] <= fit_last) & (data.outcomes[:, 0] == 0)
    kept_calm = kept.loc[fit_day, "interval_start"].isin(features.loc[calm_fit, "interval_start"]).sum()
    assert 0.2 < kept_calm / calm_fit.sum() < 0.3
    assert compaction.key(FIRST) != compaction.key(fit_last + dt.timedelta(days=1))


def test_weights_undo_the_sampling_in_the_baselines() -> None:
    data = synthetic_set(200, FIRST, seed=5)
    small = compacted(data, 0.3)
    assert small.compacted and len(small.outcomes) < 0.45 * len(data.outcomes)
    whole_rate = Climatology(THRESHOLDS).fit(data).overall_
    assert Climatology(THRESHOLDS).fit(small).overall_ == pytest.approx(whole_rate, rel=0.15)
    whole, sampled = Persistence(THRESHOLDS, "price_max_hod_d1").fit(data), Persistence(THRESHOLDS,
                                                                                        "price_max_hod_d1").fit(small)
    assert sampled.rates_[0] == pytest.approx(whole.rates_[0], rel=0.2)
    features = data.features.iloc[:500]
    assert DamAsOf(THRESHOLDS).fit(small).predict(features).mean(axis=0) == pytest.approx(
        DamAsOf(THRESHOLDS).fit(data).predict(features).mean(axis=0), rel=0.25)


def test_a_set_sampling_every_hour_fits_the_model_of_the_whole_set() -> None:
    """The weighted path with a share of 1 is the plain fit (up to rounding): the plumbing is consistent."""
    fit_set, validation = synthetic_set(90, FIRST, seed=1), synthetic_set(20, FIRST + dt.timedelta(days=95), seed=2)
    every = TrainingSet(fit_set.features, fit_set.outcomes, THRESHOLDS, 1.0, np.ones(len(fit_set.outcomes), bool))
    plain, _ = fit(fit_set, validation, ("HB_NORTH", "HB_WEST"), MODEL_FEATURES, FAST)
    weighted, _ = fit(every, validation, ("HB_NORTH", "HB_WEST"), MODEL_FEATURES, FAST)
    np.testing.assert_allclose(weighted.predict(validation.features), plain.predict(validation.features), rtol=1e-6)


def test_a_compacted_fit_ranks_and_calibrates_like_the_whole_one() -> None:
    fit_set, validation = synthetic_set(200, FIRST, seed=1), synthetic_set(40, FIRST + dt.timedelta(days=205), seed=2)
    whole_model, whole = fit(fit_set, validation, ("HB_NORTH", "HB_WEST"), MODEL_FEATURES, FAST)
    model, small = fit(compacted(fit_set, 0.35), validation, ("HB_NORTH", "HB_WEST"), MODEL_FEATURES, FAST)
    assert model.calm_share_ == 0.35
    assert small["100"]["model"]["roc_auc"] > whole["100"]["model"]["roc_auc"] - 0.03
    assert small["100"]["model"]["brier"] < 1.1 * whole["100"]["model"]["brier"]
    # the raw probabilities (before the validation window's intercept shift) are on the same scale
    raw, whole_raw = (m.raw_probabilities(validation.features)[:, 0].mean() for m in (model, whole_model))
    assert raw == pytest.approx(whole_raw, rel=0.15)


def test_selecting_the_whole_validation_days_gives_a_plain_set() -> None:
    data = synthetic_set(20, FIRST, seed=3)
    fit_days = data.features["issue_day"] <= FIRST + dt.timedelta(days=9)
    drawn = (target_uniforms(data.features, 7) < 0.5) | ~fit_days.to_numpy()
    mixed = TrainingSet(data.features, data.outcomes, THRESHOLDS, 0.5, drawn)
    assert select_days(mixed, FIRST, FIRST + dt.timedelta(days=9)).compacted
    assert not select_days(mixed, FIRST + dt.timedelta(days=10), FIRST + dt.timedelta(days=19)).compacted


# --- reading a window reduced -----------------------------------------------------------------------


def feature_files(folder: Path, days: list[dt.date]) -> dict[dt.date, ParquetTarget]:
    targets = {}
    for k, day in enumerate(days):
        hours = ercot_time.forecast_hours(day)
        frame = pd.DataFrame({"node": "HB_WEST", "interval_start": hours, "horizon_h": np.arange(1, 73),
                              "issue_time": ercot_time.local_time_on(day, "06:00"), "dam_hod": 30.0 + k,
                              "unused": 1.0})
        targets[day] = ParquetTarget(folder / f"{day}.parquet", FEATURES)
        targets[day].write(frame)
    return targets


def issue_day_of(frame: pd.DataFrame) -> np.ndarray:
    return ercot_time.operating_day_of(frame["issue_time"])


def test_a_window_reduced_chunk_by_chunk_equals_the_whole_window_reduced(tmp_path: Path, monkeypatch) -> None:
    days = ercot_time.days(FIRST, FIRST + dt.timedelta(days=69))
    targets = feature_files(tmp_path, days)
    hourly = pd.DataFrame({"node": "HB_WEST", "interval_start": pd.date_range("2024-04-01", "2024-08-01", freq="h",
                                                                              tz="UTC"), "n_intervals": 12,
                           "expected_intervals": 12, "price_mean": 20.0})
    hourly["price_max"] = np.where(np.arange(len(hourly)) % 9 == 0, 300.0, 20.0)
    compaction = Compaction(FIRST, days[59], 0.3, 7, THRESHOLDS, ("dam_hod",))
    reduction = CompactingReads(compaction, hourly)

    monkeypatch.setattr("targets.windows.CHUNK_DAYS", 8)
    got = RollingReader().read("features", targets, issue_day_of, reduction)
    whole = RollingReader().read("features", targets, issue_day_of)
    expected = compaction.reduce(whole, hourly, "_day")
    pd.testing.assert_frame_equal(got, expected)
    assert "unused" not in got and len(got) < len(whole)


def test_a_day_is_reused_only_when_it_would_be_reduced_the_same_way(tmp_path: Path) -> None:
    days = ercot_time.days(FIRST, FIRST + dt.timedelta(days=19))
    targets = feature_files(tmp_path, days)
    hourly = pd.DataFrame({"node": "HB_WEST", "interval_start": pd.date_range("2024-04-01", "2024-07-01", freq="h",
                                                                              tz="UTC"), "price_max": 20.0,
                           "price_mean": 20.0, "n_intervals": 12, "expected_intervals": 12})
    reader = RollingReader()
    first = Compaction(days[0], days[14], 0.2, 7, THRESHOLDS, ("dam_hod",))
    reader.read("features", targets, issue_day_of, CompactingReads(first, hourly))
    # two days later: days 15-16 were whole validation days, now they are fit days, sampled
    later = Compaction(days[2], days[16], 0.2, 7, THRESHOLDS, ("dam_hod",))
    window = {d: targets[d] for d in days[2:20]}
    got = reader.read("features", window, issue_day_of, CompactingReads(later, hourly))
    fresh = RollingReader().read("features", window, issue_day_of, CompactingReads(later, hourly))
    pd.testing.assert_frame_equal(got, fresh)
    assert (got["_day"] == days[16]).sum() < 72  # sampled now, not kept whole from the last window


def hourly_files(folder: Path, days: list[dt.date], nodes: tuple[str, ...]) -> dict[dt.date, ParquetTarget]:
    """Hourly price files holding every node, as a sharded run shares them (a spike every 9th hour)."""
    targets = {}
    for day in days:
        hours = pd.date_range(ercot_time.local_time_on(day, "00:00"), periods=24, freq="h")
        frame = pd.DataFrame({"node": np.repeat(nodes, 24), "interval_start": np.tile(hours, len(nodes)),
                              "n_intervals": 12, "expected_intervals": 12, "price_mean": 20.0})
        frame["price_max"] = np.where(np.arange(len(frame)) % 9 == 0, 300.0, 20.0)
        frame["published_at"] = hours[-1] + pd.Timedelta(hours=1)
        targets[day] = ParquetTarget(folder / f"hourly-{day}.parquet", RT_HOURLY)
        targets[day].write(frame)
    return targets


def test_a_shard_reads_only_its_nodes_of_the_shared_price_files_and_labels_the_same_rows(tmp_path: Path) -> None:
    from pipeline.tasks.train import load_labelled

    days = ercot_time.days(FIRST, FIRST + dt.timedelta(days=29))
    features = feature_files(tmp_path, days[:25])
    hourly = hourly_files(tmp_path, days, ("HB_BUSAVG", "HB_NORTH", "HB_WEST", "LZ_WEST"))
    day_of_hour = lambda f: ercot_time.operating_day_of(f["interval_start"])  # noqa: E731

    reader = RollingReader()
    prices = reader.read("rt_hourly", hourly, day_of_hour, nodes=("HB_WEST",))
    whole = RollingReader().read("rt_hourly", hourly, day_of_hour)
    assert set(prices["node"]) == {"HB_WEST"} and set(whole["node"]) == {"HB_BUSAVG", "HB_NORTH", "HB_WEST", "LZ_WEST"}
    pd.testing.assert_frame_equal(prices, whole[whole["node"] == "HB_WEST"].reset_index(drop=True))
    # The reader remembers whose rows it holds: another shard's read of the same files is not served them.
    assert set(reader.read("rt_hourly", hourly, day_of_hour, nodes=("HB_NORTH",))["node"]) == {"HB_NORTH"}
    assert set(reader.read("rt_hourly", hourly, day_of_hour)["node"]) == set(whole["node"])

    compaction = Compaction(FIRST, days[19], 0.3, 7, THRESHOLDS, ("dam_hod",))
    shard = load_labelled(RollingReader(), features, hourly, THRESHOLDS, compaction, ("HB_WEST",))
    every = load_labelled(RollingReader(), features, hourly, THRESHOLDS, compaction)
    pd.testing.assert_frame_equal(shard.features, every.features)
    np.testing.assert_array_equal(shard.outcomes, every.outcomes)
    assert shard.outcomes[:, 0].sum() > 0 and len(shard.features) < 25 * 72
