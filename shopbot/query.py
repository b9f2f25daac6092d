"""Question understanding, owned once: a shopper's question (and the conversation before
it) becomes an intent and its slots, read against the catalog's own vocabulary.

Intents (``Understanding.intent``):

``lookup``       a named product ("how much is the Alpine 2 tent", "alpin 2 tnet")
``list``         every product of a kind or under constraints ("which rain jackets do you have",
                 "tents for 4 people under $300")
``superlative``  products of a kind ordered by an attribute ("the lightest tent", "cheapest
                 sleeping bag", "highest capacity backpack")
``compare``      two or more named products side by side
``policy``       shipping, returns, warranty, sizing: passages, not products
``not_sold``     something the catalog has no word for ("do you sell kayaks?"), or a product
                 name it does not have ("the Camp Mug")
``search``       anything else: a hybrid search decides

Slots: the named products, the kinds of thing asked for (a title's head noun or a category:
"tent", "hoodie"), the constraints (price bounds, brand, category, colour, size, stock,
measured attributes with units, the sort key; shopbot.constraints), the other words a fitting
product must have ("*rain* jackets"), and for a follow-up what it carried over.

A follow-up is recognised by what it refers to, not by its first word: a pronoun or "those"
("is it waterproof?", "which of those are blue?"), or no subject of its own ("and in blue?",
"under $100?"). A question that names its own subject (a product, a kind, a category, a
policy topic) starts afresh: "How much does shipping cost?" after the returns policy is about
shipping. Remembered filters (the chat keeps them) apply to a new subject only where they make
sense: a size only when products of the new kind come in that size, a budget only when the
question refers to it ("in that price range"); the answer says which ones it used.

Retrieval (shopbot.retrieval) and every generator read this; none re-detects intents.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shopbot.constraints import Constraints, parse, remember, singular, tokens

if TYPE_CHECKING:
    from shopbot.generators.base import Turn

INTENTS = ("lookup", "list", "superlative", "compare", "policy", "not_sold", "search")

# Words that point back at what was said before.
_REFERENCE = re.compile(
    r"\b(?:it|its|it's|they|them|their|theirs|those|these|that\s+one|this\s+one|the\s+same|"
    r"which\s+one|the\s+(?:first|second|third|last|other|cheaper|cheapest|lighter|bigger|"
    r"smaller|warmer)\s+one|of\s+(?:those|these|them)|that\s+(?:price|range|budget|size|colou?r)|"
    r"same\s+(?:price|range|budget|size|colou?r)|either|both)\b",
    re.I,
)
# "anything smaller?", "something cheaper?": another product than the one just answered.
_ANOTHER = re.compile(r"\b(?:anything|something|any|another|other|one|ones)\b", re.I)
# "which of those", "of them": the set listed before, not one product.
_SET_REFERENCE = re.compile(r"\b(?:those|these|them|which)\b", re.I)
# "the cirrus one", "the blue one": one of those said before, by a word of its own.
_THE_X_ONE = re.compile(r"\bthe\s+([\w-]+)\s+one\b", re.I)
# Words of buying a product, not of a policy about it ("can I order it?").
_BUYING = frozenset({"order", "ordering", "buy", "purchase", "available", "availability",
                     "stock", "deliver", "delivered"})
# "compared to the Tempest", "than the Alpine 2": a comparison with what was said before.
_COMPARED_TO = re.compile(r"\b(?:compared?\s+(?:to|with)|vs\.?|versus|than|against)\b", re.I)
# "those tents", "of them": the set said before.
_OF_THOSE = re.compile(r"\b(?:those|these|them|either|both)\b", re.I)
# "it", "that one": one thing said before.
_ONE_REFERENCE = re.compile(r"\b(?:it|its|it's|that\s+one|this\s+one)\b", re.I)
# Openers that continue the conversation ("and in blue?", "what about size L?").
_CONTINUES = re.compile(
    r"^\s*(?:and|or|also|what\s+about|how\s+about|same|then|"
    r"ok(?:ay)?\s*,?\s+(?:and|then|what\s+about|how\s+about)|"
    r"in|with|without|only|cheaper|bigger|smaller|lighter)\b",
    re.I,
)
# What follows a kind to say what it must have or do: "with a liner", "that can charge".
_FEATURE_CLAUSE = re.compile(
    r"^\s*(?:(?:that|which)(?:\s+(?:have|has|come\s+with|comes\s+with))?|with|featuring|"
    r"including|having|have|has|come\s+with)\b(?P<what>[^?.!;]+)", re.I)
# Asking which size fits them: the sizing guide answers.
_SIZE_ADVICE = re.compile(
    r"\b(?:what|which)\s+(?:[\w-]+\s+){0,3}size\s+(?:do|should|would|will|shall)\s+(?:i|we|he|she|they)"
    r"\b|\bsize\s+guide\b|\bsizing\s+(?:chart|guide|advice)\b", re.I)
# A budget the shopper refers back to.
_SAME_BUDGET = re.compile(r"\b(?:that|same|this|the\s+same)\s+(?:price|range|budget|price\s+range)\b",
                          re.I)
# Asking for a set of products.
_LIST_CUE = re.compile(
    r"\b(?:which|what\s+(?:kind|kinds|sort|sorts|types?)|what\s+\w+\s+do\s+you|options|"
    r"show\s+me|list|any|all|some|recommend|suggest|do\s+you\s+(?:have|sell|carry|stock|offer)|"
    r"looking\s+for|need|want)\b",
    re.I,
)
# Asking about one thing ("how much is the ...", "tell me about the ...").
_ONE_CUE = re.compile(
    r"\b(?:how\s+much\s+(?:is|does|are)|price\s+of|cost\s+of|tell\s+me\s+about|what\s+is\s+the|"
    r"is\s+the|does\s+the|do\s+you\s+have\s+the|the)\b",
    re.I,
)
# Words of a question that say nothing about what is asked for.
_FILLER = frozenset(
    """a an the and or but if of to in on at by for with about from into over under as is are
    was were be been being do does did have has had can could would should will shall may might
    must i me my we our you your it its they them their this that these those there here what
    which who whom whose when where why how much many more most any some all each every no not
    only own same so than too very just also please tell know want need get got buy sell sold
    shop store have one ones thing things item items product products catalog hi hello thanks
    thank there show list recommend suggest looking look find carry stock offer available
    option options cost costs price prices priced cheap cheaper good best nice like kind kinds
    type types sort sorts anything something else other ok okay yes yeah u ur pls plz guys
    folks within then btw cool great""".split()
)


@dataclass
class Understanding:
    """What a question asks: its intent and slots (see the module docstring)."""

    # The question as read: the shopper's own words, or their English reading when they
    # wrote in another language (``language``, ``original``; shopbot.languages).
    question: str
    search: str  # what retrieval searches for (a follow-up: with what it refers to)
    intent: str = "search"
    constraints: Constraints = field(default_factory=Constraints)
    products: list[str] = field(default_factory=list)  # ids of the products named
    kinds: list[str] = field(default_factory=list)  # "tent", "hoodie"
    modifiers: list[str] = field(default_factory=list)  # "tank" of "tank tops"
    words: list[str] = field(default_factory=list)  # other words a fitting product has
    exclude: list[str] = field(default_factory=list)  # "not the kids one": words it has not
    # "shorts with a liner or brief", "a power bank that can charge a laptop": words one of
    # which a fitting product's own text (its description too) has.
    features: list[str] = field(default_factory=list)
    quoted: list[str] = field(default_factory=list)  # ids of products whose text it quotes
    accessory_of: str = ""  # "poles for the Alpine 2 tent": the product they are for
    follow_up: bool = False
    # Filter chips remembered from earlier turns: applied to this question, or left out
    # because they make no sense for it.
    remembered_used: list[str] = field(default_factory=list)
    remembered_dropped: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # words the catalog never uses
    near: str = ""  # for not_sold: the closest category the shop carries
    asked_for: str = ""  # for not_sold: the thing or name asked for, as the shopper wrote it
    # The filters to remember for the next turn: every remembered one (applied or not, the
    # shopper did not remove it) with this question's own.
    remember: Constraints | None = None
    language: str = "en"  # what the shopper wrote in: "en", "de", "es", "fr"
    original: str = ""  # their own words, when ``question`` is an English reading of them

    @property
    def translated(self) -> bool:
        """Whether the shopper wrote in another language than English."""
        return self.language != "en"

    @property
    def lists(self) -> bool:
        """Whether the answer is a list of every fitting product (list, superlative)."""
        return self.intent in ("list", "superlative")

    def to_dict(self) -> dict[str, Any]:
        return {
            "intent": self.intent, "search": self.search, "products": list(self.products),
            "kinds": list(self.kinds), "modifiers": list(self.modifiers),
            "words": list(self.words), "exclude": list(self.exclude),
            "features": list(self.features),
            "follow_up": self.follow_up,
            "filters": self.constraints.chips(), "remembered_used": list(self.remembered_used),
            "remembered_dropped": list(self.remembered_dropped), "unknown": list(self.unknown),
            "near": self.near, "language": self.language,
        }


def basic(question: str, history: Sequence[Turn] = (),
          remembered: Constraints | None = None) -> Understanding:
    """An understanding without a catalog (a chain over fixed sources): follow-ups by their
    words alone, no intent."""
    from shopbot.chain import condense_by_rules

    return Understanding(question, condense_by_rules(question, history),
                         constraints=remembered or Constraints())


def _user_turns(history: Sequence[Turn]) -> list[str]:
    return [t.content.strip() for t in history if t.role == "user" and t.content.strip()]


class QuestionReader:
    """Reads questions against one catalog snapshot (shopbot.catalog_index)."""

    def __init__(self, snap: Any) -> None:
        self.snap = snap

    # -- what a piece of text names ---------------------------------------------------------

    def named(self, text: str, rest: str | None = None) -> list[str]:
        """Ids of the products ``text`` names: SKUs and titles as spelt, else one product a
        (misspelt) name phrase of ``rest`` (the text without its filters) resolves to; with
        the siblings whose qualifier it names too ("the atomic tee, v neck or crew neck?":
        the "(V-neck)" and the "(Crew-Neck)" one)."""
        found = self._named(text, rest)
        squeezed = re.sub(r"[\W_]+", "", text.lower())
        if len(found) == 1 and _COMPARE.search(text):
            # "the voltpack 20000 or the sunfold 21w panel": the other name, as misspelt
            # or shortened as a name on its own is.
            spans = self.snap.name_spans(text)
            for part in re.finditer(r"[^,/]+?(?=\s*(?:,|/|\bor\b|\bvs\.?|\bversus\b|\band\b"
                                    r"|\bthan\b|[?!.;]|$))", text):
                if any(a < part.end() and part.start() < b for a, b in spans):
                    continue
                words = re.sub(r"^\s*(?:or|vs\.?|versus|and|than)\b", " ", part.group(0))
                other = self._named(words, parse(words, self.snap.facets).text)
                found += [pid for pid in other if pid not in found]
        if not found:
            # "atomic endurance running tee - v neck or crew neck?": the base name spelt out
            # with the qualifiers of its siblings.
            for base, members in self._siblings.items():
                if re.sub(r"[\W_]+", "", base) in squeezed:
                    found = [pid for pid, q in members if q and q in squeezed]
                    if found:
                        return found
            return []
        for pid in list(found):
            for sibling, qualifier in self._siblings.get(self._base_title(pid), ()):
                if sibling not in found and qualifier and qualifier in squeezed:
                    found.append(sibling)
        if len(found) > 1:
            # The one named by its qualifier is meant, not the one the name phrase chose.
            qualified = [pid for pid in found if any(
                q and q in squeezed for p, q in self._siblings.get(self._base_title(pid), ())
                if p == pid)]
            if qualified and len(qualified) < len(found) and all(
                    self._base_title(p) == self._base_title(found[0]) for p in found):
                found = qualified
        return found

    def misnamed(self, text: str) -> str:
        """A product's shortened name followed by another kind of thing ("the apollo
        running *jacket*" when the Apollo Running Short is all there is; "the alpine 2
        replacement *pole* set"): the phrase, a product the shop does not have; else ""."""
        from shopbot.catalog_index import kind_key

        snap = self.snap
        for start, end, pid in snap._titles.mentions(text):
            # A name several products share ("Alpine 2": the tent and its footprint) is
            # any of them.
            ids = [pid] if pid is not None else snap.named_products(text[start:end])
            positions = [snap.records[i] for i in ids if i in snap.records]
            if not positions:
                continue
            title = {w for i in ids for w in tokens(self._title(i))}
            own = set().union(*(snap.kinds[p] for p in positions))
            after = re.findall(r"[\w'-]+", text[end:])[:3]
            for i, word in enumerate(after):
                key = kind_key(word)
                if word.lower() in title or key in title:
                    break  # "the alpine 2 tent": its own name goes on
                if key in snap.kind_words and key not in own:
                    return " ".join([text[start:end], *after[:i + 1]])
                if word.lower() in _FILLER:
                    break
        return ""

    def _base_title(self, pid: str) -> str:
        return re.sub(r"\s+", " ", re.sub(r"\([^)]*\)", " ", self._title(pid))).strip().lower()

    @property
    def _siblings(self) -> dict[str, list[tuple[str, str]]]:
        """Titles that differ only by a qualifier in brackets ("Atomic Tee (V-neck)"): base
        title -> [(id, the qualifier squeezed: "vneck")], for bases two or more share."""
        found = self.__dict__.get("_sibling_map")
        if found is None:
            groups: dict[str, list[tuple[str, str]]] = {}
            for pid in self.snap.records:
                title = self._title(pid)
                qualifier = re.findall(r"\(([^)]*)\)", title)
                if qualifier:
                    groups.setdefault(self._base_title(pid), []).append(
                        (pid, re.sub(r"[\W_]+", "", " ".join(qualifier).lower())))
            found = self.__dict__["_sibling_map"] = {
                base: members for base, members in groups.items() if len(members) > 1}
        return found

    def _named(self, text: str, rest: str | None = None) -> list[str]:
        snap = self.snap
        found = list(dict.fromkeys([*snap._titles.skus_in(text), *snap.named_products(text)]))
        if found and self.misnamed(text):
            found = list(snap._titles.skus_in(text))
        if found:
            return found
        source = text if rest is None else rest
        found = self._resolved(text, _name_phrase(source))
        if not found:
            # "how waterproof is it compared to the tempest shell?": after the last "the".
            last = list(re.finditer(r"\bthe\s+", source, re.I))
            if last and _name_phrase(source[last[-1].start():]) != _name_phrase(source):
                found = self._resolved(text, _name_phrase(source[last[-1].start():]))
        return found

    def _resolved(self, text: str, phrase: str) -> list[str]:
        """The one product a name phrase of ``text`` resolves to, as [id], else []."""
        snap = self.snap
        if not phrase or self._plural_kind(phrase, list(snap.kind_words)):
            return []
        if re.search(rf"\b(?:a|an|any|some|another)\s+{re.escape(phrase.split()[0])}\b",
                     text, re.I):
            return []  # "need a sports bra": any one, not the Celeste Sports Bra
        words = phrase.split()
        for end in range(len(words), 0, -1):  # "stormline jacket waterproof": its start
            dropped = words[end:]
            if any(w.isdigit() or singular(w.lower()) in snap.kind_words for w in dropped):
                break  # "Summit Expedition 3 Tent" is not the "Summit" something
            # "sunfold 21w panel" spells the "Sunfold 21 W Solar Panel" too.
            part = re.sub(r"\b(\d+(?:\.\d+)?)([a-z]{1,3})\b", r"\1 \2", " ".join(words[:end]),
                          flags=re.I)
            if end == 1 and (words[0].lower() in snap.passage_vocabulary
                             or len(words[0]) < 4):
                break  # one everyday word ("long") names no product
            pid = snap._titles.resolve(part) or snap._titles.resolve(" ".join(words[:end]))
            position = snap.records.get(pid) if pid is not None else None
            product = snap.chunks[position].product if position is not None else None
            if product is not None and not self._only_kind_words(part, pid) \
                    and _spells(part, product.title):
                return [pid]
        return []

    def _only_kind_words(self, phrase: str, pid: str) -> bool:
        """Whether a phrase resolved to ``pid`` only through words that name its kind."""
        words = {w for w in tokens(phrase) if w not in _FILLER}
        generic = set(self.snap.kind_words) | self._category_words
        return bool(words) and words <= generic

    @property
    def _category_words(self) -> set[str]:
        found = self.__dict__.get("_category_word_set")
        if found is None:
            found = self.__dict__["_category_word_set"] = {
                w for name in self.snap.facets.categories for w in tokens(name)}
        return found

    def kinds(self, text: str) -> list[str]:
        """The kinds of thing ``text`` asks for: words that are a product's head noun or name
        a category of things, the last of a compound ("tent footprint": footprint)."""
        from shopbot.catalog_index import kind_key

        words = [kind_key(w) for w in tokens(text)]
        kinds = self.snap.kind_words
        found = []
        for i, word in enumerate(words):
            if word in kinds and not (i + 1 < len(words) and words[i + 1] in kinds):
                found.append(word)
        return list(dict.fromkeys(found))

    def modifiers(self, text: str) -> list[str]:
        """Kind words that modify the kind asked for ("tank" of "tank tops", "duffel" of
        "duffel bags"): the products meant may be filed as these."""
        from shopbot.catalog_index import kind_key

        words = [kind_key(w) for w in tokens(text)]
        kinds = self.snap.kind_words
        return list(dict.fromkeys(
            word for i, word in enumerate(words)
            if word in kinds and i + 1 < len(words) and words[i + 1] in kinds))

    def policy_topic(self, text: str) -> bool:
        """Whether ``text``'s words are found in the shop's passages (policies, FAQ) and
        name no product kind: "shipping", "returns", "warranty"."""
        return bool(self._passage_words(text))

    def _passage_words(self, text: str) -> set[str]:
        """Words of ``text`` that the shop's passages use far more than its products do
        ("shipping", "returns", "warranty"): what policies are about."""
        from shopbot.catalog_index import keyword_tokens

        passages, products = self.snap.document_frequencies()
        n_passages = max(1, passages.get("", 0))
        n_products = max(1, products.get("", 0))
        found = set()
        from shopbot.vocabulary import AUDIENCE_WORDS

        for word in keyword_tokens(text):
            if word in _FILLER or len(word) < 3 or word in AUDIENCE_WORDS:
                continue
            in_passages = passages.get(word, 0) / n_passages
            in_products = products.get(word, 0) / n_products
            # Twice in the passages and far more there than in products, or in a passage
            # and in no product at all ("do you accept PayPal?").
            if (passages.get(word, 0) >= 2 and in_passages > 4 * in_products
                    or passages.get(word, 0) >= 1 and not products.get(word, 0)
                    and len(word) >= 5) \
                    and word not in self.snap.name_words:
                found.add(word)
        return found

    def unknown_words(self, text: str) -> list[str]:
        """Content words of ``text`` (as written) that no product or passage uses."""
        from shopbot.catalog_index import keyword_tokens

        vocab = self.snap._vocab if self.snap._bm25 is not None else {}
        out = []
        for word in re.findall(r"[^\W\d_][\w'-]*", text):
            keys = [k for k in keyword_tokens(word) if k not in _FILLER and len(k) > 2]
            if keys and word.lower() not in _FILLER and not any(k in vocab for k in keys):
                out.append(word)
        return list(dict.fromkeys(out))

    def _not_filters(self, text: str) -> list[tuple[int, int]]:
        """Where ``text`` says what is no filter: a product's name ("Red Rock Kettle") and
        what it rules out ("a real tent, not a tarp")."""
        return [*self.snap.name_spans(text), *(m.span(1) for m in _NEGATED.finditer(text))]

    def constraints_of(self, text: str) -> tuple[Constraints, list[int]]:
        """The constraints of ``text`` read against the catalog's vocabulary, and the records
        of the products it quotes (``shopbot.catalog_index.Quote``). Quoted words are the
        product's, not the shopper's filters: a hoodie's "bottom band" is no category
        Bottoms, its "purple stitching" no colour filter. So when a quoted product does not
        fit the constraints and fits those read from the words outside the quote, those are
        the constraints; when it fits neither, the shopper's own words rule it out and it is
        not returned as quoted."""
        snap = self.snap
        names = self._not_filters(text)
        found = parse(text, snap.facets, names=names)
        quote = snap.quoted(text)
        if quote is None:
            return found, []
        fits = [p for p in quote.products if snap.fits(p, found)] if found.filters else list(
            quote.products)
        if len(fits) == len(quote.products):
            return found, fits
        outside = parse(text, snap.facets, names=[*names, quote.span])
        rest = [p for p in quote.products if not outside.filters or snap.fits(p, outside)]
        if len(rest) > len(fits):
            return outside, rest
        return found, fits

    # -- the whole question -----------------------------------------------------------------

    def understand(self, question: str, history: Sequence[Turn] = (),
                   remembered: Constraints | None = None) -> Understanding:
        import numpy as np

        from shopbot.catalog_index import kind_key

        snap = self.snap
        reading, history = self.in_english(question.strip(), history)
        question = reading.text
        turns = _user_turns(history)
        own, quoted_records = self.constraints_of(question)
        if own.sort_dimension == "any" and np.isnan(snap.measure("any", own.sort_label)).all():
            own.sort, own.sort_text, own.sort_label = None, "", ()  # "more popular": no such value
        quoted = [snap.chunks[p].product_id for p in quoted_records]
        products = self.named(question, own.text)
        about = ""  # a policy question about a product: its category
        if len(products) == 1:
            outside = question
            for start, end in snap.name_spans(question):
                outside = outside[:start] + " " * (end - start) + outside[end:]
            if self._passage_words(outside) - _BUYING and not self.kinds(outside):
                # "fine I'll get the Stormline. how much to ship to Canada?": the policy.
                about, products = self._policy_subject(products[0]), []
        if len(products) == 1 and turns and _ONE_REFERENCE.search(question) \
                and _COMPARED_TO.search(question):
            # "how waterproof is it compared to the Tempest shell?": the one just answered too.
            products = [*(p for p in self._answered(history) if p not in products), *products]
        ruled_out = {kind_key(w) for m in _NEGATED.finditer(question) for w in m.group(1).split()}
        kinds = [k for k in self.kinds(own.text) if k not in ruled_out] if not products else []
        if quoted and not products and kinds:
            # "renewable resource: coconut shells. This unique": the kind word is the quoted
            # text's, not the shopper's, when it only appears inside the quote.
            quote = snap.quoted(question)
            inside = [m for m in re.finditer(r"[^\W\d_][\w'-]*", question)
                      if kind_key(m.group(0)) in kinds]
            if quote is not None and inside \
                    and (quote.span[1] - quote.span[0]) >= 0.8 * len(question.rstrip("?!. ")) \
                    and all(
                    quote.span[0] <= m.start() and m.end() <= quote.span[1] for m in inside) \
                    and not any(set(kinds) <= snap.kinds[p] for p in quoted_records):
                kinds = []
        if quoted and not products and not own.sort and not self._plural_kind(question, kinds) \
                and all(set(kinds) <= snap.kinds[p] or not kinds for p in quoted_records):
            # "the jacket with the remote on the chest": the product whose text it quotes.
            products, kinds = list(quoted), []
        accessory_of = ""
        if len(products) == 1:
            # "replacement poles for the Alpine 2 tent": poles, made for that product.
            found = self._accessory(question, products[0])
            if found:
                kinds, accessory_of, products = found, products[0], []
        # What the filters read ("under 200 dollars") is no policy topic.
        topic = not products and self.policy_topic(_SAME_BUDGET.sub(" ", own.text))
        unsold = (not products and not kinds and not topic
                  and bool(_SELL_CUE.search(question)) and self._unsold_words(question))
        has_subject = bool(products or kinds or own.categories or topic or unsold)
        # "the biggest power bank to go with it": its own kind, the earlier product aside;
        # "which of those tents are blue": the set listed before.
        refers = bool(_REFERENCE.search(question)) and (
            not kinds or bool(_OF_THOSE.search(question)))
        follow_up = bool(turns) and (
            (refers and not products) or (not has_subject)
            or (bool(_CONTINUES.match(question)) and not topic and not own.categories
                and not kinds)
        )
        if follow_up and not products and not own.sort and (
                own.colours or own.sizes or _ONE_REFERENCE.search(question)):
            # "in black size 34?", "how heavy is it?": the product the last answer was about.
            products = self._answered(history)
            if products and topic and not own.colours and not own.sizes:
                # "how long is the warranty on it?": the policy, for that sort of product.
                about = self._policy_subject(products[0])
                products, follow_up = [], False

        if follow_up and not products:
            # "how heavy is the cirrus one?": the one of those just listed called so.
            one = _THE_X_ONE.search(question)
            word = one.group(1).lower() if one else ""
            for listed in self._listed_before(history) if word else ():
                called = [pid for pid in listed if word in tokens(self._title(pid))]
                if len(called) == 1:
                    products = called
                    break
        than = None
        if follow_up and not products and own.sort and _ANOTHER.search(question) \
                and not _SET_REFERENCE.search(question):
            # "got anything smaller?", "something cheaper?": than the product just answered.
            answered = self._answered(history)
            than = answered[0] if answered else None
        context = self._context(turns) if follow_up else ""
        if than is not None:
            relative = self._relative(own, than)
            if relative is not None:
                own, kinds, context = relative, self._kinds_of(than), ""
        search = f"{context} — {question}" if context else question
        if about:
            search = f"{question} ({about})"
        if follow_up and context:
            before = parse(context, snap.facets, names=self._not_filters(context))
            if not products:
                products = self.named(context, before.text)
            if not own.categories and not kinds:
                own.categories, own.category_paths = before.categories, before.category_paths
                ruled_out |= {kind_key(w) for m in _NEGATED.finditer(context)
                              for w in m.group(1).split()}
                kinds = [k for k in self.kinds(before.text) if k not in ruled_out] \
                    if not products else []
            own.text = f"{before.text} {own.text}".strip()
        keep = remember(remembered, own).remembered() if remembered else own.remembered()
        constraints, used, dropped = self._with_remembered(
            own, remembered, follow_up, kinds, bool(_SAME_BUDGET.search(question))
        )
        understanding = Understanding(
            question=question, search=search, constraints=constraints, products=products,
            kinds=kinds, modifiers=self.modifiers(constraints.text) if kinds else [],
            follow_up=follow_up, remembered_used=used, remembered_dropped=dropped,
            remember=keep, quoted=quoted, language=reading.language,
            original=reading.original if reading.translated else "",
        )
        negated = _NEGATED.findall(constraints.text)
        understanding.exclude = [w for phrase in negated for w in _keywords(phrase)]
        clause = self._feature_clause(_NEGATED.sub(" ", constraints.text), kinds, products)
        understanding.features = self._features(clause, kinds)
        understanding.words = [w for w in self._must_have(
            _NEGATED.sub(" ", constraints.text).replace(clause, " ") if clause
            else _NEGATED.sub(" ", constraints.text), kinds, products, constraints)
            if w not in understanding.exclude]
        if not products:
            self._for_whom(question, understanding)
        if accessory_of:
            understanding.accessory_of = accessory_of
            understanding.words = []
        understanding.intent = self._intent(understanding, question, topic)
        wrong = "" if products else self.misnamed(question)
        if wrong and understanding.intent not in ("policy",):
            understanding.intent = "not_sold"  # "how much is the apollo running jacket"
            understanding.unknown = [wrong]
            understanding.kinds = understanding.kinds or self.kinds(wrong)[-1:]
        if understanding.intent in ("not_sold", "policy"):
            # No product filter is applied to a policy or to what the shop does not sell.
            understanding.remembered_dropped += understanding.remembered_used
            understanding.remembered_used = []
        if understanding.intent == "not_sold":
            if not understanding.unknown:
                understanding.unknown = (self.unknown_words(question)
                                         or self._unsold_words(question))
            if understanding.accessory_of:
                understanding.asked_for = understanding.unknown[0]
            elif _SELL_CUE.search(question) or understanding.kinds:
                understanding.asked_for = _as_written(question, " ".join(understanding.unknown))
        return understanding

    def _for_whom(self, question: str, u: Understanding) -> None:
        """Whom the product is for ("men's", "for adults", "for my kid"): it replaces whom an
        earlier one was for ("need a rain jacket for my kid" ... "and something for me,
        men's?") and rules out products called for the others."""
        from shopbot.catalog_index import keyword_tokens
        from shopbot.vocabulary import AUDIENCE_WORDS, CHILD_WORDS

        audience = {w for w in keyword_tokens(question) if w in AUDIENCE_WORDS}
        if not audience:
            return
        u.words = [w for w in u.words if w not in AUDIENCE_WORDS or w in audience]
        men, women = {"men", "man", "mens"}, {"women", "woman", "womens"}
        others = set(CHILD_WORDS) if not audience & set(CHILD_WORDS) else set()
        if audience & men and not audience & women:
            others |= women | {"ladies"}
        if audience & women and not audience & men:
            others |= men
        u.exclude += [w for w in sorted(others)
                      if w in self.snap.product_vocabulary and w not in u.exclude]

    def _policy_subject(self, pid: str) -> str:
        """What a policy question about ``pid`` is about: its categories ("Sleeping Bags")."""
        position = self.snap.records.get(pid)
        product = self.snap.chunks[position].product if position is not None else None
        if product is None:
            return ""
        parts = [p.strip() for c in product.categories[:2] for p in re.split(r"[>/|]", c)]
        return ", ".join(dict.fromkeys(p for p in parts if p))

    def in_english(self, question: str, history: Sequence[Turn] = ()) -> tuple[Any, list[Turn]]:
        """The question (a ``shopbot.languages.Reading``) and the conversation before it, in
        English: a shopper may write in German, Spanish or French (a follow-up keeps the
        language of the turns before it). Product names and SKUs pass through as written;
        earlier answers lose the line that says they are in English."""
        from shopbot.generators.base import Turn
        from shopbot.languages import ENGLISH, read, without_note

        english = self._english_words
        turns: list[Turn] = []
        earlier = ENGLISH
        for turn in history:
            if turn.role == "user":
                reading = read(turn.content, self._name_spans(turn.content), english, earlier)
                earlier = reading.language
                turns.append(Turn("user", reading.text))
            else:
                turns.append(Turn(turn.role, without_note(turn.content)))
        return read(question, self._name_spans(question), english, earlier), turns

    def _name_spans(self, text: str) -> list[tuple[int, int]]:
        """Where ``text`` names a product, by SKU or title, or holds a code like one
        ("K-0473"): not to be translated."""
        codes = [m.span() for m in re.finditer(
            r"(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+(?![\w-])", text)]
        return [*((start, end) for start, end, _ in self.snap._titles.mentions(text)), *codes]

    @property
    def _english_words(self) -> frozenset[str]:
        """Words that are English whatever else they are: the question filler and the words
        of the catalog's titles, categories and tags."""
        found = self.__dict__.get("_english_word_set")
        if found is None:
            found = self.__dict__["_english_word_set"] = _FILLER | self.snap.name_words
        return found

    def _kinds_of(self, pid: str) -> list[str]:
        """The kind its title names ("cooler" for the Icebox 45 Hard Cooler)."""
        from shopbot.catalog_index import title_head

        head = title_head(self._title(pid))
        return [head] if head else []

    def _relative(self, own: Constraints, pid: str) -> Constraints | None:
        """"smaller" than the product ``pid``: a bound at its own value of what the sort is
        on, ordered closest first; None when it has no such value."""
        import math

        from shopbot.constraints import Measure
        from shopbot.vocabulary import SIZE_DIMENSIONS

        position = self.snap.records.get(pid)
        if position is None:
            return None
        dimension = own.sort_dimension
        dimensions = SIZE_DIMENSIONS if dimension == "size" else (dimension,)
        for name in dimensions:
            value = self.snap.measure(name, own.sort_label)[position]
            if not math.isnan(value):
                break
        else:
            return None
        down = not own.sort_descending  # "smaller", "cheaper", "lighter"
        out = Constraints.from_dict(own.to_dict())
        word = own.sort_text or ("cheaper" if down else "more expensive")
        word = {"cheapest": "cheaper", "most expensive": "more expensive"}.get(word, word)
        step = max(abs(value) * 1e-6, 0.005)
        bound = Measure(name, None if down else value + step, value - step if down else None,
                        own.sort_label, f"{word} than the {self._title(pid)}", relative=True)
        out.measures = [*out.measures, bound]
        # The closest to it first: the biggest of the smaller ones.
        out.sort = f"{name}_{'desc' if down else 'asc'}"
        out.sort_text = f"closest {word}"
        return out

    def _listed_before(self, history: Sequence[Turn]) -> list[list[str]]:
        """The products each of the last three answers named, the latest answer first."""
        answers = [t.content for t in reversed(history) if t.role == "assistant"][:3]
        return [self.snap.named_products(a) for a in answers]

    def _answered(self, history: Sequence[Turn]) -> list[str]:
        """The product the last answer was about, when it was about one ("The cheapest of
        the 24 shorts we have is the Arcadio Gym Short...", "The Juno Jacket costs...")."""
        last = next((t.content for t in reversed(history) if t.role == "assistant"), "")
        first = re.split(r"(?<=[.!?])\s|\n", last.strip(), maxsplit=1)[0]
        named = self.snap.named_products(first)
        if re.match(r"The [\w -]+? of the \d+ ", first):  # "The cheapest of the 24 ... is the X"
            return named[-1:]
        return named[:1] if first.startswith("The ") else []

    def _context(self, turns: list[str]) -> str:
        """The earlier turns a follow-up refers to: back to the last one that names its own
        subject (a product, a kind, a category), three turns at most."""
        context: list[str] = []
        for earlier in reversed(turns[-3:]):
            context.insert(0, earlier)
            own = parse(earlier, self.snap.facets, names=self._not_filters(earlier))
            if self.named(earlier, own.text) or self.kinds(own.text) or own.categories:
                break
        return " — ".join(context)

    def _with_remembered(
        self, own: Constraints, remembered: Constraints | None, follow_up: bool,
        kinds: list[str], same_budget: bool,
    ) -> tuple[Constraints, list[str], list[str]]:
        """The question's constraints plus the remembered ones that make sense for it."""
        if not remembered:
            return own, [], []
        kept = Constraints.from_dict(remembered.to_dict())
        if not follow_up:
            # A new subject: a colour, a brand and measured bounds were about the old one;
            # a budget only when referred to; a size only where the new kind has it.
            kept.colours, kept.brands, kept.measures = set(), set(), []
            if not same_budget:
                kept.price_min = kept.price_max = None
            if kept.sizes and not self._offered_sizes(own, kinds, kept.sizes):
                kept.sizes = set()
        elif kept.sizes and (kinds or own.categories) and not self._offered_sizes(
                own, kinds, kept.sizes):
            kept.sizes = set()
        merged = remember(kept, own)
        before = set(remembered.chips())
        own_chips = set(own.chips())
        after = set(merged.chips())
        used = [c for c in remembered.chips() if c in after and c not in own_chips]
        dropped = [c for c in remembered.chips() if c not in after and c in before]
        return merged, used, dropped

    def _offered_sizes(self, own: Constraints, kinds: list[str], sizes: set[str]) -> bool:
        """Whether products of the asked kind (or category) come in one of ``sizes``."""
        import numpy as np

        snap = self.snap
        pool = snap.kind_mask(kinds) if kinds else snap.is_product.copy()
        if own.categories:
            pool &= snap.record_mask(Constraints(categories=set(own.categories),
                                                 category_paths=set(own.category_paths)))
        probe = Constraints(sizes=set(sizes))
        return any(snap.fits(int(i), probe) for i in np.flatnonzero(pool)[:400])

    def _feature_clause(self, text: str, kinds: list[str], products: list[str]) -> str:
        """The clause after the kind that says what it must have or do ("shorts *with a
        built in liner or brief*", "a power bank *that can charge a laptop*"), or ""."""
        if products or not kinds:
            return ""
        from shopbot.catalog_index import kind_key

        for match in re.finditer(r"[^\W\d_][\w'-]*", text):
            if kind_key(match.group(0)) in kinds:
                rest = text[match.end():]
                clause = _FEATURE_CLAUSE.match(rest)
                if clause:
                    return clause.group("what")
        return ""

    def _features(self, clause: str, kinds: list[str]) -> list[str]:
        """The head word of each alternative of a feature clause ("liner or brief": liner,
        brief), as the keyword index spells it; only words the catalog's products use."""
        from shopbot.catalog_index import keyword_tokens, kind_key

        from shopbot.vocabulary import dimension_of_word, unit_of

        vocab = self.snap.product_vocabulary
        found = []
        for part in re.split(r"\bor\b|/|,", clause):
            # "with a comfort rating of -5 °C", "with 2500 W output": a measured bound
            # (shopbot.constraints), no word to look for.
            words = [w for w in keyword_tokens(part)
                     if w not in _FILLER and kind_key(w) not in kinds and not w.isdigit()
                     and len(w) > 2 and dimension_of_word(w) is None and unit_of(w) is None
                     and not any(ch.isdigit() for ch in w)]
            if words and words[-1] in vocab:
                found.append(words[-1])
        return list(dict.fromkeys(found))

    def _must_have(self, text: str, kinds: list[str], products: list[str],
                   applied: Constraints | None = None) -> list[str]:
        """The other words of a list question a fitting product must have ("rain" of "rain
        jackets"), as the keyword index spells them; only words the catalog uses."""
        if products:
            return []
        from shopbot.catalog_index import keyword_tokens

        from shopbot.catalog_index import kind_key

        from shopbot.vocabulary import option_kind

        vocab = self.snap.product_vocabulary
        skip = set(kinds) | _FILLER
        # Words the constraints read already (a brand, a colour, a category) are filters,
        # not words to look for: "Ridgeline daypacks" are the daypacks of that brand,
        # whether or not their tags say "ridgeline".
        toks = tokens(text)
        for start, end, kind, value in self.snap.facets.lookup(toks):
            if applied is not None and value not in {
                    *applied.categories, *applied.brands, *applied.colours, *applied.sizes}:
                continue  # read but not applied ("not quilts", a category it ruled out)
            skip.update(toks[start:end])
        return [w for w in dict.fromkeys(keyword_tokens(text))
                if w not in skip and kind_key(w) not in skip and w in vocab
                and not w.isdigit() and len(w) > 2
                and option_kind(w) not in ("colour", "size")]  # "what colours": no word

    def _intent(self, u: Understanding, question: str, topic: bool) -> str:
        c = u.constraints
        if len(u.products) > 1 and (_COMPARE.search(question) or _COMPARED_TO.search(question)):
            return "compare"
        if u.products:
            return "lookup"
        if u.accessory_of:
            if not self._accessories(u.kinds, u.accessory_of):
                spans = self.snap.name_spans(question)
                before = re.sub(r"\bfor\s+\w*\s*$", "", question[: spans[0][0]]).strip()
                wanted = " ".join(w for w in before.split() if w.lower() not in _FILLER)
                u.unknown = [f"{wanted or u.kinds[0]} for the {self._title(u.accessory_of)}"]
                return "not_sold"
            return "list"
        if not u.kinds and not c.categories and not topic and _SELL_CUE.search(question) \
                and self._unsold_words(question):
            return "not_sold"  # "do you sell handbags?", whatever was asked before
        if u.kinds and u.words and not u.follow_up and _THE_ONE.search(question) \
                and not self._plural_kind(question, u.kinds):
            # "how much is the Camp Mug": one product by a name no product of that kind has.
            name = " ".join(w for w in _before_kind(question, u.kinds,
                                                    self.snap.name_words).split()
                            if not self.snap.facets.lookup([w.lower()]))
            titles = (self.snap.chunks[int(i)].product for i in self._kind_positions(u.kinds))
            if name and not any(_spells(name, p.title) for p in titles if p is not None):
                u.unknown = [f"{name} {u.kinds[0]}".strip()]
                return "not_sold"
        if topic and not _LIST_CUE.search(question) and not c.sort:
            return "policy"  # "what's your warranty on stoves?"
        if _SIZE_ADVICE.search(question) and not c.sort:
            return "policy"  # "I'm 190 cm, which sleeping bag size do I need?": the guide
        if c.sort and (u.kinds or c.categories or c.filters):
            return "superlative"
        listing = (self._plural_kind(question, u.kinds) or bool(_LIST_CUE.search(question))
                   or bool(c.measures) or c.price_min is not None or c.price_max is not None)
        if (u.kinds or c.categories or c.brands) and listing:
            return "list"
        if (c.categories or c.brands) and not u.kinds:
            return "list"  # "orange clothing", "Kestrel Peak gear": a set of products
        if topic:
            return "policy"
        if not u.kinds and not c.filters and not u.follow_up:
            unknown = [w for w in self.unknown_words(question) if not self._typo(w)]
            content = [w for w in re.findall(r"[^\W\d_][\w'-]*", question)
                       if w.lower() not in _FILLER]
            if unknown and len(unknown) * 2 <= max(len(content), 2):
                # "womens swimsuit?": a word no product or page uses (not a typo of one).
                # Most words unknown is another language: the search decides then.
                return "not_sold"
            if _SELL_CUE.search(question) and self._unsold_words(question):
                return "not_sold"
        return "search"

    def _typo(self, word: str) -> bool:
        """Whether ``word`` is one typo away from a word of the catalog's product names."""
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        word = word.lower()
        if len(word) < 4:
            return False
        limit = 2 if len(word) >= 7 else 1
        return process.extractOne(word, self._name_vocabulary, scorer=OSA.distance,
                                  score_cutoff=limit) is not None

    @property
    def _name_vocabulary(self) -> list[str]:
        found = self.__dict__.get("_name_vocabulary_list")
        if found is None:
            found = self.__dict__["_name_vocabulary_list"] = sorted(self.snap.name_words)
        return found

    def _accessory(self, question: str, pid: str) -> list[str]:
        """The kinds asked for in "<kind> for the <named product>" when they are not what
        that product is ("replacement poles for the Alpine 2 tent"), else []."""
        spans = self.snap.name_spans(question)
        if not spans:
            return []
        before = question[: spans[0][0]]
        if not re.search(r"\bfor\s+(?:the\s+|my\s+|a\s+|an\s+|your\s+)?$", before, re.I):
            return []
        position = self.snap.records.get(pid)
        own = self.snap.kinds[position] if position is not None else frozenset()
        return [k for k in self.kinds(before) if k not in own]

    def _accessories(self, kinds: list[str], pid: str) -> list[int]:
        """Products of ``kinds`` whose text names the product ``pid`` (its title's words)."""
        import numpy as np

        title = tokens(self._title(pid))
        words = [w for w in title if w not in self.snap.kind_words]
        pool = [int(i) for i in np.flatnonzero(self.snap.kind_mask(kinds))]
        named = self.snap.containing_all(words, pool) if words else []
        if named:
            return named
        # None names it: those made for its kind ("a repair kit for the Alpine 2 tent": the
        # tent repair kit, which says it fixes a tent).
        kind = [w for w in title[-1:] if w in self.snap.kind_words]
        return self.snap.called_all(kind, pool) if kind else []

    def _title(self, pid: str) -> str:
        position = self.snap.records.get(pid)
        product = self.snap.chunks[position].product if position is not None else None
        return product.title if product is not None else pid

    def _plural_kind(self, question: str, kinds: list[str]) -> bool:
        """Whether the question names a kind in the plural ("tents", "hoodies")."""
        from shopbot.catalog_index import kind_key

        return any(kind_key(w) in kinds and singular(w) != w
                   for w in re.findall(r"[a-z]+", question.lower()))

    def _kind_positions(self, kinds: list[str]):
        import numpy as np

        return np.flatnonzero(self.snap.kind_mask(kinds))

    def _unsold_words(self, question: str) -> list[str]:
        """Nouns asked for that no product's title, category or tags use ("kayaks" in a shop
        whose sandal is "for kayak trips"): things the shop does not sell."""
        from shopbot.catalog_index import keyword_tokens

        rest = _SELL_CUE.sub(" ", question)
        out = []
        for word in re.findall(r"[^\W\d_][\w'-]*", rest):
            keys = [k for k in keyword_tokens(word) if k not in _FILLER and len(k) > 2]
            if keys and word.lower() not in _FILLER and not any(
                    k in self.snap.name_words for k in keys):
                out.append(word)
        return out

    def _known_content(self, question: str) -> bool:
        """Whether the question has a content word the catalog's products or passages use."""
        from shopbot.catalog_index import keyword_tokens

        vocab = self.snap._vocab if self.snap._bm25 is not None else {}
        return any(w in vocab for w in keyword_tokens(question)
                   if w not in _FILLER and len(w) > 2 and not w.isdigit())


# "not the kids one", "no kids", "without a hood", "except the women's": words to leave out.
_NEGATED = re.compile(
    r"\b(?:not|no|without|except|excluding|besides|other\s+than)\s+(?:the\s+|a\s+|an\s+|any\s+)?"
    r"([\w'-]+(?:\s+(?:or|nor)\s+(?:the\s+|a\s+|an\s+|any\s+)?[\w'-]+)*)", re.I)


def _keywords(text: str) -> list[str]:
    from shopbot.catalog_index import keyword_tokens

    return [w for w in keyword_tokens(text) if w not in _FILLER]


_THE_ONE = re.compile(r"\bthe\b", re.I)
_SELL_CUE = re.compile(r"\b(?:do|does|can)\s+(?:you|u|ya|i|we)\s+(?:guys\s+|all\s+|folks\s+)?"
                       r"(?:sell|have|carry|stock|offer|buy|get)"
                       r"\b|\bany\b", re.I)
_COMPARE = re.compile(r"\b(?:compare|comparison|vs\.?|versus|or|and|differen\w*|better|"
                      r"cheaper|lighter|heavier|warmer|bigger|which)\b", re.I)
# The words of a question that may spell a product's name: after "the", "is", "of"...
_NAME_LEAD = re.compile(
    r"^.*?\b(?:the|of|is|about|for|does|do\s+you\s+have|price\s+on|price\s+of)\s+", re.I
)


def _as_written(question: str, phrase: str) -> str:
    """``phrase`` with the letter case the shopper wrote it in ("Camp Mug")."""
    if not phrase:
        return ""
    pattern = r"\W+".join(re.escape(w) for w in phrase.split())
    found = re.search(pattern, question, re.I)
    return found.group(0) if found else phrase


def _before_kind(text: str, kinds: list[str], name_words: frozenset[str] = frozenset()) -> str:
    """The capitalised name between "the" and a capitalised kind noun: "Camp" of "how much
    is the Camp Mug" ("the women's tee" names no product: it describes one); or, written in
    lower case, a model name: words of the shop's product names and a number ("the summit
    expedition 3 tent")."""
    words = re.findall(r"[\w'-]+", text)
    for i, word in enumerate(words):
        if singular(word.lower()) in kinds:
            start = max((j for j in range(i) if words[j].lower() == "the"), default=None)
            name = words[start + 1:i] if start is not None else []
            model = bool(name) and any(w.isdigit() for w in name) and all(
                w.isdigit() or singular(w.lower()) in name_words for w in name)
            if not model and (not word[:1].isupper() or not name or
                              not all(w[:1].isupper() or w[:1].isdigit() for w in name)):
                return ""
            return " ".join(w for w in name if w.lower() not in _FILLER)
    return ""


def _spells(phrase: str, title: str) -> bool:
    """Whether every word of ``phrase`` is a word of ``title``, or one typo away from one
    ("alpin 2 tnet" spells "Alpine 2 Tent"; "wash down jacket" does not spell "Ember Down
    Jacket")."""
    from rapidfuzz.distance import OSA

    raw = re.findall(r"[a-z0-9]+", title.lower())
    title_words = set(raw) | set(tokens(title))
    for word in re.findall(r"[a-z0-9]+", phrase.lower()):
        if word in _FILLER or word in title_words or singular(word) in title_words:
            continue
        limit = 2 if len(word) >= 7 else 1 if len(word) >= 4 else 0
        if not limit or not any(OSA.distance(word, t) <= limit for t in title_words):
            return False
    return True


def _name_phrase(text: str) -> str:
    """The part of a question that may be a product's name ("alpin 2 tnet" of "how much is
    the alpin 2 tnet"): the words after its lead-in, without the filler."""
    rest = _NAME_LEAD.sub("", text, count=1)
    words = [w for w in re.findall(r"[\w'-]+", rest) if w.lower() not in _FILLER]
    return " ".join(words[:6])





__all__ = ["INTENTS", "QuestionReader", "Understanding", "basic"]
