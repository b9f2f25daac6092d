"""The typed product model: a product with its options and variants, whatever the shop
platform's rows looked like (issue 12, first step: the platform importers in
``shopbot/ingest/platforms/`` produce these; the pipeline, store metadata, retrieval and
answers move onto them next).

A product is what a shopper thinks of as one thing ("Harbor Scarf"); a variant is what is
sold and stocked (the scarf in teal). A product without options is one default variant.
Prices are per variant; a product's price is the range of its variants' prices.

In the store a product is one record chunk: :meth:`Product.to_text` is what is embedded and
searched, :meth:`Product.to_metadata` what is kept beside it (flat fields for filters and
the whole product as JSON). :meth:`Product.from_metadata` reads it back: no other module
reads a product's fields from chunk metadata by key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from shopbot.vocabulary import format_price, format_price_range, option_kind, stock_phrase

if TYPE_CHECKING:
    from shopbot.quantities import Quantity

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
    # What the shop says besides in / out of stock: "preorder", "backorder", "discontinued"
    # (the keys of shopbot.vocabulary.AVAILABILITY_NOTES), or "".
    availability: str = ""

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

    def regular_price(self, now: datetime | None = None) -> float | None:
        """What it costs when not on sale: the compare-at price during a sale, else the price."""
        return self.compare_at_price if self.sale_active(now) else self.current_price(now)

    def label(self) -> str:
        """"M / Black", or its SKU when it has no option values."""
        return " / ".join(v for v in self.options.values() if v) or self.sku

    def option(self, kind: str) -> str:
        """Its value of the option meaning ``kind`` ("colour", "size"), or ""."""
        return next((v for k, v in self.options.items() if option_kind(k) == kind and v), "")

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

    # -- derived facts ---------------------------------------------------------------------

    @property
    def currency(self) -> str | None:
        return next((v.currency for v in self.variants if v.currency), None)

    @property
    def category_path(self) -> str:
        return self.categories[0] if self.categories else ""

    @property
    def category(self) -> str:
        """The last segment of its first category path ("Jackets")."""
        return self.category_path.rsplit(">", 1)[-1].strip()

    @property
    def image(self) -> str:
        return self.images[0] if self.images else next((v.image for v in self.variants if v.image), "")

    @property
    def skus(self) -> list[str]:
        return [v.sku for v in self.variants if v.sku]

    def measurements(self) -> list[Quantity]:
        """Its quantities with units (weight, temperature rating, capacity, people, ...),
        from its attributes, description and variants' weights (shopbot.quantities)."""
        cached = self.__dict__.get("_measurements")
        if cached is None:
            from shopbot.quantities import Quantity, measurements

            cached = measurements(self.attributes, [self.description])
            if not any(q.dimension == "mass" for q in cached):
                weights = [v.weight_grams for v in self.variants if v.weight_grams]
                if weights:
                    cached.append(Quantity("mass", float(min(weights)), ("weight",)))
            self.__dict__["_measurements"] = cached
        return cached

    @property
    def has_options(self) -> bool:
        return any(v.options for v in self.variants) and len(self.variants) > 1

    def price(self, now: datetime | None = None) -> float | None:
        """Its lowest current price (what "from $45" means)."""
        found = self.price_range(now)
        return found[0] if found else None

    def quantity(self) -> int | None:
        """Units in stock over all variants; None when no variant says."""
        counts = [v.quantity for v in self.variants if v.quantity is not None]
        return sum(max(c, 0) for c in counts) if counts else None

    def available(self) -> bool | None:
        """In stock when any variant is; None when no variant says."""
        states = [v.available() for v in self.variants]
        if any(states):
            return True
        return False if any(s is False for s in states) else None

    def availability_note(self) -> str:
        """The note its variants share ("preorder", "backorder", "discontinued"), or ""."""
        notes = {v.availability for v in self.variants}
        return notes.pop() if len(notes) == 1 else ""

    def stock_text(self) -> str:
        """Its stock as a shopper reads it ("in stock (18 available)", "out of stock
        (available to pre-order)"), or "" when no source says."""
        return stock_phrase(self.available(), self.quantity(), self.availability_note())

    def on_sale(self, now: datetime | None = None) -> list[Variant]:
        return [v for v in self.variants if v.sale_active(now)]

    def options_of(self, kind: str) -> tuple[str, list[str]]:
        """(option name as the shop writes it, its values) for the option meaning ``kind``
        ("colour", "size"); from its variants, else from an attribute listing them
        ("Sizes: S, M, L"); ("", []) when it has none."""
        for name in self.options:
            if option_kind(name) == kind:
                return name, self.option_values(name)
        for name, value in self.attributes.items():
            if option_kind(name) == kind and value:
                return name, [v.strip() for v in value.replace(" / ", ",").split(",") if v.strip()]
        return "", []

    def option_kinds(self) -> list[str]:
        return [option_kind(name) for name in self.options]

    def price_text(self, now: datetime | None = None) -> str:
        found = self.price_range(now)
        return format_price_range(*found, self.currency) if found else ""

    # -- the store's record ----------------------------------------------------------------

    def to_text(self) -> str:
        """The searchable text: what matters first (the embedding model reads ~200 words),
        then the options, the description, the attributes, and each variant last. Sale
        windows are written as dates, not "on sale now": the text outlives the sale."""
        lines = [self.title]
        if self.brand:
            lines.append(f"Brand: {self.brand}")
        for path in self.categories[:3]:
            lines.append(f"Category: {path}")
        if self.price_range() is not None:
            lines.append(f"Price: {self.price_text()}")
        stock = self.stock_text()
        if stock:
            lines.append(f"Stock: {stock}")
        if self.status != "active":
            lines.append(f"Status: {self.status} (not for sale)")
        for name in self.options:
            lines.append(f"{name}: {', '.join(self.option_values(name))}")
        if self.description:
            lines.append(self.description)
        lines.extend(f"{name}: {value}" for name, value in self.attributes.items())
        if self.tags:
            lines.append(f"Tags: {', '.join(self.tags)}")
        if len(self.variants) > 1 or any(v.compare_at_price for v in self.variants):
            lines.extend(_variant_line(v) for v in self.variants[:MAX_VARIANT_LINES])
            if len(self.variants) > MAX_VARIANT_LINES:
                lines.append(f"(and {len(self.variants) - MAX_VARIANT_LINES} more variants)")
        elif self.variants:
            only = self.variants[0]
            if only.barcode:
                lines.append(f"Barcode: {only.barcode}")
            if only.weight_grams is not None and not any(
                option_kind(name).startswith("weight") for name in self.attributes
            ):
                lines.append(f"Weight: {only.weight_grams:g} g")
        if self.id not in self.skus:
            lines.append(f"Product ID: {self.id}")
        lines.append(f"SKU: {', '.join(self.skus[:MAX_VARIANT_LINES]) or self.id}")
        return "\n".join(lines)

    def to_metadata(self) -> dict[str, Any]:
        """Flat fields the index filters on, and the whole product as JSON."""
        found = self.price_range()
        meta: dict[str, Any] = {
            "product_id": self.id,
            "title": self.title,
            "brand": self.brand,
            "category": self.category,
            "category_path": self.category_path,
            "url": self.url,
            "image": self.image,
            "description": self.description[:1000],
            "status": self.status,
            "visible": self.visible,
            "skus": "|".join(self.skus),
            "product": json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")),
        }
        if found is not None:
            meta["price"], meta["price_max"] = found
            meta["currency"] = self.currency or ""
        quantity = self.quantity()
        if quantity is not None:
            meta["stock"] = quantity
        available = self.available()
        if available is not None:
            meta["in_stock"] = available
        return {k: v for k, v in meta.items() if v != ""}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for variant in data["variants"]:
            for key in ("sale_starts", "sale_ends"):
                if variant[key] is not None:
                    variant[key] = variant[key].isoformat()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Product:
        fields = dict(data)
        variants = [
            Variant(**{
                **v,
                "sale_starts": _when(v.get("sale_starts")),
                "sale_ends": _when(v.get("sale_ends")),
            })
            for v in fields.pop("variants", [])
        ]
        known = {k: v for k, v in fields.items() if k in cls.__dataclass_fields__}
        return cls(**known, variants=variants)

    @classmethod
    def from_metadata(cls, meta: Mapping[str, Any]) -> Product | None:
        """The product a chunk's metadata holds: its JSON when written by this model, else
        (a spec sheet or page that names a SKU and a price) one built from the flat fields;
        None for a passage about no product."""
        raw = meta.get("product")
        if isinstance(raw, str) and raw:
            return _parsed(raw)
        if not meta.get("product_id") and meta.get("price") is None:
            return None
        price = meta.get("price")
        stock = meta.get("stock")
        path = str(meta.get("category_path") or meta.get("category") or "")
        return cls(
            id=str(meta.get("product_id") or ""),
            title=str(meta.get("title") or ""),
            brand=str(meta.get("brand") or ""),
            categories=[path] if path else [],
            description=str(meta.get("description") or ""),
            url=str(meta.get("url") or ""),
            images=[str(meta["image"])] if meta.get("image") else [],
            status=str(meta.get("status") or "active"),
            variants=[Variant(
                sku=str(meta.get("product_id") or ""),
                price=float(price) if isinstance(price, (int, float)) else None,
                currency=str(meta.get("currency") or "") or None,
                quantity=int(stock) if isinstance(stock, (int, float)) else None,
            )],
        )

    # -- variants a shopper names ----------------------------------------------------------

    def variants_named(self, text: str) -> list[Variant]:
        """The variants whose option values ``text`` names ("the M in black", "500 ml"):
        every named value must fit; [] when the text names none of its values. "How long"
        and "how wide" ask a question; they name no size Long or Wide."""
        words = _words(re.sub(r"\bhow\s+(?:long|wide|short|tall|big|large|small)\b", " ", text,
                              flags=re.I))
        wanted: dict[str, set[str]] = {}
        for name in self.options:
            for value in self.option_values(name):
                if _names_value(words, value):
                    wanted.setdefault(name, set()).add(value)
        if not wanted:
            return []
        # A value that is also part of the product's own name names nothing ("Red Rock Kettle").
        title_words = _words(self.title)
        wanted = {
            name: {v for v in values if not _names_value(title_words, v) or _names_value(
                _without(words, title_words), v)}
            for name, values in wanted.items()
        }
        wanted = {name: values for name, values in wanted.items() if values}
        if not wanted:
            return []
        # "the wide long": the Wide Long, not also the Long its words hold.
        wanted = {name: {v for v in values if not any(
            o != v and _names_value(_words(o), v) for o in values)} for name, values in wanted.items()}
        return [
            v for v in self.variants
            if all(v.options.get(name) in values for name, values in wanted.items())
        ]


#: Variant lines a record's text holds at most (the rest stay in its JSON).
MAX_VARIANT_LINES = 60


def _variant_line(variant: Variant) -> str:
    parts = [f"Variant {variant.label()}"]
    if variant.price is not None:
        parts.append(format_price(variant.price, variant.currency))
    if variant.compare_at_price is not None and variant.price is not None \
            and variant.compare_at_price > variant.price:
        window = ""
        if variant.sale_starts:
            window += f" from {variant.sale_starts.date().isoformat()}"
        if variant.sale_ends:
            window += f" until {variant.sale_ends.date().isoformat()}"
        parts[-1] = (f"sale price {parts[-1]}{window}, regular "
                     f"{format_price(variant.compare_at_price, variant.currency)}")
    stock = stock_phrase(variant.available(), variant.quantity, variant.availability)
    if stock:
        parts.append(stock)
    if variant.sku:
        parts.append(f"SKU {variant.sku}")
    return ": ".join(parts[:1]) + ": " + ", ".join(parts[1:]) if len(parts) > 1 else parts[0]


@lru_cache(maxsize=8192)
def _parsed(raw: str) -> Product:
    return Product.from_dict(json.loads(raw))


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _words(text: str) -> list[str]:
    import re

    from shopbot.vocabulary import same_word

    # "what's" and "I'm" stay one word each: their "s" and "m" are not sizes. Spellings
    # and short forms of a colour are one word ("gray" = "grey", "blk" = "black").
    return [same_word(w) for w in
            re.findall(r"[a-z0-9]+(?:[.,][0-9]+)?(?:['’][a-z]+)?", text.lower())]


def _names_value(words: list[str], value: str) -> bool:
    """Whether ``words`` hold ``value``'s words in a row ("forest green", "500 ml", "m")."""
    wanted = _words(value)
    if not wanted:
        return False
    # "500ml" written together counts as "500 ml".
    joined = "".join(wanted)
    size = len(wanted)
    for i in range(len(words) - size + 1):
        if words[i:i + size] == wanted:
            return True
    return size > 1 and joined in words


def _without(words: list[str], remove: Iterable[str]) -> list[str]:
    """``words`` with one run of ``remove`` (the product's name) taken out."""
    remove = list(remove)
    size = len(remove)
    for i in range(len(words) - size + 1):
        if words[i:i + size] == remove:
            return words[:i] + ["|"] + words[i + size:]
    return words


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
