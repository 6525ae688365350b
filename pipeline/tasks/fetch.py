"""Fetch tasks: one canonical dataset for one key day from the configured source -> raw Parquet.

Each dataset has its own task class (``FetchRtPrices``, ``FetchLoad``, ...) taking one date, for the
daily schedule and ``RangeDaily``. :class:`FetchRange` fills the same daily files for a whole date
range in one task: luigi's scheduler cost grows quadratically with the number of tasks in a run
(about 26 s for 3,300 trivial tasks on this project's 2-core target machine), so training windows
and backtests fetch history in bulk through the source's ``fetch_many`` instead of thousands of
daily tasks. Both write exactly the same files. :class:`HourlyPrices` and
:class:`HourlyPricesRange` derive the hourly price maxima the labels and price features read.

Each raw file records its source's fingerprint for that day (:meth:`Source.fingerprint`) and the
posting times of what it holds: when the source changes (an archive file re-downloaded or fixed),
the file is read again. Implausible values
are set aside as it is written (:func:`pipeline.integrity.plausible`), named in one log line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import ClassVar

import luigi
from luigi.task import MixinNaiveBulkComplete

from pipeline import ercot_time, integrity
from pipeline.labels import hourly_prices
from pipeline.sources import Source
from pipeline.tasks.base import Configured, PipelineTask, attempts, log
from targets import ParquetTarget, Stamp

BULK_CHUNK_DAYS = 31


def write_fetched(configured: Configured, source: Source, dataset: str, days: list[dt.date],
                  progress: Callable[[int], None] | None = None) -> None:
    """Fetch the key days of ``dataset`` whose raw file is missing or stale (in chunks, so finished
    days persist), set implausible values aside and write them with their stamps.

    ``progress`` receives the percentage done after each chunk (a task's progress in the luigid UI).
    """
    layout, lineage = configured.layout, configured.lineage
    days = [d for d in days if not raw_current(configured, source, dataset, d)]
    bounds = configured.settings.config.integrity.bounds
    for start in range(0, len(days), BULK_CHUNK_DAYS):
        chunk = days[start : start + BULK_CHUNK_DAYS]
        for day, frame in source.fetch_many(dataset, chunk).items():
            target = layout.raw(dataset, day)
            kept, aside = integrity.plausible(frame, dataset, bounds, target.schema.nullable)
            if aside:
                log.warning("%s %s from %s: %s; set aside (the forecasts built from this day say degraded_inputs)",
                            dataset, day, source.describe(dataset, day), aside.describe(bounds, dataset))
            published = kept["published_at"] if len(kept) else frame["published_at"]
            stamp = lineage.raw(dataset, day).with_notes(source=source.fingerprint(dataset, day),
                                                         published=[str(published.min()), str(published.max())],
                                                         set_aside={dataset: aside.total} if aside else {},
                                                         examples=aside.examples)
            target.write(kept, stamp)
        log.info("fetched %s %s..%s from %s", dataset, chunk[0], chunk[-1], source.name)
        if progress is not None:
            progress(round(100 * (start + len(chunk)) / len(days)))


def raw_current(configured: Configured, source: Source, dataset: str, day: dt.date) -> bool:
    """Whether the raw file of (``dataset``, ``day``) is there, valid and read from the source as it is now.

    A file written by an older version carries no stamp: from a source that cannot be read again at
    will (a network service keeps documents only for a while) it is kept as it is.
    """
    target = configured.layout.raw(dataset, day)
    if target.current(configured.lineage.raw(dataset, day)):
        return True
    return not source.verifiable and target.exists() and target.stamp() is None


def hourly_stamp(configured: Configured, day: dt.date, raw: ParquetTarget) -> Stamp:
    """The stamp of the hourly prices of ``day``, carrying the raw file's count of values set aside."""
    found = raw.stamp()
    return configured.lineage.rt_hourly(day).with_notes(set_aside=dict(found.notes.get("set_aside", {})) if found else {})


# Sources reached over the network: their fetch tasks draw on luigi's [resources] of the same name
# (luigi.cfg for --local-scheduler, infrastructure/luigid.cfg for luigid), so all workers together
# run at most that many at once (ercot_api = 1: one task, whose rate limiter keeps requests_per_minute).
NETWORK_SOURCES = ("ercot_api", "ercot_mis", "open_meteo")


class _SourceResources:
    dataset: str

    @property
    def resources(self) -> dict[str, int]:  # type: ignore[override]
        source = self.sources.for_dataset(self.dataset)  # type: ignore[attr-defined]
        return {source.name: 1} if source is not None and source.name in NETWORK_SOURCES else {}


class FetchDataset(_SourceResources, MixinNaiveBulkComplete, PipelineTask):
    """Base of the per-dataset fetch tasks: source -> raw/<source>/<dataset>/<date>.parquet."""

    date = luigi.DateParameter(description="key day: CPT operating day (actuals) or publication day (forecasts)")
    dataset: ClassVar[str]

    @property
    def retry_count(self) -> int:  # type: ignore[override]
        return attempts(self.settings.config.error_recovery.data_fetching)

    def output(self) -> ParquetTarget:
        self.sources.require(self.dataset)
        return self.layout.raw(self.dataset, self.date)

    def complete(self) -> bool:
        return raw_current(self.configured, self.sources.require(self.dataset), self.dataset, self.date)

    def run(self) -> None:
        source = self.sources.require(self.dataset)
        self.set_status_message(f"fetching {self.dataset} for {self.date} from {source.name}")
        write_fetched(self.configured, source, self.dataset, [self.date])


class FetchRtPrices(FetchDataset):
    """Real-time prices (5-minute LMP or 15-minute SPP) of every node for one operating day."""

    dataset = "rt_prices"


class FetchDamPrices(FetchDataset):
    """Day-ahead hourly prices of one delivery day (public at 13:30 CPT the day before)."""

    dataset = "dam_prices"


class FetchAncillaryPrices(FetchDataset):
    """Day-ahead ancillary service clearing prices of one delivery day (public with the DAM)."""

    dataset = "ancillary_prices"


class FetchLoad(FetchDataset):
    """Actual hourly load by weather zone of one operating day."""

    dataset = "load"


class FetchLoadForecast(FetchDataset):
    """ERCOT's load forecast published on one day (covering the next seven days)."""

    dataset = "load_forecast"


class FetchRenewables(FetchDataset):
    """Actual hourly wind and solar generation of one operating day."""

    dataset = "renewables"


class FetchRenewablesForecast(FetchDataset):
    """Wind and solar forecasts published on one day."""

    dataset = "renewables_forecast"


class FetchWeather(FetchDataset):
    """Observed hourly weather of one day at the configured locations."""

    dataset = "weather"


class FetchWeatherForecast(FetchDataset):
    """Weather forecast published on one day."""

    dataset = "weather_forecast"


FETCH_TASKS: dict[str, type[FetchDataset]] = {
    cls.dataset: cls
    for cls in (FetchRtPrices, FetchDamPrices, FetchAncillaryPrices, FetchLoad, FetchLoadForecast, FetchRenewables,
                FetchRenewablesForecast, FetchWeather, FetchWeatherForecast)
}


class FetchRange(_SourceResources, PipelineTask):
    """Every covered key day of one dataset in [start, end], fetched in bulk into the daily files."""

    dataset = luigi.ChoiceParameter(choices=list(FETCH_TASKS))
    start = luigi.DateParameter()
    end = luigi.DateParameter()

    def output(self) -> dict[dt.date, ParquetTarget]:
        source = self.sources.require(self.dataset)
        return {d: self.layout.raw(self.dataset, d) for d in ercot_time.days(self.start, self.end)
                if source.covers(self.dataset, d)}

    @property
    def resources(self) -> dict[str, int]:  # type: ignore[override]
        return {**super().resources, **self.files_lock(f"raw/{self.dataset}")}

    def complete(self) -> bool:
        source = self.sources.require(self.dataset)
        return all(raw_current(self.configured, source, self.dataset, day) for day in self.output())

    def run(self) -> None:
        self.set_status_message(f"fetching {self.dataset} {self.start}..{self.end}")
        write_fetched(self.configured, self.sources.require(self.dataset), self.dataset, list(self.output()),
                      self.set_progress_percentage)


class HourlyPrices(MixinNaiveBulkComplete, PipelineTask):
    """Real-time prices of one day -> hourly max / mean per node (the spike label's input)."""

    date = luigi.DateParameter()

    def requires(self) -> FetchRtPrices:
        return self.requires_of(FetchRtPrices, date=self.date)

    def output(self) -> ParquetTarget:
        return self.layout.rt_hourly(self.date)

    def expected_outputs(self) -> list[tuple[ParquetTarget, Stamp]]:
        return [(self.output(), self.lineage.rt_hourly(self.date))]

    def run(self) -> None:
        self.output().write(hourly_prices(self.input().read()), hourly_stamp(self.configured, self.date, self.input()))


class HourlyPricesRange(PipelineTask):
    """Hourly real-time prices for every covered day in [start, end], in one task."""

    start = luigi.DateParameter()
    end = luigi.DateParameter()

    @property
    def resources(self) -> dict[str, int]:  # type: ignore[override]
        return self.files_lock("rt_hourly")

    def requires(self) -> FetchRange:
        return self.requires_of(FetchRange, dataset="rt_prices", start=self.start, end=self.end)

    def output(self) -> dict[dt.date, ParquetTarget]:
        return {d: self.layout.rt_hourly(d) for d in self.input()}

    def expected_outputs(self) -> list[tuple[ParquetTarget, Stamp]]:
        return [(target, self.lineage.rt_hourly(day)) for day, target in self.output().items()]

    def run(self) -> None:
        outputs = self.output()
        for day, raw in self.input().items():
            if not outputs[day].current(self.lineage.rt_hourly(day)):
                outputs[day].write(hourly_prices(raw.read()), hourly_stamp(self.configured, day, raw))
