"""The one owner of paths and file formats: schemas, atomic file targets and the data-root layout."""

from targets.artifact import ArtifactError, ModelArtifactTarget
from targets.files import JsonTarget, ParquetTarget, TextTarget
from targets.forecast_files import ForecastShape, ForecastTarget
from targets.layout import Layout, Tags
from targets.schema import Schema, SchemaError
from targets.stamp import Stamp

__all__ = [
    "ArtifactError",
    "ForecastShape",
    "ForecastTarget",
    "JsonTarget",
    "Layout",
    "ModelArtifactTarget",
    "ParquetTarget",
    "Schema",
    "SchemaError",
    "Stamp",
    "Tags",
    "TextTarget",
]
