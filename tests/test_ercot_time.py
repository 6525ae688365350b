"""ERCOT local labels -> UTC, pinned on real DST days (2021-03-14, 2021-11-07, 2024-03-10, 2024-11-03)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pipeline import ercot_time as et


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.mark.parametrize(
    ("day", "hours"),
    [(dt.date(2021, 3, 14), 23), (dt.date(2024, 3, 10), 23), (dt.date(2021, 11, 7), 25),
     (dt.date(2024, 11, 3), 25), (dt.date(2024, 7, 1), 24)],
)
def test_operating_day_length_follows_dst(day: dt.date, hours: int) -> None:
    assert et.hours_in_day(day) == hours
    assert len(et.operating_day_hours(day)) == hours


def test_day_start_is_local_midnight_in_utc() -> None:
    assert et.day_start(dt.date(2024, 1, 15)) == utc("2024-01-15 06:00")
    assert et.day_start(dt.date(2024, 7, 15)) == utc("2024-07-15 05:00")


def test_forecast_hours_start_at_next_operating_day_and_count_utc_hours() -> None:
    hours = et.forecast_hours(dt.date(2024, 3, 9))
    assert len(hours) == 72
    assert hours[0] == utc("2024-03-10 06:00")
    assert hours[-1] == utc("2024-03-13 05:00")
    assert (np.diff(hours.asi8) == 3600 * 10**6).all()


def test_forecast_hours_across_fall_back() -> None:
    hours = et.forecast_hours(dt.date(2021, 11, 6))
    assert hours[0] == utc("2021-11-07 05:00")
    assert len(set(hours)) == 72


def test_hour_ending_24_is_last_hour_of_same_date() -> None:
    starts = et.hour_ending_to_utc(["01/15/2024", "01/15/2024"], ["01:00", "24:00"])
    assert list(starts) == [utc("2024-01-15 06:00"), utc("2024-01-16 05:00")]


def test_fall_back_repeated_hour_uses_flag() -> None:
    starts = et.hour_ending_to_utc(
        ["11/07/2021"] * 4, ["01:00", "02:00", "02:00", "03:00"], ["N", "N", "Y", "N"]
    )
    assert list(starts) == [utc("2021-11-07 05:00"), utc("2021-11-07 06:00"), utc("2021-11-07 07:00"),
                            utc("2021-11-07 08:00")]


def test_fall_back_full_day_has_25_distinct_hours() -> None:
    hour_endings = [f"{h:02d}:00" for h in range(1, 25)]
    hour_endings.insert(2, "02:00")
    flags = ["N"] * 25
    flags[2] = "Y"
    starts = et.hour_ending_to_utc(["2024-11-03"] * 25, hour_endings, flags)
    assert starts.is_unique and starts.is_monotonic_increasing
    assert list(starts) == list(et.operating_day_hours(dt.date(2024, 11, 3)))


def test_hour_ending_25_numbering_on_fall_back_day() -> None:
    starts = et.hour_ending_to_utc(["11/03/2024"] * 25, list(range(1, 26)))
    assert list(starts) == list(et.operating_day_hours(dt.date(2024, 11, 3)))


def test_spring_forward_hour_ending_3_is_rejected() -> None:
    with pytest.raises(et.ErcotTimeError, match="2021-03-14 02:00"):
        et.hour_ending_to_utc(["03/14/2021"], ["03:00"])


def test_spring_forward_day_without_he3_has_23_hours() -> None:
    hour_endings = [h for h in range(1, 25) if h != 3]
    starts = et.hour_ending_to_utc(["2024-03-10"] * 23, hour_endings)
    assert list(starts) == list(et.operating_day_hours(dt.date(2024, 3, 10)))


def test_repeated_flag_outside_fall_back_is_rejected() -> None:
    with pytest.raises(et.ErcotTimeError, match="not in the fall-back hour"):
        et.hour_ending_to_utc(["07/01/2024"], ["05:00"], ["Y"])


def test_fifteen_minute_intervals_on_fall_back_day() -> None:
    dates = ["11/07/2021"] * 8
    hours = [2, 2, 2, 2, 2, 2, 2, 2]
    intervals = [1, 2, 3, 4, 1, 2, 3, 4]
    flags = ["N"] * 4 + ["Y"] * 4
    starts = et.interval_to_utc(dates, hours, intervals, flags)
    expected = pd.date_range("2021-11-07 06:00", periods=8, freq="15min", tz="UTC")
    assert list(starts) == list(expected)


def test_sced_timestamps_floor_to_five_minutes_and_use_flag() -> None:
    starts = et.sced_timestamp_to_utc(
        ["11/03/2024 01:04:59", "11/03/2024 01:05:13", "11/03/2024 01:04:12"], ["N", "N", "Y"]
    )
    assert list(starts) == [utc("2024-11-03 06:00"), utc("2024-11-03 06:05"), utc("2024-11-03 07:00")]


@pytest.mark.parametrize("flag", ["Y", " Y ", "y", True, "TRUE"])
def test_flag_spellings_mean_repeated(flag: object) -> None:
    assert et.parse_repeated_flag([flag]).tolist() == [True]


@pytest.mark.parametrize("flag", ["N", "N ", False, None, float("nan"), ""])
def test_flag_spellings_mean_not_repeated(flag: object) -> None:
    assert et.parse_repeated_flag([flag]).tolist() == [False]


def test_unknown_flag_is_an_error() -> None:
    with pytest.raises(et.ErcotTimeError, match="'maybe'"):
        et.parse_repeated_flag(["maybe"])


def test_issue_time_on_spring_forward_day() -> None:
    assert et.local_time_on(dt.date(2024, 3, 10), "06:00") == utc("2024-03-10 11:00")
    assert et.local_time_on(dt.date(2024, 3, 9), "06:00") == utc("2024-03-09 12:00")


def test_operating_day_of_utc_timestamps() -> None:
    stamps = pd.DatetimeIndex([utc("2024-11-03 05:30"), utc("2024-11-04 05:59")])
    assert list(et.operating_day_of(stamps)) == [dt.date(2024, 11, 3), dt.date(2024, 11, 3)]


def test_bad_hhmm_is_rejected() -> None:
    with pytest.raises(et.ErcotTimeError):
        et.parse_hhmm("25:00")
