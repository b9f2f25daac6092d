"""Product comparisons built from the catalog records, not from generated text.

``compared_names("compare the Alpine 2 and the Summit Expedition 4")`` -> the two name phrases;
``resolve_products(store, names)`` -> the stored product record each phrase names (by SKU or by
title); ``Comparison.from_records(records)`` -> a table whose columns are the products and whose
rows (price, brand, category, stock, then the attributes the records share) hold the records'
own values. ``comparison_for_question(store, question)`` does all three for the chat.
"""

from __future__ import annotations

import math
import re
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shopbot.constraints import tokens

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
# Id-like tokens (letters/digits in dash- or dot-separated parts with a digit): "RL-TNT-001".
_SKU = re.compile(r"(?<![\w-])(?=[\w.-]*\d)[A-Za-z0-9]+(?:[-.][A-Za-z0-9]+)+(?![\w-])")


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

# Words a phrase may carry that never name a product.
_STOP = {
    "the", "a", "an", "my", "your", "our", "this", "that", "these", "those", "one", "new",
    "model", "version", "of", "in", "for", "and", "or", "with", "what", "which", "do", "you",
    "think", "about", "is", "are", "it", "i", "me", "ridgeline's", "please",
}


@dataclass
class _Entry:
    product_id: str
    title: str
    title_tokens: frozenset[str]
    category_tokens: frozenset[str]
    is_record: bool  # a product record (else: a product page or spec sheet only)


@dataclass
class _TitleIndex:
    fingerprint: tuple[Any, ...]
    entries: list[_Entry] = field(default_factory=list)
    by_id: dict[str, int] = field(default_factory=dict)  # upper-cased id -> entry
    postings: dict[str, list[int]] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)

    @classmethod
    def build(cls, fingerprint: tuple[Any, ...], chunks: Iterable[Record]) -> _TitleIndex:
        index = cls(fingerprint)
        for _, _, meta in chunks:
            product_id = str(meta.get("product_id") or "")
            title = str(meta.get("title") or "")
            if not product_id or not title:
                continue
            is_record = meta.get("kind") == "product"
            known = index.by_id.get(product_id.upper())
            if known is not None and (index.entries[known].is_record or not is_record):
                continue
            category = " ".join(
                str(meta.get(key) or "") for key in ("category_path", "category")
            )
            entry = _Entry(
                product_id, title, frozenset(tokens(title)), frozenset(tokens(category)), is_record
            )
            if known is None:
                index.by_id[product_id.upper()] = len(index.entries)
                index.entries.append(entry)
            else:  # a product record replaces what a page said about the same product
                index.entries[known] = entry
        for number, entry in enumerate(index.entries):
            for token in entry.title_tokens:
                index.postings.setdefault(token, []).append(number)
        total = len(index.entries) + 1
        index.weights = {
            token: math.log(total / (len(found) + 0.5)) + 0.5
            for token, found in index.postings.items()
        }
        return index

    def weight(self, token: str) -> float:
        return self.weights.get(token, 1.0)

    def resolve(self, phrase: str) -> str | None:
        """The id of the product the phrase names, or None."""
        for sku in _SKU.findall(phrase):
            if (number := self.by_id.get(sku.upper())) is not None:
                return self.entries[number].product_id
        if (number := self.by_id.get(phrase.strip().upper())) is not None:
            return self.entries[number].product_id
        wanted = [t for t in dict.fromkeys(tokens(phrase)) if t not in _STOP]
        if not wanted:
            return None
        wanted_set = set(wanted)
        total = sum(self.weight(t) for t in wanted)
        numbers = {t for t in wanted if t.isdigit()}
        candidates = {n for t in wanted for n in self.postings.get(t, ())}
        ranked: list[tuple[tuple[float, ...], str, str, bool]] = []  # (rank, title, id, whole)
        for number in candidates:
            entry = self.entries[number]
            title = entry.title_tokens
            if numbers - title:
                continue  # "Alpine 5" is not the Alpine 2
            matched = wanted_set & title
            # At least one matched word must name the product, not its kind ("tent").
            if not any(not t.isdigit() and t not in entry.category_tokens for t in matched):
                continue
            gained = sum(self.weight(t) for t in matched)
            if gained / total < 0.6:
                continue
            # ...and much of what names it: "down" is not the "Ember Down Vest". A model
            # number left out counts half ("Stormline jacket" is the Stormline 2.5L).
            naming = {t for t in title if t.isdigit() or t not in entry.category_tokens}
            naming_weight = sum(
                self.weight(t) * (0.5 if t.isdigit() and t not in matched else 1.0)
                for t in naming
            )
            named = sum(self.weight(t) for t in naming & matched)
            if naming and named / naming_weight < 0.34:
                continue
            extra = sum(
                self.weight(t) * (0.1 if t in entry.category_tokens else 0.35)
                for t in title - wanted_set
            )
            score = gained - sum(self.weight(t) for t in wanted_set - title) - extra
            if score < 0.5:
                continue
            whole = naming <= matched
            rank = (score, entry.is_record, -len(title))
            ranked.append((rank, entry.title, entry.product_id, whole))
        if not ranked:
            return None
        ranked.sort(key=lambda r: (tuple(-x for x in r[0]), r[1]))
        best = ranked[0]
        # "the Alpine" fits the Alpine 1, 2 and 3 Tents about equally: no guessing.
        if len(ranked) > 1 and not best[3] and best[0][0] - ranked[1][0][0] < 1.0:
            return None
        return best[2]


_INDEXES: weakref.WeakKeyDictionary[Any, _TitleIndex] = weakref.WeakKeyDictionary()
_INDEX_LOCK = threading.Lock()


def _fingerprint(store: Any) -> tuple[Any, ...]:
    """Changes whenever what shoppers can see does: with every commit by any process (the
    registry's signature; chunks being written but not yet committed do not count)."""
    return store.registry_signature()


def title_index(store: Any) -> _TitleIndex:
    """The store's product titles, indexed once and rebuilt when its content changes."""
    fingerprint = _fingerprint(store)
    with _INDEX_LOCK:
        index = _INDEXES.get(store)
        if index is not None and index.fingerprint == fingerprint:
            return index
    index = _TitleIndex.build(fingerprint, store.iter_chunks(batch=1000))
    with _INDEX_LOCK:
        _INDEXES[store] = index
    return index


def resolve_products(store: Any, names: Sequence[str]) -> list[Record | None]:
    """The stored record each name phrase (a title, part of one, or a SKU) names, in order;
    None for a phrase no product matches. A product known only from its page or spec sheet
    gets a record merged from those passages."""
    index = title_index(store)
    ids = [index.resolve(name) for name in names]
    found = [i for i in dict.fromkeys(ids) if i]
    records = _records_for(store, found) if found else {}
    return [records.get(i) if i else None for i in ids]


def _records_for(store: Any, product_ids: Sequence[str]) -> dict[str, Record]:
    chunks = store.get_chunks({"product_id": {"$in": list(product_ids)}})
    records: dict[str, Record] = {}
    passages: dict[str, list[Record]] = {}
    for chunk_id, text, meta in sorted(chunks, key=lambda c: c[0]):
        product_id = str(meta.get("product_id"))
        if meta.get("kind") == "product":
            records.setdefault(product_id, (chunk_id, text, meta))
        else:
            passages.setdefault(product_id, []).append((chunk_id, text, meta))
    for product_id, found in passages.items():
        if product_id in records:
            continue
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
# Attribute names that are the same fact under different spellings across files.
_KEY_ALIASES = {
    "variant grams": "weight", "grams": "weight", "weight g": "weight", "weight grams": "weight",
    "colours": "colour", "color": "colour", "colors": "colour", "colourway": "colour",
    "sizes": "size",
    "materials": "material",
}
_LABELS = {"weight": "Weight", "colour": "Colour", "size": "Size", "material": "Material"}
_UNIT_IN_NAME = re.compile(r"\s*(?:\(([^)]{1,8})\)|_(g|kg|l|mm|cm|m|oz|lb)$)\s*$", re.I)
_UNIT_WORDS = {"grams": "g", "variant grams": "g"}
_NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)?$")
_ATTRIBUTE_LINE = re.compile(r"^\s*([A-Za-z][\w /&()'-]{0,39}?)\s*:\s*(\S.*?)\s*$")


def _is_export_column(name: str) -> bool:
    from shopbot.ingest.fields import is_store_export_column

    return is_store_export_column(name)


def _attribute_key(name: str) -> tuple[str, str | None]:
    """("Weight (g)") -> ("weight", "g"): the key rows are merged on, and a unit the name
    carries (added to bare numbers, so "580" reads "580 g")."""
    unit = None
    lowered = name.strip().lower()
    if match := _UNIT_IN_NAME.search(lowered):
        unit = match.group(1) or match.group(2)
        lowered = lowered[: match.start()]
    lowered = re.sub(r"[_\s]+", " ", lowered).strip()
    unit = unit or _UNIT_WORDS.get(lowered)
    key = _KEY_ALIASES.get(lowered, lowered)
    return key, unit


def _attribute_lines(text: str, description: str) -> list[tuple[str, str]]:
    """The "Name: value" pairs of a record's text, in order. A line of "Name: value."
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
class _Product:
    id: str
    title: str
    url: str
    source: str
    price: str | None
    brand: str | None
    category: str | None
    stock: str | None
    attributes: dict[str, tuple[str, str]]  # key -> (label, value), in the record's order


def _product(record: Any) -> _Product:
    if isinstance(record, (tuple, list)):
        chunk_id, text, meta = record
        meta = dict(meta or {})
    else:  # a retrieval Source (with its text)
        chunk_id, text = record.id, record.text
        meta = {
            "product_id": record.id, "title": record.title, "price": record.price,
            "currency": record.currency, "brand": record.brand, "category": record.category,
            "stock": record.stock, "url": record.url, "source": record.source,
        }
    text = str(text or "")
    pairs = _attribute_lines(text, str(meta.get("description") or ""))
    price = _header_value(pairs, "price")
    if price is None and isinstance(meta.get("price"), (int, float)):
        from shopbot.vocabulary import format_price

        price = format_price(float(meta["price"]), meta.get("currency"))
    stock = meta.get("stock")
    if isinstance(stock, (int, float)) and not isinstance(stock, bool):
        stock_text = f"{int(stock)} in stock" if stock > 0 else "Out of stock"
    else:
        stated = _header_value(pairs, "stock", "availability")
        if stated and stated.strip().lower() in {"out of stock", "sold out", "0"}:
            stock_text = "Out of stock"
        else:
            stock_text = stated
    category = _header_value(pairs, "category") or meta.get("category_path") or meta.get("category")
    category_words = set(tokens(str(category or "")))
    attributes: dict[str, tuple[str, str]] = {}
    for name, value in pairs:
        key, unit = _attribute_key(name)
        if key in _HEADER_KEYS or (_is_export_column(name) and key != "weight"):
            continue
        if key not in _LABELS and set(tokens(value)) <= category_words:
            continue  # "Type: Backpacking Tents" repeats the category
        if unit and _NUMBER.match(value):
            value = f"{value} {unit}"
        label = _LABELS.get(key) or (name[:1].upper() + name[1:]).replace("_", " ")
        attributes.setdefault(key, (label, value))
    title = str(meta.get("title") or meta.get("doc_title") or text.split("\n", 1)[0])
    return _Product(
        id=str(meta.get("product_id") or chunk_id),
        title=title,
        url=str(meta.get("url") or ""),
        source=str(meta.get("source") or ""),
        price=price,
        brand=_header_value(pairs, "brand") or meta.get("brand") or None,
        category=str(category) if category else None,
        stock=stock_text,
        attributes=attributes,
    )


@dataclass
class Comparison:
    """Products side by side: one column per product, one row per fact, every value as the
    catalog record states it (None where a record does not say)."""

    products: list[dict[str, str]]  # {"id", "title", "url", "source"}
    table: list[tuple[str, list[str | None]]]  # (row label, one value per product)
    missing: list[str] = field(default_factory=list)  # name phrases no product matched

    @classmethod
    def from_records(
        cls,
        records: Iterable[Any],
        missing: Sequence[str] = (),
        max_attributes: int = MAX_ATTRIBUTES,
    ) -> Comparison:
        """From product records: store (id, text, metadata) tuples or retrieval Sources."""
        products: list[_Product] = []
        for record in records:
            product = _product(record)
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
            {"id": p.id, "title": p.title, "url": p.url, "source": p.source} for p in products
        ]
        return cls(products=shown, table=table, missing=list(missing))

    # -- views ---------------------------------------------------------------------------

    def rows(self) -> list[tuple[str, list[str | None]]]:
        return [(label, list(values)) for label, values in self.table]

    def columns(self) -> list[str]:
        """Column headers: the product titles, with the SKU added where two titles repeat."""
        titles = [p["title"] for p in self.products]
        return [
            f"{p['title']} ({p['id']})" if titles.count(p["title"]) > 1 else p["title"]
            for p in self.products
        ]

    def value(self, label: str, product_id: str) -> str | None:
        column = next(i for i, p in enumerate(self.products) if p["id"] == product_id)
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
    """The comparison of products picked by id (the app's "Compare" action on cards)."""
    records = _records_for(store, list(dict.fromkeys(product_ids)))
    found = [records[i] for i in dict.fromkeys(product_ids) if i in records]
    return Comparison.from_records(found)


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
