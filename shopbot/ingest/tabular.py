"""Product tables: CSV/TSV exports, XLSX price lists and JSON/JSONL feeds -> ProductRecords.

unstructured turns a whole sheet into one Table element; a store export needs one record per
row, so tables are read row by row here (stdlib csv, openpyxl, json) and every row becomes a
ProductRecord.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from shopbot.ingest.errors import IngestError
from shopbot.ingest.fields import (
    ProductRecord,
    clean_cell,
    is_product_table,
    map_headers,
    record_from_row,
)

# A price list may open with a title, a date and blank lines before its header row.
HEADER_SEARCH_ROWS = 20


@dataclass
class Table:
    name: str
    rows: list[list[Any]]


def decode_text(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise IngestError(
            "This looks like a binary file, not text. Export it again as a plain-text file "
            "(CSV, Markdown, TXT, HTML or JSON)."
        )
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def read_csv(data: bytes, delimiter: str | None = None) -> list[Table]:
    text = decode_text(data)
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:16384], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return [Table("", rows)]


def read_xlsx(data: bytes) -> list[Table]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise IngestError(
            f"The spreadsheet cannot be opened ({exc}). The file is damaged or not a real "
            ".xlsx workbook: open it in Excel or LibreOffice and save it again as .xlsx."
        ) from exc
    try:
        return [
            Table(sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)])
            for sheet in book.worksheets
        ]
    finally:
        book.close()


def read_json(data: bytes, lines: bool) -> list[Table]:
    text = decode_text(data)
    try:
        if lines:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(
            f"The JSON is not valid (line {exc.lineno}, column {exc.colno}: {exc.msg}). "
            "Fix it or export the feed again."
        ) from exc
    if isinstance(items, dict):
        # {"products": [...]} or {"items": [...]}: the first list of objects inside.
        items = next((v for v in items.values() if isinstance(v, list)), [items])
    objects = [item for item in items if isinstance(item, dict)]
    if not objects:
        raise IngestError(
            "The JSON holds no product objects. Expected a list of objects (or one object "
            "per line for .jsonl), each with fields like sku, title and price."
        )
    headers: list[str] = []
    for obj in objects:
        headers.extend(key for key in obj if key not in headers)
    rows = [[obj.get(key) for key in headers] for obj in objects]
    return [Table("", [headers, *rows])]


def _find_header(rows: list[list[Any]]) -> tuple[int, dict[str, int]] | None:
    best: tuple[int, dict[str, int]] | None = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        mapping = map_headers(row)
        if is_product_table(mapping) and (best is None or len(mapping) > len(best[1])):
            best = (index, mapping)
    return best


def products_from_tables(
    tables: list[Table], default_currency: str, doc_id: str
) -> Iterator[tuple[ProductRecord, str]]:
    """Yield (record, location) for every product row; raise when there is none."""
    found_table = False
    first_headers: list[str] = []
    for table in tables:
        rows = [row for row in table.rows if any(clean_cell(v) for v in row)]
        if not rows:
            continue
        first_headers = first_headers or [clean_cell(v) for v in rows[0] if clean_cell(v)]
        header = _find_header(rows)
        if header is None:
            continue
        found_table = True
        header_index, mapping = header
        headers = [clean_cell(v) for v in rows[header_index]]
        for offset, row in enumerate(rows[header_index + 1 :], start=1):
            location = f"{table.name} row {header_index + offset + 1}".strip()
            record = record_from_row(
                headers, row, mapping, default_currency, f"{doc_id}-{location.replace(' ', '-')}"
            )
            if record is not None:
                yield record, location
    if not found_table:
        shown = ", ".join(first_headers[:12]) or "none"
        raise IngestError(
            "No product columns recognised. A product table needs a header row naming at "
            "least a product name (Title, Name, Product Name) or SKU, plus another field such "
            f"as Price, Brand or Category. Headers found: {shown}."
        )
