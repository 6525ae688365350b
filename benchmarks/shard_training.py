"""Peak memory of one shard's training and gating at production settings, as luigi workers run them.

    python benchmarks/shard_training.py [--date 2024-07-16] [--shard-size 100] [--history-days 365]
                                        [--validation-days 28] [--data-root DIR]

The shard is the first ``--shard-size`` settlement points of the simulated universe in ``market.nodes:
all`` order (shard 0 of the production scale-out), with the production model settings (365 days of
history, 28 validation days, one thread per worker as the README's "Running at scale" sets). On a
local data root it runs, each through the ``luigi`` command in a process of its own whose peak
resident set the kernel reports (``wait4``):

1. the inputs of the training window: ``HourlyPricesRange`` and ``FeatureRange`` (their peaks are
   printed too: they are workers of a cold day as well);
2. ``TrainModel --date D``: a shard this large reads its window compacted (the fit days' calm hours
   sampled while the files are read, :mod:`pipeline.model.dataset`); the model's fit rows, share of
   calm hours kept and validation AUC are printed from its metadata;
3. ``GateModel --date D``: the previous cadence date's candidate trained in the same process, then
   the gate on the validation window (what one worker holds on a cadence day).

Files stay in ``--data-root`` when given, so a rerun skips what is already there (and says so).
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2024, 7, 16))
    parser.add_argument("--shard-size", type=int, default=100)
    parser.add_argument("--history-days", type=int, default=365)
    parser.add_argument("--validation-days", type=int, default=28)
    parser.add_argument("--data-root", type=Path)
    args = parser.parse_args()
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
        from pipeline.tasks.base import current

        layout, records = current().layout, current().records
        for task, day in (("TrainModel", date), ("GateModel", date)):
            if (layout.model(day).exists() if task == "TrainModel" else records.decision_target(day).exists()):
                print(f"{task} of {day} is already in {root}: not measured again")
                continue
            label = f"{task} --date {day}" + (" (and the incumbent's training)" if task == "GateModel" else "")
            rows.append((label, *measured([LUIGI, "--module", "pipeline", task, "--date", day.isoformat(),
                                           "--local-scheduler"], env, label)[:2]))
            print(f"{label}: {rows[-1][1] / 60:.1f} min, peak {rows[-1][2]:.0f} MiB", flush=True)
        meta = layout.model(date).metadata()
        print(json.dumps({"rows": meta["rows"], "calm_share": meta.get("calm_share"),
                          "fit_seconds": meta.get("fit_seconds"),
                          "auc": {t: e["model"].get("roc_auc") for t, e in meta["validation"].items()}}))
    print(f"\n{'step':<60}{'wall min':>9}{'peak RSS MiB':>14}")
    for label, seconds, peak in rows:
        print(f"{label:<60}{seconds / 60:>9.1f}{peak:>14.0f}")


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
