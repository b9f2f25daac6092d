"""What staff see of the products shoppers never do: drafts, archived products and products
not published to the shop (``Product.status`` other than "active").

They are stored like every product (a file's rows stay one document), and the catalog index
leaves them out of everything a shopper is offered (shopbot.catalog_index). This module
lists them from the store's committed product records, for the Catalog page and
``python -m shopbot docs list``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from shopbot.products import STATUSES, Product

if TYPE_CHECKING:
    from shopbot.store import CatalogStore

#: How each status reads to staff ("hidden" is what the importers call a product that is
#: not published to the online store, e.g. Shopify's Published = FALSE).
STATUS_WORDS = {"draft": "draft", "archived": "archived", "hidden": "not visible"}


@dataclass(frozen=True)
class HiddenProduct:
    """One product record shoppers are never offered, and the document it came from."""

    id: str
    title: str
    status: str  # a value of Product.status other than "active"
    doc_id: str
    source: str  # the document's file name

    @property
    def status_word(self) -> str:
        """"draft", "archived" or "not visible"."""
        return STATUS_WORDS.get(self.status, self.status)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status_word": self.status_word}


def hidden_products(store: CatalogStore) -> list[HiddenProduct]:
    """Every hidden product whose newest record (the latest upload wins a SKU) is hidden,
    by document and title."""
    committed = store.committed_versions()
    sources = {d.doc_id: d.source for d in store.list_documents()}
    candidates = {
        str(meta.get("product_id") or ""): meta
        for _, _, meta in store.iter_chunks(
            where={"$and": [{"kind": "product"}, {"visible": False}]},
            batch=2000,
            committed=committed,
        )
    }
    candidates.pop("", None)
    if not candidates:
        return []
    # A newer file may hold the same SKU as an active product: then it is not hidden.
    newest: dict[str, tuple[tuple[str, str], dict[str, Any]]] = {}
    for chunk_id, meta in store.product_records(candidates):
        key = (str(meta.get("updated_at") or ""), chunk_id)
        held = newest.get(str(meta.get("product_id")))
        if held is None or key > held[0]:
            newest[str(meta.get("product_id"))] = (key, meta)
    found = []
    for product_id, (_, meta) in newest.items():
        product = Product.from_metadata(meta)
        if product is None or product.visible:
            continue
        doc_id = str(meta.get("doc_id") or "")
        found.append(HiddenProduct(
            id=product_id,
            title=product.title,
            status=product.status,
            doc_id=doc_id,
            source=sources.get(doc_id, str(meta.get("source") or "")),
        ))
    return sorted(found, key=lambda p: (p.source.lower(), p.title.lower(), p.id))


def statuses_by_document(hidden: Iterable[HiddenProduct]) -> dict[str, Counter[str]]:
    """{doc_id: {status: how many of its products}}."""
    counts: dict[str, Counter[str]] = {}
    for product in hidden:
        counts.setdefault(product.doc_id, Counter())[product.status] += 1
    return counts


def hidden_note(statuses: Mapping[str, int] | None) -> str:
    """"2 hidden: 1 draft, 1 archived", or "" when none is hidden."""
    statuses = {s: n for s, n in (statuses or {}).items() if n}
    if not statuses:
        return ""
    order = [s for s in STATUSES if s in statuses] + sorted(set(statuses) - set(STATUSES))
    parts = ", ".join(f"{statuses[s]} {STATUS_WORDS.get(s, s)}" for s in order)
    return f"{sum(statuses.values())} hidden: {parts}"


def products_note(products: int, statuses: Mapping[str, int] | None = None) -> str:
    """A document's product count as staff read it: "4 (2 hidden: 1 draft, 1 archived)",
    or "4" when none is hidden."""
    note = hidden_note(statuses)
    return f"{products} ({note})" if note else str(products)
