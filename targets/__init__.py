"""The one owner of paths and file formats: schemas, atomic file targets and the data-root layout."""

from targets.artifact import ArtifactError, ModelArtifactTarget
from targets.files import CsvTarget, JsonTarget, ParquetTarget, TextTarget
from targets.layout import Layout, Tags
from targets.schema import Schema, SchemaError

__all__ = [
    "ArtifactError",
    "CsvTarget",
    "JsonTarget",
    "Layout",
    "ModelArtifactTarget",
    "ParquetTarget",
    "Schema",
    "SchemaError",
    "Tags",
    "TextTarget",
]
