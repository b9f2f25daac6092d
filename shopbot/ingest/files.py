"""What kind of file this is, and whether it is fit to parse at all."""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePath
from typing import TYPE_CHECKING

from shopbot.ingest.errors import IngestError
from shopbot.ingest.limits import Limits, check_limits

if TYPE_CHECKING:
    from shopbot.settings import Settings

KIND_BY_SUFFIX = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xml": "xml",  # a Google Merchant Center feed (RSS 2.0 / Atom)
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
}
TABLE_KINDS = {"csv", "tsv", "xlsx", "json", "jsonl", "xml"}
TEXT_KINDS = {"csv", "tsv", "json", "jsonl", "xml", "html", "md", "txt"}
_OLD_FORMATS = {
    ".xls": "save it as .xlsx",
    ".doc": "save it as .docx",
    ".rtf": "save it as .docx",
    ".odt": "save it as .docx",
    ".ods": "save it as .xlsx",
    ".numbers": "export it as .xlsx or .csv",
    ".pages": "export it as .docx or .pdf",
}


def supported_suffixes() -> list[str]:
    return sorted(KIND_BY_SUFFIX)


def kind_of(name: str) -> str:
    suffix = PurePath(name).suffix.lower()
    if suffix in KIND_BY_SUFFIX:
        return KIND_BY_SUFFIX[suffix]
    hint = f" Open it and {_OLD_FORMATS[suffix]}." if suffix in _OLD_FORMATS else ""
    shown = suffix or "no extension"
    raise IngestError(
        f"Unsupported file type ({shown}).{hint} Supported: {', '.join(supported_suffixes())}."
    )


def check_size(size: int, max_bytes: int) -> None:
    if size == 0:
        raise IngestError("The file is empty (0 bytes). Export or save it again and re-upload.")
    if size > max_bytes:
        raise IngestError(
            f"The file is {_human_size(size)}, over the {_human_size(max_bytes)} limit. "
            "Split it into smaller files, or raise SHOPBOT_MAX_FILE_MB."
        )


def _human_size(size: int) -> str:
    if size >= 1048576:
        return f"{size / 1048576:.1f} MB"
    return f"{size / 1024:.1f} KB"


def check_content(kind: str, data: bytes, settings: Settings | None = None) -> None:
    """Catch files whose content does not match their extension before a parser chokes, and
    files that would cost more work than the limits in ``settings`` allow (the defaults when
    none are given; see :mod:`shopbot.ingest.limits`)."""
    if kind in TEXT_KINDS and not data.strip():
        raise IngestError("The file is empty (only blank space). Export it again and re-upload.")
    if kind == "pdf" and b"%PDF-" not in data[:1024]:
        raise IngestError(
            "This is not a PDF: the content does not start with a PDF header. It may be "
            "another kind of file renamed to .pdf; export or print it to PDF again."
        )
    check_limits(kind, data, Limits.from_settings(settings))


# A kept copy is written as "<name>.partial" and then renamed (Ingestor._keep_original), and
# a file name may be at most 255 bytes on Linux and macOS file systems: the name must leave
# room for that suffix.
MAX_NAME_BYTES = 255 - len(".partial")


def check_name(source: str) -> None:
    """Refuse a name that cannot be kept as a file name, before anything is stored: a copy
    of every ingested file is kept under its own name (for re-indexing and restoring)."""
    name = PurePath(source).name
    if not name or name in (".", "..") or "\x00" in source:
        raise IngestError(
            "The file has no usable name. Give it a name such as products.csv and upload it "
            "again."
        )
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise IngestError(
            "The file name contains characters that are not valid text (UTF-8). Rename the "
            "file and upload it again."
        ) from exc
    if size > MAX_NAME_BYTES:
        raise IngestError(
            f"The file name is {size:,} bytes long (in UTF-8), over the {MAX_NAME_BYTES}-byte "
            "limit for a file name that can be stored. Rename the file to a shorter name (at "
            f"most {MAX_NAME_BYTES} bytes: {MAX_NAME_BYTES} plain Latin letters or digits, "
            "about half as many accented letters, a third as many Chinese or Japanese "
            "characters) and upload it again."
        )


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def document_id(source: str) -> str:
    """Stable id for a source name: readable slug plus a short hash to keep it unique."""
    slug = re.sub(r"[^a-z0-9]+", "-", source.lower()).strip("-")[:40] or "document"
    # surrogatepass: a name that is not valid text still gets an id (check_name refuses it).
    digest = hashlib.sha1(source.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{slug}-{digest}"
