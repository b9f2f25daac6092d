"""What kind of file this is, and whether it is fit to parse at all."""

from __future__ import annotations

import hashlib
import re
import zipfile
from io import BytesIO
from pathlib import PurePath

from shopbot.ingest.errors import IngestError

KIND_BY_SUFFIX = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
}
TABLE_KINDS = {"csv", "tsv", "xlsx", "json", "jsonl"}
TEXT_KINDS = {"csv", "tsv", "json", "jsonl", "html", "md", "txt"}
_OLD_FORMATS = {
    ".xls": "save it as .xlsx",
    ".doc": "save it as .docx",
    ".rtf": "save it as .docx",
    ".odt": "save it as .docx",
    ".ods": "save it as .xlsx",
    ".numbers": "export it as .xlsx or .csv",
    ".pages": "export it as .docx or .pdf",
}
_ZIP_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}


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


def check_content(kind: str, data: bytes) -> None:
    """Catch files whose content does not match their extension before a parser chokes."""
    if kind in TEXT_KINDS and not data.strip():
        raise IngestError("The file is empty (only blank space). Export it again and re-upload.")
    if kind == "pdf" and b"%PDF-" not in data[:1024]:
        raise IngestError(
            "This is not a PDF: the content does not start with a PDF header. It may be "
            "another kind of file renamed to .pdf; export or print it to PDF again."
        )
    if kind in _ZIP_PARTS:
        label = kind.upper()
        try:
            with zipfile.ZipFile(BytesIO(data)) as archive:
                names = set(archive.namelist())
                damaged = archive.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise IngestError(
                f"This {label} file is damaged or not a real {label} ({exc}). Open it in "
                f"Word/Excel or LibreOffice and save it again as .{kind}."
            ) from exc
        if damaged is not None or _ZIP_PARTS[kind] not in names:
            raise IngestError(
                f"This {label} file is damaged or not a real {label} (missing "
                f"{damaged or _ZIP_PARTS[kind]}). Open it and save it again as .{kind}."
            )


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def document_id(source: str) -> str:
    """Stable id for a source name: readable slug plus a short hash to keep it unique."""
    slug = re.sub(r"[^a-z0-9]+", "-", source.lower()).strip("-")[:40] or "document"
    return f"{slug}-{hashlib.sha1(source.encode('utf-8')).hexdigest()[:8]}"
