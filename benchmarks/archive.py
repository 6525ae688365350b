"""How fast is the ERCOT archive source, and what holes do the real files have?

Run: ``.venv/bin/python benchmarks/archive.py [--data ../shared/data] [--years 2020 2021 2022 2023] [--all]``.

Parses the real RT prices, load and fuel mix (wind, solar) of ``--years`` into canonical daily
frames through ``ErcotArchive.fetch_many`` (the path the Fetch tasks use), then prints wall time
per dataset-year, the total, the process's peak RSS, and every data-quality finding: intervals
missing against the CPT day's grid (23/24/25 hours), duplicate keys and nulls in the daily
frames, and notes on the source rows (blank rows left out, series absent for a whole year).
``--all`` adds every other dataset-year in the folder (DAM, February extracts, older load and
fuel mix) and the archived weather to the quality listing. Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline import ercot_time
from pipeline.sources.ercot_archive import ArchivedWeather, ErcotArchive
from targets.schemas import DATASETS

REPO = Path(__file__).resolve().parents[1]
TIMED_DATASETS = ("rt_prices", "load", "renewables")


@dataclass
class Result:
    dataset: str
    year: int
    days: int
    rows: int
    seconds: float
    duplicates: int
    nulls: int


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _measure(archive: ErcotArchive, dataset: str, year: int) -> Result:
    """Parse one dataset-year into daily frames; count duplicate keys and nulls across the days."""
    days = archive.covered_days(dataset, year)
    start = time.perf_counter()
    frames = archive.fetch_many(dataset, days)
    seconds = time.perf_counter() - start
    combined = pd.concat(frames.values(), ignore_index=True)
    schema = DATASETS[dataset]
    duplicates = int(combined.duplicated(list(schema.key)).sum())
    nulls = int(combined[[c for c in schema.columns if c not in schema.nullable]].isna().sum().sum())
    return Result(dataset, year, len(days), len(combined), seconds, duplicates, nulls)


def _print_results(results: list[Result]) -> None:
    print(f"{'dataset':<12}{'year':>6}{'days':>6}{'rows':>11}{'wall s':>9}{'dup keys':>10}{'nulls':>7}")
    for r in results:
        print(f"{r.dataset:<12}{r.year:>6}{r.days:>6}{r.rows:>11,}{r.seconds:>9.2f}{r.duplicates:>10}{r.nulls:>7}")


def _print_quality(archive: ErcotArchive, results: list[Result]) -> None:
    print("\nData-quality findings (gaps against the CPT interval grid, notes on source rows):")
    found = False
    for r in results:
        quality = archive.quality(r.dataset, r.year)
        for note in quality.notes:
            print(f"  NOTE {note}")
            found = True
        for gap in quality.gaps:
            print(f"  GAP  {gap}")
            found = True
        if r.duplicates or r.nulls:
            print(f"  BAD  {r.dataset} {r.year}: {r.duplicates} duplicate keys, {r.nulls} nulls in the daily frames")
            found = True
    if not found:
        print("  none")


def _weather_coverage(weather_root: Path) -> None:
    """Which CPT days each archived weather point covers completely (the rest of its files' hours are edges)."""
    weather = ArchivedWeather(weather_root)
    start = time.perf_counter()
    first, last = dt.date(2019, 12, 31), dt.date(2024, 1, 1)
    covered = [day for day in ercot_time.days(first, last) if weather.covers("weather", day)]
    frames = weather.fetch_many("weather", covered)
    seconds = time.perf_counter() - start
    combined = pd.concat(frames.values(), ignore_index=True)
    print(f"\nweather_archive ({weather.root}): {len(covered)} CPT days, {len(combined):,} rows, {seconds:.2f} s")
    for location, starts in combined.groupby("location")["interval_start"]:
        days = sorted(set(ercot_time.operating_day_of(starts)))
        print(f"  {location:<20} {days[0]} .. {days[-1]}  {len(days)} complete days, {len(starts):,} hours")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data",
                        help="folder holding ercot/ (and weather/)")
    parser.add_argument("--years", type=int, nargs="+", default=[2020, 2021, 2022, 2023])
    parser.add_argument("--all", action="store_true", help="also list quality for every other dataset-year")
    args = parser.parse_args()

    archive = ErcotArchive(args.data / "ercot")
    start = time.perf_counter()
    results = [_measure(archive, dataset, year) for dataset in TIMED_DATASETS for year in args.years]
    total = time.perf_counter() - start
    print(f"ErcotArchive({archive.root}): {', '.join(TIMED_DATASETS)} for {args.years} via fetch_many")
    _print_results(results)
    print(f"{'total':<12}{'':>6}{sum(r.days for r in results):>6}{sum(r.rows for r in results):>11,}{total:>9.2f}")
    print(f"peak RSS {_peak_rss_mb():.0f} MB")

    if args.all:
        timed = {(r.dataset, r.year) for r in results}
        for dataset in archive.datasets:
            for year in sorted({f.year for f in archive.files.get(dataset, [])}):
                if (dataset, year) not in timed:
                    results.append(_measure(archive, dataset, year))
        print("\nOther dataset-years in the folder:")
        _print_results([r for r in results if (r.dataset, r.year) not in timed])
    _print_quality(archive, results)
    if args.all and (args.data / "weather").is_dir():
        _weather_coverage(args.data / "weather")
    print(f"\npeak RSS at exit {_peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
