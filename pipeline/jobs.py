"""``python -m pipeline.jobs``: run one scheduled job now, publish a fallback, or list the jobs.

    python -m pipeline.jobs run inference [--now ISO] [--dry-run] [-- <luigi binary> --module pipeline RangeDaily --of DailyInference]
    python -m pipeline.jobs fallback [--date D] [--now ISO]     # publish today's fallback forecast now
    python -m pipeline.jobs list                                # the jobs and their luigi commands

Used by the cron scripts (``infrastructure/scripts/*.sh``/``.bat``). What a run does is described
in :mod:`pipeline.ops.jobs`; after it, this command rewrites the status page.

The machinery of a run (configuration, pandas, scikit-learn: seconds of imports) loads only once the
arguments ask for a run, so ``--help`` and ``list`` answer at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import shlex
import signal
import sys
from typing import TYPE_CHECKING

from pipeline.cli import instant
from pipeline.ops.job_specs import JOBS

if TYPE_CHECKING:
    from pipeline.ops.base import Operations

log = logging.getLogger("pipeline.jobs")


def _operations(args: argparse.Namespace) -> Operations:
    from pipeline import clock as clocks
    from pipeline import logs
    from pipeline.config import load_config
    from pipeline.ops.base import Operations
    from pipeline.ops.runner import LuigiProcess

    config = load_config()
    logs.setup(config.logging, secrets=logs.secret_variables(config))
    clock = clocks.fixed(args.now) if args.now else clocks.utc_now
    return Operations(config=config, runner=LuigiProcess(grace_seconds=config.operations.stop_grace_seconds),
                      clock=clock)


def _stop_on_signals(ops: Operations) -> None:
    def handle(signum: int, _frame: object) -> None:
        log.warning("received signal %d: stopping the running job", signum)
        ops.stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handle)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.jobs", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run one scheduled job now")
    run.add_argument("job", choices=sorted(JOBS))
    run.add_argument("--now", type=instant, help="run as if it were this time (ISO; default: now)")
    run.add_argument("--dry-run", action="store_true", help="print the luigi command, run nothing")
    fallback = commands.add_parser("fallback", help="publish the fallback forecast for a day now")
    fallback.add_argument("--date", type=dt.date.fromisoformat, help="issue day (default: today in CPT)")
    fallback.add_argument("--now", type=instant, help="as if it were this time (ISO; default: now)")
    commands.add_parser("list", help="list the jobs and their luigi commands")
    parser.epilog = "run <job> [options] -- <luigi binary> <arguments>: the luigi command (default: the job's own)"
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    luigi_command = argv[split + 1:] or None
    if args.command == "list":
        return _list()
    from pipeline.config import ConfigError

    try:
        return _run(args, luigi_command)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, luigi_command: list[str] | None) -> int:
    """``run`` or ``fallback``: the configuration is loaded (and may be invalid) from here on."""
    from pipeline.ercot_time import operating_day
    from pipeline.ops import status
    from pipeline.ops.fallbacks import publish_fallback
    from pipeline.ops.jobs import run_arguments, run_job, schedule_of
    from pipeline.ops.runner import default_luigi, use_central_scheduler

    ops = _operations(args)
    if args.command == "fallback":
        day = args.date or operating_day(ops.clock())
        central = use_central_scheduler(ops.config)
        published = publish_fallback(ops, day, default_luigi(), central,
                                     schedule_of(ops.config, "inference").timeout_minutes * 60)
        print(f"forecast for {day}: {published or 'missing'}")
        return 0 if published else 1
    command = luigi_command
    if args.dry_run:
        base = command or [default_luigi(), *JOBS[args.job].luigi_args()]
        print(shlex.join(base + run_arguments(ops.config, args.job, ops.clock(), use_central_scheduler(ops.config))))
        return 0
    _stop_on_signals(ops)
    result = run_job(ops, args.job, command)
    status.refresh(ops.config, ops.clock())
    return result.retcode


def _list() -> int:
    for spec in JOBS.values():
        print(f"{spec.name:<17} infrastructure/scripts/{spec.script}.sh  luigi {' '.join(spec.luigi_args())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())