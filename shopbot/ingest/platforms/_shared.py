"""Small helpers the platform importers share: header-insensitive cell lookup, cell text with
HTML and entities decoded, yes/no flags, export dates and date windows, comma lists, category
paths, measurements and weights. Money, stock counts, HTML stripping, header spellings and
category splitting stay with :mod:`shopbot.ingest.fields` (one owner per idea)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from shopbot.ingest.fields import clean_cell, normalise_header, split_category

# --- header lookup -------------------------------------------------------------------------

# A column's note: a language suffix "[fr-FR]" or a hint "(x,y,z...)".
_HEADER_NOTE = re.compile(r"\[[^\]]*\]|\([^)]*\)")


def header_key(header: Any, notes: bool = False) -> str:
    """A header for lookups: lower-cased, everything but letters and digits dropped
    ("Name *" -> "name"), and its notes too (a language suffix ``[fr-FR]``, a hint in
    parentheses ``(x,y,z...)``) unless ``notes`` keeps them: "Body (HTML)" -> "body", with
    ``notes=True`` -> "bodyhtml" (Shopify's and WooCommerce's spelling)."""
    raw = str(header or "")
    return normalise_header(raw if notes else _HEADER_NOTE.sub("", raw))


def header_keys(headers: Sequence[Any], notes: bool = False) -> set[str]:
    return {header_key(h, notes) for h in headers}


def keyed(
    row: Mapping[str, Any], notes: bool = False, first_filled: bool = False,
) -> dict[str, str]:
    """A row with its headers turned into :func:`header_key` keys. Where two columns share a
    key the first column wins, or with ``first_filled`` the first non-blank one."""
    out: dict[str, str] = {}
    for header, value in row.items():
        key = header_key(header, notes)
        cell = "" if value is None else str(value)
        if not key:
            continue
        if key not in out or (first_filled and not out[key].strip()):
            out[key] = cell
    return out


class Row:
    """One export row, looked up by header whatever its spelling ("Variant SKU",
    "variant_sku", notes kept: "Weight (kg)" -> "weightkg"): ``row.get("variantsku", "sku")``
    is the first non-empty of those. Cell text keeps paragraph breaks."""

    def __init__(self, cells: Mapping[str, object]):
        self.cells: dict[str, str] = keyed(cells, notes=True, first_filled=True)

    def raw(self, *names: str) -> str:
        """The first non-blank cell of ``names`` as written (HTML and all), stripped."""
        for name in names:
            value = self.cells.get(name, "").strip()
            if value:
                return value
        return ""

    def get(self, *names: str) -> str:
        """The first non-blank cell of ``names`` as plain text."""
        return text(self.raw(*names), paragraphs=True)

    def has(self, name: str) -> bool:
        return name in self.cells

    def blank(self) -> bool:
        return not any(value.strip() for value in self.cells.values())


def rows_as_dicts(table_rows: Iterable[Sequence[Any]]) -> list[dict[str, str]]:
    """A table read by :func:`shopbot.ingest.tabular.read_csv` (header row first) as the
    row mappings the importers' ``read`` takes; blank rows dropped."""
    rows = iter(table_rows)
    headers = [str(h or "").strip() for h in next(rows, [])]
    out = []
    for row in rows:
        cells = ["" if v is None else str(v) for v in row]
        if any(c.strip() for c in cells):
            out.append(dict(zip(headers, cells + [""] * (len(headers) - len(cells)))))
    return out


# --- cell values ---------------------------------------------------------------------------


def text(value: Any, paragraphs: bool = False) -> str:
    """A cell as plain text: HTML stripped (tags and entities) by the shared cleaner, and
    entities outside markup decoded too ("Tom &amp; Co" -> "Tom & Co", ``LumaTech&trade;``).
    No-break spaces (&nbsp;) become plain spaces, so "750 ml" is found as typed. Where the
    markup left several line breaks one is kept, or with ``paragraphs`` one blank line
    between paragraphs (descriptions)."""
    if value is None:
        return ""
    raw = str(value)
    has_markup = "<" in raw and ">" in raw
    cleaned = clean_cell(raw)
    if not has_markup and "&" in cleaned:
        cleaned = html.unescape(cleaned)
    cleaned = re.sub(r"[ \t\r\f\v\xa0]+", " ", cleaned)
    if paragraphs:
        cleaned = re.sub(r"\n{3,}", "\n\n", re.sub(r" ?\n ?", "\n", cleaned))
    else:
        cleaned = re.sub(r" ?\n\s*", "\n", cleaned)
    return cleaned.strip()


_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off"}


def flag(value: Any) -> bool | None:
    """``1``/``0``, ``yes``/``no``, ``true``/``false``, ``on``/``off`` (any case) -> bool;
    empty or other -> None."""
    word = ("" if value is None else str(value)).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None


def split_list(value: str, separator: str = ",", escapes: bool = True) -> list[str]:
    """A comma list as exports write it, blank items dropped. With ``escapes``, ``\\,`` is a
    comma inside one item (WooCommerce escapes them so): ``"Red\\, dark, Blue"`` ->
    ["Red, dark", "Blue"]."""
    if not escapes:
        return [item.strip() for item in (value or "").split(separator) if item.strip()]
    items = re.split(rf"(?<!\\){re.escape(separator)}", value or "")
    return [item.replace(f"\\{separator}", separator).strip() for item in items if item.strip()]


def category_path(value: Any) -> str:
    """One category path in the model's spelling: ``"Men>Tops > Jackets"`` -> ``"Men > Tops >
    Jackets"``."""
    return " > ".join(split_category(text(value)))


def humanise(code: str) -> str:
    """An attribute code as a label: "style_general" -> "Style General"."""
    return " ".join(part.capitalize() for part in re.split(r"[_\s]+", code.strip()) if part)


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


# --- dates ---------------------------------------------------------------------------------

# Non-ISO forms shops write; slashed dates are read month first (US admin locales).
_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%m/%d/%y, %I:%M %p", "%m/%d/%Y, %I:%M %p",
    "%m/%d/%y %H:%M", "%m/%d/%Y %H:%M", "%m/%d/%y", "%m/%d/%Y", "%d.%m.%Y",
)


def parse_date(
    value: Any, *, end: bool = False, exact_times: bool = False, iso_only: bool = False,
    zone: tzinfo | None = None,
) -> datetime | None:
    """A date from an export: ``2024-02-24T13:00-0800``, ``2024-02-24``, ``1/15/24`` ... -> a
    datetime; empty, ``0000-00-00`` or junk -> None.

    - ``iso_only``: ISO forms only ("2026-03-01", "2026-03-01 00:00:00",
      "2026-03-01T00:00:00+01:00"): "03/04/2026" is ambiguous (day or month first), and no
      date beats a wrong one.
    - ``zone``: the zone of a moment written without an offset; None leaves it naive (the
      shop's own time zone is not in the file).
    - ``end``: the value is an inclusive last day ("to" date), returned as the exclusive end
      the model's ``sale_ends`` wants. A date at midnight, written with a time or without
      (``2024-01-31``, ``1/31/24``, ``2024-01-31 00:00:00``), means through that whole day:
      the next midnight. With ``exact_times`` a written time is kept as written (midnight
      too) and only a bare date, or the inclusive last second 23:59:59, moves to the next
      midnight.
    """
    raw = str(value or "").strip()
    if not raw or raw.startswith("0000-00-00"):
        return None
    moment = _read_date(raw, iso_only)
    if moment is None:
        return None
    if zone is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    if end:
        if exact_times:
            if len(raw) <= 10:
                moment += timedelta(days=1)
            elif (moment.hour, moment.minute, moment.second) == (23, 59, 59):
                moment = moment.replace(microsecond=0) + timedelta(seconds=1)
        elif moment.hour == moment.minute == moment.second == moment.microsecond == 0:
            moment += timedelta(days=1)
    return moment


def _read_date(raw: str, iso_only: bool) -> datetime | None:
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        pass
    for fmt in () if iso_only else _DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt)
        except ValueError:
            continue
    return None


# --- measurements --------------------------------------------------------------------------

GRAMS_PER_UNIT = {"g": 1.0, "kg": 1000.0, "lb": 453.59237, "lbs": 453.59237, "oz": 28.349523125}


def number(value: Any) -> float | None:
    """A plain measurement ("350", "0.35", "0,35") or None."""
    raw = str(value or "").strip().replace(",", ".")
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


def parse_weight_grams(value: Any) -> float | None:
    """``"2 kg"``, ``"3.5 lb"``, ``"120 g"`` -> grams; no unit or junk -> None."""
    match = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*([a-zA-Z]+)\s*", str(value or ""))
    if not match or match.group(2).lower() not in GRAMS_PER_UNIT:
        return None
    return round(number(match.group(1)) * GRAMS_PER_UNIT[match.group(2).lower()], 3)
