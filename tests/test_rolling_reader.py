"""Rolling windows of daily files: reusing what an earlier window read gives exactly a fresh read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pipeline import ercot_time
from targets import ParquetTarget
from targets.schemas import RT_HOURLY
from targets.windows import RollingReader

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


class Recorded(dict):
    """Files by day that record which days were opened (``items()`` lists paths without opening)."""

    def __init__(self, files: dict[dt.date, ParquetTarget], reads: list[dt.date]) -> None:
        super().__init__(files)
        self.reads = reads

    def __getitem__(self, day: dt.date) -> ParquetTarget:
        self.reads.append(day)
        return super().__getitem__(day)


def day_of(frame: pd.DataFrame) -> np.ndarray:
    return ercot_time.operating_day_of(frame["interval_start"])


def test_overlapping_and_nested_windows_read_like_fresh_reads(tmp_path: Path) -> None:
    targets = write_days(tmp_path)
    reads: list[dt.date] = []

    def window_of(days: list[dt.date]) -> Recorded:
        return Recorded({d: targets[d] for d in days}, reads)

    def fresh(days: list[dt.date]) -> pd.DataFrame:
        return RollingReader().read("rt", {d: targets[d] for d in days}, day_of)

    reader = RollingReader()
    windows = [DAYS[0:10], DAYS[6:8], DAYS[2:12], DAYS[4:14], DAYS[5:13], DAYS[1:6], DAYS[10:20]]
    for window in windows:
        reads.clear()
        got = reader.read("rt", window_of(window), day_of)
        pd.testing.assert_frame_equal(got, fresh(window))
        assert got["_day"].is_monotonic_increasing
    # The nested window DAYS[6:8] read nothing and kept the cache: DAYS[2:12] then read its 2 new files only.
    reads.clear()
    reader = RollingReader()
    reader.read("rt", window_of(DAYS[0:10]), day_of)
    reader.read("rt", window_of(DAYS[6:8]), day_of)
    assert reads == DAYS[0:10]
    reader.read("rt", window_of(DAYS[2:12]), day_of)
    assert reads[10:] == DAYS[10:12]


def test_the_same_days_from_other_files_are_read_afresh(tmp_path: Path) -> None:
    """Another configuration's files for the same days (another folder) never come from the cache."""
    first = write_days(tmp_path / "a")
    second = {day: ParquetTarget(tmp_path / "b" / f"{day}.parquet", RT_HOURLY) for day in DAYS}
    for day, target in second.items():
        target.write(first[day].read().assign(price_max=-1.0))
    reader = RollingReader()
    reader.read("rt", first, day_of)
    again = reader.read("rt", second, day_of)
    assert (again["price_max"] == -1.0).all()


def test_a_window_read_with_fewer_columns_is_not_served_for_all_of_them(tmp_path: Path) -> None:
    """The columns read are part of what the cache remembers: a projected window never stands in for
    a whole one, and the same projection is served from the cache."""
    targets = write_days(tmp_path)
    reads: list[dt.date] = []
    reader = RollingReader()
    window = DAYS[0:5]
    projected = reader.read("rt", Recorded({d: targets[d] for d in window}, reads), day_of, columns=[])
    assert "price_max" in projected  # a declared column of the schema: always read
    assert reads == window
    again = reader.read("rt", Recorded({d: targets[d] for d in window}, reads), day_of, columns=[])
    assert reads == window, "the same projection comes from the cache"
    pd.testing.assert_frame_equal(again, projected)
    reader.read("rt", Recorded({d: targets[d] for d in window}, reads), day_of)
    assert reads == window + window, "a whole read after a projected one opens the files again"


def test_a_window_kept_on_disk_serves_the_next_process_like_a_fresh_read(tmp_path: Path) -> None:
    """A new reader (the next day's run) reuses the kept days and reads only the files added since; the
    kept file is written again only once more than REKEEP_DAYS days were read from their files."""
    targets = write_days(tmp_path / "files")
    keep = str(tmp_path / "cache")
    kept = Path(keep) / "rt.arrow"
    reads: list[dt.date] = []

    def read(window: list[dt.date], reader: RollingReader | None = None) -> pd.DataFrame:
        return (reader or RollingReader()).read("rt", Recorded({d: targets[d] for d in window}, reads), day_of,
                                                keep_in=keep)

    read(DAYS[0:12])
    assert kept.is_file() and reads == DAYS[0:12]
    written = kept.stat().st_mtime_ns
    reads.clear()
    got = read(DAYS[2:14])  # a new process: the next window, two days on
    assert reads == DAYS[12:14], "only the two new days are opened"
    pd.testing.assert_frame_equal(got, RollingReader().read("rt", {d: targets[d] for d in DAYS[2:14]}, day_of))
    assert kept.stat().st_mtime_ns == written, "two new days do not rewrite the kept window"
    reads.clear()
    read(DAYS[10:20])  # eight days the kept window lacks: read, and the window kept again
    assert reads == DAYS[12:20] and kept.stat().st_mtime_ns != written
    reads.clear()
    read(DAYS[11:20])
    assert reads == []
    assert len(list(Path(keep).iterdir())) == 1, "no temporary file is left beside the kept window"


def test_a_kept_day_whose_file_changed_is_read_from_the_new_file(tmp_path: Path) -> None:
    targets = write_days(tmp_path / "files")
    keep = str(tmp_path / "cache")
    RollingReader().read("rt", targets, day_of, keep_in=keep)
    changed = DAYS[5]
    frame = targets[changed].read().assign(price_max=-7.0)
    Path(targets[changed].path).rename(f"{targets[changed].path}.aside")  # as a rebuild sets the old file aside
    targets[changed].write(frame)  # a new file at the same path
    got = RollingReader().read("rt", targets, day_of, keep_in=keep)
    assert (got.loc[got["_day"] == changed, "price_max"] == -7.0).all()
    pd.testing.assert_frame_equal(got, RollingReader().read("rt", targets, day_of))


@pytest.mark.parametrize("damage", ["cut short", "not arrow", "another arrow file"])
def test_a_damaged_kept_window_is_ignored_with_a_warning(tmp_path: Path, damage: str,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    targets = write_days(tmp_path / "files")
    keep = str(tmp_path / "cache")
    RollingReader().read("rt", targets, day_of, keep_in=keep)
    kept = Path(keep) / "rt.arrow"
    if damage == "cut short":
        kept.write_bytes(kept.read_bytes()[:2000])
    elif damage == "not arrow":
        kept.write_text("hello")
    else:
        table = pa.table({"x": [1, 2]})
        with pa.OSFile(str(kept), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    reads: list[dt.date] = []
    with caplog.at_level("WARNING", logger="targets"):
        got = RollingReader().read("rt", Recorded(dict(targets), reads), day_of, keep_in=keep)
    assert f"the window kept in {kept} is not usable" in caplog.text
    assert reads == DAYS
    pd.testing.assert_frame_equal(got, RollingReader().read("rt", targets, day_of))
    reads.clear()
    again = RollingReader().read("rt", Recorded(dict(targets), reads), day_of, keep_in=keep)
    assert reads == [], "kept again, whole: the next reader opens no file"
    pd.testing.assert_frame_equal(again, got)


def test_a_kept_window_read_otherwise_is_not_reused(tmp_path: Path) -> None:
    targets = write_days(tmp_path / "files")
    keep = str(tmp_path / "cache")
    RollingReader().read("rt", targets, day_of, keep_in=keep, columns=[])
    reads: list[dt.date] = []
    RollingReader().read("rt", Recorded(dict(targets), reads), day_of, keep_in=keep, nodes=["HB_WEST"])
    assert reads == DAYS


def test_a_window_is_kept_on_a_local_disk_only(tmp_path: Path) -> None:
    from targets.layout import Layout, Tags
    from targets.windows import _keep

    tags = Tags(market="m", weather=None, features="f1-x", model="m1-f1-x")
    assert Layout(tmp_path, tags).window_cache() == str(tmp_path / "cache" / "windows" / "f1-x")
    assert Layout("s3://bucket/root", tags).window_cache() is None
    with pytest.raises(ValueError, match="local folder only"):
        _keep("s3://bucket/root/cache/rt.arrow", {}, {}, pd.DataFrame({"_day": []}))
