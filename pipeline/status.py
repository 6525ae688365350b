"""``python -m pipeline.status [--now ISO]``: rewrite the status page ``<data_root>/status/index.html``."""

from __future__ import annotations

import argparse
import sys

from pipeline.cli import instant


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.status",
                                     description="rewrite the status page <data_root>/status/index.html")
    parser.add_argument("--now", type=instant, help="as of this time (ISO; default: now)")
    args = parser.parse_args(argv)
    from pipeline import clock as clocks
    from pipeline.config import ConfigError, load_config
    from pipeline.ops.status import write

    try:
        config = load_config()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    print(write(config, args.now or clocks.utc_now()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
