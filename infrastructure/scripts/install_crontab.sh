#!/usr/bin/env bash
# Install the forecaster's cron schedule (crontab.example) into the current user's crontab by MERGING:
# every line of the existing crontab stays, and a block from an earlier install -- the lines between
# "# >>> rtlmp-spike-forecaster >>>" and "# <<< rtlmp-spike-forecaster <<<" -- is replaced by the
# new one, appended at the end. Piping the example into `crontab -` would silently replace the
# user's whole crontab.
#
#   install_crontab.sh            merge and install (prints what it did)
#   install_crontab.sh --print    print the merged crontab, install nothing
#   install_crontab.sh --remove   take the block out, keep everything else
#
#   RTLMP_HOME   the repository the schedule runs (default: two folders above this one)
#   CRONTAB      the crontab command (default: crontab; tests pass a stand-in)
set -euo pipefail

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RTLMP_HOME="${RTLMP_HOME:-$(cd "$SCRIPTS_DIR/../.." && pwd)}"
CRONTAB="${CRONTAB:-crontab}"
BEGIN="# >>> rtlmp-spike-forecaster >>>"
END="# <<< rtlmp-spike-forecaster <<<"
PLACEHOLDER="/opt/rtlmp-spike-forecaster"

mode="install"
case "${1:-}" in
  "") ;;
  --print) mode="print" ;;
  --remove) mode="remove" ;;
  -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "install_crontab.sh: unknown option '$1' (use --print, --remove or --help)" >&2; exit 2 ;;
esac
if [[ "$RTLMP_HOME" == *"#"* ]]; then
  echo "install_crontab.sh: the repository path '$RTLMP_HOME' contains '#', which cron cannot take" >&2
  exit 2
fi

# The current crontab; "no crontab for <user>" (exit 1 with nothing on stdout) is an empty one.
if ! current="$("$CRONTAB" -l 2>/dev/null)"; then
  current=""
fi

# Everything outside an earlier block, kept line for line.
kept="$(printf '%s\n' "$current" | awk -v begin="$BEGIN" -v end="$END" '
  $0 == begin { inside = 1; next }
  $0 == end { inside = 0; next }
  !inside { print }')"
kept="$(printf '%s\n' "$kept" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}')"  # drop trailing blank lines

merged="$kept"
if [[ "$mode" != "remove" ]]; then
  block="$(sed "s#$PLACEHOLDER#$RTLMP_HOME#g" "$SCRIPTS_DIR/crontab.example")"
  if [[ -n "$kept" ]]; then
    merged="$kept"$'\n\n'"$block"
  else
    merged="$block"
  fi
fi

if [[ "$mode" == "print" ]]; then
  printf '%s\n' "$merged"
  exit 0
fi
printf '%s\n' "$merged" | "$CRONTAB" -
own="$(printf '%s\n' "$kept" | grep -cv '^[[:space:]]*\(#.*\)\{0,1\}$' || true)"
if [[ "$mode" == "remove" ]]; then
  echo "install_crontab.sh: removed the rtlmp-spike-forecaster block; kept $own other entries"
else
  echo "install_crontab.sh: installed the rtlmp-spike-forecaster block for $RTLMP_HOME; kept $own other entries"
fi
