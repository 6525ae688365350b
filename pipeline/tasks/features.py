"""Feature tasks: the canonical inputs known at an issue time -> features/<tag>/<D>.parquet.

``BuildFeatures(date)`` serves the daily forecast; ``FeatureRange(start, end)`` fills the same daily
files for a training window or a backtest in bulk (one pass over the inputs instead of one task and
one read of the whole lookback per day). Both call :func:`pipeline.features.features_by_day` on the
same input files, so the files are identical whichever task wrote them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import luigi
from luigi.task import MixinNaiveBulkComplete

from pipeline import asof, ercot_time
from pipeline.catalogue import SYSTEM_NODE
from pipeline.features import FeatureInputs, features_by_day
from pipeline.inputs import FEATURE_DATASETS, RT_HOURLY, input_day_bounds, missing_days, needed_days
from pipeline.settings import Settings
from pipeline.sources import Sources
from pipeline.tasks.base import ShardTask, log
from pipeline.tasks.fetch import FETCH_TASKS, FetchRange, HourlyPrices, HourlyPricesRange
from targets import ParquetTarget, Stamp
from targets.files import read_many

BULK_CHUNK_DAYS = 92

Files = Mapping[str, Mapping[dt.date, ParquetTarget]]  # input name -> key day -> file


def set_aside_in(files: Files) -> dict[str, int]:
    """Per dataset, the implausible values set aside from ``files`` (recorded in their stamps)."""
    counts: dict[str, int] = {}
    for targets in files.values():
        for target in targets.values():
            stamp = target.stamp()
            for dataset, count in (stamp.notes.get("set_aside", {}) if stamp else {}).items():
                counts[dataset] = counts.get(dataset, 0) + int(count)
    return counts


def log_missing(issue_days: list[dt.date], settings: Settings, sources: Sources) -> None:
    """One line per dataset whose source lacks days these issue days could read (their features are NaN)."""
    for dataset in (*FEATURE_DATASETS, "rt_prices"):
        source = sources.market if dataset == "rt_prices" else sources.for_dataset(dataset)
        days = missing_days(dataset, source, issue_days, settings.features)
        if days:
            log.warning("%s: %s holds no data for %d day(s) %s..%s read by issue days %s..%s; the features "
                        "from them are NaN", dataset, source.name, len(days), days[0], days[-1], issue_days[0],
                        issue_days[-1])


def read_inputs(files: Files, sources: Sources, settings: Settings) -> FeatureInputs:
    """The input files read into canonical frames with ``known_at`` (see :mod:`pipeline.asof`).

    One shard of several reads only its nodes' rows (and the system's) of the price files, which
    hold every node.
    """
    nodes = (*settings.shard_nodes, SYSTEM_NODE) if settings.shard_nodes is not None else None
    frames = {dataset: _read(files.get(dataset, {}), dataset, sources.for_dataset(dataset), nodes)
              for dataset in FEATURE_DATASETS}
    rt_hourly = _read(files.get(RT_HOURLY, {}), "rt_prices", sources.market, nodes)
    if rt_hourly is None:
        raise FileNotFoundError("no real-time price history on disk for these issue days")
    return FeatureInputs(rt_hourly=rt_hourly, **frames)


def _read(files: Mapping[dt.date, ParquetTarget], dataset: str, source: object,
          nodes: tuple[str, ...] | None) -> object:
    if not files or source is None:
        return None
    targets = [files[day] for day in sorted(files)]
    by_node = nodes is not None and "node" in targets[0].schema.columns
    return asof.with_known_at(read_many(targets, nodes if by_node else None), dataset, source.name)


class BuildFeatures(MixinNaiveBulkComplete, ShardTask):
    """Inputs published by the issue time on ``date`` -> the features of its 72 target hours per node
    (of one shard of the nodes, with ``market.shard_size``).

    With ``cached_inputs`` it uses only the input files already on disk (the fetch fallback) and
    writes to a separate file, so a complete build later is never shadowed by the fallback.
    """

    date = luigi.DateParameter()
    cached_inputs = luigi.BoolParameter(default=False, significant=True)

    def requires(self) -> dict[str, dict[dt.date, luigi.Task]]:
        producers = {**FETCH_TASKS, RT_HOURLY: HourlyPrices}
        needs = {name: {d: self.requires_of(producers[name], date=d) for d in days}
                 for name, days in needed_days([self.date], self.settings.features, self.sources).items()}
        if self.cached_inputs:  # the fallback: only what is on disk, nothing fetched
            needs = {name: {d: task for d, task in tasks.items() if task.complete()} for name, tasks in needs.items()}
        return needs

    def output(self) -> ParquetTarget:
        return self.layout.features(self.date, cached_inputs=self.cached_inputs)

    def stamp(self) -> Stamp:
        reads = {name: list(tasks) for name, tasks in self.requires().items()} if self.cached_inputs else None
        return self.lineage.features(self.date, reads)

    def expected_outputs(self) -> list[tuple[ParquetTarget, Stamp]]:
        return [(self.output(), self.stamp())]

    def run(self) -> None:
        log_missing([self.date], self.settings, self.sources)
        inputs = read_inputs(self.input(), self.sources, self.settings)
        frames = features_by_day(self.settings.features, inputs, [self.date])
        self.output().write(frames[self.date], self.stamp().with_notes(set_aside=set_aside_in(self.input())))


class FeatureRange(ShardTask):
    """Features for every issue day in [start, end], built in bulk into the daily feature files (of one shard)."""

    start = luigi.DateParameter()
    end = luigi.DateParameter()

    def requires(self) -> dict[str, luigi.Task]:
        needs: dict[str, luigi.Task] = {}
        for dataset in FEATURE_DATASETS:
            bounds = input_day_bounds(dataset, self.sources.for_dataset(dataset), self.start, self.end,
                                      self.settings.features)
            if bounds:
                needs[dataset] = self.requires_of(FetchRange, dataset=dataset, start=bounds[0], end=bounds[1])
        first, last = input_day_bounds("rt_prices", self.sources.market, self.start, self.end, self.settings.features)
        needs[RT_HOURLY] = self.requires_of(HourlyPricesRange, start=first, end=last)
        return needs

    @property
    def resources(self) -> dict[str, int]:  # type: ignore[override]
        return self.files_lock(f"features/shard{self.shard}")

    def output(self) -> dict[dt.date, ParquetTarget]:
        return {d: self.layout.features(d) for d in ercot_time.days(self.start, self.end)}

    def expected_outputs(self) -> list[tuple[ParquetTarget, Stamp]]:
        return [(target, self.lineage.features(day)) for day, target in self.output().items()]

    def run(self) -> None:
        missing = [d for d, target in self.output().items() if not target.current(self.lineage.features(d))]
        if missing:
            log_missing(missing, self.settings, self.sources)
        for first in range(0, len(missing), BULK_CHUNK_DAYS):
            chunk = missing[first : first + BULK_CHUNK_DAYS]
            files = select(self.input(), needed_days(chunk, self.settings.features, self.sources))
            inputs = read_inputs(files, self.sources, self.settings)
            for day, frame in features_by_day(self.settings.features, inputs, chunk).items():
                day_files = select(files, needed_days([day], self.settings.features, self.sources))
                self.layout.features(day).write(frame, self.lineage.features(day).with_notes(
                    set_aside=set_aside_in(day_files)))
            log.info("features built for %s..%s", chunk[0], chunk[-1])
            self.set_progress_percentage(round(100 * (first + len(chunk)) / len(missing)))


def select(available: Files, needed: Mapping[str, list[dt.date]]) -> dict[str, dict[dt.date, ParquetTarget]]:
    """The needed files out of the range tasks' outputs (every needed day must be among them)."""
    out = {}
    for name, days in needed.items():
        files = available.get(name, {})
        absent = [d for d in days if d not in files]
        if absent:
            raise LookupError(f"{name}: the range inputs lack key days {absent[:3]} (of {len(absent)})")
        out[name] = {d: files[d] for d in days}
    return out
