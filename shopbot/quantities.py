"""Quantities with units, read from catalog text and from questions: "packed weight 1650 g",
"comfort -10 °C", "65 L capacity", "Max output: 250 lumens", "sleeps 4", "a 2-person tent".

The units are the shop vocabulary's (:data:`shopbot.vocabulary.UNITS`); a value is kept in
its dimension's base unit (grams, litres, millimetres, °C, ...), so "1.2 kg" and "1200 g"
compare. Each quantity carries the words around it that say what it measures (its label:
"packed weight", "comfort"), which is how a product's *main* weight is told from its fill
weight, and how "the lowest limit rating" finds the limit and not the comfort rating.

A product's measurements are read once per product (:func:`measurements`); the catalog
index keeps them as columns to filter and sort on (shopbot.catalog_index).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shopbot.vocabulary import AMBIGUOUS_UNITS, DIMENSION_WORDS, UNITS, alternatives, unit_of


def unit_pattern(units: Iterable[str]) -> str:
    """The regex alternatives for these unit spellings: "°c" as "°\\s?C"; single letters
    ("g", "m", "L": an "M" is a size) and spellings with a digit, space or "²" exactly as
    written; words in any case ("KG", "mAh")."""
    units = list(units)
    degrees = sorted(u for u in units if u.startswith("°"))
    exact = [u for u in units if not u.startswith("°") and (len(u) == 1 or not u.isalpha())]
    words = [u for u in units if u.isalpha() and len(u) > 1]
    written = [rf"°\s?{re.escape(u[1:].upper())}" for u in degrees]
    exact_long = [u for u in exact if len(u) > 1]
    exact_short = [u for u in exact if len(u) == 1]
    words_any_case = f"(?i:{alternatives(words)})"
    parts = [alternatives(exact_long), *written, words_any_case]
    if exact_short:
        parts.append(alternatives(exact_short))
    return "|".join(parts)


_READ = {u: v for u, v in UNITS.items() if u not in AMBIGUOUS_UNITS}
_SIGNED = r"(?:(?<![\w-])[-−–])?"  # "-10 °C", but not the "-48" of "40-48 cm"
_NUMBER = rf"{_SIGNED}\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|{_SIGNED}\d+(?:\.\d+)?"
_QUANTITY = re.compile(
    rf"(?<![\w.,])(?P<num>{_NUMBER})(?:\s?|-)(?P<unit>{unit_pattern(_READ)}|°)(?![\w²])"
)
# "sleeps 4", "sleeps up to 6", "seats 2": a count of people said with a verb.
_SLEEPS = re.compile(r"\b(?P<label>sleeps|seats)\s+(?:up\s+to\s+)?(?P<num>\d{1,2})\b", re.I)
_CLAUSE = re.compile(r"[;,.()\n|]|\s[-–—]\s")
_LABEL_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_STOP = frozenset({
    "a", "an", "the", "of", "with", "and", "or", "to", "at", "is", "it", "its", "in", "on",
    "for", "by", "up", "from", "about", "approx", "approximately", "only", "just", "total",
})


@dataclass(frozen=True)
class Quantity:
    """One quantity in a text: its value in its dimension's base unit, and its label."""

    dimension: str
    value: float
    label: tuple[str, ...] = ()  # lower-cased words around it that say what it measures
    raw: str = ""
    start: int = 0
    end: int = 0

    def named_by(self, words: Iterable[str]) -> bool:
        """Whether any of ``words`` is in this quantity's label."""
        return any(w in self.label for w in words)


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-").replace("–", "-"))


def _label(text: str, start: int, end: int) -> tuple[str, ...]:
    """Up to three words before the value and two after it, within its clause."""
    before = text[:start]
    cut = list(_CLAUSE.finditer(before))
    before = before[cut[-1].end():] if cut else before
    after = text[end:]
    stop = _CLAUSE.search(after)
    after = after[: stop.start()] if stop else after
    words_before = [w.lower() for w in _LABEL_WORD.findall(before)][-3:]
    words_after = [w.lower() for w in _LABEL_WORD.findall(after)][:2]
    return tuple(w for w in (*words_before, *words_after) if w not in _STOP)


def read(text: str, dimensions: Iterable[str] | None = None) -> list[Quantity]:
    """Every quantity in ``text`` with a unit of the vocabulary (only of ``dimensions`` when
    given), in text order. "°" alone is degrees Celsius; °F is converted to °C."""
    wanted = set(dimensions) if dimensions is not None else None
    found: list[Quantity] = []
    for m in _QUANTITY.finditer(text or ""):
        unit = m.group("unit")
        key = re.sub(r"\s", "", unit).lower() if unit.startswith("°") else unit
        known = UNITS.get(key) or UNITS.get(key.lower()) or (
            ("temperature", 1.0) if key == "°" else None
        )
        if known is None:
            continue
        dimension, factor = known
        if wanted is not None and dimension not in wanted:
            continue
        value = _number(m.group("num"))
        if key.lower() == "°f":
            value, factor = (value - 32) * 5 / 9, 1.0
        found.append(Quantity(dimension, value * factor, _label(text, m.start(), m.end()),
                              m.group(0), m.start(), m.end()))
    if wanted is None or "people" in wanted:
        for m in _SLEEPS.finditer(text or ""):
            found.append(Quantity("people", float(m.group("num")),
                                  (m.group("label").lower(),), m.group(0), m.start(), m.end()))
    found.sort(key=lambda q: q.start)
    return found


_UNIT_IN_NAME = re.compile(r"\(([^)]+)\)\s*$|[_\s]([a-z°²]+)$", re.I)


def _from_attribute(name: str, value: str) -> list[Quantity]:
    """Quantities of one attribute: "Weight (g)": "330" and "weight_g": "42" carry the unit
    in the name; "Capacity": "2 people" in the value."""
    label = tuple(w.lower() for w in _LABEL_WORD.findall(name) if w.lower() not in _STOP)
    in_value = read(str(value))
    if in_value:
        return [Quantity(q.dimension, q.value, label + q.label, q.raw) for q in in_value]
    match = _UNIT_IN_NAME.search(name.strip())
    number = re.fullmatch(r"\s*(-?\d+(?:[.,]\d+)?)\s*", str(value))
    if not (match and number):
        return []
    unit = unit_of(match.group(1) or match.group(2))
    if unit is None:
        return []
    base_label = tuple(w for w in label if unit_of(w) is None)
    return [Quantity(unit[0], _number(number.group(1).replace(",", ".")) * unit[1], base_label,
                     f"{value} {match.group(1) or match.group(2)}")]


def measurements(attributes: Mapping[str, str], texts: Iterable[str]) -> list[Quantity]:
    """A product's quantities: its attributes first (their names say what they are), then
    the quantities in its texts (description, spec lines)."""
    found: list[Quantity] = []
    for name, value in attributes.items():
        found.extend(_from_attribute(name, value))
    for text in texts:
        found.extend(read(text))
    return found


def main_value(quantities: Iterable[Quantity], dimension: str,
               label: Iterable[str] = ()) -> float | None:
    """The value a product is compared by in ``dimension``: the first quantity whose label
    has one of ``label`` (the words of a question: "limit"), else the first whose label
    names the dimension ("weighs", "packed weight"), else the first of that dimension.
    Dimension "any": the first quantity of any dimension that ``label`` names."""
    label = [w for w in label if w]
    if dimension == "any":
        # "more waterproof": whatever quantity the text labels so ("20000 mm waterproof").
        named = [q for q in quantities if label and q.named_by(label)]
        return named[0].value if named else None
    of_dimension = [q for q in quantities if q.dimension == dimension]
    if not of_dimension:
        return None
    if label:
        named = [q for q in of_dimension if q.named_by(label)]
        if named:
            return named[0].value
    usual = [q for q in of_dimension if q.named_by(DIMENSION_WORDS.get(dimension, ()))]
    return (usual or of_dimension)[0].value
