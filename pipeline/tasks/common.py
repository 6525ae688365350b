"""What every task shares: the loaded configuration, the data-root layout, the sources and tags.

Tasks take only dates as parameters; everything else comes from the configuration, loaded once per
process (``pipeline.config.load_config``). Artifact tags are fingerprints of the settings an output
depends on, so changing e.g. the thresholds writes new features and models instead of reusing
stale ones.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterable
from collections.abc import Callable
from dataclasses import dataclass, field

import luigi
import pandas as pd

from pipeline import asof, ercot_time
from pipeline.config import Config, config_key, load_config
from pipeline.features import FEATURE_VERSION, FeatureSettings
from pipeline.model import ModelSettings
from pipeline.sources import Source, market_source, weather_source
from targets import Layout, ParquetTarget
from targets.files import read_many
from targets.schemas import MARKET_DATASETS, WEATHER_DATASETS

log = logging.getLogger("pipeline")
MODEL_VERSION = 2

# Canonical datasets the feature step reads (rt_prices is read through its hourly aggregate).
FEATURE_DATASETS = ("dam_prices", "load", "load_forecast", "renewables", "renewables_forecast",
                    "weather", "weather_forecast")


@dataclass(frozen=True)
class Context:
    config: Config
    layout: Layout
    market: Source
    weather: Source | None
    # The last window of daily files read per kind (see read_days): consecutive training windows
    # of a backtest overlap in all but a couple of days.
    windows: dict[str, tuple[frozenset[dt.date], pd.DataFrame]] = field(default_factory=dict, compare=False)

    def source_for(self, dataset: str) -> Source | None:
        """The source that provides ``dataset`` in this configuration (None: not available)."""
        if dataset in MARKET_DATASETS:
            return self.market if dataset in self.market.datasets else None
        if dataset in WEATHER_DATASETS:
            return self.weather if self.weather is not None and dataset in self.weather.datasets else None
        raise KeyError(dataset)

    @property
    def feature_settings(self) -> FeatureSettings:
        c = self.config
        return FeatureSettings(nodes=c.market.nodes, thresholds=c.market.thresholds,
                               issue_time=c.features.issue_time, lookback_days=c.features.lookback_days)

    @property
    def model_settings(self) -> ModelSettings:
        m = self.config.model
        return ModelSettings(max_iter=m.max_iter, learning_rate=m.learning_rate, max_leaf_nodes=m.max_leaf_nodes,
                             min_samples_leaf=m.min_samples_leaf, l2_regularization=m.l2_regularization, seed=m.seed,
                             excluded_features=m.excluded_features, logistic_weight=m.logistic_weight,
                             climatology_input=m.climatology_input, threads=m.threads)

    @functools.cached_property
    def features_tag(self) -> str:
        weather = self.weather.storage_key if self.weather else "none"
        return f"f{FEATURE_VERSION}-{self.config.fingerprint('market', 'features')}-{self.market.storage_key}-{weather}"

    @functools.cached_property
    def model_tag(self) -> str:
        return f"m{MODEL_VERSION}-{self.config.fingerprint('model')}-{self.features_tag}"

    def issue_time(self, day: dt.date) -> pd.Timestamp:
        return ercot_time.local_time_on(day, self.config.features.issue_time)

    def feature_days(self, dataset: str, issue_day: dt.date) -> list[dt.date]:
        """Key days of ``dataset`` the features of ``issue_day`` read (public by then and covered)."""
        source = self.source_for(dataset)
        if source is None:
            return []
        days = asof.required_days(dataset, source.name, issue_day, self.config.features.issue_time,
                                  self.config.features.lookback_days + 1)
        return [d for d in days if source.covers(dataset, d)]

    def feature_day_bounds(self, dataset: str, first_issue: dt.date, last_issue: dt.date) -> tuple[dt.date, dt.date] | None:
        """First and last key day of ``dataset`` read by the features of issue days in [first, last]."""
        source = self.source_for(dataset) if dataset != "rt_prices" else self.market
        if source is None:
            return None
        lookback = self.config.features.lookback_days + 1
        days = [d for issue in (first_issue, last_issue)
                for d in asof.required_days(dataset, source.name, issue, self.config.features.issue_time, lookback)]
        return (min(days), max(days)) if days else None

    def price_days(self, issue_day: dt.date) -> list[dt.date]:
        """Days of real-time prices the features of ``issue_day`` read."""
        days = asof.required_days("rt_prices", self.market.name, issue_day, self.config.features.issue_time,
                                  self.config.features.lookback_days + 1)
        return [d for d in days if self.market.covers("rt_prices", d)]


@functools.lru_cache(maxsize=4)
def _context_for(key: tuple[str | None, str | None]) -> Context:
    config = load_config()
    return Context(config, Layout(config.data_root), market_source(config), weather_source(config))


def context() -> Context:
    """The context of the current configuration (built once per process and configuration)."""
    return _context_for(config_key())


class PipelineTask(luigi.Task):
    """Base of every task: access to the shared context."""

    @property
    def ctx(self) -> Context:
        return context()


def read_frames(targets: Iterable[tuple[dt.date, ParquetTarget]], dataset: str, source: Source) -> pd.DataFrame | None:
    """Daily files of one dataset in one frame with ``known_at`` (see :mod:`pipeline.asof`); None if no file."""
    files = [target for _, target in targets]
    if not files:
        return None
    return asof.with_known_at(read_many(files), dataset, source.name)


def read_days(ctx: Context, kind: str, days: list[dt.date], target_for: Callable[[dt.date], ParquetTarget],
              day_of: Callable[[pd.DataFrame], object]) -> pd.DataFrame:
    """Daily files of ``days`` in one frame (column ``_day``), reusing the previous window of this kind.

    Files are immutable, so rows already read for an overlapping window are reused and only the
    new days are read. The result is ordered by day then by row within the file, however it was
    assembled.
    """
    wanted = frozenset(days)
    cached_days, cached = ctx.windows.get(kind, (frozenset(), None))
    if cached is not None and wanted <= cached_days:
        # A sub-window (e.g. the gate's validation days inside the training window): served from
        # the cache, which stays as it is for the next, overlapping training window.
        return cached[cached["_day"].isin(wanted)].reset_index(drop=True)
    reuse = cached_days & wanted
    parts = [cached[cached["_day"].isin(reuse)]] if reuse and cached is not None else []
    missing = sorted(wanted - reuse)
    if missing:
        fresh = read_many([target_for(d) for d in missing])
        parts.append(fresh.assign(_day=day_of(fresh)))
    frame = pd.concat(parts, ignore_index=True)
    if not frame["_day"].is_monotonic_increasing:  # a rolling window only appends later days
        frame = frame.sort_values("_day", kind="stable", ignore_index=True)
    ctx.windows[kind] = (wanted, frame)
    return frame
