"""``python -m pipeline.alerts test``: send a test alert through every configured channel."""

from __future__ import annotations

import argparse
import sys

from pipeline import clock, logs
from pipeline.config import ConfigError, load_config
from pipeline.ops.alerts import Alert, send
from targets import Layout


def main(argv: list[str] | None = None) -> int:
    """Send a test alert through every configured channel; exit 0 when each delivered it."""
    parser = argparse.ArgumentParser(prog="python -m pipeline.alerts", description=main.__doc__)
    parser.add_argument("command", choices=["test"])
    parser.parse_args(argv)
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    logs.setup(config.logging, secrets=logs.secret_variables(config))
    sent = send(Alert(kind="test", severity="info", title="test alert from the RTLMP forecaster",
                      detail="If you read this, alerts reach you.", at=clock.utc_now()),
                config.alerts, Layout(config.data_root).alert_log())
    for channel, outcome in sorted(sent.deliveries.items()):
        print(f"{channel}: {outcome}")
    return 0 if all(outcome == "ok" for outcome in sent.deliveries.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
