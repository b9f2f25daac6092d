"""What a product page, a spec sheet or a price list says about a product, applied to the
product's record: stock in words ("Availability: Out of stock", "Only 3 left", "Pre-order"),
notes about some of its variants ("sizes S–M sold out") and specs with units ("Weight | 1.9
kg"). The words are read by the shop vocabulary (:func:`shopbot.vocabulary.read_stock`,
:func:`~shopbot.vocabulary.stock_notes`, :func:`~shopbot.vocabulary.read_quantity`); this
module decides which source wins a fact and which variants a note is about.

Precedence, as a store clerk expects it:

- a fact only one source states comes from that source; nothing is made up where no source
  says (a page's "In stock" gives no count; a product-wide "In stock" says nothing about
  which size is);
- where the record (a store export, a price list row) and a document both state a fact, the
  newer upload wins: the catalog orders committed document versions by ``updated_at``
  (shopbot.ingest.pipeline), the same order that decides which file's record wins a SKU. An
  export's count is what the stock system said when it was exported; a page or note written
  after it knows of a sale or a restock the export does not, and an older page is what the
  export has since corrected.

The catalog index (:mod:`shopbot.catalog_index`) applies these when it builds a snapshot, so
a document's facts follow its versions: replacing or deleting the page changes them at once.
"""

from __future__ import annotations

import re

from shopbot.products import Product, Variant
from shopbot.vocabulary import StockStatement, option_kind, read_quantity, stock_notes


def stock_known(variant: Variant) -> bool:
    return variant.quantity is not None or variant.in_stock is not None


def document_statement(product: Product) -> StockStatement | None:
    """What a document's typed product (one default variant) says about stock overall."""
    if len(product.variants) != 1:
        return None
    only = product.variants[0]
    statement = StockStatement(only.in_stock if only.in_stock is not None else (
        None if only.quantity is None else only.quantity > 0), only.quantity, only.availability)
    return statement or None


def apply_stock(target: Product, statement: StockStatement | None, newer: bool,
                variants: list[Variant] | None = None) -> bool:
    """Apply a stock statement about ``target`` as a whole (``variants`` None) or about the
    variants named. Returns whether anything changed."""
    if not statement:
        return False
    whole = variants is None
    chosen = list(target.variants) if whole else variants
    changed = False
    if statement.available is None:  # "discontinued": a fact about the product, not a count
        for variant in chosen:
            if statement.availability and (newer or not variant.availability):
                changed |= variant.availability != statement.availability
                variant.availability = statement.availability
        return changed
    if any(stock_known(v) for v in chosen) and not newer:
        return False  # the export's count is newer than these words
    if whole and len(chosen) > 1 and statement.available:
        # "In stock (18 available)" for a product with sizes: which size is in stock is
        # not said; stock that says so (any variant in stock) already agrees.
        return False
    for variant in chosen:
        quantity = statement.quantity
        if quantity is None and statement.available and (variant.quantity or 0) > 0:
            quantity = variant.quantity  # "In stock" agrees with the count; keep it
        before = (variant.in_stock, variant.quantity, variant.availability)
        variant.in_stock, variant.quantity = statement.available, quantity
        if statement.availability or newer:
            variant.availability = statement.availability
        changed |= before != (variant.in_stock, variant.quantity, variant.availability)
    return changed


def variants_in_note(product: Product, about: str) -> list[Variant]:
    """The variants a note's words name: "sizes S–M" (a range of one option's values, in the
    product's order), "size M", "Black", "M in Black"; [] when they name none."""
    text = about
    for match in re.finditer(r"([\w.]+)\s*(?:–|—|-|\bto\b)\s*([\w.]+)", about):
        low, high = match.group(1).lower(), match.group(2).lower()
        for name in product.options:
            values = product.option_values(name)
            lowered = [v.lower() for v in values]
            if low in lowered and high in lowered:
                start, end = sorted((lowered.index(low), lowered.index(high)))
                text = text.replace(match.group(0), ", ".join(values[start:end + 1]))
                break
    return product.variants_named(text)


def apply_notes(target: Product, source: Product, newer: bool) -> bool:
    """Apply what the note-like attributes of ``source`` (a price list's "Notes", a page's
    "Availability") say about some of ``target``'s variants. A note about variants the
    product does not have is ignored (never applied to the whole product)."""
    from shopbot.ingest.fields import is_stock_note

    changed = False
    for name, value in source.attributes.items():
        if not is_stock_note(name):
            continue
        for about, statement in stock_notes(value):
            if about:
                named = variants_in_note(target, about)
                if named:
                    changed |= apply_stock(target, statement, newer, named)
    return changed


def apply_specs(target: Product, source: Product, newer: bool) -> bool:
    """Add the specs with units that ``source`` states and ``target`` lacks (a newer
    source's value replaces an older one of the same kind); a weight also fills the weight
    of a product sold as one variant."""
    from shopbot.ingest.fields import is_stock_note

    changed = False
    held = {option_kind(name): name for name in target.attributes}
    for name, value in source.attributes.items():
        if is_stock_note(name) or read_quantity(value) is None:
            continue
        key = option_kind(name)
        if key not in held:
            target.attributes[name] = value
            held[key] = name
            changed = True
        elif newer and target.attributes[held[key]] != value:
            target.attributes[held[key]] = value
            changed = True
    weights = [v.weight_grams for v in source.variants if v.weight_grams is not None]
    if weights and len(target.variants) == 1:
        only = target.variants[0]
        if only.weight_grams is None or (newer and only.weight_grams != weights[0]):
            only.weight_grams = weights[0]
            changed = True
    return changed


def apply_document(target: Product, source: Product, newer: bool) -> bool:
    """Everything a document's product says, applied to the product's record."""
    changed = apply_stock(target, document_statement(source), newer)
    changed |= apply_notes(target, source, newer)
    changed |= apply_specs(target, source, newer)
    return changed
