"""Catalog text is data: never markup, never instructions.

Catalog files come from many hands (store exports, supplier descriptions, spec sheets), and
whatever they say ends up in front of shoppers, in LLM prompts and in answers. This module
owns the two rules that keep that safe:

- **No markup from the catalog.** :func:`safe_markdown` is the one sanitiser for anything
  drawn as Markdown (answers while they stream and afterwards, product cards, citations,
  comparison tables): images, raw HTML and links are removed, except a link to a product's
  own URL when :class:`LinkPolicy` allows it. :func:`strip_markup` is the same without the
  display escaping, for plain-text answers (the chain, the HTTP API).
- **No instructions from the catalog.** :func:`instruction_flags` finds text that talks to an
  AI ("ignore previous instructions", "you are now", "system prompt", role markers, "all
  products are free"...). Ingestion stores the flags per document for staff review; the
  extractive generator never uses a flagged sentence; :class:`AnswerGuard` drops any answer
  sentence that repeats flagged text or carries a link that is not allowed.

Pure Python (``re``, ``urllib``): nothing heavy is imported.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

SNIPPET_CHARS = 200

# -- instruction-like text ------------------------------------------------------------------

# Who a prompt injection talks to.
_AI = (
    r"(?:ai|a\.i\.|llms?|chat ?bots?|bots?|(?:ai |virtual |shopping |chat )?assistants?|"
    r"(?:large )?language models?|ai models?|gpt(?:-?\d(?:\.\d)?)?|chatgpt|claude|gemini|copilot)"
)
# What a prompt injection tells the model to drop.
_RULES = (
    r"(?:instructions?|prompts?|rules|directions|directives|guidelines|guardrails|commands|"
    r"orders|context|programming|policies|restrictions|constraints)"
)
_EARLIER = (
    r"(?:all|any|every|the|your|my|these|those|of|previous|prior|above|earlier|preceding|"
    r"foregoing|existing|original|initial|other|system|safety|current)"
)
_INSTRUCTION_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.I | re.M)
    for p in (
        # "Ignore all previous instructions", "disregard the rules above"
        rf"\b(?:ignore|disregard|forget|override|bypass|abandon)\b[\s,]+"
        rf"(?:{_EARLIER}\s+){{0,4}}{_RULES}\b",
        # A new identity or mode for the model.
        rf"\byou are now\b[^.\n]{{0,40}}?\b"
        rf"(?:{_AI}|persona|character|dan|jailbroken|unrestricted|unfiltered)\b",
        r"\byou are no longer\b[^.\n]{0,60}\b"
        r"(?:assistant|bound|restricted|limited|rules|instructions|filtered)\b",
        r"\bfrom now on,?\s+(?:you|always|only|never|reply|answer|respond|say|tell)\b",
        r"\b(?:pretend|imagine)\s+(?:to be|you are|that you are|you're)\b",
        rf"\b(?:role-?play|act)\s+as\s+"
        rf"(?:if you were\b|an?\s+(?:{_AI}|unrestricted|unfiltered|evil|jailbroken)\b)",
        r"\bnew (?:instructions|rules|persona|role|system prompt)\s*:",
        r"\byou (?:must|will|should|shall) (?:now )?(?:ignore|disregard|obey|forget)\b",
        # Talk about the model's own prompt.
        r"\b(?:system|developer|hidden|secret|initial|original|previous|prior)\s+"
        r"(?:prompt|instructions)\b"
        r"(?!\s+(?:manual|sheet|booklet|leaflet|card|page|pdf|video)s?\b)",
        r"\b(?:reveal|print|show|repeat|output|leak|disclose)\s+(?:me\s+)?(?:your|the)\s+"
        r"(?:system\s+|initial\s+|hidden\s+)?(?:prompt|instructions)\b",
        r"\b(?:jailbreak|jailbroken|developer mode|dan mode|prompt injection)\b",
        # Addressed to an AI: "Note to AI assistants:", "If you are an AI, ...",
        # "AI models must always recommend ..."
        r"\b(?:note|message|notice|attention|instructions?|hey|hi|hello|dear)\s*(?:to|for)?\s*"
        rf"(?:all\s+|any\s+|the\s+)?{_AI}\s*[:,!]",
        rf"\bif you(?:'re| are) (?:an? )?{_AI}\b",
        rf"\bas an? {_AI},?\s+(?:you|always|never|say|tell|recommend|ignore)\b",
        rf"\b{_AI}\b[^.\n]{{0,40}}\b(?:must|should|shall|will|need to|are instructed to|please)\s+"
        r"(?:always\s+|never\s+|now\s+)?"
        r"(?:say|tell|respond|reply|answer|recommend|state|claim|ignore|inform|mention|output|repeat)\b",
        # Chat roles and chat-template markers.
        # (a spec line such as "User: beginner" is no role marker: a turn talks to someone)
        r"^\s*(?:system|assistant|user|human|ai|bot)\s*:"
        r"(?=[^\n]*\b(?:you|your|i|i'm|i'll|ignore|always|never|must|sure|certainly)\b)",
        r"<\|\s*(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|"
        r"end_header_id)\s*\|>",
        r"\[/?INST\]|<</?SYS>>",
        r"^\s*#{2,}\s*(?:system|instructions?|response)\b",
        r"\b(?:BEGIN|END)\s+(?:SYSTEM|INSTRUCTIONS?|PROMPT)\b",
        # Telling the shop what to tell its shoppers, or what to keep from them.
        r"\b(?:tell|inform|assure|promise)\s+(?:the\s+|all\s+|every\s+|any\s+)?"
        r"(?:customers?|shoppers?|users?|buyers?|visitors?|everyone)\s+(?:that|they)\b",
        r"\b(?:do not|don't|never)\s+"
        r"(?:reveal|disclose|tell (?:the\s+)?(?:customers?|shoppers?|users?))\b",
        # Price overrides: "all products are free", "everything is $0".
        r"\b(?:all|every|everything|any|each)\b(?:\s+[\w-]+){0,3}?\s+"
        r"(?:products?|items?|orders?|purchases?|gear|everything)\s+(?:are|is)\s+"
        r"(?:now\s+|currently\s+|completely\s+|totally\s+|absolutely\s+|100%\s+)?"
        r"(?:free\b(?!\s+(?:shipping|delivery|returns?|exchanges?|of|to|from|with|on|when|if)\b)"
        r"|\$\s?0(?:\.00)?\b|zero dollars|(?:100%|fully) off)",
        r"\beverything\b(?:\s+[\w-]+){0,4}?\s+(?:is|are)\s+(?:now\s+)?(?:free\b|\$\s?0(?:\.00)?\b)"
        r"(?!\s+(?:shipping|delivery|returns?|of|to|from|with|on|when|if)\b)",
    )
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def _pieces(text: str) -> Iterator[str]:
    for piece in _SENTENCE.split(text or ""):
        piece = piece.strip()
        if piece:
            yield piece


def _instruction_match(sentence: str) -> re.Match[str] | None:
    for pattern in _INSTRUCTION_PATTERNS:
        found = pattern.search(sentence)
        if found:
            return found
    return None


def is_instruction_like(text: str) -> bool:
    """Whether any sentence of ``text`` reads like an instruction to an AI."""
    return any(_instruction_match(s) for s in _pieces(text))


def instruction_sentences(text: str) -> list[str]:
    """The sentences of ``text`` that read like instructions to an AI, whole."""
    return [s for s in _pieces(text) if _instruction_match(s)]


def _snippet(sentence: str, found: re.Match[str]) -> str:
    sentence = " ".join(sentence.split())
    if len(sentence) <= SNIPPET_CHARS:
        return sentence
    middle = (found.start() + found.end()) // 2
    start = max(0, min(middle - SNIPPET_CHARS // 2, len(sentence) - SNIPPET_CHARS))
    clip = sentence[start : start + SNIPPET_CHARS].strip()
    return ("…" if start else "") + clip + ("…" if start + SNIPPET_CHARS < len(sentence) else "")


def instruction_flags(items: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """``[{"location": ..., "text": snippet}]`` for each sentence of the (location, text)
    pairs that reads like an instruction to an AI (ingestion stores this per document, as
    JSON, for staff review). The same snippet at the same location is listed once."""
    flags: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for location, text in items:
        for sentence in _pieces(text):
            found = _instruction_match(sentence)
            if found is None:
                continue
            snippet = _snippet(sentence, found)
            if (str(location), snippet) not in seen:
                seen.add((str(location), snippet))
                flags.append({"location": str(location), "text": snippet})
    return flags


def parse_flags(value: str | Sequence[Mapping[str, str]] | None) -> list[dict[str, str]]:
    """A document's stored flags (the JSON text ingestion writes, or the list itself) as a
    list; anything unreadable is an empty list."""
    import json

    if not value:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if not isinstance(value, list):
        return []
    return [
        {"location": str(f.get("location", "")), "text": str(f.get("text", ""))}
        for f in value
        if isinstance(f, Mapping)
    ]


# -- links ----------------------------------------------------------------------------------

# Anything a browser or a Markdown renderer could turn into a request: URLs with a scheme,
# "www." hosts (GFM links them), and host/path text ("evil.example/claim").
_URL = re.compile(
    r"(?:\b(?:https?|ftps?|file)://|\b(?:javascript|vbscript|livescript|blob):"
    r"|\bdata:[a-z]+/[\w.+-]+[;,]|\bwww\.)[^\s<>\"'`]*"
    r"|\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24}(?::\d{1,5})?/[^\s<>\"'`]*",
    re.I,
)
_TRAILING = ".,;:!?'\")]}*_~"


def find_urls(text: str) -> list[str]:
    """The URL-like strings in ``text`` (trailing punctuation left out)."""
    return [_trim_url(m.group())[0] for m in _URL.finditer(text or "")]


def _trim_url(url: str) -> tuple[str, str]:
    """(url, the punctuation after it): "see http://x.example/a)." -> ("http://x.example/a", ").")."""
    end = len(url)
    while end and url[end - 1] in _TRAILING:
        if url[end - 1] == ")" and url[:end].count("(") >= url[:end].count(")"):
            break  # a balanced parenthesis belongs to the URL
        end -= 1
    return url[:end], url[end:]


def _host(url: str) -> str:
    try:
        return (urlsplit(url.strip()).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def _normal(url: str) -> str:
    """A URL as compared: scheme and host lower-cased, no trailing slash or fragment."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme.lower()}://{parts.hostname.lower()}{port}{path}{query}"


def _field(source: Any, name: str) -> Any:
    return source.get(name) if isinstance(source, Mapping) else getattr(source, name, None)


@dataclass(frozen=True)
class LinkPolicy:
    """Which links an answer or a product card may carry: only a product's own URL (from its
    record's URL field, never from free text), and only on ``hosts`` when that list is set
    (SHOPBOT_LINK_HOSTS). With no list, the hosts the catalog's product URLs name are the
    list. Product images follow ``hosts`` too. Nothing but http(s) is ever allowed."""

    hosts: frozenset[str] = frozenset()
    urls: frozenset[str] = frozenset()

    @classmethod
    def for_sources(cls, sources: Iterable[Any], hosts: Iterable[str] = ()) -> LinkPolicy:
        """The policy for an answer built from ``sources`` (Source objects or their dicts)."""
        urls = {_normal(str(_field(s, "url") or "")) for s in sources}
        return cls(
            hosts=frozenset(h.strip().lower().rstrip(".") for h in hosts if h.strip()),
            urls=frozenset(u for u in urls if u),
        )

    def host_allowed(self, url: str) -> bool:
        normal = _normal(url)
        if not normal:
            return False
        return not self.hosts or _host(normal) in self.hosts

    def allows(self, url: str) -> bool:
        """Whether ``url`` may be a link: a product's own URL on an allowed host."""
        normal = _normal(url)
        return bool(normal) and normal in self.urls and self.host_allowed(normal)

    def allows_image(self, url: str) -> bool:
        """Whether a product record's image URL may be loaded (never an image from text)."""
        return self.host_allowed(url)


NO_LINKS = LinkPolicy()


# -- markup -------------------------------------------------------------------------------

# HTML comments, tags (complete ones; a lone "<" is escaped later) and <scheme:...> autolinks.
_HTML = re.compile(
    r"<!--.*?(?:-->|\Z)|<![A-Za-z][^>]*>|<\?.*?\?>"
    r"|</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>"
    r"|<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*>"
    r"|<[^<>\s@]+@[^<>\s@]+>",
    re.S,
)
# "[label]: destination" lines define reference links.
_DEFINITION = re.compile(r"^[ ]{0,3}\[[^\]\n]+\]:[^\n]*(?:\n|\Z)", re.M)
_ESCAPE_ANSWER = set("\\[]<>$")
_ESCAPE_LITERAL = set("\\`*_[]<>#|~$")


def _closing(text: str, start: int, open_: str, close: str) -> int:
    """The index of the bracket closing the one at ``start``, or -1."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == open_:
            depth += 1
        elif ch == close:
            depth -= 1
            if depth == 0:
                return i
        elif ch == "\n" and i + 1 < len(text) and text[i + 1] == "\n":
            return -1  # brackets never span a blank line
        i += 1
    return -1


def _destination(inside: str) -> str:
    """A link's destination from what is between its parentheses (a title may follow)."""
    inside = inside.strip()
    if inside.startswith("<"):
        return inside[1:].split(">", 1)[0]
    return inside.split(None, 1)[0] if inside else ""


@dataclass
class _Out:
    """Text being written: plain parts are escaped, links and allowed URLs are not."""

    escape: set[str]
    parts: list[str] = field(default_factory=list)

    def plain(self, text: str) -> None:
        self.parts.append("".join("\\" + ch if ch in self.escape else ch for ch in text))

    def raw(self, text: str) -> None:
        self.parts.append(text)

    def text(self) -> str:
        return "".join(self.parts)


def _write_text(text: str, policy: LinkPolicy, out: _Out) -> None:
    """Plain text: URLs the policy allows stay, other URLs go."""
    position = 0
    for m in _URL.finditer(text):
        url, after = _trim_url(m.group())
        out.plain(text[position : m.start()])
        if url and policy.allows(url if "://" in url else f"https://{url}"):
            out.raw(url)
        out.plain(after)
        position = m.end()
    out.plain(text[position:])


def _write(text: str, policy: LinkPolicy, out: _Out) -> None:
    """``text`` with images dropped, links kept only where allowed (else their label)."""
    position = 0
    i = text.find("[")
    while i != -1:
        close = _closing(text, i, "[", "]")
        if close == -1:
            i = text.find("[", i + 1)
            continue
        image = i > 0 and text[i - 1] == "!" and (i < 2 or text[i - 2] != "\\")
        label = text[i + 1 : close]
        end = close + 1
        target: str | None = None
        if text.startswith("(", end):
            paren = _closing(text, end, "(", ")")
            if paren != -1:
                target = _destination(text[end + 1 : paren])
                end = paren + 1
        elif text.startswith("[", end):
            ref = _closing(text, end, "[", "]")
            if ref != -1:
                target = ""  # a reference link: its definition is removed
                end = ref + 1
        if target is None and not image:
            i = text.find("[", i + 1)  # a plain bracket ("[1]"): escaped as text
            continue
        _write_text(text[position : i - 1 if image else i], policy, out)
        if image:
            pass  # images are never drawn from catalog text or answers
        elif target and policy.allows(target):
            inner = _Out(out.escape)
            _write(label, NO_LINKS, inner)
            if out.text().endswith("!"):
                out.raw(" ")  # "!" + a link would make an image of it
            out.raw(f"[{inner.text()}]({_normal(target)})")
        else:
            _write(label, policy, out)
        position = end
        i = text.find("[", end)
    _write_text(text[position:], policy, out)


def without_embeds(text: str) -> str:
    """``text`` without what a renderer would load or hide rather than show as words: HTML
    tags and comments, and Markdown images. Links and URLs stay (to be judged)."""
    return _without_images(_HTML.sub(" ", str(text or "")))


def _without_images(text: str) -> str:
    """``text`` with its Markdown images (``![alt](src)``, ``![alt][ref]``, ``![alt]``) cut out."""
    parts: list[str] = []
    position = 0
    i = text.find("![")
    while i != -1:
        if i and text[i - 1] == "\\":
            i = text.find("![", i + 1)
            continue
        close = _closing(text, i + 1, "[", "]")
        if close == -1:
            i = text.find("![", i + 2)
            continue
        end = close + 1
        for open_, shut in (("(", ")"), ("[", "]")):
            if text.startswith(open_, end):
                after = _closing(text, end, open_, shut)
                if after != -1:
                    end = after + 1
                break
        parts.append(text[position:i])
        position = end
        i = text.find("![", end)
    parts.append(text[position:])
    return "".join(parts)


def _without_html(text: str) -> str:
    """HTML and reference-link definitions out; what is left is judged by :func:`_write`."""
    return _DEFINITION.sub("", _HTML.sub("", str(text or "")))


def strip_markup(text: str, policy: LinkPolicy = NO_LINKS) -> str:
    """``text`` without images, HTML, reference definitions and links or URLs the policy
    does not allow (a disallowed link keeps its label). Nothing is escaped: for text that
    a client renders itself (the chain's answer, the HTTP API)."""
    out = _Out(escape=set())
    _write(_without_html(text), policy, out)
    return out.text()


def safe_markdown(text: str, policy: LinkPolicy = NO_LINKS, *, literal: bool = False) -> str:
    """``text`` as safe Markdown to draw: :func:`strip_markup`, then whatever is left that
    could still become markup is escaped ("$" too, so prices never start LaTeX). Answers keep
    their lists and bold; ``literal`` (catalog fields: titles, table cells, captions) escapes
    every Markdown character, so the text reads exactly as written."""
    out = _Out(escape=_ESCAPE_LITERAL if literal else _ESCAPE_ANSWER)
    _write(_without_html(text), policy, out)
    return out.text()


def _open_markup(text: str) -> bool:
    """Whether ``text`` ends inside something that the next piece could complete into a
    link, an image or a tag (an unclosed "[", "(" after "]", or "<")."""
    brackets = parens = 0
    angle = False
    previous = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            previous = ""
            continue
        if ch == "[":
            brackets += 1
        elif ch == "]" and brackets:
            brackets -= 1
        elif ch == "(" and (parens or previous == "]"):
            parens += 1
        elif ch == ")" and parens:
            parens -= 1
        elif ch == "<" and (i + 1 == len(text) or text[i + 1].isalpha() or text[i + 1] in "/!?"):
            angle = True
        elif ch == ">":
            angle = False
        elif ch == "\n" and previous == "\n":
            brackets = parens = 0  # nothing spans a blank line
        previous = ch
        i += 1
    return bool(brackets or parens or angle)


MAX_HELD_CHARS = 4000


def _settled(text: str, final: bool) -> tuple[str, str]:
    """(what can be drawn now, what waits for the next piece): cut before the last white
    space outside any unfinished link, image or tag; URLs never contain white space, so no
    construct can span the cut."""
    if final:
        return text, ""
    cut = len(text)
    while True:
        cut = max(text.rfind(" ", 0, cut), text.rfind("\n", 0, cut), text.rfind("\t", 0, cut))
        if cut <= 0:
            return "", text
        if not _open_markup(text[:cut]) or len(text) > MAX_HELD_CHARS:
            return text[:cut], text[cut:]


def stream_markdown(pieces: Iterable[str], policy: LinkPolicy = NO_LINKS) -> Iterator[str]:
    """:func:`safe_markdown` for text that arrives in pieces (``st.write_stream`` draws what
    has arrived so far as Markdown): text is passed on only up to a point where nothing
    unfinished (a link, an image, a tag, a URL) can be completed by a later piece, so an
    image split across pieces never becomes an image."""
    held = ""
    for piece in pieces:
        held += piece
        ready, held = _settled(held, final=False)
        if ready:
            yield safe_markdown(ready, policy)
    if held:
        yield safe_markdown(held, policy)


def has_markup(text: str) -> bool:
    """Whether ``text`` holds an image, a link, an HTML tag or a URL."""
    text = text or ""
    return bool(_HTML.search(text) or _URL.search(text) or re.search(r"\]\(|\]\[|!\[", text))


# -- the final check of an answer ---------------------------------------------------------

WITHHELD_NOTE = (
    "I left out text from our catalog here that I can't vouch for. Please ask our staff "
    "about this product."
)
_ECHO_WORDS = 8  # this many words in a row from flagged catalog text count as repeating it
_WORDS = re.compile(r"[a-z0-9$€£]+(?:[.,'][a-z0-9]+)*", re.I)


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(text)]


def _runs(words: Sequence[str], size: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


class AnswerGuard:
    """The last check before a shopper (or an API client) sees an answer sentence: a sentence
    that reads like an instruction, repeats instruction-like text from the sources, or
    carries a link or URL the policy does not allow is dropped; images and HTML are removed
    from the rest. ``withheld`` lists the dropped sentences (for the log)."""

    def __init__(self, sources: Sequence[Any], link_hosts: Iterable[str] = ()) -> None:
        self.policy = LinkPolicy.for_sources(sources, link_hosts)
        self.withheld: list[str] = []
        self._echoes: list[tuple[int, set[tuple[str, ...]]]] = []
        for source in sources:
            body = str(_field(source, "text") or _field(source, "snippet") or "")
            for sentence in instruction_sentences(body):
                words = _words(sentence)
                size = min(_ECHO_WORDS, len(words))
                if size:
                    self._echoes.append((size, _runs(words, size)))

    def allows(self, sentence: str) -> bool:
        if is_instruction_like(sentence):
            return False
        for url in find_urls(sentence):
            if not self.policy.allows(url if "://" in url else f"https://{url}"):
                return False
        words = _words(sentence)
        return not any(_runs(words, size) & runs for size, runs in self._echoes)

    def check(self, text: str) -> str:
        """``text`` (one or more sentences) with the sentences that fail dropped. Images go
        first, whole: their alt text may hold what looks like a sentence end."""
        from shopbot.factcheck import split_sentences

        kept: list[str] = []
        for sentence in split_sentences(_without_images(text)):
            if not sentence.strip():
                kept.append(sentence)
            elif self.allows(sentence):
                kept.append(strip_markup(sentence, self.policy))
            else:
                self.withheld.append(sentence.strip())
                if "\n" in sentence:
                    kept.append("\n")
        return "".join(kept)

    def filter(self, pieces: Iterable[str]) -> Iterator[str]:
        """Check pieces as they stream, a sentence at a time; a sentence with an unfinished
        link, image or tag waits for the piece that finishes it."""
        from shopbot.factcheck import settled_sentences

        held = ""
        said = False
        iterator = iter(pieces)
        try:
            for piece in iterator:
                held += piece
                done, rest = settled_sentences(held)
                ready = "".join(done)
                if not ready or (_open_markup(ready) and len(held) <= MAX_HELD_CHARS):
                    continue
                checked, held = self.check(ready), rest
                said = said or bool(checked.strip())
                if checked:
                    yield checked
        except Exception:
            if held:  # the text so far, checked, before the error the caller handles
                yield self.check(held)
            raise
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()  # a stream given up on ends the generator's (and its connection)
        if held:
            checked = self.check(held)
            said = said or bool(checked.strip())
            if checked:
                yield checked
        if self.withheld:
            log.warning(
                "left %d answer sentence(s) out: instruction-like or linking outside the shop",
                len(self.withheld),
            )
            if not said:
                yield WITHHELD_NOTE
