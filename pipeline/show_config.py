"""``python -m pipeline.show_config``: validate the effective configuration and print it as YAML.

Exit code 2 when it is invalid, with a message naming the key and the file. A module of its own
(not ``pipeline.config``) because importing the package already imports ``pipeline.config``.
"""

from __future__ import annotations

import sys

import yaml

from pipeline.config import ConfigError, load_config


def main() -> int:
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    print(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
