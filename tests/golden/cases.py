"""The golden cases: runs through the ``luigi`` command whose results are pinned.

The expected values live beside this module as JSON (floats written with ``repr``), compared to
1e-9 relative (see ``RELATIVE_TOLERANCE``), text and counts exactly. They change only with an
intended change of behaviour: regenerate them with ``python -m tests.golden.cases --update`` and
say why in the commit.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent
SHARED_DATA = REPO.parent / "shared" / "data"
LUIGI = str(Path(sys.executable).with_name("luigi"))

SIMULATOR_CONFIG = """
market:
  nodes: [HB_NORTH, HB_WEST]
  thresholds: [100, 1000]
features:
  lookback_days: 14
model:
  history_days: 30
  validation_days: 8
  max_age_days: 6
  max_iter: 30
"""

ARCHIVE_CONFIG = """
market:
  nodes: [HB_NORTH, HB_HOUSTON]
  thresholds: [100, 250]
sources:
  market: ercot_archive
  archive_dir: {archive}
  weather: none
features:
  lookback_days: 14
model:
  history_days: 60
  validation_days: 10
  max_age_days: 6
  max_iter: 30
"""

# Columns pinned: everything a user or a report reads from the forecast and the predictions.
FORECAST_COLUMNS = ["node", "threshold", "interval_start", "horizon_h", "probability", "model_id", "status"]
PREDICTION_COLUMNS = [*FORECAST_COLUMNS, "forecast_date", "outcome", "price_max", "price_mean", "dam_asof",
                      "p_climatology", "p_persistence_yesterday", "p_persistence_last_week", "p_logistic",
                      "p_dam_asof"]


@dataclass(frozen=True)
class Case:
    name: str
    config: str
    command: list[str]
    output: str  # relative to the data root
    columns: list[str]
    needs_archive: bool = False

    def config_text(self) -> str:
        return self.config.format(archive=SHARED_DATA / "ercot")


CASES = (
    Case("simulator_daily_inference", SIMULATOR_CONFIG, ["DailyInference", "--date", "2024-07-16"],
         "forecasts/2024-07-16/forecast.parquet", FORECAST_COLUMNS),
    Case("archive_backtest", ARCHIVE_CONFIG, ["Backtest", "--start", "2023-08-17", "--end", "2023-08-19"],
         "backtests/2023-08-17_2023-08-19/predictions.parquet", PREDICTION_COLUMNS, needs_archive=True),
)


def run(case: Case, workdir: Path) -> pd.DataFrame:
    """Run ``case`` through the luigi command in a fresh data root under ``workdir``; its output frame."""
    config = workdir / f"{case.name}.yaml"
    config.write_text(case.config_text())
    root = workdir / case.name
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTLMP_") or k.startswith("RTLMP_ARTIFACT_KEY")}
    env.update({"RTLMP_DATA_ROOT": str(root), "RTLMP_CONFIG": str(config),
                "LUIGI_CONFIG_PATH": str(REPO / "luigi.cfg")})
    result = subprocess.run([LUIGI, "--module", "pipeline", *case.command, "--local-scheduler"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0:
        raise AssertionError(f"{case.name}: luigi exited {result.returncode}\n{result.stderr[-3000:]}")
    return pd.read_parquet(root / case.output)


def records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """The pinned columns as JSON-ready rows in a fixed order (timestamps and dates as ISO strings)."""
    pinned = frame[columns].sort_values(["node", "threshold", *(["forecast_date"] if "forecast_date" in columns
                                                                 else []), "interval_start"], kind="stable")
    out = []
    for row in pinned.to_dict("records"):
        out.append({k: _plain(v) for k, v in row.items()})
    return out


def _plain(value: Any) -> Any:
    """A cell as JSON holds it: ISO text for times and dates, None for a missing number."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


# Numbers are pinned to 1e-9 relative: the last bits of a float move with the summation order of
# numpy, pandas or scikit-learn versions (seen: 0.03062433907215292 against 0.030624339072153),
# which is not a change of behaviour; any change of method moves them by far more.
RELATIVE_TOLERANCE = 1e-9


def same_value(got: Any, want: Any) -> bool:
    if isinstance(got, int | float) and isinstance(want, int | float) and not isinstance(got, bool) \
            and not isinstance(want, bool):
        return math.isclose(got, want, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12)
    return got == want


def differing_keys(got: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """The keys of a pinned row whose values differ (all of them when the rows have other keys)."""
    if got.keys() != want.keys():
        return sorted(got.keys() | want.keys())
    return [k for k in want if not same_value(got[k], want[k])]


def first_difference(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> str | None:
    """Where the pinned rows first differ, in words (None: they match)."""
    if len(actual) != len(expected):
        return f"{len(actual)} rows instead of {len(expected)}"
    for number, (got, want) in enumerate(zip(actual, expected)):
        keys = differing_keys(got, want)
        if keys:
            return f"row {number}: " + ", ".join(f"{k} = {got.get(k)!r}, expected {want.get(k)!r}" for k in keys)
    return None


def expected_path(case: Case) -> Path:
    return GOLDEN / f"{case.name}.json"


def load_expected(case: Case) -> list[dict[str, Any]]:
    return json.loads(expected_path(case).read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description="regenerate the golden results (only for an intended change)")
    parser.add_argument("--update", action="store_true", help="write the expected JSON files")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            if case.needs_archive and not SHARED_DATA.is_dir():
                print(f"{case.name}: skipped, {SHARED_DATA} is missing")
                continue
            rows = records(run(case, Path(tmp)), case.columns)
            if args.update:
                expected_path(case).write_text("[\n" + ",\n".join(json.dumps(r, sort_keys=True) for r in rows) + "\n]\n")
                print(f"{case.name}: {len(rows)} rows written to {expected_path(case)}")
            else:
                difference = first_difference(rows, load_expected(case))
                print(f"{case.name}: {len(rows)} rows, {'the same' if difference is None else 'DIFFERENT: ' + difference}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
