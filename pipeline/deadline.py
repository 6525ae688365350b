"""``python -m pipeline.deadline``: the DAM deadline check (:mod:`pipeline.ops.deadline`) from the command line.

    python -m pipeline.deadline [--now 2024-03-10T09:01] [--dry-run]

Exit code 0 when today's forecast exists (or the alert time has not come), 1 when it is missing
at or after the alert time, 2 when the configuration is invalid. The status page is rewritten
after every check that is not a dry run. The operations machinery loads only after the arguments
are parsed, so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import sys

from pipeline.cli import instant


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.deadline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--now", type=instant, help="check as of this time (ISO; default: now)")
    parser.add_argument("--dry-run", action="store_true", help="report the state only: no alert, no fallback")
    args = parser.parse_args(argv)
    from pipeline import clock as clocks
    from pipeline import logs
    from pipeline.config import ConfigError, load_config
    from pipeline.ops import status
    from pipeline.ops.base import Operations
    from pipeline.ops.deadline import check, describe, state
    from pipeline.ops.runner import LuigiProcess

    try:
        config = load_config()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    clock = clocks.fixed(args.now) if args.now else clocks.utc_now
    if args.dry_run:
        layout = Operations(config=config, runner=LuigiProcess()).tagged_layout
        current = state(clock(), config.deadlines.dam_closure, layout)
    else:
        logs.setup(config.logging, secrets=logs.secret_variables(config))
        current = check(Operations(config=config, runner=LuigiProcess(), clock=clock))
        status.refresh(config, clock())
    print(describe(current))
    return 1 if current.at_risk else 0


if __name__ == "__main__":
    sys.exit(main())
