#!/usr/bin/env bash
# Daily inference: today's 72-hour spike forecast (DailyInference), and the days of the last
# operations.catch_up_days that are missing. If today's still fails after the retries: the
# cached-inputs forecast, else the previous forecast re-published (error_recovery), alerted.
# cron (see crontab.example, CRON_TZ=America/Chicago): 0 6 * * *
#
# Options go to pipeline.jobs: --now 2024-07-18T06:00 runs as of that time (CPT unless an offset
# is given), --dry-run prints the luigi command. Exit code: luigi's (0 = done; see common.sh).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
run_job inference "$@" -- "$LUIGI" --module pipeline RangeDaily --of DailyInference
