#!/usr/bin/env bash
# Model retraining: trains and gates the candidate of the newest cadence date (RetrainModel is a
# no-op on other dates, so cron's */2 firing on both the 31st and the 1st is harmless). If it
# fails, the current model keeps serving (retain_current_model), alerted.
# cron (see crontab.example, CRON_TZ=America/Chicago): 0 1 */2 * *
#
# Options go to pipeline.jobs: --now 2024-07-18T06:00 runs as of that time (CPT unless an offset
# is given), --dry-run prints the luigi command. Exit code: luigi's (0 = done; see common.sh).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
run_job model_retraining "$@" -- "$LUIGI" --module pipeline RangeDaily --of RetrainModel
