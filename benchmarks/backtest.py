"""Wall time, peak RSS and the model-fitting share of a year-long Backtest on the embedded simulator.

    python benchmarks/backtest.py [--start 2024-01-01] [--days 365] [--data-root DIR] [--keep]
                                  [--config path.yaml] [--threads N] [--log-level WARNING]

Runs the real ``Backtest`` luigi task (``luigi.build`` with the local scheduler and one worker, as
``luigi --module pipeline Backtest --local-scheduler`` does) over ``--days`` forecast days from
``--start``, in a fresh temporary data root unless ``--data-root`` is given, with the default
configuration (config/pipeline.yaml: 4 hubs, $100/$250/$1000, a model every 2 days on 365 days of
history) unless ``--config`` names a partial override; ``--threads N`` sets ``model.threads`` on top
(the boosters' OpenMP threads; results do not depend on it). Everything is generated and computed from
scratch: simulated history, features, every cadence model and its gate, the daily forecasts, the
scoring and the report.

Printed: total wall time; peak RSS of this process (the task runs in it: one worker never forks);
the time spent fitting models, summed from the written records (``fit_seconds`` of each model's
metadata: the wall time of ``pipeline.model.fit``; ``crossfit_seconds`` of each gate decision: the
incumbent's cross-fitted calibration); the overhead ratio total / fitting; the number of models
trained and gated; and the split of the wall time over task families (each run of a task timed by
wrapping luigi's ``TaskProcess.run``; the remainder is luigi's scheduling and completeness checks).
Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Phases of the split, in order: task families by name (fetch tasks by prefix).
PHASES = ("fetch (simulator) + hourly prices", "features", "TrainModel", "GateModel", "DailyInference",
          "Backtest (scoring + report)")


def phase_of(family: str) -> str:
    if family.startswith(("Fetch", "HourlyPrices")):
        return PHASES[0]
    if family in ("FeatureRange", "BuildFeatures"):
        return PHASES[1]
    if family == "Backtest":
        return PHASES[5]
    return family


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2024, 1, 1),
                        help="first forecast day (default 2024-01-01; the simulator covers any date)")
    parser.add_argument("--days", type=int, default=365, help="forecast days replayed (default 365)")
    parser.add_argument("--data-root", type=Path,
                        help="data root to use and keep (default: a fresh temporary one, removed afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data root")
    parser.add_argument("--config", type=Path, help="partial YAML merged over config/pipeline.yaml (RTLMP_CONFIG)")
    parser.add_argument("--threads", type=int, help="model.threads for this run (default: the configuration's)")
    parser.add_argument("--log-level", default="WARNING", help="luigi/pipeline log level (default WARNING)")
    args = parser.parse_args()
    if args.days < 1:
        parser.error("--days must be at least 1")
    return args


def main() -> None:
    args = parse_args()
    if args.data_root is not None:
        root = args.data_root.resolve()
        temporary = None
    else:
        temporary = Path(tempfile.mkdtemp(prefix="rtlmp-backtest-bench-"))
        root = temporary / "data"
    fresh = not root.exists() or not any(root.iterdir())
    # The configuration is read from the environment; set it before the pipeline is imported.
    os.environ["RTLMP_DATA_ROOT"] = str(root)
    os.environ.pop("RTLMP_CONFIG", None)
    if args.config is not None or args.threads is not None:
        os.environ["RTLMP_CONFIG"] = str(override_file(args, root))
    os.environ.setdefault("LUIGI_CONFIG_PATH", str(REPO / "luigi.cfg"))
    sys.path.insert(0, str(REPO))
    try:
        run(args, root, fresh)
    finally:
        if temporary is not None and not args.keep:
            shutil.rmtree(temporary, ignore_errors=True)
        elif temporary is not None:
            print(f"data root kept: {root}")


def override_file(args: argparse.Namespace, root: Path) -> Path:
    """``--config`` with ``--threads`` merged in, as one partial YAML beside the data root."""
    import yaml

    override = yaml.safe_load(args.config.read_text()) or {} if args.config is not None else {}
    if args.threads is not None:
        override.setdefault("model", {})["threads"] = args.threads
    path = root.parent / f"{root.name}-benchmark-config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(override))
    return path


def run(args: argparse.Namespace, root: Path, fresh: bool) -> None:
    import luigi
    import luigi.worker

    from pipeline import model as model_module
    from pipeline.tasks.backtest import Backtest
    from pipeline.tasks.base import current_layout, current_settings

    config = current_settings().config
    start, end = args.start, args.start + dt.timedelta(days=args.days - 1)

    # Wall time of every run of every task, by task family (one worker: runs are sequential, in this process).
    task_seconds: dict[str, float] = defaultdict(float)
    task_runs: dict[str, int] = defaultdict(int)
    original_run = luigi.worker.TaskProcess.run

    def timed_run(self: luigi.worker.TaskProcess) -> None:
        started = time.perf_counter()
        try:
            original_run(self)
        finally:
            task_seconds[self.task.task_family] += time.perf_counter() - started
            task_runs[self.task.task_family] += 1

    # The boosters' fits inside model.fit.
    booster = {"seconds": 0.0, "calls": 0}
    original_fit_booster = model_module.SpikeModel._fit_booster

    def timed_fit_booster(self, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
        started = time.perf_counter()
        try:
            return original_fit_booster(self, *a, **k)
        finally:
            booster["seconds"] += time.perf_counter() - started
            booster["calls"] += 1

    print(f"Backtest {start}..{end} ({args.days} days) on the {config.sources.market} source: "
          f"{len(config.market.nodes)} nodes ({', '.join(config.market.nodes)}), thresholds "
          f"{'/'.join(f'{t:g}' for t in config.market.thresholds)}, a model every {config.model.retrain_every_days} "
          f"days on {config.model.history_days} days of history (max_iter {config.model.max_iter}, "
          f"threads {config.model.threads})")
    print(f"data root: {root}" + ("" if fresh else "  (NOT empty: an incremental run, not a cold one)"))
    sys.stdout.flush()

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    luigi.worker.TaskProcess.run = timed_run
    model_module.SpikeModel._fit_booster = timed_fit_booster
    started = time.perf_counter()
    try:
        result = luigi.build([Backtest(start=start, end=end)], local_scheduler=True, detailed_summary=True,
                             workers=1, log_level=args.log_level.upper())
    finally:
        total = time.perf_counter() - started
        luigi.worker.TaskProcess.run = original_run
        model_module.SpikeModel._fit_booster = original_fit_booster
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if result.status.name not in {"SUCCESS", "SUCCESS_WITH_RETRY"}:
        print(result.summary_text, file=sys.stderr)
        sys.exit(f"Backtest failed ({result.status.name}) after {total:.1f} s")

    fits, crossfits, decisions = fitting_records(current_layout())
    fit_total = sum(s for s in fits if s is not None)
    crossfit_total = sum(s for s in crossfits if s is not None)
    fitting = fit_total + crossfit_total
    accepted = sum(1 for d in decisions if d.get("status") == "accepted")

    rows = [
        ("wall time, total", f"{total:10.1f} s"),
        ("peak RSS (this process)", f"{peak_rss:10.0f} MiB  (before the run: {rss_before:.0f} MiB)"),
        (f"model.fit in TrainModel ({len(fits)} models)", f"{fit_total:10.1f} s"),
    ]
    if booster["calls"]:
        rows.append((f"  of which booster fits ({booster['calls']}, summed)", f"{booster['seconds']:10.1f} s"))
    rows += [
        (f"gate cross-fit scoring ({len(crossfits)} gates)", f"{crossfit_total:10.1f} s"),
        ("model fitting, total", f"{fitting:10.1f} s"),
        ("overhead ratio total / fitting", f"{total / fitting:10.2f}" if fitting else "       n/a"),
        ("models trained", f"{len(fits):10d}"),
        ("gate decisions (accepted / rejected)", f"{len(decisions):10d}  ({accepted} / {len(decisions) - accepted})"),
        ("forecast days", f"{args.days:10d}  ({total / args.days:.2f} s per day)"),
    ]
    missing = sum(s is None for s in fits) + sum(s is None for s in crossfits)
    if missing:
        rows.append(("records without a timing (older runs)", f"{missing:10d}  (not counted above)"))
    print()
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")

    print()
    print_phases(task_seconds, task_runs, total, fit_total, crossfit_total)


def fitting_records(layout) -> tuple[list[float | None], list[float | None], list[dict]]:  # noqa: ANN001
    """fit_seconds of every model artifact and crossfit_seconds of every gate decision under the data root."""
    fits: list[float | None] = []
    crossfits: list[float | None] = []
    decisions: list[dict] = []
    models_root = Path(layout.root) / "models"
    for folder in sorted(models_root.iterdir()) if models_root.is_dir() else []:
        try:
            day = dt.date.fromisoformat(folder.name)
        except ValueError:
            continue
        artifact = layout.model(day)
        if artifact.exists():
            fits.append(artifact.metadata().get("fit_seconds"))
        decision = layout.model_decision(day)
        if decision.exists():
            record = decision.read()
            decisions.append(record)
            crossfits.append(record.get("crossfit_seconds"))
    return fits, crossfits, decisions


def print_phases(task_seconds: dict[str, float], task_runs: dict[str, int], total: float,
                 fit_total: float, crossfit_total: float) -> None:
    seconds_by_phase: dict[str, float] = defaultdict(float)
    runs_by_phase: dict[str, int] = defaultdict(int)
    for family, seconds in task_seconds.items():
        seconds_by_phase[phase_of(family)] += seconds
        runs_by_phase[phase_of(family)] += task_runs[family]
    order = [*PHASES, *sorted(set(seconds_by_phase) - set(PHASES))]
    lines: list[tuple[str, int, float]] = []
    for phase in order:
        if phase not in seconds_by_phase:
            continue
        seconds = seconds_by_phase[phase]
        lines.append((phase, runs_by_phase[phase], seconds))
        if phase == "TrainModel":
            lines.append(("  model.fit", 0, fit_total))
            lines.append(("  loading + metadata + writing", 0, seconds - fit_total))
        if phase == "GateModel":
            lines.append(("  cross-fit scoring", 0, crossfit_total))
            lines.append(("  loading + the rest", 0, seconds - crossfit_total))
    lines.append(("luigi scheduling + completeness checks", 0, total - sum(task_seconds.values())))
    width = max(len(label) for label, _, _ in lines)
    print(f"{'phase':<{width}}  {'task runs':>9}  {'seconds':>9}  {'share':>6}")
    for label, runs, seconds in lines:
        print(f"{label:<{width}}  {runs if runs else '':>9}  {seconds:9.1f}  {seconds / total:6.1%}")
    print(f"{'total':<{width}}  {'':>9}  {total:9.1f}  {1:6.1%}")


if __name__ == "__main__":
    main()
