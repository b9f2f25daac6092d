"""Google Merchant Center product feeds -> products with variants.

A feed is one row per item: a TSV file whose header row names the attributes ("id", "title",
"price", "image_link" or "image link", ...), or an XML file (RSS 2.0 or Atom 1.0 with the
``g:`` namespace) that :func:`rows_from_xml` turns into the same row dicts. Items sharing an
``item_group_id`` are the variants of one product (their colour, size, material, pattern,
age group or gender tell them apart); an item without one is a product of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from shopbot.ingest.fields import parse_price, split_category
from shopbot.ingest.platforms._shared import (
    category_path,
    parse_date,
    parse_weight_grams,
    text,
    unique,
)
from shopbot.products import Product, Variant

NAME = "merchant"
G_NS = "http://base.google.com/ns/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"

# Attributes only a Merchant Center feed has (a generic "id, title, price" table has none).
_FEED_ONLY = {"image_link", "item_group_id", "google_product_category", "sale_price_effective_date",
              "additional_image_link", "identifier_exists", "availability_date", "gtin"}
# Variant-distinguishing attributes, in the order they become options.
_VARIANT_ATTRIBUTES = ("color", "size", "material", "pattern", "age_group", "gender")
_ALWAYS_OPTIONS = ("color", "size")
_OPTION_LABELS = {"color": "Color", "size": "Size", "material": "Material", "pattern": "Pattern",
                  "age_group": "Age Group", "gender": "Gender"}
_AVAILABILITY = {"in_stock": True, "out_of_stock": False, "preorder": False, "backorder": False,
                 "available_for_order": False}


def attribute_key(header: str) -> str:
    """"g:image_link", "Image link", "image-link" -> "image_link"."""
    key = str(header or "").strip().lower()
    key = re.sub(r"^g:", "", key)
    return re.sub(r"[\s\-]+", "_", key)


def matches(headers: Sequence[str]) -> bool:
    keys = {attribute_key(h) for h in headers}
    return {"id", "title", "price"} <= keys and bool(keys & _FEED_ONLY)


def read(rows: Iterable[Mapping[str, str]], default_currency: str) -> list[Product]:
    groups: dict[str, list[dict[str, str]]] = {}
    for raw in rows:
        row = {attribute_key(k): ("" if v is None else str(v).strip()) for k, v in raw.items()}
        if not row.get("id") and not row.get("title"):
            continue
        key = row.get("item_group_id") or row.get("id") or row.get("title", "")
        groups.setdefault(key, []).append(row)
    return [_product(key, items, default_currency) for key, items in groups.items()]


def rows_from_xml(data: bytes) -> list[dict[str, str]]:
    """The items of an RSS 2.0 (``<item>``) or Atom 1.0 (``<entry>``) feed with the ``g:``
    namespace as row dicts keyed like a TSV feed's headers. ``g:`` elements win over the
    feed format's own title/link/description; repeated elements are joined with ",";
    nested ones (``g:shipping``) as "country:region:service:price". DTDs and entities are
    refused (defusedxml)."""
    from defusedxml.ElementTree import fromstring

    root = fromstring(data)
    items = [el for el in root.iter() if _local(el.tag) in {"item", "entry"}]
    rows = []
    for item in items:
        plain: dict[str, str] = {}
        google: dict[str, list[str]] = {}
        for child in item:
            ns, name = _split_tag(child.tag)
            if ns == G_NS:
                value = _element_text(child)
                if value:
                    google.setdefault(name, []).append(value)
            elif name == "link":
                href = child.get("href")
                if href is not None:
                    if child.get("rel", "alternate") == "alternate":
                        plain.setdefault("link", href.strip())
                elif (child.text or "").strip():
                    plain.setdefault("link", child.text.strip())
            elif name in {"title", "id"}:
                plain.setdefault(name, _element_text(child))
            elif name in {"description", "summary", "content"}:
                plain.setdefault("description", _element_text(child))
        row = {k: v for k, v in plain.items() if v}
        row.update({k: ",".join(v) for k, v in google.items()})
        rows.append(row)
    return rows


def _local(tag: str) -> str:
    return _split_tag(tag)[1]


def _split_tag(tag: object) -> tuple[str, str]:
    tag = str(tag)
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


# Sub-attributes of a nested group in the order a TSV feed writes them
# ("US:CA:Overnight:16.00 USD").
_GROUP_ORDER = {
    "shipping": (("country",), ("region", "postal_code", "location_id", "location_group_name"),
                 ("service",), ("price",)),
}


def _element_text(element) -> str:
    children = list(element)
    if not children:
        return (element.text or "").strip()
    values = {_local(c.tag): (c.text or "").strip() for c in children}
    order = _GROUP_ORDER.get(_local(element.tag))
    if order is None:
        return ":".join(values.values())
    return ":".join(next((values[k] for k in keys if values.get(k)), "") for keys in order)


def _product(key: str, items: list[dict[str, str]], currency: str) -> Product:
    first = items[0]
    grouped = len(items) > 1 or bool(first.get("item_group_id"))
    option_keys = [
        a for a in _VARIANT_ATTRIBUTES
        if any(i.get(a) for i in items)
        and (a in _ALWAYS_OPTIONS or len({i.get(a, "") for i in items}) > 1)
    ]
    attributes: dict[str, str] = {}
    for a in _VARIANT_ATTRIBUTES:
        if a not in option_keys and first.get(a):
            attributes[_OPTION_LABELS[a]] = text(first[a])
    if first.get("condition"):
        attributes["Condition"] = text(first["condition"])
    if not grouped and first.get("mpn"):
        attributes["MPN"] = text(first["mpn"])
    states = unique(_availability_word(i.get("availability", "")) for i in items)
    waiting = [s for s in states if s in {"preorder", "backorder"}]
    if waiting:
        attributes["Availability"] = ", ".join(waiting)
        if first.get("availability_date"):
            attributes["Availability Date"] = first["availability_date"]

    categories = [category_path(first["product_type"])] if first.get("product_type") else []
    google_category = text(first.get("google_product_category"))
    if google_category and not google_category.isdigit():
        if categories:
            attributes["Google Product Category"] = google_category
        else:
            categories = [" > ".join(split_category(google_category))]

    images = unique(
        [i.get("image_link", "") for i in items]
        + [u.strip() for i in items for u in i.get("additional_image_link", "").split(",")]
    )
    titles = [text(i.get("title")) for i in items]
    return Product(
        id=key,
        title=_group_title(titles) if len(items) > 1 else (titles[0] or key),
        brand=text(first.get("brand")),
        categories=[c for c in categories if c],
        description=text(first.get("description")),
        url=first.get("link", ""),
        images=images,
        attributes=attributes,
        options=[_OPTION_LABELS[a] for a in option_keys],
        variants=[_variant(i, option_keys, currency) for i in items],
        platform=NAME,
    )


def _variant(item: dict[str, str], option_keys: list[str], currency: str) -> Variant:
    regular, price_currency = parse_price(item.get("price"), currency)
    sale, _ = parse_price(item.get("sale_price"), currency)
    state = _availability_word(item.get("availability", ""))
    variant = Variant(
        sku=item.get("id", ""),
        options={_OPTION_LABELS[a]: text(item[a]) for a in option_keys if item.get(a)},
        price=regular,
        currency=price_currency if regular is not None else None,
        in_stock=_AVAILABILITY.get(state),
        image=item.get("image_link", ""),
        barcode=text(item.get("gtin")),
        weight_grams=parse_weight_grams(item.get("shipping_weight")),
    )
    if sale is not None and (regular is None or sale < regular):
        variant.price, variant.compare_at_price = sale, regular
        variant.currency = variant.currency or price_currency or currency
        window = item.get("sale_price_effective_date", "")
        if "/" in window:
            start, _, end = window.partition("/")
            variant.sale_starts, variant.sale_ends = parse_date(start), parse_date(end)
    return variant


def _availability_word(value: str) -> str:
    return re.sub(r"[\s\-]+", "_", (value or "").strip().lower())


def _group_title(titles: list[str]) -> str:
    """The words the items' titles share ("Harbor Scarf - Teal", "Harbor Scarf - Navy" ->
    "Harbor Scarf"); the first title when they share nothing."""
    split = [t.split() for t in titles if t]
    if not split:
        return ""
    common = []
    for words in zip(*split):
        if len(set(words)) != 1:
            break
        common.append(words[0])
    title = re.sub(r"[\s\-–—,:|/(]+$", "", " ".join(common))
    return title or titles[0]
