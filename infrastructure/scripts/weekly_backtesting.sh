#!/usr/bin/env bash
# Weekly backtest: WeeklyBacktest for today (CPT), replaying the last backtest.weekly_weeks weeks.
# cron (see crontab.example, CRON_TZ=America/Chicago): 0 2 * * 0
#
# Options go to pipeline.jobs: --now 2024-07-18T06:00 runs as of that time (CPT unless an offset
# is given), --dry-run prints the luigi command. Exit code: luigi's (0 = done; see common.sh).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
run_job backtesting "$@" -- "$LUIGI" --module pipeline WeeklyBacktest
