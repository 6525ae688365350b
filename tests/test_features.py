"""Pure feature tier: as-of filtering, the day x hour cube, forecast vintages, and bulk == daily."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pipeline import asof, ercot_time
from pipeline.asof import KNOWN_AT
from pipeline.features import (
    FeatureInputs,
    FeatureSettings,
    Vintages,
    build_cube,
    build_features,
    feature_columns,
    features_by_day,
)

SETTINGS = FeatureSettings(nodes=("HB_NORTH", "HB_WEST"), thresholds=(100.0, 1000.0), issue_time="06:00", lookback_days=14)


def hourly_prices(first: dt.date, last: dt.date, spikes: dict[tuple[dt.date, int], float] | None = None) -> pd.DataFrame:
    """Hourly max/mean prices of 25 $/MWh for every hour, nodes and the system node, with chosen spikes."""
    rows = []
    for day in ercot_time.days(first, last):
        for start in ercot_time.operating_day_hours(day):
            hour = int(start.tz_convert(ercot_time.CPT).hour)
            for node in ("HB_NORTH", "HB_WEST", "HB_HUBAVG"):
                price = (spikes or {}).get((day, hour), 25.0) if node == "HB_NORTH" else 25.0
                rows.append({"interval_start": start, "node": node, "price_max": price, "price_mean": price,
                             "n_intervals": 12, "expected_intervals": 12,
                             "published_at": start + pd.Timedelta(minutes=65)})
    return asof.with_known_at(pd.DataFrame(rows), "rt_prices", "synthetic")


def test_every_issue_day_has_72_hours_per_node_and_fixed_columns() -> None:
    inputs = FeatureInputs(rt_hourly=hourly_prices(dt.date(2024, 2, 1), dt.date(2024, 3, 12)))
    features = build_features(SETTINGS, inputs, [dt.date(2024, 3, 9)])  # D+1 is spring-forward day
    assert len(features) == 72 * 2
    assert list(features.columns[5:]) == feature_columns(SETTINGS)
    hours = features.loc[features["node"] == "HB_NORTH", "interval_start"]
    assert hours.iloc[0] == pd.Timestamp("2024-03-10 06:00", tz="UTC") and hours.is_unique


def test_spike_rates_count_known_days_only() -> None:
    issue = dt.date(2024, 7, 10)
    spikes = {(issue - dt.timedelta(days=1), 18): 500.0, (issue - dt.timedelta(days=3), 18): 300.0,
              (issue, 17): 9000.0}  # the issue day's own prices are not public at 06:00
    inputs = FeatureInputs(rt_hourly=hourly_prices(dt.date(2024, 6, 1), dt.date(2024, 7, 14), spikes))
    features = build_features(SETTINGS, inputs, [issue])
    north = features[features["node"] == "HB_NORTH"]
    at_18 = north[north["hour_of_day"] == 18].iloc[0]
    assert at_18["spike_rate_100_hod_7d"] == pytest.approx(2 / 7)
    assert at_18["spike_rate_100_hod_28d"] == pytest.approx(2 / 14)  # the lookback holds 14 days here
    assert at_18["spike_rate_1000_hod_7d"] == 0.0
    assert at_18["price_max_hod_d1"] == 500.0
    assert at_18["days_since_spike_100"] == 1.0
    at_17 = north[north["hour_of_day"] == 17].iloc[0]
    assert at_17["spike_rate_100_hod_7d"] == 0.0
    west = features[features["node"] == "HB_WEST"].iloc[0]
    assert west["days_since_spike_100"] == 15.0  # none in the window: window + 1


def test_bulk_and_daily_features_are_identical() -> None:
    spikes = {(dt.date(2024, 7, d), 18): 150.0 * d for d in range(1, 20)}
    inputs = FeatureInputs(rt_hourly=hourly_prices(dt.date(2024, 6, 1), dt.date(2024, 7, 25), spikes))
    days = [dt.date(2024, 7, 10), dt.date(2024, 7, 11), dt.date(2024, 7, 14)]
    bulk = build_features(SETTINGS, inputs, days)
    for day in days:
        daily = build_features(SETTINGS, inputs, [day])
        pd.testing.assert_frame_equal(bulk[bulk["issue_day"] == day].reset_index(drop=True), daily)


def test_values_known_after_issue_time_are_ignored() -> None:
    issue = dt.date(2024, 7, 10)
    inputs = FeatureInputs(rt_hourly=hourly_prices(dt.date(2024, 6, 1), dt.date(2024, 7, 14)))
    base = build_features(SETTINGS, inputs, [issue])
    late = inputs.rt_hourly.copy()
    issue_at = ercot_time.local_time_on(issue, SETTINGS.issue_time)
    after = late[KNOWN_AT] > issue_at
    assert after.any()
    late.loc[after, ["price_max", "price_mean"]] = 9999.0
    changed = build_features(SETTINGS, FeatureInputs(rt_hourly=late), [issue])
    pd.testing.assert_frame_equal(base, changed)


def test_cube_folds_the_repeated_fall_back_hour_and_leaves_the_missing_hour_empty() -> None:
    fall, spring = dt.date(2024, 11, 3), dt.date(2024, 3, 10)
    frames = []
    for day in (fall, spring):
        hours = ercot_time.operating_day_hours(day)
        frames.append(pd.DataFrame({"interval_start": hours, "node": "A", "price_max": np.arange(len(hours), dtype=float),
                                    KNOWN_AT: hours + pd.Timedelta(hours=1)}))
    frame = pd.concat(frames, ignore_index=True)
    cube = build_cube(frame, "node", {"price_max": "max"}, ("A",), spring, fall)
    fall_row = cube.values["price_max"][(fall - spring).days, :, 0]
    assert fall_row[1] == 2.0  # 01:00 CDT (index 1) and 01:00 CST (index 2) fold into hour 1: max
    assert fall_row[2] == 3.0
    spring_row = cube.values["price_max"][0, :, 0]
    assert np.isnan(spring_row[2])  # 02:00-03:00 does not exist
    assert spring_row[3] == 2.0


def test_vintages_take_the_newest_publication_known_at_the_time() -> None:
    hours = pd.date_range("2024-07-11 05:00", periods=4, freq="h", tz="UTC")
    old = pd.DataFrame({"interval_start": hours, "zone": "ERCOT", "load_mw": 1.0,
                        KNOWN_AT: pd.Timestamp("2024-07-09 10:30", tz="UTC")})
    new = pd.DataFrame({"interval_start": hours[:2], "zone": "ERCOT", "load_mw": 2.0,
                        KNOWN_AT: pd.Timestamp("2024-07-10 10:30", tz="UTC")})
    later = pd.DataFrame({"interval_start": hours, "zone": "ERCOT", "load_mw": 3.0,
                          KNOWN_AT: pd.Timestamp("2024-07-10 12:00", tz="UTC")})
    vintages = Vintages.build(pd.concat([old, new, later]), "zone", "load_mw", ("ERCOT",))
    known_by = np.int64(pd.Timestamp("2024-07-10 11:00", tz="UTC").value // 1000)
    values = vintages.latest(known_by, hours[0], 5)[:, 0]
    assert values[:4].tolist() == [2.0, 2.0, 1.0, 1.0]
    assert np.isnan(values[4])


def test_missing_groups_give_nan_columns_not_zeros() -> None:
    inputs = FeatureInputs(rt_hourly=hourly_prices(dt.date(2024, 6, 1), dt.date(2024, 7, 14)))
    features = build_features(SETTINGS, inputs, [dt.date(2024, 7, 10)])
    for column in ("load_fc", "net_load_fc", "temp_fc_mean", "dam_hod", "load_hod_d1"):
        assert features[column].isna().all(), column


def test_required_days_follow_the_publication_schedule() -> None:
    issue = dt.date(2024, 7, 10)
    dam = asof.required_days("dam_prices", "synthetic", issue, "06:00", 3)
    assert max(dam) == issue  # D+1's DAM clears at 13:30 on D, after the issue time
    assert asof.required_days("dam_prices", "synthetic", issue, "14:00", 3)[-1] == issue + dt.timedelta(days=1)
    prices = asof.required_days("rt_prices", "synthetic", issue, "06:00", 3)
    assert max(prices) == issue - dt.timedelta(days=1)
    assert asof.required_days("load_forecast", "synthetic", issue, "06:00", 3) == [
        issue - dt.timedelta(days=2), issue - dt.timedelta(days=1), issue]
    assert asof.required_days("load_forecast", "synthetic", issue, "05:00", 3)[-1] == issue - dt.timedelta(days=1)


def test_holidays_include_thanksgiving_and_memorial_day() -> None:
    holidays = ercot_time.holidays
    assert dt.date(2024, 11, 28) in holidays(2024)
    assert dt.date(2024, 11, 29) in holidays(2024)
    assert dt.date(2024, 5, 27) in holidays(2024)
    assert dt.date(2024, 5, 20) not in holidays(2024)
    assert dt.date(2024, 12, 31) not in holidays(2024)  # New Year's Eve is a working day for load


def _load_rows(day: dt.date, mw: float, published_at: pd.Timestamp, zone: str = "ERCOT") -> list[dict]:
    return [{"interval_start": start, "zone": zone, "load_mw": mw, "published_at": published_at}
            for start in ercot_time.operating_day_hours(day)]


def test_yesterdays_forecast_error_is_that_of_the_forecast_known_a_day_before() -> None:
    """load_fc_err_d1: D-1's forecast as known 24 h before the issue time, against D-1's actual load;
    a later revision of D-1 (posted on D, before the issue time) is not yesterday's forecast."""
    issue = dt.date(2024, 7, 10)
    yesterday = issue - dt.timedelta(days=1)
    actual = [row for day in ercot_time.days(issue - dt.timedelta(days=20), yesterday)
              for row in _load_rows(day, 50_000.0, ercot_time.local_time_on(day + dt.timedelta(days=1), "06:00"))]
    forecasts = (_load_rows(yesterday, 52_000.0, ercot_time.local_time_on(yesterday, "05:30"))
                 + _load_rows(yesterday, 49_000.0, ercot_time.local_time_on(issue, "05:30"))  # a revision on D
                 + [row for day in ercot_time.days(issue, issue + dt.timedelta(days=4))
                    for row in _load_rows(day, 55_000.0, ercot_time.local_time_on(issue, "05:30"))])
    inputs = FeatureInputs(
        rt_hourly=hourly_prices(dt.date(2024, 6, 1), dt.date(2024, 7, 14)),
        load=asof.with_known_at(pd.DataFrame(actual), "load", "synthetic"),
        load_forecast=asof.with_known_at(pd.DataFrame(forecasts), "load_forecast", "synthetic"),
    )
    features = build_features(SETTINGS, inputs, [issue])
    # (52,000 - 50,000) MW over the recent peak load of 50,000 MW
    assert features["load_fc_err_d1"].unique().tolist() == [pytest.approx(0.04)]
    assert (features["load_fc"] == 55_000.0).all()
    # without yesterday's forecast (no vintage known a day before), the error is unknown, not zero
    later_only = FeatureInputs(rt_hourly=inputs.rt_hourly, load=inputs.load, load_forecast=asof.with_known_at(
        pd.DataFrame(forecasts[24:]), "load_forecast", "synthetic"))
    assert build_features(SETTINGS, later_only, [issue])["load_fc_err_d1"].isna().all()


def test_daily_files_hold_the_rows_of_the_bulk_build() -> None:
    spikes = {(dt.date(2024, 7, d), 18): 150.0 * d for d in range(1, 20)}
    inputs = FeatureInputs(rt_hourly=hourly_prices(dt.date(2024, 6, 1), dt.date(2024, 7, 25), spikes))
    days = [dt.date(2024, 7, 14), dt.date(2024, 7, 10), dt.date(2024, 7, 11)]
    bulk = build_features(SETTINGS, inputs, days)
    by_day = features_by_day(SETTINGS, inputs, days)
    assert list(by_day) == sorted(days)
    for day, frame in by_day.items():
        expected = bulk[bulk["issue_day"] == day].drop(columns="issue_day").reset_index(drop=True)
        pd.testing.assert_frame_equal(frame.reset_index(drop=True), expected)
