"""Peak memory of one shard's training at production settings: TrainModel as it is, and with its window compacted.

    python benchmarks/shard_training.py [--date 2024-07-16] [--shard-size 100] [--history-days 365]
                                        [--validation-days 28] [--data-root DIR] [--skip-current]

The shard is the first ``--shard-size`` settlement points of the simulated universe in ``market.nodes:
all`` order (shard 0 of the production scale-out), with the production model settings (365 days of
history, 28 validation days, one thread per worker as the README's "Running at scale" sets). On a
local data root it runs, each in a process of its own whose peak resident set the kernel reports
(``wait4``):

1. the inputs of the training window: ``HourlyPricesRange`` and ``FeatureRange`` through the
   ``luigi`` command (their peaks are printed too: they are workers of a cold day as well);
2. **current**: ``TrainModel --date D`` through the ``luigi`` command, as the task reads its window
   today (every feature file of the window concatenated);
3. **compacted**: the same training with the window read as proposed for ``TrainModel``
   (:func:`load_compacted` below, the wiring asked of the task owner): the fit days compacted while
   they are read (:mod:`pipeline.model.dataset`), then the same :func:`train_candidate`. It writes
   nothing; it prints the fit rows, the share of calm hours kept and the validation AUC.

``--skip-current`` leaves out step 2 (it needs several GB). Files stay in ``--data-root`` when given,
so a rerun skips step 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LUIGI = str(Path(sys.executable).with_name("luigi"))


def measured(command: list[str], env: dict[str, str], label: str) -> tuple[float, float, str]:
    """Run ``command``; its wall seconds, peak RSS in MiB (its largest process) and its stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err, tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            sys.exit(f"{label} failed:\n{err.read()[-4000:]}")
        out.seek(0)
        return seconds, usage.ru_maxrss / 1024, out.read()


def load_compacted(date: str) -> None:
    """The proposed TrainModel path for cadence date ``date``: read the window compacted, train, report."""
    from pipeline import ercot_time
    from pipeline.model import labelled_set
    from pipeline.model.candidate import Provenance, train_candidate, training_compaction
    from pipeline.model.dataset import CompactingReads
    from pipeline.tasks.base import current_layout, current_settings
    from targets.windows import RollingReader

    settings, layout = current_settings(), current_layout()
    window = settings.window(dt.date.fromisoformat(date))
    compaction = training_compaction(window, settings)
    reader = RollingReader()
    features = {d: layout.features(d) for d in ercot_time.days(window.fit_first, window.validation_last)}
    first_label, last_label = window.label_days
    hourly = {d: layout.rt_hourly(d) for d in ercot_time.days(first_label, last_label)}
    prices = reader.read("rt_hourly", hourly, lambda f: ercot_time.operating_day_of(f["interval_start"]))
    prices = prices.drop(columns="_day")
    reads = CompactingReads(compaction, prices) if compaction is not None else None
    frame = reader.read("features", features, lambda f: ercot_time.operating_day_of(f["issue_time"]), reads)
    data = labelled_set(frame.rename(columns={"_day": "issue_day"}), prices, settings.thresholds, compaction)
    provenance = Provenance(settings.model_id(window.train_date), settings.tags.features, settings.market_source,
                            None, settings.simulated, settings.config.model.model_dump(mode="json"))
    _, meta = train_candidate(data, window, settings.features.nodes, settings, provenance)
    print(json.dumps({"rows": meta["rows"], "calm_share": meta["calm_share"], "fit_seconds": meta["fit_seconds"],
                      "auc": {t: e["model"].get("roc_auc") for t, e in meta["validation"].items()}}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2024, 7, 16))
    parser.add_argument("--shard-size", type=int, default=100)
    parser.add_argument("--history-days", type=int, default=365)
    parser.add_argument("--validation-days", type=int, default=28)
    parser.add_argument("--data-root", type=Path)
    parser.add_argument("--skip-current", action="store_true")
    parser.add_argument("--compacted-only-for", help=argparse.SUPPRESS)  # the child process of step 3
    args = parser.parse_args()
    if args.compacted_only_for:
        sys.path.insert(0, str(REPO))
        load_compacted(args.compacted_only_for)
        return
    with tempfile.TemporaryDirectory(prefix="rtlmp-shard-") as tmp:
        root = (args.data_root or Path(tmp) / "data").resolve()
        root.mkdir(parents=True, exist_ok=True)
        env = environment(root, args)
        sys.path.insert(0, str(REPO))
        os.environ.update({k: env[k] for k in ("RTLMP_CONFIG", "RTLMP_DATA_ROOT")})
        from pipeline.tasks.base import current_settings

        settings = current_settings()
        date = settings.cadence.newest(args.date)
        window = settings.window(date)
        print(f"shard of {len(settings.features.nodes)} nodes, cadence date {date}, fit {window.fit_first}.."
              f"{window.fit_last}, validation ..{window.validation_last}, data root {root}", flush=True)
        rows = []
        first_label, last_label = window.label_days
        for label, task in (("HourlyPricesRange (inputs)", ["HourlyPricesRange", "--start", first_label.isoformat(),
                                                             "--end", last_label.isoformat()]),
                            ("FeatureRange (inputs)", ["FeatureRange", "--start", window.fit_first.isoformat(),
                                                       "--end", window.validation_last.isoformat()])):
            rows.append((label, *measured([LUIGI, "--module", "pipeline", *task, "--local-scheduler"], env, label)[:2]))
            print(f"{label}: {rows[-1][1] / 60:.1f} min, peak {rows[-1][2]:.0f} MiB", flush=True)
        from pipeline.tasks.base import current_layout

        if not args.skip_current and current_layout().model(date).exists():
            print(f"TrainModel of {date} is already in {root}: not measured again (remove models/{date} to)")
        elif not args.skip_current:
            label = "TrainModel, window read whole (current)"
            rows.append((label, *measured([LUIGI, "--module", "pipeline", "TrainModel", "--date", date.isoformat(),
                                           "--local-scheduler"], env, label)[:2]))
            print(f"{label}: {rows[-1][1] / 60:.1f} min, peak {rows[-1][2]:.0f} MiB", flush=True)
        label = "training, window compacted while read (proposed)"
        seconds, peak, out = measured([sys.executable, __file__, "--compacted-only-for", date.isoformat()], env, label)
        rows.append((label, seconds, peak))
        print(f"{label}: {seconds / 60:.1f} min, peak {peak:.0f} MiB; {out.strip()}", flush=True)
    print(f"\n{'step':<52}{'wall min':>9}{'peak RSS MiB':>14}")
    for label, seconds, peak in rows:
        print(f"{label:<52}{seconds / 60:>9.1f}{peak:>14.0f}")


def environment(root: Path, args: argparse.Namespace) -> dict[str, str]:
    """The production model settings for the first shard of the universe, in a configuration file."""
    sys.path.insert(0, str(REPO))
    from pipeline.config import load_config
    from pipeline.sources import Sources, resolve_nodes

    config_path = root / "shard-training.yaml"
    config_path.write_text("market:\n  nodes: all\n")
    os.environ["RTLMP_CONFIG"] = str(config_path)
    config = load_config()
    nodes = resolve_nodes(config, Sources.from_config(config).market)[: args.shard_size]
    config_path.write_text(f"market:\n  nodes: [{', '.join(nodes)}]\n  shard_size: {args.shard_size}\n"
                           f"model:\n  history_days: {args.history_days}\n  validation_days: {args.validation_days}\n"
                           "  threads: 1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTLMP_")}
    env.update({"RTLMP_CONFIG": str(config_path), "RTLMP_DATA_ROOT": str(root),
                "LUIGI_CONFIG_PATH": str(REPO / "luigi.cfg")})
    if os.environ.get("RTLMP_ARTIFACT_KEY"):
        env["RTLMP_ARTIFACT_KEY"] = os.environ["RTLMP_ARTIFACT_KEY"]
    return env


if __name__ == "__main__":
    main()
