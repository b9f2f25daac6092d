"""Query -> ranked sources from the catalog store."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from shopbot.products import Product

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from shopbot.compare import Comparison
    from shopbot.constraints import Constraints
    from shopbot.query import Understanding
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
    updated_at: str = ""  # when this record's content was uploaded (ISO 8601, UTC)
    # Why a product is shown although it does not fit the shopper's filters ("closest
    # match" when nothing fits); "" for a product that fits.
    note: str = ""
    # The typed product (options, variants, sale windows) of a record or of a passage that
    # names one; None for a passage about no product.
    product: Product | None = field(default=None, compare=False, repr=False)
    # The variants that fit the shopper's filters or that the question names ([]: any).
    variants: tuple[str, ...] = ()  # their SKUs

    def to_dict(self, with_text: bool = False) -> dict[str, Any]:
        data = asdict(replace(self, product=None))
        data["product"] = self.product.to_dict() if self.product is not None else None
        data["variants"] = list(self.variants)  # JSON-shaped: what a stored copy reads back
        if not with_text:
            data.pop("text")
        return data

    @property
    def skus(self) -> list[str]:
        """Its product's id and every variant SKU (a question set may name either)."""
        skus = self.product.skus if self.product is not None else []
        return [self.id, *[s for s in skus if s != self.id]]

    @classmethod
    def from_chunk(cls, chunk_id: str, text: str, meta: dict[str, Any], score: float) -> Source:
        product = Product.from_metadata(meta)
        price = product.price() if product is not None else None
        quantity = product.quantity() if product is not None else None
        if product is not None and product.available() is False:
            quantity = 0
        document = str(meta.get("doc_title") or meta.get("source") or "")
        return cls(
            id=(product.id if product is not None else "") or chunk_id,
            title=(product.title if product is not None else "") or document,
            price=price,
            currency=product.currency if product is not None else None,
            category=product.category if product is not None else "",
            brand=product.brand if product is not None else "",
            url=product.url if product is not None else "",
            source=str(meta.get("source", "")),
            snippet=_snippet(text, meta),
            score=round(score, 4),
            kind=str(meta.get("kind", "passage")),
            doc_id=str(meta.get("doc_id", "")),
            section=str(meta.get("section", "")),
            page=meta.get("page"),
            stock=quantity,
            image=product.image if product is not None else "",
            text=text,
            updated_at=str(meta.get("updated_at", "")),
            product=product,
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


# Reciprocal rank fusion constant (Cormack et al.): ranks matter, raw scores never mix.
RRF_K = 60
# Candidates each ranking contributes before fusion, at least.
MIN_CANDIDATES = 10
# How close a category must be to a question about something the shop does not sell to be
# offered instead (cosine similarity of the embeddings).
NEAR_CATEGORY = 0.4
# Cosine similarity by which a policy passage must beat every product to keep its place
# among the products of a filtering question.
CLEARLY_CLOSER = 0.15
# Chunks one product's slot holds at most: its record and its best other chunks.
CHUNKS_PER_PRODUCT = 3


@dataclass
class Retrieval:
    """What the retriever found for one question, and under which constraints."""

    question: str
    sources: list[Source]
    constraints: Constraints
    # Nothing in the catalog satisfies the constraints: ``sources`` are the closest matches
    # (each labelled in ``Source.note``).
    relaxed: bool = False
    # "compare A and B": the products side by side, from their records (shopbot.compare).
    comparison: Comparison | None = None
    # A list or superlative question: how many products fit in all (``sources`` holds the
    # first of them, up to the list limit, in the order asked).
    total: int | None = None
    # What the question asks (shopbot.query), when the retriever read it.
    understanding: Understanding | None = None

    @property
    def more(self) -> int:
        """How many fitting products a list answer leaves out."""
        if self.total is None:
            return 0
        shown = len({s.id for s in self.sources if s.kind == "product" or s.product is not None})
        return max(0, self.total - shown)

    @property
    def note(self) -> str:
        """What the shopper is told before the answer, or ""."""
        used = self.understanding.remembered_used if self.understanding else []
        remembered = f"Using your earlier filters: {', '.join(used)}." if used else ""
        if not self.relaxed:
            return remembered
        wanted = self.constraints.describe()
        lead = f"{remembered} " if remembered else ""
        if not self.sources:
            return f"{lead}Nothing in our catalog matches {wanted}."
        return (
            f"{lead}Nothing in our catalog matches {wanted}. "
            "Here are the closest matches, which do not fit everything you asked for."
        )


def fixed_sources(sources: Sequence[Source] | Callable[[str], Sequence[Source]]):
    """A retrieve function for ``ShopAssistant`` that returns ``sources`` (or what the
    callable returns for the question) under no constraints: for a chain over sources
    chosen elsewhere."""
    from shopbot.constraints import Constraints

    def retrieve(
        question: str, remembered: Constraints | None = None, asked: str | None = None,
        **_ignored: Any,
    ) -> Retrieval:
        found = sources(question) if callable(sources) else sources
        return Retrieval(question, list(found), remembered or Constraints())

    return retrieve


class Retriever:
    """Hybrid retrieval over a catalog store: dense (the store's vectors) and keyword (BM25)
    rankings fused by reciprocal rank, hard filters from the question on product records,
    exact SKU and product-name matches first, then the products whose own text the question
    quotes (a phrase from a description: keyword evidence fusion must not lose), one slot
    per product.

    Thread-safe; build one per store and share it (it keeps the keyword index in memory).
    """

    def __init__(self, store: CatalogStore, embeddings: Embeddings) -> None:
        from shopbot.catalog_index import CatalogIndex

        self.store = store
        self.embeddings = embeddings
        self.index = CatalogIndex(store)

    def facets(self):
        return self.index.snapshot().facets

    def parse(
        self, question: str, remembered: Constraints | None = None, asked: str | None = None
    ) -> Constraints:
        """The constraints of ``question`` (read against the catalog's own vocabulary).

        With ``remembered`` (the shopper's standing filters, as the chat keeps them), they are
        read from ``asked`` instead, the shopper's own words when ``question`` is a follow-up
        rewritten with the earlier turns: the earlier filters come from ``remembered``, where
        the shopper may have removed some, not from the old words. The category of the
        rewritten question still carries over ("in a size M?" after "rain jackets").
        """
        return self._parse(self.index.snapshot(), question, remembered, asked)[0]

    def _parse(
        self, snap, question: str, remembered: Constraints | None, asked: str | None
    ) -> tuple[Constraints, list[int]]:
        """:meth:`parse`, and the records of the products the shopper's words quote (see
        :meth:`_read`)."""
        from shopbot.constraints import remember

        if remembered is None:
            return _read(snap, question)
        found, quoted = _read(snap, asked or question)
        if asked and asked != question and not found.categories:
            context, _ = _read(snap, question)
            found.categories, found.category_paths = context.categories, context.category_paths
        return remember(remembered, found), quoted

    def retrieve(
        self,
        question: str,
        k: int = 5,
        remembered: Constraints | None = None,
        vector: Sequence[float] | None = None,
        use_constraints: bool = True,
        asked: str | None = None,
        understanding: Understanding | None = None,
        list_limit: int = 10,
    ) -> Retrieval:
        """The best ``k`` products and passages for ``question`` (``remembered`` and
        ``asked``: see :meth:`parse`). With ``understanding`` (shopbot.query), its
        constraints are the ones applied; a list or superlative question gets every product
        that fits, the first ``list_limit`` in the order asked; a thing the shop does not
        sell gets no sources.

        A product takes one slot however many of its chunks match: its best chunk, its
        record and its next best chunk (see :meth:`_slots`).
        """
        from shopbot.constraints import Constraints

        question = question.strip()
        if not question:
            return Retrieval(question, [], remembered or Constraints())
        snap = self.index.snapshot()
        if understanding is None and use_constraints and asked is None:
            # A question on its own (search, the CLI, a bench): read it here; ``remembered``
            # filters are applied as given.
            from shopbot.constraints import remember

            understanding = snap.reader().understand(question)
            if remembered:
                understanding.constraints = remember(remembered, understanding.constraints)
            question = understanding.search  # in English when asked in another language
        if understanding is not None and use_constraints:
            constraints = understanding.constraints
        else:
            constraints = (
                self._parse(snap, question, remembered, asked)[0]
                if use_constraints
                else (remembered or Constraints())
            )
        quoted = ([snap.records[pid] for pid in understanding.quoted if pid in snap.records]
                  if understanding is not None and use_constraints else [])
        if vector is None:
            vector = self.embeddings.embed_query(question)
        if understanding is not None and use_constraints and understanding.intent == "not_sold":
            understanding.near = understanding.near or self._nearest_category(snap, vector)
            return Retrieval(question, [], constraints, understanding=understanding)
        if understanding is not None and use_constraints and understanding.intent == "policy":
            # Shipping, returns, warranty: the shop's passages answer, not its products.
            passages = ~(snap.record_of >= 0) & ~snap.is_product
            if passages.any():
                ranked = self._ranked(snap, question, vector, k, None, passages)
                return Retrieval(question, self._slots(snap, ranked, k, None), constraints,
                                 understanding=understanding)
        if understanding is not None and use_constraints and understanding.lists:
            listed = self._listed(snap, understanding, question, vector, max(k, list_limit))
            if listed is not None:
                return listed
        from shopbot.compare import comparison_for_question

        comparison = comparison_for_question(self.store, question)
        compared = [p["id"] for p in comparison.products] if comparison else []
        named = _named(snap, question, first=compared)
        if understanding is not None and understanding.products and len(compared) < 2 \
                and len(understanding.products) > len(compared):
            # The products the question names (a misspelt name too: "alpin 2 tnet"), first.
            ids = [snap.chunks[p].id for p in (snap.records.get(pid) for pid in
                                                 understanding.products) if p is not None]
            named = [(cid, 1.0) for cid in ids] + [n for n in named if n[0] not in ids]
        if not constraints.sort:
            # A quoted product's text is keyword evidence no fusion may outrank; it fits the
            # filters (_read), so it comes right after the products named outright.
            named += [(snap.chunks[p].id, 1.0) for p in quoted
                      if snap.chunks[p].id not in {c for c, _ in named}
                      and (not constraints.filters or snap.fits(p, constraints))]
        if constraints.filters:
            record_ok = snap.record_mask(constraints)
            if not record_ok.any():
                # Nothing fits: say so (Retrieval.note) and offer the closest matches.
                ranked = self._ranked(snap, question, vector, k, None, None)
                sources = self._slots(snap, named + ranked, k, constraints, closest=True)
                return Retrieval(question, sources, constraints, relaxed=True, comparison=comparison)
            mask = snap.allowed(constraints)
        else:
            record_ok = mask = None
        if constraints.sort:
            ranked = self._sorted(snap, constraints, record_ok)
        else:
            ranked = self._ranked(snap, question, vector, k, constraints, mask)
            if constraints.filters:
                ranked = _with_words_first(snap, ranked, _extra_words(constraints, snap.facets))
                ranked = _products_first(snap, ranked)
        sources = self._slots(snap, named + ranked, max(k, len(compared)), constraints)
        return Retrieval(question, sources, constraints, comparison=comparison,
                         understanding=understanding)

    def understand(self, question: str, history: Sequence[Any] = (),
                   remembered: Constraints | None = None) -> Understanding:
        """What ``question`` asks, after ``history`` and under the ``remembered`` filters
        (shopbot.query), read against the current catalog."""
        return self.index.snapshot().reader().understand(question, history, remembered)

    def _listed(self, snap, u: Understanding, question: str, vector, limit: int) -> Retrieval | None:
        """Every product that fits a list or superlative question, in the order asked: by
        the sort key, else by how close a measured bound is met, else by relevance."""
        import numpy as np

        from shopbot.vocabulary import SIZE_DIMENSIONS, kind_parents

        c = u.constraints
        fitting = snap.record_mask(c)
        modifiers = list(dict.fromkeys(
            [*u.modifiers, *(w for w in u.words if w in snap.kind_words)]))
        if u.kinds and not (snap.kind_mask(u.kinds) & snap.is_product).any():
            return None

        def narrowed(kinds: list[str]) -> tuple[list[int], int]:
            """The fitting products of ``kinds``, narrowed by each other word some of them
            are called ("*women's* jackets"; a word none is called, "warm", is passed over),
            and how many words narrowed them."""
            pool = fitting & snap.kind_mask(kinds) if kinds else fitting
            found = [int(i) for i in np.flatnonzero(pool)]
            applied = 0
            broader = {p for k in kinds for p in kind_parents(k)}
            for word in dict.fromkeys([*u.words, *u.kinds, *modifiers]):
                if word in kinds or word in broader or not found \
                        or (len(kinds) > 1 and word in snap.kind_words):
                    continue  # "a big bag, backpack or duffel": any of those kinds
                called = snap.called_all([word], found)
                if called:
                    found, applied = called, applied + 1
            if u.features and found:
                # "shorts with a liner or brief": those whose own text says one of them.
                having = [i for i in found if snap.has_any(u.features, i)]
                if having:
                    found, applied = having, applied + 1
            return found, applied

        # "tank tops", "duffel bags": the head noun is the kind, unless the products of the
        # other noun fit the rest of the question better (men's tanks are filed as tanks).
        # Several kinds named apart ("backpack or duffel") are all wanted.
        options = [list(u.kinds)] + ([[m] for m in modifiers] if len(u.kinds) < 2 else [])
        scored = [(narrowed(kinds), -n) for n, kinds in enumerate(options)]
        (positions, _), _ = max(scored, key=lambda s: (bool(s[0][0]), s[0][1], s[1]))
        if u.accessory_of and positions:
            # "poles for the Alpine 2 tent": those whose text names the tent.
            positions = snap.reader()._accessories(u.kinds, u.accessory_of) or positions
        if u.exclude and positions:
            # "not the kids one": products called so are left out.
            left = [i for i in positions if not set(u.exclude) & snap.name_token_sets[i]]
            positions = left or positions
        if not positions:
            # Nothing fits: say so (Retrieval.note) and offer the closest matches.
            ranked = self._ranked(snap, question, vector, limit, None, None)
            sources = self._slots(snap, ranked, min(limit, 5), c, closest=True)
            return Retrieval(question, sources, c, relaxed=True, total=0, understanding=u)
        order = self._relevance_order(snap, question, vector, positions, limit)
        quoted = [snap.records[pid] for pid in u.quoted if pid in snap.records]
        if quoted and not c.sort:
            # "shirts. Pattern C88 was redrawn 8 times": the shirt whose text it quotes first.
            fitting_quoted = [p for p in quoted if p in set(order)]
            order = fitting_quoted + [p for p in order if p not in fitting_quoted]
        if c.sort:
            dimension = c.sort_dimension
            if dimension == "size":
                dimension = next(
                    (d for d in SIZE_DIMENSIONS
                     if not np.isnan(snap.measure(d)[positions]).all()), "size")
            values = snap.measure(dimension, c.sort_label) if dimension != "size" else None
            if values is not None and not np.isnan(values[positions]).all():
                known = [i for i in order if not np.isnan(values[i])]
                sign = -1.0 if c.sort_descending else 1.0
                order = sorted(known, key=lambda i: (sign * values[i], snap.price[i]))
        elif c.measures:
            # "a tent for 4 people": the ones that fit best (closest to the bound) first.
            m = c.measures[0]
            values = snap.measure(m.dimension, m.label)
            anchor = m.low if m.low is not None else m.high
            order = sorted(order, key=lambda i: (abs(values[i] - anchor), snap.price[i]))
        ids = [snap.chunks[i].id for i in order[:limit]]
        similarity = self._similarities(vector, ids)
        ranked = [(chunk_id, similarity.get(chunk_id)) for chunk_id in ids]
        sources = self._slots(snap, ranked, limit, c)
        sources = [s for s in sources if s.kind == "product" or s.product is not None]
        return Retrieval(question, sources, c, total=len(order), understanding=u)

    def _nearest_category(self, snap, vector) -> str:
        """The category the shop carries that is closest in meaning to the question (for
        "we don't sell kayaks; the closest thing we carry is ..."), or ""."""
        import numpy as np

        names = snap.__dict__.get("_category_names")
        if names is None:
            leaves = sorted({p.split(">")[-1].strip() for p in snap.paths if p.strip()})
            vectors = np.asarray(self.embeddings.embed_documents(leaves)) if leaves else None
            names = snap.__dict__["_category_names"] = (leaves, vectors)
        leaves, vectors = names
        if not leaves:
            return ""
        query = np.asarray(vector, dtype=np.float64)
        norms = np.linalg.norm(vectors, axis=1) * (np.linalg.norm(query) or 1.0)
        scores = vectors @ query / np.where(norms > 0, norms, 1.0)
        best = int(np.argmax(scores))
        return leaves[best] if scores[best] >= NEAR_CATEGORY else ""

    def _relevance_order(self, snap, question: str, vector, positions: list[int],
                         limit: int) -> list[int]:
        """``positions`` (product records) ordered by the hybrid ranking of ``question``
        among them, as far as a ranking of a few times ``limit`` candidates reaches (the
        list shows ``limit``); the rest follow in catalog order."""
        import numpy as np

        mask = np.zeros(len(snap), dtype=bool)
        mask[positions] = True
        allowed = snap.allowed_for_records(mask)
        n = min(len(snap), max(MIN_CANDIDATES, 4 * min(len(positions), limit)))
        ranked = self._fused(snap, question, vector, n, None, allowed)
        seen: list[int] = []
        for chunk_id, _ in ranked:
            pos = snap.position.get(chunk_id)
            if pos is None:
                continue
            owner = int(snap.record_of[pos]) if snap.record_of[pos] >= 0 else pos
            if mask[owner] and owner not in seen:
                seen.append(owner)
        rest = [i for i in positions if i not in set(seen)]
        return seen + rest

    def search(self, query: str, k: int = 5, where: dict[str, Any] | None = None) -> list[Source]:
        """Hybrid search for ``query`` without reading constraints from it; ``where`` is a
        Chroma filter on the dense side (and the keyword side is then left out)."""
        query = query.strip()
        if not query:
            return []
        if where is None:
            return self.retrieve(query, k, use_constraints=False).sources
        snap = self.index.snapshot()  # also catches up with other processes' commits
        vector = self.embeddings.embed_query(query)
        exact = _exact_sku_matches(self.store, query, k, where, visible=snap.shows)
        nearest = [
            Source.from_chunk(chunk_id, text, meta, 1.0 - distance)
            for chunk_id, text, meta, distance in self.store.query(
                vector, k, where, visible=snap.shows
            )
        ]
        seen = {(s.id, s.source, s.text) for s in exact}
        return (exact + [s for s in nearest if (s.id, s.source, s.text) not in seen])[:k]

    # -- the rankings ----------------------------------------------------------------------

    def _ranked(self, snap, question, vector, k, constraints, mask) -> list[tuple[str, float | None]]:
        """Chunk ids by fused rank, with their cosine similarity when the dense side saw them:
        enough candidates for ``k`` slots (a product with a record, a spec sheet and a page
        fills one slot with many chunks; more candidates are drawn then)."""
        n = max(MIN_CANDIDATES, 2 * k)
        while True:
            ranked = self._fused(snap, question, vector, n, constraints, mask)
            if n >= len(snap) or _slot_count(snap, ranked) > k or n >= 8 * max(k, 1):
                return ranked
            n *= 2

    def _fused(self, snap, question, vector, n, constraints, mask) -> list[tuple[str, float | None]]:
        where = None
        if constraints is not None and constraints.filters:
            # Products that pass the metadata filters, and every passage (post-filtered below).
            where = {"$or": [constraints.to_where(), {"kind": {"$ne": "product"}}]}
        # The same results as store.query(vector, n, where), the filter evaluated in memory.
        dense = (
            self.store.query(vector, n, where, visible=snap.shows) if where is None
            else self.index.query_where(snap, vector, n, where)
        )
        similarity: dict[str, float] = {}
        dense_ids: list[str] = []
        for chunk_id, _text, _meta, distance in dense:
            pos = snap.position.get(chunk_id)
            if mask is not None and pos is not None and not mask[pos]:
                continue
            similarity[chunk_id] = 1.0 - distance
            dense_ids.append(chunk_id)
        keyword_ids = [snap.chunks[i].id for i in snap.keyword_ranking(question, n, mask)]
        fused: dict[str, float] = {}
        for ranking in (dense_ids, keyword_ids):
            for rank, chunk_id in enumerate(ranking):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
        order = sorted(fused, key=lambda c: -fused[c])
        missing = [c for c in order if c not in similarity]
        if missing:
            similarity.update(self._similarities(vector, missing))
        return [(chunk_id, similarity.get(chunk_id)) for chunk_id in order]

    def _sorted(self, snap, constraints: Constraints, record_ok) -> list[tuple[str, float | None]]:
        """Product records that satisfy the constraints, by price as asked; when the question
        has words beyond its constraints ("cheapest *2-person* tent"), only the records that
        have all of them, if any do."""
        import numpy as np

        from shopbot.catalog_index import keyword_tokens

        pool = np.flatnonzero(record_ok if record_ok is not None else snap.is_product)
        pool = [int(i) for i in pool if not np.isnan(snap.price[i])]
        words = keyword_tokens(constraints.text)
        if words:
            narrowed = snap.containing_all(words, pool)
            pool = narrowed or pool
        pool.sort(key=lambda i: snap.price[i], reverse=constraints.sort == "price_desc")
        return [(snap.chunks[i].id, None) for i in pool]

    def _similarities(self, vector: Sequence[float], chunk_ids: Sequence[str]) -> dict[str, float]:
        import numpy as np

        found = self.store.vectors(chunk_ids)
        if not found:
            return {}
        query = np.asarray(vector, dtype=np.float64)
        query = query / (np.linalg.norm(query) or 1.0)
        out = {}
        for chunk_id, stored in found.items():
            v = np.asarray(stored, dtype=np.float64)
            out[chunk_id] = float(v @ query / (np.linalg.norm(v) or 1.0))
        return out

    # -- slots -----------------------------------------------------------------------------

    def _slots(self, snap, ranked, k, constraints, closest: bool = False) -> list[Source]:
        """``k`` slots from ranked (chunk id, similarity) pairs: one per product, one per
        other passage. A product's slot holds its best chunk, its record (price, stock) when
        that is another chunk, and its next best chunks (the spec sheet section that says
        what the record does not), ``CHUNKS_PER_PRODUCT`` in all."""
        groups: dict[str, list[tuple[int, float | None]]] = {}
        for chunk_id, similarity in ranked:
            pos = snap.position.get(chunk_id)
            if pos is None:
                continue
            owner = snap.record_of[pos]
            key = (snap.chunks[owner].product_id if owner >= 0 else "") or chunk_id
            if key not in groups and len(groups) >= k:
                continue
            members = groups.setdefault(key, [])
            if all(pos != p for p, _ in members):
                members.append((pos, similarity))
        sources: list[Source] = []
        for members in groups.values():
            best, score = members[0]
            record = int(snap.record_of[best]) if snap.record_of[best] >= 0 else None
            chosen = [(best, score)]
            if record is not None and record != best:
                chosen.append((record, score))  # the same product: it shares the score
            chosen += [m for m in members[1:] if m[0] != record][: CHUNKS_PER_PRODUCT - len(chosen)]
            for member, member_score in chosen:
                item = snap.chunks[member]
                note = ""
                if snap.is_product[member] and constraints.filters and not snap.fits(
                    member, constraints
                ):
                    note = "closest match" if closest else "does not fit your filters"
                similarity = 1.0 if member_score is None else member_score
                source = Source.from_chunk(item.id, item.text, item.meta, similarity)
                if record is not None and member != record:
                    # A spec sheet or page names its product by a variant's SKU: it is
                    # the record's product (one id per product, as cards and answers need).
                    owner = snap.chunks[record]
                    source = replace(source, id=owner.product_id, product=owner.product)
                variants = _fitting_variants(source.product, constraints, item.text)
                sources.append(replace(source, note=note, variants=variants))
        return sources


def _read(snap, text: str) -> tuple[Constraints, list[int]]:
    """The constraints of ``text`` and the records of the products it quotes: read by the
    question reader (:meth:`shopbot.query.QuestionReader.constraints_of`)."""
    return snap.reader().constraints_of(text)


def _slot_count(snap, ranked: list[tuple[str, float | None]]) -> int:
    """How many slots (products, other passages) the ranked chunks fill."""
    keys = set()
    for chunk_id, _ in ranked:
        pos = snap.position.get(chunk_id)
        if pos is not None:
            owner = snap.record_of[pos]
            keys.add(int(owner) if owner >= 0 else chunk_id)
    return len(keys)


def _fitting_variants(product: Product | None, constraints: Constraints, text: str) -> tuple[str, ...]:
    """The SKUs of the variants that fit the shopper's filters (() when the filters say
    nothing about variants, or the product has none to choose between)."""
    if product is None or not product.has_options or not constraints.filters:
        return ()
    found = constraints.matching_variants(product, text)
    if len(found) == len(product.variants):
        return ()
    return tuple(v.sku for v in found if v.sku)


def _products_first(snap, ranked: list[tuple[str, float | None]]) -> list[tuple[str, float | None]]:
    """For a question that filters products ("tents under $300"), the products come first.
    A passage about no product (a policy, the FAQ) keeps its place when it is clearly closer
    to the question than every product ("what is the warranty on backpacks?"); one more may,
    when it is closer at all; other passages follow the products."""
    def about_product(chunk_id: str) -> bool:
        pos = snap.position.get(chunk_id)
        return pos is not None and snap.record_of[pos] >= 0

    best = max((s for c, s in ranked if s is not None and about_product(c)), default=None)
    if best is None:
        return ranked
    keep: list[tuple[str, float | None]] = []
    passages = 0
    for chunk_id, score in ranked:
        if about_product(chunk_id):
            keep.append((chunk_id, score))
        elif score is not None and (
            score >= best + CLEARLY_CLOSER or (passages == 0 and score >= best)
        ):
            keep.append((chunk_id, score))
            passages += 1
    kept = {c for c, _ in keep}
    return keep + [(c, s) for c, s in ranked if c not in kept]


def _with_words_first(snap, ranked, words: list[str]) -> list[tuple[str, float | None]]:
    """Products that have every word the question adds to its filters ("*waterproof*
    apparel under $150") before those that do not, when any has them; order kept within."""
    if not words:
        return ranked
    wanted = set(words)

    def product_without(chunk_id: str) -> bool:
        pos = snap.position.get(chunk_id)
        if pos is None or snap.record_of[pos] < 0:
            return False  # passages about no product keep their place
        return not (
            wanted <= snap.word_sets[pos] or wanted <= snap.word_sets[snap.record_of[pos]]
        )

    first = [(c, s) for c, s in ranked if not product_without(c)]
    if len(first) == len(ranked) or not any(
        snap.record_of[snap.position[c]] >= 0 for c, _ in first if c in snap.position
    ):
        return ranked
    chosen = {c for c, _ in first}
    return first + [(c, s) for c, s in ranked if c not in chosen]


def _extra_words(constraints: Constraints, facets) -> list[str]:
    """The words of a filtering question beyond its filters: "waterproof" in "waterproof
    apparel under $150" (brand, category and colour words are the filters themselves)."""
    from shopbot.catalog_index import keyword_tokens

    words = keyword_tokens(constraints.text)
    spans = facets.lookup(words)
    inside = {i for start, end, _, _ in spans for i in range(start, end)}
    return [w for i, w in enumerate(words) if i not in inside and not w.isdigit()]


def _named(snap, question: str, first: Sequence[str] = ()) -> list[tuple[str, float]]:
    """Records the question names by SKU or by product name, as ranked entries (score 1.0),
    after the products ``first`` (those a comparison resolved)."""
    positions = [snap.records[p] for p in first if p in snap.records]
    for token in _sku_tokens(question):  # a product's id or one of its variants' SKUs
        found = snap.record_position(token)
        if found >= 0 and found not in positions:
            positions.append(found)
    if not first:  # a comparison's products are resolved already
        positions += [snap.records[p] for p in snap.named_products(question)
                      if snap.records[p] not in positions]
    return [(snap.chunks[p].id, 1.0) for p in positions]


def search(
    store: CatalogStore,
    embeddings: Embeddings,
    query: str,
    k: int = 5,
    where: dict[str, Any] | None = None,
) -> list[Source]:
    """One-off hybrid search (builds a Retriever; keep one around for repeated searches)."""
    return Retriever(store, embeddings).search(query, k, where)


# SKU-like tokens: letters/digits in two or more dash- or dot-separated parts with a digit
# somewhere ("RL-TNT-001", "AB12-7"). Only tokens that are the id of a stored product count.
_SKU_TOKEN = re.compile(r"(?<![\w-])(?=[\w.-]*\d)[A-Za-z0-9]+(?:[-.][A-Za-z0-9]+)+(?![\w-])")


def _sku_tokens(query: str) -> list[str]:
    found = _SKU_TOKEN.findall(query)
    return list(dict.fromkeys([t.upper() for t in found] + found))


def _exact_sku_matches(
    store: CatalogStore,
    query: str,
    k: int,
    where: dict[str, Any] | None,
    visible: Callable[[str], bool] | None = None,
) -> list[Source]:
    """Product records whose id (SKU) appears verbatim in the query, score 1.0. Embeddings
    know nothing of SKUs, so a shopper pasting "RL-TNT-001" gets that product first."""
    tokens = _sku_tokens(query)
    if not tokens:
        return []
    condition: dict[str, Any] = {"product_id": {"$in": sorted(tokens)}}
    found = store.get_chunks({"$and": [condition, where]} if where else condition)
    found = [row for row in found if visible is None or visible(row[0])][:k]
    # Product records before passages that merely belong to the product (spec sheets, pages).
    found.sort(key=lambda item: item[2].get("kind") != "product")
    return [Source.from_chunk(chunk_id, text, meta, 1.0) for chunk_id, text, meta in found]
