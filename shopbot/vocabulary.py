"""The shop's vocabulary, owned once: how a price is shown, what an option is called in
other words and languages (Color / Colour / Farbe / Couleur are one option, "colour"), and
how stock is said. Every module that shows a price or reads an option name uses these.
"""

from __future__ import annotations

import re

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
