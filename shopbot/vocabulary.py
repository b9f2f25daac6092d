"""The shop's vocabulary, owned once: how a price is shown, what an option is called in
other words and languages (Color / Colour / Farbe / Couleur are one option, "colour"), and
how stock is said. Every module that shows a price or reads an option name uses these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Currencies written with a symbol in front when a price is shown ("$349.00").
PRICE_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def format_price(price: float, currency: str | None) -> str:
    """The one way a price is shown to a shopper: "$64.95", "€1,299.00", "15.00 CHF"."""
    symbol = PRICE_SYMBOLS.get(currency or "")
    return f"{symbol}{price:,.2f}" if symbol else f"{price:,.2f} {currency or ''}".strip()


def format_budget(amount: float, currency: str | None) -> str:
    """A budget as a shopper writes it: "$150", "€49.50" (whole amounts without cents)."""
    text = f"{amount:,.0f}" if float(amount).is_integer() else f"{amount:,.2f}"
    symbol = PRICE_SYMBOLS.get(currency or "USD")
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def format_price_range(low: float, high: float, currency: str | None) -> str:
    """"$45.00" when the two are equal, else "$45.00–$52.00"."""
    if abs(high - low) < 0.005:
        return format_price(low, currency)
    return f"{format_price(low, currency)}–{format_price(high, currency)}"


# Option (and attribute) names, by what they mean. Keys are lower-cased words.
_OPTION_KINDS = {
    "colour": (
        "colour", "color", "colours", "colors", "colourway", "colorway", "farbe", "couleur",
        "color family", "kleur", "colore", "shade",
    ),
    "size": (
        "size", "sizes", "sizing", "taille", "größe", "grösse", "groesse", "talla", "taglia",
        "maat", "shoe size", "clothing size",
    ),
    "material": ("material", "materials", "fabric", "matériau", "material composition"),
    "style": ("style", "model", "version", "edition"),
    "capacity": ("capacity", "volume", "fassungsvermögen"),
    "length": ("length", "länge", "longueur"),
    "width": ("width", "breite", "largeur"),
    "flavour": ("flavour", "flavor", "taste", "geschmack"),
}
_KIND_OF = {word: kind for kind, words in _OPTION_KINDS.items() for word in words}
_NAME_NOISE = re.compile(r"[_\-:]+|\s+")


def option_kind(name: str) -> str:
    """What an option or attribute name means: "Color", "Colour", "Farbe", "pa_color" ->
    "colour"; "Size", "Taille" -> "size"; an unknown name -> itself, lower-cased."""
    key = _NAME_NOISE.sub(" ", str(name or "")).strip().lower()
    key = re.sub(r"^(?:pa |attribute |option )", "", key)  # WooCommerce "pa_color" and the like
    return _KIND_OF.get(key, key)


def option_label(kind: str) -> str:
    """How an option kind is named to a shopper: "colour" -> "colours", "size" -> "sizes"."""
    return {"colour": "colours", "size": "sizes"}.get(kind, f"{kind} options")


def stock_phrase(available: bool | None, quantity: int | None = None,
                 availability: str = "") -> str:
    """"in stock (12 available)", "in stock", "out of stock", "out of stock (available to
    pre-order)", "in stock (discontinued)", or "" when not known. ``availability`` is one of
    :data:`AVAILABILITY_NOTES` (what :func:`read_stock` reads besides in/out of stock)."""
    note = AVAILABILITY_NOTES.get(availability, "")
    if available is None:
        return note
    if not available:
        return f"out of stock ({note})" if note else "out of stock"
    text = f"in stock ({quantity} available)" if quantity else "in stock"
    return f"{text[:-1]}, {note})" if note and text.endswith(")") else (
        f"{text} ({note})" if note else text)


# -- stock: the one reader of how a shop says stock ------------------------------------------

#: What a shop says about availability besides "in / out of stock", and how it is shown.
AVAILABILITY_NOTES = {
    "preorder": "available to pre-order",
    "backorder": "on backorder",
    "discontinued": "discontinued",
}


@dataclass(frozen=True)
class StockStatement:
    """What a cell, a page line or a note says about stock: in stock or not (None: it does
    not say), how many (None: it does not say) and a note (a key of AVAILABILITY_NOTES)."""

    available: bool | None = None
    quantity: int | None = None
    availability: str = ""

    def __bool__(self) -> bool:
        return self.available is not None or self.quantity is not None or bool(self.availability)


_COUNT_WORDS = r"(?:available|left|in\s+stock|on\s+hand|units?|pcs|pieces|items?)"
# Whole statements, tried in order; group "n" is a count where there is one.
_STOCK_FORMS: tuple[tuple[re.Pattern[str], bool | None, str], ...] = tuple(
    (re.compile(pattern, re.I), available, note)
    for pattern, available, note in (
        (r"(?:currently\s+|temporarily\s+)?(?:out\s+of\s+stock|sold\s+out|out-of-stock|"
         r"outofstock|unavailable|not\s+available|not\s+in\s+stock|no\s+stock|none\s+left|"
         r"no|false|n)", False, ""),
        (r"(?:available\s+(?:for|to)\s+|on\s+)?pre-?\s?orders?(?:\s+now|\s+only)?|"
         r"pre-?order(?:able)?", False, "preorder"),
        (r"(?:available\s+(?:on|for)\s+|on\s+)?back-?\s?order(?:ed|s)?", False, "backorder"),
        (r"discontinued(?:\s*[-–—:,]?\s*(?:last\s+stock|while\s+stocks?\s+lasts?|"
         r"no\s+longer\s+(?:made|produced|restocked)))?", None, "discontinued"),
        (rf"(?:in\s+stock|instock|available|yes|true|y)(?:\s*[(,:-]?\s*(?P<n>\d+)\s*"
         rf"{_COUNT_WORDS}?\s*\)?)?", True, ""),
        (rf"(?:only\s+|just\s+)?(?P<n>\d+)\s*{_COUNT_WORDS}(?:\s+in\s+stock)?", True, ""),
        (r"(?P<n>-?\d+)(?:[.,]0+)?", True, ""),
        (r"(?:only\s+|just\s+)?(?:a\s+)?few\s+left|low\s+stock|limited\s+stock|"
         r"last\s+(?:few|items?|units?)", True, ""),
    )
)
_STOCK_LABEL = re.compile(
    r"^\s*(?:availability|stock(?:\s+status|\s+level)?|in\s+stock|inventory|"
    r"verf[üu]gbarkeit|disponibilit[ée])\s*[:=]\s*", re.I)


def read_stock(text: str | None) -> StockStatement | None:
    """What ``text``, as a whole, says about stock: "Out of stock", "Sold out", "In stock
    (18 available)", "Only 3 left", "12", "Stock: 12", "Availability: Pre-order",
    "Backorder", "Discontinued - last stock". None when it is not (only) a stock statement:
    "Ships in 5 business days" and "sizes S–M sold out" (see :func:`stock_notes`) are not.
    A count is never made up: "In stock" has quantity None, "Out of stock" has 0."""
    value = " ".join(str(text or "").split())
    value = _STOCK_LABEL.sub("", value).strip().rstrip(".!").strip()
    if not value:
        return None
    for pattern, available, note in _STOCK_FORMS:
        match = pattern.fullmatch(value)
        if match is None:
            continue
        count = match.groupdict().get("n")
        quantity = max(int(count), 0) if count is not None else None
        if available is False and not note:
            quantity = 0
        if quantity is not None and available is True:
            available = quantity > 0
        return StockStatement(available, quantity, note)
    return None


_NOTE_CLAUSES = re.compile(r"\s*(?:;|\n|\.\s|\|)\s*")
_STOCK_WORDS = re.compile(
    r"\b(?:(?:currently\s+|temporarily\s+)?(?:out\s+of\s+stock|sold\s+out|unavailable)|"
    r"(?:available\s+(?:for|to)\s+)?pre-?orders?|(?:on\s+)?back-?orders?(?:ed)?|"
    r"discontinued|(?:only\s+)?\d+\s+left|in\s+stock)\b", re.I)
_FILLER = re.compile(r"^[\s\-–—:,()]*(?:(?:is|are|now|all|last\s+stock|while\s+stocks?\s+"
                     r"lasts?|item|product)[\s\-–—:,()]*)*$", re.I)


def stock_notes(text: str | None) -> list[tuple[str, StockStatement]]:
    """The stock statements in a free-text note (a price list's "Notes" cell, a page's
    availability line), one per clause, each with the words it is about: "Limited sizes;
    Out of stock" -> [("", out of stock)]; "sizes S–M sold out" -> [("sizes S–M", out of
    stock)]; "Discontinued - last stock" -> [("", discontinued)]. "" means the product
    as a whole; other words name variants (the reader matches them to option values) and
    a clause whose words name none of them says nothing. Clauses without a stock word
    ("Ships in 5 business days") are left out."""
    found = []
    for clause in _NOTE_CLAUSES.split(str(text or "")):
        clause = clause.strip().rstrip(".")
        if not clause:
            continue
        whole = read_stock(clause)
        if whole:
            found.append(("", whole))
            continue
        match = _STOCK_WORDS.search(clause)
        if match is None:
            continue
        statement = read_stock(match.group(0))
        if not statement:
            continue
        about = (clause[: match.start()] + " " + clause[match.end():]).strip()
        found.append(("" if _FILLER.fullmatch(about) else about, statement))
    return found


# Colour words a shop and a shopper spell differently, and their short forms in exports and
# chats: compared as one word ("grey" finds "Gray", "blk" finds "Black").
COLOUR_ALIASES = {
    "gray": "grey", "blk": "black", "wht": "white", "gry": "grey", "nvy": "navy",
    "brn": "brown", "grn": "green", "pnk": "pink", "prpl": "purple", "blu": "blue",
    "slv": "silver",
}


def same_word(word: str) -> str:
    """A word as the vocabulary compares it: "Gray" and "grey" -> "grey", "blk" -> "black"."""
    lowered = word.lower()
    return COLOUR_ALIASES.get(lowered, lowered)


# -- currencies: the one table of how a currency is written --------------------------------

#: ISO 4217 codes the shop reads in prices ("129.00 SEK").
ISO_CURRENCIES = frozenset({
    "USD", "EUR", "GBP", "JPY", "CAD", "AUD", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "INR",
    "CNY", "NZD", "MXN", "BRL", "ZAR",
})
#: Currency symbols -> ISO code ("$" -> "USD", "C$" -> "CAD"; "CHF" is its own symbol).
CURRENCY_SYMBOLS = {
    "$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR",
    "C$": "CAD", "A$": "AUD", "CHF": "CHF",
}
#: Currency words -> ISO code, lower-cased ("dollars" -> "USD", "quid" -> "GBP"). Plain
#: "pound(s)" is left out: it is a weight as often as money.
CURRENCY_WORDS = {
    "dollar": "USD", "dollars": "USD", "euro": "EUR", "euros": "EUR",
    "pounds sterling": "GBP",
}
#: Everyday words for money ("50 bucks", "20 quid"): read in shoppers' questions.
CURRENCY_SLANG = {"bucks": "USD", "quid": "GBP"}


def currency_of(token: str | None) -> str | None:
    """The ISO code a currency token means: "$" -> "USD", "euros" -> "EUR", "bucks" -> "USD",
    "gbp" -> "GBP"; None when it is not a currency."""
    text = " ".join(str(token or "").split())
    if not text:
        return None
    symbol = text if text in CURRENCY_SYMBOLS else text.upper()  # "us$" too
    if symbol in CURRENCY_SYMBOLS:
        return CURRENCY_SYMBOLS[symbol]
    lowered = text.lower()
    if lowered in CURRENCY_WORDS or lowered in CURRENCY_SLANG:
        return CURRENCY_WORDS.get(lowered) or CURRENCY_SLANG[lowered]
    upper = text.upper()
    return upper if upper in ISO_CURRENCIES else None


def alternatives(spellings: Iterable[str]) -> str:
    """A regex alternation of these spellings, escaped and longest first (so "US$" is tried
    before "$", "kg" before "g"): "(?:US\\$|\\$)"."""
    ordered = sorted(set(spellings), key=lambda s: (-len(s), s))
    return "(?:" + "|".join(re.escape(s) for s in ordered) + ")"


# -- kinds of product: what a thing also is ------------------------------------------------

#: Everyday retail nouns and the broader kinds they are a sort of, in English: a parka is a
#: jacket, a headlamp a light, a daypack a backpack. A product whose name or category ends on
#: the narrower word is also found when a shopper asks for the broader one ("the most
#: expensive jacket" weighs the parka too). Singular, as ``catalog_index.kind_key`` writes
#: nouns; read transitively (a headtorch is a headlamp, so a light).
KIND_PARENTS: dict[str, tuple[str, ...]] = {
    # outerwear
    "parka": ("jacket", "coat"), "anorak": ("jacket",), "shell": ("jacket",),
    "hardshell": ("jacket",), "softshell": ("jacket",), "windbreaker": ("jacket",),
    "windcheater": ("jacket",), "raincoat": ("jacket", "coat"), "puffer": ("jacket",),
    "blazer": ("jacket",), "bomber": ("jacket",), "peacoat": ("coat",),
    "overcoat": ("coat",), "trenchcoat": ("coat",), "cagoule": ("jacket",),
    # tops
    "tee": ("shirt", "top"), "t-shirt": ("shirt", "top"), "tshirt": ("shirt", "top"),
    "polo": ("shirt", "top"), "blouse": ("shirt", "top"), "shirt": ("top",),
    "tank": ("top",), "camisole": ("top",), "cami": ("top",),
    "hoody": ("sweatshirt", "top"), "sweatshirt": ("top",), "pullover": ("sweater", "top"),
    "jumper": ("sweater", "top"), "cardigan": ("sweater", "top"), "sweater": ("top",),
    "fleece": ("top",),
    # bottoms
    "trouser": ("pant",), "jean": ("pant",), "jogger": ("pant",), "chino": ("pant",),
    "legging": ("pant",), "tight": ("pant",),
    # footwear
    "sneaker": ("shoe",), "trainer": ("shoe",), "loafer": ("shoe",), "clog": ("shoe",),
    "moccasin": ("shoe",), "bootie": ("boot",), "wellington": ("boot",),
    "welly": ("boot",),
    # bags
    "daypack": ("backpack", "pack", "bag"), "rucksack": ("backpack", "pack", "bag"),
    "knapsack": ("backpack", "pack", "bag"), "backpack": ("pack", "bag"),
    "pack": ("backpack", "bag"),
    "duffel": ("bag",), "duffle": ("bag",), "holdall": ("bag",), "tote": ("bag",),
    "satchel": ("bag",), "messenger": ("bag",),
    # lighting
    "headlamp": ("light",), "headtorch": ("headlamp", "light"), "lantern": ("light",),
    "flashlight": ("light",), "torch": ("light",), "lamp": ("light",),
    # drinkware
    "tumbler": ("cup",), "flask": ("bottle",),
}


#: Words that say a product is made for children (keyword tokens: singular, lower case).
CHILD_WORDS = ("kid", "child", "children", "junior", "youth", "toddler", "baby", "infant")
#: Words that say whom a product is for: a filter on products, never a policy topic.
AUDIENCE_WORDS = frozenset({*CHILD_WORDS, "men", "man", "mens", "women", "woman", "womens",
                            "unisex", "adult", "grown", "boy", "girl", "lady", "ladies", "gent"})


def kind_parents(kind: str) -> set[str]:
    """Every broader kind ``kind`` is a sort of (KIND_PARENTS, transitively)."""
    found: set[str] = set()
    todo = [kind]
    while todo:
        for parent in KIND_PARENTS.get(todo.pop(), ()):
            if parent not in found:
                found.add(parent)
                todo.append(parent)
    return found


# -- units: the one table of measurement spellings ------------------------------------------

#: Unit spelling -> (dimension, factor to the dimension's base unit): grams, millilitres...
#: base units are g (mass), l (volume), mm (length), m² (area), lm (light), mAh (charge),
#: W (power), people (capacity). Temperature is in °C; "°f" carries factor 1.0 and is
#: converted with (value - 32) * 5/9 by whoever reads it. Keys are lower-cased, except the
#: single letters "L", "W" and "C" (Celsius: "-5 C"), which are written so.
UNITS: dict[str, tuple[str, float]] = {
    "g": ("mass", 1.0), "gram": ("mass", 1.0), "grams": ("mass", 1.0),
    "kg": ("mass", 1000.0), "kilogram": ("mass", 1000.0), "kilograms": ("mass", 1000.0),
    "lb": ("mass", 453.592), "lbs": ("mass", 453.592), "pound": ("mass", 453.592),
    "pounds": ("mass", 453.592), "oz": ("mass", 28.3495), "ounce": ("mass", 28.3495),
    "ounces": ("mass", 28.3495),
    "l": ("volume", 1.0), "L": ("volume", 1.0), "litre": ("volume", 1.0),
    "litres": ("volume", 1.0), "liter": ("volume", 1.0), "liters": ("volume", 1.0),
    "ml": ("volume", 0.001),
    "mm": ("length", 1.0), "cm": ("length", 10.0), "m": ("length", 1000.0),
    "metre": ("length", 1000.0), "metres": ("length", 1000.0), "meter": ("length", 1000.0),
    "meters": ("length", 1000.0),
    "in": ("length", 25.4), "inch": ("length", 25.4), "inches": ("length", 25.4),
    "ft": ("length", 304.8), "feet": ("length", 304.8),
    "m²": ("area", 1.0), "m2": ("area", 1.0), "sq m": ("area", 1.0),
    "lm": ("light", 1.0), "lumen": ("light", 1.0), "lumens": ("light", 1.0),
    "mah": ("charge", 1.0),
    "w": ("power", 1.0), "W": ("power", 1.0), "watt": ("power", 1.0), "watts": ("power", 1.0),
    "°c": ("temperature", 1.0), "°f": ("temperature", 1.0), "C": ("temperature", 1.0),
    "celsius": ("temperature", 1.0), "fahrenheit": ("temperature", 1.0),
    "degrees": ("temperature", 1.0), "degree": ("temperature", 1.0),
    "people": ("people", 1.0), "person": ("people", 1.0), "persons": ("people", 1.0),
    "ppl": ("people", 1.0),
}
#: Unit spellings that are also everyday words ("fits 2 in a pack"): text is not read as a
#: quantity on their account alone.
AMBIGUOUS_UNITS = frozenset({"in"})


def unit_of(spelling: str) -> tuple[str, float] | None:
    """(dimension, factor) of a unit as written: "lb" -> ("mass", 453.592), "°F" and "° F" ->
    ("temperature", 1.0); None for an unknown spelling."""
    text = str(spelling or "").strip()
    if text.startswith("°"):
        text = re.sub(r"\s", "", text)
    return UNITS.get(text) or UNITS.get(text.lower())


# -- measured attributes: what each dimension is called, and superlatives -----------------

#: Words that name what a quantity of each dimension measures, in catalog text ("packed
#: weight 1650 g", "comfort -10 °C", "65 L capacity", "Max output: 250 lumens") and in
#: questions ("highest capacity"): the one a product is compared by when a question does not
#: name another ("the lightest tent": its weight, not its fill weight).
DIMENSION_WORDS: dict[str, tuple[str, ...]] = {
    "price": ("price", "cost", "priced"),
    "mass": ("weight", "weighs", "weighing", "weigh", "heavy", "mass"),
    "temperature": ("comfort", "rating", "rated", "temperature", "temp"),
    "volume": ("capacity", "volume", "holds", "litre", "liter"),
    "people": ("sleeps", "person", "people", "persons", "berth"),
    "light": ("output", "brightness", "lumens", "bright"),
    "length": ("length", "long", "height", "tall"),
    "area": ("area", "floor", "footprint"),
    "charge": ("battery", "capacity"),
    "power": ("power", "output", "watts"),
}

#: Superlatives and what they sort by: word -> (dimension, descending). "biggest" sorts by
#: whichever size dimension the products have (people, volume, area, length: see
#: SIZE_DIMENSIONS); "warmest" by the lowest temperature rating.
SUPERLATIVES: dict[str, tuple[str, bool]] = {
    "lightest": ("mass", False), "lightweightest": ("mass", False),
    "heaviest": ("mass", True),
    "warmest": ("temperature", False),
    "biggest": ("size", True), "largest": ("size", True), "roomiest": ("size", True),
    "most spacious": ("size", True), "smallest": ("size", False),
    "most compact": ("size", False),
    "brightest": ("light", True), "dimmest": ("light", False),
    "longest": ("length", True), "shortest": ("length", False), "tallest": ("length", True),
    "most powerful": ("power", True),
}
#: Comparatives ("which is lighter, A or B?"): word -> (dimension, descending), as above.
#: Followed by "than" they are a bound instead ("lighter than 1 kg").
COMPARATIVES: dict[str, tuple[str, bool]] = {
    "lighter": ("mass", False), "heavier": ("mass", True), "warmer": ("temperature", False),
    "bigger": ("size", True), "larger": ("size", True), "roomier": ("size", True),
    "smaller": ("size", False), "brighter": ("light", True), "longer": ("length", True),
    "shorter": ("length", False), "more powerful": ("power", True),
}
#: The dimensions "biggest" and "smallest" mean, in the order they are tried.
SIZE_DIMENSIONS = ("people", "volume", "area", "length", "charge", "power")
#: Dimensions where a product "for" an amount must reach at least that far down ("a bag for
#: -10 degrees": rated to -10 °C or colder); for the others it must hold at least as much.
LOWER_IS_MORE = frozenset({"temperature"})


def dimension_of_word(word: str) -> str | None:
    """The dimension a word names ("weight" -> "mass", "lumens" -> "light"), or None."""
    lowered = word.lower()
    for dimension, words in DIMENSION_WORDS.items():
        if lowered in words:
            return dimension
    unit = unit_of(lowered)
    return unit[0] if unit and lowered not in AMBIGUOUS_UNITS and len(lowered) > 2 else None
@dataclass(frozen=True)
class Quantity:
    """A measured value as a spec states it ("1.9 kg"): the number and unit as written, and
    the value in its dimension's base unit (:data:`UNITS`: grams, litres, mm, ...), so specs
    in different units compare, filter and sort as one."""

    value: float
    unit: str
    dimension: str
    base: float

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit}"


_APPROX = re.compile(r"^\s*(?:approx\.?\s*|about\s*|~\s*|ca\.?\s*)?", re.I)


def read_quantity(text: str | None) -> Quantity | None:
    """The quantity a spec value starts with: "1.9 kg", "1650 g (packed)", "2 people",
    "46 x 15 cm" (its first side), "-10 °C"; None when it does not start with a number and
    a unit of :data:`UNITS` ("3-season", "2" and "20D ripstop" are not quantities). Read by
    :mod:`shopbot.quantities`, the one reader of quantities."""
    from shopbot.quantities import read

    raw = str(text or "")
    lead = _APPROX.match(raw)
    rest = raw[lead.end():] if lead else raw
    rest = re.sub(r"^(-?\d+(?:[.,]\d+)?)(?:\s*[x×]\s*-?\d+(?:[.,]\d+)?)+", r"\1", rest)
    found = read(rest.replace(",", ".") if re.match(r"^-?\d+,\d+\b", rest) else rest)
    if not found or found[0].start != 0:
        return None
    first = found[0]
    number = re.match(r"-?\d+(?:\.\d+)?", first.raw.replace("−", "-").replace(",", ""))
    if number is None:
        return None
    unit = first.raw[number.end():].strip(" -")
    return Quantity(float(number.group(0)), unit, first.dimension, first.value)
