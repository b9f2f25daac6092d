"""Catalog files in, searchable chunks out. See :mod:`shopbot.ingest.pipeline`."""

from shopbot.ingest.errors import IngestError
from shopbot.ingest.files import supported_suffixes
from shopbot.ingest.pipeline import DeleteResult, IngestResult, Ingestor, expand_paths

__all__ = [
    "DeleteResult",
    "IngestError",
    "IngestResult",
    "Ingestor",
    "expand_paths",
    "supported_suffixes",
]
