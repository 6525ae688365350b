#!/usr/bin/env bash
# DAM deadline monitor: if today's forecast is missing at deadlines.dam_closure.time minus
# buffer_minutes (09:00 CPT by default), alert (email, webhook) and publish the fallback forecast.
# cron (see crontab.example, CRON_TZ=America/Chicago): */5 9 * * *
#
# Options go to pipeline.deadline: --now 2024-07-18T09:01, --dry-run. Exit code 1 while the
# forecast is missing after the alert time, else 0.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
exec "$PYTHON" -m pipeline.deadline "$@"
