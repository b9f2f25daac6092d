"""Scores the assistant on a labelled question set: ``python -m shopbot eval``.

A question set is a JSONL file, one question per line::

    {"id": "filter-03", "kind": "filter",
     "turns": ["waterproof jackets under $150"],          # the last turn is the one scored
     "expected_ids": ["RL-JKT-001", ...],                  # products that belong in the top k
     "expected_sources": [],                               # documents (file names) instead
     "aliases": {"RL-JKT-021": ["cloudburst-3l-rain-jacket.html"]},  # other keys of an id
     "constraints": {"category": "Jackets & Apparel", "keyword": "waterproof", "price_max": 150},
     "facts": ["$149.00"],                                 # strings the answer must contain
     "absent": ["$179.00"]}                                # strings it must NOT contain

Metrics (per question, then averaged over the questions they apply to, overall and per kind):

Top k
    The first k *slots*: a product's chunks (its record, its spec sheet, its page) fill one
    slot, as they fill one card in the chat; each other passage fills one.
Recall@k
    hits / min(k, |targets|), where targets are ``expected_ids`` + ``expected_sources`` and a
    target is hit when a top-k source has it as its id, one of its product's variant SKUs
    (``Source.skus``: a question set may name a variant, e.g. ``MH01-XS-Black``) or its
    source file (or one of the target's ``aliases``). With one target this is "is it in the top k"; for a filter question
    with many matching products it asks for k of them. Over questions with targets.
Hit@k
    1 when at least one target is in the top k. Over questions with targets.
Filter precision
    Share of the top-k *product* hits whose record satisfies every labelled constraint, over
    questions with constraints other than ``sort``. A question whose top k holds no product
    scores 0. Records are looked up by product id in the store (metadata and record text),
    not in the demo catalog's data, so the same check works for any shop's labelled set.
Fact accuracy
    1 when the answer contains every expected fact and none of the ``absent`` strings, over
    questions with facts or absent strings (a question with only ``absent``, e.g. "the
    hidden Canvas Tote must not be offered", counts too). Prices ("$1,299.00") are compared
    as amounts, so "$1299" or "1,299.00 USD" count; a bare amount ("15.00") is compared as
    an amount too, to the answer's prices and bare amounts. Other strings are compared
    case-insensitively with whitespace and dashes normalised, as substrings, except a short
    token of at most 3 letters or digits (a size "M", "XL", "34"), which must stand as a
    word of its own ("M" is not found in "Medium" nor "34" in "$34.00"). ``absent``
    strings are matched exactly as facts are: an absent "$28.00" fails an answer saying
    "28 USD".
Latency
    Seconds to answer the scored (last) turn, p50 and p95 over all questions (after one
    untimed warm-up question that loads the models).

A temporary catalog (``python -m shopbot eval --catalog FILE [--catalog FILE ...]``): the
questions are asked of a fresh store under a temporary data dir holding only those files,
ingested together by the normal pipeline through the service; the dir is removed afterwards.
A PrestaShop combinations CSV cannot be ingested alone (it lists sizes and colours, not
products), so it is joined with the PrestaShop products CSV given beside it into one
two-sheet workbook (products first, as a shop owner would upload them) in the temporary dir.

Constraint keys: price_min / price_max (inclusive, in the shop's currency), category (equal to
the record's category, a segment of its category path, its Type / subcategory, or one of
its Tags), brand,
colour (a word of one of its colours, e.g. "green" matches "Forest Green"), size (one of its
sizes), in_stock (true: stock > 0), keyword (a word in the record's text, e.g. "waterproof";
"non-waterproof" does not count), sort ("price_asc" / "price_desc": the order asked for; not
a filter, so only recall and the facts check it).
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopbot.vocabulary import CURRENCY_SYMBOLS, PRICE_SYMBOLS

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from shopbot.ingest import IngestResult
    from shopbot.retrieval import Source
    from shopbot.service import CatalogService
    from shopbot.settings import Settings

DEFAULT_QUESTIONS = Path(__file__).resolve().parents[1] / "bench" / "eval_questions.jsonl"
# Questions about products with variants (bench/variant_questions*.jsonl): a variant's
# price, the options offered, a variant's stock, sale prices, products the shop hides (or
# sells only as a variant of another), names that carry an attribute ("2-pack", "v-neck").
VARIANT_KINDS = (
    "variant_price", "options", "variant_stock", "sale", "hidden", "name_with_attribute"
)
# Kinds of the shopper question sets written by outsiders (bench/shopper/*.jsonl).
SHOPPER_KINDS = ("lookup", "list", "superlative", "attribute", "description_phrase", "variant",
                 "typo", "multilingual", "conversation")
KINDS = ("fact", "filter", "sort", "follow_up", "comparison", "sku", "policy", "not_sold",
         *VARIANT_KINDS, *SHOPPER_KINDS)
# Kinds whose expected products are every product that fits: scored for list completeness.
LIST_KINDS = frozenset({"list", "attribute", "filter"})
# How many products a list answer names (the card limit); completeness is counted up to it.
LIST_LIMIT = 10
CONSTRAINT_KEYS = frozenset(
    {"price_min", "price_max", "category", "brand", "colour", "size", "in_stock", "keyword", "sort"}
)
SORTS = ("price_asc", "price_desc")

_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z _/()]*?)\s*:\s*(.+?)\s*$")
_COLOUR_FIELDS = {"colour", "colours", "color", "colors"}
_SIZE_FIELDS = {"size", "sizes"}
_CATEGORY_FIELDS = {"category", "type", "subcategory", "product category"}
_TAG_FIELDS = {"tags"}
_PATH_SPLIT = re.compile(r"\s*(?:\||>|/)\s*")
# A price in a fact or answer: a one-character symbol before the amount or a code after it,
# for the currencies of shopbot.vocabulary.PRICE_SYMBOLS ("$", "€", "£"; USD, EUR, GBP).
_PRICE_SIGNS = "".join(
    sorted(s for s, code in CURRENCY_SYMBOLS.items() if len(s) == 1 and code in PRICE_SYMBOLS)
)
_PRICE = re.compile(
    rf"(?:[{re.escape(_PRICE_SIGNS)}]\s?(\d[\d,]*(?:\.\d+)?))"
    rf"|(?:(\d[\d,]*(?:\.\d+)?)\s?(?:{'|'.join(PRICE_SYMBOLS)})\b)"
)
# A bare amount with two decimals ("15.00"), compared as an amount.
_BARE_AMOUNT = re.compile(r"(?<![\d.,])(\d[\d,]*\.\d{2})(?![\d])")
# A fact this short is a token ("M", "XL", "34"), found only as a word of its own.
_SHORT_TOKEN = re.compile(r"[a-z0-9]{1,3}")
_DASHES = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2212": "-", "\u00a0": " "})


class QuestionFileError(ValueError):
    """The question file is missing or a line of it is not a valid question."""


class CatalogFileError(ValueError):
    """A ``--catalog`` file is missing, cannot be paired, or failed to ingest."""


# -- questions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    turns: tuple[str, ...]
    expected_ids: tuple[str, ...] = ()
    expected_sources: tuple[str, ...] = ()
    aliases: Mapping[str, Sequence[str]] = field(default_factory=dict)
    constraints: Mapping[str, Any] = field(default_factory=dict)
    facts: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()  # strings the answer must not contain
    # Products named by their titles (outsiders' question sets), resolved against the store.
    expected_titles: tuple[str, ...] = ()
    first_title: str = ""  # the product the answer must name first (a superlative)
    not_sold: bool = False  # the shop does not sell it: no product may be offered as it
    # A conversation: what each turn's answer must hold ({"expected_titles", "facts",
    # "absent"}), one per turn.
    turn_checks: tuple[Mapping[str, Any], ...] = ()

    @property
    def question(self) -> str:
        return self.turns[-1]

    @property
    def targets(self) -> tuple[str, ...]:
        return self.expected_ids + self.expected_sources

    @property
    def filters(self) -> dict[str, Any]:
        """The constraints that restrict which products fit (everything but ``sort``)."""
        return {k: v for k, v in self.constraints.items() if k != "sort"}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Question:
        turns = data.get("turns")
        if not isinstance(turns, list) or not turns:
            raise QuestionFileError("'turns' must be a non-empty list of questions")
        if not all(isinstance(t, str) and t.strip() for t in turns):
            raise QuestionFileError("every turn must be a non-empty string")
        kind = data.get("kind")
        if kind not in KINDS:
            raise QuestionFileError(f"'kind' must be one of {', '.join(KINDS)}, not {kind!r}")
        constraints = dict(data.get("constraints") or {})
        unknown = set(constraints) - CONSTRAINT_KEYS
        if unknown:
            raise QuestionFileError(
                f"unknown constraint(s) {sorted(unknown)}; known: {sorted(CONSTRAINT_KEYS)}"
            )
        if "sort" in constraints and constraints["sort"] not in SORTS:
            raise QuestionFileError(f"'sort' must be one of {SORTS}")
        for name in ("facts", "absent"):
            values = data.get(name) or []
            if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
                raise QuestionFileError(f"'{name}' must be a list of non-empty strings")
        return cls(
            id=str(data.get("id") or ""),
            kind=kind,
            turns=tuple(turns),
            expected_ids=tuple(data.get("expected_ids") or ()),
            expected_sources=tuple(data.get("expected_sources") or ()),
            aliases={k: tuple(v) for k, v in (data.get("aliases") or {}).items()},
            constraints=constraints,
            facts=tuple(data.get("facts") or ()),
            absent=tuple(data.get("absent") or ()),
            expected_titles=tuple(data.get("expected_titles") or ()),
            first_title=str(data.get("first_title") or ""),
            not_sold=bool(data.get("not_sold")),
            turn_checks=_turn_checks(data, turns),
        )

    def checks(self) -> list[Question | None]:
        """One question per turn to score it by (None: the turn is not scored): each turn
        of a conversation with its own checks, else only the last turn."""
        if not self.turn_checks:
            return [None] * (len(self.turns) - 1) + [self]
        out: list[Question | None] = []
        for number, check in enumerate(self.turn_checks):
            titles = tuple(check.get("expected_titles") or ())
            facts = tuple(check.get("facts") or ())
            absent = tuple(check.get("absent") or ())
            if not (titles or facts or absent or check.get("not_sold")):
                out.append(None)
                continue
            out.append(Question(
                id=f"{self.id}#{number + 1}", kind=self.kind, turns=self.turns[: number + 1],
                expected_titles=titles, facts=facts, absent=absent,
                first_title=str(check.get("first_title") or ""),
                not_sold=bool(check.get("not_sold")),
            ))
        return out


def _turn_checks(data: Mapping[str, Any], turns: list[str]) -> tuple[Mapping[str, Any], ...]:
    checks = data.get("turn_checks") or []
    if not checks:
        return ()
    if not isinstance(checks, list) or len(checks) != len(turns):
        raise QuestionFileError("'turn_checks' must hold one object per turn")
    if not all(isinstance(c, Mapping) for c in checks):
        raise QuestionFileError("every turn check must be an object")
    return tuple(dict(c) for c in checks)


def load_questions(path: Path | str | None = None) -> list[Question]:
    path = Path(path) if path else DEFAULT_QUESTIONS
    if not path.is_file():
        raise QuestionFileError(f"question file {path} not found")
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            questions.append(Question.from_dict(json.loads(line)))
        except (json.JSONDecodeError, QuestionFileError, TypeError, AttributeError) as exc:
            raise QuestionFileError(f"{path}:{number}: {exc}") from None
    if not questions:
        raise QuestionFileError(f"{path} holds no questions")
    return questions


# -- product facts and constraints ------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(str(text).translate(_DASHES).lower().split())


@dataclass(frozen=True)
class ProductFacts:
    """What a constraint can be checked against, for one product record."""

    id: str
    price: float | None = None
    stock: int | None = None
    brand: str = ""
    categories: frozenset[str] = frozenset()
    colours: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    text: str = ""

    @classmethod
    def from_record(cls, product_id: str, meta: Mapping[str, Any], text: str) -> ProductFacts:
        """From a stored chunk: its metadata (price, stock, brand, category, category_path)
        and the ``Name: value`` lines of its text (colours, sizes, type)."""
        from shopbot.products import Product

        product = Product.from_metadata(meta)
        categories = {_norm(product.category)} if product is not None else set()
        for path in product.categories if product is not None else ():
            categories.update(_norm(p) for p in _PATH_SPLIT.split(path))
        colours: list[str] = []
        sizes: list[str] = []
        for line in text.splitlines():
            match = _LINE.match(line)
            if not match:
                continue
            name, value = match.group(1).strip().lower(), match.group(2)
            if name in _COLOUR_FIELDS:
                colours += [c.strip() for c in re.split(r"\s*[/,]\s*", value) if c.strip()]
            elif name in _SIZE_FIELDS:
                sizes += [s.strip() for s in re.split(r"\s+/\s+|\s*,\s*", value) if s.strip()]
            elif name in _CATEGORY_FIELDS:
                categories.update(_norm(p) for p in _PATH_SPLIT.split(value))
            elif name in _TAG_FIELDS:
                categories.update(_norm(t) for t in value.split(","))
        price = product.price() if product is not None else None
        stock = product.quantity() if product is not None else None
        if product is not None and product.available() is False:
            stock = 0
        return cls(
            id=product_id,
            price=price,
            stock=stock,
            brand=product.brand if product is not None else "",
            categories=frozenset(c for c in categories if c),
            colours=tuple(colours),
            sizes=tuple(sizes),
            text=text,
        )


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def violations(product: ProductFacts, constraints: Mapping[str, Any]) -> list[str]:
    """The constraints ``product`` breaks (empty: it satisfies them all). ``sort`` is ignored."""
    broken = []
    for key, want in constraints.items():
        if key == "sort":
            continue
        if key == "price_min":
            ok = product.price is not None and product.price >= float(want)
        elif key == "price_max":
            ok = product.price is not None and product.price <= float(want)
        elif key == "in_stock":
            ok = product.stock is not None and (product.stock > 0) == bool(want)
        elif key == "brand":
            ok = _norm(product.brand) == _norm(want)
        elif key == "category":
            wanted = _singular(_norm(want))
            ok = any(_singular(c) == wanted for c in product.categories)
        elif key == "colour":
            word = re.compile(rf"\b{re.escape(_norm(want))}\b")
            ok = any(word.search(_norm(c)) for c in product.colours)
        elif key == "size":
            ok = any(_norm(s) == _norm(want) for s in product.sizes)
        elif key == "keyword":
            # "waterproof" is not in "non-waterproof" nor in "not waterproof"
            word = rf"(?<!non-)(?<!non )(?<!not )\b{re.escape(_norm(want))}"
            ok = re.search(word, _norm(product.text)) is not None
        else:
            raise QuestionFileError(f"unknown constraint {key!r}")
        if not ok:
            broken.append(key)
    return broken


def products_by_source(service: CatalogService) -> dict[str, int]:
    """How many distinct products the store holds from each source file."""
    ids: dict[str, set[str]] = {}
    for _chunk_id, _text, meta in service.store.iter_chunks(where={"kind": "product"}):
        product_id = str(meta.get("product_id") or "")
        if product_id:
            ids.setdefault(str(meta.get("source", "")), set()).add(product_id)
    return {source: len(found) for source, found in sorted(ids.items())}


def product_index(service: CatalogService) -> dict[str, ProductFacts]:
    """Every product record in the store, by product id (the first chunk of each)."""
    index: dict[str, ProductFacts] = {}
    for _chunk_id, text, meta in service.store.iter_chunks(where={"kind": "product"}):
        product_id = str(meta.get("product_id") or "")
        if meta.get("visible") is False:
            continue  # a draft or hidden product: never offered, so never a right answer
        if product_id and product_id not in index:
            index[product_id] = ProductFacts.from_record(product_id, meta, text or "")
    return index


# -- metrics -----------------------------------------------------------------------------


def source_keys(source: Source | Mapping[str, Any]) -> set[str]:
    """What a target may name to hit ``source``: its id, its product's variant SKUs, its file."""
    get = source.get if isinstance(source, Mapping) else (lambda k, d="": getattr(source, k, d))
    skus = get("skus", None) or ()  # absent on sources from before products had variants
    return {str(get("id", "")), str(get("source", "")), *(str(s) for s in skus)} - {""}


def top_slots(sources: Sequence[Any], k: int) -> list[Any]:
    """The sources of the first ``k`` products or passages: a product's chunks (its record,
    its spec sheet) share one slot, as they share one card in the chat."""
    ids: list[str] = []
    for source in sources:
        key = str(_get(source, "id"))
        if key not in ids:
            if len(ids) == k:
                break
            ids.append(key)
    return [s for s in sources if str(_get(s, "id")) in ids]


def recall_at_k(question: Question, sources: Sequence[Any], k: int = 5) -> float | None:
    """hits / min(k, |targets|); None when the question has no targets."""
    targets = question.targets
    if not targets:
        return None
    keys = set().union(*(source_keys(s) for s in top_slots(sources, k))) if sources else set()
    hits = sum(
        1 for t in targets if t in keys or any(a in keys for a in question.aliases.get(t, ()))
    )
    return hits / min(k, len(targets))


def filter_precision(
    question: Question, sources: Sequence[Any], products: Mapping[str, ProductFacts], k: int = 5
) -> float | None:
    """Share of the top-k product hits that satisfy the question's constraints; None when the
    question has none, 0 when the top k holds no product."""
    constraints = question.filters
    if not constraints:
        return None
    hits = list(
        dict.fromkeys(_get(s, "id") for s in top_slots(sources, k) if _get(s, "kind") == "product")
    )
    if not hits:
        return 0.0
    good = sum(1 for pid in hits if pid in products and not violations(products[pid], constraints))
    return good / len(hits)


def _get(source: Any, key: str) -> Any:
    return source.get(key) if isinstance(source, Mapping) else getattr(source, key, None)


def _amount(text: str) -> float:
    return round(float(text.replace(",", "")), 2)


def _prices(text: str) -> set[float]:
    return {_amount(m.group(1) or m.group(2)) for m in _PRICE.finditer(text)}


def fact_present(fact: str, answer: str) -> bool:
    """``fact`` is in ``answer``: a price as an amount, a short token as a word of its own,
    anything else as normalised text."""
    fact = fact.strip()
    if _PRICE.fullmatch(fact):
        return _prices(fact) <= _prices(answer)
    if _BARE_AMOUNT.fullmatch(fact):
        found = _prices(answer) | {_amount(m.group(1)) for m in _BARE_AMOUNT.finditer(answer)}
        return _amount(fact) in found
    wanted, text = _norm(fact), _norm(answer)
    if _SHORT_TOKEN.fullmatch(wanted):
        # not inside a word, nor a number's part ("34" of "$34.00" or "134")
        token = rf"(?<![\w$€£])(?<!\d[.,]){re.escape(wanted)}(?!\w)(?![.,]\d)"
        return re.search(token, text) is not None
    return wanted in text


def facts_correct(question: Question, answer: str) -> bool | None:
    """Every fact present and no absent string present; None when the question has neither."""
    if not question.facts and not question.absent:
        return None
    return all(fact_present(f, answer) for f in question.facts) and not any(
        fact_present(a, answer) for a in question.absent
    )


def _mean(values: Iterable[float | bool | None]) -> float | None:
    kept = [float(v) for v in values if v is not None]
    return round(sum(kept) / len(kept), 4) if kept else None


def _percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 4)


def summarise(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    latencies = [r["latency_s"] for r in rows if r.get("latency_s") is not None]
    return {
        "questions": len(rows),
        "recall_at_k": _mean(r["recall"] for r in rows),
        "hit_at_k": _mean(None if r["recall"] is None else r["recall"] > 0 for r in rows),
        "filter_precision": _mean(r["filter_precision"] for r in rows),
        "fact_accuracy": _mean(r["facts_ok"] for r in rows),
        "turn_fact_accuracy": _mean(
            t["facts_ok"] for r in rows for t in (r.get("turns") or [r])
        ),
        "list_completeness": _mean(r.get("list_completeness") for r in rows),
        "misnamed_rate": _mean(r.get("misnamed") for r in rows),
        "with_targets": sum(r["recall"] is not None for r in rows),
        "with_constraints": sum(r["filter_precision"] is not None for r in rows),
        "with_facts": sum(r["facts_ok"] is not None for r in rows),
        "latency_p50_s": round(statistics.median(latencies), 4) if latencies else None,
        "latency_p95_s": _percentile(latencies, 0.95),
    }


# -- a temporary catalog -----------------------------------------------------------------


@dataclass
class TemporaryCatalog:
    service: CatalogService
    results: list[IngestResult]
    notes: list[str]  # what was done to the files before ingesting them

    def summary(self) -> list[dict[str, Any]]:
        return [
            {"source": r.source, "status": r.status, "products": r.products, "chunks": r.chunks}
            for r in self.results
        ]


def _csv_header(path: Path) -> list[str]:
    from shopbot.ingest.fields import clean_cell
    from shopbot.ingest.tabular import read_csv

    if path.suffix.lower() not in (".csv", ".tsv"):
        return []
    # the first 64 KiB hold the header; a cut last line does not matter
    with path.open("rb") as handle:
        rows = read_csv(handle.read(65536))[0].rows
    first = next((row for row in rows if any(clean_cell(v) for v in row)), [])
    return [clean_cell(v) for v in first]


def _write_workbook(sheets: Sequence[tuple[str, Path]], out: Path) -> None:
    """CSV files as the sheets of one XLSX, cells kept as text (the importers parse them)."""
    from openpyxl import Workbook

    from shopbot.ingest.tabular import read_csv

    book = Workbook(write_only=True)
    for title, path in sheets:
        sheet = book.create_sheet(title[:31])
        for row in read_csv(path.read_bytes())[0].rows:
            sheet.append([str(v) if v is not None else None for v in row])
    book.save(out)


def prepare_catalog_files(paths: Sequence[Path | str], workdir: Path) -> tuple[list[Path], list[str]]:
    """The files to ingest for ``paths``, and notes on what was changed: a PrestaShop
    combinations CSV is joined with the PrestaShop products CSV among ``paths`` into one
    two-sheet workbook in ``workdir`` (products first). Raises CatalogFileError for a
    missing file or a combinations CSV with no single products CSV to join."""
    from shopbot.ingest.platforms import prestashop

    files = [Path(p) for p in paths]
    missing = [str(p) for p in files if not p.exists()]
    if missing:
        raise CatalogFileError(f"catalog file(s) not found: {', '.join(missing)}")
    headers = {p: _csv_header(p) if p.is_file() else [] for p in files}
    combinations = [p for p in files if headers[p] and prestashop.matches_combinations(headers[p])]
    if not combinations:
        return files, []
    products = [
        p for p in files if p not in combinations and headers[p] and prestashop.matches(headers[p])
    ]
    if len(products) != 1:
        raise CatalogFileError(
            f"{', '.join(p.name for p in combinations)}: a PrestaShop combinations CSV joins "
            f"its products CSV, so give exactly one PrestaShop products CSV beside it "
            f"(found {len(products)}); or join them yourself in one workbook, products first"
        )
    product_file = products[0]
    workbook = workdir / f"{product_file.stem}.xlsx"
    _write_workbook(
        [("products", product_file), *((f"combinations{i or ''}", c) for i, c in enumerate(combinations))],
        workbook,
    )
    note = (
        f"{product_file.name} and {', '.join(c.name for c in combinations)} joined as the "
        f"sheets of {workbook.name} (products first): a combinations file is not ingested alone"
    )
    skip = {product_file, *combinations}
    kept = [workbook if p == product_file else p for p in files if p == product_file or p not in skip]
    return kept, [note]


@contextmanager
def temporary_catalog(
    paths: Sequence[Path | str],
    settings: Settings | None = None,
    embeddings: Embeddings | None = None,
    skip_failed: bool = False,
) -> Iterator[TemporaryCatalog]:
    """A fresh embedded store in a temporary data dir holding only ``paths``, ingested
    together through the service; everything is removed on exit. ``settings`` (default: the
    configured ones) give everything but the data dir and the store. Raises CatalogFileError
    when a file is missing or fails to ingest (with ``skip_failed``: only when none
    ingests; the failures are then in the results and the notes)."""
    from shopbot.service import CatalogService
    from shopbot.settings import get_settings

    base = settings or get_settings()
    workdir = Path(tempfile.mkdtemp(prefix="shopbot-eval-"))
    try:
        files, notes = prepare_catalog_files(paths, workdir)
        temp_settings = base.model_copy(
            update={"data_dir": workdir / "data", "chroma_host": None, "seed_demo_catalog": False}
        )
        service = CatalogService(temp_settings, embeddings=embeddings)
        results = service.ingest(files)
        failed = [f"{r.source}: {r.error}" for r in results if not r.ok]
        if failed and (not skip_failed or len(failed) == len(results)):
            raise CatalogFileError("catalog file(s) failed to ingest: " + "; ".join(failed))
        notes += [f"not ingested, left out: {f}" for f in failed]
        yield TemporaryCatalog(service, results, notes)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# -- the run -----------------------------------------------------------------------------


def run_eval(
    service: CatalogService,
    questions: Sequence[Question],
    generator: str = "extractive",
    k: int = 5,
    label: str = "",
) -> dict[str, Any]:
    """Ask every question (earlier turns first, as a chat does: with the history and the
    filters the chat remembers) and score the answers."""
    from shopbot.constraints import Constraints
    from shopbot.generators import Turn

    if k < 1:
        raise ValueError("k must be at least 1")
    assistant = service.assistant(generator)
    products = product_index(service)
    titles = CatalogTitles.from_service(service)
    assistant.ask(questions[0].turns[0] if questions else "warm-up")  # load models untimed
    rows = []
    for q in questions:
        history: list[Turn] = []
        remembered: Constraints | None = None
        turn_rows = []
        for number, (turn, check) in enumerate(zip(q.turns, q.checks())):
            started = time.perf_counter()
            answer = assistant.ask(turn, history, remembered)
            latency = time.perf_counter() - started
            history += [Turn("user", turn), Turn("assistant", answer.text)]
            if answer.constraints is not None:
                remembered = Constraints.from_dict(answer.remember.to_dict())
            if check is not None:
                turn_rows.append(_score(check, answer, titles, products, k, latency))
        if q.kind == "conversation" or len(turn_rows) > 1:
            rows.append(_conversation_row(q, turn_rows))
        elif turn_rows:
            rows.append(turn_rows[-1])
    kinds = [kind for kind in KINDS if any(r["kind"] == kind for r in rows)]
    report = {
        "label": label,
        "generator": assistant.generator.name,
        "k": k,
        "list_limit": LIST_LIMIT,
        "products_in_store": len(products),
        "overall": summarise(rows),
        "by_kind": {kind: summarise([r for r in rows if r["kind"] == kind]) for kind in kinds},
        "questions": rows,
    }
    unresolved = sorted({t for r in rows for t in r.get("unresolved_titles", ())})
    if unresolved:
        report["unresolved_titles"] = unresolved
    return report


def _score(
    q: Question, answer: Any, titles: CatalogTitles, products: Mapping[str, ProductFacts],
    k: int, latency: float,
) -> dict[str, Any]:
    """One scored turn."""
    resolved, unresolved = titles.resolve(q.expected_titles)
    targets = tuple(dict.fromkeys([*q.expected_ids, *resolved]))
    scored = replace(q, expected_ids=targets)
    top = top_slots(answer.sources, k)
    named = titles.named(answer.text)
    facts_ok = facts_correct(q, answer.text)
    checks = [] if facts_ok is None else [facts_ok]
    if q.first_title:
        first = titles.ids_of(q.first_title)
        checks.append(bool(named) and named[0] in first)
    cards = [s for s in answer.sources if _get(s, "kind") == "product"]
    if q.not_sold:
        checks.append(not named and not cards)
    completeness = None
    if targets and (q.kind in LIST_KINDS or (q.kind == "conversation" and len(targets) > 1)):
        completeness = sum(1 for t in targets if t in named) / min(LIST_LIMIT, len(targets))
    misnamed = None
    if q.not_sold:
        misnamed = bool(named)
    elif targets and completeness is None and named:
        misnamed = named[0] not in targets
    return {
        "id": q.id,
        "kind": q.kind,
        "question": q.question,
        "standalone_question": answer.standalone_question,
        "filters": answer.constraints.chips() if answer.constraints else [],
        "recall": recall_at_k(scored, top, k),
        "filter_precision": filter_precision(q, top, products, k),
        "facts_ok": all(checks) if checks else None,
        "list_completeness": None if completeness is None else round(min(1.0, completeness), 4),
        "misnamed": misnamed,
        "missing_facts": [f for f in q.facts if not fact_present(f, answer.text)],
        "present_absent": [a for a in q.absent if fact_present(a, answer.text)],
        "named": named[:12],
        "unresolved_titles": unresolved,
        "top_ids": [s.id for s in top],
        "answer": answer.text,
        "latency_s": round(latency, 4),
    }


def _conversation_row(q: Question, turns: list[dict[str, Any]]) -> dict[str, Any]:
    """A conversation scores as a whole: right only when every checked turn is right."""
    oks = [t["facts_ok"] for t in turns if t["facts_ok"] is not None]
    return {
        "id": q.id,
        "kind": q.kind,
        "question": " / ".join(q.turns),
        "recall": _mean(t["recall"] for t in turns),
        "filter_precision": _mean(t["filter_precision"] for t in turns),
        "facts_ok": all(oks) if oks else None,
        "turn_facts_ok": _mean(oks),
        "list_completeness": _mean(t["list_completeness"] for t in turns),
        "misnamed": any(t["misnamed"] for t in turns if t["misnamed"] is not None)
        if any(t["misnamed"] is not None for t in turns) else None,
        "unresolved_titles": sorted({u for t in turns for u in t["unresolved_titles"]}),
        "latency_s": turns[-1]["latency_s"] if turns else None,
        "turns": turns,
    }


def _title_key(text: str) -> str:
    import html

    text = html.unescape(str(text)).translate(_DASHES)
    text = re.sub(r"[\u2122\u00ae\u00a9]", "", text)
    return " ".join(text.casefold().split())


@dataclass
class CatalogTitles:
    """The titles of the products a shopper can be offered, to resolve a question set's
    ``expected_titles`` and to find which products an answer names (and in what order)."""

    by_key: dict[str, set[str]]

    @classmethod
    def from_service(cls, service: CatalogService) -> CatalogTitles:
        snap = service.retriever.index.snapshot()
        by_key: dict[str, set[str]] = {}
        for pid, position in snap.records.items():
            product = snap.chunks[position].product
            if product is not None and product.visible and product.title:
                by_key.setdefault(_title_key(product.title), set()).add(pid)
        return cls(by_key)

    def ids_of(self, title: str) -> set[str]:
        return set(self.by_key.get(_title_key(title), ()))

    def resolve(self, titles: Iterable[str]) -> tuple[list[str], list[str]]:
        ids: list[str] = []
        unresolved: list[str] = []
        for title in titles:
            found = sorted(self.ids_of(title))
            ids.extend(found) if found else unresolved.append(title)
        return ids, unresolved

    def named(self, answer: str) -> list[str]:
        """Product ids in the order the answer first names their titles (a longer title
        wins where two overlap: "Alpine 2 Tent Footprint" is not the "Alpine 2 Tent")."""
        text = _title_key(answer)
        spans: list[tuple[int, int, str]] = []
        for key, ids in self.by_key.items():
            for m in re.finditer(rf"(?<!\w){re.escape(key)}(?!\w)", text):
                spans.extend((m.start(), m.end(), pid) for pid in sorted(ids))
        spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
        out: list[str] = []
        covered_until = -1
        last = (-1, -1)
        for start, end, pid in spans:
            if start < covered_until and end <= covered_until and (start, end) != last:
                continue  # inside a longer title named here
            last, covered_until = (start, end), max(covered_until, end)
            if pid not in out:
                out.append(pid)
        return out


def format_table(report: Mapping[str, Any]) -> str:
    """The overall and per-kind numbers as a text table."""
    k = report.get("k", 5)
    header = ("set", "questions", f"Recall@{k}", "filter precision", "fact accuracy",
              "list completeness", "misnamed", "p50 s")

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    rows = []
    for name, s in [("overall", report["overall"]), *report["by_kind"].items()]:
        rows.append(
            (
                name,
                str(s["questions"]),
                cell(s["recall_at_k"]),
                cell(s["filter_precision"]),
                cell(s["fact_accuracy"]),
                cell(s.get("list_completeness")),
                cell(s.get("misnamed_rate")),
                cell(s["latency_p50_s"]),
            )
        )
    widths = [max(len(c) for c in col) for col in zip(header, *rows)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in (header, *rows)]
    title = f"{report.get('label') or 'eval'}: generator {report['generator']}, k={k}"
    return "\n".join([title, *lines])
