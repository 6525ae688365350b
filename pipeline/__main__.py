"""``python -m pipeline``: every command of the forecaster, one line each.

The index a new user starts from; each command's ``--help`` says the rest. Nothing is imported,
so it answers at once.
"""

from __future__ import annotations

import sys

#: (command, what it does) -- the modules with a command line, then the luigi tasks people start.
COMMANDS = (
    ("python -m pipeline.demo", "today's forecast on the embedded simulator, then a summary (make demo)"),
    ("python -m pipeline.report forecast|backtest", "a forecast as a table and chart, or a backtest's verdict"),
    ("python -m pipeline.jobs run|fallback|list", "run a scheduled job now, publish the fallback, list the jobs"),
    ("python -m pipeline.scheduler", "the built-in long-running scheduler (--once, --dry-run)"),
    ("python -m pipeline.deadline", "the DAM deadline check: exit 1 when today's forecast is missing"),
    ("python -m pipeline.status", "rewrite the status page <data_root>/status/index.html"),
    ("python -m pipeline.alerts test", "send a test alert through every channel; names the disabled ones"),
    ("python -m pipeline.show_config", "validate the configuration and print it as YAML"),
    ("luigi --module pipeline DailyInference", "the forecast issued on D for D+1..D+3 (--date D, default today)"),
    ("luigi --module pipeline Backtest", "replay and score the forecasts of --start S --end E"),
    ("luigi --module pipeline WeeklyBacktest", "the Sunday job: the last weeks' skill against a week earlier"),
    ("luigi --module pipeline RangeDaily --of T", "catch-up and backfill of a daily task over --start/--stop"),
    ("luigi --module pipeline FetchRange", "bulk backfill of one dataset (--dataset DS --start S --end E)"),
    ("luigi --module pipeline FeatureRange", "bulk features for the issue days in --start S --end E"),
)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] not in ("-h", "--help"):
        print(f"python -m pipeline takes no arguments (got {' '.join(args)}); run one of the commands below",
              file=sys.stderr)
    width = max(len(command) for command, _ in COMMANDS)
    print("Commands of the ERCOT spike forecaster (each has --help; luigi commands add --local-scheduler "
          "without luigid):")
    for command, purpose in COMMANDS:
        print(f"  {command:<{width}}  {purpose}")
    return 2 if args and args[0] not in ("-h", "--help") else 0


if __name__ == "__main__":
    sys.exit(main())
