"""A product card's display fields, from a source as the chat keeps it (``Source.to_dict()``:
flat fields plus "product", the typed product as a dict, and "variants", the SKUs of the
variants that fit the shopper's filters or that the question named).

The card says what the shopper asked about: the named variants' price and stock when the
question picked some ("Size M: $48.00"), else the product's price range and stock; a sale as
"$39.00, was $49.00"; the product's options ("Size: S, M, L · Color: Black, Grey").

Everything here is plain text taken from catalog data; the page escapes it when drawing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shopbot.products import Product, Variant
from shopbot.vocabulary import format_price, format_price_range, option_kind, stock_phrase

#: Variants a card names one by one (on sale, sold out) before it just counts them.
NAMED_VARIANTS = 3


@dataclass(frozen=True)
class ProductCard:
    """What one product card shows, each field plain text ("" when there is nothing to say)."""

    id: str
    title: str
    image: str = ""  # the URL of its main image (the named variant's own, when it has one)
    variant: str = ""  # the variants the card is about ("Size M"); "" for the whole product
    price: str = ""  # theirs, or the product's: "$48.00", "$45.00–$52.00", "$39.00, was $49.00"
    sale: str = ""  # other variants on sale: "On sale: Teal $39.00, was $49.00"
    options: str = ""  # "Size: S, M, L · Color: Black, Grey"
    stock: str = ""  # theirs, or the product's: "In stock in Black; sold out in Grey"
    brand: str = ""
    note: str = ""  # why it is shown although it does not fit the filters
    url: str = ""
    hidden: bool = False  # a draft, archived or unpublished product: never for shoppers

    def facts(self) -> list[str]:
        """The card's one-line summary, in reading order: the variant and its price ("Size
        M: $48.00"), other sales, stock, brand."""
        price = f"{self.variant}: {self.price}" if self.variant and self.price else self.price
        return [f for f in (price or self.variant, self.sale, self.stock, self.brand) if f]


def product_card(source: Mapping[str, Any], now: datetime | None = None) -> ProductCard:
    """The card of a product source (``now``: when prices and sales are judged)."""
    product = _product(source)
    base = dict(
        id=str(source.get("id") or ""),
        title=str(source.get("title") or (product.title if product else "")),
        brand=str(source.get("brand") or (product.brand if product else "")),
        note=str(source.get("note") or ""),
        url=str(source.get("url") or (product.url if product else "")),
    )
    if product is None or not product.variants:
        return ProductCard(
            **base,
            image=str(source.get("image") or ""),
            price=_flat_price(source),
            stock=_flat_stock(source.get("stock")),
        )
    named = [v for sku in source.get("variants") or () if (v := product.variant(str(sku)))]
    if not product.has_options:
        named = []  # its one variant is the product
    image = next((v.image for v in named if v.image), "") if len(named) == 1 else ""
    return ProductCard(
        **base,
        image=image or product.image or str(source.get("image") or ""),
        variant=_named_label(named),
        price=_price_of(named or product.variants, product.currency, now),
        sale=_other_sales(product, named, now),
        options=options_text(product),
        stock=_stock(product, named),
        hidden=not product.visible,
    )


def for_shoppers(source: Mapping[str, Any]) -> bool:
    """False for a draft, archived or unpublished product's source (the catalog index
    never offers one; a card checks again)."""
    data = source.get("product")
    if isinstance(data, Product):
        return data.visible
    return not isinstance(data, Mapping) or str(data.get("status") or "active") == "active"


def options_text(product: Product) -> str:
    """"Size: S, M, L · Color: Black, Grey" (the option names as the shop writes them); ""
    for a product without options."""
    if not product.has_options:
        return ""
    parts = []
    for name in product.options:
        values = product.option_values(name)
        if values:
            parts.append(f"{name}: {', '.join(values)}")
    return " · ".join(parts)


def variant_label(options: Mapping[str, str]) -> str:
    """How a shopper reads a choice of option values: "Size M / Black". A colour reads by
    itself; any other value with its option's name, since "M" or "500" alone says little."""
    return " / ".join(
        value if option_kind(name) == "colour" else f"{name} {value}"
        for name, value in options.items()
        if value
    )


# -- price ----------------------------------------------------------------------------------


def _price_of(variants: Sequence[Variant], currency: str | None, now: datetime | None) -> str:
    """One price, "$39.00, was $49.00" when every one of them is on the same sale, else the
    range of what they cost now."""
    prices = [p for v in variants if (p := v.current_price(now)) is not None]
    if not prices:
        return ""
    currency = next((v.currency for v in variants if v.currency), currency)
    low, high = min(prices), max(prices)
    was = {v.compare_at_price for v in variants if v.sale_active(now)}
    if abs(high - low) < 0.005 and len(was) == 1 and all(v.sale_active(now) for v in variants):
        return f"{format_price(low, currency)}, was {format_price(was.pop(), currency)}"
    return format_price_range(low, high, currency)


def _other_sales(product: Product, named: Sequence[Variant], now: datetime | None) -> str:
    """The sales the price does not show already: "On sale: Teal $39.00, was $49.00"."""
    shown = list(named) or product.variants
    if len(shown) == 1 or ", was " in _price_of(shown, product.currency, now):
        return ""
    on_sale = [v for v in shown if v.sale_active(now)]
    if not on_sale:
        return ""
    if len(on_sale) > NAMED_VARIANTS:
        low = min(v.current_price(now) for v in on_sale)
        return f"On sale: {len(on_sale)} variants, from {format_price(low, product.currency)}"
    shared = _shared_options(named)
    return "On sale: " + "; ".join(
        f"{_distinct_label(v, shared)} {_price_of([v], product.currency, now)}" for v in on_sale
    )


def _flat_price(source: Mapping[str, Any]) -> str:
    price = source.get("price")
    if not isinstance(price, (int, float)):
        return ""
    return format_price(float(price), source.get("currency") or None)


# -- stock ----------------------------------------------------------------------------------


def _stock(product: Product, named: Sequence[Variant]) -> str:
    """The named variants' stock ("In stock in Black; sold out in Grey"), else the
    product's."""
    if not named:
        return _product_stock(product)
    states = [v.available() for v in named]
    if all(s is None for s in states):
        return ""
    if len({s for s in states if s is not None}) == 1:
        available = next(s for s in states if s is not None)
        counts = [v.quantity for v in named if v.quantity is not None]
        return _capital(stock_phrase(available, sum(max(c, 0) for c in counts) if counts else None))
    shared = _shared_options(named)
    fine = [_distinct_label(v, shared) for v in named if v.available()]
    out = [_distinct_label(v, shared) for v in named if v.available() is False]
    return f"In stock in {', '.join(fine)}; sold out in {', '.join(out)}"


def _product_stock(product: Product) -> str:
    text = _capital(product.stock_text())
    if not text or not product.has_options or product.available() is not True:
        return text
    out = [v for v in product.variants if v.available() is False]
    if not out:
        return text
    if len(out) > NAMED_VARIANTS:
        return f"{text}; {len(out)} variants sold out"
    return f"{text}; sold out: {', '.join(variant_label(v.options) or v.sku for v in out)}"


def _flat_stock(stock: Any) -> str:
    if not isinstance(stock, (int, float)):
        return ""
    return _capital(stock_phrase(stock > 0, int(stock)))


# -- helpers --------------------------------------------------------------------------------


def _product(source: Mapping[str, Any]) -> Product | None:
    data = source.get("product")
    if isinstance(data, Product):
        return data
    if not isinstance(data, Mapping):
        return None  # a passage about no product, or a source kept before products had types
    return Product.from_dict(data)


def _named_label(named: Sequence[Variant]) -> str:
    """"Size M" for the M in every colour, "Size M / Grey" for one variant, "Size S / Black,
    Size L / Grey" for a few with nothing in common; "" for none."""
    shared = variant_label(_shared_options(named))
    if shared or not named:
        return shared
    if len(named) > NAMED_VARIANTS:
        return f"{len(named)} variants"
    return ", ".join(variant_label(v.options) or v.sku for v in named)


def _shared_options(variants: Sequence[Variant]) -> dict[str, str]:
    """The option values every one of ``variants`` has ({"Size": "M"} for M/Black, M/Grey)."""
    if not variants:
        return {}
    first = variants[0].options
    return {
        name: value for name, value in first.items()
        if value and all(v.options.get(name) == value for v in variants[1:])
    }


def _distinct_label(variant: Variant, shared: Mapping[str, str]) -> str:
    """A variant's label without the values it shares with the others shown ("Grey")."""
    rest = {k: v for k, v in variant.options.items() if k not in shared}
    return variant_label(rest) or variant_label(variant.options) or variant.sku


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
