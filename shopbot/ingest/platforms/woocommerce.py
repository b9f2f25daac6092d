"""WooCommerce product CSV export (Products > Export) -> products with variants.

One row per product and one per variation. A variation row names its variable product in
Parent ("id:123", or the parent's SKU) and carries its own attribute values ("Attribute 1
value(s)" = "M"); the parent's row lists every value ("S, M, L"). A variation's empty
price, stock, weight and image fall back to its parent's. Prices: the Sale price when there
is one (the Regular price is then the compare-at price, and the sale window comes from
"Date sale price starts/ends"), else the Regular price. Status: Published 1 / 0 (private)
/ -1 (draft), and "Visibility in catalog" hidden.

Lists (Categories, Tags, Images, attribute values) are comma-separated with ``\\,`` for a
comma inside an item; categories are " > " paths; descriptions are HTML with newlines
written as a literal ``\\n``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from shopbot.ingest.fields import normalise_header, parse_price, parse_stock
from shopbot.ingest.platforms._shared import (
    GRAMS_PER_UNIT,
    Row,
    category_path,
    flag,
    number,
    parse_date,
    split_list,
    text,
)
from shopbot.products import Product, Variant

NAME = "woocommerce"

_BARCODE = ("gtinupceanorisbn", "gtin", "ean", "upc", "isbn", "barcode")
_WEIGHT_HEADER = re.compile(r"^weight(kg|g|lbs|lb|oz)$")
_STATUS_BY_PUBLISHED = {"1": "active", "0": "hidden", "-1": "draft"}


def matches(headers: Sequence[str]) -> bool:
    """A WooCommerce export: columns only its exporter writes."""
    names = {normalise_header(h) for h in headers}
    if "visibilityincatalog" in names:
        return True
    return "regularprice" in names and bool(names & {"parent", "attribute1values", "instock"})


@dataclass
class _Prices:
    price: float | None = None
    currency: str | None = None
    compare_at: float | None = None
    starts: datetime | None = None
    ends: datetime | None = None

    @property
    def empty(self) -> bool:
        return self.price is None and self.compare_at is None


@dataclass
class _Item:
    """One row, parsed."""

    row: Row
    types: set[str]
    attributes: list[tuple[str, list[str], bool | None]] = field(default_factory=list)
    variations: list[_Item] = field(default_factory=list)

    @property
    def is_variation(self) -> bool:
        return "variation" in self.types


def read(rows: Iterable[Mapping[str, str]], default_currency: str) -> list[Product]:
    items: list[_Item] = []
    for cells in rows:
        row = Row(cells)
        if row.blank():
            continue
        types = {t.strip().lower() for t in row.get("type").split(",") if t.strip()}
        items.append(_Item(row, types or {"simple"}, _attributes(row)))

    products = [item for item in items if not item.is_variation]
    by_key: dict[str, _Item] = {}
    for item in products:
        if item.row.get("id"):
            by_key.setdefault(f"id:{item.row.get('id')}", item)
        if item.row.get("sku"):
            by_key.setdefault(item.row.get("sku"), item)
    orphans: list[_Item] = []
    for item in items:
        if not item.is_variation:
            continue
        parent = _parent_of(item, by_key)
        if parent is None:
            orphans.append(item)  # parent not in this file: offered as a product of its own
        else:
            parent.variations.append(item)

    result = [_product(item, default_currency) for item in products]
    # An orphan's attribute values ("Size: 40-43") become its product's attributes.
    result += [_product(item, default_currency) for item in orphans]
    _name_grouped_children(products, result, by_key)
    return result


def _parent_of(item: _Item, by_key: dict[str, _Item]) -> _Item | None:
    ref = item.row.get("parent")
    if not ref:
        return None
    if ref.lower().startswith("id:"):
        return by_key.get(f"id:{ref[3:].strip()}")
    return by_key.get(ref) or (by_key.get(f"id:{ref}") if ref.isdigit() else None)


def _attributes(row: Row) -> list[tuple[str, list[str], bool | None]]:
    """[(name, values, visible)] from "Attribute N name / value(s) / visible" columns."""
    found = []
    number_ = 1
    while row.has(f"attribute{number_}name") or row.has(f"attribute{number_}values"):
        name = row.get(f"attribute{number_}name")
        if name:
            cells = split_list(row.raw(f"attribute{number_}values"))
            values = [text(v, paragraphs=True) for v in cells]
            visible = flag(row.get(f"attribute{number_}visible"))
            found.append((name, [v for v in values if v], visible))
        number_ += 1
    return found


def _status(row: Row) -> str:
    status = _STATUS_BY_PUBLISHED.get(row.get("published").strip(), "active")
    if status == "active" and row.get("visibilityincatalog").lower() == "hidden":
        status = "hidden"
    return status


def _prices(row: Row, currency: str) -> _Prices:
    regular, regular_currency = parse_price(row.raw("regularprice"), currency)
    sale, sale_currency = parse_price(row.raw("saleprice"), currency)
    if sale is None:
        # No sale price: the regular price is the price (an empty sale cell hides nothing).
        return _Prices(regular, regular_currency)
    return _Prices(
        sale,
        sale_currency,
        regular,
        _date(row.get("datesalepricestarts")),
        _date(row.get("datesalepriceends"), end=True),
    )


def _date(value: str, end: bool = False) -> datetime | None:
    """An export date: ISO forms only, UTC where no zone is written; an end given as a bare
    date (or at 23:59:59) is inclusive and moves to the next midnight."""
    return parse_date(value, end=end, exact_times=True, iso_only=True, zone=timezone.utc)


def _weight_grams(row: Row) -> float | None:
    for header, value in row.cells.items():
        match = _WEIGHT_HEADER.match(header)
        if match and (amount := number(value)) is not None:
            return amount * GRAMS_PER_UNIT[match.group(1)]
    return None


def _stock(row: Row) -> tuple[int | None, bool | None]:
    """(quantity, in stock): "In stock?" is 1, 0 or "backorder" (not in stock, may be
    ordered)."""
    return parse_stock(row.raw("stock")), flag(row.get("instock"))


def _variant(item: _Item, currency: str, parent: _Item | None = None) -> Variant:
    row = item.row
    prices = _prices(row, currency)
    if prices.empty and parent is not None:
        prices = _prices(parent.row, currency)
    quantity, in_stock = _stock(row)
    weight = _weight_grams(row)
    image = next(iter(split_list(row.raw("images"))), "")
    options: dict[str, str] = {}
    if parent is not None:
        parent_quantity, parent_in_stock = _stock(parent.row)
        quantity = quantity if quantity is not None else parent_quantity
        in_stock = in_stock if in_stock is not None else parent_in_stock
        weight = weight if weight is not None else _weight_grams(parent.row)
        image = image or next(iter(split_list(parent.row.raw("images"))), "")
        # An empty value is "any" (the variation matches every value of that attribute).
        options = {name: values[0] for name, values, _ in item.attributes if values}
    return Variant(
        sku=row.get("sku"),
        options=options,
        price=prices.price,
        currency=prices.currency if prices.price is not None else None,
        compare_at_price=prices.compare_at,
        sale_starts=prices.starts,
        sale_ends=prices.ends,
        quantity=quantity,
        in_stock=in_stock,
        image=image if parent is not None else "",
        barcode=row.get(*_BARCODE),
        weight_grams=weight,
    )


def _product(item: _Item, currency: str) -> Product:
    row = item.row
    variations = [v for v in item.variations if v.row.get("published") != "0"]  # disabled
    # In the shop's order (Position, the variations' menu order), else the file's.
    variations.sort(key=lambda v: (number(v.row.get("position")) is None,
                                   number(v.row.get("position")) or 0.0))
    if variations:
        variants = [_variant(v, currency, parent=item) for v in variations]
    else:
        variants = [_variant(item, currency)]
    used = {name for v in variations for name, values, _ in v.attributes if values}
    # Options in the parent's attribute order, then any only the variations name.
    options = [name for name, _, _ in item.attributes if name in used]
    for variation in variations:
        for name, values, _ in variation.attributes:
            if values and name not in options:
                options.append(name)
    attributes = {
        name: ", ".join(values)
        for name, values, visible in item.attributes
        if name not in used and values and visible is not False
    }
    if row.get("buttontext") and "external" in item.types:
        attributes["Button text"] = row.get("buttontext")
    descriptions = [_description(row.raw(name)) for name in ("shortdescription", "description")]
    key = row.get("sku") or (f"id:{row.get('id')}" if row.get("id") else "") or row.get("name")
    return Product(
        id=key,
        title=row.get("name") or key,
        brand=", ".join(text(b, paragraphs=True) for b in split_list(row.raw("brands", "brand"))),
        categories=[p for p in map(category_path, split_list(row.raw("categories"))) if p],
        description="\n\n".join(d for d in descriptions if d),
        url=row.get("externalurl"),
        images=split_list(row.raw("images")),
        status=_status(row),
        attributes=attributes,
        options=options,
        variants=variants,
        tags=[text(tag, paragraphs=True) for tag in split_list(row.raw("tags"))],
        platform=NAME,
    )


def _description(raw: str) -> str:
    return text(raw.replace("\\n", "\n"), paragraphs=True)


def _name_grouped_children(
    items: list[_Item], products: list[Product], by_key: dict[str, _Item]
) -> None:
    """A grouped product lists its children ("id:120, MUG-01"): named in its attributes."""
    titles = {id(item): product.title for item, product in zip(items, products)}
    for item, product in zip(items, products):
        names = []
        for ref in split_list(item.row.raw("groupedproducts")):
            key = f"id:{ref[3:].strip()}" if ref.lower().startswith("id:") else ref
            child = by_key.get(key)
            if child is not None:
                names.append(titles[id(child)])
        if names:
            product.attributes["Includes"] = ", ".join(names)
