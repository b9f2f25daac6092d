"""Shop-platform importers: a store export's rows -> typed products with variants
(:mod:`shopbot.products`), chosen by the file's headers; a table no importer claims falls
back to the generic column mapping of :mod:`shopbot.ingest.fields`.

Each importer is one module here with:

- ``NAME``: the platform's id ("shopify", ...);
- ``matches(headers: Sequence[str]) -> bool``: whether a header row is this platform's
  export (decided by columns only that platform writes, never by one generic name);
- ``read(rows: Iterable[Mapping[str, str]], default_currency: str) -> list[Product]``:
  every product of the export, hidden ones included with their status (the caller keeps
  them from shoppers).

Importers parse money, stock words and HTML with the shared helpers of
:mod:`shopbot.ingest.fields` (one owner per idea). Not yet wired into the ingest pipeline.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType

# Most specific first: the first importer whose ``matches`` says yes reads the file.
IMPORTERS = ("shopify", "woocommerce", "magento", "prestashop", "merchant")


def importer_for(headers: Sequence[str]) -> ModuleType | None:
    """The importer module for a header row, or None (generic column mapping)."""
    for name in IMPORTERS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # not written yet
            raise
        if module.matches(headers):
            return module
    return None
