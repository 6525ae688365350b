"""``python -m pipeline.show_config``: validate the effective configuration and print it as YAML.

Exit code 2 when it is invalid, with a message naming the key and the file. A module of its own
(not ``pipeline.config``) so that ``--help`` answers without loading the configuration.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.show_config", description=__doc__.split("\n\n")[0].split(": ", 1)[1],
        epilog="The configuration is config/pipeline.yaml, with RTLMP_CONFIG (a partial YAML file merged over "
               "it) and RTLMP_DATA_ROOT applied.")
    parser.parse_args(argv)
    import yaml

    from pipeline.config import ConfigError, load_config

    try:
        config = load_config()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    print(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
