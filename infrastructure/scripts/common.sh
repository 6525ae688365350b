# Sourced by the cron scripts in this folder: find the repository and its virtualenv, run one job.
#
#   RTLMP_HOME  the repository (default: two folders above this one)
#   RTLMP_VENV  its virtualenv (default: $RTLMP_HOME/.venv, created by `make venv`)
#
# Every job runs through `python -m pipeline.jobs run <job> [options] -- <luigi command>`, which
# takes the job's lock (flock on <data_root>/ops/locks/<job>.lock: a second, overlapping run exits
# at once with luigi's already_running code, 10), adds the dates computed in America/Chicago
# (RangeDaily --start/--stop/--now, or --date), --worker-keep-alive and the retry delay, retries,
# applies the job's fallback, alerts, logs to logs/scheduler.log and logs/error.log, and exits
# with luigi's exit code ([retcode] in luigi.cfg; 124 after a timeout).

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RTLMP_HOME="${RTLMP_HOME:-$(cd "$SCRIPTS_DIR/../.." && pwd)}"
RTLMP_VENV="${RTLMP_VENV:-$RTLMP_HOME/.venv}"
PYTHON="$RTLMP_VENV/bin/python"
LUIGI="$RTLMP_VENV/bin/luigi"

if [[ ! -x "$PYTHON" || ! -x "$LUIGI" ]]; then
  echo "$(basename "$0"): no virtualenv with luigi at $RTLMP_VENV (run 'make venv' in $RTLMP_HOME, or set RTLMP_VENV)" >&2
  exit 2
fi

# luigi.cfg ([retcode], retries) and the relative paths of config/pipeline.yaml (data_root,
# logging.dir) are read from the repository, whatever directory cron starts in.
cd "$RTLMP_HOME"
export LUIGI_CONFIG_PATH="${LUIGI_CONFIG_PATH:-$RTLMP_HOME/luigi.cfg}"
# cron's PATH is minimal. The machine's TZ does not matter: dates are computed in America/Chicago.
export PATH="$RTLMP_VENV/bin:$PATH"
# Nothing a job writes (data root, logs, locks) is writable by group or others, whatever umask
# cron hands down; what the umask already hides stays hidden.
umask "$(printf '%04o' $(( 8#$(umask) | 8#022 )))"

# run_job <job> [pipeline.jobs options] -- <luigi command...>
run_job() {
  local job="$1"
  shift
  exec "$PYTHON" -m pipeline.jobs run "$job" "$@"
}
