"""Cold and warm DailyInference wall time and peak RSS, through the ``luigi`` command.

    python benchmarks/daily_inference.py [--date 2024-07-20] [--config path.yaml]

Cold: an empty data root (history generation + first training + gate + inference). Warm: the next
day and the day after on the same root (one of them is a cadence date, so it retrains). Each run
is a separate process; peak RSS is the maximum resident set of that process (its children
included), as measured by the kernel.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LUIGI = str(Path(sys.executable).with_name("luigi"))


def run(day: dt.date, root: Path, config: str | None) -> tuple[float, float]:
    env = dict(os.environ, RTLMP_DATA_ROOT=str(root))
    env.pop("RTLMP_CONFIG", None)
    if config:
        env["RTLMP_CONFIG"] = config
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    result = subprocess.run([LUIGI, "--module", "pipeline", "DailyInference", "--date", day.isoformat(),
                             "--local-scheduler"], cwd=REPO, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"DailyInference {day} failed with exit code {result.returncode}:\n{result.stderr[-3000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2024, 7, 20))
    parser.add_argument("--config", help="partial YAML merged over config/pipeline.yaml (RTLMP_CONFIG)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rtlmp-bench-") as tmp:
        root = Path(tmp) / "data"
        cold, cold_rss = run(args.date, root, args.config)
        print(f"cold  DailyInference {args.date}: {cold:6.1f} s wall, peak RSS {cold_rss:6.0f} MiB")
        for offset in (1, 2):
            day = args.date + dt.timedelta(days=offset)
            warm, _ = run(day, root, args.config)
            print(f"warm  DailyInference {day}: {warm:6.1f} s wall (next-day increment)")
        again, _ = run(args.date + dt.timedelta(days=2), root, args.config)
        print(f"again DailyInference {args.date + dt.timedelta(days=2)}: {again:6.1f} s wall (nothing to do)")


if __name__ == "__main__":
    main()
