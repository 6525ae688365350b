"""Model artifacts: a pickled model and its signed metadata, written once, visible only when complete.

An artifact is a folder ``models/<train date>/<tag>/`` holding ``model.pkl`` and ``metadata.json``.
The model file is written first and the metadata last: the metadata is the marker that makes the
artifact exist, so a half-written artifact is never read, on a local disk or in an object store.
Both are written once; a writer that finds an identical artifact already there (a concurrent run
trained the same model) counts that as success.

The metadata records the model file's SHA-256 and an HMAC-SHA256 over the file's digest and the
metadata itself, made with a key kept outside the data root (:mod:`targets.signing`). Loading
verifies the signature and the digest before unpickling, and always reads the artifact's own
``model.pkl``: a file replaced by whoever can write the data root is refused, never run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
from pathlib import Path
from typing import Any

import luigi

from targets import signing
from targets.stamp import STAMP_KEY, Stamp, why_not_current
from targets.store import Store, join, store_for

log = logging.getLogger("targets")

MODEL_FILE = "model.pkl"
METADATA_FILE = "metadata.json"
SIGNED_FIELDS_EXCLUDE = ("signature",)


class ArtifactError(RuntimeError):
    """An artifact is missing, incomplete or fails its integrity check."""


def _signed_message(record: dict[str, Any]) -> bytes:
    """What the signature covers: every metadata field but the signature (the model file through its digest)."""
    payload = {k: v for k, v in record.items() if k not in SIGNED_FIELDS_EXCLUDE}
    return json.dumps(payload, sort_keys=True, default=str, allow_nan=False).encode()


class ModelArtifactTarget(luigi.Target):
    def __init__(self, directory: Path | str) -> None:
        self.path = str(directory)
        self.store: Store = store_for(self.path)

    @property
    def model_path(self) -> str:
        return join(self.path, MODEL_FILE)

    @property
    def metadata_path(self) -> str:
        return join(self.path, METADATA_FILE)

    def exists(self) -> bool:
        """Complete: the metadata (written last) parses and the model file is there."""
        if not (self.store.exists(self.metadata_path) and self.store.exists(self.model_path)):
            return False
        try:
            return isinstance(json.loads(self.store.read_bytes(self.metadata_path)), dict)
        except ValueError:
            return False

    def stamp(self) -> Stamp | None:
        """What the artifact was trained from (settings and inputs), recorded in its metadata."""
        try:
            return Stamp.from_dict(self.metadata().get(STAMP_KEY))
        except ArtifactError:
            return None

    def current(self, expected: Stamp) -> bool:
        found = self.stamp() if self.exists() else None
        return found is not None and found.made_from == expected.made_from

    def set_aside(self, reason: str, why: str) -> None:
        """Move the artifact's files out of the way, the metadata (its marker) first."""
        for path in (self.metadata_path, self.model_path):
            if self.store.exists(path):
                self.store.set_aside(path, reason)
        log.warning("%s: %s; its files were set aside (.%s-*)", self.path, why, reason)

    def write(self, model: Any, metadata: dict[str, Any], stamp: Stamp | None = None) -> dict[str, Any]:
        """Write ``model`` and its signed ``metadata`` once; returns the metadata of the artifact on disk.

        An artifact already there with the same model file is success (a concurrent run trained the
        identical model); one with a different model is an :class:`ArtifactError`. With ``stamp``, an
        artifact there that was trained from other settings or inputs is set aside first (superseded).
        """
        blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        digest = hashlib.sha256(blob).hexdigest()
        if stamp is not None:
            metadata = {**metadata, STAMP_KEY: stamp.to_dict()}
        # As JSON will hold it (keys as strings, tuples as lists), so the signature verifies after reading.
        record = json.loads(json.dumps(dict(metadata, artifact_sha256=digest), default=str, allow_nan=False))
        record["signature"] = signing.sign(_signed_message(record), signing.signing_key())
        if self.exists() and stamp is not None:
            why = why_not_current(self.stamp(), stamp)
            if why is not None:
                self.set_aside("superseded", f"trained before {why}")
        if self.exists():
            return self._same_model(digest)
        if not self.store.put_once(self.model_path, blob):
            if hashlib.sha256(self.store.read_bytes(self.model_path)).hexdigest() != digest:
                # No metadata names it: the debris of a run that died before finishing. Replace it.
                self.store.put(self.model_path, blob)
        text = json.dumps(record, indent=2, sort_keys=True, default=str, allow_nan=False) + "\n"
        if not self.store.put_once(self.metadata_path, text.encode()):
            return self._same_model(digest)
        return record

    def _same_model(self, digest: str) -> dict[str, Any]:
        existing = self.metadata()
        if existing.get("artifact_sha256") != digest:
            raise ArtifactError(f"{self.path}: a different model was written here already "
                                f"({str(existing.get('artifact_sha256'))[:12]}... vs {digest[:12]}...)")
        return existing

    def metadata(self) -> dict[str, Any]:
        if not self.store.exists(self.metadata_path):
            raise ArtifactError(f"{self.metadata_path}: no metadata (artifact missing or incomplete)")
        try:
            return json.loads(self.store.read_bytes(self.metadata_path))
        except ValueError as exc:
            raise ArtifactError(f"{self.metadata_path}: not valid JSON ({exc})") from None

    def load(self) -> Any:
        """Unpickle the model after verifying its signature and its digest."""
        return pickle.loads(self.verify())  # noqa: S301 - signature and digest verified

    def verify(self) -> bytes:
        """The model file's bytes, once the metadata's signature and the file's digest verify."""
        record = self.metadata()
        if not signing.verifies(_signed_message(record), record.get("signature"), signing.signing_key()):
            raise ArtifactError(f"{self.path}: the signature of the artifact does not verify with this "
                                "machine's artifact key; refusing to load it")
        blob = self.store.read_bytes(self.model_path)
        digest = hashlib.sha256(blob).hexdigest()
        if digest != record.get("artifact_sha256"):
            raise ArtifactError(f"{self.model_path}: SHA-256 {digest[:12]}... does not match the signed metadata "
                                f"({str(record.get('artifact_sha256'))[:12]}...); refusing to load")
        return blob
