"""What every operations step shares: the configuration, how to run luigi, the clock, a stop signal."""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline import clock as clocks
from pipeline.config import Config
from pipeline.configured import Configured
from pipeline.ops.alerts import Alert, Severity, send
from pipeline.ops.runner import Runner
from pipeline.settings import Settings
from pipeline.sources import Sources
from targets import Layout


@dataclass
class Operations:
    """What a job run needs: configuration, where files live, how to run luigi, the clock, a stop signal."""

    config: Config
    runner: Runner
    clock: clocks.Clock = clocks.utc_now
    stop: threading.Event = field(default_factory=threading.Event)
    wait: Callable[[float], bool] | None = None  # sleeps between retries; True when stopped meanwhile
    environ: dict[str, str] | None = None  # for alert secrets (default: os.environ)

    @property
    def layout(self) -> Layout:
        """The data root's untagged files: forecasts, run and alert logs, locks, the status page."""
        return Layout(self.config.data_root)

    @functools.cached_property
    def configured(self) -> Configured:
        """The configuration's settings, and the layout, lineage and model records that follow."""
        sources = Sources.from_config(self.config)
        return Configured(Settings.from_config(self.config, sources), sources)

    @property
    def settings(self) -> Settings:
        return self.configured.settings

    @property
    def tagged_layout(self) -> Layout:
        """The data root with the settings' tags (features, models) and the configured forecast shape."""
        return self.configured.layout

    def sleep(self, seconds: float) -> bool:
        return self.wait(seconds) if self.wait is not None else self.stop.wait(seconds)

    def alert(self, kind: str, severity: Severity, title: str, detail: str, job: str | None = None,
              forecast_date: dt.date | None = None, key: str | None = None) -> Alert:
        alert = Alert(kind=kind, severity=severity, title=title, detail=detail, at=self.clock(), job=job,
                      forecast_date=forecast_date, key=key)
        return send(alert, self.config.alerts, self.layout.alert_log(), self.environ)


@dataclass(frozen=True)
class JobResult:
    job: str
    retcode: int
    status: str  # success | failed | fallback | already_running | timeout | stopped | crashed
    today: dt.date
    attempts: int = 0
    fallback: str | None = None
    summary: str = ""
