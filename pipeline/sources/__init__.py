"""Data sources and the rule that picks them from the configuration."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.catalogue import HUBS_AND_ZONES
from pipeline.config import Config
from pipeline.sources.base import DataUnavailable, Source, SourceError
from targets.schemas import MARKET_DATASETS, WEATHER_DATASETS

__all__ = ["DataUnavailable", "Source", "SourceError", "Sources", "market_source", "weather_source"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sources:
    """The configured market and weather sources, and which of them provides each dataset."""

    market: Source
    weather: Source | None

    @classmethod
    def from_config(cls, config: Config) -> Sources:
        return cls(market_source(config), weather_source(config))

    def for_dataset(self, dataset: str) -> Source | None:
        """The source that provides ``dataset`` in this configuration (None: not available)."""
        if dataset in MARKET_DATASETS:
            return self.market if dataset in self.market.datasets else None
        if dataset in WEATHER_DATASETS:
            return self.weather if self.weather is not None and dataset in self.weather.datasets else None
        raise KeyError(dataset)

    def require(self, dataset: str) -> Source:
        source = self.for_dataset(dataset)
        if source is None:
            raise ValueError(f"no configured source provides dataset {dataset!r}")
        return source


def _other_nodes(nodes: Sequence[str]) -> tuple[str, ...]:
    """Configured settlement points beyond ERCOT's hubs and load zones (resource nodes)."""
    return tuple(sorted(set(nodes) - set(HUBS_AND_ZONES)))


def _nodes_suffix(nodes: Sequence[str]) -> str:
    others = _other_nodes(nodes)
    return "n" + hashlib.sha256(",".join(others).encode()).hexdigest()[:8] if others else ""


def market_source(config: Config) -> Source:
    """The configured market data source (``sources.market``).

    Live sources keep every hub and load zone plus the configured resource nodes, so a folder of
    raw files is tagged by the resource nodes it holds.
    """
    name = config.sources.market
    nodes = config.market.nodes
    if name == "synthetic":
        from pipeline.sources.synthetic import SyntheticMarket

        source: Source = SyntheticMarket(config.sources.synthetic.seed, extra_nodes=_other_nodes(nodes))
        source.storage_suffix = "-".join(filter(None, [f"s{config.sources.synthetic.seed}", _nodes_suffix(nodes)]))
        return source
    if name == "ercot_archive":
        from pipeline.sources.ercot_archive import ErcotArchive

        assert config.sources.archive_dir is not None  # enforced by the config validator
        return ErcotArchive(config.sources.archive_dir)
    wanted = tuple(sorted(set(HUBS_AND_ZONES) | set(nodes)))
    if name == "ercot_mis":
        from pipeline.sources.ercot_mis import ErcotMis

        source = ErcotMis(config.sources.ercot_mis, nodes=wanted, vintage_cutoff=config.features.issue_time)
    elif name == "ercot_api":
        from pipeline.sources.ercot_api import ErcotApi

        source = ErcotApi(config.sources.ercot_api, nodes=wanted, vintage_cutoff=config.features.issue_time)
    else:
        raise ValueError(f"unknown market source {name!r}")
    source.storage_suffix = _nodes_suffix(nodes)
    return source


def weather_source(config: Config) -> Source | None:
    """The configured weather source (``sources.weather``), or None when weather is not used.

    ``archive`` reads the hourly weather files in ``sources.weather_dir``. The simulator's weather
    describes the simulated market only; paired with a real market source it would be noise, so
    ``synthetic`` then means the archived weather in ``sources.weather_dir`` when one is set, and
    no weather otherwise (logged).
    """
    name = config.sources.weather
    if name == "none":
        return None
    if name == "archive":
        from pipeline.sources.ercot_archive import ArchivedWeather

        return ArchivedWeather(config.sources.weather_dir)
    if name == "open_meteo":
        from pipeline.sources.open_meteo import OpenMeteo

        return OpenMeteo(config.sources.open_meteo)
    if config.sources.market == "synthetic":
        from pipeline.sources.synthetic import SyntheticMarket

        return SyntheticMarket(config.sources.synthetic.seed)
    if config.sources.weather_dir is not None:
        from pipeline.sources.ercot_archive import ArchivedWeather

        return ArchivedWeather(config.sources.weather_dir)
    log.warning(
        "sources.weather is 'synthetic' but sources.market is %r: simulated weather would not match "
        "real prices, so weather features are off (set sources.weather to open_meteo or none, or "
        "sources.weather_dir to archived weather)",
        config.sources.market,
    )
    return None
