"""The settings every stage reads, built once from the configuration: typed, immutable, no I/O.

:class:`Settings` gathers what the pure modules need (feature and model settings, the training
cadence) and the tags that name settings-dependent folders (:class:`targets.Tags`). A tag is a
fingerprint of the settings an output depends on plus the sources it came from, so changing e.g.
the thresholds writes new features and models instead of reusing stale ones.

With ``market.shard_size``, the nodes split into shards of that many neighbours (same hub and load
zone first, :func:`pipeline.sources.resolve_nodes`); :meth:`Settings.for_shard` gives one shard's
settings, whose feature and model folders carry the shard in their tag.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import pandas as pd

from pipeline import ercot_time
from pipeline.config import Config
from pipeline.features import FEATURE_VERSION, FeatureSettings
from pipeline.model import MODEL_VERSION, ModelSettings
from pipeline.model.windows import TrainingWindow, training_window
from pipeline.registry import Cadence
from pipeline.sources import Sources, resolve_nodes
from targets import Tags


@dataclass(frozen=True)
class Settings:
    config: Config
    features: FeatureSettings
    model: ModelSettings
    cadence: Cadence
    tags: Tags
    market_source: str  # the market source's name (publication rules are keyed by it)
    simulated: bool  # the market data comes from the simulator (labelled so wherever it appears)
    shards: tuple[tuple[str, ...], ...] = ()  # every node, split by market.shard_size (one shard: unsharded)
    shard: int | None = None  # these settings are one shard's (:meth:`for_shard`)

    @classmethod
    def from_config(cls, config: Config, sources: Sources) -> Settings:
        nodes = resolve_nodes(config, sources.market)
        size = config.market.shard_size or len(nodes)
        shards = tuple(nodes[i:i + size] for i in range(0, len(nodes), size))
        features = FeatureSettings(nodes=nodes, thresholds=config.market.thresholds,
                                   issue_time=config.features.issue_time,
                                   lookback_days=config.features.lookback_days)
        weather = sources.weather.storage_key if sources.weather is not None else None
        features_tag = (f"f{FEATURE_VERSION}-{config.fingerprint('market', 'features')}-"
                        f"{sources.market.storage_key}-{weather or 'none'}")
        tags = Tags(market=sources.market.storage_key, weather=weather, features=features_tag,
                    model=f"m{MODEL_VERSION}-{config.fingerprint('model')}-{features_tag}")
        m = config.model
        cadence = Cadence(m.cadence_anchor, m.retrain_every_days, m.max_age_days)
        return cls(config, features, ModelSettings.from_config(m), cadence, tags, sources.market.name,
                   sources.market.simulated, shards)

    @property
    def sharded(self) -> bool:
        return len(self.shards) > 1

    def for_shard(self, shard: int) -> Settings:
        """The settings of shard ``shard`` (0-based): its nodes, and folders tagged with the shard.

        Unsharded (one shard), shard 0 is the whole configuration, with its folders unchanged.
        """
        if not 0 <= shard < len(self.shards):
            raise ValueError(f"shard {shard} does not exist: {len(self.shards)} shard(s) of "
                             f"{self.config.market.shard_size or len(self.features.nodes)} nodes")
        if not self.sharded:
            return self
        suffix = f"-shard{self.config.market.shard_size}.{shard}"
        features_tag = self.tags.features + suffix
        tags = replace(self.tags, features=features_tag, model=self.tags.model + suffix)
        return replace(self, features=replace(self.features, nodes=self.shards[shard]), tags=tags, shard=shard)

    @property
    def shard_nodes(self) -> tuple[str, ...] | None:
        """The nodes of this shard when these settings are one shard of several (files shared by every
        shard, such as the hourly prices, hold more); else None."""
        return self.features.nodes if self.shard is not None and self.sharded else None

    @property
    def thresholds(self) -> tuple[float, ...]:
        return self.features.thresholds

    def issue_time(self, day: dt.date) -> pd.Timestamp:
        """The instant the forecast of issue day ``day`` is issued (UTC)."""
        return ercot_time.local_time_on(day, self.features.issue_time)

    def window(self, train_date: dt.date) -> TrainingWindow:
        """The fit and validation issue days of the model trained on ``train_date``."""
        m = self.config.model
        return training_window(train_date, m.history_days, m.validation_days, self.features.issue_time,
                               self.market_source)

    def model_id(self, train_date: dt.date) -> str:
        return f"{train_date.isoformat()}.{self.tags.model}"
