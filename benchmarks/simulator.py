"""How fast is the embedded market simulator? Wall time and peak memory of a year of each dataset.

Run: ``.venv/bin/python benchmarks/simulator.py [--year 2023] [--seed 20240101] [--days 365]``.
Each dataset is generated in a fresh child process so that its peak RSS is its own. Timings are
reported, never asserted (unit tests stay free of machine-dependent thresholds).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import resource
import time

from pipeline.sources.synthetic import SyntheticMarket
from targets.schemas import DATASETS


def _measure(dataset: str, seed: int, first: dt.date, count: int, queue: multiprocessing.Queue) -> None:
    """Child process: generate ``count`` key days of ``dataset`` via fetch_many; report time, rows, RSS."""
    market = SyntheticMarket(seed)
    days = [first + dt.timedelta(days=i) for i in range(count)]
    baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # interpreter + imports
    start = time.perf_counter()
    frames = market.fetch_many(dataset, days)
    seconds = time.perf_counter() - start
    rows = sum(len(frame) for frame in frames.values())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    queue.put(
        {"dataset": dataset, "seconds": seconds, "rows": rows, "peak_rss_mb": peak_mb, "baseline_mb": baseline_mb}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument("--seed", type=int, default=20240101)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--json", action="store_true", help="print one JSON object per dataset")
    args = parser.parse_args()

    first = dt.date(args.year, 1, 1)
    context = multiprocessing.get_context("spawn")
    results = []
    for dataset in DATASETS:
        queue = context.Queue()
        child = context.Process(target=_measure, args=(dataset, args.seed, first, args.days, queue))
        child.start()
        results.append(queue.get())
        child.join()

    if args.json:
        for result in results:
            print(json.dumps(result))
        return
    print(f"SyntheticMarket(seed={args.seed}): {args.days} key days from {first}, fetch_many per dataset")
    print(f"{'dataset':<22}{'wall s':>9}{'rows':>12}{'peak RSS MB':>14}{'of which imports':>18}")
    for r in results:
        print(
            f"{r['dataset']:<22}{r['seconds']:>9.2f}{r['rows']:>12,}{r['peak_rss_mb']:>14.0f}{r['baseline_mb']:>18.0f}"
        )
    total = sum(r["seconds"] for r in results)
    rows = sum(r["rows"] for r in results)
    print(f"{'all datasets':<22}{total:>9.2f}{rows:>12,}{max(r['peak_rss_mb'] for r in results):>14.0f}")


if __name__ == "__main__":
    main()
