"""An in-memory view of the stored chunks for what a vector store does badly: keyword (BM25)
ranking, SKU and product-name lookup, and fast filtering of product records (also for the
dense side: a filtered vector query searches among ids filtered here, since Chroma's own
metadata filter costs several times the query at 10,000 products).

The vectors stay in Chroma; this holds each chunk's id, words and metadata (about 1 KB per
product record: ~10 MB at 10,000 products). It is rebuilt from the store when the store
changes, which it notices from a cheap signature (chunk count + the document registry), so
a file ingested by another process or replica is seen by the next question.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from shopbot.constraints import Constraints, Facets, norm, singular, tokens, word_spans
from shopbot.product_names import TitleIndex
from shopbot.products import Product

if TYPE_CHECKING:
    import numpy as np

    from shopbot.store import CatalogStore

log = logging.getLogger(__name__)

# Words too common to rank on. Shoppers' filler words, not catalog vocabulary: "tent" stays.
_KEYWORD_STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with about from into as is are was were
    be been being do doe did have ha had can could would should will shall may might must i me
    my we our you your it it's its they them their this that these those there here what which
    who whom whose when where why how much many more most any some all each every no not only
    own same so than too very just also please tell know want need get got buy sell sold shop
    store one thing item product catalog hi hello thank thanks show find look looking cost
    price under over below above between less cheap cheapest expensive""".split()
)


def keyword_tokens(text: str) -> list[str]:
    """The words BM25 ranks on: lower-cased, singular, without filler words. Hyphenated
    words also count as one ("2-person" -> "2", "person", "2person")."""
    # Possessives folded: "Women's" and "womens" are "women" (tokens leaves "women'").
    words = [w.rstrip("'") for w in tokens(text) if w.rstrip("'") not in _KEYWORD_STOPWORDS]
    words = [w for w in words if w]
    joined = ["".join(tokens(m)) for m in re.findall(r"\w+(?:-\w+)+", text.lower())]
    return words + [j for j in joined if j]


# A question quotes a product's own text when this many of its keyword words (filler words
# left out on both sides) run consecutively in the product's record or passage, at least
# half of the question's keyword words ...
QUOTE_MIN_WORDS = 3
# ... and the run is in at most this many products (more: shared boilerplate, which points
# at no product in particular).
QUOTE_MAX_PRODUCTS = 2
# The BM25 candidates searched for the run (every chunk holding it ranks high).
QUOTE_CANDIDATES = 10


@dataclass(frozen=True)
class Quote:
    """Words of a question that quote the text of one or two products ("bottom band seal in
    body" from a hoodie's description): a reference to those products, not filters."""

    products: tuple[int, ...]  # record positions, best keyword match first
    span: tuple[int, int]  # where the quoted words are in the question (characters)


def _longest_run(query: Sequence[str], text: Sequence[str]) -> tuple[int, int]:
    """(start, end) of the longest run of ``query`` words that ``text`` holds consecutively."""
    at: dict[str, list[int]] = {}
    for i, word in enumerate(query):
        at.setdefault(word, []).append(i)
    length, end = 0, 0
    previous: dict[int, int] = {}
    for word in text:
        places = at.get(word)
        if not places:
            previous = {}
            continue
        current = {}
        for i in places:
            n = current[i] = previous.get(i - 1, 0) + 1
            if n > length:
                length, end = n, i + 1
        previous = current
    return end - length, end


@dataclass(frozen=True)
class Chunk:
    """One stored chunk as the index keeps it."""

    id: str
    text: str
    meta: Mapping[str, Any]

    @property
    def product_id(self) -> str:
        return str(self.meta.get("product_id") or "")

    @property
    def is_record(self) -> bool:
        return self.meta.get("kind") == "product"

    @property
    def product(self) -> Product | None:
        """The typed product of a record (or of a passage that names one)."""
        return Product.from_metadata(self.meta)

    @property
    def hidden(self) -> bool:
        """A draft, archived or hidden product's record: never shown to shoppers."""
        return self.meta.get("visible") is False


class CatalogIndex:
    """Keyword ranking, filtering and name lookup over every chunk of a store.

    Thread-safe: a rebuild swaps in a new immutable snapshot; readers keep the one they got.
    """

    def __init__(self, store: CatalogStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None

    def snapshot(self) -> _Snapshot:
        """The current snapshot, rebuilt first when the store changed since the last one.

        The store's signature (its document registry: one round trip) is read on every
        call, so a file committed, replaced or deleted by any process or replica is seen by
        the next question, and a price never outlives its record. A change made by another
        process also reopens an embedded store's client (its vector index would be stale).
        """
        signature, committed = self.store.registry_state()
        current = self._snapshot
        if current is not None and current.signature == signature and current.current():
            return current
        with self._lock:
            current = self._snapshot
            if current is None or current.signature != signature or not current.current():
                self.store.ensure_fresh(signature)
                current = _Snapshot.build(self.store, signature, committed)
                self._snapshot = current
        return current

    def query_where(
        self, snap: _Snapshot, vector: Sequence[float], k: int, where: Mapping[str, Any]
    ) -> list[tuple[str, str, dict[str, Any], float]]:
        """``store.query(vector, k, where)``, the same results, faster: the filter is
        evaluated on ``snap`` (:meth:`_Snapshot.where_ids`) and Chroma searches among those
        ids. Falls back to Chroma's own filter when ``where`` is not mirrored, or when a chunk
        of ``snap`` has left the store since (Chroma refuses unknown ids)."""
        ids = snap.where_ids(where)
        if ids is None:
            return self.store.query(vector, k, where, visible=snap.shows)
        if not ids or k <= 0:
            return []
        try:
            found = self.store.chunks.query(
                query_embeddings=[list(vector)],
                n_results=k,
                ids=ids,
                include=["documents", "metadatas", "distances"],
            )
        except Exception:  # noqa: BLE001 - e.g. "Error finding id": the store changed
            log.debug("catalog index: id-restricted query failed; filtering in Chroma")
            return self.store.query(vector, k, where, visible=snap.shows)
        return list(zip(found["ids"][0], found["documents"][0], found["metadatas"][0],
                        found["distances"][0]))


class _Snapshot:
    """The index as of one store signature (immutable once built)."""

    def __init__(self, chunks: list[Chunk], signature: tuple[Any, ...]) -> None:
        import numpy as np

        self.signature = signature
        self.chunks = chunks
        self.position = {c.id: i for i, c in enumerate(chunks)}
        # The product record of each SKU. A product known only from a page or spec sheet
        # that carries its SKU and price (no row in any product list) is its own record.
        self.records: dict[str, int] = {}
        for i, chunk in enumerate(chunks):
            if chunk.is_record and chunk.product_id:
                self.records[chunk.product_id] = i
        # A variant's SKU names its product: a spec sheet or a shopper may use either.
        self.sku_owner: dict[str, str] = {}  # lower-cased SKU -> product id
        for pid, i in self.records.items():
            product = chunks[i].product
            for sku in product.skus if product is not None else ():
                self.sku_owner.setdefault(sku.lower(), pid)
        for i, chunk in enumerate(chunks):
            pid = chunk.product_id
            if (pid and pid not in self.records and pid.lower() not in self.sku_owner
                    and chunk.product is not None and chunk.product.price() is not None):
                self.records[pid] = i
        self.is_product = np.zeros(len(chunks), dtype=bool)
        self.is_product[list(self.records.values())] = True
        self.record_of = np.array(
            [self.record_position(c.product_id) if c.product_id else -1 for c in chunks],
            dtype=np.int64,
        )
        self.is_record = np.array([c.is_record for c in chunks], dtype=bool)
        # Prices and stock as of now, from each record's variants (a sale that has ended
        # is not a price any more: see valid_until).
        products = [c.product if self.is_product[i] else None for i, c in enumerate(chunks)]
        self.price = np.array(
            [_price(p, c) for p, c in zip(products, chunks)], dtype=np.float64
        )
        self.price_max = np.array(
            [_price(p, c, highest=True) for p, c in zip(products, chunks)], dtype=np.float64
        )
        self.stock = np.array(
            [_stock(p, c) for p, c in zip(products, chunks)], dtype=np.float64
        )
        self.has_options = np.array(
            [bool(p is not None and p.has_options) for p in products], dtype=bool
        )
        self.valid_until = _next_sale_boundary(p for p in products if p is not None)
        self.brand = np.array([norm(p.brand) if p else "" for p in products], dtype=object)
        self.path = np.array([p.category_path if p else "" for p in products], dtype=object)
        self.paths = sorted(set(self.path.tolist()))
        self.words = [keyword_tokens(f"{c.meta.get('title', '')}\n{c.text}") for c in chunks]
        self.word_sets = [set(w) for w in self.words]
        self.facets = Facets.from_records(
            (chunks[i].text, chunks[i].meta) for i in self.records.values()
        )
        self._titles = TitleIndex(
            [(pid, products[i].title if products[i] else "") for pid, i in self.records.items()]
        )
        self._ids = np.array([c.id for c in chunks], dtype=object)
        self._columns: dict[str, _Column] = {}  # metadata values by key, for where_ids
        # What kind of thing each product is: its title's head noun ("tent" for "Meadow 8
        # Cabin Tent") and the things its own category names ("Hoodies & Sweatshirts").
        self.kinds: list[frozenset[str]] = [
            product_kinds(p) if p is not None else frozenset() for p in products
        ]
        self.heads = np.array([title_head(p.title) if p else "" for p in products], dtype=object)
        self.kind_words: frozenset[str] = frozenset().union(*self.kinds) if self.kinds else frozenset()
        # Words of product titles, categories and tags: what the shop sells is called so
        # (a word only in descriptions, "kayak" of "for kayak trips", is not).
        self.name_words: frozenset[str] = frozenset(
            w for p in products if p is not None
            for w in tokens(" ".join([p.title, *p.categories, *p.tags]))
        )
        self._measures: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}
        self._bm25 = None
        if chunks:
            import bm25s

            self._bm25 = bm25s.BM25()
            self._bm25.index([w or ["<empty>"] for w in self.words], show_progress=False)
            self._vocab = self._bm25.vocab_dict

    @classmethod
    def build(
        cls, store: CatalogStore, signature: tuple[Any, ...], committed: dict[str, str]
    ) -> _Snapshot:
        """The visible chunks as of ``signature``: those of committed versions, and of each
        SKU's product records only the newest (a crash between a commit and the removal of
        the records it replaced may leave both for a moment). If a commit lands while the
        chunks are read, read again, so a snapshot never mixes two states of a document."""
        for _attempt in range(3):
            chunks = [
                Chunk(cid, text or "", meta or {})
                for cid, text, meta in store.iter_chunks(batch=2000, committed=committed)
            ]
            after, committed_after = store.registry_state()
            # Pages are read by offset: a delete elsewhere while reading (a rollback changes
            # no registry entry) can shift rows past us. Every committed chunk the registry
            # counts must be there, else read again.
            expected = sum(int(part[6]) for part in signature)
            if after == signature and len(chunks) >= expected:
                break
            signature, committed = after, committed_after
        newest: dict[str, Chunk] = {}
        for chunk in chunks:
            if chunk.is_record and chunk.product_id:
                held = newest.get(chunk.product_id)
                if held is None or _newer(chunk, held):
                    newest[chunk.product_id] = chunk
        chunks = [
            c for c in chunks
            if not (c.is_record and c.product_id) or newest[c.product_id] is c
        ]
        chunks = _variant_updates(chunks)
        chunks = _document_facts(chunks)
        # Drafts, archived and hidden products (and passages about them) are for staff
        # only: the Catalog page and `docs list` show them; shoppers never do.
        hidden = {c.product_id for c in chunks if c.is_record and c.hidden}
        hidden -= {c.product_id for c in chunks if c.is_record and not c.hidden}
        if hidden:
            # A page or spec sheet may name the product by one of its variants' SKUs.
            keys = {pid.lower() for pid in hidden} | {
                sku.lower() for c in chunks
                if c.is_record and c.product_id in hidden and c.product is not None
                for sku in c.product.skus
            }
            chunks = [c for c in chunks if c.product_id.lower() not in keys]
        log.debug("catalog index: %d chunks (%d hidden products)", len(chunks), len(hidden))
        return cls(chunks, signature)

    def __len__(self) -> int:
        return len(self.chunks)

    def record_position(self, key: str) -> int:
        """The position of the record a product id or one of its variants' SKUs names."""
        found = self.records.get(key)
        if found is None and key.lower() in self.sku_owner:
            found = self.records.get(self.sku_owner[key.lower()])
        return -1 if found is None else found

    def current(self) -> bool:
        """False once a sale window of a product in it has opened or closed since it was
        built: prices and filters are computed again then."""
        import time

        return self.valid_until is None or time.time() < self.valid_until

    def shows(self, chunk_id: str, _meta: Any = None) -> bool:
        """Whether a chunk the store returned is visible in this snapshot (committed, and
        not a replaced record)."""
        return chunk_id in self.position

    # -- filtering -------------------------------------------------------------------------

    def allowed(self, constraints: Constraints) -> np.ndarray:
        """Which chunks may be shown under ``constraints``: product records that satisfy
        them, passages about such a product (a spec sheet follows its record), and every
        passage that is about no product (policies, FAQs)."""
        ok = self.record_mask(constraints)
        linked = self.record_of >= 0
        result = ~linked  # passages about no product
        result[linked] = ok[self.record_of[linked]]
        return result

    def allowed_for_records(self, records: np.ndarray) -> np.ndarray:
        """The chunks of the product records in ``records`` and the passages about them."""
        linked = self.record_of >= 0
        result = records.copy()
        result[linked] |= records[self.record_of[linked]]
        return result

    def record_mask(self, constraints: Constraints) -> np.ndarray:
        """Product records satisfying every constraint (vectorised; colour and size, which
        live in the record text, are checked only on what survives the rest)."""
        import numpy as np

        mask = self.is_product.copy()
        if constraints.price_min is not None:
            mask &= self.price_max >= constraints.price_min
        if constraints.price_max is not None:
            mask &= self.price <= constraints.price_max
        if constraints.brands:
            mask &= np.isin(self.brand, [norm(b) for b in constraints.brands])
        if constraints.categories:
            paths = [p for p in self.paths if constraints.category_ok(p)]
            mask &= np.isin(self.path, paths)
        if constraints.in_stock is True:
            mask &= self.stock > 0
        elif constraints.in_stock is False:
            mask &= self.stock <= 0
        for measure in constraints.measures:
            values = self.measure(measure.dimension, measure.label)
            known = ~np.isnan(values)
            fits = known.copy()
            if measure.low is not None:
                fits[known] &= values[known] >= measure.low - 1e-9
            if measure.high is not None:
                fits[known] &= values[known] <= measure.high + 1e-9
            mask &= fits
        variant_level = (constraints.price_min is not None or constraints.price_max is not None
                         or constraints.in_stock is not None)
        check = mask if (constraints.colours or constraints.sizes) else (
            mask & self.has_options if variant_level else None)
        if check is not None:
            for i in np.flatnonzero(check):
                mask[i] = self.fits(int(i), constraints)
        return mask

    def where_ids(self, where: Mapping[str, Any]) -> list[str] | None:
        """The ids of the chunks a Chroma ``where`` matches, computed from this snapshot's
        metadata: a dense query restricted to these ids finds what the same query under
        ``where`` finds, without Chroma evaluating the filter in SQLite (over 100 ms at
        10,000 products, against ~20 ms for the query itself). None when ``where`` uses an
        operator, or a key holds a value type, that this does not mirror exactly (missing
        keys under ``$ne``, an int compared with a float): ask Chroma with ``where`` then."""
        mask = self._where_mask(where)
        return None if mask is None else self._ids[mask].tolist()

    def _where_mask(self, where: Mapping[str, Any]) -> np.ndarray | None:
        import numpy as np

        if len(where) != 1:  # {"a": 1, "b": 2} is an implicit $and
            return self._where_mask({"$and": [{key: value} for key, value in where.items()]})
        ((key, condition),) = where.items()
        if key in ("$and", "$or"):
            masks = [self._where_mask(part) for part in condition]
            if not masks or any(m is None for m in masks):
                return None
            combine = np.logical_and if key == "$and" else np.logical_or
            return combine.reduce(masks)
        if not isinstance(condition, dict):
            condition = {"$eq": condition}
        if len(condition) != 1:
            return None
        ((op, value),) = condition.items()
        column = self._column(key)
        if op == "$in" and all(isinstance(v, str) for v in value):
            if not column.types <= {str}:
                return None
            return np.isin(column.codes, [column.code_of.get(v, -2) for v in value])
        if op in ("$eq", "$ne") and isinstance(value, str):
            if not column.types <= {str}:
                return None
            if op == "$ne" and not column.present.all():
                return None  # how Chroma treats a missing key under $ne is not mirrored
            equal = column.codes == column.code_of.get(value, -2)
            return equal if op == "$eq" else ~equal
        if op in ("$eq", "$ne") and isinstance(value, bool):
            if not column.types <= {bool} or (op == "$ne" and not column.present.all()):
                return None
            equal = column.present & (column.values == value)
            return equal if op == "$eq" else ~equal
        compare = {"$gt": np.greater, "$gte": np.greater_equal, "$lt": np.less,
                   "$lte": np.less_equal}.get(op)
        if compare is None or type(value) not in (int, float):
            return None
        if not column.types <= {type(value)}:
            return None  # Chroma keeps ints and floats apart: not mirrored
        return compare(column.numbers, float(value)) & column.present

    def _column(self, key: str) -> _Column:
        """Every chunk's metadata value for ``key``, made on first use and kept (two threads
        may both make it: same result)."""
        found = self._columns.get(key)
        if found is None:
            found = self._columns[key] = _Column([c.meta.get(key) for c in self.chunks])
        return found

    @cached_property
    def product_vocabulary(self) -> frozenset[str]:
        """The keyword tokens of products: their records and the pages and sheets about them."""
        return frozenset().union(
            *(self.word_sets[i] for i in range(len(self.chunks)) if self.record_of[i] >= 0)
        )

    @cached_property
    def passage_vocabulary(self) -> frozenset[str]:
        """The keyword tokens of passages about no product (policies, FAQs)."""
        return frozenset().union(
            *(self.word_sets[i] for i in range(len(self.chunks)) if self.record_of[i] < 0)
        )

    def document_frequencies(self) -> tuple[dict[str, int], dict[str, int]]:
        """How many passages about no product, and how many product chunks, have each
        keyword token (key "": how many there are)."""
        found = self.__dict__.get("_document_frequencies")
        if found is None:
            from collections import Counter

            passages: Counter[str] = Counter()
            products: Counter[str] = Counter()
            for i, words in enumerate(self.word_sets):
                target = products if self.record_of[i] >= 0 else passages
                target[""] += 1
                target.update(words)
            found = self.__dict__["_document_frequencies"] = (dict(passages), dict(products))
        return found

    def reader(self):
        """The question reader over this snapshot (shopbot.query), made once."""
        found = self.__dict__.get("_reader")
        if found is None:
            from shopbot.query import QuestionReader

            found = self.__dict__["_reader"] = QuestionReader(self)
        return found

    def measure(self, dimension: str, label: Sequence[str] = ()) -> np.ndarray:
        """Each product record's main value of ``dimension`` (shopbot.quantities; the one
        ``label`` names when it has one), NaN where unknown and for other chunks. "price" is
        the current lowest price."""
        import numpy as np

        if dimension == "price":
            return np.where(self.is_product, self.price, np.nan)
        key = (dimension, tuple(label))
        found = self._measures.get(key)
        if found is None:
            from shopbot.quantities import main_value

            found = np.full(len(self.chunks), np.nan)
            for i in np.flatnonzero(self.is_product):
                product = self.chunks[i].product
                value = main_value(product.measurements(), dimension, label) if product else None
                if value is not None:
                    found[i] = value
            self._measures[key] = found
        return found

    def kind_mask(self, kinds: Iterable[str]) -> np.ndarray:
        """Product records that are one of ``kinds`` (singular nouns: "tent", "hoodie")."""
        import numpy as np

        wanted = {kind_key(k) for k in kinds}
        return np.array([bool(wanted & k) for k in self.kinds], dtype=bool) & self.is_product

    def fits(self, position: int, constraints: Constraints) -> bool:
        """Whether the product record at ``position`` satisfies ``constraints``."""
        chunk = self.chunks[position]
        return constraints.matches({**chunk.meta, "kind": "product"}, chunk.text)

    # -- ranking ---------------------------------------------------------------------------

    def keyword_ranking(self, query: str, n: int, mask: np.ndarray | None = None) -> list[int]:
        """Up to ``n`` chunk positions by BM25 score for ``query`` (score > 0 only)."""
        import numpy as np

        if self._bm25 is None:
            return []
        words = [w for w in dict.fromkeys(keyword_tokens(query)) if w in self._vocab]
        if not words:
            return []
        scores = np.asarray(self._bm25.get_scores(words), dtype=np.float64)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        n = min(n, int((scores > 0).sum()))
        if n <= 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n]
        return [int(i) for i in top[np.argsort(-scores[top], kind="stable")]]

    @cached_property
    def name_token_sets(self) -> list[frozenset[str]]:
        """Each product record's words of its title, categories and tags (what it is called),
        as keyword tokens; empty for other chunks."""
        out = []
        for i, chunk in enumerate(self.chunks):
            product = chunk.product if self.is_product[i] else None
            text = " ".join([product.title, *product.categories, *product.tags]) if product else ""
            out.append(frozenset(keyword_tokens(text)))
        return out

    def called_all(self, words: Sequence[str], positions: Sequence[int]) -> list[int]:
        """The positions whose product is called by every one of ``words`` (title, category,
        tags): "rain" of "rain jackets", "duffel" of "duffel bags"."""
        wanted = set(words)
        sets = self.name_token_sets
        return [i for i in positions if wanted <= sets[i]]

    def quoted(self, question: str) -> Quote | None:
        """The products whose own text the question quotes, if it does (see :class:`Quote`):
        the longest run of the question's keyword words that a product's chunk holds
        consecutively, when it is long enough and at most ``QUOTE_MAX_PRODUCTS`` products
        hold it."""
        spans = [(w, a, b) for w, a, b in word_spans(question) if w not in _KEYWORD_STOPWORDS]
        words = [w for w, _, _ in spans]
        needed = max(QUOTE_MIN_WORDS, (len(words) + 1) // 2)
        if len(words) < needed:
            return None
        wanted = set(words)
        runs: list[tuple[int, int, int, int]] = []  # (position, its record, start, end)
        for pos in self.keyword_ranking(question, QUOTE_CANDIDATES):
            owner = int(self.record_of[pos])
            if owner < 0 or len(wanted & self.word_sets[pos]) < needed:
                continue  # a passage about no product, or too few of the words
            start, end = _longest_run(words, self.words[pos])
            if end - start >= needed:
                runs.append((pos, owner, start, end))
        if not runs:
            return None
        best = max(end - start for _, _, start, end in runs)
        _, _, start, end = next(r for r in runs if r[3] - r[2] == best)
        run = words[start:end]
        if sum(not w.isdigit() for w in run) < 2:
            return None  # "size 10 11": numbers, not words of a product's text
        products = list(dict.fromkeys(
            owner for pos, owner, a, b in runs
            if b - a == best
            and (words[a:b] == run or _longest_run(run, self.words[pos]) == (0, best))
        ))
        if len(products) > QUOTE_MAX_PRODUCTS:
            return None
        if all(len(set(run) - set(tokens(self.chunks[p].product.title if self.chunks[p].product
                                          else ""))) < 2 for p in products):
            return None  # "a power bank that charges": mostly its name, not its text
        return Quote(tuple(products), (spans[start][1], spans[end - 1][2]))

    def has_any(self, words: Sequence[str], record: int) -> bool:
        """Whether the product record at ``record`` (or a page or sheet about it) has one of
        ``words`` (keyword tokens) anywhere in its text."""
        return not set(words).isdisjoint(self._product_words.get(record, ()))

    @cached_property
    def _product_words(self) -> dict[int, set[str]]:
        import numpy as np

        found: dict[int, set[str]] = {}
        for pos in np.flatnonzero(self.is_product):
            found[int(pos)] = set(self.word_sets[pos])
        for pos in np.flatnonzero(self.record_of >= 0):
            found.setdefault(int(self.record_of[pos]), set()).update(self.word_sets[pos])
        return found

    def containing_all(self, words: Sequence[str], positions: Sequence[int]) -> list[int]:
        """The positions whose chunk has every one of ``words``."""
        wanted = set(words)
        return [i for i in positions if wanted <= self.word_sets[i]]

    def named_products(self, question: str) -> list[str]:
        """Ids of the products whose name the question spells out, in question order."""
        return self._titles.find(question)

    def resolve_name(self, phrase: str) -> str | None:
        """The id of the one visible product ``phrase`` names (a SKU, a title, part of one,
        or a misspelt one: shopbot.product_names.TitleIndex.resolve), else None."""
        found = self._titles.resolve(phrase)
        return found if found is not None and found in self.records else None

    def name_spans(self, question: str) -> list[tuple[int, int]]:
        """Where the question spells out a product's name (not filters: "Red Rock Kettle")."""
        return self._titles.spans(question)


class _Column:
    """One metadata key's values over every chunk (None where missing), for where_ids."""

    def __init__(self, values: list[Any]) -> None:
        import numpy as np

        self.values = np.empty(len(values), dtype=object)
        self.values[:] = values
        self.present = np.array([v is not None for v in values], dtype=bool)
        self.types = {type(v) for v in values if v is not None}
        # Strings as codes, so $eq and $in compare integers (-1: missing or not a string).
        self.code_of: dict[str, int] = {}
        self.codes = np.array(
            [self.code_of.setdefault(v, len(self.code_of)) if type(v) is str else -1
             for v in values],
            dtype=np.int64,
        )
        self.numbers = np.array(
            [float(v) if type(v) in (int, float) else np.nan for v in values], dtype=np.float64
        )


# Category names too broad to say what a product is ("Jackets & Apparel" holds rain pants).
_BROAD = frozenset({"apparel", "accessory", "accessories", "gear", "equipment", "essential",
                    "other", "misc", "clothing", "new", "sale", "collection", "product", "more",
                    "category", "categories", "friendly", "arrival", "default", "all", "shop",
                    # mass nouns: a category named so holds things of many sorts
                    "furniture", "footwear", "cookware", "drinkware", "knitwear", "luggage",
                    "electronic", "electronics", "optic", "optics", "lighting", "kitchen"})


def kind_key(word: str) -> str:
    """A kind noun as kinds are compared: singular, "hoodies" and "hoodie" alike."""
    word = singular(word.lower())
    return word[:-2] + "y" if word.endswith("ie") and len(word) > 4 else word


def title_head(title: str) -> str:
    """The noun a title ends on, singular: "Meadow 8 Cabin Tent" -> "tent", "Basecamp
    Percolator 1.2 L" -> "percolator", "Atomic Tee (V-neck)" -> "tee"."""
    text = re.sub(r"\([^)]*\)", " ", title or "")
    words = [w for w in re.findall(r"[^\W\d_]+", text.lower()) if len(w) > 2]
    return kind_key(words[-1]) if words else ""


def product_kinds(product: Product) -> frozenset[str]:
    """What kind of thing a product is: its title's head noun, and the things its category
    names when that category names things of one sort ("Backpacking Tents", "Hoodies &
    Sweatshirts"; not "Jackets & Apparel", not "Tent Accessories"), and the broader kinds
    each of those is a sort of (``vocabulary.KIND_PARENTS``: a parka is a jacket). A
    category inherits its parent's kind when it is a sort of it by name ("Daypacks" under
    "Backpacks": packs), not when it is something else filed there ("Shelters & Tarps"
    under "Tents": a beach shelter is no tent)."""
    from shopbot.vocabulary import kind_parents

    head = title_head(product.title)
    kinds = {head} - {""}
    for path in product.categories[:3]:
        parts = [p for p in re.split(r"\s*(?:>|/|\|)\s*", path) if p.strip()]
        while parts and not _names_things(parts[-1]):
            parts.pop()  # "Sleeping Bags > Down": the bags
        below: list[str] = []
        for part in reversed(parts):
            heads = _category_heads(part)
            if heads is None:
                break  # a broad category ("Accessories", "Jackets & Apparel"): no kind
            if len(heads) < _sides(part):
                # "Coolers & Furniture" also files what is no sort of thing: a product is a
                # cooler there only when its name says so (the camp table is none).
                heads = [h for h in heads if h == head]
                if not heads:
                    break
            if below and not any(_same_stem(h, b) for h in heads for b in below):
                break
            kinds.update(heads)
            below = heads
    for kind in list(kinds):
        kinds |= kind_parents(kind)
    return frozenset(kinds)


def _category_heads(name: str) -> list[str] | None:
    """The singular head nouns of a category's sides that name things ("Hoodies &
    Sweatshirts" -> hoodie, sweatshirt); None for a broad one."""
    sides = [s for s in re.split(r"\s*(?:&|,|\band\b|\+)\s*", name.lower()) if s]
    heads = [(kind_key(re.findall(r"[^\W\d_]+", side)[-1]), side) for side in sides
             if re.findall(r"[^\W\d_]+", side)]
    if not heads or any(h in _BROAD for h, _ in heads):
        return None
    return [h for h, side in heads if _names_things(side)]


def _sides(name: str) -> int:
    """How many sides a category name has ("Coolers & Furniture": 2)."""
    return len([s for s in re.split(r"\s*(?:&|,|\band\b|\+)\s*", name.lower()) if s.strip()])


def _same_stem(a: str, b: str) -> bool:
    """"daypack" and "backpack" end alike (packs); "tarp" and "tent" do not."""
    return a[-4:] == b[-4:] if min(len(a), len(b)) >= 4 else a == b


def _names_things(name: str) -> bool:
    words = re.findall(r"[^\W\d_]+", name.lower())
    return bool(words) and (len(words) > 1 or (words[-1].endswith("s") and not words[-1].endswith("ss")))


def _variant_updates(chunks: list[Chunk]) -> list[Chunk]:
    """One record per SKU across files, variants included: a one-row record (a price list
    line) whose SKU is a variant of a product another file holds updates that variant when
    it is the newer upload (its price and stock; the product keeps its options, images and
    other variants) and is dropped when it is older. Either way shoppers see one product."""
    import json

    from shopbot.source_facts import apply_notes

    owners: dict[str, Chunk] = {}
    for chunk in chunks:
        product = chunk.product if chunk.is_record else None
        if product is not None and product.has_options:
            for sku in product.skus:
                owners.setdefault(sku.lower(), chunk)
    if not owners:
        return chunks
    updates: dict[str, list[Chunk]] = {}  # owner chunk id -> newer one-row records
    dropped: set[str] = set()
    for chunk in chunks:
        if not chunk.is_record or chunk.product_id.lower() not in owners:
            continue
        product = chunk.product
        owner = owners[chunk.product_id.lower()]
        if owner is chunk or product is None or product.has_options:
            continue
        dropped.add(chunk.id)
        if _newer(chunk, owner):
            updates.setdefault(owner.id, []).append(chunk)
    if not dropped:
        return chunks
    result = []
    for chunk in chunks:
        if chunk.id in dropped:
            continue
        if chunk.id in updates:
            product = Product.from_dict(json.loads(chunk.meta["product"]))
            for row in sorted(updates[chunk.id], key=lambda c: str(c.meta.get("updated_at"))):
                update = row.product.variants[0]
                target = product.variant(row.product_id) or next(
                    v for v in product.variants if v.sku.lower() == row.product_id.lower())
                if update.price is not None:
                    target.price, target.compare_at_price = update.price, update.compare_at_price
                    target.sale_starts = target.sale_ends = None
                if update.quantity is not None or update.in_stock is not None:
                    target.quantity, target.in_stock = update.quantity, update.in_stock
                if update.availability:
                    target.availability = update.availability
                # A note about some sizes or colours ("sizes S–M sold out") is about the
                # product's other variants, which only the product knows.
                apply_notes(product, row.product, newer=True)
            meta = {**chunk.meta, **product.to_metadata(),
                    "updated_at": max(str(c.meta.get("updated_at") or "")
                                      for c in [chunk, *updates[chunk.id]])}
            chunk = Chunk(chunk.id, product.to_text(), meta)
        result.append(chunk)
    return result


def _document_facts(chunks: list[Chunk]) -> list[Chunk]:
    """What pages, spec sheets and price-list notes say about a product, in its record
    (shopbot.source_facts: stock in words, notes about some variants, specs with units; the
    newer upload wins a fact both state). A document names its product by SKU (the
    product's or a variant's), else by the product's exact title; one linked by title is
    linked like one with the SKU (its passages follow the record). Documents about a product
    no export holds make that product together (a page with its stock, a spec sheet with its
    weight), on every passage that carries it."""
    import json

    from shopbot.source_facts import apply_document

    by_key: dict[str, Chunk] = {}  # a record's id or variant SKU, lower-cased -> the record
    by_title: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        product = chunk.product if chunk.is_record and chunk.product_id else None
        if product is None:
            continue
        for key in (chunk.product_id, *product.skus):
            by_key.setdefault(key.lower(), chunk)
        by_title.setdefault(_title_key(product.title), []).append(chunk)
    documents: dict[str, Chunk] = {}  # doc id -> its first passage carrying its product
    for chunk in chunks:
        if not chunk.is_record and isinstance(chunk.meta.get("product"), str):
            documents.setdefault(str(chunk.meta.get("doc_id") or chunk.id), chunk)
    if not documents:
        return chunks
    about_record: dict[str, list[Chunk]] = {}  # record chunk id -> documents about it
    relinked: dict[str, str] = {}  # doc id -> the product id its title names
    alone: dict[str, list[Chunk]] = {}  # product only documents know -> those documents
    for doc_id, chunk in documents.items():
        product = chunk.product
        if product is None:
            continue
        record = by_key.get(chunk.product_id.lower()) if chunk.product_id else None
        if record is None:
            same = by_title.get(_title_key(product.title), [])
            if len(same) == 1:
                record = same[0]
                relinked[doc_id] = record.product_id
        if record is not None:
            about_record.setdefault(record.id, []).append(chunk)
        elif chunk.product_id:
            alone.setdefault(chunk.product_id, []).append(chunk)

    def copy(chunk: Chunk) -> Product:  # never the cached product itself
        return Product.from_dict(json.loads(chunk.meta["product"]))

    rewritten: dict[str, Chunk] = {}
    for chunk in chunks:
        if chunk.id not in about_record:
            continue
        product, changed = copy(chunk), False
        for document in sorted(about_record[chunk.id], key=_upload_order):
            changed |= apply_document(product, document.product, newer=_newer(document, chunk))
        if changed:
            rewritten[chunk.id] = Chunk(chunk.id, product.to_text(),
                                        _with_product(chunk.meta, product))
    merged: dict[str, Product] = {}
    for pid, documents_about in alone.items():
        if len(documents_about) > 1:
            first, *later = sorted(documents_about, key=_upload_order)
            product = copy(first)
            for document in later:
                apply_document(product, document.product, newer=True)
            merged[pid] = product
    if not rewritten and not relinked and not merged:
        return chunks
    result = []
    for chunk in chunks:
        if chunk.id in rewritten:
            chunk = rewritten[chunk.id]
        elif not chunk.is_record:
            doc_id = str(chunk.meta.get("doc_id") or "")
            if doc_id in relinked:
                chunk = Chunk(chunk.id, chunk.text, {**chunk.meta, "product_id": relinked[doc_id]})
            elif chunk.product_id in merged and isinstance(chunk.meta.get("product"), str):
                meta = _with_product(chunk.meta, merged[chunk.product_id])
                for key in ("skus", "status", "visible"):  # a passage, not a record
                    meta.pop(key, None)
                chunk = Chunk(chunk.id, chunk.text, meta)
        result.append(chunk)
    return result


def _title_key(title: str) -> str:
    return " ".join(tokens(title))


def _upload_order(chunk: Chunk) -> tuple[str, str]:
    return str(chunk.meta.get("updated_at") or ""), chunk.id


def _with_product(meta: Mapping[str, Any], product: Product) -> dict[str, Any]:
    """``meta`` with ``product``'s fields; stock and price keys it no longer states go."""
    kept = {k: v for k, v in meta.items()
            if k not in ("stock", "in_stock", "price", "price_max", "currency")}
    return {**kept, **product.to_metadata()}


def _newer(a: Chunk, b: Chunk) -> bool:
    """Whether record ``a`` is newer than ``b`` (the later upload wins a SKU)."""
    return (str(a.meta.get("updated_at") or ""), a.id) > (str(b.meta.get("updated_at") or ""), b.id)


def _price(product: Product | None, chunk: Chunk, highest: bool = False) -> float:
    if product is None:
        return _number(chunk.meta.get("price"))
    found = product.price_range()
    return float("nan") if found is None else found[1 if highest else 0]


def _stock(product: Product | None, chunk: Chunk) -> float:
    """Units in stock (1 / 0 when only an in-stock flag is known; NaN when unknown)."""
    if product is None:
        return _number(chunk.meta.get("stock"))
    quantity = product.quantity()
    available = product.available()
    if available is None:
        return float("nan") if quantity is None else float(quantity)
    if not available:
        return 0.0
    return float(quantity) if quantity else 1.0


def _next_sale_boundary(products: Any) -> float | None:
    """The next moment (epoch seconds) a sale window of one of ``products`` opens or ends."""
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    upcoming = [
        moment.timestamp()
        for product in products
        for variant in product.variants
        if variant.compare_at_price is not None
        for moment in (variant.sale_starts, variant.sale_ends)
        if moment is not None and _aware(moment) > now
    ]
    return min(upcoming, default=None)


def _aware(moment: Any) -> Any:
    from datetime import timezone

    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float("nan")
