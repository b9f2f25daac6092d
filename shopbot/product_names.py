"""Product-name matching, owned once: which product a shopper's words, or an answer's, name.

A product is named by

- its SKU: the product's own id or any of its variants' SKUs ("RL-TNT-001", "MH01-XS-Black"),
  in any letter case;
- its title, whole ("Alpine 2 Tent"), without its last word when two words or more are left
  ("Alpine 2"), or cut after a word with a number in it ("Beacon 900" for "Beacon 900
  Rechargeable Headlamp"), in the words of :func:`shopbot.constraints.tokens` (any case,
  plural or singular, possessive or not);
- part of its title, when that part names it rather than its kind ("Talus Trail Runner",
  not "the tent"): :meth:`TitleIndex.resolve`, for a phrase that should name one product;
- a misspelt title ("Alpin 2 Tnet"): :meth:`TitleIndex.resolve` reads a word the titles do
  not have as the one title word it is one typo away from (rapidfuzz), when only one is.

:class:`TitleIndex` spots names in running text (:meth:`~TitleIndex.find`,
:meth:`~TitleIndex.spans`, :meth:`~TitleIndex.mentions`) and resolves a phrase to one product
(:meth:`~TitleIndex.resolve`). The catalog index, comparisons, the extractive generator and
the fact checker all use it; none matches titles on its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shopbot.constraints import tokens, word_spans

if TYPE_CHECKING:
    from shopbot.products import Product


@dataclass(frozen=True)
class NamedProduct:
    """What a product is called: its title and SKUs, and the words that say what kind of
    thing it is (its categories: "tent" names no tent in particular)."""

    id: str
    title: str
    skus: tuple[str, ...] = ()
    kind: str = ""
    # Its product record (False: a product known only from its page or spec sheet; a record
    # wins a tie).
    is_record: bool = True

    @classmethod
    def of(cls, product: Product, is_record: bool = True) -> NamedProduct:
        skus = tuple(dict.fromkeys([product.id, *product.skus]))
        return cls(product.id, product.title, skus, " ".join(product.categories), is_record)


# Words a phrase may carry that never name a product.
_STOP = {
    "the", "a", "an", "my", "your", "our", "this", "that", "these", "those", "one", "new",
    "model", "version", "of", "in", "for", "and", "or", "with", "what", "which", "do", "you",
    "think", "about", "is", "are", "it", "i", "me", "please",
}
# A run of letters and digits, dash-, dot- or underscore-joined: a SKU as typed
# ("RL-TNT-001", "mh01-xs-black", "HS_TEAL").
_SKU_LIKE = re.compile(r"(?<![\w.-])[A-Za-z0-9]+(?:[-._][A-Za-z0-9]+)*(?![\w-])")
# Typos a misspelt word may hold (OSA distance: a swap of two letters is one), by its length.
_TYPOS = ((8, 2), (4, 1))


def _words(text: str) -> list[str]:
    """Name words: :func:`tokens`, possessives folded ("Tent's", "Women's" -> "tent", "women")."""
    return [w.rstrip("'") for w in tokens(text)]


def _word_spans(text: str) -> list[tuple[str, int, int]]:
    return [(w.rstrip("'"), s, e) for w, s, e in word_spans(text)]


class TitleIndex:
    """Product titles and SKUs, to spot the products a text names and to resolve a phrase to
    the one product it names. Built from :class:`NamedProduct` entries, or from
    ``(id, title)`` pairs (titles only). Immutable once built; thread-safe to read."""

    def __init__(self, products: Iterable[NamedProduct | tuple[str, str]]) -> None:
        self.products: list[NamedProduct] = []
        by_id: dict[str, int] = {}
        for item in products:
            entry = item if isinstance(item, NamedProduct) else NamedProduct(item[0], item[1])
            known = by_id.get(entry.id)
            if known is None:
                by_id[entry.id] = len(self.products)
                self.products.append(entry)
            elif entry.is_record and not self.products[known].is_record:
                self.products[known] = entry  # a record says more than a page about it
        self.order = {p.id: i for i, p in enumerate(self.products)}
        # Lower-cased SKU (or product id) -> product id; the first product to claim one keeps it.
        self.by_sku: dict[str, str] = {}
        for entry in self.products:
            for sku in entry.skus:
                if sku:
                    self.by_sku.setdefault(sku.lower(), entry.id)
        # Spotting: each name as a word sequence, by its first word, longest first.
        self.by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for entry in self.products:
            for name in _names_of(entry.title):
                self.by_first.setdefault(name[0], []).append((name, entry.id))
        for names in self.by_first.values():
            names.sort(key=lambda e: -len(e[0]))
        # Resolving: title words, their weights (rarer words name more), and kind words.
        self._title_words = [frozenset(_words(p.title)) for p in self.products]
        self._kind_words = [frozenset(_words(p.kind)) for p in self.products]
        self._postings: dict[str, list[int]] = {}
        for number, words in enumerate(self._title_words):
            for word in words:
                self._postings.setdefault(word, []).append(number)
        total = len(self.products) + 1
        self._weights = {
            word: math.log(total / (len(found) + 0.5)) + 0.5
            for word, found in self._postings.items()
        }

    def __len__(self) -> int:
        return len(self.products)

    # -- spotting names in running text ----------------------------------------------------

    def find(self, text: str, ties: str = "all") -> list[str]:
        """Ids of the products ``text`` names by title, in its order. Where one phrase fits
        several titles ("Alpine 2": the Tent and the Footprint), ``ties="all"`` keeps every
        one and ``ties="first"`` the first in the order the index was given."""
        return [pid for pid, _ in self._matches(_words(text), ties)]

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where ``text`` spells out a product's title: (start, end) character offsets."""
        found = _word_spans(text)
        words = [w for w, _, _ in found]
        return [(found[i][1], found[i + size - 1][2]) for _, (i, size) in self._matches(words)]

    def mentions(self, text: str) -> list[tuple[int, int, str | None]]:
        """Every product name in ``text`` by SKU or title, as (start, end, product id), in
        text order and without overlaps (a SKU first, then the longest name). A name that
        fits several products names none of them (id None), but is still a name: the "2"
        of "Alpine 2" is no quantity."""
        found: list[tuple[int, int, str | None]] = [
            (start, end, pid) for start, end, pid in self._sku_mentions(text)
        ]
        spans = _word_spans(text)
        words = [w for w, _, _ in spans]
        i = 0
        while i < len(words):
            size, ids = self._longest_at(words, i, single_words=True)
            if size:
                start, end = spans[i][1], spans[i + size - 1][2]
                if not any(start < e and s < end for s, e, _ in found):
                    found.append((start, end, ids[0] if len(set(ids)) == 1 else None))
            i += max(size, 1)
        return sorted(found)

    def skus_in(self, text: str) -> list[str]:
        """Ids of the products whose SKU (or id) ``text`` holds, in its order."""
        return list(dict.fromkeys(pid for _, _, pid in self._sku_mentions(text)))

    def product_for(self, sku: str) -> str | None:
        """The id of the product whose id or variant SKU is ``sku`` (any case), or None."""
        return self.by_sku.get(sku.strip().lower())

    def _sku_mentions(self, text: str) -> list[tuple[int, int, str]]:
        if not self.by_sku:
            return []
        found = []
        for m in _SKU_LIKE.finditer(text):
            token = m.group(0)
            # A bare short number is a price or a count, not a SKU.
            if token.isdigit() and len(token) < 6:
                continue
            pid = self.by_sku.get(token.lower())
            if pid is not None:
                found.append((m.start(), m.end(), pid))
        return found

    def _longest_at(
        self, words: Sequence[str], i: int, single_words: bool = False
    ) -> tuple[int, list[str]]:
        """(word count, ids) of the longest names starting at word ``i`` (ties: every id)."""
        size, matched = 0, []
        for name, pid in self.by_first.get(words[i], ()):
            if size and len(name) < size:
                break  # longest first: only equally long names tie
            if tuple(words[i : i + len(name)]) != name:
                continue
            # "Alpine 2" must not be found in "Alpine 2 3", nor a one-word title in a
            # question (too weak a signal).
            following = words[i + len(name)] if i + len(name) < len(words) else ""
            if following.isdigit():
                continue
            if len(name) == 1 and len(words) > 1 and not single_words:
                continue
            size = len(name)
            matched.append(pid)
        return size, matched

    def _matches(self, words: list[str], ties: str = "all") -> list[tuple[str, tuple[int, int]]]:
        """(id, (first word, word count)) of every title ``words`` spell out."""
        found: list[tuple[str, tuple[int, int]]] = []
        i = 0
        while i < len(words):
            size, matched = self._longest_at(words, i)
            if ties == "first":
                matched = sorted(matched, key=self.order.__getitem__)[:1]
            known = {p for p, _ in found}
            found.extend((p, (i, size)) for p in dict.fromkeys(matched) if p not in known)
            i += max(size, 1)
        return found

    # -- resolving a phrase to one product -------------------------------------------------

    def resolve(self, phrase: str) -> str | None:
        """The id of the one product ``phrase`` names (a SKU, a title, part of one, or a
        misspelt one), or None when it names none or several about equally ("the Alpine":
        the Alpine 1, 2 and 3 Tents)."""
        for _, _, pid in self._sku_mentions(phrase):
            return pid
        if (pid := self.by_sku.get(phrase.strip().lower())) is not None:
            return pid
        wanted = [w for w in dict.fromkeys(_words(phrase)) if w not in _STOP]
        if not wanted:
            return None
        found = self._best(wanted)
        if found is None:
            corrected = self._spelled(wanted)
            if corrected != wanted:
                found = self._best(corrected)
        return found

    def _weight(self, word: str) -> float:
        return self._weights.get(word, 1.0)

    def _best(self, wanted: list[str]) -> str | None:
        wanted_set = set(wanted)
        total = sum(self._weight(w) for w in wanted)
        numbers = {w for w in wanted if w.isdigit()}
        candidates = {n for w in wanted for n in self._postings.get(w, ())}
        ranked: list[tuple[tuple[float, ...], str, str, bool]] = []  # (rank, title, id, whole)
        for number in candidates:
            entry = self.products[number]
            title, kind = self._title_words[number], self._kind_words[number]
            if numbers - title:
                continue  # "Alpine 5" is not the Alpine 2
            matched = wanted_set & title
            # At least one matched word must name the product, not its kind ("tent").
            if not any(not w.isdigit() and w not in kind for w in matched):
                continue
            gained = sum(self._weight(w) for w in matched)
            if gained / total < 0.6:
                continue
            # ...and much of what names it: "down" is not the "Ember Down Vest". A model
            # number left out counts half ("Stormline jacket" is the Stormline 2.5L).
            naming = {w for w in title if w.isdigit() or w not in kind}
            naming_weight = sum(
                self._weight(w) * (0.5 if w.isdigit() and w not in matched else 1.0)
                for w in naming
            )
            named = sum(self._weight(w) for w in naming & matched)
            if naming and named / naming_weight < 0.34:
                continue
            extra = sum(
                self._weight(w) * (0.1 if w in kind else 0.35) for w in title - wanted_set
            )
            score = gained - sum(self._weight(w) for w in wanted_set - title) - extra
            if score < 0.5:
                continue
            whole = naming <= matched
            ranked.append(((score, entry.is_record, -len(title)), entry.title, entry.id, whole))
        if not ranked:
            return None
        ranked.sort(key=lambda r: (tuple(-x for x in r[0]), r[1]))
        best = ranked[0]
        # "the Alpine" fits the Alpine 1, 2 and 3 Tents about equally: no guessing.
        if len(ranked) > 1 and not best[3] and best[0][0] - ranked[1][0][0] < 1.0:
            return None
        return best[2]

    def _spelled(self, wanted: list[str]) -> list[str]:
        """``wanted`` with each word no title has read as the one title word it is a typo
        of ("tnet" -> "tent"); words with digits and short words stay as they are."""
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        vocabulary = list(self._postings)
        out = []
        for word in wanted:
            limit = next((k for n, k in _TYPOS if len(word) >= n), 0)
            if word in self._postings or not limit or any(ch.isdigit() for ch in word):
                out.append(word)
                continue
            close = process.extract(word, vocabulary, scorer=OSA.distance,
                                    score_cutoff=limit, limit=None)
            best = min((d for _, d, _ in close), default=None)
            nearest = [w for w, d, _ in close if d == best]
            out.append(nearest[0] if len(nearest) == 1 else word)
        return out


def _names_of(title: str) -> set[tuple[str, ...]]:
    """The word sequences that name a product by its title: the whole title; without its last
    word when two words or more are left ("Alpine 2"); and cut after each word with a number
    ("Beacon 900", "Stormline 2.5L")."""
    words = tuple(_words(title))
    if not words:
        return set()
    names = {words}
    if len(words) > 2:
        names.add(words[:-1])
    for n in range(2, len(words)):
        if any(ch.isdigit() for ch in words[n - 1]):
            names.add(words[:n])
    return names
