#!/usr/bin/env bash
# Daily data fetch: every ERCOT and weather file published in the 24 hours before 00:00 CPT
# today (FetchDaily), and the days of the last operations.catch_up_days that are still missing.
# cron (see crontab.example, CRON_TZ=America/Chicago): 0 0 * * *
#
# Options go to pipeline.jobs: --now 2024-07-18T06:00 runs as of that time (CPT unless an offset
# is given), --dry-run prints the luigi command. Exit code: luigi's (0 = done; see common.sh).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
run_job data_fetching "$@" -- "$LUIGI" --module pipeline RangeDaily --of FetchDaily
