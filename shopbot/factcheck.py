"""Answers that match the catalog: every price, stock level and spec an answer states is
checked against the records it cites.

For each sentence of an answer the checker works out which records a stated value is about:
the sources cited right after it ("costs $299 [1]"), else those cited elsewhere in the
sentence, else the products the sentence names (title or SKU), else the only product among
the sources. Then, for each value:

- a value found in the text of a source the sentence cites (or of the product it is about)
  is supported and left alone: "$14.95 express shipping [3]" from shipping.docx is fine;
- a product's prices and stock come from its typed record (``Source.product``), as they are
  now: a variant's price or stock is right only for that variant ("the jacket in M costs
  $52" only if the M costs $52), a price stated without naming a variant must be one of its
  variants' current prices, a sale price is right only while the sale lasts (and the price
  it was, only as what it was: "was $49"), and "out of stock" / "in stock" must fit the
  variants named (or the product, when none is);
- a wrong price, stock level or spec of exactly one record is replaced by the record's
  value ("$299.00" -> "$349.00", formatted as the record's price is everywhere else);
- a wrong value that cannot be tied to one record (a price in a sentence citing two products
  with other prices, a weight when the record has several weights and the sentence does not
  say which), or "out of stock" said of a record with stock, leaves the sentence as written
  (no half-corrections) and marked with ``FLAG_MARK``.

Numbers that are no price or spec are never touched: dates, "30 days", "2-person",
"3-season", model numbers in product names ("Alpine 2", "Cloudburst 3L"), and amounts a
shopper gives as a limit ("under $200", "orders over $75").

``check_answer`` checks a whole text; ``CheckedStream`` checks a generator's pieces sentence
by sentence as they stream, so a wrong number is never shown. Both give the same text.
Pure Python: nothing heavy is imported.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from shopbot.product_names import NamedProduct, TitleIndex
from shopbot.quantities import unit_pattern
from shopbot.vocabulary import (
    AMBIGUOUS_UNITS, CURRENCY_SYMBOLS, CURRENCY_WORDS, UNITS, alternatives,
)

if TYPE_CHECKING:
    from shopbot.products import Product, Variant
    from shopbot.retrieval import Source

log = logging.getLogger(__name__)

FLAG_MARK = " (⚠ not confirmed by the catalog)"

# -- what a sentence is -----------------------------------------------------------------------

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
# A sentence ends at . ! ? (and the citations right after it, "... costs $349.00. [1]") before
# white space, or at a line break (list items).
_SENTENCE_END = re.compile(r"[.!?]+(?:\s*\[\d+(?:\s*,\s*\d+)*\])*(?=\s)|\n")
# Only white space and (parts of) citations after a sentence end, so far: wait for more.
_PENDING = re.compile(r"(?:\s*\[[\d,\s]*\]?)*\s*\Z")

# -- what a stated value looks like ----------------------------------------------------------

_AMOUNT = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?"
# Currencies an answer's amounts are read in, written with a symbol or code; with a word
# only dollars and euros ("49 pounds" is a weight). Spellings: shopbot.vocabulary.
_MONEY_CODES = ("USD", "EUR", "GBP", "CAD", "AUD")
_MONEY_WORD_CODES = ("USD", "EUR")
_SYMBOL_CURRENCY = {s: c for s, c in CURRENCY_SYMBOLS.items() if c in _MONEY_CODES and s != c}
_WORD_CURRENCY = {w: c for w, c in CURRENCY_WORDS.items() if c in _MONEY_WORD_CODES}
_MONEY = re.compile(
    rf"(?<![\w.])(?P<sym>{alternatives(_SYMBOL_CURRENCY)})\s?(?P<num>{_AMOUNT})(?![\d.,]\d)"
    rf"|(?<![\w.$€£])(?P<num2>{_AMOUNT})\s?"
    rf"(?P<code>{'|'.join(_MONEY_CODES)}|(?i:{alternatives(_WORD_CURRENCY)}))\b"
)

# Units read in answers: unit -> (dimension, factor to the dimension's base unit), from
# shopbot.vocabulary. Time is left out on purpose: "30 days", "3–5 business days", "ships
# within 24 hours" are policy, not specs; so are power and party size, and lengths in
# inches and feet are not read yet.
_DIMENSIONS = ("mass", "volume", "length", "area", "light", "charge", "temperature")
_NOT_READ = frozenset({"in", "inch", "inches", "ft", "feet"}) | AMBIGUOUS_UNITS
_READ_UNITS = {
    u: v for u, v in UNITS.items() if v[0] in _DIMENSIONS and u not in _NOT_READ
}
_UNITS: dict[str, tuple[str, float]] = {u.lower(): v for u, v in _READ_UNITS.items()}



_SIGNED = r"(?:(?<![\w-])[-−])?"  # "-10 °C", but not the "-48" of "40-48 cm"
_QUANTITY = re.compile(
    rf"(?<![\w.,])(?P<num>{_SIGNED}\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|{_SIGNED}\d+(?:\.\d+)?)"
    rf"\s?(?P<unit>{unit_pattern(_READ_UNITS)})(?![\w²])"
)
_STOCK = re.compile(
    r"\b(?P<num>\d+)\s+(?:units?\s+|pieces?\s+|items?\s+|are\s+|of them\s+)?"
    r"(?:in stock|left(?:\s+in\s+stock)?|available(?!\s+(?:in|colou?rs?|sizes?|options?)\b))\b"
    r"|\bstock(?:\s+level)?(?:\s+is|\s+of|:)\s+(?P<num2>\d+)\b",
    re.I,
)
_OUT_OF_STOCK = re.compile(r"\b(?:out of stock|sold out)\b", re.I)
# "is in stock", "are available": said of a product or of the variants the clause names.
_IN_STOCK = re.compile(
    r"\b(?:is|are)\s+(?:still\s+|currently\s+|now\s+)?(?:in stock|available)\b"
    r"(?!\s*(?:\(|in\b|from\b|for\b|on\b|to\b|colou?rs?\b|sizes?\b|options?\b))",
    re.I,
)
# Words before an amount that make it the price something was before a sale ("was $49").
_WAS_BEFORE = re.compile(
    r"\b(?:was|were|regular(?:ly)?(?:\s+price)?|normal(?:ly)?(?:\s+price)?|usual(?:ly)?|"
    r"original(?:ly)?(?:\s+price)?|full\s+price|compare[ds]?(?:\s+at)?|list\s+price|"
    r"down\s+from|reduced\s+from|instead\s+of|rrp|msrp)\b[^.$€£\d]{0,12}$",
    re.I,
)

# Words that make an amount something other than a product's price.
_LIMIT_BEFORE = re.compile(
    r"\b(?:under|below|over|above|less than|more than|up to|within|budget(?: of)?|"
    r"cheaper than|at most|at least|max(?:imum)?|min(?:imum)?)\s*$",
    re.I,
)
_FEE_WORDS = re.compile(
    r"\b(?:shipping|ship|ships|delivery|express|postage|fee|fees|label|refund|refunds|"
    r"deducted|duties|duty|tax|taxes|gift cards?|discount|coupon|voucher|off|save|saving|"
    r"orders?|return|returns|exchange|restocking)\b",
    re.I,
)
_CLAUSE_BREAK = re.compile(r"[,;()]|\[\d[\d,\s]*\]|\b(?:and|plus|but|while|whereas|or)\b", re.I)

_WORD = re.compile(r"[a-z]+")
_STOP = frozenset(
    """the and for with from this that these those its it is are was be has have had of to in
    on at by as an a or not our your you can will would also just only about into per each
    costs cost price priced which what item product""".split()
)
_SYNONYMS = {
    "weigh": "weight", "heavy": "weight", "weighing": "weight",
    "litre": "capacity", "liter": "capacity", "hold": "capacity", "volume": "capacity",
    "bright": "brightness", "lumen": "brightness", "output": "brightness",
    "tall": "height", "high": "height",
}


# -- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Correction:
    """A value the answer stated that its record contradicts, and what replaced it."""

    sentence: str  # the sentence as the generator wrote it
    old: str  # "$299.00"
    new: str  # "$349.00"
    source_id: str  # the product's id (SKU)
    title: str = ""  # the product's name, for the shopper
    field: str = "price"  # "price", "stock", or the spec's name ("Packed weight")

    def describe(self) -> str:
        """"price of Alpine 2 Tent corrected to $349.00"."""
        return f"{self.field} of {self.title or self.source_id} corrected to {self.new}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CheckResult:
    text: str
    corrections: list[Correction] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)  # sentences as written, before the mark

    @property
    def changed(self) -> bool:
        return bool(self.corrections or self.flagged)


# -- the checker ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Quantity:
    start: int
    end: int
    text: str
    dimension: str
    base: float  # in the dimension's base unit (g, L, mm, m², lm, mAh, °C)
    tolerance: float  # half the last digit the number was written with, in base units
    label: frozenset[str] = frozenset()  # stems of the words naming it ("weight", "pack")


@dataclass(frozen=True)
class _Money:
    start: int
    end: int
    text: str
    value: float
    currency: str


@dataclass
class _Verdict:
    new: str | None = None  # replacement text
    source: Source | None = None
    field: str = ""
    flag: str | None = None  # why the sentence is flagged


@dataclass(frozen=True)
class _About:
    """Where a stated value sits: its sentence (as written, and with product names and
    citations blanked), its clause, and its offsets."""

    sentence: str
    masked: str
    window: str
    start: int
    end: int

    def subject(self) -> str:
        """What a stock phrase is said of: the list after it ("out of stock: L, XL"), else
        its clause before it ("M (out of stock)", "the M in Black is in stock")."""
        after = re.match(r"\s*:\s*([^.;\n]*)", self.masked[self.end :])
        if after:
            return after.group(1)
        before = self.masked[: self.start].rstrip(" (")
        breaks = list(_CLAUSE_BREAK.finditer(before))
        return before[breaks[-1].end() :] if breaks else before

    def variants(self, product: Product, subject: str = "") -> list[Variant]:
        """The variants of ``product`` the value is about: those whose SKU the sentence
        holds, else those whose option values ``subject``, the clause, or else the sentence
        names ("the jacket in M / Black"); [] when it names none."""
        if not product.has_options:
            return []
        lowered = self.sentence.lower()
        by_sku = [
            v for v in product.variants
            if v.sku and v.sku.lower() != product.id.lower()
            and re.search(rf"(?<![\w-]){re.escape(v.sku.lower())}(?![\w-])", lowered)
        ]
        if by_sku:
            return by_sku
        for text in (subject, self.window, self.masked):
            found = product.variants_named(text) if text.strip() else []
            if found:
                return found
        return []


class FactChecker:
    """Checks the sentences of answers generated from ``sources`` (numbered from 1), against
    their products as they are at ``now`` (default: when it is made)."""

    def __init__(self, sources: Sequence[Source], now: datetime | None = None) -> None:
        self.sources = list(sources)
        self.now = now or datetime.now(timezone.utc)
        # One entry per product (a product may come as its record, page and spec sheet),
        # keyed by its record's id: a page that names the product by a variant's SKU
        # ("RL-TNT-001") belongs to the record that has that variant.
        owner: dict[str, str] = {}
        for source in self.sources:
            if source.kind == "product" and source.product is not None:
                for sku in source.skus:
                    owner.setdefault(sku.lower(), source.id)
        self._key: dict[int, str] = {}
        self.products: dict[str, list[Source]] = {}
        for source in self.sources:
            if _is_product(source):
                key = owner.get(source.id.lower(), source.id)
                self._key[id(source)] = key
                self.products.setdefault(key, []).append(source)
        self._names = self._name_index()
        self._money_cache: dict[int, list[_Money]] = {}
        self._quantity_cache: dict[int, list[_Quantity]] = {}

    # -- public -----------------------------------------------------------------------------

    def check(self, text: str) -> CheckResult:
        result = CheckResult(text="")
        parts = [self.check_sentence(segment, result) for segment in split_sentences(text)]
        result.text = "".join(parts)
        return result

    def check_sentence(self, segment: str, result: CheckResult) -> str:
        """``segment`` (a sentence and the white space after it), corrected or flagged;
        what was done is added to ``result``."""
        core = segment.rstrip()
        tail = segment[len(core) :]
        if not core or not self.products and not _MONEY.search(core):
            return segment
        try:
            fixed, corrections, flag = self._check(core)
        except Exception:  # a checker bug must never cost the shopper the answer
            log.exception("fact check failed on %r", core)
            return segment
        result.corrections.extend(corrections)
        if flag:
            log.info("flagged %r: %s", core, flag)
            result.flagged.append(core)
            fixed += FLAG_MARK
        for c in corrections:
            log.info("corrected %s of %s: %s -> %s", c.field, c.source_id, c.old, c.new)
        return fixed + tail

    # -- one sentence -----------------------------------------------------------------------

    def _check(self, sentence: str) -> tuple[str, list[Correction], str | None]:
        citations = _citation_groups(sentence)
        names = self._mentions(sentence)
        masked = _mask(sentence, [(s, e) for s, e, _ in names] + [(s, e) for s, e, _ in citations])
        mentions = [(s, e, pid) for s, e, pid in names if pid is not None]
        claims: list[tuple[int, int, str, Any]] = []
        taken: list[tuple[int, int]] = []
        for m in _MONEY.finditer(masked):
            money = _money_of(m)
            if money is not None:
                claims.append((money.start, money.end, "price", money))
                taken.append((money.start, money.end))
        for m in _STOCK.finditer(masked):
            group = "num" if m.group("num") else "num2"
            start, end = m.span(group)
            if not _overlaps(start, end, taken):
                claims.append((start, end, "stock", int(m.group(group))))
                taken.append((start, end))
        for m in _OUT_OF_STOCK.finditer(masked):
            claims.append((m.start(), m.end(), "out", None))
        for m in _IN_STOCK.finditer(masked):
            claims.append((m.start(), m.end(), "in", None))
        for m in _QUANTITY.finditer(masked):
            quantity = _quantity_of(m)
            if quantity is not None and not _overlaps(quantity.start, quantity.end, taken):
                claims.append((quantity.start, quantity.end, "spec", quantity))
        if not claims:
            return sentence, [], None

        edits: list[tuple[int, int, str, Correction]] = []
        flags: list[str] = []
        for start, end, kind, claim in sorted(claims, key=lambda c: c[0]):
            refs, support = self._referents(start, end, citations, mentions)
            window = _window(masked, start, end)
            about = _About(sentence, masked, window, start, end)
            if kind == "price":
                verdict = self._check_price(claim, refs, support, masked, window, about)
            elif kind == "stock":
                verdict = self._check_stock(claim, refs, support, about)
            elif kind == "out":
                verdict = self._check_out_of_stock(refs, about)
            elif kind == "in":
                verdict = self._check_in_stock(refs, about)
            else:
                verdict = self._check_spec(claim, refs, support, window)
            if verdict is None:
                continue
            if verdict.flag:
                flags.append(verdict.flag)
            elif verdict.new is not None and verdict.source is not None:
                old = sentence[start:end]
                edits.append(
                    (start, end, verdict.new,
                     Correction(sentence, old, verdict.new, verdict.source.id,
                                verdict.source.title, verdict.field))
                )
        if flags:
            # A sentence that cannot be trusted is shown as written, marked: half-corrected
            # text would look confirmed.
            return sentence, [], "; ".join(flags)
        fixed = sentence
        for start, end, new, _ in sorted(edits, key=lambda e: e[0], reverse=True):
            fixed = fixed[:start] + new + fixed[end:]
        return fixed, [e[3] for e in edits], None

    def _referents(
        self,
        start: int,
        end: int,
        citations: list[tuple[int, int, list[int]]],
        mentions: list[tuple[int, int, str]],
    ) -> tuple[list[str], list[Source]]:
        """The products a value at [start, end) is about, and the sources that may support
        it."""
        local = next((c for c in citations if c[0] >= end), None)
        if local is None and citations:
            local = [c for c in citations if c[1] <= start][-1]
        if local is not None:
            cited = [self.sources[n - 1] for n in local[2] if 1 <= n <= len(self.sources)]
            refs = list(dict.fromkeys(self._key[id(s)] for s in cited if _is_product(s)))
            if not refs:
                refs = list(dict.fromkeys(pid for _, _, pid in mentions))
        else:
            # Nothing cited: the product named, else the only one; policy passages may
            # support the value, other products' records may not.
            cited = [s for s in self.sources if not _is_product(s)]
            refs = list(dict.fromkeys(pid for _, _, pid in mentions))
            if not refs and len(self.products) == 1:
                refs = list(self.products)
        if len(refs) > 1:
            # "The Alpine 2 Tent costs $299 [1][2]": the product named last before the value.
            before = [pid for s, e, pid in mentions if e <= start and pid in refs]
            if before:
                refs = [before[-1]]
        support = list(cited)
        for pid in refs:
            support.extend(s for s in self.products.get(pid, []) if s not in support)
        return refs, support

    # -- prices -----------------------------------------------------------------------------

    def _check_price(
        self,
        claim: _Money,
        refs: list[str],
        support: list[Source],
        masked: str,
        window: str,
        about: _About,
    ) -> _Verdict | None:
        if _LIMIT_BEFORE.search(masked[max(0, claim.start - 30) : claim.start]):
            return None  # "under $200", "orders over $75": a limit, not a price
        typed = self._typed_products(refs)
        was = bool(_WAS_BEFORE.search(masked[max(0, claim.start - 40) : claim.start]))
        known: set[float] = set()
        for product in typed.values():
            pool = about.variants(product) or product.variants
            if _fits_price(claim, pool, was, product.currency, self.now):
                return None
            known |= _prices_of(product, self.now)
        # A price the typed record knows (another variant's, a sale's that has ended) was
        # judged above: no text may support it.
        stated = round(claim.value, 2) in known
        if not stated and any(self._supports_money(s, claim, typed) for s in support):
            return None
        untyped = [self._record(pid) for pid in refs if pid not in typed]
        priced = [r for r in untyped if r.price is not None]
        if any(_same_price(claim, r) for r in priced):
            return None
        if _FEE_WORDS.search(window) and not stated:
            # A fee or a threshold of a policy: right only if some source says it.
            if any(self._supports_money(s, claim, typed) for s in self.sources):
                return None
            return _Verdict(flag=f"{claim.text} is in no source")
        from shopbot.vocabulary import format_price

        if len(refs) == 1 and refs[0] in typed:
            product = typed[refs[0]]
            named = about.variants(product)
            prices = sorted({p for v in named or product.variants
                             if (p := v.current_price(self.now)) is not None})
            if len(prices) == 1:
                return _Verdict(format_price(prices[0], product.currency), self._record(refs[0]),
                                "price")
            which = f"the {_labels(named)} of " if named else ""
            return _Verdict(flag=f"price {claim.text} is no price of {which}{refs[0]}")
        if len(priced) == 1 and len(refs) == 1:
            record = priced[0]
            return _Verdict(format_price(record.price, record.currency), record, "price")
        if not refs and any(self._supports_money(s, claim) for s in self.sources):
            return None  # about no product in particular, and some source says it
        return _Verdict(flag=f"price {claim.text} matches none of {refs or 'the sources'}")

    def _supports_money(
        self, source: Source, claim: _Money, typed: dict[str, Product] | None = None
    ) -> bool:
        """Whether ``source`` states the amount. A source about a product whose typed record
        is among ``typed`` does not vouch for that product's prices: its record does."""
        product = (typed or {}).get(self._key.get(id(source), ""))
        if product is not None:
            if round(claim.value, 2) in _prices_of(product, self.now):
                return False
        elif source.price is not None and _same_price(claim, source):
            return True
        return any(
            abs(m.value - claim.value) < 0.005 and m.currency == claim.currency
            for m in self._money_in(source)
        )

    def _money_in(self, source: Source) -> list[_Money]:
        key = id(source)
        if key not in self._money_cache:
            found = (_money_of(m) for m in _MONEY.finditer(source.text or source.snippet))
            self._money_cache[key] = [m for m in found if m is not None]
        return self._money_cache[key]

    # -- stock ------------------------------------------------------------------------------

    def _check_stock(
        self, claim: int, refs: list[str], support: list[Source], about: _About
    ) -> _Verdict | None:
        typed = self._typed_products(refs)
        counted: dict[str, int | None] = {}  # what each typed product's claim should say
        for pid, product in typed.items():
            named = about.variants(product, about.subject())
            pool = named or product.variants
            counts = [v.quantity for v in pool if v.quantity is not None]
            if not counts:
                continue
            total = sum(max(c, 0) for c in counts) if len(counts) == len(pool) else None
            allowed = set(counts) | {total}
            if not named:
                allowed.add(product.quantity())
            if claim in allowed:
                return None
            counted[pid] = total if named else product.quantity()
        records = [self._record(pid) for pid in refs if pid not in typed]
        known = [r for r in records if r.stock is not None]
        if any(r.stock == claim for r in known):
            return None
        for source in support:
            if self._key.get(id(source)) in typed and source.kind == "product":
                continue  # a typed record's stock was judged above, variant by variant
            for m in _STOCK.finditer(source.text or source.snippet):
                if int(m.group("num") or m.group("num2")) == claim:
                    return None
        if not known and not counted:
            return None  # the records say nothing about stock: nothing to check against
        if len(refs) == 1 and refs[0] in counted:
            value = counted[refs[0]]
            if value is not None and value > 0:
                return _Verdict(str(value), self._record(refs[0]), "stock")
        elif len(refs) == 1 and known and known[0].stock > 0:
            return _Verdict(str(known[0].stock), known[0], "stock")
        return _Verdict(flag=f"stock {claim} matches none of {refs}")

    def _check_out_of_stock(self, refs: list[str], about: _About) -> _Verdict | None:
        if len(refs) != 1:
            return None
        product = self._typed(refs[0])
        if product is not None:
            named = about.variants(product, about.subject())
            if named:
                available = [v for v in named if v.available() is True]
                if available:
                    return _Verdict(flag=f"{_labels(available)} of {refs[0]} is in stock")
                return None
            if product.available() is True:
                return _Verdict(flag=f"{refs[0]} is in stock")
            return None
        record = self._record(refs[0])
        if record.stock is not None and record.stock > 0:
            return _Verdict(flag=f"{record.id} is in stock ({record.stock})")
        return None

    def _check_in_stock(self, refs: list[str], about: _About) -> _Verdict | None:
        """"The M is in stock": wrong when the variants named (or, naming none, the product)
        are out of stock. Only typed records say this per variant."""
        if len(refs) != 1:
            return None
        product = self._typed(refs[0])
        if product is None:
            return None
        named = about.variants(product, about.subject())
        states = [v.available() for v in named] if named else [product.available()]
        if states and all(s is False for s in states):
            which = f"the {_labels(named)} of " if named else ""
            return _Verdict(flag=f"{which}{refs[0]} is out of stock")
        return None

    # -- specs ------------------------------------------------------------------------------

    def _check_spec(
        self, claim: _Quantity, refs: list[str], support: list[Source], window: str
    ) -> _Verdict | None:
        if any(_same_quantity(claim, q) for s in support for q in self._quantities_in(s)):
            return None
        if not refs:
            return None  # about no product: nothing to check it against
        candidates = [
            (id(s), q)
            for pid in refs
            for s in self.products.get(pid, [])
            for q in self._quantities_in(s)
            if q.dimension == claim.dimension
        ]
        if not candidates:
            return None  # the record has no such spec; not ours to judge
        if len(refs) > 1:
            return _Verdict(flag=f"{claim.text} matches none of {refs}")
        # Which of the record's values of this kind the sentence means, by the words around
        # it ("weighs", "packed", "floor"): only a clear winner is used.
        words = _stems(window)
        by_value: dict[float, tuple[_Quantity, set[str], set[int]]] = {}
        for source_index, q in candidates:
            key = round(q.base, 6)
            first, labels, stated_in = by_value.get(key, (q, set(), set()))
            by_value[key] = (first, labels | q.label, stated_in | {source_index})
        # Most shared words first; between equals, the value more of the product's files
        # state (the headline weight, not the "minimum trail weight" of one page).
        scored = sorted(
            (
                ((len(words & labels), len(stated_in)), q)
                for q, labels, stated_in in by_value.values()
            ),
            key=lambda item: item[0],
            reverse=True,
        )
        best_score, best = scored[0]
        if best_score[0] == 0 or (len(scored) > 1 and scored[1][0] == best_score):
            return _Verdict(flag=f"{claim.text} is not a value of {refs[0]} we can place")
        record = self._record(refs[0])
        return _Verdict(best.text, record, _field_name(best))

    def _quantities_in(self, source: Source) -> list[_Quantity]:
        key = id(source)
        if key not in self._quantity_cache:
            text = source.text or source.snippet
            found: list[_Quantity] = []
            for m in _QUANTITY.finditer(text):
                quantity = _quantity_of(m)
                if quantity is None:
                    continue
                label_text = _label_around(text, m.start(), m.end())
                found.append(
                    _Quantity(
                        quantity.start, quantity.end, _tidy(quantity.text), quantity.dimension,
                        quantity.base, quantity.tolerance,
                        frozenset(_stems(label_text)),
                    )
                )
            self._quantity_cache[key] = found
        return self._quantity_cache[key]

    # -- names ------------------------------------------------------------------------------

    def _record(self, pid: str) -> Source:
        """The product's record: the catalog row if it was retrieved, else its first source."""
        sources = self.products[pid]
        return next((s for s in sources if s.kind == "product"), sources[0])

    def _typed(self, pid: str) -> Product | None:
        """The typed product of ``pid``'s record, with its variants; None for a product
        known only from a page, or a source without one."""
        record = self._record(pid)
        product = record.product
        if record.kind != "product" or product is None or not product.variants:
            return None
        return product

    def _typed_products(self, refs: list[str]) -> dict[str, Product]:
        return {pid: product for pid in refs if (product := self._typed(pid)) is not None}

    def _name_index(self) -> TitleIndex:
        """The names of the sources' products (shopbot.product_names): title, shortened
        title ("Alpine 2"), the record's id and every SKU of its variants and pages."""
        entries = []
        for pid, sources in self.products.items():
            skus = [pid]
            for source in sources:
                skus.extend(source.skus if source.product is not None else [source.id])
            entries.append(NamedProduct(pid, self._record(pid).title, tuple(dict.fromkeys(skus))))
        return TitleIndex(entries)

    def _mentions(self, sentence: str) -> list[tuple[int, int, str | None]]:
        """Product names in the sentence, longest match first, without overlaps. A short
        name that fits several products names none of them (id None), but is still masked
        so its number is not read as a value ("Cloudburst 3L" is no 3 litres)."""
        return self._names.mentions(sentence)


def check_answer(text: str, sources: Sequence[Source]) -> CheckResult:
    """Check a whole answer against the sources it was generated from."""
    return FactChecker(sources).check(text)


class CheckedStream:
    """Wraps a generator's text pieces: yields checked text sentence by sentence (buffering
    until a sentence ends, or the stream does), so a shopper never sees a wrong number.
    ``result`` holds the text, corrections and flags once the stream has ended; if the
    generator fails mid-answer, the text so far is checked and yielded before the error."""

    def __init__(
        self,
        pieces: Iterable[str],
        sources: Sequence[Source],
        result: CheckResult | None = None,
    ) -> None:
        self._pieces = pieces
        self.checker = FactChecker(sources)
        # The caller may pass the result to fill (the chain hands one in per answer).
        self.result = result if result is not None else CheckResult(text="")
        self.done = False

    @property
    def corrections(self) -> list[Correction]:
        return self.result.corrections

    @property
    def flagged(self) -> list[str]:
        return self.result.flagged

    def __iter__(self) -> Iterator[str]:
        buffer = ""
        out: list[str] = []
        try:
            for piece in self._pieces:
                if not piece:
                    continue
                buffer += piece
                done, buffer = _settled_sentences(buffer)
                for segment in done:
                    checked = self.checker.check_sentence(segment, self.result)
                    out.append(checked)
                    yield checked
        except Exception:
            if buffer:  # the text so far, checked, before the error the caller handles
                checked = self.checker.check_sentence(buffer, self.result)
                out.append(checked)
                self.result.text = "".join(out)
                yield checked
            raise
        finally:
            close = getattr(self._pieces, "close", None)
            if close is not None:
                close()  # a stream given up on ends the generator's (and its connection)
        if buffer:
            checked = self.checker.check_sentence(buffer, self.result)
            out.append(checked)
            yield checked
        self.result.text = "".join(out)
        self.done = True


def cited_numbers(text: str) -> list[int]:
    """The source numbers an answer cites ([n], [n, m]), each once, in first-cited order."""
    numbers: list[int] = []
    for m in _CITATION.finditer(text):
        numbers.extend(int(n) for n in re.findall(r"\d+", m.group(1)))
    return list(dict.fromkeys(numbers))


def cited_sources(text: str, sources: Sequence[Source]) -> list[Source]:
    """The sources an answer cites ([n]), in the order they are first cited: what product
    cards should be drawn from."""
    return [sources[n - 1] for n in cited_numbers(text) if 1 <= n <= len(sources)]


# -- sentences -----------------------------------------------------------------------------------


def split_sentences(text: str) -> list[str]:
    """The text cut into sentences, each with the white space after it; joined, they are
    the text exactly."""
    done, rest = _settled_sentences(text, final=True)
    return done + ([rest] if rest else [])


def settled_sentences(buffer: str) -> tuple[list[str], str]:
    """The complete sentences at the start of a text still streaming in, and the rest (which
    more pieces may extend): for other checks that go sentence by sentence."""
    return _settled_sentences(buffer)


def _settled_sentences(buffer: str, final: bool = False) -> tuple[list[str], str]:
    """Complete sentences at the start of ``buffer`` and the rest. Mid-stream a sentence is
    complete only once what follows its end is known: text that is neither white space nor
    the start of a citation, so "... $349.00." is not cut before a coming " [1]"."""
    done: list[str] = []
    start = 0
    while True:
        m = _SENTENCE_END.search(buffer, start)
        if m is None:
            break
        if not final and _PENDING.match(buffer, m.end()):
            break  # white space or a citation so far: more of this sentence may follow
        after = m.end()
        while after < len(buffer) and buffer[after].isspace():
            after += 1
        if after >= len(buffer):
            break  # final: the rest is this sentence and its trailing white space
        done.append(buffer[start:after])
        start = after
    return done, buffer[start:]


# -- helpers -------------------------------------------------------------------------------------


def _citation_groups(sentence: str) -> list[tuple[int, int, list[int]]]:
    """(start, end, numbers) of each run of citations: "[1][2]" and "[1], [2]" are one."""
    groups: list[tuple[int, int, list[int]]] = []
    for m in _CITATION.finditer(sentence):
        numbers = [int(n) for n in re.findall(r"\d+", m.group(1))]
        if groups and not sentence[groups[-1][1] : m.start()].strip(" ,"):
            start, _, earlier = groups[-1]
            groups[-1] = (start, m.end(), earlier + numbers)
        else:
            groups.append((m.start(), m.end(), numbers))
    return groups


def _is_product(source: Source) -> bool:
    return source.price is not None or source.kind == "product"


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with these spans blanked (same length), so their numbers are not read."""
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            chars[i] = " " if not chars[i].isspace() else chars[i]
    return "".join(chars)


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in spans)


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-"))


def _money_of(m: re.Match[str]) -> _Money | None:
    if m.group("num"):
        number, currency = m.group("num"), _SYMBOL_CURRENCY[m.group("sym")]
    else:
        number = m.group("num2")
        code = m.group("code")
        currency = _WORD_CURRENCY.get(code.lower(), code.upper())
    return _Money(m.start(), m.end(), m.group(0), _number(number), currency)


def _fits_price(
    claim: _Money, pool: Sequence[Variant], was: bool, currency: str | None, now: datetime
) -> bool:
    """Whether ``claim`` is what one of ``pool`` costs at ``now``, or, said as what it
    ``was``, the price one on sale now had before its sale."""
    if currency and claim.currency != currency:
        return False
    prices = [v.current_price(now) for v in pool]
    if was:
        prices += [v.compare_at_price for v in pool if v.sale_active(now)]
    return any(p is not None and abs(p - claim.value) < 0.005 for p in prices)


def _prices_of(product: Product, now: datetime) -> set[float]:
    """Every amount the product's variants know: prices, sale prices, compare-at prices."""
    return {
        round(p, 2)
        for v in product.variants
        for p in (v.price, v.compare_at_price, v.current_price(now))
        if p is not None
    }


def _labels(variants: Sequence[Variant]) -> str:
    names = [v.label() for v in variants[:3]]
    return ", ".join(names) + (f" and {len(variants) - 3} more" if len(variants) > 3 else "")


def _same_price(claim: _Money, record: Source) -> bool:
    same_currency = not record.currency or record.currency == claim.currency
    return same_currency and abs(float(record.price) - claim.value) < 0.005


def _quantity_of(m: re.Match[str]) -> _Quantity | None:
    unit = m.group("unit")
    key = re.sub(r"\s", "", unit).lower() if unit.startswith("°") else unit.lower()
    if key not in _UNITS:
        return None
    dimension, factor = _UNITS[key]
    raw = m.group("num")
    value = _number(raw)
    decimals = len(raw.split(".")[1]) if "." in raw else 0
    half_digit = 0.5 * 10 ** (-decimals)
    if key == "°f":
        value, half_digit = (value - 32) * 5 / 9, half_digit * 5 / 9
        factor = 1.0
    base = value * factor
    tolerance = max(half_digit * factor, abs(base) * 0.005)
    return _Quantity(m.start(), m.end(), m.group(0), dimension, base, tolerance)


def _same_quantity(claim: _Quantity, known: _Quantity) -> bool:
    close = abs(claim.base - known.base) <= claim.tolerance + 1e-9
    return claim.dimension == known.dimension and close


def _window(masked: str, start: int, end: int) -> str:
    """The words around a value, within its clause: what it is said about."""
    before = masked[:start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    left = breaks[-1].end() if breaks else 0
    after = masked[end:]
    following = _CLAUSE_BREAK.search(after)
    right = following.start() if following else len(after)
    # "$14.95 for express shipping" is a fee; "$299 with free shipping" is still a price.
    words_after = re.split(r"\b(?:with|including|incl)\b", after[:right], maxsplit=1)[0]
    words_after = " ".join(words_after.split()[:4])
    return f"{before[left:]} {words_after}"


def _label_around(text: str, start: int, end: int) -> str:
    """The words that name a value in a record: its "Name:" in a "Name: value" line, the
    label line above it in a spec table, or the words of its clause ("... a 5000 mm floor")."""
    lines = text[max(0, start - 80) : start].split("\n")
    line = lines[-1]
    if not line.strip():
        line = next((l for l in reversed(lines) if l.strip()), "")
    for stop in (". ", "; ", ", "):
        cut = line.rfind(stop)
        if cut >= 0 and len(line) - cut > 3:
            line = line[cut + len(stop) :]
    # "comfort rating of -10 °C and a limit rating of": only what follows the last value.
    line = re.split(r"\d[\d.,]*(?:\s?[^\s\d]+)?", line)[-1]
    after = re.split(r"[\n.,;(]|\d", text[end : end + 40], maxsplit=1)[0]
    return f"{line} {' '.join(after.split()[:3])}"


def _stems(text: str) -> set[str]:
    stems = set()
    for word in _WORD.findall(text.lower()):
        if len(word) < 3 or word in _STOP or word in _UNITS:
            continue
        for suffix in ("ing", "ed", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)]
                break
        stems.add(_SYNONYMS.get(word, word))
    return stems


def _field_name(quantity: _Quantity) -> str:
    names = {"mass": "weight", "volume": "capacity", "light": "brightness", "charge": "capacity",
             "temperature": "temperature rating", "area": "area", "length": "size"}
    return names.get(quantity.dimension, "spec")


def _tidy(text: str) -> str:
    return " ".join(text.split())
