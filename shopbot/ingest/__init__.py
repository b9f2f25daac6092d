"""Catalog files in, searchable chunks out. See :mod:`shopbot.ingest.pipeline`."""

from shopbot.ingest.errors import IngestError
from shopbot.ingest.files import supported_suffixes
from shopbot.ingest.pipeline import IngestResult, Ingestor, expand_paths

__all__ = ["IngestError", "IngestResult", "Ingestor", "expand_paths", "supported_suffixes"]
