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
from dataclasses import dataclass

import luigi
import pandas as pd

from pipeline import asof, ercot_time
from pipeline.config import Config, config_key, load_config
from pipeline.features import FEATURE_VERSION, FeatureSettings
from pipeline.model import ModelSettings
from pipeline.sources import Source, market_source, weather_source
from targets import Layout, ParquetTarget
from targets.schemas import MARKET_DATASETS, WEATHER_DATASETS

log = logging.getLogger("pipeline")
MODEL_VERSION = 1

# Canonical datasets the feature step reads (rt_prices is read through its hourly aggregate).
FEATURE_DATASETS = ("dam_prices", "load", "load_forecast", "renewables", "renewables_forecast",
                    "weather", "weather_forecast")


@dataclass(frozen=True)
class Context:
    config: Config
    layout: Layout
    market: Source
    weather: Source | None

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
                             min_samples_leaf=m.min_samples_leaf, l2_regularization=m.l2_regularization, seed=m.seed)

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
    """Concatenate daily files of one dataset, each with its ``known_at`` (see :mod:`pipeline.asof`)."""
    frames = [asof.with_known_at(target.read(), dataset, source.name, day) for day, target in targets]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else None
