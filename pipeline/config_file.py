"""Configuration files: each a YAML mapping of keys without anchors or aliases, merged in layers.

YAML aliases let a few lines stand for an exponentially large document: nine levels of nine
aliases each (the "billion laughs") expand to 9**9 values, and merging and validating them runs
for minutes while the scheduler waits. A configuration file never needs them (a partial
``RTLMP_CONFIG`` override repeats nothing), so an anchor (``&name``) or an alias (``*name``,
``<<: *name``) is refused where it stands, before anything is built from the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml


class ConfigFileError(ValueError):
    """A configuration file that cannot be read or is not a YAML mapping; the message names the file."""


class _AliasRefused(yaml.YAMLError):
    """An anchor or alias where the loader stopped (the message says where)."""


class _NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader that stops at the first anchor or alias, before any expansion."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:  # type: ignore[override]
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            mark = event.start_mark
            raise _AliasRefused(f"line {mark.line + 1}: YAML anchors and aliases (&{event.anchor} / "
                                 f"*{event.anchor}) are not allowed in configuration files; write the values out")
        return super().compose_node(parent, index)  # type: ignore[no-any-return]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def read_mapping(path: Path) -> dict[str, Any]:
    """The mapping of keys in ``path`` (empty for an empty file); :class:`ConfigFileError` naming the file."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read configuration file ({exc.strerror})") from exc
    try:
        data = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except _AliasRefused as exc:
        raise ConfigFileError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigFileError(f"{path}: not valid YAML: {_one_line(str(exc))}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigFileError(f"{path}: the top level must be a mapping of keys, not {type(data).__name__}")
    return data


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` merged over ``base``: mappings merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def origin_of(key_path: tuple[str, ...], layers: list[tuple[Path, dict[str, Any]]]) -> Path:
    """The last file of ``layers`` that sets ``key_path`` (or its nearest parent), for error messages."""
    for path, data in reversed(layers):
        node: Any = data
        for part in key_path:
            if isinstance(node, dict) and part in node:
                node = node[part]
            else:
                break
        else:
            return path
    return layers[-1][0]
