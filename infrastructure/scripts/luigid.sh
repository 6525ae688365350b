#!/usr/bin/env bash
# luigid, the central scheduler: the web UI (task graph, running tasks with their progress), task
# history in SQLite and Prometheus metrics at /metrics.
#
#   luigid.sh start|stop|restart|status [--port N] [--address A] [--state-dir DIR] [--log-dir DIR]
#
# Defaults (or the environment variables LUIGID_PORT, LUIGID_ADDRESS, LUIGID_STATE_DIR,
# LUIGID_LOG_DIR): port 8082 (luigi.cfg's [core] scheduler_port, where the jobs look for it),
# address 127.0.0.1 (this machine only: the UI has no authentication -- put a reverse proxy with
# authentication in front to open it up), state in ~/.local/state/rtlmp-luigid (pid file, scheduler
# state, task-history.db), logs in <repository>/logs/luigid. Settings: infrastructure/luigid.cfg.
#
# Private files: luigid unpickles its state file (luigi-state.pickle) when it starts, so whoever can
# write that file -- or the folder holding it -- chooses the code luigid runs, as luigid's user
# (root, if root starts it). So luigid runs with umask 077 (its state, task history, pid file and
# logs are readable and writable by its user only), the state and log folders are 0700, and start
# refuses, in one line naming the path (exit 2), a state or log folder, or a file in the state
# folder, that is group- or world-writable, owned by another user or a symbolic link. luigid is
# started in the foreground and detached by this script: `luigid --background` would set umask 0.
set -euo pipefail
umask 077

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RTLMP_HOME="${RTLMP_HOME:-$(cd "$SCRIPTS_DIR/../.." && pwd)}"
RTLMP_VENV="${RTLMP_VENV:-$RTLMP_HOME/.venv}"
PORT="${LUIGID_PORT:-8082}"
ADDRESS="${LUIGID_ADDRESS:-127.0.0.1}"
STATE_DIR="${LUIGID_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/rtlmp-luigid}"
LOG_DIR="${LUIGID_LOG_DIR:-$RTLMP_HOME/logs/luigid}"

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

ACTION="${1:-}"
[[ -n "$ACTION" ]] || usage
shift
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) PORT="$2"; shift 2 ;;
    --address) ADDRESS="$2"; shift 2 ;;
    --state-dir) STATE_DIR="$2"; shift 2 ;;
    --log-dir) LOG_DIR="$2"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "luigid.sh: unknown option $1" >&2; usage ;;
  esac
done

LUIGID="$RTLMP_VENV/bin/luigid"
PIDFILE="$STATE_DIR/luigid.pid"
URL="http://$ADDRESS:$PORT"

running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

answers() {
  "$RTLMP_VENV/bin/python" - "$URL" <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1] + "/api/graph", timeout=2)
except Exception:
    sys.exit(1)
PY
}

# One line naming the first state or log path another user could write (or that is not ours); exit 1.
check_private() {
  "$RTLMP_VENV/bin/python" - "$STATE_DIR" "$LOG_DIR" <<'PY'
import os, stat, sys
state, logs = sys.argv[1], sys.argv[2]
paths = [p for p in (state, logs) if os.path.lexists(p)]
if os.path.isdir(state) and not os.path.islink(state):
    paths += sorted(os.path.join(state, name) for name in os.listdir(state))
for path in paths:
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        problem = "is a symbolic link"
    elif info.st_uid != os.geteuid():
        problem = f"is owned by uid {info.st_uid}, not by uid {os.geteuid()} who starts luigid"
    elif info.st_mode & 0o022:
        problem = f"is writable by group or others (mode {stat.S_IMODE(info.st_mode):04o}): chmod go-w it after checking it"
    else:
        continue
    print(f"luigid.sh: refusing to start: {path} {problem} (luigid's state and logs must be private: it unpickles "
          "its state at start, so whoever can write there chooses the code it runs)", file=sys.stderr)
    sys.exit(1)
PY
}

start() {
  if pid="$(running_pid)"; then
    echo "luigid already running (pid $pid) at $URL"
    return 0
  fi
  [[ -x "$LUIGID" ]] || { echo "luigid.sh: no luigid at $LUIGID (pip install -e '.[luigid]')" >&2; exit 2; }
  check_private || exit 2
  mkdir -p "$STATE_DIR" "$LOG_DIR"
  chmod 700 "$STATE_DIR" "$LOG_DIR"
  check_private || exit 2  # again: a folder someone else made meanwhile is theirs, whatever its mode now
  rm -f "$PIDFILE"
  export LUIGID_STATE_DIR="$STATE_DIR"
  export LUIGI_CONFIG_PATH="$RTLMP_HOME/infrastructure/luigid.cfg"
  # Its own session (setsid), so it outlives this script and the terminal; the shell in between
  # writes its pid, which exec hands on to luigid.
  local detach=setsid
  command -v setsid >/dev/null || detach=nohup  # macOS: no setsid
  (cd "$STATE_DIR" && exec "$detach" sh -c 'echo $$ >"$0"; exec "$@"' "$PIDFILE" "$LUIGID" --logdir "$LOG_DIR" \
      --state-path "$STATE_DIR/luigi-state.pickle" --port "$PORT" --address "$ADDRESS") \
    </dev/null >>"$LOG_DIR/luigi-server.out" 2>>"$LOG_DIR/luigi-server.err" &
  for _ in $(seq 1 100); do
    sleep 0.2
    if [[ -s "$PIDFILE" ]] && ! running_pid >/dev/null; then
      echo "luigid.sh: luigid exited at start; see $LOG_DIR" >&2
      tail -n 20 "$LOG_DIR"/luigi-server.err 2>/dev/null >&2 || true
      rm -f "$PIDFILE"
      exit 1
    fi
    if answers; then
      echo "luigid started (pid $(cat "$PIDFILE")): UI $URL, metrics $URL/metrics, logs $LOG_DIR"
      return 0
    fi
  done
  echo "luigid.sh: luigid did not answer at $URL within 20 s; see $LOG_DIR" >&2
  tail -n 20 "$LOG_DIR"/luigi-server.err 2>/dev/null >&2 || true
  exit 1
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    echo "luigid is not running"
    rm -f "$PIDFILE"
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; echo "luigid stopped (pid $pid)"; return 0; }
    sleep 0.2
  done
  echo "luigid.sh: luigid (pid $pid) still running 20 s after SIGTERM; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
}

case "$ACTION" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status)
    if pid="$(running_pid)"; then echo "luigid running (pid $pid) at $URL"; else echo "luigid is not running"; exit 3; fi ;;
  *) usage ;;
esac
