"""What every task shares: the settings and sources of the configuration, the layout, the date parameter.

luigi builds a task from its parameters alone, so the configuration is the one input a task reads
beyond them. It is loaded once per process (and per ``RTLMP_CONFIG`` / ``RTLMP_DATA_ROOT``) by
:func:`pipeline.config.load_config` and turned into immutable :class:`~pipeline.settings.Settings`
and the configured :class:`~pipeline.sources.Sources`; tasks reach them through ``self.settings``,
``self.sources`` and ``self.layout``. Everything else a task needs comes from ``self.input()``.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging

import luigi
from luigi.parameter import _no_value

from pipeline import clock, ercot_time
from pipeline.config import Recovery, config_key, load_config
from pipeline.settings import Settings
from pipeline.sources import Sources
from targets import Layout

log = logging.getLogger("pipeline")


@functools.lru_cache(maxsize=4)
def _configured(key: tuple[str | None, str | None]) -> tuple[Settings, Sources]:
    config = load_config()
    sources = Sources.from_config(config)
    return Settings.from_config(config, sources), sources


def current_settings() -> Settings:
    """The settings of the current configuration (built once per process and configuration)."""
    return _configured(config_key())[0]


def current_sources() -> Sources:
    return _configured(config_key())[1]


def current_layout() -> Layout:
    settings = current_settings()
    return Layout(settings.config.data_root, settings.tags)


@functools.lru_cache(maxsize=64)
def _shard(key: tuple[str | None, str | None], shard: int) -> tuple[Settings, Layout]:
    settings = _configured(key)[0].for_shard(shard)
    return settings, Layout(settings.config.data_root, settings.tags)


def shard_settings(shard: int) -> Settings:
    """The settings of one shard of the current configuration (:meth:`Settings.for_shard`)."""
    return _shard(config_key(), shard)[0]


def shard_layout(shard: int) -> Layout:
    return _shard(config_key(), shard)[1]


def forget_configuration() -> None:
    """Drop the cached settings and sources (after the environment that names the configuration changed)."""
    _configured.cache_clear()
    _shard.cache_clear()


def attempts(recovery: Recovery) -> int:
    """luigi's ``retry_count`` for a task: it disables a task after that many failures, so a first
    attempt plus ``max_retries`` retries."""
    return recovery.max_retries + 1


class PipelineTask(luigi.Task):
    """Base of every task: the configuration's settings, sources and layout."""

    @property
    def settings(self) -> Settings:
        return current_settings()

    @property
    def sources(self) -> Sources:
        return current_sources()

    @property
    def layout(self) -> Layout:
        return current_layout()


class ShardTask(PipelineTask):
    """A task over one shard of the nodes (``market.shard_size``): its settings and folders are the shard's.

    Unsharded, the one shard is 0 and its settings and folders are the configuration's own.
    """

    shard = luigi.IntParameter(default=0, description="shard of the nodes (0-based; market.shard_size)")

    @property
    def settings(self) -> Settings:
        return shard_settings(self.shard)

    @property
    def layout(self) -> Layout:
        return shard_layout(self.shard)


class TodayInCptParameter(luigi.DateParameter):
    """A date parameter that defaults to today in CPT, read from the command-line layer's clock when
    the task is created (a plain ``default=`` would be evaluated once at import, and go stale in a
    long-running process)."""

    def _get_value(self, task_name: str, param_name: str):  # noqa: ANN202 - luigi's internal protocol
        value = super()._get_value(task_name, param_name)
        return ercot_time.operating_day(clock.utc_now()) if value == _no_value else value

    def has_task_value(self, task_name: str, param_name: str) -> bool:
        return True


def days_of(targets: dict[dt.date, luigi.Target], first: dt.date, last: dt.date) -> dict[dt.date, luigi.Target]:
    """The entries of a day-keyed output for days in [first, last]."""
    return {day: target for day, target in targets.items() if first <= day <= last}
