"""How fast is the embedded market simulator? Wall time and peak memory of a year of each dataset.

Run: ``.venv/bin/python benchmarks/simulator.py [--year 2023] [--seed 20240101] [--days 365]``.
Each dataset is generated in a fresh child process so that its peak RSS is its own. Timings are
reported, never asserted (unit tests stay free of machine-dependent thresholds).

``--universe`` measures the universe of resource nodes instead: one day (``--day``, default
2023-08-10) of ``rt_prices`` and ``dam_prices`` for hubs, load zones and every universe node, and for
hubs, load zones and a 100-node subset (what one shard of ``market.nodes: all`` fetches).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import resource
import time

from pipeline.sources.synthetic import SyntheticMarket, universe_names
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


def _measure_universe(
    case: str, dataset: str, seed: int, day: dt.date, count: int | None, queue: multiprocessing.Queue
) -> None:
    """Child process: one day of ``dataset`` for ``count`` universe nodes (None: all); time, rows, RSS."""
    baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    names = universe_names(seed)  # building the universe is part of the cost
    subset = names if count is None else names[:: max(1, len(names) // count)][:count]  # spread over the alphabet
    market = SyntheticMarket(seed, extra_nodes=subset)
    frame = market.fetch(dataset, day)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"case": case, "dataset": dataset, "nodes": int(frame["node"].nunique()), "seconds": seconds,
               "rows": len(frame), "peak_rss_mb": peak_mb, "baseline_mb": baseline_mb})


def _universe(args: argparse.Namespace) -> None:
    day = dt.date.fromisoformat(args.day)
    results = []
    for case, count in (("whole universe", None), ("100-node subset", 100)):
        for dataset in ("rt_prices", "dam_prices"):
            results.append(_in_child(_measure_universe, case, dataset, args.seed, day, count))
    if args.json:
        for result in results:
            print(json.dumps(result))
        return
    print(f"SyntheticMarket(seed={args.seed}): one day ({day}) of prices, {len(universe_names(args.seed))} "
          "universe nodes; each case in a fresh process (cold caches)")
    print(f"{'case':<18}{'dataset':<12}{'nodes':>7}{'wall s':>9}{'rows':>11}{'peak RSS MB':>14}"
          f"{'of which imports':>18}")
    for r in results:
        print(f"{r['case']:<18}{r['dataset']:<12}{r['nodes']:>7}{r['seconds']:>9.2f}{r['rows']:>11,}"
              f"{r['peak_rss_mb']:>14.0f}{r['baseline_mb']:>18.0f}")


def _in_child(target, *args) -> dict:
    """Run ``target(*args, queue)`` in a fresh spawned process (cold caches); return what it puts on the queue."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=target, args=(*args, queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument("--seed", type=int, default=20240101)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--json", action="store_true", help="print one JSON object per dataset")
    parser.add_argument("--universe", action="store_true",
                        help="one day of prices for every universe node and for a 100-node subset")
    parser.add_argument("--day", default="2023-08-10", help="the day --universe generates (YYYY-MM-DD)")
    args = parser.parse_args()
    if args.universe:
        _universe(args)
        return

    first = dt.date(args.year, 1, 1)
    results = [_in_child(_measure, dataset, args.seed, first, args.days) for dataset in DATASETS]

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
