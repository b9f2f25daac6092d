"""The shop's vocabulary, owned once: how a price is shown, what an option is called in
other words and languages (Color / Colour / Farbe / Couleur are one option, "colour"), and
how stock is said. Every module that shows a price or reads an option name uses these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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


def stock_phrase(available: bool | None, quantity: int | None = None) -> str:
    """"in stock (12 available)", "in stock", "out of stock", or "" when not known."""
    if available is None:
        return ""
    if not available:
        return "out of stock"
    return f"in stock ({quantity} available)" if quantity else "in stock"


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


# -- units: the one table of measurement spellings ------------------------------------------

#: Unit spelling -> (dimension, factor to the dimension's base unit): grams, millilitres...
#: base units are g (mass), l (volume), mm (length), m² (area), lm (light), mAh (charge),
#: W (power), people (capacity). Temperature is in °C; "°f" carries factor 1.0 and is
#: converted with (value - 32) * 5/9 by whoever reads it. Keys are lower-cased, except the
#: single letters "L" and "W", which are written so.
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
    "°c": ("temperature", 1.0), "°f": ("temperature", 1.0),
    "degrees": ("temperature", 1.0), "degree": ("temperature", 1.0),
    "people": ("people", 1.0), "person": ("people", 1.0), "persons": ("people", 1.0),
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
SIZE_DIMENSIONS = ("people", "volume", "area", "length")
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
