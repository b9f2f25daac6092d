"""Product comparisons built from the catalog records, not from generated text.

``compared_names("compare the Alpine 2 and the Summit Expedition 4")`` -> the two name phrases;
``resolve_products(store, names)`` -> the stored product record each phrase names (by the SKU
of the product or of one of its variants, or by title: shopbot.product_names);
``Comparison.from_records(records)`` -> a table whose columns are the products and whose rows
(price, brand, category, stock, a row per option kind, weight, then the attributes the records
share) hold the records' own values, read through the typed product (shopbot.products) as
they are now. ``comparison_for_question(store, question)`` does all three for the chat.
Hidden products (drafts, archived, unpublished) are never resolved nor shown.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from shopbot.constraints import tokens
from shopbot.product_names import NamedProduct, TitleIndex
from shopbot.products import Product
from shopbot.vocabulary import format_price_range, option_kind, unit_of

Record = tuple[str, str, dict[str, Any]]  # (chunk id, text, metadata), as the store returns them

MAX_PRODUCTS = 4
MAX_ATTRIBUTES = 12
MISSING_VALUE = "—"

# --------------------------------------------------------------------------- recognition

_ARTICLE = re.compile(r"^(?:the|a|an|my|your|this|that|these|those|our)\s+", re.I)
_LEAD = (
    r"(?:(?:hi|hey|hello|ok|okay|so|and|also|now|please|pls)[,!.]?\s+)*"
    r"(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?|please\s+|"
    r"i(?:\s+want|\s+would\s+like|'d\s+like|\s+need)\s+to\s+|help\s+me\s+|let'?s\s+)?"
)
_END = r"\s*[?.!]*\s*$"
# "compare X and Y", "compare X with Y", "compare X, Y and Z"
_COMPARE = re.compile(rf"^\s*{_LEAD}compare\s+(?P<body>.+?){_END}", re.I)
# "how does X compare to Y", "X compared with Y"
_HOW_COMPARE = re.compile(
    rf"^\s*{_LEAD}how\s+(?:does|do|would)\s+(?P<a>.+?)\s+compare\s+(?:to|with|against)\s+"
    rf"(?P<b>.+?){_END}",
    re.I,
)
_COMPARED = re.compile(
    rf"^\s*(?P<a>.+?)\s+compared\s+(?:to|with|against)\s+(?P<b>.+?){_END}", re.I
)
# "X vs Y", "X versus Y vs Z"
_VERSUS = re.compile(r"\s+(?:vs\.?|versus)\s+", re.I)
# "(what's) the difference between X and Y"
_DIFFERENCE = re.compile(
    rf"^\s*{_LEAD}(?:what(?:'s|’s|\s+is|\s+are)\s+|tell\s+me\s+|explain\s+)?(?:the\s+)?"
    r"(?:main\s+|key\s+|real\s+|big\s+)?differences?\s+between\s+(?P<body>.+?)" + _END,
    re.I,
)
# "which is lighter, X or Y?", "which one should I buy: X or Y"
_WHICH_FIRST = re.compile(
    rf"^\s*{_LEAD}(?:which|what)(?:\s+one|\s+of\s+(?:these|the\s+two|them|the\s+following))?"
    r"\s+(?:is|'s|’s|would\s+be|would\s+you|do\s+you|should\s+i)\b[^,:;]{0,60}?[,:;]\s*"
    r"(?P<body>.+?\s+or\s+.+?)" + _END,
    re.I,
)
# "X or Y: which is better?", "X or Y, which one should I get?"
_WHICH_LAST = re.compile(
    r"^\s*(?P<body>.+?\s+or\s+.+?)\s*(?:[,:;?]|\s[-–—])\s*(?:which|what)\b.*$", re.I
)
# "should I get X or Y?"
_SHOULD = re.compile(
    rf"^\s*{_LEAD}(?:should\s+i\s+(?:get|buy|choose|pick|take|go\s+(?:for|with))|"
    r"is\s+it\s+better\s+to\s+(?:get|buy|take))\s+(?P<body>.+?\s+or\s+.+?)" + _END,
    re.I,
)
# "is the Alpine 2 lighter than the Alpine 3?"
_THAN = re.compile(
    r"^\s*(?:is|are)\s+(?P<a>.+?)\s+(?:\w+er|better|worse|more\s+\w+|less\s+\w+)\s+than\s+"
    r"(?P<b>.+?)" + _END,
    re.I,
)
_LIST_SPLIT = re.compile(
    r"\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|&|with|to|vs\.?|versus|against|or)\s+", re.I
)
_OR_SPLIT = re.compile(r"\s*,\s*(?:or\s+)?|\s+or\s+", re.I)
_AND_SPLIT = re.compile(r"\s*,\s*(?:and\s+)?|\s+(?:and|&)\s+", re.I)
# "... for weight", "... in terms of warmth", "...: which is better?"
_TRAILING = re.compile(
    r"(?:\s*(?:[,:;]|\s[-–—])\s*(?:which|what|how)\b.*|"
    r"\s+(?:in\s+terms\s+of|when\s+it\s+comes\s+to|for|on|by|regarding)\s+[a-z][a-z ,&'-]{1,40})$"
)
_LEADING = re.compile(
    r"^(?:what\s+about|thoughts\s+on|opinions?\s+on|tell\s+me\s+about|which\s+is\s+better[:,]?|"
    r"which\s+should\s+i\s+(?:get|buy)[:,]?|compare|between)\s+",
    re.I,
)


def _clean_phrase(phrase: str) -> str:
    phrase = phrase.strip(" \t\"'“”‘’`.,;:!?()[]")
    phrase = _ARTICLE.sub("", phrase)
    return phrase.strip(" \t\"'“”‘’`.,;:!?()[]")


def _split(body: str, splitter: re.Pattern[str]) -> list[str]:
    body = _TRAILING.sub("", body.strip())
    return [p for p in (_clean_phrase(part) for part in splitter.split(body)) if p]


def _name_like(phrase: str) -> bool:
    """A phrase that reads as a product name rather than a kind of thing: it has a digit
    ("Alpine 2") or a capitalised word ("Talus Trail Runner"), not "a tent"."""
    return any(ch.isdigit() for ch in phrase) or any(w[:1].isupper() for w in phrase.split())


def _recognise(question: str) -> tuple[list[str], bool] | None:
    """(name phrases, strong): strong cues ("compare", "vs") name products even in lower case;
    weak ones ("which is lighter, X or Y?") also fit questions about kinds of things."""
    text = " ".join(question.split())
    if not text or len(text) > 400:
        return None
    strong = True
    if match := _HOW_COMPARE.match(text) or _COMPARED.match(text):
        names = [_clean_phrase(match["a"]), *_split(match["b"], _AND_SPLIT)]
    elif match := _COMPARE.match(text):
        names = _split(match["body"], _LIST_SPLIT)
    elif _VERSUS.search(text):
        parts = _VERSUS.split(_TRAILING.sub("", text.rstrip(" ?.!")))
        parts[0] = _LEADING.sub("", re.sub(r"^.*:\s*", "", parts[0]))  # "Quick one: X vs Y"
        names = [n for n in (_clean_phrase(p) for p in parts) if n]
    else:
        strong = False
        if match := _DIFFERENCE.match(text):
            names = _split(match["body"], _AND_SPLIT)
        elif match := _WHICH_FIRST.match(text) or _SHOULD.match(text) or _WHICH_LAST.match(text):
            names = _split(_LEADING.sub("", match["body"]), _OR_SPLIT)
        elif match := _THAN.match(text):
            names = [_clean_phrase(match["a"]), _clean_phrase(match["b"])]
        else:
            return None
    names = [n for n in names if len(n) <= 80]
    if 2 <= len(names) <= MAX_PRODUCTS and len({n.lower() for n in names}) == len(names):
        return names, strong
    return None


def compared_names(question: str) -> list[str] | None:
    """The product name phrases a comparison question names (2 to 4), or None when the
    question is not a comparison of named products.

    >>> compared_names("compare the Alpine 2 and the Summit Expedition 4")
    ['Alpine 2', 'Summit Expedition 4']
    """
    found = _recognise(question)
    if found is None:
        return None
    names, strong = found
    if not strong and not all(_name_like(n) for n in names):
        return None
    return names


# --------------------------------------------------------------------------- resolution


def _newer(a: tuple[str, dict[str, Any]], b: tuple[str, dict[str, Any]]) -> bool:
    """Whether record ``a`` (chunk id, metadata) is newer than ``b``: the later upload wins."""
    return (str(a[1].get("updated_at") or ""), a[0]) > (str(b[1].get("updated_at") or ""), b[0])


def _build_title_index(chunks: Iterable[Record]) -> TitleIndex:
    """The names of every product shoppers may see: each product record's (its newest, when
    two files hold one) and, for a product known only from its page or spec sheet, the
    page's. Hidden products (drafts, archived, unpublished) are left out, and so are the
    pages of a hidden product: no phrase or SKU resolves to one."""
    records: dict[str, tuple[str, dict[str, Any]]] = {}
    pages: dict[str, dict[str, Any]] = {}
    for chunk_id, _, meta in chunks:
        product_id = str(meta.get("product_id") or "")
        if not product_id:
            continue
        if meta.get("kind") == "product":
            held = records.get(product_id)
            if held is None or _newer((chunk_id, meta), held):
                records[product_id] = (chunk_id, meta)
        elif meta.get("title"):
            pages.setdefault(product_id, meta)
    named: list[NamedProduct] = []
    owned: set[str] = set()  # lower-cased ids and SKUs of every record, shown or not
    for product_id, (_, meta) in records.items():
        product = Product.from_metadata(meta)
        if product is None:
            continue
        skus = tuple(dict.fromkeys([product_id, *product.skus]))
        owned.update(s.lower() for s in skus)
        if meta.get("visible") is False:
            continue
        named.append(NamedProduct(product_id, product.title, skus, " ".join(product.categories)))
    for product_id, meta in pages.items():
        if product_id.lower() in owned:
            continue  # a page of a product that has a record (or of a hidden one)
        kind = " ".join(str(meta.get(key) or "") for key in ("category_path", "category"))
        named.append(NamedProduct(product_id, str(meta["title"]), (product_id,), kind,
                                  is_record=False))
    return TitleIndex(named)


_INDEXES: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, ...], TitleIndex]] = (
    weakref.WeakKeyDictionary()
)
_INDEX_LOCK = threading.Lock()


def _fingerprint(store: Any) -> tuple[Any, ...]:
    """Changes whenever what shoppers can see does: with every commit by any process (the
    registry's signature; chunks being written but not yet committed do not count)."""
    return store.registry_signature()


def title_index(store: Any) -> TitleIndex:
    """The names of the store's products (:class:`shopbot.product_names.TitleIndex`), built
    once and rebuilt when its content changes."""
    fingerprint = _fingerprint(store)
    with _INDEX_LOCK:
        held = _INDEXES.get(store)
        if held is not None and held[0] == fingerprint:
            return held[1]
    index = _build_title_index(store.iter_chunks(batch=1000))
    with _INDEX_LOCK:
        _INDEXES[store] = (fingerprint, index)
    return index


def resolve_products(store: Any, names: Sequence[str]) -> list[Record | None]:
    """The stored record each name phrase (a title, part of one, a misspelt one, or the SKU
    of the product or of one of its variants) names, in order; None for a phrase no product
    shoppers may see matches. A product known only from its page or spec sheet gets a
    record merged from those passages."""
    index = title_index(store)
    ids = [index.resolve(name) for name in names]
    found = [i for i in dict.fromkeys(ids) if i]
    records = _records_for(store, found) if found else {}
    return [records.get(i) if i else None for i in ids]


def _records_for(store: Any, product_ids: Sequence[str]) -> dict[str, Record]:
    """The record of each product id shoppers may see (the newest, when two files hold
    one); for a product without one, a record merged from its page or spec sheet."""
    rows = store.get_chunks(
        {"$and": [{"kind": "product"}, {"product_id": {"$in": list(product_ids)}}]}
    )
    newest: dict[str, Record] = {}
    for chunk_id, text, meta in rows:
        product_id = str(meta.get("product_id"))
        held = newest.get(product_id)
        if held is None or _newer((chunk_id, meta), (held[0], held[2])):
            newest[product_id] = (chunk_id, text, meta)
    records = {i: r for i, r in newest.items() if r[2].get("visible") is not False}
    missing = [i for i in product_ids if i not in newest]
    if not missing:
        return records
    passages: dict[str, list[Record]] = {}
    for chunk_id, text, meta in sorted(store.get_chunks({"product_id": {"$in": missing}}),
                                       key=lambda c: c[0]):
        if meta.get("kind") != "product":
            passages.setdefault(str(meta.get("product_id")), []).append((chunk_id, text, meta))
    for product_id, found in passages.items():
        # Prefer the product page (one document) over a spec sheet; keep one document.
        found.sort(key=lambda c: (c[2].get("file_kind") != "html", c[0]))
        doc_id = found[0][2].get("doc_id")
        same_doc = [c for c in found if c[2].get("doc_id") == doc_id]
        meta = {**same_doc[0][2], "kind": "product_page"}
        text = "\n".join(c[1] for c in same_doc)
        records[product_id] = (same_doc[0][0], text, meta)
    return records


# --------------------------------------------------------------------------- the table

# The record's own header lines, drawn as their own rows (or not at all).
_HEADER_KEYS = {"brand", "category", "price", "stock", "sku", "availability", "title", "name",
                "description", "id", "url", "product url", "image", "type", "producttype",
                "subcategory", "handle", "tags", "status"}
# Attribute names that are the same fact under different spellings across files (option
# and attribute names by what they mean: shopbot.vocabulary.option_kind).
_KEY_ALIASES = {
    "variant grams": "weight", "grams": "weight", "weight g": "weight", "weight grams": "weight",
}
_LABELS = {"weight": "Weight", "colour": "Colour", "size": "Size", "material": "Material"}
# A unit in a column's name: "Weight (g)", "weight_kg" (a unit of shopbot.vocabulary).
_UNIT_IN_NAME = re.compile(r"\s*(?:\(([^)]{1,8})\)|_([a-z°²0-9]{1,6}))\s*$", re.I)
_UNIT_WORDS = {"grams": "g", "variant grams": "g"}
_NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)?$")
_ATTRIBUTE_LINE = re.compile(r"^\s*([A-Za-z][\w /&()'-]{0,39}?)\s*:\s*(\S.*?)\s*$")
#: Variants named in one cell at most ("S, M and 3 more out of stock").
MAX_NAMED_VARIANTS = 3


def _is_export_column(name: str) -> bool:
    from shopbot.ingest.fields import is_store_export_column

    return is_store_export_column(name)


def _attribute_key(name: str) -> tuple[str, str | None]:
    """("Weight (g)") -> ("weight", "g"): the key rows are merged on, and a unit the name
    carries (added to bare numbers, so "580" reads "580 g"). "Colours", "Color" and "Farbe"
    are one key, "colour", as an option of that name is."""
    unit = None
    lowered = name.strip().lower()
    match = _UNIT_IN_NAME.search(lowered)
    if match and unit_of(match.group(1) or match.group(2)) is not None:
        unit = match.group(1) or match.group(2)
        lowered = lowered[: match.start()]
    lowered = re.sub(r"[_\s]+", " ", lowered).strip()
    unit = unit or _UNIT_WORDS.get(lowered)
    kind = option_kind(lowered)
    key = kind if kind in _LABELS else _KEY_ALIASES.get(lowered, lowered)
    return key, unit


def _attribute_lines(text: str, description: str) -> list[tuple[str, str]]:
    """The "Name: value" pairs of a page's text, in order. A line of "Name: value."
    sentences (a product page's spec paragraph) and "a: 1; b: 2" values (a specs column) are
    split; a description's sentences are not attributes, even with a colon inside."""
    if description:
        text = text.replace(description, "\n")
    pairs: list[tuple[str, str]] = []
    for line in text.splitlines():
        parts = [line]
        first = _ATTRIBUTE_LINE.match(line)
        if first and "." not in first.group(1) and line.count(":") > 1:
            pieces = re.split(r"(?<=[.;])\s+(?=[A-Z][\w /&()'-]{0,39}:)", line)
            if len(pieces) > 1:
                parts = [p.rstrip(" .;") for p in pieces]
        for part in parts:
            match = _ATTRIBUTE_LINE.match(part)
            if match and "." not in match.group(1):
                pairs.append((match.group(1).strip(), match.group(2).strip()))
    expanded: list[tuple[str, str]] = []
    for name, value in pairs:
        sub = [_ATTRIBUTE_LINE.match(p.strip()) for p in value.split(";")]
        if all(sub) and (len(sub) > 1 or "." not in sub[0].group(1)):  # "specs: Weight: 42 g"
            expanded.extend((m.group(1).strip(), m.group(2).strip()) for m in sub if m)
        else:
            expanded.append((name, value))
    return expanded


def _header_value(pairs: Sequence[tuple[str, str]], *names: str) -> str | None:
    for name, value in pairs:
        if name.lower() in names:
            return value
    return None


@dataclass
class _Column:
    """One product as a column of the table."""

    id: str
    title: str
    url: str
    source: str
    price: str | None
    brand: str | None
    category: str | None
    stock: str | None
    attributes: dict[str, tuple[str, str]]  # key -> (label, value), in the record's order
    skus: list[str] = field(default_factory=list)


def _column(record: Any, now: datetime) -> _Column:
    """A column from a store record (chunk id, text, metadata) or a retrieval Source."""
    if isinstance(record, (tuple, list)):
        chunk_id, text, meta = record
        meta = dict(meta or {})
        product = Product.from_metadata(meta)
        is_record = meta.get("kind") == "product"
        url, source = str(meta.get("url") or ""), str(meta.get("source") or "")
        title = str(meta.get("title") or meta.get("doc_title") or "")
    else:  # a retrieval Source
        chunk_id, text, product = record.id, record.text, record.product
        is_record = record.kind == "product"
        url, source, title = record.url, record.source, record.title
    if product is not None and is_record:
        return _typed_column(product, url, source, now)
    return _page_column(product, str(chunk_id), str(text or ""), title, url, source)


def _typed_column(product: Product, url: str, source: str, now: datetime) -> _Column:
    """A product record's column, from its variants as they are ``now``: the price (range,
    and now / was during a sale), stock, a row per option kind, and the weight."""
    attributes: dict[str, tuple[str, str]] = {}
    for name in product.options:
        values = product.option_values(name)
        if values:
            key, _ = _attribute_key(name)
            attributes.setdefault(key, (_LABELS.get(key) or name, ", ".join(values)))
    weight = _weight_cell(product)
    if weight:
        attributes.setdefault("weight", ("Weight", weight))
    category_words = set(tokens(product.category_path))
    for name, value in product.attributes.items():
        _add_attribute(attributes, name, value, category_words)
    return _Column(
        id=product.id,
        title=product.title,
        url=product.url or url,
        source=source,
        price=_price_cell(product, now),
        brand=product.brand or None,
        category=product.category_path or None,
        stock=_stock_cell(product),
        attributes=attributes,
        skus=product.skus,
    )


def _page_column(
    product: Product | None, chunk_id: str, text: str, title: str, url: str, source: str
) -> _Column:
    """The column of a product known only from its page or spec sheet: what the page says."""
    pairs = _attribute_lines(text, product.description if product is not None else "")
    price = _header_value(pairs, "price")
    if price is None and product is not None and product.price() is not None:
        price = product.price_text()
    stock_text = _stock_cell(product) if product is not None else None
    if stock_text is None:
        stated = _header_value(pairs, "stock", "availability")
        if stated and stated.strip().lower() in {"out of stock", "sold out", "0"}:
            stock_text = "Out of stock"
        else:
            stock_text = stated
    category = _header_value(pairs, "category") or (product.category_path if product else "")
    category_words = set(tokens(str(category or "")))
    attributes: dict[str, tuple[str, str]] = {}
    for name, value in pairs:
        _add_attribute(attributes, name, value, category_words)
    product_id = product.id if product is not None and product.id else chunk_id
    return _Column(
        id=product_id,
        title=title or (product.title if product else "") or text.split("\n", 1)[0],
        url=url,
        source=source,
        price=price,
        brand=_header_value(pairs, "brand") or (product.brand if product else "") or None,
        category=str(category) if category else None,
        stock=stock_text,
        attributes=attributes,
        skus=[product_id],
    )


def _add_attribute(
    attributes: dict[str, tuple[str, str]], name: str, value: str, category_words: set[str]
) -> None:
    key, unit = _attribute_key(name)
    if key in _HEADER_KEYS or (_is_export_column(name) and key != "weight"):
        return
    if key not in _LABELS and set(tokens(value)) <= category_words:
        return  # "Type: Backpacking Tents" repeats the category
    if unit and _NUMBER.match(value):
        value = f"{value} {unit}"
    label = _LABELS.get(key) or (name[:1].upper() + name[1:]).replace("_", " ")
    attributes.setdefault(key, (label, value))


def _price_cell(product: Product, now: datetime) -> str | None:
    """"$45.00–$52.00"; during a sale "$39.00, was $49.00 (until 1 March 2027)", or for a sale
    on some variants only "$39.00–$52.00 (Teal on sale: $39.00, was $49.00)"."""
    found = product.price_range(now)
    if found is None:
        return None
    text = product.price_text(now)
    on_sale = product.on_sale(now)
    if not on_sale:
        return text
    currency = product.currency
    was = sorted(v.compare_at_price for v in on_sale if v.compare_at_price is not None)
    was_text = format_price_range(was[0], was[-1], currency)
    ends = {v.sale_ends for v in on_sale}
    until = ""
    if len(ends) == 1 and (end := ends.pop()) is not None:
        until = f" (until {end.strftime('%d %B %Y').lstrip('0')})"
    priced = [v for v in product.variants if v.current_price(now) is not None]
    if len(on_sale) == len(priced):
        return f"{text}, was {was_text}{until}"
    sale = sorted(v.price for v in on_sale if v.price is not None)
    return (f"{text} ({_variant_labels(on_sale)} on sale: "
            f"{format_price_range(sale[0], sale[-1], currency)}, was {was_text}){until}")


def _stock_cell(product: Product) -> str | None:
    """"18 in stock", "In stock", "Out of stock", and the variants sold out when others are
    not ("12 in stock (L / Moss out of stock)"); None when the record does not say."""
    available = product.available()
    if available is None:
        return None
    if not available:
        return "Out of stock"
    quantity = product.quantity()
    text = f"{quantity} in stock" if quantity else "In stock"
    sold_out = [v for v in product.variants if v.available() is False]
    if sold_out and product.has_options:
        text += f" ({_variant_labels(sold_out)} out of stock)"
    return text


def _weight_cell(product: Product) -> str | None:
    weights = sorted({v.weight_grams for v in product.variants if v.weight_grams})
    if not weights:
        return None
    if len(weights) == 1:
        return f"{weights[0]:g} g"
    return f"{weights[0]:g}–{weights[-1]:g} g"


def _variant_labels(variants: Sequence[Any]) -> str:
    labels = [v.label() for v in variants[:MAX_NAMED_VARIANTS]]
    more = len(variants) - MAX_NAMED_VARIANTS
    return ", ".join(labels) + (f" and {more} more" if more > 0 else "")


@dataclass
class Comparison:
    """Products side by side: one column per product, one row per fact, every value as the
    catalog record states it (None where a record does not say)."""

    products: list[dict[str, Any]]  # {"id", "title", "url", "source", "skus"}
    table: list[tuple[str, list[str | None]]]  # (row label, one value per product)
    missing: list[str] = field(default_factory=list)  # name phrases no product matched

    @classmethod
    def from_records(
        cls,
        records: Iterable[Any],
        missing: Sequence[str] = (),
        max_attributes: int = MAX_ATTRIBUTES,
    ) -> Comparison:
        """From product records: store (id, text, metadata) tuples or retrieval Sources.
        Prices and stock are read from each product's variants as they are now (a sale
        that has ended is not shown)."""
        now = datetime.now(timezone.utc)
        products: list[_Column] = []
        for record in records:
            product = _column(record, now)
            if all(p.id != product.id for p in products):
                products.append(product)
        table: list[tuple[str, list[str | None]]] = [
            ("Price", [p.price for p in products]),
            ("Brand", [p.brand for p in products]),
            ("Category", [p.category for p in products]),
            ("Stock", [p.stock for p in products]),
        ]
        order: dict[str, tuple[int, int]] = {}  # key -> (-products having it, first position)
        for product in products:
            for position, key in enumerate(product.attributes):
                had, first = order.get(key, (0, position))
                order[key] = (had - 1, min(first, position))
        for key in sorted(order, key=lambda k: order[k])[:max_attributes]:
            label = next(p.attributes[key][0] for p in products if key in p.attributes)
            table.append((label, [p.attributes.get(key, (label, None))[1] for p in products]))
        shown = [
            {"id": p.id, "title": p.title, "url": p.url, "source": p.source,
             "skus": list(p.skus)}
            for p in products
        ]
        return cls(products=shown, table=table, missing=list(missing))

    # -- views ---------------------------------------------------------------------------

    def rows(self) -> list[tuple[str, list[str | None]]]:
        return [(label, list(values)) for label, values in self.table]

    def columns(self) -> list[str]:
        """Column headers: the product titles, with the id added where two titles repeat."""
        titles = [p["title"] for p in self.products]
        return [
            f"{p['title']} ({p['id']})" if titles.count(p["title"]) > 1 else p["title"]
            for p in self.products
        ]

    def column_of(self, product_id: str) -> int:
        """The column of the product with this id, or with a variant of this SKU."""
        for i, p in enumerate(self.products):
            if p["id"] == product_id:
                return i
        wanted = product_id.lower()
        return next(i for i, p in enumerate(self.products)
                    if wanted in (s.lower() for s in p.get("skus", [])))

    def value(self, label: str, product_id: str) -> str | None:
        """The cell of row ``label`` for a product, by its id or one of its SKUs."""
        column = self.column_of(product_id)
        return next(values[column] for row, values in self.table if row == label)

    def summary(self) -> str:
        """One sentence for the chat transcript above the table."""
        titles = [p["title"] for p in self.products]
        parts = []
        if len(titles) >= 2:
            names = ", ".join(titles[:-1]) + f" and {titles[-1]}"
            parts.append(f"Here is how the {names} compare, from our catalog records.")
        elif titles:
            parts.append(f"Here is what our catalog records say about the {titles[0]}.")
        if self.missing:
            quoted = ", ".join(f'"{name}"' for name in self.missing)
            parts.append(f"I couldn't find {quoted} in the catalog.")
        return " ".join(parts)

    def to_markdown(self) -> str:
        def cell(value: str | None) -> str:
            text = MISSING_VALUE if value in (None, "") else " ".join(str(value).split())
            return text.replace("|", "\\|")

        header = ["", *self.columns()]
        lines = ["| " + " | ".join(cell(h) if h else " " for h in header) + " |"]
        lines.append("|" + "---|" * len(header))
        lines.extend(
            "| " + " | ".join([cell(label), *(cell(v) for v in values)]) + " |"
            for label, values in self.table
        )
        text = "\n".join(lines)
        if self.missing:
            text += "\n\nNot found: " + ", ".join(self.missing)
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "products": [dict(p) for p in self.products],
            "rows": [{"label": label, "values": list(values)} for label, values in self.table],
            "missing": list(self.missing),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comparison:
        return cls(
            products=[dict(p) for p in data.get("products", [])],
            table=[(str(r["label"]), list(r["values"])) for r in data.get("rows", [])],
            missing=list(data.get("missing", [])),
        )


def compare_ids(store: Any, product_ids: Sequence[str]) -> Comparison:
    """The comparison of products picked by id or SKU (the app's "Compare" action on cards).
    Products shoppers may not see are left out."""
    index = title_index(store)
    ids = [index.product_for(i) for i in dict.fromkeys(product_ids)]
    wanted = [i for i in dict.fromkeys(ids) if i]
    records = _records_for(store, wanted) if wanted else {}
    return Comparison.from_records(records[i] for i in wanted if i in records)


def comparison_for_question(store: Any, question: str) -> Comparison | None:
    """The table a comparison question asks for, or None when the question is not one (let
    the chain answer it). A "compare X and Y" whose Y matches nothing still gives a table of
    X, with Y in ``missing`` so the bot can say so; a weaker cue ("which is warmer, down or
    synthetic?") only counts when every phrase names a product."""
    found = _recognise(question)
    if found is None:
        return None
    names, strong = found
    records = resolve_products(store, names)
    missing = [name for name, record in zip(names, records) if record is None]
    resolved = [r for r in records if r is not None]
    distinct = {r[2].get("product_id") for r in resolved}
    if not resolved or (missing and not strong) or (len(distinct) < 2 and not missing):
        return None
    return Comparison.from_records(resolved, missing=missing)
