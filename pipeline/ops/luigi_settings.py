"""luigi's own settings as the ``luigi`` command will read them, without importing luigi.

The jobs run luigi in a child process; before starting it they need two of its settings: the
``[retcode]`` codes (a run must never exit 0 on failure, which luigi's defaults would do) and where
luigid listens (``[core] scheduler_host`` / ``scheduler_port``). luigi reads, in order, later files
winning: ``/etc/luigi/client.cfg``, ``/etc/luigi/luigi.cfg``, ``client.cfg`` and ``luigi.cfg`` in the
working directory, then ``$LUIGI_CONFIG_PATH``.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import ConfigError

SEARCH_PATH = ("/etc/luigi/client.cfg", "/etc/luigi/luigi.cfg", "client.cfg", "luigi.cfg")
# luigi's own defaults: every failure but an unhandled exception exits 0.
DEFAULT_RETCODES = {"unhandled_exception": 4, "missing_data": 0, "task_failed": 0, "already_running": 0,
                    "scheduling_error": 0, "not_run": 0}


@dataclass(frozen=True)
class Retcodes:
    already_running: int
    missing_data: int
    not_run: int
    task_failed: int
    scheduling_error: int
    unhandled_exception: int


def read(environ: Mapping[str, str] | None = None) -> configparser.ConfigParser:
    """luigi's configuration files, merged as luigi merges them."""
    env = os.environ if environ is None else environ
    paths = [*SEARCH_PATH, *([env["LUIGI_CONFIG_PATH"]] if env.get("LUIGI_CONFIG_PATH") else [])]
    parser = configparser.ConfigParser(interpolation=None)
    parser.read([p for p in paths if Path(p).is_file()])
    return parser


def retcodes(environ: Mapping[str, str] | None = None) -> Retcodes:
    """The ``[retcode]`` codes; refuses to go on when they are luigi's defaults (0 on failure)."""
    parser = read(environ)
    codes = Retcodes(**{name: parser.getint("retcode", name, fallback=default)
                        for name, default in DEFAULT_RETCODES.items()})
    if codes.task_failed == 0 or codes.already_running == 0:
        raise ConfigError("luigi's [retcode] section is not loaded (a failed run would exit 0): run from the "
                          "repository, where luigi.cfg is, or set LUIGI_CONFIG_PATH to it")
    return codes


def scheduler_address(environ: Mapping[str, str] | None = None) -> tuple[str, int]:
    """Where luigid listens for the luigi command: ``[core] scheduler_host`` and ``scheduler_port``."""
    parser = read(environ)
    return parser.get("core", "scheduler_host", fallback="localhost"), parser.getint("core", "scheduler_port",
                                                                                      fallback=8082)
