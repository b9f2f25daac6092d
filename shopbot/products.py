"""The typed product model: a product with its options and variants, whatever the shop
platform's rows looked like (issue 12, first step: the platform importers in
``shopbot/ingest/platforms/`` produce these; the pipeline, store metadata, retrieval and
answers move onto them next).

A product is what a shopper thinks of as one thing ("Harbor Scarf"); a variant is what is
sold and stocked (the scarf in teal). A product without options is one default variant.
Prices are per variant; a product's price is the range of its variants' prices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

#: Values of ``Product.status``. Only "active" products reach shoppers.
STATUSES = ("active", "draft", "archived", "hidden")


@dataclass
class Variant:
    """One sellable combination of option values, with its own SKU, price and stock."""

    sku: str = ""
    options: dict[str, str] = field(default_factory=dict)  # {"Size": "M", "Color": "Teal"}
    price: float | None = None
    currency: str | None = None
    # The price it is compared with when on sale: Shopify's compare-at price, WooCommerce's
    # and Magento's regular price when a sale price applies.
    compare_at_price: float | None = None
    sale_starts: datetime | None = None  # the sale price applies from (inclusive) ...
    sale_ends: datetime | None = None  # ... until (exclusive); None: open-ended
    quantity: int | None = None
    in_stock: bool | None = None  # a flag some exports give instead of, or beside, a quantity
    image: str = ""
    barcode: str = ""  # GTIN / EAN / UPC / ISBN
    weight_grams: float | None = None

    def sale_active(self, now: datetime | None = None) -> bool:
        """Whether it is on sale at ``now`` (default: now): a compare-at price above the
        price, and ``now`` inside the sale window when one is given."""
        if self.price is None or self.compare_at_price is None:
            return False
        if self.compare_at_price <= self.price:
            return False
        now = now or datetime.now(timezone.utc)
        if self.sale_starts is not None and now < _aware(self.sale_starts):
            return False
        if self.sale_ends is not None and now >= _aware(self.sale_ends):
            return False
        return True

    def current_price(self, now: datetime | None = None) -> float | None:
        """What it costs at ``now``: the sale price inside its window, else the regular one
        (a sale outside its window is not a sale)."""
        if self.compare_at_price is not None and self.price is not None:
            if not self.sale_active(now) and self.compare_at_price > self.price:
                return self.compare_at_price
        return self.price

    def available(self) -> bool | None:
        """In stock: the flag when given, else a positive quantity; None when unknown."""
        if self.in_stock is not None:
            return self.in_stock and (self.quantity is None or self.quantity > 0)
        if self.quantity is not None:
            return self.quantity > 0
        return None


@dataclass
class Product:
    """One product with its options (names in order, e.g. ["Size", "Color"]) and variants."""

    id: str  # the platform's product key: handle, parent SKU, item_group_id, ...
    title: str
    brand: str = ""
    categories: list[str] = field(default_factory=list)  # each a path "Men > Tops > Jackets"
    description: str = ""  # plain text
    url: str = ""
    images: list[str] = field(default_factory=list)
    status: str = "active"  # one of STATUSES
    attributes: dict[str, str] = field(default_factory=dict)  # material, climate, ...
    options: list[str] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    platform: str = ""  # "shopify", "woocommerce", "magento", "prestashop", "merchant", ""

    @property
    def visible(self) -> bool:
        """Whether shoppers may be offered it (drafts, archived and hidden items: never)."""
        return self.status == "active"

    def price_range(self, now: datetime | None = None) -> tuple[float, float] | None:
        prices = [p for v in self.variants if (p := v.current_price(now)) is not None]
        return (min(prices), max(prices)) if prices else None

    def option_values(self, name: str) -> list[str]:
        """The values of one option in the order the variants list them ("S", "M", "L")."""
        seen: dict[str, None] = {}
        for variant in self.variants:
            value = variant.options.get(name)
            if value:
                seen.setdefault(value, None)
        return list(seen)

    def variant(self, sku: str) -> Variant | None:
        return next((v for v in self.variants if v.sku == sku), None)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
