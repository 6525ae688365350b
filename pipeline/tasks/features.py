"""Feature tasks: the canonical inputs known at an issue time -> features/<tag>/<D>.parquet.

``BuildFeatures(date)`` serves the daily forecast; ``FeatureRange(start, end)`` fills the same daily
files for a training window or a backtest in bulk (one pass over the inputs instead of one task and
one read of the whole lookback per day). Both call :func:`pipeline.features.build_features`, so the
files are identical whichever task wrote them.
"""

from __future__ import annotations

import datetime as dt

import luigi
import pandas as pd
from luigi.task import MixinNaiveBulkComplete

from pipeline import ercot_time
from pipeline.features import FeatureInputs, build_features
from pipeline.tasks.common import FEATURE_DATASETS, Context, PipelineTask, log, read_frames
from pipeline.tasks.fetch import FETCH_TASKS, FetchRange, HourlyPrices, HourlyPricesRange, fetch_targets
from targets import ParquetTarget

BULK_CHUNK_DAYS = 92


def _union_days(days_per_issue: list[list[dt.date]]) -> list[dt.date]:
    return sorted({d for days in days_per_issue for d in days})


def load_inputs(ctx: Context, issue_days: list[dt.date], cached_only: bool = False) -> FeatureInputs:
    """Read every file the features of ``issue_days`` need (only those on disk when ``cached_only``)."""
    frames: dict[str, pd.DataFrame | None] = {}
    for dataset in FEATURE_DATASETS:
        source = ctx.source_for(dataset)
        if source is None:
            frames[dataset] = None
            continue
        days = _union_days([ctx.feature_days(dataset, d) for d in issue_days])
        targets = fetch_targets(ctx, dataset, days)
        if cached_only:
            targets = [(d, t) for d, t in targets if t.exists()]
        frames[dataset] = read_frames(targets, dataset, source)
    price_days = _union_days([ctx.price_days(d) for d in issue_days])
    hourly = [(d, ctx.layout.rt_hourly(ctx.market.storage_key, d)) for d in price_days]
    if cached_only:
        hourly = [(d, t) for d, t in hourly if t.exists()]
    rt_hourly = read_frames(hourly, "rt_prices", ctx.market)
    if rt_hourly is None:
        raise FileNotFoundError(f"no real-time price history on disk for issue days {issue_days[0]}..{issue_days[-1]}")
    return FeatureInputs(rt_hourly=rt_hourly, **frames)


def compute_features(ctx: Context, issue_days: list[dt.date], cached_only: bool = False) -> dict[dt.date, pd.DataFrame]:
    """Feature frames per issue day, ready for the features target."""
    inputs = load_inputs(ctx, issue_days, cached_only)
    features = build_features(ctx.feature_settings, inputs, issue_days)
    return {day: rows.drop(columns="issue_day") for day, rows in features.groupby("issue_day", sort=True)}


class BuildFeatures(MixinNaiveBulkComplete, PipelineTask):
    """Inputs published by the issue time on ``date`` -> the features of its 72 target hours per node.

    With ``cached_inputs`` it uses only the input files already on disk (the fetch fallback) and
    writes to a separate file, so a complete build later is never shadowed by the fallback.
    """

    date = luigi.DateParameter()
    cached_inputs = luigi.BoolParameter(default=False, significant=True)

    def requires(self) -> dict[str, list[luigi.Task]]:
        if self.cached_inputs:
            return {}
        needs: dict[str, list[luigi.Task]] = {}
        for dataset in FEATURE_DATASETS:
            days = self.ctx.feature_days(dataset, self.date)
            if days:
                needs[dataset] = [FETCH_TASKS[dataset](date=d) for d in days]
        needs["rt_hourly"] = [HourlyPrices(date=d) for d in self.ctx.price_days(self.date)]
        return needs

    def output(self) -> ParquetTarget:
        return self.ctx.layout.features(self.ctx.features_tag, self.date, cached_inputs=self.cached_inputs)

    def run(self) -> None:
        if not self.output().exists():
            frames = compute_features(self.ctx, [self.date], cached_only=self.cached_inputs)
            self.output().write_once(frames[self.date])


class FeatureRange(PipelineTask):
    """Features for every issue day in [start, end], built in bulk into the daily feature files."""

    start = luigi.DateParameter()
    end = luigi.DateParameter()

    def _days(self) -> list[dt.date]:
        return ercot_time.days(self.start, self.end)

    def requires(self) -> list[luigi.Task]:
        # Ranges cover every key day any issue day may read; the range tasks skip uncovered days.
        needs: list[luigi.Task] = []
        for dataset in FEATURE_DATASETS:
            bounds = self.ctx.feature_day_bounds(dataset, self.start, self.end)
            if bounds:
                needs.append(FetchRange(dataset=dataset, start=bounds[0], end=bounds[1]))
        first, last = self.ctx.feature_day_bounds("rt_prices", self.start, self.end)
        needs.append(HourlyPricesRange(start=first, end=last))
        return needs

    def output(self) -> list[ParquetTarget]:
        return [self.ctx.layout.features(self.ctx.features_tag, d) for d in self._days()]

    def run(self) -> None:
        missing = [d for d, t in zip(self._days(), self.output()) if not t.exists()]
        for first in range(0, len(missing), BULK_CHUNK_DAYS):
            chunk = missing[first : first + BULK_CHUNK_DAYS]
            for day, frame in compute_features(self.ctx, chunk).items():
                self.ctx.layout.features(self.ctx.features_tag, day).write_once(frame)
            log.info("features built for %s..%s", chunk[0], chunk[-1])
            self.set_progress_percentage(round(100 * (first + len(chunk)) / len(missing)))
