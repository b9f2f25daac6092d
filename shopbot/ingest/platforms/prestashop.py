"""PrestaShop CSV import files -> products with variants.

Two files: the products file ("Product ID", "Active (0/1)", "Name *", "Categories (x,y,z...)",
"Price tax excluded"/"Price tax included", "Reference #", "Quantity", discount columns, ...)
and the combinations file ("Product ID*", "Attribute (Name:Type:Position)*",
"Value (Value:Position)*", "Reference", "Impact on price", "Quantity", ...). :func:`read`
reads the first; :func:`merge_combinations` turns the second into the products' variants
(price = the product's price + the combination's impact). Headers are matched without their
hints and language suffixes ("Name *[fr-FR]" is "Name"); the field separator is usually ";"
and the multiple-value separator ",".
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from shopbot.ingest.fields import parse_price, parse_stock
from shopbot.ingest.platforms._shared import (
    flag,
    header_keys,
    keyed,
    parse_date,
    split_list,
    text,
    unique,
)
from shopbot.products import Product, Variant

NAME = "prestashop"

_PRICE_EXCL = ("pricetaxexcluded", "pricetaxexcl")
_PRICE_INCL = ("pricetaxincluded", "pricetaxincl")
_ROOT_CATEGORIES = {"home", "root", "accueil", "inicio", "startseite"}


@dataclass
class _Pricing:
    """What a product's combinations need from its row: the regular price, how tax-included
    prices relate to the tax-excluded impacts, and the product's discount."""

    regular: float | None
    currency: str | None
    tax_ratio: float  # tax-included / tax-excluded price; 1 when prices are tax excluded
    discount_amount: float = 0.0
    discount_percent: float = 0.0
    starts: object = None
    ends: object = None


# Products read by read() -> their pricing, for merge_combinations (dropped with the product).
_PRICING: dict[int, _Pricing] = {}


def matches(headers: Sequence[str]) -> bool:
    keys = header_keys(headers)
    has_price = bool(keys & set(_PRICE_EXCL + _PRICE_INCL))
    return has_price and "name" in keys and bool(keys & {"active", "taxrulesid", "categories"})


def matches_combinations(headers: Sequence[str]) -> bool:
    """Whether a header row is a PrestaShop combinations file."""
    keys = header_keys(headers)
    return {"attribute", "value"} <= keys and bool(keys & {"productid", "productreference", "id"})


def read(rows: Iterable[Mapping[str, str]], default_currency: str) -> list[Product]:
    products = []
    for raw in rows:
        row = keyed(raw)
        product = _product(row, default_currency)
        if product is not None:
            products.append(product)
    return products


def merge_combinations(
    products: list[Product], rows: Iterable[Mapping[str, str]], default_currency: str,
) -> list[Product]:
    """Give each product the combinations listed for it (by "Product ID", else by the
    product's reference): one variant per combination, replacing its default variant.
    Combinations of products not in ``products`` are ignored. Returns ``products``."""
    by_key: dict[str, Product] = {}
    for product in products:
        by_key.setdefault(product.id, product)
        for variant in product.variants[:1]:
            if variant.sku:
                by_key.setdefault(f"ref:{variant.sku}", product)
    merged: dict[int, list[Variant]] = {}
    for raw in rows:
        row = keyed(raw)
        product = by_key.get(row.get("productid") or row.get("id") or "") or by_key.get(
            f"ref:{row.get('productreference', '')}"
        )
        if product is None:
            continue
        variant = _combination(row, product, default_currency)
        if id(product) not in merged:
            merged[id(product)] = []
        merged[id(product)].append(variant)
        for name in variant.options:
            if name not in product.options:
                product.options.append(name)
    for product in products:
        if id(product) in merged:
            product.variants = merged[id(product)]
    return products


def parse_attribute_names(value: str) -> list[str]:
    """``"Size:select:0,Color:color:1"`` -> ["Size", "Color"] (in the file's order)."""
    names = []
    for item in (value or "").split(","):
        parts = item.split(":")
        if len(parts) >= 3 and parts[-1].strip().isdigit():
            parts = parts[:-2]  # drop type and position
        names.append(text(":".join(parts)))
    return names


def parse_attribute_values(value: str) -> list[str]:
    """``"M:0,Blue:1"`` -> ["M", "Blue"]."""
    values = []
    for item in (value or "").split(","):
        head, sep, tail = item.rpartition(":")
        values.append(text(head if sep and tail.strip().isdigit() else item))
    return values


def _signed_price(value: str, currency: str) -> float | None:
    amount, _ = parse_price(value, currency)
    if amount is not None and (value or "").strip().startswith("-"):
        amount = -amount
    return amount


def _product(row: dict[str, str], currency: str) -> Product | None:
    title = text(row.get("name"))
    reference = text(row.get("reference"))
    key = (row.get("productid") or row.get("id") or reference).strip()
    if not title and not key:
        return None
    incl, incl_currency = parse_price(_first(row, _PRICE_INCL), currency)
    excl, excl_currency = parse_price(_first(row, _PRICE_EXCL), currency)
    regular = incl if incl is not None else excl
    price_currency = incl_currency if incl is not None else excl_currency
    ratio = incl / excl if incl is not None and excl else 1.0
    pricing = _Pricing(
        regular, price_currency, ratio,
        discount_amount=parse_price(row.get("discountamount"), currency)[0] or 0.0,
        discount_percent=parse_price(row.get("discountpercent"), currency)[0] or 0.0,
        # PrestaShop stores both dates as midnight: the discount ends as the "to" day begins.
        starts=parse_date(row.get("discountfrom")),
        ends=parse_date(row.get("discountto")),
    )

    if flag(row.get("active")) is False:
        status = "draft"
    elif row.get("visibility", "").strip().lower() == "none":
        status = "hidden"
    else:
        status = "active"

    attributes: dict[str, str] = {}
    for item in split_list(row.get("feature", ""), escapes=False):
        parts = item.split(":")
        if len(parts) >= 2 and parts[0].strip() and parts[1].strip():
            attributes[text(parts[0])] = text(parts[1])
    if row.get("condition"):
        attributes.setdefault("Condition", text(row["condition"]))

    rewrite = text(row.get("urlrewritten")).strip("/")
    images = unique(split_list(row.get("imageurls", ""), escapes=False))
    variant = Variant(
        sku=reference,
        barcode=text(row.get("ean13") or row.get("upc") or row.get("isbn")),
        quantity=parse_stock(row.get("quantity")),
        image=images[0] if images else "",
    )
    _price_variant(variant, regular, price_currency, pricing)
    product = Product(
        id=key or reference,
        title=title or key,
        brand=text(row.get("manufacturer")),
        categories=_categories(row.get("categories", "")),
        description=text(row.get("description")) or text(row.get("summary")),
        url=(f"/{key}-{rewrite}.html" if key.isdigit() else f"/{rewrite}.html") if rewrite else "",
        images=images,
        status=status,
        attributes=attributes,
        variants=[variant],
        tags=unique(text(t) for t in split_list(row.get("tags", ""), escapes=False)),
        platform=NAME,
    )
    _PRICING[id(product)] = pricing
    weakref.finalize(product, _PRICING.pop, id(product), None)
    return product


def _combination(row: dict[str, str], product: Product, currency: str) -> Variant:
    pricing = _PRICING.get(id(product))
    if pricing is None:  # a product not read by read(): its default variant is the base
        base = product.variants[0] if product.variants else Variant()
        pricing = _Pricing(base.compare_at_price or base.price, base.currency, 1.0)
    names = parse_attribute_names(row.get("attribute", ""))
    values = parse_attribute_values(row.get("value", ""))
    options = {n: v for n, v in zip(names, values) if n and v}
    impact = _signed_price(row.get("impactonprice", ""), currency) or 0.0
    regular = None
    if pricing.regular is not None:
        # Impacts are tax excluded; a tax-included base price takes them with its tax.
        regular = round(pricing.regular + impact * pricing.tax_ratio, 2)
    images = unique(split_list(row.get("imageurls", ""), escapes=False))
    base = product.variants[0] if product.variants else Variant()
    variant = Variant(
        sku=text(row.get("reference")),
        options=options,
        quantity=parse_stock(row.get("quantity")),
        barcode=text(row.get("ean13") or row.get("upc") or row.get("isbn")),
        image=images[0] if images else base.image,
    )
    _price_variant(variant, regular, pricing.currency or currency, pricing)
    return variant


def _price_variant(variant: Variant, regular: float | None, currency: str | None,
                   pricing: _Pricing) -> None:
    variant.price = regular
    variant.currency = currency if regular is not None else None
    if regular is None:
        return
    sale = None
    if pricing.discount_percent > 0:
        sale = regular * (1 - pricing.discount_percent / 100)
    elif pricing.discount_amount > 0:
        sale = regular - pricing.discount_amount
    if sale is not None and 0 <= sale < regular:
        variant.price, variant.compare_at_price = round(sale, 2), regular
        variant.sale_starts, variant.sale_ends = pricing.starts, pricing.ends


def _categories(value: str) -> list[str]:
    """Category names (PrestaShop lists each category on its own, not as a path); the root
    category and bare category ids (which name nothing without the shop's database) dropped."""
    names = [text(c) for c in split_list(value, escapes=False)]
    return unique(n for n in names if n.lower() not in _ROOT_CATEGORIES and not n.isdigit())


def _first(row: dict[str, str], keys: Iterable[str]) -> str:
    return next((row[k] for k in keys if row.get(k, "").strip()), "")
