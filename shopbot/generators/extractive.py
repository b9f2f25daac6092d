"""``extractive``: answers without an LLM, composed from the retrieved catalog records.

A product question gets the product's price, brand and stock from its record plus the
sentences from its sources that best match the question; a policy question gets the policy
sentences that best match (embedding similarity); a question the catalog cannot answer gets
a plain "not in the catalog". Every fact carries the number of the source it came from.
Always works offline, and answers in milliseconds.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from shopbot.generators.base import Generator, Turn
from shopbot.generators.registry import register
from shopbot.vocabulary import AVAILABILITY_NOTES, format_price
from shopbot.prompts import NOT_IN_CATALOG
from shopbot.safety import has_markup, is_instruction_like, without_embeds

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from shopbot.query import Understanding
    from shopbot.retrieval import Retrieval, Source

# Cosine similarity of the best source below which nothing in the catalog is about the
# question, and above which it certainly is (all-MiniLM-L6-v2, measured on the labelled
# questions in tests/test_answers.py).
MIN_RELEVANCE = 0.30
SURE_RELEVANCE = 0.55
# Products scoring within this of the best one are listed together ("which tents ...").
TIE_MARGIN = 0.04
MAX_LISTED = 4
MAX_SENTENCES = 2  # for a product: its price line says the rest
MAX_POLICY_SENTENCES = 3
MAX_EMBEDDED = 16  # sentences embedded per answer at most (a shortlist by shared words)
SENTENCE_CACHE_SIZE = 20_000  # ~60 MB of vectors at most
LEXICAL_BOOST = 0.1

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"(])|\n+")
# A bulleted feature ("• Adjustable hood."): a statement however short.
_BULLET = re.compile(r"\s*[•▪●◦‣]\s*")
_BULLETED = "\x00"
_LABEL_LINE = re.compile(
    r"^(SKU|Price|Brand|Category|Availability|Product page|Item No|Product ID|Barcode|Stock|Status|Tags)\b", re.I
)
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_LISTING = re.compile(
    r"\b(which|options|compare|comparison|cheapest|best|recommend|list|under|"
    r"below|between|show me|do you (?:have|sell|carry))\b",
    re.I,
)
# What kind of fact a question wants, and what a sentence that has it looks like.
_WANTS = (
    (re.compile(r"\b(how much|cost|costs|price|fee|charge|pay)\b", re.I),
     re.compile(r"[$€£]\s?\d|\b\d+(?:\.\d\d)?\s?(?:USD|EUR|GBP)\b|\bfree\b", re.I)),
    (re.compile(r"\b(how long|how fast|how soon|when|days|time)\b", re.I),
     re.compile(r"\b\d+(?:[–-]\d+)?\s*(?:business\s+)?(?:days?|weeks?|hours?|years?|months?)\b|\b\d{1,2}:\d\d\b", re.I)),
    (re.compile(r"\b(how heavy|weigh|weight)\b", re.I), re.compile(r"\b\d+(?:\.\d+)?\s?(?:g|kg|grams?)\b", re.I)),
    (re.compile(r"\b(size|sizes|fit)\b", re.I), re.compile(r"\b(?:EU|US|UK)\s?\d|\b(?:XS|S|M|L|XL|XXL)\b")),
    (re.compile(r"\b(percent|percentage|per\s+cent)\b|%", re.I), re.compile(r"\d\s?%")),
    (re.compile(r"\b(materials?|made\s+(?:of|from|out\s+of)|fabrics?|fib(?:re|er)s?)\b", re.I),
     re.compile(r"\bmaterials?\b|\d\s?%\s*[^\W\d]|\b(?:cotton|wool|merino|polyester|nylon|"
                r"spandex|elastane|lycra|leather|fleece|hemp|silk|linen|polyamide|acrylic|rayon|"
                r"viscose|bamboo|goose|duck)\b", re.I)),
)
INTENT_BOOST = 0.08
# Facts of a kind a sentence either states or does not (a material, a share): the sentence
# that states it wins over a merely similar one by more than the usual nudge.
_DECISIVE = frozenset({_WANTS[-1][1], _WANTS[-2][1]})
_STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with about from into over under as is are
    was were be been being do does did have has had can could would should will shall may might
    must i me my we our you your it its they them their this that these those there here what
    which who whom whose when where why how much many more most any some all each every no not
    only own same so than too very just also please tell know want need get got buy sell sold
    shop store have one ones thing things item items product products catalog hi hello
    thanks thank here there""".split()
)


def content_words(text: str) -> set[str]:
    words = set()
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS or len(word) < 3:
            continue
        words.add(word[:-1] if word.endswith("s") and len(word) > 4 else word)
    return words


_NOISE_LINE = re.compile(
    r"^(Handle|Image [\w ]+|SEO [\w ]+|Published|Status|Gift Card|Tags|Type|Cost per item|"
    r"Variant (?:Requires Shipping|Taxable|Inventory Tracker|Inventory Policy|"
    r"Fulfillment Service|Barcode|Weight Unit|Tax Code|Grams)|Google Shopping / [\w ]+|"
    r"Included / [\w ]+|location|Column \d+):",
    re.I,
)


def sentences_of(text: str) -> list[str]:
    """Candidate answer sentences. Spec tables extracted from PDFs arrive as a label line
    followed by a value line ("Floor waterproof rating" / "5000 mm hydrostatic head"); such
    pairs are joined back into "label: value"."""
    text = _BULLET.sub(f"\n{_BULLETED}", text.replace(_BULLETED, " "))
    lines = [" ".join(part.split()) for part in _SENTENCE_SPLIT.split(text)]
    lines = [line for line in lines if line.strip(_BULLETED + " ")]
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(_BULLETED):
            i += 1
            line = line.lstrip(_BULLETED).strip()
            if 8 <= len(line) <= 400 and len(line.split()) >= 2 and not line.endswith("?"):
                out.append(line)
            continue
        if _is_fragment(line) and i + 1 < len(lines) and _is_fragment(lines[i + 1]) and not any(
            ch.isdigit() for ch in line
        ):
            line = f"{line}: {lines[i + 1]}"
            i += 1
        i += 1
        # Questions (FAQ headings) are not answers; label lines are said by the product line.
        if (
            12 <= len(line) <= 400
            and not line.endswith("?")
            and not _LABEL_LINE.match(line)
            and not _NOISE_LINE.match(line)
            and (len(line.split()) >= 4 or any(ch.isdigit() for ch in line))
            and not _is_heading(line)
        ):
            out.append(line)
    return out


def _is_heading(line: str) -> bool:
    """"Shipping rates and delivery times": a title, not an answer."""
    return (
        len(line.split()) <= 6
        and ":" not in line
        and not any(ch.isdigit() for ch in line)
        and not line.endswith(".")
    )


def _is_fragment(line: str) -> bool:
    return len(line) < 60 and not line.endswith((".", "!", "?", ":")) and ":" not in line


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b))


@register
class ExtractiveGenerator(Generator):
    name = "extractive"
    description = "No LLM: composes a grounded answer from the retrieved records (offline)."

    def __init__(self, settings, *, embeddings: Embeddings | None = None) -> None:
        super().__init__(settings, embeddings=embeddings)
        self._lock = threading.Lock()
        # Policy and FAQ passages come back for many questions: their sentences' vectors are
        # kept (bounded, least recently used out), so only the question is embedded again.
        self._sentence_vectors: OrderedDict[str, list[float]] = OrderedDict()
        self._cache_lock = threading.Lock()

    @property
    def model(self) -> Embeddings:
        if self.embeddings is None:
            with self._lock:
                if self.embeddings is None:
                    from shopbot.embeddings import LazyEmbeddings

                    self.embeddings = LazyEmbeddings(self.settings)
        return self.embeddings

    # -- the answer -------------------------------------------------------------------------

    def generate(
        self, question: str, history: Sequence[Turn], sources: Sequence[Source],
        *, understanding: Understanding | None = None, retrieval: Retrieval | None = None,
    ) -> Iterator[str]:
        from shopbot.chain import condense_by_rules

        query = understanding.search if understanding is not None else condense_by_rules(
            question, history)
        if understanding is not None and understanding.intent == "not_sold":
            yield _not_sold(understanding)
            return
        if understanding is not None and understanding.lists and retrieval is not None \
                and retrieval.total is not None and not retrieval.relaxed \
                and (retrieval.total > 1 or understanding.constraints.sort):
            yield from self._listing(understanding, retrieval, list(enumerate(sources, 1)))
            return
        named_ids = list(understanding.products) if understanding is not None else []
        if understanding is not None and understanding.lists and retrieval is not None \
                and retrieval.total == 1 and sources:
            named_ids = [sources[0].id]  # the one product that fits: answered as itself
        if not named_ids and not self._relevant(question, query, sources):
            yield self._not_found(question)
            return
        numbered = list(enumerate(sources, 1))
        top = sources[0]
        if top.price is None and not _is_product(top):
            yield from self._policy_answer(query, numbered)
            return
        products = _by_title_match(query, self._products(numbered))
        if named_ids:  # the products the question names come first, in its order
            products = sorted(products, key=lambda p: named_ids.index(p[1].id)
                              if p[1].id in named_ids else len(named_ids))
        if not products:
            yield from self._policy_answer(query, numbered)
            return
        # Two products of one name (two files, two shops' exports): the one that has the
        # size or colour asked for is the one meant ("the navy Harbor Scarf").
        named_both = [p for p in products if _names_product(query, p[1])]
        if len(named_both) > 1 and not named_ids and not _names_variant(question, products[0][1]):
            having = [p for p in named_both if _names_variant(question, p[1])]
            if having:
                products = having[:1] + [p for p in products if p is not having[0]]
        compared = _compared(question, products)
        if understanding is not None and understanding.intent == "compare" and len(compared) < 2:
            compared = [p for p in products if p[1].id in named_ids]
        if len(compared) > 1 and understanding is not None and understanding.constraints.sort:
            # "which is cheaper, A or B?": the answer first, then both.
            yield from self._comparison(compared[:MAX_LISTED], understanding.constraints)
            return
        if len(compared) > 1:
            # "compare the Alpine 2 and the Summit 3": each named product's line, side by side,
            # and the rows of the comparison the question asks about ("how far does the beam
            # go": Beam distance).
            yield from self._product_list(compared[:MAX_LISTED])
            table = retrieval.comparison if retrieval is not None else None
            rows = list(_asked_rows(question, table, compared[:MAX_LISTED])) if table else []
            yield from rows
            if not rows:
                # Not in the records' attributes: each product's sentence that says it
                # ("how far does the beam go": its spec sheet's beam distance).
                asked = " ".join(w for w in question.split()
                                 if all(content_words(w).isdisjoint(content_words(p[1].title))
                                        for p in compared))
                if content_words(asked):
                    for number, record in compared[:MAX_LISTED]:
                        own = [(n, s) for n, s in numbered if s.id == record.id]
                        best = self._best_sentences(asked, own, limit=1)
                        for sentence, n in best:
                            yield f"\n{record.title}: {sentence} [{n}]"
            return
        if understanding is None and _SELL_QUESTION.search(question) \
                and not _names_product(question, products[0][1]) \
                and not _names_variant(question, products[0][1]):
            # "do you sell kayaks?": only products that are kayaks count, not a sandal whose
            # description mentions kayaking. ("How many X do you have?" names one: no check.)
            wanted = content_words(_SELL_QUESTION.sub(" ", question))
            products = [
                p
                for p in products
                if len(wanted & content_words(_kind_of(p[1]))) * 3 >= len(wanted) * 2
            ]
            if not products:
                yield self._not_found(question)
                return
        first = products[0][1]
        named = _names_product(query, first)
        leaders = [p for p in products if p[1].score >= top.score - TIE_MARGIN]
        if _LISTING.search(question) and not named and len(products) > 1:
            yield from self._product_list(products[:MAX_LISTED])
        elif len(leaders) > 1 and not named:
            yield from self._product_list(leaders[:MAX_LISTED])
        else:
            yield from self._product_answer(query, question, numbered, products[0], understanding)

    def _relevant(self, question: str, query: str, sources: Sequence[Source]) -> bool:
        best = max((s.score for s in sources), default=0.0)
        if best < MIN_RELEVANCE:
            return False
        if best >= SURE_RELEVANCE:
            return True
        # In between, trust the match only when the question's own words appear in the
        # sources: "do you sell kayaks?" must not be answered with a canoe paddle.
        wanted = content_words(question) or content_words(query)
        found = set()
        for source in sources[:3]:
            found |= content_words(f"{source.title} {source.text or source.snippet}")
        return not wanted or bool(wanted & found)

    def _not_found(self, question: str) -> str:
        return (
            f"{NOT_IN_CATALOG} I can only answer from our own product list and store "
            "policies, and nothing there matches this. Try asking about a product type, "
            "a product name, or our shipping, returns, warranty and sizing."
        )

    def _products(self, numbered: list[tuple[int, Source]]) -> list[tuple[int, Source]]:
        """One entry per product, at its best-ranked source; product records preferred for
        their fields when a product appears in several files."""
        seen: dict[str, tuple[int, Source]] = {}
        order: list[str] = []
        for number, source in numbered:
            if source.price is None and not _is_product(source):
                continue
            key = source.id
            if key not in seen:
                seen[key] = (number, source)
                order.append(key)
            elif source.kind == "product" and seen[key][1].kind != "product":
                # The product record has the richest fields (stock, brand); cite where they
                # come from. Its place in the ranking stays the product's best one.
                seen[key] = (number, source)
        return [seen[key] for key in order]

    def _product_answer(
        self,
        query: str,
        question: str,
        numbered: list[tuple[int, Source]],
        product: tuple[int, Source],
        understanding: Understanding | None = None,
    ) -> Iterator[str]:
        number, record = product
        if record.product is not None:
            from shopbot.variant_facts import variant_sentences

            about_variants = variant_sentences(record.product, question, query, record.variants)
            c = understanding.constraints if understanding is not None else None
            if c is not None and (c.colours or c.sizes) and record.product.has_options \
                    and not c.matching_variants(record.product):
                from shopbot.variant_facts import missing_option_sentences

                missing = missing_option_sentences(record.product, sorted(c.colours),
                                                   sorted(c.sizes))
                about_variants = missing or about_variants
            if about_variants:
                yield " ".join(f"{sentence} [{number}]" for sentence in about_variants)
                return
        yield _product_sentence(number, record)
        available = record.product.available() if record.product is not None else None
        if record.stock is not None:
            yield (
                f" It is in stock ({record.stock} available) [{number}]."
                if record.stock > 0
                else f" It is currently out of stock [{number}]."
            )
        elif available is not None:
            yield (f" It is in stock [{number}]." if available
                   else f" It is currently out of stock [{number}].")
        note = record.product.availability_note() if record.product is not None else ""
        if note:
            yield f" It is {AVAILABILITY_NOTES[note]} [{number}]."
        if _only_price_or_stock(question):
            return
        # The sources are already about this product; rank its sentences by what the
        # shopper asked now ("is it waterproof?"), not by the carried-over context.
        same_product = [(n, s) for n, s in numbered if s.id == record.id]
        asked = " ".join(w for w in question.split() if not _names_title_word(w, record.title))
        for sentence, n in self._best_sentences(asked or question, same_product):
            yield f" {sentence} [{n}]"

    def _product_list(self, products: list[tuple[int, Source]]) -> Iterator[str]:
        yield "Here is what matches in our catalog:"
        for number, record in products:
            line = f"\n- {record.title}"
            if record.brand:
                line += f" by {record.brand}"
            if record.price is not None:
                line += f", {_price_text(record)}"
            if record.stock is not None:
                line += f", {record.stock} in stock" if record.stock > 0 else ", out of stock"
            yield f"{line} [{number}]"

    def _comparison(self, compared: list[tuple[int, Source]], c: Any) -> Iterator[str]:
        """Named products ordered by what the shopper compares them on, winner first."""
        import math

        def key(item: tuple[int, Source]) -> float:
            value = _value_of(item[1], c)
            if value is None:
                return math.inf
            return -value if c.sort_descending else value

        ordered = sorted(compared, key=key)
        (n1, first), (n2, second) = ordered[0], ordered[1]
        word = c.sort_text or ("cheaper" if c.sort == "price_asc" else
                               "more expensive" if c.sort == "price_desc" else "first")
        word = {"cheapest": "cheaper", "most expensive": "more expensive"}.get(word, word)
        said_first = _measured(first, c) or _price_text(first)
        said_second = _measured(second, c) or _price_text(second)
        if key(ordered[0]) == key(ordered[1]):
            yield (f"The {first.title} and the {second.title} are the same: {said_first} "
                   f"[{n1}, {n2}].")
        else:
            yield (f"The {first.title} is {word}: {said_first}, against {said_second} for "
                   f"the {second.title} [{n1}, {n2}].")
        yield "\n"
        yield from self._product_list(ordered)

    def _listing(self, u: Understanding, retrieval: Retrieval,
                 numbered: list[tuple[int, Source]]) -> Iterator[str]:
        """Every product that fits a list or superlative question, in the order asked (the
        retrieval holds them all up to the list limit), and how many more there are."""
        products = self._products(numbered)
        if not products:
            yield self._not_found(u.question)
            return
        c = u.constraints
        total = retrieval.total or len(products)
        what = _kind_phrase(u, total)
        relative = next((m for m in c.measures if m.relative), None)
        if c.sort:
            number, first = products[0]
            value = _measured(first, c)
            said = f" ({value})" if value else ""
            superlative = c.sort_text or ("cheapest" if c.sort == "price_asc" else
                                          "most expensive" if c.sort == "price_desc" else "first")
            if relative is not None:  # "got anything smaller?"
                yield (f"The {first.title}{said}, at {_price_text(first)}, is the closest one "
                       f"{relative.text} ({total} {what} in all) [{number}].")
            elif total == 1:
                yield f"We have one {what}: the {first.title}{said}, at {_price_text(first)} [{number}]."
            else:
                yield (f"The {superlative} of the {total} {what} we have is the {first.title}"
                       f"{said}, at {_price_text(first)} [{number}].")
            if len(products) > 1:
                yield "\n\nIn order:"
        else:
            yield f"We have {total} {what}" + (":" if total <= len(products) else
                                                f"; here are the first {len(products)}:")
        for number, record in products:
            line = f"\n- {record.title}"
            if record.brand:
                line += f" by {record.brand}"
            value = _measured(record, c) if (c.sort or c.measures) else ""
            if value:
                line += f", {value}"
            if record.price is not None:
                line += f", {_price_text(record)}"
            available = record.product.available() if record.product is not None else None
            if record.stock is not None:
                line += f", {record.stock} in stock" if record.stock > 0 else ", out of stock"
            elif available is not None:
                line += ", in stock" if available else ", out of stock"
            yield f"{line} [{number}]"
        more = retrieval.more
        if more:
            yield (f"\n\n…and {more} more. Add a budget, a size or another detail to narrow "
                   "the list.")

    def _policy_answer(self, query: str, numbered: list[tuple[int, Source]]) -> Iterator[str]:
        passages = [(n, s) for n, s in numbered if s.price is None]
        best = self._best_sentences(query, passages, limit=MAX_POLICY_SENTENCES, margin=0.2)
        if not best:
            yield self._not_found(query)
            return
        yield " ".join(f"{sentence} [{n}]" for sentence, n in best)

    def _vectors(self, query: str, sentences: list[str]) -> tuple[list[float], list[list[float]]]:
        with self._cache_lock:
            missing = [t for t in dict.fromkeys(sentences) if t not in self._sentence_vectors]
        fresh = self.model.embed_documents([query, *missing])
        known = dict(zip(missing, fresh[1:]))
        with self._cache_lock:
            cache = self._sentence_vectors
            cache.update(known)
            for text in sentences:
                if text in cache:
                    cache.move_to_end(text)
                    known.setdefault(text, cache[text])
            while len(cache) > SENTENCE_CACHE_SIZE:
                cache.popitem(last=False)
        lost = [t for t in sentences if t not in known]  # evicted by another thread meanwhile
        if lost:
            known.update(zip(lost, self.model.embed_documents(lost)))
        return fresh[0], [known[t] for t in sentences]

    def _best_sentences(
        self,
        query: str,
        numbered: list[tuple[int, Source]],
        limit: int = MAX_SENTENCES,
        margin: float = 0.12,
    ) -> list[tuple[str, int]]:
        """The sentences of these sources most similar to the query, best first, without
        near-duplicates (the same fact is often in the CSV, the page and the spec sheet)."""
        candidates: list[tuple[str, int]] = []
        seen_text: set[str] = set()
        for number, source in numbered:
            for sentence in sentences_of(without_embeds(_body(source))):
                key = sentence.lower()
                # Catalog text is data: a sentence that talks to an AI or carries a link is
                # never said as the shop's own words (images and HTML are gone already).
                if is_instruction_like(sentence) or has_markup(sentence):
                    continue
                if key not in seen_text:
                    seen_text.add(key)
                    candidates.append((sentence, number))
        if not candidates:
            return []
        wanted = [has for asks, has in _WANTS if asks.search(query)]
        asked_words = content_words(query)
        if len(candidates) > MAX_EMBEDDED:
            # Embedding is the cost of an answer: shortlist by the question's words and the
            # kind of fact asked for, keeping source order (best source first) on ties.
            def cheap(item: tuple[int, tuple[str, int]]) -> tuple[float, int]:
                position, (sentence, _) = item
                words = len(asked_words & content_words(sentence))
                kind = sum(bool(has.search(sentence)) for has in wanted)
                return (-(words + kind), position)

            shortlist = sorted(enumerate(candidates), key=cheap)[:MAX_EMBEDDED]
            candidates = [candidate for _, candidate in sorted(shortlist)]
        query_vector, sentence_vectors = self._vectors(query, [c[0] for c in candidates])

        def score(vector: list[float], sentence: str) -> float:
            # Meaning first; then a nudge for the kind of fact asked for (an amount, a
            # duration) and for sharing the question's own words ("standard", "express").
            lexical = len(asked_words & content_words(sentence)) / len(asked_words) if asked_words else 0.0
            return (
                _dot(query_vector, vector)
                + INTENT_BOOST * sum((2.0 if has in _DECISIVE else 1.0) * bool(has.search(sentence))
                                     for has in wanted)
                + LEXICAL_BOOST * lexical
            )

        scored = sorted(
            zip((score(v, c[0]) for v, c in zip(sentence_vectors, candidates)), candidates),
            key=lambda item: item[0],
            reverse=True,
        )
        best_score = scored[0][0]
        chosen: list[tuple[str, int]] = []
        chosen_words: list[set[str]] = []
        for value, (sentence, number) in scored:
            if len(chosen) == limit or value < best_score - margin:
                break
            words = content_words(sentence)
            if any(_overlap(words, other) > 0.9 for other in chosen_words):
                continue
            chosen.append((sentence, number))
            chosen_words.append(words)
        return chosen


_SELL_QUESTION = re.compile(r"\b(do|does|can)\s+(you|i|we)\s+(sell|have|carry|stock|offer|buy|get)\b", re.I)


def _title_tokens(text: str) -> set[str]:
    return {w[:-1] if w.endswith("s") and len(w) > 3 else w for w in _WORD.findall(text.lower())}


def _by_title_match(
    question: str, products: list[tuple[int, Source]]
) -> list[tuple[int, Source]]:
    """Move the product the question names to the front. Embeddings barely tell "Cirrus UL 1"
    from "Cirrus UL 2"; the words and numbers of the title do."""
    asked = _title_tokens(question)

    def named(item: tuple[int, Source]) -> float:
        title = _title_tokens(item[1].title)
        return len(title & asked) / len(title) if title else 0.0

    if not products:
        return products
    best = max(products, key=named)
    if named(best) >= 0.75 and named(best) > named(products[0]):
        products = [best, *(p for p in products if p is not best)]
    return products


def _kind_of(source: Source) -> str:
    """What a product is, by name and category (not by what its description mentions)."""
    return f"{source.title} {source.category}"


def _is_product(source: Source) -> bool:
    return source.kind == "product"


def _body(source: Source) -> str:
    text = source.text or source.snippet
    if text.startswith(source.title):
        text = text[len(source.title) :]
    return text


def _not_sold(u: Understanding) -> str:
    """Said plainly: not in the catalog, what was asked for, and the nearest category the
    shop carries (no product is offered as the one asked for)."""
    said = NOT_IN_CATALOG
    if u.asked_for and u.accessory_of:
        said += f" We don't have {u.asked_for}."
    elif u.asked_for and u.kinds:
        said += f" We don't have a product called “{u.asked_for}”."
    elif u.asked_for and len(u.unknown) <= 2:
        said += f" We don't sell {u.asked_for}."
    if u.near:
        return said + f" The closest category we carry is {u.near}: ask me about it."
    return said + (" I can only answer from our own product list and store policies. Try "
                   "asking about a product type, a product name, or our shipping, returns, "
                   "warranty and sizing.")


def _kind_phrase(u: Understanding, total: int) -> str:
    """What a list holds, in the shopper's words: "rain jackets", "products"."""
    if u.kinds:
        noun = u.kinds[-1]
        words = [w for w in u.words if w != noun and w.isalpha() and w not in noun][:2]
        plural = noun if total == 1 else _plural(noun)
        return " ".join([*words, plural])
    if u.constraints.categories:
        return f"products in {', '.join(sorted(u.constraints.categories))}"
    return "product" if total == 1 else "products"


def _plural(noun: str) -> str:
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def _asked_rows(question: str, table: Any, compared: list[tuple[int, Source]]) -> Iterator[str]:
    """The comparison rows whose label shares a word with the question, one line each:
    "Beam distance: Beacon 400 Headlamp 85 m [1]; Beacon 900 Rechargeable Headlamp 140 m [2]"."""
    asked = content_words(question)
    numbers = {source.id: number for number, source in compared}
    for label, values in table.rows():
        if label in ("Price", "Brand", "Category", "Stock") or not asked & content_words(label):
            continue
        cells = []
        for product, value in zip(table.products, values):
            if value and product["id"] in numbers:
                cells.append(f"{product['title']} {value} [{numbers[product['id']]}]")
        if len(cells) > 1:
            yield f"\n{label}: " + "; ".join(cells) + "."


def _value_of(record: Source, c: Any) -> float | None:
    """The value a product is compared by: its price, or its measured attribute."""
    if c.sort_dimension in (None, "price"):
        return record.price
    product = record.product
    if product is None:
        return None
    from shopbot.quantities import main_value
    from shopbot.vocabulary import SIZE_DIMENSIONS

    quantities = product.measurements()
    dimensions = SIZE_DIMENSIONS if c.sort_dimension == "size" else (c.sort_dimension,)
    for dimension in dimensions:
        value = main_value(quantities, dimension, c.sort_label)
        if value is not None:
            return value
    return None


def _measured(record: Source, c: Any) -> str:
    """The attribute a list was sorted or filtered by, as the product's text writes it
    ("1180 g", "-10 °C", "sleeps 6"); "" for price or when unknown."""
    product = record.product
    if product is None:
        return ""
    from shopbot.quantities import main_value

    dimension = c.sort_dimension if c.sort else (c.measures[0].dimension if c.measures else None)
    label = c.sort_label if c.sort else (c.measures[0].label if c.measures else ())
    if dimension in (None, "price"):
        return ""
    quantities = product.measurements()
    if dimension == "size":
        from shopbot.vocabulary import SIZE_DIMENSIONS

        dimension = next((d for d in SIZE_DIMENSIONS if any(q.dimension == d for q in quantities)),
                         None)
        if dimension is None:
            return ""
    value = main_value(quantities, dimension, label)
    if value is None:
        return ""
    match = next((q for q in quantities if q.value == value and (
        q.dimension == dimension or (dimension == "any" and q.named_by(label)))), None)
    if match is None or not match.raw:
        return ""
    label_text = " ".join(match.label[:2])
    return f"{label_text} {match.raw}".strip() if dimension == "temperature" else match.raw


def _product_sentence(number: int, record: Source) -> str:
    who = f" by {record.brand}" if record.brand else ""
    if record.price is None:
        return f"The {record.title}{who} is in our catalog [{number}]."
    sentence = f"The {record.title}{who} costs {_price_text(record)}"
    product = record.product
    if product is not None:
        if product.has_options and product.price_range()[0] != product.price_range()[1]:
            kinds = " and ".join(dict.fromkeys(product.options)).lower()
            sentence += f", depending on {kinds}"
        on_sale = product.on_sale()
        if on_sale:
            from shopbot.variant_facts import sale_clause

            named = len(product.variants) > 1
            sentence += f" [{number}]. {sale_clause(on_sale, product.currency, named)[:-1]}"
    return f"{sentence} [{number}]."


def _price_text(record: Source) -> str:
    """"$64.95", or "$45.00–$52.00" for a product whose variants differ in price."""
    if record.product is not None and record.product.price_range() is not None:
        return record.product.price_text()
    return format_price(record.price, record.currency)


_COMPARISON = re.compile(
    r"\b(compare|comparison|vs|versus|difference|differences|differ|better|or)\b", re.I
)


def _compared(question: str, products: list[tuple[int, Source]]) -> list[tuple[int, Source]]:
    """The products a comparison question names (by title, or title without its last word:
    "the Alpine 2" for "Alpine 2 Tent"), in the question's order; [] for other questions."""
    if not _COMPARISON.search(question):
        return []
    from shopbot.catalog_index import TitleIndex

    by_id = {str(i): p for i, p in enumerate(products)}
    index = TitleIndex([(key, source.title) for key, (_, source) in by_id.items()])
    return [by_id[key] for key in index.find(question, ties="first")]


def _names_product(text: str, source: Source) -> bool:
    """Whether ``text`` names the product: half its title's words, or one of its SKUs."""
    lowered = text.lower()
    if any(len(sku) >= 3 and sku.lower() in lowered for sku in source.skus):
        return True
    title_words = content_words(source.title)
    return bool(title_words) and len(title_words & content_words(text)) / len(title_words) >= 0.5


def _names_title_word(word: str, title: str) -> bool:
    """Whether ``word`` is a word of ``title`` or a typo of one ("hoodie" of a "Hoodlie")."""
    from rapidfuzz.distance import OSA

    words = content_words(word)
    title_words = content_words(title)
    if not words or not words.isdisjoint(title_words):
        return bool(words)
    return any(len(w) >= 5 and OSA.distance(w, t) <= 1 for w in words for t in title_words)


def _names_variant(text: str, source: Source) -> bool:
    """Whether ``text`` names one of the product's sizes or colours ("in 34 grey?" after
    the product was named: the shopper asks for that variant, not for a kind of product)."""
    from shopbot.variant_facts import named_variants

    return source.product is not None and bool(named_variants(source.product, text))


_PRICE_OR_STOCK = re.compile(
    r"^\s*(how much(?=\s+(?:is|are|does|do|would|will|for|[\w\s]*\bcost))(?!.*\bweigh)|what(?:'s| is) the price|price of|what does .* cost|is .* in stock|"
    r"do you have .* in stock|how many .* (?:left|in stock))", re.I
)


def _only_price_or_stock(question: str) -> bool:
    return bool(_PRICE_OR_STOCK.match(question))


def _overlap(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))
