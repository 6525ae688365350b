"""A backtest is reproducible bit for bit however its window is split into runs.

The same 8-day window is backtested through the ``luigi`` command on the simulator once in one run
(one data root) and once as two half-window runs (another data root, two processes, the later half
first). The second half starts on a day that is not a cadence date, so the model serving it was
trained on a date of the first half: each half-run uses models the other one trained. Predictions,
daily forecasts, model artifacts and gate decisions must be identical, to the last bit.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline import registry

from tests.conftest import REPO, SMALL_CONFIG

LUIGI = str(Path(sys.executable).with_name("luigi"))
START, END = dt.date(2024, 7, 10), dt.date(2024, 7, 17)
MIDDLE = dt.date(2024, 7, 13)  # the first half ends here; the second starts on the 14th
ANCHOR, EVERY = dt.date(2000, 1, 1), 2  # config/pipeline.yaml model.cadence_anchor / retrain_every_days
TIMING_KEYS = {"fit_seconds", "crossfit_seconds", "signature"}  # wall times (and the signature over them)

pytestmark = pytest.mark.e2e


def backtest(root: Path, config: Path, start: dt.date, end: dt.date) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTLMP_") or k.startswith("RTLMP_ARTIFACT_KEY")}
    env.update({"RTLMP_DATA_ROOT": str(root), "RTLMP_CONFIG": str(config),
                "LUIGI_CONFIG_PATH": str(REPO / "luigi.cfg")})
    result = subprocess.run([LUIGI, "--module", "pipeline", "Backtest", "--start", start.isoformat(),
                             "--end", end.isoformat(), "--local-scheduler"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]


def predictions(root: Path, start: dt.date, end: dt.date) -> pd.DataFrame:
    return pd.read_parquet(root / "backtests" / f"{start}_{end}" / "predictions.parquet")


def models(root: Path) -> dict[str, dict]:
    """Metadata of every model artifact and its gate decision, keyed by path, without the wall times."""
    records = {}
    for path in sorted((root / "models").glob("*/*/metadata.json")) + sorted((root / "models").glob("*/*.json")):
        record = json.loads(path.read_text())
        records[str(path.relative_to(root))] = {k: v for k, v in record.items() if k not in TIMING_KEYS}
    return records


def test_one_run_and_two_half_runs_give_identical_results(tmp_path: Path) -> None:
    assert not registry.is_cadence_date(MIDDLE + dt.timedelta(days=1), ANCHOR, EVERY)
    assert registry.is_cadence_date(MIDDLE, ANCHOR, EVERY)
    config = tmp_path / "small.yaml"
    config.write_text(SMALL_CONFIG)
    whole, halves = tmp_path / "whole", tmp_path / "halves"

    backtest(whole, config, START, END)
    backtest(halves, config, MIDDLE + dt.timedelta(days=1), END)  # the later half first
    backtest(halves, config, START, MIDDLE)

    one = predictions(whole, START, END)
    two = pd.concat([predictions(halves, START, MIDDLE), predictions(halves, MIDDLE + dt.timedelta(days=1), END)],
                    ignore_index=True)
    assert len(one) == 8 * 72 * 2 * 2
    pd.testing.assert_frame_equal(one, two, check_exact=True)

    for day in pd.date_range(START, END).date:
        forecast = Path("forecasts") / day.isoformat() / "forecast.parquet"
        pd.testing.assert_frame_equal(pd.read_parquet(whole / forecast), pd.read_parquet(halves / forecast),
                                      check_exact=True, obj=str(forecast))

    # The same models were trained (same bytes: artifact_sha256) and gated the same way.
    assert models(whole) == models(halves)
