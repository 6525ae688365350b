"""targets/: schema checks, atomic writes (a crash mid-write leaves no final file), model artifacts."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from targets import ArtifactError, Layout, ModelArtifactTarget, ParquetTarget, SchemaError, Tags
from targets import schemas


def prices(n: int = 3) -> pd.DataFrame:
    starts = pd.date_range("2024-03-10 06:00", periods=n, freq="5min", tz="UTC")
    return pd.DataFrame({
        "interval_start": starts, "node": "HB_NORTH", "price": 25.0, "interval_minutes": 5,
        "published_at": starts + pd.Timedelta(minutes=10),
    })


def test_round_trip_keeps_columns_dtypes_and_utc(tmp_path: Path) -> None:
    target = ParquetTarget(tmp_path / "p.parquet", schemas.RT_PRICES)
    target.write(prices())
    back = target.read()
    assert list(back.columns) == list(schemas.RT_PRICES.columns)
    assert str(back["interval_start"].dt.tz) == "UTC"
    assert back["interval_minutes"].dtype == "int64"


def test_non_utc_timestamps_are_converted(tmp_path: Path) -> None:
    frame = prices()
    frame["interval_start"] = frame["interval_start"].dt.tz_convert("America/Chicago")
    conformed = schemas.RT_PRICES.conform(frame)
    assert str(conformed["interval_start"].dt.tz) == "UTC"
    assert conformed["interval_start"][0] == pd.Timestamp("2024-03-10 06:00", tz="UTC")


def test_naive_timestamps_are_rejected() -> None:
    frame = prices()
    frame["published_at"] = frame["published_at"].dt.tz_localize(None)
    with pytest.raises(SchemaError, match="'published_at' must hold tz-aware"):
        schemas.RT_PRICES.conform(frame)


def test_missing_column_is_named() -> None:
    with pytest.raises(SchemaError, match=r"missing column\(s\) \['price'\]"):
        schemas.RT_PRICES.conform(prices().drop(columns="price"))


def test_unexpected_column_is_named() -> None:
    with pytest.raises(SchemaError, match="unexpected column"):
        schemas.RT_PRICES.conform(prices().assign(extra=1.0))


def test_empty_frame_is_refused(tmp_path: Path) -> None:
    target = ParquetTarget(tmp_path / "p.parquet", schemas.RT_PRICES)
    with pytest.raises(SchemaError, match="empty"):
        target.write(prices().iloc[:0])
    assert not target.exists()


def test_duplicate_keys_are_refused() -> None:
    frame = pd.concat([prices(), prices().iloc[:1]])
    with pytest.raises(SchemaError, match="share a key"):
        schemas.RT_PRICES.conform(frame)


def test_duplicate_keys_are_found_over_several_key_columns() -> None:
    """Each key column alone repeats; only the third row repeats the pair, and it is the one named."""
    frame = prices(3)
    frame["node"] = ["HB_NORTH", "HB_WEST", "HB_NORTH"]
    frame.loc[2, "interval_start"] = frame.loc[0, "interval_start"]
    with pytest.raises(SchemaError, match=r"2 rows share a key \('node', 'interval_start'\), e.g. \{'node': 'HB_NORTH'"):
        schemas.RT_PRICES.conform(frame)
    same_hour = frame.assign(interval_start=frame.loc[0, "interval_start"], node=["HB_NORTH", "HB_WEST", "HB_HOUSTON"])
    assert len(schemas.RT_PRICES.conform(same_hour)) == 3


def test_repeated_column_names_are_refused() -> None:
    frame = pd.concat([prices(), prices()[["price"]]], axis=1)
    with pytest.raises(SchemaError, match=r"column\(s\) \['price'\] appear more than once"):
        schemas.RT_PRICES.conform(frame)


@pytest.mark.parametrize("wide", [False, True])
def test_arrow_tables_match_pyarrows_own_conversion(wide: bool) -> None:
    """Types, values and nulls (NaN becomes null) as ``Table.from_pandas`` makes them, narrow or wide."""
    import numpy as np
    import pyarrow as pa

    from targets.files import FLOAT_BLOCK_MIN, arrow_table

    frame = prices(4).assign(price=[1.5, np.nan, 3.0, np.inf])
    if wide:
        for i in range(FLOAT_BLOCK_MIN + 3):
            frame[f"f{i}"] = np.where(np.arange(4) == i % 4, np.nan, float(i))
    frame["flag"] = [True, False, True, True]
    frame["day"] = [dt.date(2024, 3, 10)] * 4
    frame["seen"] = frame["published_at"].where(frame["price"] > 2)  # one NaT, one null
    frame["text"] = pd.Series(["a", None, "c", "d"], dtype="str")
    frame["label"] = pd.Series(["x", "y", None, "z"], dtype=object)
    expected = pa.Table.from_pandas(frame, preserve_index=False)
    table = arrow_table(frame)
    assert table.schema == expected.schema.remove_metadata()
    assert table.equals(expected.replace_schema_metadata(None))
    assert table.column("price").null_count == 1
    assert table.column("seen").null_count == 2 and table.column("text").null_count == 1
    if wide:
        assert all(table.column(f"f{i}").null_count == 1 for i in range(FLOAT_BLOCK_MIN + 3))


def test_missing_values_are_refused() -> None:
    frame = prices()
    frame.loc[1, "price"] = float("nan")
    with pytest.raises(SchemaError, match="'price' has 1 missing"):
        schemas.RT_PRICES.conform(frame)


def test_text_in_numeric_column_is_refused() -> None:
    with pytest.raises(SchemaError, match="'price' must be numeric"):
        schemas.RT_PRICES.conform(prices().assign(price="25"))


def test_not_a_frame_is_refused() -> None:
    with pytest.raises(SchemaError, match="expected a pandas DataFrame"):
        schemas.RT_PRICES.conform([1, 2, 3])  # type: ignore[arg-type]


CRASH_SCRIPT = """
import os, sys
import pandas as pd
import targets.store
from targets import ParquetTarget, schemas

def crash(descriptor):
    os._exit(9)  # the process dies mid-write (the bytes are not on disk yet), like a SIGKILL

targets.store.os.fsync = crash
starts = pd.date_range("2024-01-01", periods=2, freq="5min", tz="UTC")
frame = pd.DataFrame({"interval_start": starts, "node": "HB_NORTH", "price": 1.0,
                      "interval_minutes": 5, "published_at": starts})
ParquetTarget(sys.argv[1], schemas.RT_PRICES).write(frame)
"""


def test_crash_in_the_middle_of_a_write_leaves_no_final_file(tmp_path: Path) -> None:
    final = tmp_path / "raw" / "x.parquet"
    result = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, str(final)], check=False)
    assert result.returncode == 9
    assert not final.exists()
    leftovers = list(final.parent.iterdir())
    assert leftovers and all(p.name.startswith(".x.parquet.tmp-") for p in leftovers)
    assert not ParquetTarget(final, schemas.RT_PRICES).exists()


def test_a_truncated_parquet_file_is_not_complete_and_is_set_aside_by_the_rebuild(tmp_path: Path) -> None:
    target = ParquetTarget(tmp_path / "p.parquet", schemas.RT_PRICES)
    target.write(prices())
    whole = Path(target.path).read_bytes()
    Path(target.path).write_bytes(whole[: len(whole) // 2])
    assert not target.exists(), "a file without its footer must not count as complete"
    target.write(prices())
    assert target.exists() and len(target.read()) == 3
    [aside] = [p for p in tmp_path.iterdir() if ".corrupt-" in p.name]
    assert aside.read_bytes() == whole[: len(whole) // 2], "the corrupt file is kept for inspection"


def test_what_a_footer_says_is_worked_out_again_when_the_file_is_replaced(tmp_path: Path) -> None:
    """Completeness checks remember each footer's verdict and stamp; a file replaced behind this
    process's back (another writer, a user) is judged afresh."""
    from targets.stamp import Stamp

    target = ParquetTarget(tmp_path / "p.parquet", schemas.RT_PRICES)
    target.write(prices(), Stamp("settings-a", "inputs-a"))
    assert target.current(Stamp("settings-a", "inputs-a")) and target.problem() is None
    other = tmp_path / "other.parquet"
    ParquetTarget(other, schemas.RT_PRICES).write(prices(5), Stamp("settings-b", "inputs-b"))
    os.replace(other, target.path)
    assert not target.current(Stamp("settings-a", "inputs-a")) and target.current(Stamp("settings-b", "inputs-b"))
    prices(4).drop(columns="published_at").to_parquet(tmp_path / "bad.parquet")
    os.replace(tmp_path / "bad.parquet", target.path)
    assert target.problem() == "missing column(s) ['published_at'] of rt_prices"
    assert not target.exists()


def test_completeness_checks_of_many_files_keep_their_verdicts_not_their_footers(tmp_path: Path, monkeypatch) -> None:
    """A shard's year of feature files is checked by every training: each file's verdict and stamp
    stay known without reading it again, while only the last few parsed footers stay in memory."""
    from targets import files
    from targets.stamp import Stamp

    many = [ParquetTarget(tmp_path / f"{k}.parquet", schemas.RT_PRICES) for k in range(files.PARSED_FOOTERS + 20)]
    for k, target in enumerate(many):
        target.write(prices(3), Stamp("settings", f"inputs-{k}"))
        files.forget_footer(target.path)
    assert all(t.current(Stamp("settings", f"inputs-{k}")) for k, t in enumerate(many))
    assert len(files._PARSED) == files.PARSED_FOOTERS
    reads = []
    monkeypatch.setattr(files.LOCAL, "read_tail", lambda path, size: reads.append(path))
    assert all(t.current(Stamp("settings", f"inputs-{k}")) and t.problem() is None for k, t in enumerate(many))
    assert reads == [], "a verdict known for this version of the file is not read again"


def test_a_footer_is_read_in_one_read_and_a_longer_one_in_two(tmp_path: Path, monkeypatch) -> None:
    """A footer within :data:`~targets.files.FOOTER_READ` bytes of the end costs one read (one request
    to an object store); a longer one a second; a file shorter than its footer claims is not valid."""
    from targets import files
    from targets.stamp import Stamp

    target = ParquetTarget(tmp_path / "p.parquet", schemas.RT_PRICES)
    target.write(prices(), Stamp("settings", "inputs"))
    reads: list[int] = []
    real = files.LOCAL.read_tail
    monkeypatch.setattr(files.LOCAL, "read_tail", lambda path, size: reads.append(size) or real(path, size))
    files.forget_footer(target.path)
    assert target.current(Stamp("settings", "inputs")) and reads == [files.FOOTER_READ]
    footer = int.from_bytes(Path(target.path).read_bytes()[-8:-4], "little") + 8
    monkeypatch.setattr(files, "FOOTER_READ", footer // 2)
    reads.clear()
    files.forget_footer(target.path)
    assert target.current(Stamp("settings", "inputs")) and reads == [footer // 2, footer]
    whole = Path(target.path).read_bytes()
    Path(target.path).write_bytes(whole[:8] + whole[-footer // 2:])  # the middle cut out: the footer claims more
    files.forget_footer(target.path)
    assert target.problem() == "it does not open (cut short or garbled)" and not target.exists()


def test_a_json_record_that_does_not_parse_is_not_complete(tmp_path: Path) -> None:
    from targets import JsonTarget

    target = JsonTarget(tmp_path / "decision.json")
    target.write({"status": "accepted"})
    Path(target.path).write_text('{"status": "acc')
    assert not target.exists()
    target.write({"status": "accepted"})
    assert target.read() == {"status": "accepted"}


def test_racing_writers_of_one_file_both_succeed_and_leave_no_debris(tmp_path: Path) -> None:
    import threading

    target_path = tmp_path / "raw" / "race.parquet"
    results: list[bool] = []
    barrier = threading.Barrier(6)

    def write() -> None:
        barrier.wait()
        results.append(ParquetTarget(target_path, schemas.RT_PRICES).write_once(prices()))

    threads = [threading.Thread(target=write) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 5 + [True]
    assert [p.name for p in target_path.parent.iterdir()] == ["race.parquet"]
    assert len(ParquetTarget(target_path, schemas.RT_PRICES).read()) == 3


def test_model_artifact_round_trip_and_write_once(tmp_path: Path) -> None:
    target = ModelArtifactTarget(tmp_path / "models" / "2024-01-01" / "abc")
    # Metadata as training writes it: float keys, tuples, nested records (JSON changes their form).
    metadata = {"model_id": "m1", "calibration": {100.0: (1.0, 0.0), 1000.0: (0.9, 0.1), 250.0: (1.1, -0.2)}}
    record = target.write({"weights": [1, 2, 3]}, metadata)
    assert target.exists()
    assert record["artifact_sha256"] == target.metadata()["artifact_sha256"]
    assert target.load() == {"weights": [1, 2, 3]}
    # The identical model written again (a concurrent run) is success; a different one is refused.
    assert target.write({"weights": [1, 2, 3]}, metadata)["artifact_sha256"] == record["artifact_sha256"]
    with pytest.raises(ArtifactError, match="a different model"):
        target.write({"weights": []}, {"model_id": "m2"})
    assert sorted(p.name for p in Path(target.path).iterdir()) == ["metadata.json", "model.pkl"]


def test_artifact_folders_follow_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        target = ModelArtifactTarget(tmp_path / "models" / "2024-01-01" / "abc")
        target.write({"w": 1}, {"model_id": "m1"})
    finally:
        os.umask(previous)
    assert (Path(target.path).stat().st_mode & 0o777) == 0o755
    assert (Path(target.model_path).stat().st_mode & 0o777) == 0o644


def test_a_model_file_replaced_together_with_its_hash_is_refused_and_never_run(tmp_path: Path) -> None:
    """An attacker with write access to the data root rewrites model.pkl and the hash beside it."""
    import hashlib
    import pickle

    target = ModelArtifactTarget(tmp_path / "m")
    target.write({"weights": [1]}, {"model_id": "m1"})
    marker = tmp_path / "code-ran"
    evil = pickle.dumps(_RunsCode(str(marker)))
    Path(target.model_path).write_bytes(evil)
    metadata = json.loads(Path(target.metadata_path).read_text())
    metadata["artifact_sha256"] = hashlib.sha256(evil).hexdigest()
    Path(target.metadata_path).write_text(json.dumps(metadata))
    with pytest.raises(ArtifactError, match="signature"):
        target.load()
    assert not marker.exists()


def test_metadata_pointing_at_another_file_is_refused(tmp_path: Path) -> None:
    import pickle

    target = ModelArtifactTarget(tmp_path / "m")
    target.write({"weights": [1]}, {"model_id": "m1"})
    marker = tmp_path / "code-ran"
    (tmp_path / "elsewhere.pkl").write_bytes(pickle.dumps(_RunsCode(str(marker))))
    metadata = json.loads(Path(target.metadata_path).read_text())
    metadata["artifact_file"] = "../elsewhere.pkl"
    Path(target.metadata_path).write_text(json.dumps(metadata))
    with pytest.raises(ArtifactError):
        target.load()
    assert not marker.exists()


def test_the_signing_key_file_is_created_private_and_a_shared_one_is_refused(tmp_path: Path, monkeypatch) -> None:
    from targets import signing

    key_file = tmp_path / "keys" / "artifact.key"
    monkeypatch.delenv("RTLMP_ARTIFACT_KEY")
    monkeypatch.setenv("RTLMP_ARTIFACT_KEY_FILE", str(key_file))
    key = signing.signing_key()
    assert len(key) >= 32 and (key_file.stat().st_mode & 0o777) == 0o600
    assert signing.signing_key() == key
    key_file.chmod(0o644)
    with pytest.raises(signing.SigningKeyError, match="chmod 600"):
        signing.signing_key()
    monkeypatch.setenv("RTLMP_ARTIFACT_KEY", "ab" * 32)
    assert signing.signing_key() == bytes.fromhex("ab" * 32)


def test_an_artifact_signed_with_another_key_is_refused(tmp_path: Path, monkeypatch) -> None:
    target = ModelArtifactTarget(tmp_path / "m")
    monkeypatch.setenv("RTLMP_ARTIFACT_KEY", "01" * 32)
    target.write({"weights": [1]}, {"model_id": "m1"})
    monkeypatch.setenv("RTLMP_ARTIFACT_KEY", "02" * 32)
    with pytest.raises(ArtifactError, match="does not verify"):
        target.load()


def test_tampered_artifact_is_not_loaded(tmp_path: Path) -> None:
    target = ModelArtifactTarget(tmp_path / "m")
    target.write({"weights": [1]}, {"model_id": "m1"})
    (tmp_path / "m" / "model.pkl").write_bytes(b"not what was trained")
    with pytest.raises(ArtifactError, match="does not match"):
        target.load()


def test_failed_artifact_write_leaves_nothing(tmp_path: Path) -> None:
    target = ModelArtifactTarget(tmp_path / "m")
    with pytest.raises(ValueError):
        target.write({"w": 1}, {"bad": float("nan")})  # NaN is not valid JSON: the write fails
    assert not (tmp_path / "m").exists()


class _RunsCode:
    """A pickle that, when loaded, creates a file: what a malicious model.pkl would do."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):  # noqa: ANN204
        return (open, (self.path, "w"))


def test_read_many_keeps_only_the_nodes_asked_for_before_the_frame_is_built(tmp_path: Path) -> None:
    from targets.files import read_many

    targets = []
    for day in range(3):
        hours = pd.date_range(f"2024-07-0{day + 1}T05:00Z", periods=24, freq="h")
        frame = pd.DataFrame({"node": ["HB_NORTH"] * 24 + ["HB_WEST"] * 24 + ["HB_HUBAVG"] * 24,
                              "interval_start": list(hours) * 3, "price_max": 30.0 + day, "price_mean": 25.0,
                              "n_intervals": 12, "expected_intervals": 12, "published_at": hours[-1]})
        targets.append(ParquetTarget(tmp_path / f"{day}.parquet", schemas.RT_HOURLY))
        targets[-1].write(frame)
    whole = read_many(targets)
    kept = read_many(targets, ("HB_WEST", "HB_HUBAVG"))
    assert len(whole) == 216 and sorted(set(kept["node"])) == ["HB_HUBAVG", "HB_WEST"]
    expected = whole[whole["node"] != "HB_NORTH"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept.reset_index(drop=True), expected)


def feature_files(folder: Path, days: int = 3) -> list[ParquetTarget]:
    """Small feature files: the declared keys and three extra float columns, one with missing values."""
    targets = []
    for day in range(days):
        hours = pd.date_range(f"2024-07-0{day + 1}T05:00Z", periods=4, freq="h")
        frame = pd.DataFrame({"node": "HB_WEST", "interval_start": hours, "horizon_h": range(1, 5),
                              "issue_time": pd.Timestamp(f"2024-07-0{day + 1}T11:00Z"), "dam_hod": 20.0 + day,
                              "unused": 1.0, "spike_rate_100_hod_7d": [0.1, float("nan"), 0.3, 0.4]})
        targets.append(ParquetTarget(folder / f"{day}.parquet", schemas.FEATURES))
        targets[-1].write(frame)
    return targets


def test_read_many_reads_the_declared_columns_and_the_columns_asked_for(tmp_path: Path) -> None:
    """A projected read gives exactly the whole read's keys and chosen columns, in the files' order;
    a column the files lack is not invented."""
    from targets.files import read_many

    targets = feature_files(tmp_path)
    whole = read_many(targets)
    chosen = read_many(targets, columns=["spike_rate_100_hod_7d", "dam_hod", "not_in_the_files"])
    assert list(chosen.columns) == ["node", "interval_start", "horizon_h", "issue_time", "dam_hod",
                                    "spike_rate_100_hod_7d"]
    pd.testing.assert_frame_equal(chosen, whole[list(chosen.columns)])
    both = read_many(targets, ("HB_WEST",), columns=["dam_hod"])
    pd.testing.assert_frame_equal(both, whole[["node", "interval_start", "horizon_h", "issue_time", "dam_hod"]])
