"""Data sources and the rule that picks them from the configuration."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.catalogue import HUBS_AND_ZONES
from pipeline.config import ALL_NODES, Config
from pipeline.sources.base import DataUnavailable, Source, SourceError
from targets.schemas import MARKET_DATASETS, WEATHER_DATASETS

__all__ = ["DataUnavailable", "Source", "SourceError", "Sources", "market_source", "resolve_nodes", "weather_source"]

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


def _nodes_suffix(nodes: Sequence[str] | str) -> str:
    if nodes == ALL_NODES:
        return "nall"
    others = _other_nodes(nodes)
    return "n" + hashlib.sha256(",".join(others).encode()).hexdigest()[:8] if others else ""


# Types left out of ``market.nodes: all``: the hub averages, which average the hubs forecast beside them.
_NOT_FORECAST_TYPES = frozenset({"SH", "AH"})


def resolve_nodes(config: Config, market: Source) -> tuple[str, ...]:
    """The settlement points to forecast: ``market.nodes``, or with ``all`` every point the source
    lists (hub averages aside), ordered by hub, load zone and name so a shard holds neighbours.

    ``all`` needs a source whose list does not change from day to day (the simulator's universe, the
    archive's files); with ERCOT MIS or the Public API, list the points in ``market.nodes``.
    """
    nodes = config.market.nodes
    if nodes != ALL_NODES:
        return tuple(nodes)
    if config.sources.market == "synthetic":
        points = market.settlement_points(config.model.cadence_anchor)
    elif config.sources.market == "ercot_archive":
        years = sorted(f.year for f in market.files.get("rt_prices", []))  # type: ignore[attr-defined]
        if not years:
            raise ValueError(f"market.nodes: all, but the archive {config.sources.archive_dir} holds no rt_prices file")
        points = market.settlement_points(dt.date(years[-1], 1, 1))
    else:
        raise ValueError(f"market.nodes: all needs a source with a fixed list of settlement points (synthetic, "
                         f"ercot_archive); with {config.sources.market}, list the points in market.nodes")
    points = points[~points["type"].isin(_NOT_FORECAST_TYPES)]
    ordered = points.assign(hub=points["hub"].fillna(""), load_zone=points["load_zone"].fillna(""))
    return tuple(ordered.sort_values(["hub", "load_zone", "name"])["name"])


def market_source(config: Config) -> Source:
    """The configured market data source (``sources.market``).

    Live sources keep every hub and load zone plus the configured resource nodes, so a folder of
    raw files is tagged by the resource nodes it holds.
    """
    name = config.sources.market
    nodes = config.market.nodes
    if name == "synthetic":
        from pipeline.sources.synthetic import SyntheticMarket

        from pipeline.sources.synthetic.universe import universe_names

        extra = universe_names(config.sources.synthetic.seed) if nodes == ALL_NODES else _other_nodes(nodes)
        source: Source = SyntheticMarket(config.sources.synthetic.seed, extra_nodes=extra)
        source.storage_suffix = "-".join(filter(None, [f"s{config.sources.synthetic.seed}", _nodes_suffix(nodes)]))
        return source
    if name == "ercot_archive":
        from pipeline.sources.ercot_archive import ErcotArchive

        assert config.sources.archive_dir is not None  # enforced by the config validator
        return ErcotArchive(config.sources.archive_dir)
    if nodes == ALL_NODES:
        raise ValueError(f"market.nodes: all needs a source with a fixed list of settlement points (synthetic, "
                         f"ercot_archive); with {name}, list the points in market.nodes")
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
