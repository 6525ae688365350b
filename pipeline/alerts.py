"""``python -m pipeline.alerts test``: send a test alert through every configured channel.

Every alert goes to the log and ``ops/alerts.jsonl``; email and the webhook only when the
configuration enables them (``alerts.email.enabled``, ``alerts.webhook.enabled``). The test names
each channel that is off, so "log: ok" alone is never mistaken for "alerts reach people".
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.config import AlertsConfig


def disabled_channels(config: AlertsConfig) -> dict[str, str]:
    """Channel -> how to turn it on, for every channel the configuration leaves off."""
    off = {}
    if not config.email.enabled:
        off["email"] = "disabled (set alerts.email.enabled: true, smtp_host and recipients in the configuration)"
    if not config.webhook.enabled:
        off["webhook"] = (f"disabled (set alerts.webhook.enabled: true and the URL in the environment variable "
                          f"{config.webhook.url_env})")
    return off


def main(argv: list[str] | None = None) -> int:
    """Send a test alert through every configured channel; exit 0 when each enabled one delivered it."""
    parser = argparse.ArgumentParser(prog="python -m pipeline.alerts", description=main.__doc__,
                                     epilog="Channels that are off are listed as disabled, with how to enable them.")
    parser.add_argument("command", choices=["test"], help="send a test alert")
    parser.parse_args(argv)
    from pipeline import clock, logs
    from pipeline.config import ConfigError, load_config
    from pipeline.ops.alerts import Alert, send
    from targets import Layout

    try:
        config = load_config()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    logs.setup(config.logging, secrets=logs.secret_variables(config))
    sent = send(Alert(kind="test", severity="info", title="test alert from the RTLMP forecaster",
                      detail="If you read this, alerts reach you.", at=clock.utc_now()),
                config.alerts, Layout(config.data_root).alert_log())
    for channel, outcome in sorted({**disabled_channels(config.alerts), **sent.deliveries}.items()):
        print(f"{channel}: {outcome}")
    return 0 if all(outcome == "ok" for outcome in sent.deliveries.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
