"""Data sources and the rule that picks them from the configuration."""

from __future__ import annotations

import logging

from pipeline.config import Config
from pipeline.sources.base import DataUnavailable, Source, SourceError

__all__ = ["DataUnavailable", "Source", "SourceError", "market_source", "weather_source"]

log = logging.getLogger(__name__)


def market_source(config: Config) -> Source:
    """The configured market data source (``sources.market``)."""
    name = config.sources.market
    if name == "synthetic":
        from pipeline.sources.synthetic import SyntheticMarket

        return SyntheticMarket(config.sources.synthetic.seed)
    if name == "ercot_archive":
        from pipeline.sources.ercot_archive import ErcotArchive

        assert config.sources.archive_dir is not None  # enforced by the config validator
        return ErcotArchive(config.sources.archive_dir)
    if name == "ercot_mis":
        from pipeline.sources.ercot_mis import ErcotMis

        return ErcotMis(config.sources.ercot_mis)
    if name == "ercot_api":
        from pipeline.sources.ercot_api import ErcotApi

        return ErcotApi(config.sources.ercot_api)
    raise ValueError(f"unknown market source {name!r}")


def weather_source(config: Config) -> Source | None:
    """The configured weather source (``sources.weather``), or None when weather is not used.

    The simulator's weather describes the simulated market only; paired with a real market source
    it would be noise, so ``synthetic`` then means the archived weather in ``sources.weather_dir``
    when one is set, and no weather otherwise (logged).
    """
    name = config.sources.weather
    if name == "none":
        return None
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
