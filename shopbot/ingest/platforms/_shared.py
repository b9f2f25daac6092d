"""Small helpers the platform importers share: cell text with HTML and entities decoded,
dates and date windows, header lookup, weights. Money and stock parsing stay in
:mod:`shopbot.ingest.fields` (one owner per idea)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from shopbot.ingest.fields import clean_cell

_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%m/%d/%y, %I:%M %p", "%m/%d/%Y, %I:%M %p",
    "%m/%d/%y %H:%M", "%m/%d/%Y %H:%M", "%m/%d/%y", "%m/%d/%Y", "%d.%m.%Y",
)


def text(value: Any) -> str:
    """A cell as plain text: HTML stripped (tags and entities) by the shared cleaner, and
    entities outside markup (``LumaTech&trade;``) decoded too."""
    if value is None:
        return ""
    raw = str(value)
    has_markup = "<" in raw and ">" in raw
    cleaned = clean_cell(raw)
    if not has_markup and "&" in cleaned:
        cleaned = html.unescape(cleaned)
    # No-break spaces (&nbsp;) as plain spaces, so "750 ml" is found as typed; one line
    # break where the markup left several.
    cleaned = re.sub(r"[ \t\r\f\v\xa0]+", " ", cleaned)
    return re.sub(r" ?\n[\s]*", "\n", cleaned).strip()


def parse_date(value: Any) -> datetime | None:
    """``2024-02-24T13:00-0800``, ``2024-02-24``, ``1/15/24`` ... -> a datetime; junk -> None.
    A date without an offset stays naive (the shop's own time zone is not in the file)."""
    raw = str(value or "").strip()
    if not raw or raw.startswith("0000-00-00"):
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt)
        except ValueError:
            continue
    return None


def end_of_day(value: Any) -> datetime | None:
    """An inclusive "to" date as the exclusive end the model wants: a date at midnight
    (``2024-01-31``, ``1/31/24``, ``2024-01-31 00:00:00``) means through that whole day."""
    moment = parse_date(value)
    if moment is None:
        return None
    if moment.hour == moment.minute == moment.second == moment.microsecond == 0:
        return moment + timedelta(days=1)
    return moment


def header_key(header: Any) -> str:
    """A header for lookups: a language suffix ``[fr-FR]``, a hint in parentheses
    ``(x,y,z...)`` and everything but letters and digits dropped: "Name *" -> "name"."""
    raw = re.sub(r"\[[^\]]*\]|\([^)]*\)", "", str(header or ""))
    return re.sub(r"[^a-z0-9]", "", raw.lower())


def keyed(row: Mapping[str, Any]) -> dict[str, str]:
    """A row with its headers turned into :func:`header_key` keys (the first column wins)."""
    out: dict[str, str] = {}
    for key, value in row.items():
        out.setdefault(header_key(key), "" if value is None else str(value))
    return out


def header_keys(headers: Sequence[Any]) -> set[str]:
    return {header_key(h) for h in headers}


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


_WEIGHT_UNITS = {"g": 1.0, "kg": 1000.0, "lb": 453.59237, "lbs": 453.59237, "oz": 28.349523125}


def parse_weight_grams(value: Any) -> float | None:
    """``"2 kg"``, ``"3.5 lb"``, ``"120 g"`` -> grams; no unit or junk -> None."""
    match = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*([a-zA-Z]+)\s*", str(value or ""))
    if not match or match.group(2).lower() not in _WEIGHT_UNITS:
        return None
    return round(float(match.group(1).replace(",", ".")) * _WEIGHT_UNITS[match.group(2).lower()], 3)


def flag(value: Any) -> bool | None:
    """``1``/``0``, ``yes``/``no``, ``true``/``false`` -> bool; empty or other -> None."""
    raw = str(value or "").strip().lower()
    if raw in {"1", "yes", "y", "true"}:
        return True
    if raw in {"0", "no", "n", "false"}:
        return False
    return None


def humanise(code: str) -> str:
    """An attribute code as a label: "style_general" -> "Style General"."""
    return " ".join(part.capitalize() for part in re.split(r"[_\s]+", code.strip()) if part)


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))
