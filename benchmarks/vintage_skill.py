"""What forecast vintages add: a simulated year replayed with and without the forecast inputs, per horizon day.

    python benchmarks/vintage_skill.py [--start 2024-01-01] [--days 366] [--data-root DIR]
                                       [--retrain-every-days 2] [--threads N]

Two ``Backtest`` runs through the ``luigi`` command on the embedded simulator with the default
configuration (four hubs, $100/$250/$1000, a model every ``--retrain-every-days`` days on 365 days
of history, gated, served per threshold): one as configured, whose models read the forecast vintages
(ERCOT's load forecast, the wind and solar forecasts, the temperature forecast and their recent
errors), and one with every forecast input in ``model.excluded_features``. The second reuses the
first's simulated history and feature files (the same files: only the models differ).

Printed per threshold ($100, $250) and horizon day (D+1..D+3, CPT days of the target hours): AUC,
Brier skill score against climatology, and the peak relative economic value (the cost-loss model's
value, Richardson 2000, at its best cost/loss ratio on :data:`pipeline.evaluation.COST_LOSS_RATIOS`)
of the served forecast, for both runs and their difference; then each run's wall time and peak RSS.
``--data-root`` keeps the files (a rerun prints the stored backtests).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
LUIGI = str(Path(sys.executable).with_name("luigi"))
SHARED = ("raw", "derived", "features")  # what the two runs share (the model settings do not enter these)
THRESHOLDS = (100.0, 250.0)


def run_backtest(root: Path, override: dict, start: dt.date, end: dt.date) -> tuple[float, float]:
    """The Backtest of ``start..end`` in ``root`` under ``override``: wall seconds and peak RSS (MiB)."""
    config = root / "vintage-skill.yaml"
    config.write_text(yaml.safe_dump(override))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTLMP_") or k.startswith("RTLMP_ARTIFACT_KEY")}
    env.update(RTLMP_CONFIG=str(config), RTLMP_DATA_ROOT=str(root), LUIGI_CONFIG_PATH=str(REPO / "luigi.cfg"))
    command = [LUIGI, "--module", "pipeline", "Backtest", "--start", start.isoformat(), "--end", end.isoformat(),
               "--local-scheduler"]
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log)
        _, status, usage = os.wait4(process.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            log.seek(0)
            sys.exit(f"Backtest in {root} failed:\n{log.read()[-4000:]}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def scores(predictions_path: Path) -> dict[tuple[float, int], dict[str, float]]:
    """AUC, Brier skill (vs climatology), peak relative value and model share per (threshold, horizon day)."""
    import pandas as pd

    from pipeline import ercot_time, evaluation

    frame = pd.read_parquet(predictions_path)
    target_day = ercot_time.operating_day_of(frame["interval_start"])
    frame["horizon_day"] = [(t - f).days for t, f in zip(target_day, pd.to_datetime(frame["forecast_date"]).dt.date)]
    out = {}
    for threshold in THRESHOLDS:
        for day in (1, 2, 3):
            rows = frame[(frame["threshold"] == threshold) & (frame["horizon_day"] == day)]
            y = rows["outcome"].to_numpy(dtype=float)
            p = rows["probability"].to_numpy(dtype=float)
            metrics = evaluation.binary_metrics(y, p, rows["p_climatology"].to_numpy(dtype=float))
            values = [v["value"] for v in evaluation.relative_value(y, p) if v["value"] is not None]
            out[threshold, day] = {"auc": metrics["roc_auc"], "bss": metrics["brier_skill"],
                                   "value": max(values) if values else float("nan"),
                                   "spikes": int(y.sum()), "rows": len(y),
                                   "model_share": float((~rows["model_id"].str.contains("/")).mean())}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2024, 1, 1))
    parser.add_argument("--days", type=int, default=366)
    parser.add_argument("--data-root", type=Path)
    parser.add_argument("--retrain-every-days", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None,
                        help="model.threads (default: unset, the production setting: a fit's parts side by side)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from pipeline.config import ModelConfig
    from pipeline.model.inputs import INPUT_GROUPS, VINTAGE_GROUPS

    start, end = args.start, args.start + dt.timedelta(days=args.days - 1)
    forecast_inputs = [name for group in VINTAGE_GROUPS for name in INPUT_GROUPS[group]]
    model = {"retrain_every_days": args.retrain_every_days, "threads": args.threads}
    variants = {"with forecast inputs": model,
                "without": {**model, "excluded_features": [*ModelConfig().excluded_features, *forecast_inputs]}}
    with tempfile.TemporaryDirectory(prefix="rtlmp-vintage-") as tmp:
        base = (args.data_root or Path(tmp)).resolve()
        results, costs = {}, {}
        first_root = None
        for name, settings in variants.items():
            root = base / name.split()[0]
            root.mkdir(parents=True, exist_ok=True)
            if first_root is not None:
                for folder in SHARED:
                    if not (root / folder).exists() and (first_root / folder).exists():
                        (root / folder).symlink_to(first_root / folder, target_is_directory=True)
            predictions = root / "backtests" / f"{start}_{end}" / "predictions.parquet"
            costs[name] = (0.0, 0.0) if predictions.exists() else run_backtest(root, {"model": settings}, start, end)
            print(f"{name}: {costs[name][0] / 60:.1f} min, peak {costs[name][1]:.0f} MiB", flush=True)
            results[name] = scores(predictions)
            first_root = first_root or root
    report(results, costs, start, end, args)


def report(results: dict, costs: dict, start: dt.date, end: dt.date, args: argparse.Namespace) -> None:
    print(f"\nSimulated {start}..{end}, four hubs, a model every {args.retrain_every_days} days, served forecasts")
    print(f"{'threshold':<10}{'day':<5}" + "".join(f"{name + ' AUC / BSS / value':>40}" for name in results)
          + f"{'difference':>26}")
    with_, without = results.values()
    for threshold, day in with_:
        a, b = with_[threshold, day], without[threshold, day]
        cells = "".join(f"{r['auc']:>24.3f} / {r['bss']:6.3f} / {r['value']:5.3f}" for r in (a, b))
        diff = f"{a['auc'] - b['auc']:>+10.3f} / {a['bss'] - b['bss']:+6.3f} / {a['value'] - b['value']:+6.3f}"
        print(f"${threshold:<9g}D+{day:<3}{cells}{diff}")
    for threshold, day in with_:
        a = with_[threshold, day]
        print(f"${threshold:g} D+{day}: {a['rows']} rows, {a['spikes']} spikes; served by the model: "
              + ", ".join(f"{name} {r[threshold, day]['model_share']:.0%}" for name, r in results.items()))
    for name, (seconds, peak) in costs.items():
        print(f"{name}: {seconds / 60:.1f} min wall, peak RSS {peak:.0f} MiB" if seconds else f"{name}: stored result")


if __name__ == "__main__":
    main()
