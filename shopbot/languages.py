"""Other languages, read as English: a shopper who writes in German, Spanish or French gets
the products and facts an English question gets.

No translation model runs here (nothing is downloaded at run time, and the embedding model
is English-only), so a question is turned into English phrase by phrase from a lexicon of
general shopping language (:mod:`shopbot.lexicons`): how questions are asked, superlatives
and bounds, numbers, units and currencies, stock, policy topics, colours and sizes, and the
things general retail sells. Plurals and adjective endings are stripped before a word is
looked up (and a plural noun stays plural in English: "Zelte" -> "tents"), German compounds
are split on known parts ("Daunenjacken" -> "down jackets"), and Spanish and French
adjectives move in front of their noun ("la tente la plus légère" -> "the lightest tent").
Product names and SKUs pass through untouched: the caller says where they are (the catalog's
title index knows them), and a word the lexicon lacks passes through as written, so a
misspelt name still reaches the name matcher.

The language is told by py3langid (its model ships in the wheel), restricted to English,
German, Spanish and French, and trusted only when the lexicon also finds words of that
language that are not English words; a short follow-up ("Und in Rot?") keeps the language of
the conversation when it has words of it. English questions are never rewritten.

Answers are composed in English: :func:`english_note` is their first line, in the shopper's
language (a generator that writes in the shopper's language leaves it out).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

ENGLISH = "en"
#: The languages read besides English, by ISO 639-1 code.
LANGUAGES = {"de": "German", "es": "Spanish", "fr": "French"}

# The first line of an answer composed in English for a shopper who wrote in another language.
_NOTES = {
    "de": "Hinweis: Ich antworte auf Englisch.",
    "es": "Nota: le respondo en inglés.",
    "fr": "Remarque : je vous réponds en anglais.",
}


def english_note(language: str) -> str:
    """The line that tells a shopper, in their language, that the answer is in English; ""
    for English."""
    return _NOTES.get(language, "")


def without_note(text: str) -> str:
    """An answer without the note it opens with (an earlier answer read again as context)."""
    stripped = text.lstrip()
    for note in _NOTES.values():
        if stripped.startswith(note):
            return stripped[len(note):].lstrip()
    return text


def answer_instruction(language: str, original: str) -> str:
    """What an LLM is told about a question asked in another language: its own words, and to
    answer in that language ("" for English)."""
    name = LANGUAGES.get(language)
    if not name:
        return ""
    return (f'The shopper wrote in {name}: "{" ".join(original.split())}" (the question below '
            f"is its English reading). Answer in {name}; keep product names, prices and "
            "numbers as the sources write them.")


@dataclass(frozen=True)
class Reading:
    """A question as read: ``text`` in English (the shopper's own words when they wrote in
    English), the language they wrote in and their own words."""

    text: str
    language: str
    original: str

    @property
    def translated(self) -> bool:
        return self.language != ENGLISH


def read(text: str, keep: Sequence[tuple[int, int]] = (), english: Collection[str] = (),
         earlier: str = ENGLISH) -> Reading:
    """``text`` in English. ``keep``: (start, end) spans that pass through untranslated
    (product names, SKUs); ``english``: words that are English whatever else they are (the
    catalog's own words); ``earlier``: the language of the conversation so far."""
    language = detect(text, keep, english, earlier)
    if language == ENGLISH:
        return Reading(text, ENGLISH, text)
    return Reading(to_english(text, language, keep), language, text)


# -- telling the language -------------------------------------------------------------------

_COMMON_ENGLISH = frozenset(
    """a an the and or but not no yes so as at by to of in on for from with without about is
    are was were be been do does did have has had can could would should will may i me my we
    our you your it its they them their this that these those there here what which who how
    when where why much many more most less least any some all one ones please thanks hi
    hello show tell need want looking look sell buy get got price prices cost costs size
    sizes stock under over than also only just very too up down out new best good""".split())

_identifier: Any = None
_identifier_lock = threading.Lock()


def _classify(text: str) -> tuple[str, float]:
    """(language, probability) by py3langid over English, German, Spanish and French."""
    global _identifier
    if _identifier is None:
        with _identifier_lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                identifier.set_languages([ENGLISH, *LANGUAGES])
                _identifier = identifier
    language, probability = _identifier.classify(text)
    return str(language), float(probability)


def detect(text: str, keep: Sequence[tuple[int, int]] = (), english: Collection[str] = (),
           earlier: str = ENGLISH) -> str:
    """The language ``text`` is written in: "de", "es", "fr" or "en" (see :func:`read` for
    the arguments). Another language needs words of it that are not English words; then
    the language model decides, or the lexicon alone when nearly every word is of one
    language, or the conversation's language when the text has words of it."""
    free = " ".join(text[start:end] for start, end in _free_spans(text, keep))
    # A lone letter ("K" of a SKU "K-0473", "à") is no evidence of a language.
    words = [fold(w) for w in re.findall(r"[^\W\d_]+", free) if len(w) > 1]
    foreign = [w for w in words if not _is_english(w, english)]
    if not foreign:
        return ENGLISH
    evidence = {lang: sum(1 for w in foreign if _lexicon(lang).knows(w)) for lang in LANGUAGES}
    best = max(evidence, key=lambda lang: (evidence[lang], lang == earlier))
    if not evidence[best]:
        return ENGLISH
    for language, letters in _LETTERS.items():
        if evidence[language] and any(ch in letters for ch in free.lower()):
            return language  # "¿Venden kayaks?": written as only Spanish is
    guess, probability = _classify(" ".join(free.split()))
    if guess != ENGLISH and (evidence[guess] >= 2 or (evidence[guess] and probability >= 0.9)):
        return guess
    if earlier in LANGUAGES and evidence[earlier] and not (guess == ENGLISH
                                                          and probability >= 0.9):
        return earlier  # "Und in Rot?" after a German question
    if evidence[best] * 2 > len(words) and (evidence[best] >= 2 or len(words) == 1):
        return best  # "mochilas": too short for the model, every word Spanish
    return ENGLISH


# Letters only one of the languages writes (outside names, which are taken out first).
_LETTERS = {"es": "¿¡ñ", "de": "ßäö", "fr": "çœêèëîïôûù"}


def _is_english(word: str, english: Collection[str]) -> bool:
    if word in _COMMON_ENGLISH or word in english:
        return True
    return len(word) > 3 and word.endswith("s") and word[:-1] in english


# -- turning a question into English --------------------------------------------------------


def fold(word: str) -> str:
    """A word as the lexicon compares it: lower case, without accents, ß as ss."""
    return _fold(word)


@lru_cache(maxsize=50_000)
def _fold(word: str) -> str:
    lowered = word.lower().replace("ß", "ss").replace("’", "'")
    return "".join(c for c in unicodedata.normalize("NFKD", lowered)
                   if not unicodedata.combining(c))


@dataclass(frozen=True)
class _Entry:
    """What a lexicon key means: its English, what sort of word it is ("n" noun, "a"
    adjective, "u" unit, "x" anything else), its English comparative and superlative (an
    adjective that has them), and "c" or "s" when the key itself is a comparative or a
    superlative ("leichter", "moins cher")."""

    english: str
    tag: str = "x"
    degrees: tuple[str, str] | None = None
    degree: str = ""
    # Used instead of ``english`` inside a sentence before an article ("¿cuántos años de
    # garantía tienen los sacos?": have, not "do you have").
    before_article: str = ""


class _Lexicon:
    """One language's phrases, by their folded words."""

    def __init__(self, language: str, text: str) -> None:
        self.language = language
        self.phrases: dict[str, list[tuple[tuple[str, ...], _Entry]]] = {}
        self.words: set[str] = set()  # every word of every key: evidence of the language
        section = "x"
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                continue
            foreign, _, english = (part.strip() for part in line.partition("="))
            if not english:
                raise ValueError(f"{language} lexicon: no English in {raw!r}")
            self._add(section, foreign, english)
        for entries in self.phrases.values():
            entries.sort(key=lambda e: -len(e[0]))

    def _add(self, section: str, foreign: str, english: str) -> None:
        tag = {"noun": "n", "adjective": "a", "unit": "u", "comparative": "a"}.get(section, "x")
        english, _, before_article = (p.strip() for p in english.partition("|"))
        groups = [g.strip() for g in foreign.split("/")]
        forms = [f.strip() for f in english.split("/")]
        if section == "comparative":  # "moins cher = cheaper / cheapest"
            entry = _Entry(forms[0], tag, (forms[0], forms[-1]), "c")
            for key in groups[0].split(","):
                self._key(key, entry)
            return
        if len(groups) == 3 and len(forms) == 3:  # "leicht / leichter / leichtest"
            for keys, form, degree in zip(groups, forms, ("", "c", "s"), strict=True):
                entry = _Entry(form, tag, (forms[1], forms[2]) if not degree else None, degree)
                for key in keys.split(","):
                    self._key(key, entry)
            return
        degrees = (forms[1], forms[2]) if len(forms) == 3 else None
        entry = _Entry(forms[0], tag, degrees, before_article=before_article)
        for key in foreign.split(","):
            self._key(key, entry)

    def _key(self, key: str, entry: _Entry) -> None:
        words = tuple(fold(w) for w in _words_of(key))
        if not words:
            return
        self.phrases.setdefault(words[0], []).append((words, entry))
        self.words.update(words)

    def knows(self, word: str) -> bool:
        return any(form in self.words for form, _ in _forms(self.language, word))

    def entry(self, word: str, tags: str = "nau") -> tuple[_Entry, bool] | None:
        """The one-word entry of ``word`` (folded) of those tags, and whether ``word`` was a
        plural of it."""
        for form, plural in _forms(self.language, word):
            for words, entry in self.phrases.get(form, ()):
                if len(words) == 1 and entry.tag in tags:
                    return entry, plural
        return None


def _words_of(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+'?|\d+", text.replace("’", "'"))


@lru_cache(maxsize=8)
def _lexicon(language: str) -> _Lexicon:
    from shopbot.lexicons import LEXICONS

    return _Lexicon(language, LEXICONS[language])


# Endings stripped before a word is looked up: (ending, replacement, whether it made a plural).
_ENDINGS = {
    "de": (("ern", "", True), ("en", "", True), ("er", "", True), ("es", "", False),
           ("em", "", False), ("e", "", True), ("n", "", True), ("s", "", True)),
    "es": (("ces", "z", True), ("es", "", True), ("s", "", True), ("as", "o", False),
           ("os", "o", False), ("a", "o", False)),
    "fr": (("aux", "al", True), ("s", "", True), ("x", "", True), ("eres", "er", False),
           ("ere", "er", False), ("euses", "eux", False), ("euse", "eux", False),
           ("ves", "f", False), ("ve", "f", False), ("ches", "c", False), ("che", "c", False),
           ("nnes", "n", False), ("nne", "n", False), ("elles", "el", False),
           ("elle", "el", False), ("gues", "g", False), ("gue", "g", False), ("es", "", False),
           ("e", "", False)),
}


@lru_cache(maxsize=50_000)
def _forms(language: str, word: str) -> tuple[tuple[str, bool], ...]:
    """``word`` (folded) and the forms it may be an inflection of, the word itself first."""
    found = [(word, False)]
    for ending, replacement, plural in _ENDINGS[language]:
        if word.endswith(ending) and len(word) - len(ending) >= 2:
            found.append((word[: len(word) - len(ending)] + replacement, plural))
    return tuple(dict.fromkeys(found))


@dataclass
class _Token:
    text: str
    kind: str  # "word", "num", "sym", "punct", "name"
    start: bool = False  # the first word of a sentence


@dataclass
class _Unit:
    """A piece of the English reading: what it says and what sort of piece it is ("n", "a",
    "u", "x" as in _Entry; "w" a word passed through; "num", "sym", "punct", "name")."""

    text: str
    tag: str
    key: str = ""  # the folded foreign words it came from
    entry: _Entry | None = None
    plural: bool = False
    start: bool = False

    @property
    def content(self) -> bool:
        return self.tag in ("n", "a", "u", "w", "num", "sym", "name") or self.text in (
            "more", "less")


_TOKEN = re.compile(
    r"(?P<num>(?<![\w.])[-−]?\d+(?:\.\d+)?)"
    r"|(?P<sym>°\s?[CFcf](?![\w])|[$€£%°+<>–])"
    r"|(?P<word>[^\W\d_]+'?)"
    r"|(?P<punct>[?!.,;:()\"/])"
)
_ARTICLES = frozenset({"the"})
_MORE = {"es": "mas", "fr": "plus"}
_LESS = {"es": "menos", "fr": "moins"}
_THAN = {"es": "que", "fr": "que"}
_IRREGULAR_PLURALS = {"knife": "knives", "shelf": "shelves", "kids": "kids", "fish": "fish",
                      "grill grate": "grill grates"}


def to_english(text: str, language: str, keep: Sequence[tuple[int, int]] = ()) -> str:
    """``text`` (German, Spanish or French) in English; the ``keep`` spans as written."""
    if language not in LANGUAGES:
        return text
    lexicon = _lexicon(language)
    tokens: list[_Token] = []
    position = 0
    for start, end in _merged(keep):
        tokens.extend(_tokens(_prepare(text[position:start], language)))
        tokens.append(_Token(text[start:end], "name"))
        position = end
    tokens.extend(_tokens(_prepare(text[position:], language)))
    _mark_sentence_starts(tokens)
    units = _units(tokens, lexicon)
    if language in ("es", "fr"):
        units = _romance_order(units, language)
    _articles_and_verbs(units, language)
    return _joined(units)


def _merged(keep: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans in order, overlapping ones (a name that holds a code) merged into one."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(keep):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _free_spans(text: str, keep: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    spans, position = [], 0
    for start, end in _merged(keep):
        spans.append((position, start))
        position = end
    spans.append((position, len(text)))
    return spans


def _prepare(text: str, language: str) -> str:
    """Numbers written the continental way ("19,95", "1.299") and forms the lexicon reads
    better spelt out ("2-Personen-Zelt", "l'Alpine")."""
    text = text.replace("’", "'").replace("¿", " ").replace("¡", " ")
    text = re.sub(r"(\d),(\d{1,2})(?!\d)", r"\1.\2", text)
    text = re.sub(r"(\d)\.(\d{3})(?!\d)", r"\1\2", text)
    text = re.sub(r"(\d)\s*[-–—]\s*(\d)", r"\1 – \2", text)  # a range, not a minus
    if language == "de":
        text = re.sub(r"\bgibt's\b", "gibt es", text, flags=re.I)
        text = re.sub(r"\b(\d+)\s*-?\s*(?:personen|person|mann|pers\.?)\s*-\s*([^\W\d_]+)",
                      r"\2 für \1 Personen", text, flags=re.I)
    if language == "fr":
        text = re.sub(r"\b(qu|[cdjlmnst])'", r"\1' ", text, flags=re.I)
        text = re.sub(r"-t-", " ", text)
    if language in ("es", "fr"):  # "tienda de 2 plazas", "tente 2 places": for 2 people
        text = re.sub(r"\b(?:(?:de|à|a|para|pour)\s+)?(\d+)\s+(personas|plazas|personnes|places)\b",
                      r"para \1 \2" if language == "es" else r"pour \1 \2", text, flags=re.I)
    return text


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.group(0).replace("−", "-"), m.lastgroup or "word")
            for m in _TOKEN.finditer(text)]


def _mark_sentence_starts(tokens: list[_Token]) -> None:
    starting = True
    for token in tokens:
        if token.kind == "punct":
            starting = starting or token.text in "?!.;:"
            continue
        token.start = starting
        starting = False


def _units(tokens: list[_Token], lexicon: _Lexicon) -> list[_Unit]:
    units: list[_Unit] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind != "word":
            units.append(_Unit(token.text, token.kind, start=token.start))
            i += 1
            continue
        found = _longest(tokens, i, lexicon)
        if found is not None:
            size, key, entry, plural = found
            units.append(_Unit(entry.english, entry.tag, key, entry, plural, tokens[i].start))
            i += size
            continue
        word = fold(token.text)
        if lexicon.language == "de" and len(word) >= 6:
            split = _compound(word, lexicon)
            if split is not None:
                english, plural = split
                units.append(_Unit(english, "n", word, None, plural, token.start))
                i += 1
                continue
        units.append(_Unit(token.text.rstrip("'"), "w", word, start=token.start))
        i += 1
    for unit in units:
        if unit.tag == "n" and unit.plural:
            unit.text = _plural(unit.text)
    return units


def _longest(tokens: list[_Token], i: int,
             lexicon: _Lexicon) -> tuple[int, str, _Entry, bool] | None:
    """The longest phrase of the lexicon that starts at word ``i``: (words, key, entry,
    plural); an exact spelling wins over an inflected one of the same length."""
    best: tuple[int, int, str, _Entry, bool] | None = None
    first_forms = _forms(lexicon.language, fold(tokens[i].text))
    for first, first_plural in first_forms:
        for words, entry in lexicon.phrases.get(first, ()):
            if best is not None and len(words) < best[0]:
                break
            plural, inflected = first_plural, int(first != first_forms[0][0])
            for offset, wanted in enumerate(words[1:], start=1):
                j = i + offset
                if j >= len(tokens) or tokens[j].kind != "word":
                    break
                forms = dict(_forms(lexicon.language, fold(tokens[j].text)))
                if wanted not in forms:
                    break
                plural = plural or forms[wanted]
                inflected += int(wanted != fold(tokens[j].text))
            else:
                candidate = (len(words), -inflected, " ".join(words), entry, plural)
                if best is None or candidate[:2] > best[:2]:
                    best = candidate
    if best is None:
        return None
    size, _, key, entry, plural = best
    return size, key, entry, plural


_LINKS = ("", "s", "es", "n", "en", "er", "e")


def _compound(word: str, lexicon: _Lexicon) -> tuple[str, bool] | None:
    """A German compound read from its parts: the longest known noun it ends with, and
    known words before it ("daunenjacken" -> ("down jackets", plural))."""
    for cut in range(3, len(word) - 2):
        head = lexicon.entry(word[cut:], "n")
        if head is None:
            continue
        parts = _parts(word[:cut], lexicon)
        if parts is not None:
            entry, plural = head
            return " ".join([*parts, entry.english]), plural
    return None


def _parts(word: str, lexicon: _Lexicon, depth: int = 0) -> list[str] | None:
    """The English of the known words ``word`` is made of, a linking "s" or "en" allowed
    after each ("expeditions" -> ["expedition"]), or None."""
    if depth > 3 or len(word) < 3:
        return None
    for link in _LINKS:
        if link and not word.endswith(link):
            continue
        stem = word[: len(word) - len(link)] if link else word
        found = len(stem) >= 3 and _modifier(stem, lexicon)
        if found:
            return [found]
    for cut in range(len(word) - 3, 2, -1):
        first = _parts(word[:cut], lexicon, depth + 1)
        if first is None:
            continue
        rest = _parts(word[cut:], lexicon, depth + 1)
        if rest is not None:
            return [*first, *rest]
    return None


def _modifier(word: str, lexicon: _Lexicon) -> str:
    for words, entry in lexicon.phrases.get(word, ()):
        if len(words) == 1 and entry.tag in "nau":
            return entry.english
    return ""


def _plural(noun: str) -> str:
    """The English plural of a noun phrase (its last word)."""
    if noun in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[noun]
    head, _, last = noun.rpartition(" ")
    if last.endswith("s") or last in ("gear", "equipment", "clothing", "footwear", "cookware",
                                      "underwear", "shipping", "delivery", "care"):
        plural = last
    elif last.endswith(("ch", "sh", "x", "z")):
        plural = last + "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        plural = last[:-1] + "ies"
    elif last == "knife":
        plural = "knives"
    else:
        plural = last + "s"
    return f"{head} {plural}".strip()


def _romance_order(units: list[_Unit], language: str) -> list[_Unit]:
    """Spanish and French word order made English: "más"/"plus" + adjective as a
    comparative, or a superlative after an article ("la tente la plus légère"); adjectives
    after a noun moved in front of it."""
    out: list[_Unit] = []
    i = 0
    while i < len(units):
        unit = units[i]
        following = units[i + 1] if i + 1 < len(units) else None
        marker = unit.key in (_MORE[language], _LESS[language])
        if marker and following is not None and following.entry is not None \
                and following.entry.degrees:
            more = unit.key == _MORE[language]
            superlative = _article_before(out)
            comparative, best = following.entry.degrees
            base = following.entry.english
            text = (best if superlative else comparative) if more else (
                f"least {base}" if superlative else f"less {base}")
            degree = "s" if superlative else "c"
            out.append(_Unit(text, "a", f"{unit.key} {following.key}|{degree}",
                             following.entry, start=unit.start))
            i += 2
            continue
        if unit.entry is not None and unit.entry.degree == "c" and unit.entry.degrees:
            if _article_before(out):
                unit = _Unit(unit.entry.degrees[1], "a", unit.key + "|s", unit.entry,
                             start=unit.start)
            else:
                unit = _Unit(unit.text, "a", unit.key + "|c", unit.entry, start=unit.start)
        if unit.key == _THAN[language] and out and out[-1].key.endswith("|c"):
            unit = _Unit("than", "x", unit.key, start=unit.start)
        out.append(unit)
        i += 1
    # Adjectives after their noun go in front of it, nearest last ("chaqueta impermeable
    # roja" -> "red waterproof jacket").
    ordered: list[_Unit] = []
    i = 0
    while i < len(out):
        unit = out[i]
        if unit.tag == "n":
            j = i + 1
            while j < len(out) and out[j].tag == "a":
                j += 1
            ordered.extend(reversed(out[i + 1:j]))
            ordered.append(unit)
            i = j
            continue
        ordered.append(unit)
        i += 1
    return ordered


def _article_before(out: list[_Unit]) -> bool:
    """Whether the degree word about to follow ``out`` has a definite article before it,
    directly ("la plus légère") or before its noun ("la tienda más ligera"): a superlative.
    The article between a noun and its superlative is dropped ("la tente la plus légère")."""
    if out and out[-1].text in _ARTICLES:
        if len(out) >= 2 and out[-2].tag == "n":
            out.pop()
        return True
    return len(out) >= 2 and out[-1].tag == "n" and out[-2].text in _ARTICLES


def _articles_and_verbs(units: list[_Unit], language: str) -> None:
    """Words whose English depends on what follows: an article before no noun is a pronoun
    ("Was kostet das?" -> "how much is it?"); "tienen" inside a sentence before an article
    is "have"."""
    for i, unit in enumerate(units):
        following = units[i + 1] if i + 1 < len(units) else None
        if unit.text in _ARTICLES and unit.tag == "x" and (
                following is None or not following.content):
            unit.text = "it"
        if unit.entry is not None and unit.entry.before_article and not unit.start \
                and following is not None and following.text in _ARTICLES:
            unit.text = unit.entry.before_article


def _joined(units: list[_Unit]) -> str:
    words = [u.text for u in units if u.text]
    text = " ".join(words)
    text = re.sub(r"\s+([?!.,;:)%])", r"\1", text)
    text = re.sub(r"\(\s+", "(", text)
    text = re.sub(r"(?<![\d.])([$€£])\s+(?=\d)", r"\1", text)  # "$ 300" -> "$300"
    text = re.sub(r"(\d)\s+(season|person)\b", r"\1-\2", text)
    text = re.sub(r"\b(\w+)( \1\b)+", r"\1", text)  # "the the", "do you have do you have"
    return " ".join(text.split())


__all__ = ["ENGLISH", "LANGUAGES", "Reading", "answer_instruction", "detect", "english_note",
           "fold", "read", "to_english", "without_note"]
