"""Rolling windows of daily files: reusing what an earlier window read gives exactly a fresh read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from pipeline import ercot_time
from pipeline.tasks.common import read_days
from targets import ParquetTarget
from targets.schemas import RT_HOURLY

FIRST = dt.date(2024, 3, 1)
DAYS = ercot_time.days(FIRST, FIRST + dt.timedelta(days=19))  # crosses the spring-forward day 2024-03-10


def write_days(folder: Path) -> dict[dt.date, ParquetTarget]:
    targets = {}
    for k, day in enumerate(DAYS):
        hours = ercot_time.operating_day_hours(day)
        frame = pd.DataFrame({"interval_start": hours, "node": "HB_WEST", "price_max": np.arange(len(hours)) + 100.0 * k,
                              "price_mean": 20.0, "n_intervals": 4, "expected_intervals": 4,
                              "published_at": hours + pd.Timedelta(hours=1)})
        targets[day] = ParquetTarget(folder / f"{day}.parquet", RT_HOURLY)
        targets[day].write(frame)
    return targets


def test_overlapping_and_nested_windows_read_like_fresh_reads(tmp_path: Path) -> None:
    targets = write_days(tmp_path)
    reads: list[dt.date] = []

    def target_for(day: dt.date) -> ParquetTarget:
        reads.append(day)
        return targets[day]

    def day_of(frame: pd.DataFrame) -> np.ndarray:
        return ercot_time.operating_day_of(frame["interval_start"])

    def fresh(days: list[dt.date]) -> pd.DataFrame:
        return read_days(SimpleNamespace(windows={}), "rt", days, lambda d: targets[d], day_of)

    ctx = SimpleNamespace(windows={})
    windows = [DAYS[0:10], DAYS[6:8], DAYS[2:12], DAYS[4:14], DAYS[5:13], DAYS[1:6], DAYS[10:20]]
    for window in windows:
        reads.clear()
        got = read_days(ctx, "rt", window, target_for, day_of)
        pd.testing.assert_frame_equal(got, fresh(window))
        assert got["_day"].is_monotonic_increasing
    # The nested window DAYS[6:8] read nothing and kept the cache: DAYS[2:12] then read its 2 new files only.
    reads.clear()
    ctx = SimpleNamespace(windows={})
    read_days(ctx, "rt", DAYS[0:10], target_for, day_of)
    read_days(ctx, "rt", DAYS[6:8], target_for, day_of)
    assert reads == DAYS[0:10]
    read_days(ctx, "rt", DAYS[2:12], target_for, day_of)
    assert reads[10:] == DAYS[10:12]
