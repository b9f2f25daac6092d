"""Product tables: CSV/TSV exports, XLSX price lists and JSON/JSONL feeds -> products.

unstructured turns a whole sheet into one Table element; a store export needs one record per
product, so tables are read row by row here (stdlib csv, openpyxl, json). A shop platform's
export (Shopify, WooCommerce, Magento, PrestaShop, Google Merchant: recognised by its header
row, :mod:`shopbot.ingest.platforms`) is read by that platform's importer into products with
their variants; any other table maps its columns generically, one product per row.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from shopbot.ingest.errors import IngestError
from shopbot.ingest.fields import (
    clean_cell,
    is_product_table,
    map_headers,
    record_from_row,
)

if TYPE_CHECKING:
    from types import ModuleType

    from shopbot.ingest.limits import Limits
    from shopbot.products import Product

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


def _csv_rows(data: bytes, delimiter: str | None = None) -> Iterator[list[str]]:
    """The rows of a CSV/TSV file, one at a time (the delimiter sniffed when not given)."""
    text = decode_text(data)
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:16384], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def read_csv(data: bytes, delimiter: str | None = None) -> list[Table]:
    return [Table("", list(_csv_rows(data, delimiter)))]


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


def _json_objects(data: bytes, lines: bool) -> list[dict[str, Any]]:
    """The product objects of a JSON feed (a list, or the first list inside an object) or of
    a JSONL file (one object per line)."""
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
    if not isinstance(items, list):
        items = [items]
    objects = [item for item in items if isinstance(item, dict)]
    if not objects:
        raise IngestError(
            "The JSON holds no product objects. Expected a list of objects (or one object "
            "per line for .jsonl), each with fields like sku, title and price."
        )
    return objects


def _json_headers(objects: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for obj in objects:
        seen.update(dict.fromkeys(obj))
    return list(seen)


def read_json(data: bytes, lines: bool) -> list[Table]:
    objects = _json_objects(data, lines)
    headers = _json_headers(objects)
    rows = [[obj.get(key) for key in headers] for obj in objects]
    return [Table("", [headers, *rows])]


_FEED_ITEM = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s>/]")


def read_xml(data: bytes) -> list[Table]:
    """A Google Merchant Center feed (RSS 2.0 ``<item>`` or Atom ``<entry>`` with ``g:``
    fields) as one table: a column per field, a row per item. DTDs and entity definitions
    are refused (defusedxml), so no feed can expand itself or read local files."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException

    from shopbot.ingest.platforms.merchant import rows_from_xml

    try:
        rows = rows_from_xml(data)
    except DefusedXmlException as exc:
        raise IngestError(
            "This XML file declares a DTD or entities, which a product feed never needs "
            f"({type(exc).__name__}). Export the feed again from the shop."
        ) from exc
    except ParseError as exc:
        raise IngestError(
            f"The XML is not well-formed ({exc}). Export the feed again from the shop."
        ) from exc
    if not rows:
        raise IngestError(
            "The XML holds no product items. Expected a Google Merchant Center feed: RSS "
            "<item> or Atom <entry> elements with g:id, g:title and g:price."
        )
    headers = list(dict.fromkeys(key for row in rows for key in row))
    return [Table("", [headers, *[[row.get(h, "") for h in headers] for row in rows]])]


def check_table_size(kind: str, data: bytes, limits: Limits) -> None:
    """Rows and cells of a CSV/TSV/JSON/JSONL file against ``limits`` (XLSX is counted
    while its zip is scanned, see :mod:`shopbot.ingest.limits`). A CSV is counted row by
    row and the count stops past the limit; a JSON feed is parsed, counted and dropped (a
    JSON row is an object; its cells, objects x distinct keys, are what the reader builds)."""
    from shopbot.ingest.limits import NON_BLANK_LINE, over_limit

    label = {"csv": "CSV", "tsv": "TSV", "json": "JSON", "jsonl": "JSONL", "xml": "XML"}[kind]
    limit = limits.max_rows
    row_advice = f"Split it into files of at most {limit:,} rows"
    if kind == "xml":  # items are counted before the feed is parsed
        from shopbot.ingest.limits import over_limit

        items = sum(1 for _ in islice(_FEED_ITEM.finditer(data), limit + 1))
        if items > limit:
            raise over_limit(
                f"This XML feed has more than {limit:,} items", f"{limit:,}-row", "max_rows",
                row_advice,
            )
        return
    if kind in ("csv", "tsv"):
        rows = cells = 0
        try:
            for row in _csv_rows(data, "\t" if kind == "tsv" else None):
                rows += 1
                cells += len(row)
                if rows > limit:
                    lines = data.count(b"\n") + (not data.endswith(b"\n"))
                    raise over_limit(
                        f"This {label} file has more than {limit:,} rows (about {lines:,} "
                        "lines)",
                        f"{limit:,}-row",
                        "max_rows",
                        row_advice,
                    )
        except csv.Error as exc:
            raise IngestError(
                f"The {label} file cannot be read as a table (row {rows + 1:,}: {exc}). "
                "Export it again as plain CSV."
            ) from exc
        columns = "cells"
    else:
        if kind == "jsonl":  # count its lines before parsing them
            lines = sum(1 for _ in islice(NON_BLANK_LINE.finditer(data), limit + 1))
            if lines > limit:
                raise over_limit(
                    f"This {label} file has more than {limit:,} lines (one object each)",
                    f"{limit:,}-row",
                    "max_rows",
                    row_advice,
                )
        objects = _json_objects(data, lines=kind == "jsonl")
        rows = len(objects)
        if rows > limit:
            raise over_limit(
                f"This {label} file has {rows:,} product objects",
                f"{limit:,}-row",
                "max_rows",
                row_advice,
            )
        cells = rows * len(_json_headers(objects))
        columns = "cells (objects x distinct fields)"
    if cells > limits.max_cells:
        raise over_limit(
            f"This {label} file has {cells:,} {columns}",
            f"{limits.max_cells:,}-cell",
            "max_cells",
            "Drop columns the shop does not need, or split it into smaller files",
        )


def _find_header(rows: list[list[Any]]) -> tuple[int, dict[str, int]] | None:
    best: tuple[int, dict[str, int]] | None = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        mapping = map_headers(row)
        if is_product_table(mapping) and (best is None or len(mapping) > len(best[1])):
            best = (index, mapping)
    return best


def _find_platform(rows: list[list[Any]]) -> tuple[int, ModuleType] | None:
    """(header row index, importer) when a table is a shop platform's export."""
    from shopbot.ingest.platforms import importer_for

    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        headers = [clean_cell(v) for v in row]
        importer = importer_for([h for h in headers if h])
        if importer is not None:
            return index, importer
    return None


def _combinations_table(rows: list[list[Any]]) -> bool:
    from shopbot.ingest.platforms import prestashop

    return bool(rows) and prestashop.matches_combinations([clean_cell(v) for v in rows[0]])


def products_from_tables(
    tables: list[Table], default_currency: str, doc_id: str
) -> Iterator[tuple[Product, str]]:
    """Yield (product, location) for every product; raise when there is none."""
    from shopbot.ingest.platforms import prestashop
    from shopbot.ingest.platforms._shared import rows_as_dicts

    found_table = False
    first_headers: list[str] = []
    tables = [
        Table(t.name, [row for row in t.rows if any(clean_cell(v) for v in row)]) for t in tables
    ]
    combinations = [t for t in tables if _combinations_table(t.rows)]
    skip = {id(t) for t in combinations}
    for table in tables:
        rows = table.rows
        if not rows or id(table) in skip:
            continue
        first_headers = first_headers or [clean_cell(v) for v in rows[0] if clean_cell(v)]
        platform = _find_platform(rows)
        if platform is not None:
            found_table = True
            header_index, importer = platform
            products = importer.read(rows_as_dicts(rows[header_index:]), default_currency)
            if importer is prestashop:
                for other in combinations:  # a workbook with both sheets
                    prestashop.merge_combinations(
                        products, rows_as_dicts(other.rows), default_currency
                    )
            for product in products:
                yield product, f"{table.name} {importer.NAME} product {product.id}".strip()
            continue
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
                yield record.to_product(), location
    if combinations and not found_table:
        raise IngestError(
            "This is a PrestaShop combinations export (Product ID, Attribute, Value): it "
            "lists the sizes and colours of products but not the products themselves. Put it "
            "and the products export in one workbook as two sheets (products first) and "
            "upload that, so each combination joins its product."
        )
    if not found_table:
        shown = ", ".join(first_headers[:12]) or "none"
        raise IngestError(
            "No product columns recognised. A product table needs a header row naming at "
            "least a product name (Title, Name, Product Name) or SKU, plus another field such "
            f"as Price, Brand or Category. Headers found: {shown}."
        )
