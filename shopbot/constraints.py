"""Shopping constraints read from a question, offline and without an LLM.

``parse("waterproof jackets under $150", facets)`` -> price_max=150, category "Jackets & Apparel".
Brands and categories are matched against the catalog's own vocabulary (``Facets``), so a
word only becomes a filter when the catalog actually uses it. Price bounds need a currency
marker or a price word ("under", "budget", ...), so "2-person", "65 L", "Alpine 2" and SKUs
never read as prices.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shopbot.vocabulary import (
    AMBIGUOUS_UNITS, COMPARATIVES, CURRENCY_SLANG, CURRENCY_SYMBOLS, CURRENCY_WORDS, LOWER_IS_MORE,
    SUPERLATIVES, UNITS, alternatives, currency_of, dimension_of_word, format_budget, same_word,
)

# --------------------------------------------------------------------------- normalising

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_CATEGORY_SPLIT = re.compile(r"\s*(?:\||>|/|»|›)\s*")
_AND_SPLIT = re.compile(r"\s*(?:&|\band\b|\+)\s*", re.I)
# Single words that name things on their own even though they are not plural.
_MASS_NOUNS = {"apparel", "furniture", "clothing", "footwear", "cookware", "drinkware",
               "knitwear", "luggage", "electronics", "optics"}
# A shopper's word -> catalog words for the same kind of thing (first one the catalog uses).
_CATEGORY_SYNONYMS = {
    "clothing": ("apparel", "clothes"), "clothes": ("apparel", "clothing"),
    "garment": ("apparel", "clothing"), "shoe": ("footwear", "shoes"),
    "footwear": ("shoes",), "rucksack": ("backpacks",),
    "torch": ("flashlights", "lighting"), "cookware": ("cook", "kitchen"),
}
# Words after a brand that mean the shop, not the brand ("Ridgeline Outfitters' returns").
_SHOP_WORDS = {"outfitters", "outfitter", "store", "stores", "shop", "website", "site", "team",
               "support", "customer", "warehouse", "gift"}


def singular(word: str) -> str:
    """Rough English singular, good enough to match "tents" with "Tent"."""
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """Lower-cased, singular word tokens; hyphens and "&" split words ("4-Season" -> 4 season)."""
    return [singular(w) for w in _WORD.findall(text.lower().replace("’", "'"))]


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """:func:`tokens` with where each word is in ``text``: (token, start, end)."""
    lowered = text.lower().replace("’", "'")
    return [(singular(m.group(0)), m.start(), m.end()) for m in _WORD.finditer(lowered)]


def norm(text: str) -> str:
    return " ".join(tokens(text))


# Colour words a shopper uses that are colours whatever else the catalog says. Words that
# also mean other things ("sand", "clear", "natural", "stainless") only count with a colour
# context ("in sand", "sand colour").
_BASE_COLOURS = {
    "black", "white", "grey", "red", "blue", "green", "yellow", "orange", "purple", "pink",
    "brown", "navy", "teal", "khaki", "beige", "maroon", "turquoise", "taupe", "burgundy",
    "olive", "plum", "lime", "charcoal", "tan", "violet", "cyan", "magenta", "gold",
}
_COLOUR_KEYS = {"colour", "color", "colours", "colors", "colourway", "colorway"}
_SIZE_KEYS = {"size", "sizes", "sizing", "fit"}
_NOT_A_COLOUR_AFTER = {"gas", "label", "paper", "noise", "water", "fuel"}


def _colour_norm(text: str) -> str:
    return " ".join(same_word(w) for w in _WORD.findall(text.lower()))


def _attribute_values(text: str, keys: set[str]) -> list[str]:
    """Values of "Name: value" lines whose name is one of ``keys`` (case-insensitive)."""
    values = []
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() in keys and value.strip():
            values.append(value.strip())
    return values


def _split_values(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,/;]", value) if part.strip()]


_SIZE_WORDS = {"xxs": "XXS", "xs": "XS", "s": "S", "m": "M", "l": "L", "xl": "XL",
               "xxl": "XXL", "xxxl": "XXXL", "2xl": "XXL", "3xl": "XXXL",
               "small": "S", "medium": "M", "large": "L", "x-large": "XL",
               "extra large": "XL", "extra-large": "XL", "extra small": "XS",
               "extra-small": "XS", "x-small": "XS"}


def _size_key(value: str) -> str:
    """"EU 42" -> "42", "Medium" -> "M", "xl" -> "XL", "Regular" -> "REGULAR"."""
    value = value.strip().lower()
    if value in _SIZE_WORDS:
        return _SIZE_WORDS[value]
    value = re.sub(r"^(?:eu|us|uk|size)\s*", "", value)
    return value.upper()


def _product_sizes(text: str) -> set[str]:
    """Every size a product's "Size(s): ..." attributes offer, as size keys."""
    sizes: set[str] = set()
    for value in _attribute_values(text, _SIZE_KEYS):
        sizes |= _sizes_of(value)
    return sizes


def _sizes_of(value: str) -> set[str]:
    """The size keys of one listing ("S (EU 36-39), M (EU 40-43)": the letters and every
    number in the ranges) or of one variant's size ("EU 42" -> {"42", "EU"...})."""
    sizes: set[str] = set()
    for low, high in re.findall(r"(\d+)\s*-\s*(\d+)", value):
        if int(high) - int(low) < 30:
            sizes.update(str(n) for n in range(int(low), int(high) + 1))
    value = re.sub(r"\([^)]*\)", " ", value)
    for part in _split_values(value):
        sizes.add(_size_key(part))
        sizes.update(_size_key(w) for w in part.split())
    return sizes


def _product_colours(text: str) -> list[str]:
    return [_colour_norm(v) for value in _attribute_values(text, _COLOUR_KEYS)
            for v in _split_values(value)]


# --------------------------------------------------------------------------- facets


@dataclass
class Facets:
    """The catalog's own vocabulary: what a question's words may filter on."""

    brands: set[str] = field(default_factory=set)
    # Every category name seen: leaves, full paths and each path part.
    categories: set[str] = field(default_factory=set)
    # Full category path (as stored in metadata "category_path") -> its parts.
    category_paths: dict[str, tuple[str, ...]] = field(default_factory=dict)
    colours: set[str] = field(default_factory=set)
    sizes: set[str] = field(default_factory=set)

    # Category -> paths of products whose *title* names it but which are filed elsewhere
    # ("Beacon Mini 250 Headlamp" under "Lighting & Electronics"), so naming a product
    # never filters that product out.
    title_paths: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._build_index()

    @classmethod
    def from_records(cls, records: Iterable[tuple[str, Mapping[str, Any]]]) -> Facets:
        """Facets from (chunk text, metadata) pairs of product chunks."""
        facets = cls()
        titled: list[tuple[str, str]] = []
        from shopbot.products import Product

        for text, meta in records:
            product = Product.from_metadata(meta)
            if product is None:
                continue
            brand = product.brand.strip()
            if brand:
                facets.brands.add(brand)
            path = product.category_path.strip()
            if path:
                parts = tuple(_CATEGORY_SPLIT.split(path))
                facets.category_paths[path] = parts
                facets.categories.update(parts)
                if product.title:
                    titled.append((product.title, path))
            for value in _attribute_values(text or "", _COLOUR_KEYS):
                facets.colours.update(_split_values(value))
            for value in _attribute_values(text or "", _SIZE_KEYS):
                facets.sizes.update(_split_values(re.sub(r"\([^)]*\)", " ", value)))
        facets._build_index()
        for title, path in titled:
            for _, _, kind, value in facets.lookup(tokens(title)):
                if kind == "category" and path not in facets.paths_for(value):
                    facets.title_paths.setdefault(value, set()).add(path)
        return facets

    @classmethod
    def from_store(cls, store: Any) -> Facets:
        """Facets from every product record in a CatalogStore (one pass over its chunks)."""
        return cls.from_records(
            (text, meta) for _, text, meta in store.iter_chunks(where={"kind": "product"})
        )

    # Phrase index: normalised n-gram -> (facet kind, canonical value).
    def _build_index(self) -> None:
        index: dict[str, tuple[str, str]] = {}
        for brand in self.brands:
            index[norm(brand)] = ("brand", brand)
        also: dict[str, set[str]] = {}
        for name in sorted(self.categories):
            for phrase in self._category_phrases(name):
                index.setdefault(phrase, ("category", name))
                also.setdefault(phrase, set()).add(name)
        # "tanks" names both "Tanks" (men's) and "Bras & Tanks" (women's).
        self.category_alternatives = {p: names for p, names in also.items() if len(names) > 1}
        for path, parts in self.category_paths.items():
            # "Down" and "Synthetic" are adjectives alone; "down sleeping bag" is a category.
            for parent, child in zip(parts, parts[1:]):
                if not self._names_a_thing(child):
                    for phrase in self._category_phrases(parent, whole_only=True):
                        last = phrase.split()[-1]
                        index.setdefault(f"{norm(child)} {last}", ("category", child))
                        index.setdefault(f"{norm(child)} {phrase}", ("category", child))
        for colour in self.colours:
            key = _colour_norm(colour)
            if key:
                index.setdefault(key, ("colour", key))
        for colour in _BASE_COLOURS:
            index.setdefault(colour, ("colour", colour))
        # Shoppers' words for what catalogs call otherwise, where the catalog uses the word.
        for word, targets in _CATEGORY_SYNONYMS.items():
            target = next((index[norm(t)] for t in targets if norm(t) in index), None)
            if target is not None and target[0] == "category":
                index.setdefault(norm(word), target)
        self._index = {k: v for k, v in index.items() if k}
        self._paths: dict[str, set[str]] = {}
        self._longest = max((len(k.split()) for k in self._index), default=1)

    @staticmethod
    def _names_a_thing(name: str) -> bool:
        words = tokens(name)
        if not words:
            return False
        if len(words) > 1:
            return True
        raw = name.strip().lower()
        return (raw.endswith("s") and not raw.endswith("ss")) or raw in _MASS_NOUNS or \
            raw.endswith(("wear", "ware"))

    def _category_phrases(self, name: str, whole_only: bool = False) -> list[str]:
        phrases = []
        if self._names_a_thing(name) or whole_only:
            phrases.append(norm(name))
        sides = [s for s in _AND_SPLIT.split(name) if s]
        if len(sides) > 1 and not whole_only:
            phrases.extend(norm(s) for s in sides if self._names_a_thing(s))
            # "Expedition & 4-Season Tents": "expedition tents" names it too.
            if self._names_a_thing(sides[-1]):
                noun = norm(sides[-1]).split()[-1]
                phrases.extend(
                    f"{norm(s)} {noun}" for s in sides[:-1] if not self._names_a_thing(s)
                )
        return [p for p in phrases if p]

    def paths_for(self, category: str) -> set[str]:
        """Every stored category path at or below ``category``."""
        key = norm(category)
        if key not in self._paths:
            self._paths[key] = {
                path for path, parts in self.category_paths.items()
                if any(norm(part) == key for part in parts) or norm(path) == key
            }
        return set(self._paths[key])

    def lookup(self, words: list[str]) -> list[tuple[int, int, str, str]]:
        """Longest facet phrases in a token list: (start, end, kind, value), left to right."""
        found = []
        i = 0
        while i < len(words):
            for size in range(min(self._longest, len(words) - i), 0, -1):
                hit = self._index.get(" ".join(words[i:i + size]))
                if hit:
                    found.append((i, i + size, hit[0], hit[1]))
                    i += size
                    break
            else:
                i += 1
        return found


# --------------------------------------------------------------------------- constraints


@dataclass(frozen=True)
class Measure:
    """A bound on a measured attribute ("for 6 people", "under 1 kg", "rated to -10 °C"),
    in its dimension's base unit (shopbot.quantities); a product is judged by its main value
    of that dimension (or the one ``label`` names: "limit")."""

    dimension: str
    low: float | None = None  # inclusive
    high: float | None = None  # inclusive
    label: tuple[str, ...] = ()
    text: str = ""  # as the shopper wrote it, for the filter chip
    # Relative to one product ("smaller than the Icebox 45"): for this question only.
    relative: bool = False

    def fits(self, value: float | None) -> bool:
        if value is None or value != value:  # unknown (None or NaN): not shown to fit
            return False
        if self.low is not None and value < self.low - 1e-9:
            return False
        return self.high is None or value <= self.high + 1e-9

    def value_of(self, product: Any) -> float | None:
        if self.dimension == "price":
            return product.price()
        from shopbot.quantities import main_value

        return main_value(product.measurements(), self.dimension, self.label)

    def to_dict(self) -> dict[str, Any]:
        return {"dimension": self.dimension, "low": self.low, "high": self.high,
                "label": list(self.label), "text": self.text, "relative": self.relative}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Measure:
        return cls(str(data["dimension"]), data.get("low"), data.get("high"),
                   tuple(data.get("label") or ()), str(data.get("text") or ""),
                   bool(data.get("relative")))


@dataclass
class Constraints:
    """What a question asks of the products, beyond its meaning."""

    price_min: float | None = None
    price_max: float | None = None
    currency: str | None = None  # as asked; prices are compared as stored (no conversion)
    sort: str | None = None  # "price_asc" | "price_desc" | None
    brands: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    # The stored category paths the categories cover (filled by parse from the facets).
    category_paths: set[str] = field(default_factory=set)
    colours: set[str] = field(default_factory=set)
    sizes: set[str] = field(default_factory=set)
    in_stock: bool | None = None
    text: str = ""
    # Bounds on measured attributes (weight, temperature rating, capacity, people, ...).
    measures: list[Measure] = field(default_factory=list)
    # What ``sort`` was asked with ("lightest", "highest capacity") and the words naming the
    # attribute it sorts by, when they say which one ("lowest *limit* rating").
    sort_text: str = ""
    sort_label: tuple[str, ...] = ()

    @property
    def sort_dimension(self) -> str | None:
        """What ``sort`` orders by: "price", "mass", ..., "size" (people, volume, area or
        length, whichever the products have); None without a sort."""
        return self.sort.rsplit("_", 1)[0] if self.sort else None

    @property
    def sort_descending(self) -> bool:
        return bool(self.sort and self.sort.endswith("_desc"))

    @property
    def filters(self) -> bool:
        """True when something would narrow the products (sort alone does not)."""
        return any((self.price_min is not None, self.price_max is not None, self.brands,
                    self.categories, self.colours, self.sizes, self.in_stock is not None,
                    self.measures))

    def __bool__(self) -> bool:
        return self.filters or self.sort is not None

    def to_where(self) -> dict[str, Any]:
        """A Chroma ``where`` on product metadata. Colour and size live in the chunk text,
        and measured attributes in the product's description, so they are not in it:
        post-filter with ``matches``."""
        conditions: list[dict[str, Any]] = [{"kind": "product"}]
        if self.price_min is not None:
            conditions.append({"price_max": {"$gte": float(self.price_min)}})
        if self.price_max is not None:
            conditions.append({"price": {"$lte": float(self.price_max)}})
        if self.brands:
            conditions.append({"brand": {"$in": sorted(self.brands)}})
        if self.category_paths:
            conditions.append({"category_path": {"$in": sorted(self.category_paths)}})
        elif self.categories:
            conditions.append({"category": {"$in": sorted(self.categories)}})
        if self.in_stock is not None:
            conditions.append({"in_stock": self.in_stock})
        return conditions[0] if len(conditions) == 1 else {"$and": conditions}

    def matches(self, meta: Mapping[str, Any], text: str = "") -> bool:
        """Whether one stored product chunk satisfies every constraint. A product sold in
        options fits when one of its variants does: "size M under $100" needs a variant in
        M that costs under $100 (and is in stock, when that is asked too)."""
        from shopbot.products import Product

        if meta.get("kind", "product") != "product":
            return False
        # A record without fields (only its text) is judged by its text alone.
        product = Product.from_metadata(meta) or Product(id="", title="")
        if self.brands and norm(product.brand) not in {norm(b) for b in self.brands}:
            return False
        if self.categories and not self.category_ok(product.category_path):
            return False
        if any(not m.fits(m.value_of(product)) for m in self.measures):
            return False
        if product.has_options:
            return bool(self.matching_variants(product, text))
        price = product.price()
        if self.price_min is not None and (price is None or price < self.price_min):
            return False
        if self.price_max is not None and (price is None or price > self.price_max):
            return False
        if self.in_stock is not None and product.available() is not self.in_stock:
            return False
        if self.colours and not self._colour_ok(_product_colours(text)):
            return False
        if self.sizes and not (self.sizes & _product_sizes(text)):
            return False
        return True

    def matching_variants(self, product: Any, text: str = "") -> list[Any]:
        """The variants of ``product`` that satisfy the price, stock, colour and size
        constraints (brand and category are the product's). A variant without a colour or
        size option is judged by the product's listed colours or sizes."""
        if self.in_stock is False and not (self.colours or self.sizes) \
                and product.available() is not False:
            return []  # "out-of-stock tents": tents that are out of stock, not one size
        found = []
        for variant in product.variants:
            price = variant.current_price()
            if self.price_min is not None and (price is None or price < self.price_min):
                continue
            if self.price_max is not None and (price is None or price > self.price_max):
                continue
            if self.in_stock is not None and variant.available() is not self.in_stock:
                continue
            if self.colours:
                colour = variant.option("colour")
                offered = [_colour_norm(colour)] if colour else _product_colours(text)
                if not self._colour_ok(offered):
                    continue
            if self.sizes:
                size = variant.option("size")
                offered = _sizes_of(size) if size else _product_sizes(text)
                if not self.sizes & offered:
                    continue
            found.append(variant)
        return found

    def _colour_ok(self, offered: list[str]) -> bool:
        return any(re.search(rf"\b{re.escape(c)}\b", o) for c in self.colours for o in offered)

    def category_ok(self, path: str) -> bool:
        """Whether a product's category path ("Camping > Tents") fits the categories asked."""
        if self.category_paths:
            return path in self.category_paths
        wanted = {norm(c) for c in self.categories}
        parts = {norm(p) for p in _CATEGORY_SPLIT.split(path)} | {norm(path)}
        return bool(wanted & parts)

    def chips(self) -> list[str]:
        """Short labels, one per constraint: "under $150", "brand: Ridgeline", "size M"."""
        chips = []
        low, high, cur = self.price_min, self.price_max, self.currency
        if low is not None and high is not None:
            chips.append(f"{format_budget(low, cur)}–{format_budget(high, cur)}")
        elif high is not None:
            chips.append(f"under {format_budget(high, cur)}")
        elif low is not None:
            chips.append(f"over {format_budget(low, cur)}")
        if self.sort == "price_asc" and not self.sort_text:
            chips.append("cheapest first")
        elif self.sort == "price_desc" and not self.sort_text:
            chips.append("most expensive first")
        elif self.sort:
            chips.append(f"{self.sort_text or self.sort.replace('_', ' ')} first")
        chips.extend(m.text for m in self.measures if m.text)
        chips.extend(f"brand: {b}" for b in sorted(self.brands))
        chips.extend(f"category: {c}" for c in sorted(self.categories))
        chips.extend(f"colour: {c}" for c in sorted(self.colours))
        chips.extend(f"size {s}" for s in sorted(self.sizes))
        if self.in_stock is True:
            chips.append("in stock")
        elif self.in_stock is False:
            chips.append("out of stock")
        return chips

    def describe(self) -> str:
        return ", ".join(self.chips())

    # -- remembering across turns ------------------------------------------------------------

    def remembered(self) -> Constraints:
        """What carries over to the next question: budget, brand, colour, size and stock
        (category, sort and words belong to the question that asked them)."""
        return Constraints(
            price_min=self.price_min, price_max=self.price_max, currency=self.currency,
            brands=set(self.brands), colours=set(self.colours), sizes=set(self.sizes),
            in_stock=self.in_stock, measures=[m for m in self.measures if not m.relative],
        )

    def without(self, chip: str) -> Constraints:
        """A copy without the constraint that ``chips()`` labels ``chip`` (the shopper
        removed it)."""
        out = Constraints(**{**self.to_dict(), "measures": list(self.measures),
                             "sort_label": self.sort_label, "brands": set(self.brands),
                             "categories": set(self.categories),
                             "category_paths": set(self.category_paths),
                             "colours": set(self.colours), "sizes": set(self.sizes)})
        for single in Constraints(price_min=self.price_min, price_max=self.price_max,
                                  currency=self.currency).chips():
            if chip == single:
                out.price_min = out.price_max = None
        if chip in ("cheapest first", "most expensive first") or (
                self.sort and chip == f"{self.sort_text or self.sort.replace('_', ' ')} first"):
            out.sort = None
        out.measures = [m for m in self.measures if m.text != chip]
        if chip in ("in stock", "out of stock"):
            out.in_stock = None
        out.brands = {b for b in out.brands if chip != f"brand: {b}"}
        if chip.startswith("category: "):
            out.categories = {c for c in out.categories if chip != f"category: {c}"}
            out.category_paths = set()  # re-derived by the next parse
        out.colours = {c for c in out.colours if chip != f"colour: {c}"}
        out.sizes = {s for s in out.sizes if chip != f"size {s}"}
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (session state, the API)."""
        return {
            "price_min": self.price_min, "price_max": self.price_max, "currency": self.currency,
            "sort": self.sort, "brands": sorted(self.brands),
            "categories": sorted(self.categories), "category_paths": sorted(self.category_paths),
            "colours": sorted(self.colours), "sizes": sorted(self.sizes),
            "in_stock": self.in_stock, "text": self.text,
            "measures": [m.to_dict() for m in self.measures],
            "sort_text": self.sort_text, "sort_label": list(self.sort_label),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Constraints:
        data = dict(data or {})
        for name in ("brands", "categories", "category_paths", "colours", "sizes"):
            data[name] = set(data.get(name) or ())
        data["measures"] = [Measure.from_dict(m) for m in data.get("measures") or ()]
        data["sort_label"] = tuple(data.get("sort_label") or ())
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def remember(remembered: Constraints, new: Constraints) -> Constraints:
    """The constraints for a new question: what it asks, plus what was asked before and is
    not changed by it. Budget, brand, colour, size and stock carry over; category, sort and
    the words are the new question's own (a new subject is not filtered by an old one)."""
    if not remembered:
        return new
    price_min, price_max, currency = new.price_min, new.price_max, new.currency
    if price_min is None and price_max is None:
        price_min, price_max = remembered.price_min, remembered.price_max
        currency = remembered.currency
    return Constraints(
        price_min=price_min,
        price_max=price_max,
        currency=currency,
        sort=new.sort,
        brands=set(new.brands or remembered.brands),
        categories=set(new.categories),
        category_paths=set(new.category_paths),
        colours=set(new.colours or remembered.colours),
        sizes=set(new.sizes or remembered.sizes),
        in_stock=new.in_stock if new.in_stock is not None else remembered.in_stock,
        text=new.text,
        # A new bound on a dimension replaces the remembered one; the others carry over.
        measures=[*new.measures, *(m for m in remembered.measures
                                   if m.dimension not in {n.dimension for n in new.measures})],
        sort_text=new.sort_text,
        sort_label=new.sort_label,
    )


# --------------------------------------------------------------------------- parsing

# Budgets are read in these currencies, written as shopbot.vocabulary spells them: a symbol
# or code before the amount, a symbol, code or word ("bucks", "quid") after it.
_BUDGET_CODES = ("USD", "EUR", "GBP")
_CUR_SYMBOLS = [s for s, c in CURRENCY_SYMBOLS.items() if c in _BUDGET_CODES and s != c]
_CUR_WORDS = [w for w, c in {**CURRENCY_WORDS, **CURRENCY_SLANG}.items() if c in _BUDGET_CODES]
_CUR_CODES = "|".join(rf"{c}\s?" for c in _BUDGET_CODES)
_CUR_PREFIX = rf"(?:{alternatives(_CUR_SYMBOLS)}|{_CUR_CODES})"
_CUR_SIGNS = [s for s in _CUR_SYMBOLS if len(s) == 1]  # after an amount: "50€", not "50US$"
_CUR_SUFFIX = rf"(?:\s?{alternatives([*_CUR_WORDS, *_BUDGET_CODES, *_CUR_SIGNS])}\b)"
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_AMOUNT = (rf"(?P<{{p}}cur1>{_CUR_PREFIX})?(?P<{{p}}num>{_NUM})(?P<{{p}}k>k\b)?"
           rf"(?P<{{p}}cur2>{_CUR_SUFFIX})?")


def _amount(prefix: str) -> str:
    return _AMOUNT.replace("{p}", prefix)


# A bare number followed by one of these is a quantity, not a price: the vocabulary's units
# (shopbot.vocabulary.UNITS, but "in") and other words that count or measure things.
_NOT_PRICE_WORDS = (
    r"man|ltr|kilos?|km|miles?|°|deg|degrees?|c|f|"
    r"days?|nights?|weeks?|months?|years?|yrs?|hours?|hrs?|h|mins?|minutes?|"
    r"seasons?|season|pieces?|pcs|pack|items?|products?|results?|reviews?|stars?|"
    r"units?|%|percent|x|d|denier|psi|bar|cl|qt|quarts?"
)
_UNITS = (
    rf"(?:{alternatives({u.lower() for u in UNITS} - AMBIGUOUS_UNITS)}|{_NOT_PRICE_WORDS})"
)
_AFTER = r"(?![\w-])"
_UNIT_AFTER = re.compile(rf"\s*-?\s*{_UNITS}(?![\w])", re.I)

_UPPER = (r"under|below|less\s+than|cheaper\s+than|lower\s+than|no\s+more\s+than|not\s+more\s+than|"
          r"at\s+most|max(?:imum)?|up\s+to|within|below\s+or\s+at|"
          r"(?:a\s+|my\s+|our\s+)?budget(?:\s+(?:of|is|of\s+about|around))?|tops|<=?")
_LOWER = (r"over|above|more\s+than|at\s+least|min(?:imum)?|pricier\s+than|"
          r"more\s+expensive\s+than|higher\s+than|starting\s+(?:at|from)|>=?")
_AROUND = r"around|about|roughly|approximately|approx\.?|circa|close\s+to|near|~"

# A lower bound denied by the words before it ("don't want to spend more than").
_DENIED = re.compile(r"\b(?:don'?t|do\s+not|dont|won'?t|wont|not|never|can'?t|cannot)\b"
                     r"(?:\s+[\w']+){0,4}\s*$", re.I)

_RANGE = re.compile(
    rf"(?:(?P<between>between|from|priced|costing|in\s+the\s+range(?:\s+of)?)\s+)?"
    rf"{_amount('a')}\s*(?:-|–|—|to|and)\s*{_amount('b')}{_AFTER}",
    re.I,
)
_BOUND = re.compile(
    rf"\b(?:(?P<upper>{_UPPER})|(?P<lower>{_LOWER})|(?P<around>{_AROUND}))\s*:?\s*"
    rf"{_amount('x')}{_AFTER}",
    re.I,
)
_POSTFIX = re.compile(
    rf"(?<![\w.-]){_amount('y')}\s*"
    rf"(?:(?P<ycap>or\s+(?:less|under|below|cheaper|lower)|and\s+(?:under|below|less)|"
    rf"max(?:imum)?|tops|at\s+most|or\s+so\s+max|to\s+spend)|(?P<yfloor>or\s+(?:more|over|above|higher)|"
    rf"and\s+(?:up|over|above)|plus|\+))(?![\w])",
    re.I,
)
# Words before a bound that make it about something other than price.
_NOT_PRICE_BEFORE = re.compile(
    r"(?:weigh\w*|weight|sleeps?|fits?|holds?|capacity|volume|rated|rating|temperature|temp|"
    r"runtime|lasts?|battery|burn\w*|boils?|packs?\s+down|people|persons?|size|length|height|"
    r"width|lumens|output|degrees?|warranty|returns?|within)\s*$",
    re.I,
)
_PRICE_CONTEXT = re.compile(
    r"\b(?:price[ds]?|pricing|cost(?:s|ing)?|spend|pay|budget|dollars?|bucks|euros?|quid|"
    r"afford|cheap\w*|expensive|money)\b|[$€£]",
    re.I,
)

_SORT_ASC = re.compile(
    r"\b(?:cheapest|least\s+expensive|price\s+difference|difference\s+in\s+price|lowest[\s-]+(?:price[ds]?|cost)|lowest[\s-]+priced|"
    r"most\s+affordable|cheap(?:er)?|inexpensive|affordable|budget[\s-]+friendly|"
    r"low[\s-]+cost|not\s+(?:too\s+|that\s+|very\s+|so\s+)?expensive|"
    r"(?:sort(?:ed)?|order(?:ed)?)\s+by\s+price(?:\s+(?:ascending|low\s+to\s+high))?|"
    r"price\s+low\s+to\s+high)\b",
    re.I,
)
_SORT_DESC = re.compile(
    r"\b(?:most\s+expensive|priciest|highest[\s-]+(?:price[ds]?|cost)|highest[\s-]+priced|"
    r"top[\s-]+of[\s-]+the[\s-]+(?:range|line)|price\s+high\s+to\s+low|"
    r"(?:sort(?:ed)?|order(?:ed)?)\s+by\s+price\s+(?:descending|high\s+to\s+low))\b",
    re.I,
)
_IN_STOCK = re.compile(
    r"\b(?:(?:currently\s+|right\s+now\s+)?in[\s-]stock|"
    r"available\s+(?:now|today|right\s+now|to\s+buy)|"
    r"currently\s+available|(?:ready|available)\s+to\s+ship|ships?\s+(?:today|now)|"
    r"not\s+sold\s+out|on\s+hand)\b",
    re.I,
)
_OUT_OF_STOCK = re.compile(r"\b(?:out[\s-]of[\s-]stock|sold[\s-]out|unavailable)\b", re.I)
# "Is the Alpine 2 in stock?" asks about a product's stock; it must not hide that product.
_STATUS_QUESTION = re.compile(
    r"^\s*(?:is|are|was|were|will|isn't|aren't|when|how\s+many|how\s+much|does|has|"
    r"(?:do|can)\s+(?:you|i|we)\s+(?:still\s+)?(?:have|get|buy|order)\s+(?:the|this|that|it|"
    r"one|a|an)\b)\b",
    re.I,
)
# ...unless it asks about a set of products ("Are there any tents in stock?").
_SET_CUE = re.compile(
    r"\b(?:any|which|what|some|anything|something|everything|all|only|options|ones|there)\b",
    re.I,
)

_SIZE = re.compile(
    r"\b(?:in\s+)?(?:a\s+|an\s+)?(?:size|sz\.?)(?:\s*:\s*|\s+)"
    r"(?P<size>(?:eu|us|uk)\s*\d{1,2}(?:\.5)?|\d{1,2}(?:\.5)?|x{1,3}[sl]|[23]xl|"
    r"extra[\s-](?:small|large)|x-(?:small|large)|small|medium|large|regular|long|wide|short|"
    r"[sml])\b"
    r"|\b(?P<size2>x{1,3}l|xxs|xs|[23]xl)\b"
    r"|\b(?:in\s+(?:an?\s+)?|an?\s+)"
    r"(?P<size3>small|medium|large|extra[\s-]large|extra[\s-]small|[SML])"
    r"(?=\s*(?:[?.!,]|$|please|size|one))"
    r"|\b(?P<size4>small|medium|large|extra[\s-]large|extra[\s-]small)\s+size\b"
    r"|\b(?P<size5>(?:eu|us|uk)\s*\d{1,2}(?:\.5)?)\b(?!\s*-)",
    re.I,
)
_COLOUR_CONTEXT = re.compile(r"\b(?:in|colou?r(?:ed)?|shade)\b", re.I)
_QUICK = re.compile(
    r"[$€£\d]|under|below|less|cheap|expensive|pric|budget|stock|avail|sold|size|small|"
    r"medium|large|afford|most|more|least|lowest|highest|max|min|top|ship|hand|\bxs\b|\bxl\b|"
    r"est\b|er\b|spacious|compact|powerful|"
    r"\b(?:in|an?)\s+[sml]\b",
    re.I,
)


def _currency_of(*raw: str | None) -> str | None:
    codes = {currency_of(r) for r in raw if r}
    if not codes:
        return None
    for code in ("EUR", "GBP"):  # "$50 to €60": the amount in euros decides
        if code in codes:
            return code
    return "USD"


def _value(match: re.Match[str], p: str) -> float:
    amount = float(match.group(f"{p}num").replace(",", ""))
    return amount * 1000 if match.group(f"{p}k") else amount


def _has_currency(match: re.Match[str], *prefixes: str) -> bool:
    return any(match.group(f"{p}cur1") or match.group(f"{p}cur2") for p in prefixes)


def _inside_code(question: str, start: int, end: int) -> bool:
    """Whether a number is part of a SKU or model code ("RL-TNT-001", "X2-40")."""
    before = question[max(0, start - 1):start]
    after = question[end:end + 1]
    return bool(re.match(r"[A-Za-z]", before)) or bool(re.match(r"[A-Za-z0-9]", after)) or (
        before == "-" and bool(re.search(r"[A-Za-z0-9]-$", question[max(0, start - 2):start]))
    )


def parse(
    question: str, facets: Facets | None = None, names: Iterable[tuple[int, int]] = ()
) -> Constraints:
    """The constraints a question asks for; an empty Constraints when it asks none.
    ``names``: where the question spells out a product's name ("Red Rock Kettle",
    "Grey Goose Pillow"): its words are the product, not a colour or size to filter on."""
    original = question
    for start, end in names:
        question = question[:start] + " " * (end - start) + question[end:]
    found = Constraints(text=original)
    spans: list[tuple[int, int]] = []
    if _QUICK.search(question):
        _parse_prices(question, found, spans)
        _parse_sort(question, found, spans)
        _parse_measures(question, found, spans)
        _parse_stock(question, found, spans)
        _parse_sizes(question, found, spans)
    if facets is not None:
        _parse_facets(question, facets, found, spans)
        if found.colours:
            _parse_size_before_colour(question, found, spans)
    if spans:
        found.text = _remove(original, spans)
    return found


def _parse_prices(question: str, found: Constraints, spans: list[tuple[int, int]]) -> None:
    price_context = bool(_PRICE_CONTEXT.search(question))
    for match in _RANGE.finditer(question):
        if _inside_code(question, match.start("anum"), match.end("bnum")) and not _has_currency(
            match, "a", "b"
        ):
            continue
        low, high = _value(match, "a"), _value(match, "b")
        marked = _has_currency(match, "a", "b")
        sep = question[match.end("anum"):match.start("bnum")]
        if not marked and _UNIT_AFTER.match(question, match.end()):
            continue
        if not marked:
            # A bare "20 to 40" is a price only with "between"/"priced" and price talk.
            if not (match.group("between") and (price_context or low >= 10)):
                continue
            if 1900 <= low <= 2100 and 1900 <= high <= 2100:
                continue  # "from 2020 to 2024": years
            if "-" in sep and not price_context:
                continue
        if high <= low:
            continue
        found.price_min, found.price_max = low, high
        found.currency = _currency_of(match.group("acur1"), match.group("acur2"),
                                      match.group("bcur1"), match.group("bcur2"))
        spans.append(match.span())
        return
    for match in _BOUND.finditer(question):
        marked = _has_currency(match, "x")
        if not marked:
            if _inside_code(question, match.start("xnum"), match.end("xnum")):
                continue
            if _UNIT_AFTER.match(question, match.end()):
                continue
            if _NOT_PRICE_BEFORE.search(question[:match.start()]):
                continue
            if _value(match, "x") < 10 and not price_context:
                continue  # "for up to 4", "more than 2": a count, not a price
            word = match.group("upper") or match.group("lower") or ""
            if word.startswith(("<", ">")) or (match.group("around") and not price_context):
                continue  # "< 5", "about 40": too vague without a currency or price talk
        amount = _value(match, "x")
        # "don't wanna spend more than 50 bucks": a cap, said the other way round.
        denied = match.group("lower") and _DENIED.search(question[max(0, match.start() - 40):
                                                                   match.start()])
        if match.group("upper") or denied:
            found.price_max = amount if found.price_max is None else min(found.price_max, amount)
        elif match.group("lower"):
            found.price_min = amount if found.price_min is None else max(found.price_min, amount)
        else:
            found.price_min, found.price_max = round(amount * 0.85, 2), round(amount * 1.15, 2)
        found.currency = found.currency or _currency_of(match.group("xcur1"), match.group("xcur2"))
        spans.append(match.span())
    for match in _POSTFIX.finditer(question):
        if not _has_currency(match, "y") and not (price_context and _value(match, "y") >= 1):
            continue
        if _inside_code(question, match.start("ynum"), match.end("ynum")):
            continue
        if any(start <= match.start() < end for start, end in spans):
            continue
        amount = _value(match, "y")
        if match.group("ycap"):
            found.price_max = amount if found.price_max is None else min(found.price_max, amount)
        else:
            found.price_min = amount if found.price_min is None else max(found.price_min, amount)
        found.currency = found.currency or _currency_of(match.group("ycur1"), match.group("ycur2"))
        spans.append(match.span())
    low, high = found.price_min, found.price_max
    if low is not None and high is not None and low > high:
        found.price_min, found.price_max = high, low


def _parse_sort(question: str, found: Constraints, spans: list[tuple[int, int]]) -> None:
    desc = _SORT_DESC.search(question)
    asc = _SORT_ASC.search(question)
    # Both in one question ("cheapest ... not the most expensive"): the first one asked wins.
    match = min((m for m in (asc, desc) if m), key=lambda m: m.start(), default=None)
    measured = _measured_sort(question) or _labelled_sort(question)
    if measured and (not match or measured[0].start() < match.start()):
        m, dimension, descending, label = measured
        found.sort = f"{dimension}_{'desc' if descending else 'asc'}"
        found.sort_text, found.sort_label = " ".join(m.group(0).lower().split()), label
        spans.append(m.span())
    elif match:
        found.sort = "price_desc" if match is desc else "price_asc"
        spans.append(match.span())


# "lightest", "warmest", "biggest" (shopbot.vocabulary.SUPERLATIVES), and "the highest
# capacity", "most lumens", "lowest limit rating": a superlative of a measured attribute.
_SUPERLATIVE = re.compile(
    rf"\b(?P<word>{alternatives(SUPERLATIVES)}|{alternatives(COMPARATIVES)}(?!\s+than))\b"
    r"|\b(?P<dir>highest|most|max(?:imum)?|greatest|lowest|least|min(?:imum)?|fewest)"
    r"\s+(?P<what>(?:[a-z]+\s+){0,2}[a-z]+)\b",
    re.I,
)
_MORE = {"highest", "most", "max", "maximum", "greatest"}


def _measured_sort(question: str):
    """(match, dimension, descending, label words) of the first superlative of a measured
    attribute in ``question``, or None."""
    for m in _SUPERLATIVE.finditer(question):
        if m.group("word"):
            word = " ".join(m.group("word").lower().split())
            dimension, descending = SUPERLATIVES.get(word) or COMPARATIVES[word]
            return m, dimension, descending, ()
        words = m.group("what").lower().split()
        for end in range(len(words), 0, -1):
            dimension = dimension_of_word(words[end - 1])
            if dimension and dimension != "price":
                label = tuple(w for w in words[:end] if dimension_of_word(w) is None)
                descending = m.group("dir").lower() in _MORE or m.group("dir").lower().startswith("max")
                if dimension == "temperature" and "warm" in words:
                    descending = False
                what = re.match(r"(?:\S+\s+){%d}\S+" % (end - 1), m.group("what"))
                cut = m.start("what") + (what.end() if what else len(m.group("what")))
                return _Span(m.start(), cut, question[m.start():cut]), dimension, descending, label
    return None


# "which is more waterproof?", "the most breathable shell": a quantity the catalog labels
# with that word ("28000 mm waterproof"); the question reader keeps it only when some
# product has one (shopbot.query).
_LABELLED = re.compile(r"\b(?P<dir>more|most|less|least)\s+(?P<word>[a-z][a-z-]{3,})\b", re.I)
_NOT_LABELS = frozenset({"than", "expensive", "affordable", "popular", "recent", "people",
                         "person", "items", "products", "options", "colours", "colors", "sizes",
                         "about", "info", "information", "details", "like", "often"})


def _labelled_sort(question: str):
    for m in _LABELLED.finditer(question):
        word = m.group("word").lower()
        if word in _NOT_LABELS or dimension_of_word(word):
            continue
        return m, "any", m.group("dir").lower() in ("more", "most"), (word,)
    return None


@dataclass(frozen=True)
class _Span:
    """A match-like (start, end, text) for a phrase found in parts."""

    begin: int
    finish: int
    text: str

    def start(self) -> int:
        return self.begin

    def end(self) -> int:
        return self.finish

    def span(self) -> tuple[int, int]:
        return self.begin, self.finish

    def group(self, _index: int = 0) -> str:
        return self.text


# A bound before a quantity: "under 1 kg", "at least 50 litres", "rated to -10 °C".
_MEASURE_UPPER = re.compile(rf"(?:{_UPPER}|lighter\s+than|smaller\s+than|shorter\s+than)\s*:?\s*$",
                            re.I)
_MEASURE_LOWER = re.compile(rf"(?:{_LOWER}|bigger\s+than|larger\s+than|longer\s+than|"
                            r"warmer\s+than|brighter\s+than)\s*:?\s*$", re.I)
_MEASURE_AROUND = re.compile(rf"(?:{_AROUND})\s*:?\s*$", re.I)
_MEASURE_FOR = re.compile(r"(?:\bfor|\brated\s+(?:to|for|at)|\bdown\s+to|\bgood\s+(?:to|for)|"
                          r"\bsleeps|\bfits|\bholds)\s+(?:up\s+to\s+)?$", re.I)
_OR_MORE = re.compile(r"^\s*(?:or\s+(?:more|over|above|bigger|larger|higher|warmer|brighter|"
                      r"longer)|\+|and\s+(?:up|over|above))(?!\w)", re.I)
_OR_LESS = re.compile(r"^\s*(?:or\s+(?:less|under|below|lighter|smaller|lower|colder|cooler|"
                      r"shorter)|max(?:imum)?|and\s+(?:under|below|less))(?!\w)", re.I)


def _parse_measures(question: str, found: Constraints, spans: list[tuple[int, int]]) -> None:
    """Bounds on measured attributes: "for 6 people", "a 2-person tent", "under 1 kg",
    "sleeping bag for -10 degrees", "at least 50 litres"."""
    from shopbot.quantities import read

    for q in read(question):
        if any(start <= q.start < end for start, end in spans):
            continue
        before, after = question[: q.start], question[q.end:]
        start, end = q.start, q.end
        low = high = None
        if (m := _MEASURE_UPPER.search(before)) is not None:
            high, start = q.value, m.start()
        elif (m := _MEASURE_LOWER.search(before)) is not None:
            low, start = q.value, m.start()
        elif (m := _MEASURE_AROUND.search(before)) is not None:
            low, high, start = q.value - abs(q.value) * 0.15, q.value + abs(q.value) * 0.15, m.start()
        elif (m := _MEASURE_FOR.search(before)) is not None:
            start = m.start()
            if q.dimension in LOWER_IS_MORE:
                high = q.value
            elif q.dimension == "people":
                low = high = q.value  # "a tent for 2 people": a 2-person tent
            else:
                low = q.value
        elif q.dimension == "people" and not q.raw.lower().startswith("sleeps"):
            low = high = q.value  # "a 2-person tent", "4 person": that many
        if (m := _OR_MORE.match(after)) is not None:
            low, high, end = q.value, None, q.end + m.end()
        elif (m := _OR_LESS.match(after)) is not None:
            low, high, end = None, q.value, q.end + m.end()
        if low is None and high is None:
            continue  # a bare "2.5L" or "900 lumens" is part of a name or a fact, not a bound
        label = tuple(w for w in q.label if dimension_of_word(w) is None and w not in _BOUND_WORDS)
        text = " ".join(question[start:end].split())
        found.measures = [m for m in found.measures if m.dimension != q.dimension]
        found.measures.append(Measure(q.dimension, low, high, label[:2] if label else (), text))
        spans.append((start, end))


_BOUND_WORDS = frozenset({
    "under", "below", "less", "than", "over", "above", "more", "least", "most", "max",
    "maximum", "min", "minimum", "around", "about", "roughly", "for", "rated", "to", "down",
    "up", "good", "sleeps", "fits", "holds", "within", "lighter", "heavier", "bigger",
    "larger", "smaller", "warmer", "brighter", "or", "plus", "tent", "bag", "backpack",
})


def _parse_stock(question: str, found: Constraints, spans: list[tuple[int, int]]) -> None:
    out = _OUT_OF_STOCK.search(question)
    inside = _IN_STOCK.search(question)
    if not (out or inside):
        return
    # "is it in stock?", "the 8 person one - is it in stock?": a question about it, no filter.
    at = (out or inside).start()
    starts = [m.end() for m in re.finditer(r"[.?!;,]|\s[-–—]\s", question[:at])]
    clause = question[starts[-1] if starts else 0:]
    if (_STATUS_QUESTION.search(question) and not _SET_CUE.search(question)) or (
            _STATUS_QUESTION.search(clause) and not _SET_CUE.search(clause)):
        return
    if out and not (inside and "not" in inside.group(0).lower()):
        found.in_stock = False
        spans.append(out.span())
    elif inside:
        found.in_stock = True
        spans.append(inside.span())


# "the Bella Tank in medium blue": a size word right before a colour asked for.
_SIZE_BEFORE_COLOUR = re.compile(
    r"\b(?:in\s+(?:an?\s+)?|an?\s+)(?P<size>small|medium|large|extra[\s-]large|"
    r"extra[\s-]small)\s+(?P<next>[a-z]+)", re.I)


def _parse_size_before_colour(question: str, found: Constraints,
                              spans: list[tuple[int, int]]) -> None:
    colours = {same_word(c) for colour in found.colours for c in colour.split()}
    for match in _SIZE_BEFORE_COLOUR.finditer(question):
        if same_word(match.group("next")) in colours:
            found.sizes.add(_size_key(re.sub(r"[\s-]+", " ", match.group("size"))))
            spans.append(match.span("size"))


def _parse_sizes(question: str, found: Constraints, spans: list[tuple[int, int]]) -> None:
    for match in _SIZE.finditer(question):
        raw = next(g for g in (match.group("size"), match.group("size2"), match.group("size3"),
                               match.group("size4"), match.group("size5")) if g)
        # A lone S/M/L without the word "size" only counts in capitals ("in a M?").
        if match.group("size3") and len(raw) == 1 and raw not in "SML":
            continue
        found.sizes.add(_size_key(re.sub(r"[\s-]+", " ", raw)))
        spans.append(match.span())


def _parse_facets(question: str, facets: Facets, found: Constraints,
                  spans: list[tuple[int, int]]) -> None:
    lowered = question.lower().replace("’", "'")
    words = [(m, singular(m.group(0))) for m in _WORD.finditer(lowered)]
    toks = [same_word(w) for _, w in words]
    for start, end, kind, value in facets.lookup(toks):
        following = toks[end] if end < len(toks) else ""
        if kind == "brand":
            if following in _SHOP_WORDS or singular(following) in _SHOP_WORDS:
                continue
            found.brands.add(value)
        elif kind == "category":
            phrase = " ".join(toks[start:end])
            found.categories.update(facets.category_alternatives.get(phrase, {value}))
        elif kind == "colour":
            if following in _NOT_A_COLOUR_AFTER:
                continue
            if value not in _BASE_COLOURS and " " not in value:
                before = question[:words[start][0].start()]
                after = question[words[end - 1][0].end():]
                if not (_COLOUR_CONTEXT.search(before[-12:]) or
                        re.match(r"\s*(?:-?colou?r(?:ed)?|shade)\b", after, re.I)):
                    continue
            found.colours.add(value)
    if found.categories:
        # Keep the most specific: "down sleeping bags" is Down, not Sleeping Bags too.
        paths = {c: facets.paths_for(c) for c in found.categories}
        keep = {c for c in found.categories
                if not any(o != c and paths[o] and paths[o] < paths[c] for o in found.categories)}
        found.categories = keep
        found.category_paths = set().union(
            *(paths[c] | facets.title_paths.get(c, set()) for c in keep)
        )


def _remove(question: str, spans: list[tuple[int, int]]) -> str:
    """The question without the constraint phrases, for the semantic search."""
    keep, last = [], 0
    for start, end in sorted(spans):
        if start >= last:
            keep.append(question[last:start])
            last = end
        else:
            last = max(last, end)
    keep.append(question[last:])
    text = re.sub(r"\s+", " ", " ".join(keep)).strip(" ,;")
    text = re.sub(r"\s+([?.!,])", r"\1", text)
    text = re.sub(r"(?:[\s,]+(?:,|in|for|with|at|and|or|that|are|is|which|from|of|by|a|an))+"
                  r"(?=[?.!]?$)", "", text, flags=re.I)
    text = re.sub(r",\s*(?=[?.!,]|$)", "", text).strip()
    return text if re.search(r"[A-Za-z]{3}", text) else question
