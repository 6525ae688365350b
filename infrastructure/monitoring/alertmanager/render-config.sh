#!/bin/sh
# Alertmanager's configuration, written to stdout from environment variables.
#
# Alertmanager reads no environment variables itself, and secrets (the webhook URL, the SMTP
# password) must not sit in a file in the repository, so the container runs this script at start
# (docker-compose.yml) and .ci/run checks its output with `amtool check-config`.
#
#   RTLMP_WEBHOOK_URL          Slack-compatible incoming webhook: every alert and its resolution
#   RTLMP_ALERT_EMAIL_TO       email recipient(s), comma-separated
#   RTLMP_ALERT_EMAIL_FROM     sender address (default rtlmp-forecaster@localhost)
#   RTLMP_SMTP_SMARTHOST       SMTP server as host:port (required with RTLMP_ALERT_EMAIL_TO)
#   RTLMP_SMTP_USERNAME, RTLMP_SMTP_PASSWORD   SMTP login (optional)
#   RTLMP_SMTP_REQUIRE_TLS     true (default) or false
#
# With neither the webhook nor an email recipient set, alerts are only listed in Alertmanager's UI
# (http://127.0.0.1:9093), and this script says so on stderr.
# POSIX sh: it runs in the busybox shell of the prom/alertmanager image.
set -eu

# A YAML single-quoted scalar: the value with each ' doubled.
quoted() {
  printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"
}

cat <<'YAML'
global:
  resolve_timeout: 5m
route:
  receiver: rtlmp
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: rtlmp
YAML

channels=0
if [ -n "${RTLMP_WEBHOOK_URL:-}" ]; then
  channels=$((channels + 1))
  cat <<YAML
    slack_configs:
      - api_url: $(quoted "$RTLMP_WEBHOOK_URL")
        send_resolved: true
YAML
  cat <<'YAML'
        title: '{{ .Status | toUpper }}: {{ .CommonLabels.alertname }} (RTLMP forecaster)'
        text: '{{ range .Alerts }}{{ .Annotations.summary }}{{ "\n" }}{{ end }}'
YAML
fi

if [ -n "${RTLMP_ALERT_EMAIL_TO:-}" ]; then
  if [ -z "${RTLMP_SMTP_SMARTHOST:-}" ]; then
    echo "render-config.sh: RTLMP_ALERT_EMAIL_TO is set but RTLMP_SMTP_SMARTHOST (host:port) is not" >&2
    exit 2
  fi
  channels=$((channels + 1))
  cat <<YAML
    email_configs:
      - to: $(quoted "$RTLMP_ALERT_EMAIL_TO")
        from: $(quoted "${RTLMP_ALERT_EMAIL_FROM:-rtlmp-forecaster@localhost}")
        smarthost: $(quoted "$RTLMP_SMTP_SMARTHOST")
        require_tls: ${RTLMP_SMTP_REQUIRE_TLS:-true}
        send_resolved: true
YAML
  if [ -n "${RTLMP_SMTP_USERNAME:-}" ]; then
    printf '        auth_username: %s\n' "$(quoted "$RTLMP_SMTP_USERNAME")"
    printf '        auth_password: %s\n' "$(quoted "${RTLMP_SMTP_PASSWORD:-}")"
  fi
fi

if [ "$channels" -eq 0 ]; then
  echo "render-config.sh: neither RTLMP_WEBHOOK_URL nor RTLMP_ALERT_EMAIL_TO is set: alerts are shown in Alertmanager's UI only" >&2
fi
