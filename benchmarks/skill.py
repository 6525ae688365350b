"""Forecast skill on real ERCOT data: rolling-origin replays of whole years, forecast vs every baseline.

    python benchmarks/skill.py [--years 2021 2022 2023] [--archive-dir ../shared/data/ercot]
                               [--weather-dir ../shared/data/weather] [--data-root data/skill]
                               [--retrain-every-days 2] [--threads N]

For each year it runs ``luigi --module pipeline Backtest`` (1 Jan to 31 Dec) on the
``ercot_archive`` source for HB_NORTH, HB_HOUSTON, HB_SOUTH and HB_WEST at $100, $250 and $1000
with the default model settings: a forecast is issued every day at the production issue time,
models are retrained on the cadence (production: every 2 days) and trained only on data published
before each issue day; the archived hourly station weather stands in for the weather source. The
forecast scored is what users get: per threshold, the model or the baseline its gate chose.

After each year's run it prints the wall time and where it went: per task family, the tasks run
and their summed run time (the run's own task metrics, kept apart per year), and the rest
(luigi's scheduling). It prints, per year and threshold, every metric of ``metrics.json`` per hub for the forecast and
each baseline with the mean over the four hubs, the AUC by horizon day, and a summary across the
years. Files stay in ``--data-root`` (one for all years: they share raw data and features): a rerun
of the same year prints the stored result, so use a fresh ``--data-root`` after changing code or
settings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from pipeline.ops.metrics import MetricsFile

REPO = Path(__file__).resolve().parents[1]
LUIGI = str(Path(sys.executable).with_name("luigi"))
HUBS = ["HB_NORTH", "HB_HOUSTON", "HB_SOUTH", "HB_WEST"]
THRESHOLDS = [100, 250, 1000]
FORECASTS = ["model", "climatology", "persistence_yesterday", "persistence_last_week", "logistic", "dam_asof"]
COLUMNS = [("roc_auc", "AUC"), ("average_precision", "AP"), ("brier", "Brier"), ("brier_skill", "BSS"),
           ("log_loss", "logloss"), ("ece", "ECE")]


def run_backtest(args: argparse.Namespace, start: dt.date, end: dt.date) -> Path:
    """Run the Backtest of ``start..end`` through the luigi command; return its metrics.json."""
    root = args.data_root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    weather = ({"weather": "archive", "weather_dir": str(args.weather_dir.resolve())} if args.weather_dir.is_dir()
               else {"weather": "none"})
    override = {
        "market": {"nodes": HUBS, "thresholds": THRESHOLDS},
        "sources": {"market": "ercot_archive", "archive_dir": str(args.archive_dir.resolve()), **weather},
        "model": {"retrain_every_days": args.retrain_every_days, "threads": args.threads},
    }
    config = root / "skill-config.yaml"
    config.write_text(yaml.safe_dump(override))
    counters = root / f"task-times-{start.isoformat()}_{end.isoformat()}"
    shutil.rmtree(counters, ignore_errors=True)  # this run's task times only
    env = dict(os.environ, RTLMP_CONFIG=str(config), RTLMP_DATA_ROOT=str(root), RTLMP_METRICS_DIR=str(counters))
    command = [LUIGI, "--module", "pipeline", "Backtest", "--start", start.isoformat(),
               "--end", end.isoformat(), "--local-scheduler"]
    print("running:", " ".join(command), f"(RTLMP_CONFIG={config}, RTLMP_DATA_ROOT={root})", flush=True)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"Backtest failed with exit code {result.returncode}:\n{result.stderr[-4000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"backtest {start}..{end}: {elapsed / 60:.1f} min wall, peak RSS so far {peak:.0f} MiB", flush=True)
    print_phases(MetricsFile(counters).read_state(), elapsed)
    return root / "backtests" / f"{start.isoformat()}_{end.isoformat()}" / "metrics.json"


def print_phases(state: dict, wall_seconds: float) -> None:
    """Where the wall time went, per task family, from the run's own metrics (luigi's run time of each task).

    A task with dynamic dependencies is timed on its last pass, the one that finished; the rest of
    the wall time is luigi's scheduling (completeness checks, dependency walks) and the passes that
    stopped at a dynamic dependency.
    """
    tasks = sorted(state["tasks"].items(), key=lambda item: -item[1]["seconds"])
    print(f"{'phase (task family)':28s} {'runs':>6s} {'seconds':>9s} {'share':>7s}")
    for family, counts in tasks:
        print(f"{family:28s} {counts['success']:6d} {counts['seconds']:9.1f} {counts['seconds'] / wall_seconds:7.1%}")
    rest = wall_seconds - sum(counts["seconds"] for _, counts in tasks)
    print(f"{'scheduling and other':28s} {'':6s} {rest:9.1f} {rest / wall_seconds:7.1%}", flush=True)


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


def hub_mean(metrics: dict, threshold: int, name: str, key: str) -> float | None:
    values = [metrics["by_threshold_node"][str(threshold)][hub][name].get(key) for hub in HUBS]
    return None if any(v is None for v in values) else sum(values) / len(values)


def print_horizons(metrics: dict) -> None:
    print("\nAUC by horizon day (all hubs pooled):")
    for threshold in THRESHOLDS:
        by_day = metrics["by_threshold_horizon_day"][str(threshold)]
        for name in FORECASTS:
            print(f"  ${threshold:<5d} {name:22s} " + " ".join(f"D+{day} {fmt(by_day[day][name].get('roc_auc'))}"
                                                       for day in sorted(by_day)))


def print_summary(results: dict[int, dict]) -> None:
    print("\n=== summary: hub mean of the forecast; best baseline by hub-mean Brier ===")
    print(f"{'year':5s} {'thr':>6s} {'AUC':>7s} {'BSS':>7s} {'ECE':>7s} {'Brier':>8s}  {'best baseline':22s} "
          f"{'Brier':>8s}  hubs x baselines beaten")
    for year, metrics in results.items():
        for threshold in THRESHOLDS:
            brier = {name: hub_mean(metrics, threshold, name, "brier") for name in FORECASTS}
            best = min(FORECASTS[1:], key=lambda n: brier[n])
            by_node = metrics["by_threshold_node"][str(threshold)]
            wins = sum(by_node[hub]["model"]["brier"] < by_node[hub][name]["brier"] for hub in HUBS
                       for name in FORECASTS[1:])
            print(f"{year:<5d} {'$' + str(threshold):>6s} {fmt(hub_mean(metrics, threshold, 'model', 'roc_auc')):>7s} "
                  f"{fmt(hub_mean(metrics, threshold, 'model', 'brier_skill')):>7s} "
                  f"{fmt(hub_mean(metrics, threshold, 'model', 'ece')):>7s} {brier['model']:8.5f}  {best:22s} "
                  f"{brier[best]:8.5f}  {wins}/{len(HUBS) * (len(FORECASTS) - 1)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--years", type=int, nargs="+", default=[2021, 2022, 2023])
    parser.add_argument("--archive-dir", type=Path, default=REPO.parent / "shared" / "data" / "ercot")
    parser.add_argument("--weather-dir", type=Path, default=REPO.parent / "shared" / "data" / "weather",
                        help="archived hourly weather (left out when the folder is absent)")
    parser.add_argument("--data-root", type=Path, default=REPO / "data" / "skill")
    parser.add_argument("--threads", type=int, default=None,
                        help="OpenMP threads per booster fit (default: one per core); 1 when running "
                             "several years side by side, each with its own --data-root")
    parser.add_argument("--retrain-every-days", type=int, default=2,
                        help="retraining cadence in days (production: 2; a coarser one trades freshness for time)")
    args = parser.parse_args()
    if not args.archive_dir.is_dir():
        sys.exit(f"no ERCOT archive at {args.archive_dir} (pass --archive-dir)")
    results = {}
    for year in args.years:
        metrics = json.loads(run_backtest(args, dt.date(year, 1, 1), dt.date(year, 12, 31)).read_text())
        window = metrics["window"]
        print(f"\n##### {year}: window {window['start']}..{window['end']} ({window['days']} issue days), "
              f"{len(metrics['model_ids'])} distinct serving forecasters, status counts {metrics['status_counts']}")
        print_table(metrics)
        print_horizons(metrics)
        results[year] = metrics
    print_summary(results)


if __name__ == "__main__":
    main()
