"""What a file was made from, recorded in the file itself: the settings and the inputs behind it.

Every file the pipeline derives carries a :class:`Stamp`:

* ``settings`` -- a fingerprint of the settings that shaped the file;
* ``inputs`` -- the identity of what it was made from: for a raw file, its source (the fingerprint
  of the downloaded file or document it was read from); for a derived file, the identities
  (:attr:`Stamp.made_from`) of the files it read;
* ``notes`` -- what people and later stages need to know about it (values set aside as
  implausible, input datasets that were missing, which model served), never part of its identity.

A file is current when its stamp's ``made_from`` equals the one the settings and inputs in force
give now (computed by the task that makes it, without reading the inputs). A changed setting or a
changed source file therefore changes the identity of everything made from it, and each such file
is remade on its next run instead of being silently kept. This is gokart's idea of hashing the
significant parameters and every upstream identity into an output's identity, extended with the
fingerprints of the source files at the leaves.

Where the stamp lives: in a Parquet file's key-value metadata (read from the footer, no data
read), in a JSON record under :data:`STAMP_KEY`, in a model artifact's metadata.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

#: Key of the stamp in Parquet key-value metadata and in JSON records.
STAMP_KEY = "rtlmp_stamp"
PARQUET_KEY = STAMP_KEY.encode()
DIGEST_LENGTH = 20


def digest(*parts: object) -> str:
    """A short, stable hash of ``parts`` (strings, numbers, dates, nested lists and mappings)."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_LENGTH]


def combined(identities: Iterable[str]) -> str:
    """The identity of an ordered collection of inputs."""
    hasher = hashlib.sha256()
    for identity in identities:
        hasher.update(identity.encode())
        hasher.update(b"\n")
    return hasher.hexdigest()[:DIGEST_LENGTH]


@dataclass(frozen=True)
class Stamp:
    settings: str
    inputs: str
    notes: Mapping[str, Any] = field(default_factory=dict)

    def with_notes(self, **notes: Any) -> Stamp:
        """The same identity with these notes added (what was found while making the file)."""
        return Stamp(self.settings, self.inputs, {**self.notes, **notes})

    @cached_property
    def made_from(self) -> str:
        """The file's identity: what later stages record as their input (worked out once per stamp: a
        year's completeness checks ask the same stamps for it tens of thousands of times)."""
        return digest(self.settings, self.inputs)

    def to_dict(self) -> dict[str, Any]:
        return {"settings": self.settings, "inputs": self.inputs, "made_from": self.made_from,
                "notes": dict(self.notes)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, default=str, allow_nan=False)

    @classmethod
    def from_dict(cls, payload: object) -> Stamp | None:
        """The stamp in ``payload``, or None when it is not a well-formed stamp (an unstamped file)."""
        if not isinstance(payload, Mapping):
            return None
        settings, inputs, notes = payload.get("settings"), payload.get("inputs"), payload.get("notes", {})
        if not isinstance(settings, str) or not isinstance(inputs, str) or not isinstance(notes, Mapping):
            return None
        return cls(settings, inputs, dict(notes))

    @classmethod
    def from_json(cls, text: bytes | str | None) -> Stamp | None:
        if not text:
            return None
        try:
            return cls.from_dict(json.loads(text))
        except ValueError:
            return None


def why_not_current(found: Stamp | None, expected: Stamp) -> str | None:
    """None when ``found`` is current for ``expected``; else why not, in a few words for a log line."""
    if found is None:
        return "it carries no stamp (made by an older version)"
    if found.made_from == expected.made_from:
        return None
    if found.settings != expected.settings:
        changed = changed_settings(found.notes.get("settings"), expected.notes.get("settings"))
        return "the settings changed" + (f" ({changed})" if changed else "")
    return "its inputs changed"


def changed_settings(before: object, now: object, limit: int = 4) -> str:
    """``key: old -> new`` for the settings that differ between two flat summaries (empty if unknown)."""
    if not isinstance(before, Mapping) or not isinstance(now, Mapping):
        return ""
    keys = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
    parts = [f"{k}: {before.get(k)!r} -> {now.get(k)!r}" for k in keys[:limit]]
    if len(keys) > limit:
        parts.append(f"and {len(keys) - limit} more")
    return "; ".join(parts)
