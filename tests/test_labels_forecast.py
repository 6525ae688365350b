"""Spike labels from 5- and 15-minute prices, and the contract forecast frame."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pipeline import ercot_time
from pipeline.forecast import STATUS_PREVIOUS, forecast_frame, republished
from pipeline.labels import hourly_prices, incomplete_hours, spike_outcomes
from targets.schemas import FORECAST


def rt(prices: list[float], minutes: int, start: str = "2024-07-10 22:00") -> pd.DataFrame:
    starts = pd.date_range(start, periods=len(prices), freq=f"{minutes}min", tz="UTC")
    return pd.DataFrame({"interval_start": starts, "node": "HB_NORTH", "price": prices,
                         "interval_minutes": minutes, "published_at": starts + pd.Timedelta(minutes=minutes + 5)})


def test_an_hour_spikes_when_any_five_minute_price_exceeds_the_threshold() -> None:
    hourly = hourly_prices(rt([30.0] * 11 + [120.0], 5))
    assert hourly["price_max"].tolist() == [120.0]
    assert hourly["price_mean"].iloc[0] == pytest.approx((30 * 11 + 120) / 12)
    outcomes = spike_outcomes(hourly, (100.0, 250.0))
    assert outcomes["outcome"].tolist() == [1, 0]


def test_fifteen_minute_prices_label_too_and_publication_is_the_last_interval() -> None:
    frame = rt([20.0, 260.0, 20.0, 20.0], 15)
    hourly = hourly_prices(frame)
    assert hourly["expected_intervals"].tolist() == [4]
    assert hourly["published_at"].iloc[0] == frame["published_at"].max()


def test_incomplete_hours_get_no_label() -> None:
    hourly = hourly_prices(rt([30.0] * 10, 5))
    assert spike_outcomes(hourly, (100.0,)).empty
    assert len(incomplete_hours(hourly)) == 1


def test_hours_are_aggregated_as_pandas_groups_them_in_any_row_order() -> None:
    """Two nodes, 5- and 15-minute intervals, the DST fall-back day (two 01:00 CPT hours), missing
    prices and shuffled rows: the same rows as pandas' grouped aggregation."""
    day = pd.Timestamp("2023-11-05 05:00", tz="UTC")  # 00:00 CDT on the 25-hour day
    five = rt(list(np.random.default_rng(1).gamma(2.0, 30.0, 25 * 12)), 5, str(day.tz_localize(None)))
    fifteen = rt(list(np.random.default_rng(2).gamma(2.0, 30.0, 25 * 4)), 15, str(day.tz_localize(None)))
    frame = pd.concat([five, fifteen.assign(node="HB_WEST")], ignore_index=True)
    frame.loc[[3, 40, 41, 42] + list(range(48, 60)), "price"] = np.nan  # one hour without any price
    frame = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    grouped = frame.assign(hour=frame["interval_start"].dt.floor("h")).groupby(["node", "hour"])
    expected = grouped.agg(price_max=("price", "max"), price_mean=("price", "mean"),
                           n_intervals=("price", "size"), published_at=("published_at", "max")).reset_index()
    hourly = hourly_prices(frame)
    assert len(hourly) == 2 * 25
    assert hourly["node"].tolist() == expected["node"].tolist()
    assert hourly["interval_start"].tolist() == expected["hour"].tolist()
    np.testing.assert_allclose(hourly["price_max"], expected["price_max"], rtol=1e-12)
    np.testing.assert_allclose(hourly["price_mean"], expected["price_mean"], rtol=1e-12)
    assert hourly["price_mean"].isna().sum() == 1
    assert hourly["n_intervals"].tolist() == expected["n_intervals"].tolist()
    assert hourly["expected_intervals"].tolist() == [12] * 25 + [4] * 25
    assert hourly["published_at"].tolist() == expected["published_at"].tolist()
    assert hourly_prices(frame.iloc[:0]).empty


def test_forecast_frame_follows_the_contract() -> None:
    hours = ercot_time.forecast_hours(dt.date(2024, 3, 9))
    features = pd.DataFrame({"node": np.repeat(["HB_NORTH", "HB_WEST"], 72),
                             "interval_start": hours[np.tile(np.arange(72), 2)],
                             "horizon_h": np.tile(np.arange(1, 73), 2)})
    probabilities = np.column_stack([np.full(144, 0.3), np.full(144, 0.1)])
    issued = ercot_time.local_time_on(dt.date(2024, 3, 9), "06:00")
    frame = forecast_frame(features, probabilities, (100.0, 1000.0), dt.date(2024, 3, 9), issued, "m1")
    assert list(frame.columns) == list(FORECAST.columns)
    assert len(frame) == 72 * 2 * 2
    assert set(frame["status"]) == {"ok"}
    with pytest.raises(ValueError, match="within"):
        forecast_frame(features, probabilities + 1, (100.0, 1000.0), dt.date(2024, 3, 9), issued, "m1")


def test_previous_forecast_is_republished_for_the_next_day() -> None:
    hours = ercot_time.forecast_hours(dt.date(2024, 3, 9))
    features = pd.DataFrame({"node": "HB_NORTH", "interval_start": hours, "horizon_h": np.arange(1, 73)})
    previous = forecast_frame(features, np.linspace(0, 0.71, 72)[:, None], (100.0,), dt.date(2024, 3, 9),
                              ercot_time.local_time_on(dt.date(2024, 3, 9), "06:00"), "m1")
    issued = ercot_time.local_time_on(dt.date(2024, 3, 10), "06:00")
    again = republished(previous, dt.date(2024, 3, 10), issued)
    assert len(again) == 72 and set(again["status"]) == {STATUS_PREVIOUS}
    assert again["interval_start"].iloc[0] == ercot_time.day_start(dt.date(2024, 3, 11))
    carried = again.set_index("interval_start")["probability"]
    original = previous.set_index("interval_start")["probability"]
    overlap = carried.index.intersection(original.index)
    assert len(overlap) == 49  # the 23-hour spring-forward day shifts the horizon by 23 hours only
    assert (carried[overlap] == original[overlap]).all()
    last = again["interval_start"].iloc[-1]
    assert carried[last] == original[last - pd.Timedelta(hours=24)]


def test_forecast_summary_names_the_full_issue_time_and_the_most_likely_hours() -> None:
    from pipeline.render.forecast import summary_table

    day = dt.date(2024, 3, 9)  # the horizon crosses the spring-forward day 2024-03-10
    hours = ercot_time.forecast_hours(day)
    features = pd.DataFrame({"node": "HB_NORTH", "interval_start": hours, "horizon_h": np.arange(1, 73)})
    probabilities = np.full((72, 1), 0.01)
    probabilities[20, 0] = 0.42  # hour 21 of the horizon: 21:00 CDT, the 02:00 hour does not exist
    frame = forecast_frame(features, probabilities, (100.0,), day, ercot_time.local_time_on(day, "06:00"), "m1")
    text = summary_table(frame, top=1)
    assert text.splitlines()[0] == "Forecast for 2024-03-09, issued 2024-03-09 06:00 CST (model m1, status ok)"
    assert "Sun 03-10 21:00-22:00 CDT 42.0 %" in text


def test_forecast_hours_beyond_the_data_are_counted_unlabelled_not_scored() -> None:
    from pipeline.backtest import baseline_columns, join_predictions
    from pipeline.labels import spike_outcomes

    day = dt.date(2023, 12, 30)  # its horizon runs into 2024, past the end of an archive of 2023
    hours = ercot_time.forecast_hours(day)
    features = pd.DataFrame({"node": "HB_NORTH", "interval_start": hours, "horizon_h": np.arange(1, 73),
                             "dam_hod": 40.0})
    forecast = forecast_frame(features, np.full((72, 1), 0.2), (100.0,), day,
                              ercot_time.local_time_on(day, "06:00"), "m1")
    names = ("climatology", "persistence_yesterday", "persistence_last_week", "logistic", "dam_asof")
    baselines = baseline_columns(features, {name: np.full((72, 1), 0.1) for name in names}, (100.0,))
    known = hours[hours < ercot_time.day_start(dt.date(2024, 1, 1))]
    hourly = pd.DataFrame({"node": "HB_NORTH", "interval_start": known, "price_max": 120.0, "price_mean": 60.0,
                           "n_intervals": 4, "expected_intervals": 4})
    labelled, unlabelled = join_predictions(forecast, baselines, spike_outcomes(hourly, (100.0,)))
    assert len(labelled) == len(known) == 24 and unlabelled == 48
    assert (labelled["outcome"] == 1).all()
    nothing, unlabelled = join_predictions(forecast, baselines, spike_outcomes(hourly.iloc[:0], (100.0,)))
    assert nothing.empty and unlabelled == 72
