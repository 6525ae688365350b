"""Forecast skill on real ERCOT data: a rolling-origin replay over a year, model vs every baseline.

    python benchmarks/skill.py [--archive-dir ../shared/data/ercot] [--start 2023-01-01 --end 2023-12-31]
                               [--data-root data/skill] [--retrain-every-days 2]

It runs ``luigi --module pipeline Backtest`` on the ``ercot_archive`` source for HB_NORTH,
HB_HOUSTON, HB_SOUTH and HB_WEST at $100 and $250 with the default model settings: a forecast is
issued every day of the window at the production issue time, models are retrained on the cadence
(production: every 2 days) and trained only on data published before each issue day. It then prints
every metric of ``metrics.json`` per hub and threshold for the model and each baseline, and the
mean over the four hubs. Files stay in ``--data-root``: a rerun of the same window prints the
stored result, so use a fresh ``--data-root`` after changing code or settings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
LUIGI = str(Path(sys.executable).with_name("luigi"))
HUBS = ["HB_NORTH", "HB_HOUSTON", "HB_SOUTH", "HB_WEST"]
THRESHOLDS = [100, 250]
FORECASTS = ["model", "climatology", "persistence_yesterday", "persistence_last_week", "logistic"]
COLUMNS = [("roc_auc", "AUC"), ("average_precision", "AP"), ("brier", "Brier"), ("brier_skill", "BSS"),
           ("log_loss", "logloss"), ("ece", "ECE")]


def run_backtest(args: argparse.Namespace) -> Path:
    """Run the Backtest through the luigi command; return its metrics.json."""
    root = args.data_root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    override = {
        "market": {"nodes": HUBS, "thresholds": THRESHOLDS},
        "sources": {"market": "ercot_archive", "archive_dir": str(args.archive_dir.resolve()), "weather": "none"},
        "model": {"retrain_every_days": args.retrain_every_days},
    }
    config = root / "skill-config.yaml"
    config.write_text(yaml.safe_dump(override))
    env = dict(os.environ, RTLMP_CONFIG=str(config), RTLMP_DATA_ROOT=str(root))
    command = [LUIGI, "--module", "pipeline", "Backtest", "--start", args.start.isoformat(),
               "--end", args.end.isoformat(), "--local-scheduler"]
    print("running:", " ".join(command), f"(RTLMP_CONFIG={config}, RTLMP_DATA_ROOT={root})", flush=True)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"Backtest failed with exit code {result.returncode}:\n{result.stderr[-4000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"backtest: {elapsed / 60:.1f} min wall, peak RSS {peak:.0f} MiB", flush=True)
    return root / "backtests" / f"{args.start.isoformat()}_{args.end.isoformat()}" / "metrics.json"


def fmt(value: float | None) -> str:
    return "     -" if value is None else f"{value:6.3f}"


def print_table(metrics: dict) -> None:
    header = f"{'hub':11s} {'forecast':22s} {'n':>6s} {'pos':>5s} " + " ".join(f"{label:>7s}" for _, label in COLUMNS)
    for threshold in THRESHOLDS:
        by_node = metrics["by_threshold_node"][str(threshold)]
        print(f"\n=== spike = hourly real-time price above ${threshold}/MWh ===")
        print(header)
        for hub in HUBS:
            for name in FORECASTS:
                m = by_node[hub][name]
                flag = "" if m.get("reliable") else "  (unreliable: < 30 positives)"
                print(f"{hub:11s} {name:22s} {m['n']:6d} {m['positives']:5d} "
                      + " ".join(f"{fmt(m.get(key)):>7s}" for key, _ in COLUMNS) + flag)
        print("-" * len(header))
        for name in FORECASTS:
            means = []
            for key, _ in COLUMNS:
                values = [by_node[hub][name].get(key) for hub in HUBS]
                means.append(None if any(v is None for v in values) else sum(values) / len(values))
            print(f"{'hub mean':11s} {name:22s} {'':6s} {'':5s} " + " ".join(f"{fmt(v):>7s}" for v in means))
        beaten = [f"{hub}:{name}" for hub in HUBS for name in FORECASTS[1:]
                  if by_node[hub]["model"]["brier"] >= by_node[hub][name]["brier"]]
        print("model Brier beats every baseline at every hub:", "yes" if not beaten else f"no ({', '.join(beaten)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive-dir", type=Path, default=REPO.parent / "shared" / "data" / "ercot")
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2023, 1, 1))
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2023, 12, 31))
    parser.add_argument("--data-root", type=Path, default=REPO / "data" / "skill")
    parser.add_argument("--retrain-every-days", type=int, default=2,
                        help="retraining cadence in days (production: 2; a coarser one trades freshness for time)")
    args = parser.parse_args()
    if not args.archive_dir.is_dir():
        sys.exit(f"no ERCOT archive at {args.archive_dir} (pass --archive-dir)")
    metrics = json.loads(run_backtest(args).read_text())
    window = metrics["window"]
    print(f"\nwindow {window['start']}..{window['end']} ({window['days']} issue days), "
          f"{len(metrics['model_ids'])} distinct serving models, forecast status counts {metrics['status_counts']}")
    print_table(metrics)


if __name__ == "__main__":
    main()
