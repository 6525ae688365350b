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
from targets import ParquetTarget, schemas

def crash(self, path, *args, **kwargs):
    with open(path, "wb") as f:
        f.write(b"PAR1 half a file")
    os._exit(9)  # the process dies mid-write, like a SIGKILL

pd.DataFrame.to_parquet = crash
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
    assert leftovers and all("luigi-tmp" in p.name for p in leftovers)
    assert not ParquetTarget(final, schemas.RT_PRICES).exists()


def test_layout_puts_the_date_once_in_each_path(tmp_path: Path) -> None:
    layout = Layout(tmp_path, Tags(market="synthetic", weather="synthetic", features="f1", model="m1"))
    day = dt.date(2024, 3, 9)
    for target in (layout.raw("rt_prices", day), layout.raw("weather", day), layout.features(day),
                   layout.forecast(day), layout.rt_hourly(day), layout.model(day), layout.model_decision(day)):
        assert str(target.path).count("2024-03-09") == 1
    assert layout.forecast(day).path.endswith("forecasts/2024-03-09/forecast.parquet")


def test_a_layout_without_tags_knows_only_the_untagged_files(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    assert layout.forecast(dt.date(2024, 3, 9)).path.startswith(str(tmp_path))
    with pytest.raises(ValueError, match="without settings tags"):
        layout.features(dt.date(2024, 3, 9))


def test_model_artifact_round_trip_and_immutability(tmp_path: Path) -> None:
    target = ModelArtifactTarget(tmp_path / "models" / "2024-01-01" / "abc")
    record = target.write({"weights": [1, 2, 3]}, {"model_id": "m1"})
    assert target.exists()
    assert record["artifact_sha256"] == target.metadata()["artifact_sha256"]
    assert target.load() == {"weights": [1, 2, 3]}
    with pytest.raises(ArtifactError, match="immutable"):
        target.write({"weights": []}, {"model_id": "m2"})


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
    assert [p.name for p in tmp_path.iterdir()] == []
