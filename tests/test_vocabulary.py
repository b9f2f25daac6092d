"""The shop's one vocabulary: colour spellings, currencies and units, and the modules that
read prices and quantities building their patterns from it."""

from __future__ import annotations

import re

import pytest

from shopbot import vocabulary
from shopbot.vocabulary import UNITS, alternatives, currency_of, same_word, unit_of


def test_grey_and_gray_are_one_word() -> None:
    assert same_word("gray") == same_word("Grey") == "grey"
    assert same_word("blk") == "black"


@pytest.mark.parametrize(
    ("token", "code"),
    [("$", "USD"), ("US$", "USD"), ("€", "EUR"), ("£", "GBP"), ("C$", "CAD"), ("bucks", "USD"),
     ("quid", "GBP"), ("Euros", "EUR"), (" usd ", "USD"), ("CHF", "CHF"), ("SEK", "SEK")],
)
def test_currency_tokens(token: str, code: str) -> None:
    assert currency_of(token) == code


def test_unknown_currency_tokens() -> None:
    assert currency_of("pounds") is None  # a weight as often as money
    assert currency_of("XYZ") is None
    assert currency_of("") is None


def test_units_have_a_dimension_and_factor() -> None:
    dimension, factor = unit_of("lb")
    assert dimension == "mass" and factor == pytest.approx(453.59, abs=0.01)
    assert unit_of("°F")[0] == unit_of("° C")[0] == "temperature"
    assert unit_of("kg") == ("mass", 1000.0)
    assert unit_of("ft") == ("length", 304.8) and unit_of("in") == ("length", 25.4)
    assert unit_of("L") == unit_of("ml")[:1] + (1.0,)
    assert unit_of("lumens")[0] == "light" and unit_of("mAh")[0] == "charge"
    assert unit_of("W")[0] == "power" and unit_of("persons")[0] == "people"
    assert unit_of("parsec") is None
    assert all(dim and factor > 0 for dim, factor in UNITS.values())


def test_alternatives_are_escaped_and_longest_first() -> None:
    pattern = alternatives(["$", "US$", "€"])
    assert pattern == r"(?:US\$|\$|€)"
    assert re.match(pattern, "US$5").group(0) == "US$"


def test_modules_read_the_vocabulary_tables() -> None:
    from shopbot import constraints, factcheck
    from shopbot.ingest import fields

    assert fields.CURRENCY_SYMBOLS is vocabulary.CURRENCY_SYMBOLS
    assert fields.parse_price("€1.299,00", "USD") == (1299.0, "EUR")
    assert fields.parse_price("129 SEK", "USD") == (129.0, "SEK")
    assert factcheck._UNITS["lb"] == UNITS["lb"]
    assert factcheck._SYMBOL_CURRENCY["€"] == "EUR"
    assert re.fullmatch(constraints._CUR_SUFFIX, " bucks", re.I)
    assert re.fullmatch(constraints._CUR_SUFFIX, " quid", re.I)
    assert constraints._currency_of(None, " quid") == "GBP"
    assert constraints._currency_of("$", None) == "USD"
