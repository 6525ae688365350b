#!/usr/bin/env bash
# Check the monitoring configuration with the tools of Prometheus and Alertmanager (.ci/run runs it):
#   promtool check config   prometheus/prometheus.yml (with its rule file)
#   promtool check rules    prometheus/alerts.yml
#   promtool test rules     prometheus/alerts_test.yml (the rules fire when they should, and only then)
#   amtool check-config     the Alertmanager configuration render-config.sh writes, with no channel,
#                           with the webhook, and with webhook and email
# Debian/Ubuntu: apt-get install prometheus prometheus-alertmanager. A missing tool is skipped with a
# message; any failed check exits non-zero.
set -euo pipefail
cd "$(dirname "$0")"
status=0
if command -v promtool >/dev/null; then
  promtool check config prometheus/prometheus.yml || status=1
  promtool check rules prometheus/alerts.yml || status=1
  promtool test rules prometheus/alerts_test.yml || status=1
else
  echo "check.sh: promtool not found; Prometheus config and rules not checked" >&2
fi
if command -v amtool >/dev/null; then
  rendered="$(mktemp -d)"
  trap 'rm -rf "$rendered"' EXIT
  env -i PATH="$PATH" sh alertmanager/render-config.sh >"$rendered/none.yml" 2>/dev/null || status=1
  env -i PATH="$PATH" RTLMP_WEBHOOK_URL=https://hooks.example.invalid/services/T/B/C \
    sh alertmanager/render-config.sh >"$rendered/webhook.yml" || status=1
  env -i PATH="$PATH" RTLMP_WEBHOOK_URL=https://hooks.example.invalid/services/T/B/C \
    RTLMP_ALERT_EMAIL_TO=ops@example.invalid RTLMP_SMTP_SMARTHOST=smtp.example.invalid:587 \
    RTLMP_SMTP_USERNAME=rtlmp RTLMP_SMTP_PASSWORD=not-a-secret \
    sh alertmanager/render-config.sh >"$rendered/all.yml" || status=1
  for config in none webhook all; do
    amtool check-config "$rendered/$config.yml" || status=1
  done
else
  echo "check.sh: amtool not found; Alertmanager config not checked" >&2
fi
exit "$status"
