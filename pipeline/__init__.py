"""ERCOT real-time price spike forecaster: a Luigi pipeline (``luigi --module pipeline <Task>``).

Importing the package costs nothing: the task classes -- and with them luigi, pandas and
scikit-learn, two seconds of imports -- load on first use (``pipeline.DailyInference``), so the
command-line modules (``python -m pipeline.jobs list``, every ``--help``) answer at once.

Under luigi the tasks are needed by name, and luigi finds a task only among the classes imported so
far. So when luigi is already loaded as this package is imported (the ``luigi`` command imports it
for ``--module pipeline``; so does any program or test that imported luigi first), every task module
is imported at once. Under the ``luigi`` command itself the package also

* checks the configuration, the dates and the data root (:mod:`pipeline.preflight`), so bad input
  is one clear line before anything is scheduled;
* follows the run through luigi's events (:func:`watch_runs`): the progress line on the terminal and
  in the luigid UI, and the metrics of the work actually done (:mod:`pipeline.ops.metrics`).
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Callable
from typing import Any

# Where each exported name lives.
_EXPORTS = {
    "Backtest": "pipeline.tasks.backtest",
    "BuildFeatures": "pipeline.tasks.features",
    "DailyInference": "pipeline.tasks.inference",
    "FeatureRange": "pipeline.tasks.features",
    "FetchAncillaryPrices": "pipeline.tasks.fetch",
    "FetchDaily": "pipeline.tasks.operations",
    "FetchDamPrices": "pipeline.tasks.fetch",
    "FetchLoad": "pipeline.tasks.fetch",
    "FetchLoadForecast": "pipeline.tasks.fetch",
    "FetchRange": "pipeline.tasks.fetch",
    "FetchRenewables": "pipeline.tasks.fetch",
    "FetchRenewablesForecast": "pipeline.tasks.fetch",
    "FetchRtPrices": "pipeline.tasks.fetch",
    "FetchWeather": "pipeline.tasks.fetch",
    "FetchWeatherForecast": "pipeline.tasks.fetch",
    "GateModel": "pipeline.tasks.train",
    "HourlyPrices": "pipeline.tasks.fetch",
    "HourlyPricesRange": "pipeline.tasks.fetch",
    "PublishPreviousForecast": "pipeline.tasks.operations",
    "RangeDaily": "luigi.tools.range",
    "RetrainModel": "pipeline.tasks.operations",
    "ServeModel": "pipeline.tasks.serving",
    "ShardForecast": "pipeline.tasks.inference",
    "TrainModel": "pipeline.tasks.train",
    "WeeklyBacktest": "pipeline.tasks.weekly",
}

__all__ = sorted(_EXPORTS)

# luigi's RangeDaily declares ``param_name = Parameter(default=None)`` and luigi then warns about its
# own default on every run ('Parameter "param_name" with value "None" is not of type string'). The
# filter matches that one message only; every other parameter warning still shows.
warnings.filterwarnings("ignore", message=r'Parameter "param_name" with value "None" is not of type string',
                        category=UserWarning)


def __getattr__(name: str) -> Any:
    """Load an exported task class on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def load_tasks() -> None:
    """Import every task module, which registers each task class with luigi."""
    for name in __all__:
        __getattr__(name)


def watch_runs(metrics_dir: str | None = None) -> None:
    """Follow this process's luigi runs through luigi's events (once per process).

    Every task luigi finds incomplete, starts, finishes or fails updates the run's progress (a line
    with done/total, percent and ETA on the terminal, and the same on the command line's task in the
    luigid UI) and the metrics file of the work actually done (:mod:`pipeline.observer`).
    ``metrics_dir``: where the metrics file goes (default: ``RTLMP_METRICS_DIR``, else
    ``<logging.dir>/metrics``).
    """
    global _watching
    if _watching:
        return
    import luigi

    from pipeline import clock, observer
    from pipeline.config import load_config

    watcher = observer.RunObserver.for_config(load_config(), clock.utc_now, metrics_dir=metrics_dir,
                                              luigid=_luigid_reporter(), root_task_id=_command_line_task_id)
    for event, handler in watcher.handlers().items():
        luigi.Task.event_handler(getattr(luigi.Event, event))(handler)
    _watching = True


_watching = False


def _command_line_task_id() -> str | None:
    """The id of the task named on the command line (luigi parses it after importing this package)."""
    from luigi.cmdline_parser import CmdlineParser

    parser = CmdlineParser.get_instance()
    return parser.get_task_obj().task_id if parser is not None else None


def _luigid_reporter() -> Callable[[str, str, int], None]:
    """Sends a status message and percentage for a task to luigid; nothing with ``--local-scheduler``.

    Whether the run uses luigid is known only once luigi has parsed its arguments, so the first
    report decides.
    """
    schedulers: list[Any] = []

    def report(task_id: str, message: str, percentage: int) -> None:
        import luigi.interface
        import luigi.rpc

        if not schedulers:
            core = luigi.interface.core()
            url = core.scheduler_url or f"http://{core.scheduler_host}:{core.scheduler_port}/"
            schedulers.append(None if core.local_scheduler else luigi.rpc.RemoteScheduler(url))
        if schedulers[0] is not None:
            schedulers[0].set_task_status_message(task_id, message)
            schedulers[0].set_task_progress_percentage(task_id, percentage)

    return report


if "luigi" in sys.modules:
    from pipeline import preflight

    preflight.check_luigi_command()
    load_tasks()
    # A run to follow, not `--help` (which preflight lets through without checking the configuration).
    if preflight.is_luigi_command(sys.argv) and not {"--help", "--help-all"} & set(sys.argv):
        watch_runs()
