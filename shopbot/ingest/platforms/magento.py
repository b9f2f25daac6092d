"""Magento 2 product import/export CSV -> products with variants.

One row per SKU. A configurable product names its children in ``configurable_variations``
(``sku=MH01-XS-Black,size=XS,color=Black|sku=...``); the children are simple products,
usually "Not Visible Individually", and become the configurable's variants with their own
price, special price and stock. Rows with a ``store_view_code`` are per-store-view overrides
(translations) of a default row and are not products of their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from shopbot.ingest.fields import parse_price, parse_stock, split_category
from shopbot.ingest.platforms._shared import (
    flag,
    header_keys,
    humanise,
    parse_date,
    text,
    unique,
)
from shopbot.products import Product, Variant

NAME = "magento"

# additional_attributes codes that are Magento bookkeeping, not facts about the product.
_HOUSEKEEPING_ATTRIBUTES = {"has_options", "required_options", "quantity_and_stock_status",
                            "tax_class_id", "gift_message_available", "options_container"}
_BRAND_CODES = ("brand", "manufacturer")
_BARCODE_CODES = ("gtin", "ean", "upc", "isbn", "barcode")
# "key=value,key=value": a comma starts a new pair only when an attribute code and "=" follow,
# so a value may itself hold commas.
_PAIR_SPLIT = re.compile(r",(?=\s*[A-Za-z0-9_]+\s*=)")
_NOT_VISIBLE = "not visible individually"
# Magento's default product URL suffix (Stores > Configuration > Catalog > SEO).
_URL_SUFFIX = ".html"


def matches(headers: Sequence[str]) -> bool:
    keys = header_keys(headers)
    return {"sku", "producttype"} <= keys and bool(
        keys & {"attributesetcode", "productwebsites", "additionalattributes",
                "configurablevariations"}
    )


def read(rows: Iterable[Mapping[str, str]], default_currency: str) -> list[Product]:
    rows = [_clean_row(r) for r in rows]
    # Store-view rows override texts of a default-scope row; the default scope is the catalog.
    rows = [r for r in rows if r.get("sku") and not r.get("store_view_code")]
    by_sku: dict[str, dict[str, str]] = {}
    for row in rows:
        by_sku.setdefault(row["sku"], row)  # a repeated SKU: its first row counts
    rows = list(by_sku.values())

    children: dict[str, list[tuple[str, dict[str, str]]]] = {}
    child_skus: set[str] = set()
    for row in rows:
        if row.get("product_type") == "configurable":
            links = parse_variations(row.get("configurable_variations", ""))
            children[row["sku"]] = links
            child_skus.update(sku for sku, _ in links)

    products = []
    for row in rows:
        if row["sku"] in child_skus:
            continue  # a variant of its configurable, not a product of its own
        products.append(_product(row, children.get(row["sku"]), by_sku, default_currency))
    return products


def parse_variations(value: str) -> list[tuple[str, dict[str, str]]]:
    """``configurable_variations`` -> [(child sku, {attribute code: value})]."""
    links = []
    for part in (value or "").split("|"):
        pairs = parse_pairs(part)
        sku = pairs.pop("sku", "")
        if sku:
            links.append((sku, pairs))
    return links


def parse_pairs(value: str) -> dict[str, str]:
    """``"material=Wool,climate=Cool|Windy"`` -> {"material": "Wool", "climate": "Cool|Windy"}."""
    pairs: dict[str, str] = {}
    for part in _PAIR_SPLIT.split(value or ""):
        key, sep, val = part.partition("=")
        if sep and key.strip():
            pairs[key.strip()] = val.strip()
    return pairs


def parse_categories(value: str) -> list[str]:
    """``"Default Category/Men/Tops/Jackets,Default Category/Gear"`` -> ["Men > Tops > Jackets",
    "Gear"]: one path per root-prefixed entry, the root category dropped."""
    pieces = [p for p in (value or "").split(",") if p.strip()]
    roots = {p.split("/", 1)[0].strip() for p in pieces if "/" in p}
    paths: list[str] = []
    for piece in pieces:
        if paths and roots and piece.split("/", 1)[0].strip() not in roots:
            paths[-1] += "," + piece  # a category name with a comma in it
        else:
            paths.append(piece)
    out = []
    for path in paths:
        parts = [text(p) for p in split_category(path.strip().replace("\\/", "\u2215"))]
        parts = [p.replace("\u2215", "/") for p in parts[1:] if p]  # drop the root
        if parts:
            out.append(" > ".join(parts))
    return unique(out)


def _clean_row(row: Mapping[str, str]) -> dict[str, str]:
    return {str(k).strip().lower(): ("" if v is None else str(v).strip()) for k, v in row.items()}


def _product(
    row: dict[str, str], links: list[tuple[str, dict[str, str]]] | None,
    by_sku: dict[str, dict[str, str]], currency: str,
) -> Product:
    attributes_raw = parse_pairs(row.get("additional_attributes", ""))
    brand = next((text(attributes_raw[c]) for c in _BRAND_CODES if attributes_raw.get(c)), "")
    attributes = {
        humanise(code): ", ".join(unique(text(v) for v in value.split("|")))
        for code, value in attributes_raw.items()
        if code not in _HOUSEKEEPING_ATTRIBUTES and code not in _BRAND_CODES
        and code not in _BARCODE_CODES and value
    }
    if row.get("country_of_manufacture"):
        attributes.setdefault("Country Of Manufacture", text(row["country_of_manufacture"]))

    visibility = row.get("visibility", "").lower()
    if not _enabled(row):
        status = "draft"
    elif visibility == _NOT_VISIBLE:
        status = "hidden"  # nobody's child and not shown on its own: not for shoppers
    else:
        status = "active"

    images = unique(
        [row.get("base_image", ""), row.get("small_image", ""), row.get("thumbnail_image", "")]
        + [i.strip() for i in row.get("additional_images", "").split(",")]
    )
    labels = parse_pairs(row.get("configurable_variation_labels", ""))
    product = Product(
        id=row["sku"],
        title=text(row.get("name")) or row["sku"],
        brand=brand,
        categories=parse_categories(row.get("categories", "")),
        description=text(row.get("description")) or text(row.get("short_description")),
        url=_url(row),
        images=images,
        status=status,
        attributes=attributes,
        platform=NAME,
    )
    if links is None:
        variant = _variant(row, row, {}, attributes_raw, currency)
        product.variants = [variant]
        return product

    codes: list[str] = []
    for child_sku, values in links:
        child = by_sku.get(child_sku)
        if child is None:
            continue  # listed but not in this file: nothing known about its price or stock
        if not _enabled(child):
            continue  # a disabled child is not sold
        child_attrs = parse_pairs(child.get("additional_attributes", ""))
        values = values or {}
        for code in values:
            if code not in codes:
                codes.append(code)
        options = {
            labels.get(code) or humanise(code): text(values.get(code) or child_attrs.get(code, ""))
            for code in values
        }
        product.variants.append(
            _variant(child, row, {k: v for k, v in options.items() if v}, child_attrs, currency)
        )
    product.options = [labels.get(code) or humanise(code) for code in codes]
    return product


def _variant(
    row: dict[str, str], parent: dict[str, str], options: dict[str, str],
    attributes: dict[str, str], currency: str,
) -> Variant:
    regular, price_currency = parse_price(row.get("price") or parent.get("price"), currency)
    special, _ = parse_price(row.get("special_price"), currency)
    variant = Variant(
        sku=row["sku"],
        options=options,
        price=regular,
        currency=price_currency if regular is not None else None,
        image=row.get("base_image", "") or row.get("small_image", ""),
        barcode=next((attributes[c] for c in _BARCODE_CODES if attributes.get(c)), ""),
    )
    if special is not None and regular is not None and special < regular:
        # Magento charges the special price inside its window, the regular one outside it.
        variant.price, variant.compare_at_price = special, regular
        variant.sale_starts = parse_date(row.get("special_price_from_date"))
        variant.sale_ends = parse_date(row.get("special_price_to_date"), end=True)
    manages_stock = _manages_stock(row)
    variant.in_stock = flag(row.get("is_in_stock"))
    if manages_stock:
        variant.quantity = parse_stock(row.get("qty"))
    return variant


def _enabled(row: dict[str, str]) -> bool:
    """product_online: 1 enabled; 0 (import files) or 2 (Magento's status "Disabled") not."""
    value = row.get("product_online", "").strip().lower()
    return value not in {"0", "2", "no", "disabled", "false"}


def _manages_stock(row: dict[str, str]) -> bool:
    """Whether qty means anything: the item's own manage_stock when it does not follow the
    store configuration (whose default is to manage stock)."""
    if flag(row.get("use_config_manage_stock")) is False:
        return flag(row.get("manage_stock")) is not False
    return True


def _url(row: dict[str, str]) -> str:
    key = row.get("url_key", "").strip().strip("/")
    if not key:
        # Magento builds a missing url_key from the name the same way on import.
        key = re.sub(r"[^a-z0-9]+", "-", text(row.get("name")).lower()).strip("-")
    return f"/{key}{_URL_SUFFIX}" if key else ""
