"""Small helpers the platform importers share: header-insensitive cell lookup, catalog text
from HTML cells, yes/no flags, export dates and comma lists. Money, stock counts, HTML
stripping and category paths stay with :mod:`shopbot.ingest.fields`."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from shopbot.ingest.fields import clean_cell, normalise_header, split_category

_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off"}


class Row:
    """One export row, looked up by header whatever its spelling ("Variant SKU",
    "variant_sku"): ``row.get("variantsku", "sku")`` is the first non-empty of those."""

    def __init__(self, cells: Mapping[str, object]):
        self.cells: dict[str, str] = {}
        for header, value in cells.items():
            key = normalise_header(header)
            text = "" if value is None else str(value)
            if key and (key not in self.cells or not self.cells[key].strip()):
                self.cells[key] = text

    def raw(self, *names: str) -> str:
        """The first non-blank cell of ``names`` as written (HTML and all), stripped."""
        for name in names:
            value = self.cells.get(name, "").strip()
            if value:
                return value
        return ""

    def get(self, *names: str) -> str:
        """The first non-blank cell of ``names`` as plain text."""
        return text(self.raw(*names))

    def has(self, name: str) -> bool:
        return name in self.cells

    def blank(self) -> bool:
        return not any(value.strip() for value in self.cells.values())


def text(value: str) -> str:
    """A cell as plain text: HTML stripped (entities decoded with it), or, for a cell
    without markup, its entities decoded ("Tom &amp; Co" -> "Tom & Co")."""
    if not value:
        return ""
    cleaned = clean_cell(value)
    if "&" in cleaned and not ("<" in value and ">" in value):
        cleaned = html.unescape(cleaned)
    cleaned = re.sub(r"[ \t\xa0]+", " ", cleaned)  # no-break spaces too
    cleaned = re.sub(r" ?\n ?", "\n", cleaned)
    return re.sub(r"\n{3,}", "\n\n", cleaned).strip()


def flag(value: str) -> bool | None:
    """``"1"``/``"TRUE"``/``"yes"`` -> True, ``"0"``/``"FALSE"``/``"no"`` -> False, else None."""
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None


def category_path(value: str) -> str:
    """One category path in the model's spelling: ``"Men>Tops > Jackets"`` -> ``"Men > Tops >
    Jackets"``."""
    return " > ".join(split_category(text(value)))


def split_list(value: str, separator: str = ",") -> list[str]:
    """A comma list as exports write it, ``\\,`` being a comma inside one item
    (WooCommerce escapes them so): ``"Red\\, dark, Blue"`` -> ["Red, dark", "Blue"]."""
    items = re.split(rf"(?<!\\){re.escape(separator)}", value or "")
    return [item.replace(f"\\{separator}", separator).strip() for item in items if item.strip()]


def export_date(value: str, end: bool = False) -> datetime | None:
    """A date from an export: ISO forms ("2026-03-01", "2026-03-01 00:00:00",
    "2026-03-01T00:00:00+01:00"). A sale's last day is inclusive in the shop's admin; the
    model's ``sale_ends`` is exclusive, so an end given as a bare date (or at 23:59:59) moves
    to the next midnight. A moment without a zone is taken as UTC."""
    value = value.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None  # "03/04/2026" is ambiguous (day or month first): no date beats a wrong one
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if end:
        if len(value) <= 10:
            moment += timedelta(days=1)
        elif (moment.hour, moment.minute, moment.second) == (23, 59, 59):
            moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment


def number(value: str) -> float | None:
    """A plain measurement ("350", "0.35", "0,35") or None."""
    value = value.strip().replace(",", ".")
    try:
        return float(value) if value else None
    except ValueError:
        return None
