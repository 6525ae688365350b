"""What every task shares: the configuration it runs under, as part of its identity; completeness by stamps.

**The configuration is a parameter.** Every task carries ``config_id``, the fingerprint of the
effective configuration (``config/pipeline.yaml``, ``RTLMP_CONFIG``, ``RTLMP_DATA_ROOT``) in force
when it was made, so it is part of the task's id as gokart's ``make_unique_id`` makes it: a task
under other settings is another task, and the settings, sources and layout a task uses are those of
its own ``config_id`` (:func:`configured`), not whatever a process-wide cache holds. The loader
re-reads the files when they change, so a long-running process sees edits. Dependencies inherit
their parent's ``config_id`` (:meth:`PipelineTask.requires_of`).

**Complete means current.** A task is complete when every output exists, is valid and carries the
stamp its settings and inputs give now (:mod:`pipeline.lineage`); a stale output is remade on the
next run, the old one kept beside it (``.superseded-*``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable
from typing import Any, TypeVar

import luigi
from luigi.parameter import _no_value

from pipeline import clock, ercot_time
from pipeline.config import Config, Recovery, config_identity, flat_settings, load_config
from pipeline.configured import Configured
from pipeline.lineage import Lineage
from pipeline.model_records import ModelRecords
from pipeline.settings import Settings
from pipeline.sources import Sources
from targets import Layout, Stamp

log = logging.getLogger("pipeline")

T = TypeVar("T", bound=luigi.Task)


class ConfigurationChanged(RuntimeError):
    """A task was made under a configuration this process no longer has."""


_CONFIGS: dict[str, Config] = {}
_CONFIGURED: dict[tuple[str, int | None], Configured] = {}


def current_config_id() -> str:
    """The identity of the configuration in force now (the files are re-read when they change)."""
    config = load_config()
    identity = config_identity(config)
    _CONFIGS.setdefault(identity, config)
    return identity


def configured(config_id: str, shard: int | None = None) -> Configured:
    """The settings, sources, layout, lineage and model records of configuration ``config_id`` (of one shard)."""
    key = (config_id, shard)
    if key not in _CONFIGURED:
        if shard is not None:
            _CONFIGURED[key] = configured(config_id).shard(shard)
        else:
            config = _CONFIGS.get(config_id)
            if config is None:
                now = current_config_id()
                if now != config_id:
                    raise ConfigurationChanged(
                        f"this task was made under configuration {config_id}, which this process does not hold; "
                        f"the configuration in force is {now} (its files changed): start the run again")
                config = _CONFIGS[now]
            sources = Sources.from_config(config)
            _CONFIGURED[key] = Configured(Settings.from_config(config, sources), sources)
    return _CONFIGURED[key]


def current() -> Configured:
    """The configuration in force now (for the command-line layer, operations and tests)."""
    return configured(current_config_id())


def current_settings() -> Settings:
    return current().settings


def current_layout() -> Layout:
    return current().layout


def shard_layout(shard: int) -> Layout:
    return configured(current_config_id(), shard).layout


def forget_configuration() -> None:
    """Drop every configuration this process built (tests switch configurations many times)."""
    _CONFIGS.clear()
    _CONFIGURED.clear()


def attempts(recovery: Recovery) -> int:
    """luigi's ``retry_count`` for a task: it disables a task after that many failures, so a first
    attempt plus ``max_retries`` retries."""
    return recovery.max_retries + 1


class ConfigIdParameter(luigi.Parameter):
    """The identity of the configuration a task runs under; by default the one in force when it is made.

    Significant: it is part of the task id, so the same date under other settings is another task.
    """

    def _get_value(self, task_name: str, param_name: str):  # noqa: ANN202 - luigi's internal protocol
        value = super()._get_value(task_name, param_name)
        return current_config_id() if value == _no_value else value

    def has_task_value(self, task_name: str, param_name: str) -> bool:
        return True


class PipelineTask(luigi.Task):
    """Base of every task: its configuration (``config_id``), and completeness by stamps."""

    # Not positional: luigi's range tools pass the date as a task's first positional argument.
    config_id = ConfigIdParameter(positional=False, description="fingerprint of the configuration the task runs "
                                                                "under (default: the one in force)")

    @property
    def configured(self) -> Configured:
        return configured(self.config_id)

    @property
    def settings(self) -> Settings:
        return self.configured.settings

    @property
    def sources(self) -> Sources:
        return self.configured.sources

    @property
    def layout(self) -> Layout:
        return self.configured.layout

    @property
    def lineage(self) -> Lineage:
        return self.configured.lineage

    @property
    def records(self) -> ModelRecords:
        return self.configured.records

    def requires_of(self, task_class: type[T], **params: Any) -> T:
        """A dependency under this task's configuration."""
        return task_class(config_id=self.config_id, **params)

    def files_lock(self, files: str) -> dict[str, int]:
        """The luigi resource that lets one task at a time fill the daily ``files`` of this data root.

        Range tasks of overlapping windows fill the same daily files: a cold day's incumbent and
        candidate trainings need a year of features each, two days apart. Side by side, each builds
        every day the other is building; one after the other, the second finds the first's days
        current and builds only its own. luigi's scheduler gives a resource not declared in
        ``[resources]`` a capacity of one, so these run one at a time across all workers of a
        scheduler, while other datasets and shards run beside them.
        """
        root = hashlib.sha256(self.layout.root.encode()).hexdigest()[:8]
        return {f"fill:{files}:{root}": 1}

    def expected_outputs(self) -> Iterable[tuple[Any, Stamp]] | None:
        """(target, stamp it must carry) of every output; None: plain existence decides (no stamps)."""
        return None

    def complete(self) -> bool:
        expected = self.expected_outputs()
        if expected is None:
            return super().complete()
        return all(target.current(stamp) for target, stamp in expected)

    def settings_summary(self) -> dict[str, Any]:
        return flat_settings(self.settings.config, "market", "features", "model", "sources", "integrity")


class ShardTask(PipelineTask):
    """A task over one shard of the nodes (``market.shard_size``): its settings and folders are the shard's.

    Unsharded, the one shard is 0 and its settings and folders are the configuration's own.
    """

    shard = luigi.IntParameter(default=0, positional=False,
                               description="shard of the nodes (0-based; market.shard_size)")

    @property
    def configured(self) -> Configured:
        return configured(self.config_id, self.shard)


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
