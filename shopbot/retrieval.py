"""Query -> ranked sources from the catalog store."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from shopbot.store import CatalogStore

SNIPPET_CHARS = 300


@dataclass(frozen=True)
class Source:
    """One retrieved product record or document passage, as the UI and the API show it."""

    id: str
    title: str
    price: float | None
    currency: str | None
    category: str
    brand: str
    url: str
    source: str
    snippet: str
    score: float
    kind: str = "product"
    doc_id: str = ""
    section: str = ""
    page: int | None = None
    stock: int | None = None
    image: str = ""
    text: str = ""

    def to_dict(self, with_text: bool = False) -> dict[str, Any]:
        data = asdict(self)
        if not with_text:
            data.pop("text")
        return data

    @classmethod
    def from_chunk(cls, chunk_id: str, text: str, meta: dict[str, Any], score: float) -> Source:
        price = meta.get("price")
        return cls(
            id=str(meta.get("product_id") or chunk_id),
            title=str(meta.get("title") or meta.get("doc_title") or meta.get("source", "")),
            price=float(price) if isinstance(price, (int, float)) else None,
            currency=meta.get("currency") or None,
            category=str(meta.get("category", "")),
            brand=str(meta.get("brand", "")),
            url=str(meta.get("url", "")),
            source=str(meta.get("source", "")),
            snippet=_snippet(text, meta),
            score=round(score, 4),
            kind=str(meta.get("kind", "passage")),
            doc_id=str(meta.get("doc_id", "")),
            section=str(meta.get("section", "")),
            page=meta.get("page"),
            stock=meta.get("stock"),
            image=str(meta.get("image", "")),
            text=text,
        )


def _snippet(text: str, meta: dict[str, Any]) -> str:
    if meta.get("kind") == "product" and meta.get("description"):
        body = str(meta["description"])
    else:
        title = str(meta.get("doc_title", ""))
        body = text[len(title) :].lstrip() if title and text.startswith(title) else text
    body = " ".join(body.split())
    if len(body) <= SNIPPET_CHARS:
        return body
    return body[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"


def search(
    store: CatalogStore,
    embeddings: Embeddings,
    query: str,
    k: int = 5,
    where: dict[str, Any] | None = None,
) -> list[Source]:
    """The ``k`` chunks nearest to the query, best first; score is cosine similarity."""
    query = query.strip()
    if not query:
        return []
    exact = _exact_sku_matches(store, query, k, where)
    vector = embeddings.embed_query(query)
    nearest = [
        Source.from_chunk(chunk_id, text, meta, 1.0 - distance)
        for chunk_id, text, meta, distance in store.query(vector, k, where)
    ]
    if not exact:
        return nearest
    # Records whose SKU the shopper typed come first; then the nearest chunks, minus repeats.
    seen = {(s.id, s.source, s.text) for s in exact}
    rest = [s for s in nearest if (s.id, s.source, s.text) not in seen]
    return (exact + rest)[:k]


# SKU-like tokens: letters/digits in two or more dash- or dot-separated parts with a digit
# somewhere ("RL-TNT-001", "AB12-7"). Only tokens that are the id of a stored product count.
_SKU_TOKEN = re.compile(r"(?<![\w-])(?=[\w.-]*\d)[A-Za-z0-9]+(?:[-.][A-Za-z0-9]+)+(?![\w-])")


def _exact_sku_matches(
    store: CatalogStore, query: str, k: int, where: dict[str, Any] | None
) -> list[Source]:
    """Product records whose id (SKU) appears verbatim in the query, score 1.0. Embeddings
    know nothing of SKUs, so a shopper pasting "RL-TNT-001" gets that product first."""
    tokens = {token.upper() for token in _SKU_TOKEN.findall(query)}
    tokens |= {token for token in _SKU_TOKEN.findall(query)}  # ids need not be upper-case
    if not tokens:
        return []
    condition: dict[str, Any] = {"product_id": {"$in": sorted(tokens)}}
    found = store.get_chunks({"$and": [condition, where]} if where else condition, limit=k)
    # Product records before passages that merely belong to the product (spec sheets, pages).
    found.sort(key=lambda item: item[2].get("kind") != "product")
    return [Source.from_chunk(chunk_id, text, meta, 1.0) for chunk_id, text, meta in found]
