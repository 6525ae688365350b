"""Model artifacts: an immutable directory holding the pickled model and its metadata.

The directory is assembled under a temporary name and renamed into place in one step, so it either
exists complete or not at all. The metadata records the SHA-256 of the model file; loading refuses
a file whose hash differs, so a tampered or truncated artifact is never unpickled.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import Any

import luigi

MODEL_FILE = "model.pkl"
METADATA_FILE = "metadata.json"


class ArtifactError(RuntimeError):
    """An artifact is missing, incomplete or fails its integrity check."""


class ModelArtifactTarget(luigi.Target):
    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.path = str(self.directory)

    def exists(self) -> bool:
        return (self.directory / METADATA_FILE).is_file() and (self.directory / MODEL_FILE).is_file()

    def write(self, model: Any, metadata: dict[str, Any]) -> dict[str, Any]:
        """Write ``model`` and ``metadata`` (plus the model's hash) atomically; returns the metadata."""
        if self.directory.exists():
            raise ArtifactError(f"{self.directory}: artifact already exists and is immutable")
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        record = dict(metadata, artifact_sha256=hashlib.sha256(blob).hexdigest(), artifact_file=MODEL_FILE)
        staging = Path(tempfile.mkdtemp(prefix=f".{self.directory.name}-tmp-", dir=self.directory.parent))
        try:
            (staging / MODEL_FILE).write_bytes(blob)
            text = json.dumps(record, indent=2, sort_keys=True, default=str, allow_nan=False)
            (staging / METADATA_FILE).write_text(text + "\n")
            os.rename(staging, self.directory)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return record

    def metadata(self) -> dict[str, Any]:
        path = self.directory / METADATA_FILE
        if not path.is_file():
            raise ArtifactError(f"{path}: no metadata (artifact missing or incomplete)")
        return json.loads(path.read_text())

    def load(self) -> Any:
        """Unpickle the model after checking its hash against the metadata."""
        record = self.metadata()
        blob_path = self.directory / record.get("artifact_file", MODEL_FILE)
        blob = blob_path.read_bytes()
        digest = hashlib.sha256(blob).hexdigest()
        if digest != record.get("artifact_sha256"):
            raise ArtifactError(
                f"{blob_path}: SHA-256 {digest[:12]}... does not match the metadata "
                f"({str(record.get('artifact_sha256'))[:12]}...); refusing to load"
            )
        return pickle.loads(blob)  # noqa: S301 - integrity verified against the recorded hash above
