"""``python -m finetune build-dataset --out DIR``: train / val / test JSONL of (question,
context, answer) examples for fine-tuning the bot's Flan-T5.

Where the examples come from:

* **catalog**: every chunk in the store. Products are read with
  :meth:`shopbot.products.Product.from_metadata`; drafts, archived and hidden products (and
  pages about them) give no questions. Product records give questions per field (price,
  stock, brand, category) and per attribute ("Material: ...", "Colours: ..."), in several
  phrasings picked by the seed; a product with options also gives questions about its
  options, a sample of its variants' prices and stock, and its sale
  (:mod:`finetune.variant_questions`, answered as the no-LLM generator answers). Document
  passages give questions per section heading (the FAQ's own questions, "What is your policy
  on free shipping?"). Answers are short, built only from the record, and cite it as ``[n]``
  the way the bot's prompt asks.
* **feedback**: answers shoppers gave a thumbs-up (:class:`shopbot.feedback.FeedbackStore`),
  with the sources they were answered from.
* **teacher** (optional): an OpenAI-compatible model (the ``openai_*`` settings) writes
  question / answer pairs from catalog chunks.

The context of a catalog or teacher question is what the retriever returns for it (the same
search the bot runs, ``k`` sources), and the model input is built by
:func:`shopbot.generators.flan_t5.build_prompt`, the function the flan-t5 generator calls at
inference, with the tokenizer of the model to be trained: no train/serve skew. A question is
kept only when the record its answer comes from is among the retrieved sources and the facts
of the answer are visible in that source's part of the prompt (a source may be shortened to
fit the model's input); the others are counted as skipped.

Splits are by group (a product, a document, or a chat about neither), hashed with the seed,
so no product's questions are in two splits (a page or spec sheet that names a product by a
variant's SKU is in its product's group).

Sale answers are true at the moment of the build (recorded as ``as_of``): a sale window that
has ended is not a sale.

Teacher failures: when the teacher cannot be used at all (no key, wrong key, unknown model,
server unreachable) the build stops before anything is written, since the user asked for it;
a single bad reply (not JSON, a timeout, a rate limit) only skips that chunk and is counted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from finetune.records import SPLITS, Example, dataset_hash, write_meta, write_split
from shopbot.products import Product
from shopbot.vocabulary import AMBIGUOUS_UNITS, UNITS, alternatives, option_kind

if TYPE_CHECKING:
    from finetune.variant_questions import VariantQuestion
    from shopbot.feedback import FeedbackStore
    from shopbot.retrieval import Source
    from shopbot.service import CatalogService
    from shopbot.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_SEED = 0
DEFAULT_PHRASINGS = 2
DEFAULT_TEACHER_CHUNKS = 20
TEACHER_PAIRS_PER_CHUNK = 3
TEACHER_WORKERS = 4
# Longest catalog text handed to the teacher per chunk, in characters.
TEACHER_CHUNK_CHARS = 2500
# An answer taken from a passage: sentences until it is at least this long (at most two).
PASSAGE_ANSWER_CHARS = 90
MAX_VALUE_CHARS = 150

Chunk = tuple[str, str, dict[str, Any]]  # (chunk id, text, metadata), as the store returns it

# -- question and answer templates -------------------------------------------------------------
# Several phrasings per field; ``phrasings`` of them are picked per product by the seed. Each
# answer is one short sentence; its citation is added once the retriever has placed the
# record among the sources.

PRODUCT_QUESTIONS: dict[str, tuple[str, ...]] = {
    "price": (
        "How much is the {title}?",
        "What does the {title} cost?",
        "What's the price of the {title}?",
        "How much do you charge for the {title}?",
        "What is the {title} priced at?",
    ),
    "stock": (
        "Is the {title} in stock?",
        "Do you have the {title} available right now?",
        "How many of the {title} do you have in stock?",
        "Can I order the {title} today, or is it sold out?",
    ),
    "brand": (
        "Who makes the {title}?",
        "What brand is the {title}?",
        "Which brand is the {title} from?",
    ),
    "category": (
        "What kind of product is the {title}?",
        "Which category is the {title} in?",
        "Where in the shop do I find the {title}?",
    ),
}

# Attribute kinds with their own phrasings; any other attribute uses GENERIC_QUESTIONS.
ATTRIBUTE_QUESTIONS: dict[str, tuple[str, ...]] = {
    "colour": (
        "What colours does the {title} come in?",
        "Which colors is the {title} available in?",
        "Can I get the {title} in different colours?",
    ),
    "material": (
        "What is the {title} made of?",
        "What material is the {title}?",
        "Which materials are used in the {title}?",
    ),
    "weight": (
        "How much does the {title} weigh?",
        "What is the weight of the {title}?",
        "How heavy is the {title}?",
    ),
    "size": (
        "What sizes does the {title} come in?",
        "Which sizes are available for the {title}?",
        "Is the {title} available in my size? Which sizes do you have?",
    ),
}
GENERIC_QUESTIONS = (
    "What is the {name} of the {title}?",
    "What's the {name} on the {title}?",
    "Can you tell me the {name} of the {title}?",
)

# Attribute names (normalised: lower case, letters and digits) that are each one of the kinds
# above. Shop exports name the same thing many ways.
ATTRIBUTE_KINDS: dict[str, str] = {
    **dict.fromkeys(("colour", "color", "colours", "colors", "colourway"), "colour"),
    **dict.fromkeys(("material", "materials", "fabric"), "material"),
    **dict.fromkeys(("weight", "weightg", "weightkg", "variantgrams", "grams"), "weight"),
    **dict.fromkeys(("size", "sizes"), "size"),
}
# Store-export plumbing and fields asked elsewhere (price, stock, ...): no questions.
SKIPPED_ATTRIBUTES = {
    "sku", "id", "brand", "vendor", "category", "price", "stock", "handle", "type", "tags",
    "published", "status", "giftcard", "notes", "subcategory", "url", "image", "barcode",
    "title", "description", "productcategory", "specs",
}
SKIPPED_ATTRIBUTE_PREFIXES = ("variant", "image", "seo", "googleshopping", "included", "option")

# Passage questions by heading. {h}: the heading in lower case, {doc}: the document title,
# {topic}: the document title in lower case, {title}: the product a product page is about.
# {topic} is "your returns & refunds policy" for a policy or guide, else "the <title>".
POLICY_INTRO_QUESTIONS = (
    "What is {topic}?",
    "Can you summarise {topic}?",
    "Tell me about {topic}.",
)
POLICY_SECTION_QUESTIONS = (
    "What is your policy on {h}?",
    "Can you tell me about {h}?",
    "What does {topic} say about {h}?",
    "I have a question about {h}. What are the rules?",
)
POLICY_WORDS = {
    "policy", "policies", "guide", "terms", "conditions", "warranty", "returns", "shipping",
}
FAQ_QUESTIONS = ("{heading}", "Quick question: {heading_lc}", "Hi! {heading}")
PRODUCT_OVERVIEW_QUESTIONS = (
    "Tell me about the {title}.",
    "What is the {title} like?",
    "Can you describe the {title}?",
)
PRODUCT_SECTION_QUESTIONS = (
    "Tell me about the {h} of the {title}.",
    "What can you tell me about the {h} of the {title}?",
    "What about the {h} of the {title}?",
)
# Headings such as "In the box".
PRODUCT_PREPOSITION_QUESTIONS = (
    "What comes {h} with the {title}?",
    "What's {h} with the {title}?",
)
# PDF tables come out of the parser as one "heading" per cell: a chunk whose section lists
# more headings than this is a table, and gives no passage questions.
MAX_SECTION_HEADINGS = 6
OVERVIEW_HEADINGS = {"description", "overview", "about", "product description", "summary"}

# A "key fact" of a passage or a teacher's answer: money, a duration, a measure.
# Units are the shop vocabulary's (shopbot.vocabulary.UNITS), durations are policy words.
_KEY_FACT = re.compile(
    r"[$€£]\s?\d+(?:,\d{3})*(?:\.\d+)?"
    r"|\b\d+(?:[.,]\d+)?(?:\s?[–-]\s?\d+(?:[.,]\d+)?)?\s?"
    r"(?:%|°C|°F|(?:business days?|days?|hours?|weeks?|months?|years?|"
    + "(?i:" + alternatives(u for u in UNITS if u not in AMBIGUOUS_UNITS
                            and not u.startswith("°"))[3:-1]
    + r"))\b)"
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9$€£])")
_DATE_LINE = re.compile(r"\blast (?:updated|revised)\b|\beffective (?:from|as of)\b", re.I)
# "SKU: RL-TNT-001", "Availability: In stock (18 available)": a field, not a sentence.
_FIELD_LINE = re.compile(r"^[A-Z][\w ()/&-]{0,30}: \S")
_CITATION = re.compile(r"\s*\[\d+\]")
_PROMPT_BLOCK = re.compile(r"^\[(\d+)\] ")


# -- building ----------------------------------------------------------------------------------


@dataclass
class _Candidate:
    """An example before retrieval: the answer's citation and the prompt come later."""

    origin: str
    group: str
    task: str
    question: str
    answer: str  # catalog/teacher: without its citation; feedback: as rated
    facts: list[str] = field(default_factory=list)
    # Strings the cited source's part of the prompt must contain (the answer is grounded); a
    # tuple: any one of its strings.
    support: list[str | tuple[str, ...]] = field(default_factory=list)
    sources: list[Source] | None = None  # fixed sources (feedback); None = retrieve
    # A shorter answer to the same question, used when the prompt does not show all this
    # one states (the price without the sale a record's last lines tell).
    fallback: _Candidate | None = None


@dataclass
class BuildStats:
    """What happened to the candidates, for the summary."""

    skipped: Counter = field(default_factory=Counter)
    feedback_records: int = 0
    teacher_chunks: int = 0
    teacher_failed: int = 0
    teacher_pairs: int = 0
    teacher_errors: list[str] = field(default_factory=list)


def build_dataset(
    service: CatalogService,
    tokenizer: Any,
    out_dir: Path | str,
    *,
    feedback: FeedbackStore | None = None,
    teacher: Teacher | None = None,
    teacher_chunks: int = DEFAULT_TEACHER_CHUNKS,
    k: int | None = None,
    seed: int = DEFAULT_SEED,
    val_frac: float = 0.1,
    test_frac: float = 0.1,
    phrasings: int = DEFAULT_PHRASINGS,
    tokenizer_name: str = "",
) -> dict[str, Any]:
    """Build the dataset into ``out_dir`` and return its summary (also in ``dataset.json``).

    ``tokenizer`` is the tokenizer of the model to be fine-tuned (prompts are fitted to its
    input limit exactly as the flan-t5 generator fits them). ``feedback``: thumbs-up answers
    are added from it; ``teacher``: pairs written by an LLM from ``teacher_chunks`` chunks.
    Nothing is written when the build fails."""
    from shopbot.generators.flan_t5 import PROMPT_MARGIN_TOKENS, input_limit

    started = time.perf_counter()
    _check_fractions(val_frac, test_frac)
    if phrasings < 1:
        raise ValueError("--phrasings must be at least 1")
    k = k or service.settings.retrieval_k
    if k < 1 or teacher_chunks < 0:
        raise ValueError("--k must be at least 1 and --teacher-chunks at least 0")
    chunks = sorted(service.store.iter_chunks(), key=lambda c: c[0])
    if not chunks:
        raise RuntimeError(
            "The catalog store is empty, so there is nothing to build questions from: ingest "
            "the shop's documents first (`python -m shopbot ingest catalog/`)."
        )
    # Sales are judged now, as the prompts are built now (shopbot.prompts).
    now = datetime.now(UTC)
    catalog = CatalogProducts.from_chunks(chunks)
    stats = BuildStats()
    log.info(
        "build-dataset: %d chunks, %d products (%d hidden)",
        len(chunks), len(catalog.visible), len(catalog.hidden),
    )

    candidates = catalog_candidates(
        chunks, seed=seed, phrasings=phrasings, now=now, catalog=catalog
    )
    if feedback is not None:
        candidates += feedback_candidates(feedback, catalog, stats)
    if teacher is not None:
        shown = [c for c in chunks if not catalog.hidden_chunk(c[2])]
        candidates += teacher.candidates(
            shown, teacher_chunks, seed=seed, stats=stats, catalog=catalog
        )
    candidates = _dedupe(candidates, stats)

    retrieved = retrieve_many(
        service, [c.question for c in candidates if c.sources is None], k
    )
    examples = _finish(candidates, retrieved, tokenizer, catalog, stats)
    if not examples:
        raise RuntimeError(
            "No example could be built: no question found its record among the retrieved "
            f"sources ({dict(stats.skipped)}). Check that the store was built with the "
            "configured embedding model."
        )

    assignment = assign_splits({e.group for e in examples}, seed, val_frac, test_frac)
    by_split: dict[str, list[Example]] = {s: [] for s in SPLITS}
    for example in sorted(examples, key=lambda e: (e.group, e.task, e.id)):
        by_split[assignment[example.group]].append(example)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        write_split(out, split, by_split[split])
    limit = input_limit(tokenizer)
    summary = _summary(
        by_split,
        assignment,
        stats,
        name=out.resolve().name,
        tokenizer=tokenizer,
        tokenizer_name=tokenizer_name or str(getattr(tokenizer, "name_or_path", "")),
        max_input_tokens=limit - PROMPT_MARGIN_TOKENS,
        k=k,
        seed=seed,
        val_frac=val_frac,
        test_frac=test_frac,
        phrasings=phrasings,
        catalog={
            "chunks": len(chunks),
            "products": len(catalog.visible),
            "hidden_products": len(catalog.hidden),
            "documents": len({m.get("doc_id") for _, _, m in chunks}),
        },
        teacher=teacher,
        as_of=now,
    )
    summary["dataset_hash"] = dataset_hash(out)
    summary["build_seconds"] = round(time.perf_counter() - started, 1)
    write_meta(out, summary)
    return summary


# -- (a) the catalog ---------------------------------------------------------------------------


@dataclass
class CatalogProducts:
    """The store's products as :meth:`Product.from_metadata` reads them: which product each
    chunk is about, and which products shoppers may not see.

    A record is keyed by the platform's product key (a Shopify handle, "alpine-2-tent"); a
    page or spec sheet may name the same product by a variant's SKU ("RL-TNT-001"). Both are
    one product, so one split group."""

    owner: dict[str, str] = field(default_factory=dict)  # product id or variant SKU -> id
    visible: set[str] = field(default_factory=set)  # ids of products shoppers may see
    hidden: set[str] = field(default_factory=set)  # drafts, archived and hidden products
    records: set[str] = field(default_factory=set)  # ids that have a product record

    @classmethod
    def from_chunks(cls, chunks: Iterable[Chunk]) -> CatalogProducts:
        found = cls()
        records: list[Product] = []
        for _chunk_id, _text, meta in chunks:
            product = Product.from_metadata(meta)
            if product is None or not product.id:
                continue
            if meta.get("kind") == "product":
                records.append(product)
            else:
                found.owner.setdefault(product.id, product.id)  # a product with only a page
        # Variant SKUs first, product ids over them; a visible record's over a hidden one's.
        ordered = sorted(records, key=lambda p: p.visible)
        for product in ordered:
            found.owner.update(dict.fromkeys(product.skus, product.id))
        for product in ordered:
            found.owner[product.id] = product.id
        found.records = {p.id for p in records}
        shown = {p.id for p in records if p.visible}
        # As the catalog index does: a product hidden in one file and listed in another is
        # shown.
        found.hidden = {p.id for p in records if not p.visible} - shown
        found.visible = set(found.owner.values()) - found.hidden
        return found

    def product_id(self, meta: dict[str, Any]) -> str:
        """The id of the product a chunk is about ("" for a passage about none)."""
        product = Product.from_metadata(meta)
        key = product.id if product is not None else ""
        return self.owner.get(key, key)

    def hidden_chunk(self, meta: dict[str, Any]) -> bool:
        """A chunk about a product shoppers may not see (its record or a page about it)."""
        if meta.get("kind") == "product":
            product = Product.from_metadata(meta)
            if product is not None and not product.visible:
                return True
        return self.product_id(meta) in self.hidden

    def group(self, meta: dict[str, Any]) -> str:
        """``product:<id>`` for anything about one product (its record, its page, its spec
        sheet), else ``doc:<doc_id>``: the unit splits are made of."""
        product_id = self.product_id(meta)
        if product_id:
            return f"product:{product_id}"
        return f"doc:{meta.get('doc_id', '')}"

    def product_of_source(self, source: Source) -> str:
        """The id of the product a retrieved source is about, or ""."""
        return self.owner.get(source.id, "") if source.id else ""


def catalog_candidates(
    chunks: Sequence[Chunk],
    *,
    seed: int,
    phrasings: int = DEFAULT_PHRASINGS,
    now: datetime | None = None,
    catalog: CatalogProducts | None = None,
) -> list[_Candidate]:
    """Questions with grounded answers for every chunk: product fields, attributes, options,
    variants and sales, and passage sections. Nothing about a hidden product."""
    from finetune.variant_questions import variant_questions

    now = now or datetime.now(UTC)
    catalog = catalog or CatalogProducts.from_chunks(chunks)
    out: list[_Candidate] = []
    for _chunk_id, text, meta in chunks:
        if catalog.hidden_chunk(meta):
            continue
        group = catalog.group(meta)
        product_id = catalog.product_id(meta)
        product = Product.from_metadata(meta)
        if meta.get("kind") == "product":
            if product is None:
                continue
            out += _product_field_candidates(product, group, seed, phrasings, now)
            out += _attribute_candidates(product, group, seed, phrasings)
            out += [
                _variant_candidate(q, group)
                for q in variant_questions(
                    product, group=group, seed=seed, phrasings=phrasings, now=now
                )
            ]
        else:
            if product is not None and product_id and product_id not in catalog.records:
                # A product that exists only as a page or a spec sheet: its price, brand and
                # category are in the page's metadata.
                out += _product_field_candidates(product, group, seed, phrasings, now)
            out += _passage_candidates(text, meta, group, seed, phrasings)
    return out


def _variant_candidate(question: VariantQuestion, group: str) -> _Candidate:
    fallback = question.fallback
    return _Candidate(
        "catalog", group, question.task, question.question, question.answer,
        list(question.facts), list(question.support),
        fallback=_variant_candidate(fallback, group) if fallback is not None else None,
    )


def _pick(templates: Sequence[str], count: int, seed: int, *key: str) -> list[str]:
    """``count`` of ``templates``, the same ones for the same seed and key on every run."""
    rng = random.Random("|".join((str(seed), *key)))
    return rng.sample(list(templates), min(count, len(templates)))


def _product_field_candidates(
    product: Product, group: str, seed: int, phrasings: int, now: datetime
) -> list[_Candidate]:
    from finetune.variant_questions import stated_facts
    from shopbot.variant_facts import sale_clause

    title = product.title.strip()
    if not title:
        return []
    # (task, answer, facts, support)
    found: list[tuple[str, str, list[str], list[str | tuple[str, ...]]]] = []
    sale_answer: str = ""  # the price answer with the sale, when on sale
    sale_support: list[str | tuple[str, ...]] = []
    prices = product.price_range(now)
    if prices is not None:
        # As the extractive generator says it: the range, what it depends on, the sale.
        shown = product.price_text(now)
        answer = f"The {title} costs {shown}"
        if product.has_options and prices[0] != prices[1]:
            answer += f", depending on {' and '.join(dict.fromkeys(product.options)).lower()}"
        on_sale = product.on_sale(now)
        if on_sale:
            clause = sale_clause(on_sale, product.currency, named=len(product.variants) > 1)
            sale_answer = f"{answer}. {clause[:-1]}"
            sale_support = [shown, *stated_facts(clause)[1]]
        found.append(("price", answer, [shown], [shown]))
    available, quantity = product.available(), product.quantity()
    if available and quantity:
        answer = f"Yes, the {title} is in stock: {quantity} available"
        found.append(("stock", answer, [str(quantity)], [str(quantity)]))
    elif available:
        found.append(("stock", f"Yes, the {title} is in stock", ["in stock"], ["in stock"]))
    elif available is False:
        answer = f"Sorry, the {title} is out of stock right now"
        found.append(("stock", answer, ["out of stock"], ["out of stock"]))
    if product.brand:
        found.append(("brand", f"The {title} is made by {product.brand}", [product.brand],
                      [product.brand]))
    if product.category:
        category = product.category
        found.append(("category", f"The {title} is in our {category} category", [category],
                      [category]))
    out = []
    for task, answer, facts, support in found:
        for template in _pick(PRODUCT_QUESTIONS[task], phrasings, seed, group, task):
            question = template.format(title=title)
            cand = _Candidate("catalog", group, task, question, answer, facts, support)
            if task == "price" and sale_answer:
                # The sale is told when the prompt shows it (a record's variant lines come
                # last, and a long record is shortened to fit), else the price alone.
                cand = _Candidate("catalog", group, task, question, sale_answer, facts,
                                  sale_support, fallback=cand)
            out.append(cand)
    return out


def product_attributes(product: Product) -> list[tuple[str, str]]:
    """The product's attributes worth a question, as (name, value): the option of a product
    sold in one variant ("Colour: Forest Green / Slate Grey"; options of a product with
    several are asked about in :mod:`finetune.variant_questions`), then its attributes minus
    the store-export plumbing. A "Specs" attribute that holds several "Label: value" parts
    separated by ";" gives one attribute per part."""
    pairs: list[tuple[str, str]] = []
    if not product.has_options:
        for name in product.options:
            values = product.option_values(name)
            if values:
                pairs.append((name, ", ".join(values)))
        weight = product.variants[0].weight_grams if len(product.variants) == 1 else None
        if weight and not any(ATTRIBUTE_KINDS.get(_norm_name(n)) == "weight"
                              for n in product.attributes):
            pairs.append(("Weight", f"{weight:g} g"))  # a platform's "Variant Grams"
    option_kinds = set(product.option_kinds()) if product.has_options else set()
    for name, raw in product.attributes.items():
        if option_kind(name) in option_kinds:
            continue  # "Sizes: S, M, L" beside a Size option: the option is asked about
        value = " ".join(str(raw).split())
        if _norm_name(name) == "specs":
            for part in value.split(";"):
                sub_name, sub_sep, sub_value = part.strip().partition(": ")
                if sub_sep:
                    pairs.append((sub_name.strip(), sub_value.strip()))
            continue
        pairs.append((name.strip(), value))
    return [(n, v) for n, v in pairs if _wanted_attribute(n, v)]


def _norm_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _wanted_attribute(name: str, value: str) -> bool:
    key = _norm_name(name)
    skipped = key in SKIPPED_ATTRIBUTES or key.startswith(SKIPPED_ATTRIBUTE_PREFIXES)
    if not key or (skipped and key not in ATTRIBUTE_KINDS):  # "Variant Grams" is a weight
        return False
    if not value or len(value) > MAX_VALUE_CHARS or "://" in value:
        return False
    return value.strip().lower() not in {"true", "false", "yes", "no", "n/a", "-", "—"}


def _split_list(value: str) -> list[str]:
    """"Forest Green / Slate Grey" or "Black, Lime" -> the items ("S/M" stays one)."""
    items = [i.strip() for i in re.split(r",\s+|\s+/\s+", value) if i.strip()]
    return items or [value]


def _join_list(items: Sequence[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _short_fact(value: str) -> str:
    """The part of a long value a right answer must at least contain."""
    if len(value) <= 60:
        return value
    return re.split(r"[,;(]", value, maxsplit=1)[0].strip() or value[:60]


def _attribute_candidates(
    product: Product, group: str, seed: int, phrasings: int
) -> list[_Candidate]:
    title = product.title.strip()
    if not title:
        return []
    out: list[_Candidate] = []
    seen: set[str] = set()
    for name, value in product_attributes(product):
        key = _norm_name(name)
        kind = ATTRIBUTE_KINDS.get(key, "")
        topic = kind or key
        if topic in seen:  # "Weight (g)" and "Weight" in the specs: ask once
            continue
        seen.add(topic)
        if kind == "colour":
            items = _split_list(value)
            answer, facts = f"The {title} comes in {_join_list(items)}", items
            support = items
        elif kind == "size":
            items = _split_list(value)
            answer, facts = f"The {title} comes in sizes {_join_list(items)}", items
            support = items
        elif kind == "material":
            answer, facts = f"The {title} is made of {value}", [_short_fact(value)]
            support = [value]
        elif kind == "weight":
            numeric = re.fullmatch(r"\d+(?:\.\d+)?", value)
            grams = key in {"weightg", "variantgrams", "grams"} and numeric
            shown = f"{value} g" if grams else value
            answer, facts, support = f"The {title} weighs {shown}", [value], [value]
        else:
            label = name if name.isupper() else name[:1].lower() + name[1:]
            verb = "are" if label.endswith("s") and not label.endswith("ss") else "is"
            answer = f"The {label} of the {title} {verb} {value}"
            facts, support = [_short_fact(value)], [value]
            for template in _pick(GENERIC_QUESTIONS, phrasings, seed, group, "attr", key):
                out.append(
                    _Candidate(
                        "catalog", group, "attribute",
                        template.format(name=label, title=title), answer, facts, support,
                    )
                )
            continue
        for template in _pick(ATTRIBUTE_QUESTIONS[kind], phrasings, seed, group, "attr", kind):
            out.append(
                _Candidate(
                    "catalog", group, "attribute", template.format(title=title), answer, facts,
                    support,
                )
            )
    return out


def passage_sections(text: str, meta: dict[str, Any]) -> list[tuple[str, str]]:
    """(heading, body) pairs of a passage chunk. The chunker records the headings a chunk
    spans in ``section`` ("Return window / Condition of returned items") and the text holds
    each heading on a line of its own; text before the first heading belongs to the
    document title."""
    doc_title = str(meta.get("doc_title") or meta.get("title") or "").strip()
    headings = [h.strip() for h in str(meta.get("section") or "").split(" / ") if h.strip()]
    if len(headings) > MAX_SECTION_HEADINGS:
        return []
    lines = [line.strip() for line in text.splitlines()]
    if lines and doc_title and lines[0] == doc_title:
        lines = lines[1:]
    sections: list[tuple[str, list[str]]] = [(doc_title, [])]
    wanted = list(headings)
    for line in lines:
        if wanted and line in wanted:
            wanted = wanted[wanted.index(line) + 1 :]
            sections.append((line, []))
        elif line:
            sections[-1][1].append(line)
    return [(h, "\n".join(body)) for h, body in sections if h and body]


def _usable_heading(heading: str) -> bool:
    return (
        3 <= len(heading) <= 80
        and ":" not in heading
        and "://" not in heading
        and not re.fullmatch(r"[\d\s.,x×/-]+", heading)
    )


def _answer_pieces(body: str) -> list[str]:
    """The first sentence(s) of a section body that answer a question about it, as they
    appear in the prompt (whitespace collapsed). Lists (lines with no full stop) give their
    first items."""
    paragraphs = [" ".join(p.split()) for p in body.splitlines() if p.strip()]
    paragraphs = [
        p
        for p in paragraphs
        if not _DATE_LINE.search(p)
        and "://" not in p
        and not (_FIELD_LINE.match(p) and len(p.split()) < 12 and not p.endswith("."))
    ]
    if not paragraphs:
        return []
    if not re.search(r"[.!?]$", paragraphs[0]):  # a list of features
        items = [p for p in paragraphs[:3] if len(p.split()) >= 2 and not re.search(r"[.!?]$", p)]
        return items if len(items) >= 2 else []
    sentences: list[str] = []
    for sentence in _SENTENCE_END.split(" ".join(paragraphs)):
        if sentences and re.fullmatch(r"\d{1,2}\.", sentences[-1]):  # "1. Lay out the ..."
            sentences[-1] += " " + sentence
        else:
            sentences.append(sentence.strip())
    pieces: list[str] = []
    for sentence in sentences:
        pieces.append(sentence)
        real = [p for p in pieces if len(p.split()) >= 4]  # "Yes." does not count
        if len(real) == 2 or sum(len(p) for p in pieces) >= PASSAGE_ANSWER_CHARS:
            break
    if len(" ".join(pieces).split()) < 6:
        return []
    return pieces


def _lower_first(text: str) -> str:
    words = text.split(" ", 1)
    if words[0].isupper() or any(c.isupper() for c in words[0][1:]):
        return text  # an acronym or a name ("FAQ", "iPhone")
    return text[:1].lower() + text[1:]


def _topic(doc_title: str) -> str:
    """How a shopper names a document: "your returns & refunds policy", "the Ridgeline
    Outfitters FAQ"."""
    words = doc_title.split()
    if words and words[-1].lower() in POLICY_WORDS:
        return "your " + " ".join(w.lower() if w.istitle() else w for w in words)
    return f"the {doc_title}"


def _passage_candidates(
    text: str, meta: dict[str, Any], group: str, seed: int, phrasings: int
) -> list[_Candidate]:
    doc_title = str(meta.get("doc_title") or meta.get("title") or "").strip()
    product_title = str(meta.get("title") or doc_title).strip()
    out: list[_Candidate] = []
    for heading, body in passage_sections(text, meta):
        if not _usable_heading(heading):
            continue
        pieces = _answer_pieces(body)
        if not pieces:
            continue
        if pieces[0].endswith((".", "!", "?")) or len(pieces) == 1:
            answer = " ".join(pieces)
        else:
            answer = "; ".join(pieces)
        facts = _key_facts(answer)[:2]
        values = {
            "heading": heading,
            "heading_lc": _lower_first(heading),
            "h": _lower_first(heading).rstrip("?"),
            "doc": doc_title,
            "topic": _topic(doc_title),
            "title": product_title,
        }
        if group.startswith("product:"):
            task = "product_info"
            if heading.lower() in OVERVIEW_HEADINGS or heading == product_title:
                templates = PRODUCT_OVERVIEW_QUESTIONS
            elif heading.lower().startswith(("in ", "inside ", "with ")):
                templates = PRODUCT_PREPOSITION_QUESTIONS
            else:
                templates = PRODUCT_SECTION_QUESTIONS
        else:
            task = "policy"
            if heading.endswith("?"):
                templates = FAQ_QUESTIONS
            elif heading == doc_title:
                templates = POLICY_INTRO_QUESTIONS
            else:
                templates = POLICY_SECTION_QUESTIONS
        for template in _pick(templates, phrasings, seed, group, "section", heading):
            out.append(
                _Candidate(
                    "catalog", group, task, template.format(**values), answer, facts, pieces
                )
            )
    return out


def _key_facts(text: str) -> list[str]:
    found: list[str] = []
    for match in _KEY_FACT.finditer(_CITATION.sub("", text)):
        fact = match.group(0).strip()
        if fact not in found:
            found.append(fact)
    return found


# -- (b) feedback ------------------------------------------------------------------------------


def feedback_candidates(
    store: FeedbackStore, catalog: CatalogProducts, stats: BuildStats | None = None
) -> list[_Candidate]:
    """Every thumbs-up answer, with the sources it was answered from. Its group is that of
    its first source about a product or document, so a chat about a product lands in the
    same split as the product's catalog questions. A chat answered from a product that is
    now hidden (a draft, archived) is left out."""
    from shopbot.feedback import FeedbackStoreError

    records = []
    try:
        offset = 0
        while True:
            page = store.list(limit=500, rating=1, offset=offset)
            records += page
            if len(page) < 500:
                break
            offset += 500
    except FeedbackStoreError as exc:
        raise RuntimeError(
            f"{exc}. Pass --no-feedback to build from the catalog alone."
        ) from None
    stats = stats if stats is not None else BuildStats()
    out = []
    for record in sorted(records, key=lambda r: r.id):
        question = (record.standalone_question or record.question or "").strip()
        if not question or not record.answer.strip():
            continue
        sources = [source_from_dict(s) for s in record.sources if isinstance(s, dict)]
        if any(catalog.product_of_source(s) in catalog.hidden for s in sources):
            stats.skipped["hidden"] += 1
            continue
        group = next(
            (g for g in (group_of_source(s, catalog) for s in sources) if g),
            f"chat:{record.id}",
        )
        out.append(
            _Candidate("feedback", group, "chat", question, record.answer.strip(), sources=sources)
        )
    stats.feedback_records = len(out)
    return out


def source_from_dict(data: dict[str, Any]) -> Source:
    """A Source from a stored ``Source.to_dict()``; stored feedback has no ``text``, so the
    snippet stands in for it (as the prompt builder itself does)."""
    from dataclasses import fields

    from shopbot.retrieval import Source

    names = {f.name for f in fields(Source)}
    values = {k: v for k, v in data.items() if k in names}
    defaults: dict[str, Any] = {
        "id": "", "title": "", "price": None, "currency": None, "category": "", "brand": "",
        "url": "", "source": "", "snippet": "", "score": 0.0,
    }
    for name, default in defaults.items():
        values.setdefault(name, default)
    values["text"] = values.get("text") or values.get("snippet") or ""
    product = values.get("product")
    values["product"] = Product.from_dict(product) if isinstance(product, dict) else None
    values["variants"] = tuple(values.get("variants") or ())
    return Source(**values)


def group_of_source(source: Source, catalog: CatalogProducts) -> str:
    """The split group a retrieved source belongs to ("" when it names neither a product
    nor a document)."""
    product_id = catalog.product_of_source(source)
    if product_id:
        return f"product:{product_id}"
    if source.doc_id:
        return f"doc:{source.doc_id}"
    return ""


# -- (c) the teacher ---------------------------------------------------------------------------

TEACHER_SYSTEM = (
    "You write training data for an online shop's assistant. Given one catalog entry, write "
    "{pairs} different questions a shopper could ask that the entry alone answers, each with "
    "a short, friendly answer (one or two sentences) that uses only facts from the entry: "
    "exact prices, numbers and names. Reply with a JSON array only, no other text: "
    '[{{"question": "...", "answer": "..."}}, ...]'
)


class TeacherUnavailable(RuntimeError):
    """The teacher model cannot be used at all (no key, rejected key, unknown model, server
    unreachable): asking it about more chunks would fail the same way."""


class Teacher:
    """An OpenAI-compatible chat model (the bot's ``openai_*`` settings, through the openai
    generator's client and its error messages, which never contain the key)."""

    FATAL = {"auth", "permission", "model_not_found", "connection", "bad_request"}

    def __init__(self, settings: Settings, pairs: int = TEACHER_PAIRS_PER_CHUNK) -> None:
        from shopbot.generators.openai_chat import OpenAIGenerator

        self.settings = settings
        self.pairs = pairs
        self.generator = OpenAIGenerator(settings)

    @property
    def model(self) -> str:
        return self.settings.openai_model

    @property
    def endpoint(self) -> str:
        return self.generator.endpoint

    def check(self) -> None:
        """Fail at once, before any work, when no key is configured."""
        from shopbot.generators.base import GeneratorUnavailable

        try:
            self.generator.chat_model()
        except GeneratorUnavailable:
            raise TeacherUnavailable(
                "--teacher needs an OpenAI-compatible model and has no API key: set "
                "OPENAI_API_KEY (or SHOPBOT_OPENAI_API_KEY); for a local server (vLLM, TGI, "
                "Ollama) also set OPENAI_BASE_URL, e.g. http://localhost:8000/v1, and any key "
                "it accepts. Or build without --teacher."
            ) from None

    def ask(self, text: str) -> list[tuple[str, str]]:
        """Question / answer pairs for one catalog text. Raises TeacherUnavailable when the
        model cannot be used at all, ValueError for one bad reply."""
        import openai

        from shopbot.generators.openai_chat import _text

        llm = self.generator.chat_model()
        messages = [
            ("system", TEACHER_SYSTEM.format(pairs=self.pairs)),
            ("user", f"Catalog entry:\n{text[:TEACHER_CHUNK_CHARS]}"),
        ]
        try:
            reply = llm.invoke(messages, stream=False)
        except openai.OpenAIError as exc:
            failure = self.generator._failure(exc, "teacher")
            if getattr(failure, "reason", "") in self.FATAL:
                raise TeacherUnavailable(
                    f"--teacher: {failure}. Fix the openai settings (OPENAI_API_KEY, "
                    "OPENAI_BASE_URL, SHOPBOT_OPENAI_MODEL) or build without --teacher."
                ) from None
            raise ValueError(str(failure)) from None
        return parse_teacher_reply(_text(reply))

    def candidates(
        self,
        chunks: Sequence[Chunk],
        count: int,
        *,
        seed: int,
        stats: BuildStats | None = None,
        catalog: CatalogProducts | None = None,
    ) -> list[_Candidate]:
        """Ask about ``count`` chunks (a seeded sample, a few at a time); none about a hidden
        product."""
        self.check()
        stats = stats if stats is not None else BuildStats()
        catalog = catalog or CatalogProducts.from_chunks(chunks)
        chunks = [c for c in chunks if not catalog.hidden_chunk(c[2])]
        pool = [c for c in chunks if len(c[1].split()) >= 8]
        random.Random(f"{seed}|teacher").shuffle(pool)
        chosen = pool[: max(0, count)]
        stats.teacher_chunks = len(chosen)
        if not chosen:
            return []
        log.info(
            "build-dataset: asking %s at %s about %d chunks", self.model, self.endpoint, len(chosen)
        )
        # The first call alone: a wrong key or URL fails once, not once per chunk.
        results: list[list[tuple[str, str]] | Exception] = [self._safe_ask(chosen[0][1])]
        if isinstance(results[0], TeacherUnavailable):
            raise results[0]
        if len(chosen) > 1:
            with ThreadPoolExecutor(TEACHER_WORKERS, thread_name_prefix="teacher") as executor:
                results += list(executor.map(self._safe_ask, [c[1] for c in chosen[1:]]))
        fatal = next((r for r in results if isinstance(r, TeacherUnavailable)), None)
        if fatal is not None:
            raise fatal
        out: list[_Candidate] = []
        for (_chunk_id, _text, meta), result in zip(chosen, results):
            if isinstance(result, Exception):
                stats.teacher_failed += 1
                if len(stats.teacher_errors) < 5:
                    stats.teacher_errors.append(str(result))
                log.warning("build-dataset: teacher reply skipped: %s", result)
                continue
            for question, answer in result:
                # Every number the teacher states must be in the cited source's part of the
                # prompt: an invented or cut-off figure drops the pair.
                facts = _key_facts(answer)
                support = list(dict.fromkeys([*facts, *_NUMBER.findall(answer)]))
                out.append(
                    _Candidate(
                        "teacher", catalog.group(meta), "teacher", question, answer, facts,
                        support,
                    )
                )
        stats.teacher_pairs = len(out)
        return out

    def _safe_ask(self, text: str) -> list[tuple[str, str]] | Exception:
        try:
            return self.ask(text)
        except TeacherUnavailable as exc:
            return exc
        except Exception as exc:  # one bad reply must not lose the others
            if isinstance(exc, ValueError):
                return exc
            return ValueError(f"{type(exc).__name__}: {exc}")


def parse_teacher_reply(reply: str) -> list[tuple[str, str]]:
    """The (question, answer) pairs of a teacher's reply: a JSON array of objects, possibly
    inside a ```json fence. Raises ValueError when there is none."""
    text = reply.strip()
    start, end = text.find("["), text.rfind("]")
    if start < 0 or end <= start:
        raise ValueError(f"the teacher's reply is not a JSON array: {_clip(text)!r}")
    try:
        items = json.loads(text[start : end + 1])
    except ValueError as exc:
        raise ValueError(
            f"the teacher's reply is not valid JSON ({exc}): {_clip(text)!r}"
        ) from None
    pairs = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        question, answer = item.get("question"), item.get("answer")
        if not isinstance(question, str) or not isinstance(answer, str):
            continue
        question, answer = " ".join(question.split()), " ".join(answer.split())
        answer = _CITATION.sub("", answer).strip()  # we cite; the teacher saw no numbering
        if 5 <= len(question) <= 300 and 1 <= len(answer) <= 600:
            pairs.append((question, answer))
    if not pairs:
        raise ValueError(
            f'the teacher\'s reply has no {{"question", "answer"}} objects: {_clip(text)!r}'
        )
    return pairs


def _clip(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


# -- retrieval, prompts, splits ----------------------------------------------------------------


def retrieve_many(
    service: CatalogService, questions: Iterable[str], k: int
) -> dict[str, list[Source]]:
    """``service.search(question, k)`` for many questions: the questions are embedded in one
    batch (the slow part), then each goes through the same hybrid retriever with its vector,
    so the context is exactly what the bot would retrieve."""
    unique = list(dict.fromkeys(q.strip() for q in questions if q.strip()))
    if not unique:
        return {}
    log.info("build-dataset: retrieving sources for %d questions", len(unique))
    vectors = service.embeddings.embed_documents(unique)
    return {
        question: service.retrieve(question, k, vector=vector).sources
        for question, vector in zip(unique, vectors)
    }


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def prompt_blocks(prompt: str) -> dict[int, str]:
    """Source number -> that source's line in a compact prompt ("[2] title | ...: body")."""
    blocks: dict[int, str] = {}
    for line in prompt.splitlines():
        match = _PROMPT_BLOCK.match(line)
        if match:
            blocks.setdefault(int(match.group(1)), line)
    return blocks


def cite(answer: str, number: int) -> str:
    """``The tent costs $349.00`` -> ``The tent costs $349.00 [1].``"""
    answer = answer.strip()
    end = answer[-1] if answer and answer[-1] in ".!?" else "."
    body = answer[:-1].rstrip() if answer and answer[-1] in ".!?" else answer
    return f"{body} [{number}]{end}"


def _finish(
    candidates: Sequence[_Candidate],
    retrieved: dict[str, list[Source]],
    tokenizer: Any,
    catalog: CatalogProducts,
    stats: BuildStats,
) -> list[Example]:
    """Prompts, citations and token counts; drops what the prompt cannot support."""
    from shopbot.generators.flan_t5 import build_prompt, count_tokens
    from shopbot.prompts import build_compact_prompt

    examples = []
    for cand in candidates:
        if cand.sources is not None:
            sources = cand.sources
            prompt = build_prompt(tokenizer, cand.question, sources)
            answer = cand.answer
        else:
            sources = retrieved.get(cand.question.strip(), [])
            prompt = build_prompt(tokenizer, cand.question, sources)
            cited = _cited_source(cand, sources, prompt, catalog, stats)
            if cited is None:
                continue
            number, cand = cited
            answer = cite(cand.answer, number)
        full = build_compact_prompt(cand.question, sources, fits=lambda _: True)
        digest = hashlib.sha1(f"{cand.origin}|{cand.group}|{cand.question}".encode()).hexdigest()
        examples.append(
            Example(
                id=f"{cand.origin}-{digest[:12]}",
                origin=cand.origin,
                group=cand.group,
                task=cand.task,
                question=cand.question,
                answer=answer,
                input=prompt,
                facts=list(cand.facts),
                sources=[s.to_dict(with_text=True) for s in sources],
                input_tokens=count_tokens(tokenizer, prompt),
                truncated=prompt != full,
            )
        )
    return examples


def _cited_source(
    cand: _Candidate,
    sources: Sequence[Source],
    prompt: str,
    catalog: CatalogProducts,
    stats: BuildStats,
) -> tuple[int, _Candidate] | None:
    """The number of the best-ranked source of the candidate's product or document whose
    part of the prompt holds everything the answer states, and the candidate (or its
    fallback) it holds; None (and counted) if none."""
    blocks = prompt_blocks(prompt)
    in_group = False
    tried: _Candidate | None = cand
    while tried is not None:
        needed = [
            tuple(_normalise(a) for a in s) if isinstance(s, tuple) else (_normalise(s),)
            for s in tried.support
        ]
        for number, source in enumerate(sources, 1):
            if group_of_source(source, catalog) != tried.group:
                continue
            in_group = True
            block = _normalise(blocks.get(number, ""))
            if block and all(any(a in block for a in s) for s in needed):
                return number, tried
        tried = tried.fallback
    stats.skipped["not_in_prompt" if in_group else "not_retrieved"] += 1
    return None


def _question_key(question: str) -> str:
    return _normalise(question).rstrip(" ?.!")


def _dedupe(candidates: Sequence[_Candidate], stats: BuildStats) -> list[_Candidate]:
    """One example per question within a group (the first: catalog, feedback, teacher)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for cand in candidates:
        key = (cand.group, _question_key(cand.question))
        if key in seen:
            stats.skipped["duplicate"] += 1
            continue
        seen.add(key)
        out.append(cand)
    return out


def _check_fractions(val_frac: float, test_frac: float) -> None:
    if not (0 <= val_frac < 1 and 0 <= test_frac < 1 and val_frac + test_frac < 1):
        raise ValueError(
            f"--val-frac {val_frac} and --test-frac {test_frac} must each be in [0, 1) and "
            "leave something for training (their sum below 1), e.g. 0.1 and 0.1."
        )


def _unit(seed: int, group: str) -> float:
    digest = hashlib.sha256(f"{seed}|{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_splits(
    groups: Iterable[str], seed: int, val_frac: float = 0.1, test_frac: float = 0.1
) -> dict[str, str]:
    """Group -> split, by a hash of the group and the seed: stable as the catalog grows (a
    product keeps its split). With three groups or more, val and test get at least one
    group each (when their fraction is above 0)."""
    _check_fractions(val_frac, test_frac)
    units = {g: _unit(seed, g) for g in sorted(set(groups))}
    assignment = {
        g: "test" if u < test_frac else "val" if u < test_frac + val_frac else "train"
        for g, u in units.items()
    }
    if len(units) >= 3:
        for needed, frac in (("test", test_frac), ("val", val_frac)):
            if frac <= 0 or needed in assignment.values():
                continue
            sizes = Counter(assignment.values())
            donor = max(
                (s for s in SPLITS if s != needed and sizes[s] > 1),
                key=lambda s: (sizes[s], s == "train"),
            )
            moved = min((g for g, s in assignment.items() if s == donor), key=units.__getitem__)
            assignment[moved] = needed
    return assignment


# -- the summary -------------------------------------------------------------------------------


def percentiles(values: Sequence[int]) -> dict[str, int]:
    """p50 / p90 / p99 / max (nearest rank)."""
    if not values:
        return {"p50": 0, "p90": 0, "p99": 0, "max": 0}
    ordered = sorted(values)

    def rank(p: float) -> int:
        return ordered[max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))]

    return {"p50": rank(50), "p90": rank(90), "p99": rank(99), "max": ordered[-1]}


def _summary(
    by_split: dict[str, list[Example]],
    assignment: dict[str, str],
    stats: BuildStats,
    *,
    name: str,
    tokenizer: Any,
    tokenizer_name: str,
    max_input_tokens: int,
    k: int,
    seed: int,
    val_frac: float,
    test_frac: float,
    phrasings: int,
    catalog: dict[str, int],
    teacher: Teacher | None,
    as_of: datetime,
) -> dict[str, Any]:
    from shopbot.generators.flan_t5 import count_tokens

    everything = [e for split in SPLITS for e in by_split[split]]
    origins = Counter(e.origin for e in everything)
    return {
        "name": name,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        # Sale answers are true as of this moment.
        "as_of": as_of.isoformat(timespec="seconds"),
        "tokenizer": tokenizer_name,
        "max_input_tokens": max_input_tokens,
        "k": k,
        "seed": seed,
        "val_frac": val_frac,
        "test_frac": test_frac,
        "phrasings": phrasings,
        "examples": len(everything),
        "splits": {s: len(by_split[s]) for s in SPLITS},
        "groups": {s: sum(1 for v in assignment.values() if v == s) for s in SPLITS},
        "origins": {o: origins.get(o, 0) for o in ("catalog", "feedback", "teacher")},
        "origins_by_split": {
            s: dict(sorted(Counter(e.origin for e in by_split[s]).items())) for s in SPLITS
        },
        "tasks": dict(sorted(Counter(e.task for e in everything).items())),
        "input_tokens": percentiles([e.input_tokens for e in everything]),
        "answer_tokens": percentiles([count_tokens(tokenizer, e.answer) for e in everything]),
        "truncated": sum(e.truncated for e in everything),
        "skipped": {
            "not_retrieved": stats.skipped.get("not_retrieved", 0),
            "not_in_prompt": stats.skipped.get("not_in_prompt", 0),
            "duplicate": stats.skipped.get("duplicate", 0),
            "hidden": stats.skipped.get("hidden", 0),
        },
        "catalog": catalog,
        "feedback": {"thumbs_up": stats.feedback_records},
        "teacher": (
            {
                "model": teacher.model,
                "endpoint": teacher.endpoint,
                "chunks": stats.teacher_chunks,
                "failed_chunks": stats.teacher_failed,
                "pairs": stats.teacher_pairs,
                "errors": stats.teacher_errors,
            }
            if teacher is not None
            else None
        ),
    }


def format_summary(summary: dict[str, Any], out_dir: Path | str) -> str:
    """The human summary ``build-dataset`` prints."""

    def counts(mapping: dict[str, int]) -> str:
        return " · ".join(f"{name} {count:,}" for name, count in mapping.items())

    def tokens(p: dict[str, int]) -> str:
        return f"p50 {p['p50']} · p90 {p['p90']} · p99 {p['p99']} · max {p['max']}"

    total = summary["examples"]
    truncated = summary["truncated"]
    share = f" ({truncated / total:.0%})" if total else ""
    skipped = summary["skipped"]
    origins = list(summary["origins"])
    table = [["", *origins, "total", "groups"]]
    for split in SPLITS:
        by_origin = summary["origins_by_split"].get(split, {})
        table.append(
            [split, *(f"{by_origin.get(o, 0):,}" for o in origins),
             f"{summary['splits'][split]:,}", f"{summary['groups'][split]:,}"]
        )
    table.append(
        ["all", *(f"{summary['origins'][o]:,}" for o in origins), f"{total:,}",
         f"{sum(summary['groups'].values()):,}"]
    )
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    rows = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths))
        )
        for row in table
    ]
    lines = [
        f"Dataset written to {out_dir}  (hash {summary['dataset_hash'][:12]})",
        f"  tokenizer      {summary['tokenizer']}  (prompts fitted to "
        f"{summary['max_input_tokens']} tokens), k={summary['k']}, seed={summary['seed']}",
        f"  examples       {rows[0]}",
        *(f"                 {row}" for row in rows[1:]),
        "                 (a product, document or chat is in one split only)",
        f"  tasks          {counts(summary['tasks'])}",
        f"  input tokens   {tokens(summary['input_tokens'])}",
        f"  answer tokens  {tokens(summary['answer_tokens'])}",
        f"  truncated      {truncated:,} of {total:,} inputs{share} had sources shortened or "
        "dropped to fit",
        f"  skipped        record not retrieved {skipped['not_retrieved']:,} · answer not in "
        f"the prompt {skipped['not_in_prompt']:,} · duplicate question {skipped['duplicate']:,}"
        + (f" · chat about a hidden product {skipped['hidden']:,}" if skipped.get("hidden") else ""),
    ]
    teacher = summary.get("teacher")
    if teacher:
        lines.append(
            f"  teacher        {teacher['model']} at {teacher['endpoint']}: {teacher['pairs']} "
            f"pairs from {teacher['chunks']} chunks, {teacher['failed_chunks']} failed"
        )
        lines += [f"                 {error}" for error in teacher["errors"][:3]]
    lines.append(f"  built in       {summary['build_seconds']:.1f} s")
    return "\n".join(lines)


# -- the command -------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--out", required=True, type=Path, metavar="DIR",
        help="folder to write train/val/test.jsonl and dataset.json to (replaced if there)")
    add("--tokenizer", metavar="ID_OR_DIR",
        help="hub id or directory of the model to fine-tune: prompts are fitted to its "
        "tokenizer (default: SHOPBOT_FLAN_T5_MODEL, else the activated adapter's base model)")
    add("--k", type=int, metavar="N",
        help="sources retrieved per question (default: SHOPBOT_RETRIEVAL_K)")
    add("--seed", type=int, default=DEFAULT_SEED,
        help="picks the phrasings and the splits (default: %(default)s)")
    add("--val-frac", type=float, default=0.1, metavar="F",
        help="share of products/documents for validation (default: %(default)s)")
    add("--test-frac", type=float, default=0.1, metavar="F",
        help="share of products/documents for test (default: %(default)s)")
    add("--phrasings", type=int, default=DEFAULT_PHRASINGS, metavar="N",
        help="questions per fact, in different words (default: %(default)s)")
    add("--no-feedback", action="store_true",
        help="leave out the thumbs-up chats of the feedback store")
    add("--teacher", action="store_true",
        help="also let the configured OpenAI-compatible model (OPENAI_API_KEY, OPENAI_BASE_URL, "
        "SHOPBOT_OPENAI_MODEL) write question/answer pairs from catalog chunks; stops at once "
        "if that model cannot be used")
    add("--teacher-chunks", type=int, default=DEFAULT_TEACHER_CHUNKS, metavar="N",
        help="how many catalog chunks the teacher writes pairs for (default: %(default)s)")
    add("--json", action="store_true", help="print the summary as JSON")


def resolve_tokenizer_name(settings: Settings, given: str | None) -> str:
    """--tokenizer, else the flan-t5 model the bot is configured with, else the base model of
    the activated adapter; a clear error when there is none."""
    from shopbot.adapters import read_active

    if given:
        return given
    if settings.flan_t5_model:
        return settings.flan_t5_model
    active = read_active(settings)
    if active is not None and active.base_model:
        return active.base_model
    raise ValueError(
        "build-dataset needs the tokenizer of the model you will fine-tune, to fit each prompt "
        "exactly as the bot will: pass --tokenizer google/flan-t5-base (or a model directory), "
        "or set SHOPBOT_FLAN_T5_MODEL. Offline, build a small model first with "
        "`python -m finetune make-tiny-t5 DIR` and pass --tokenizer DIR."
    )


def run(args: argparse.Namespace) -> int:
    from finetune.modeling import load_tokenizer
    from shopbot.settings import get_settings

    settings = get_settings()
    _check_fractions(args.val_frac, args.test_frac)
    name = resolve_tokenizer_name(settings, args.tokenizer)
    teacher = None
    if args.teacher:
        teacher = Teacher(settings)
        teacher.check()  # no key: say so before loading anything
    tokenizer = load_tokenizer(name)

    from shopbot.service import CatalogService

    service = CatalogService(settings)
    feedback = None if args.no_feedback else _open_feedback(settings)
    summary = build_dataset(
        service,
        tokenizer,
        args.out,
        feedback=feedback,
        teacher=teacher,
        teacher_chunks=args.teacher_chunks,
        k=args.k,
        seed=args.seed,
        val_frac=args.val_frac,
        test_frac=args.test_frac,
        phrasings=args.phrasings,
        tokenizer_name=name,
    )
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print(format_summary(summary, args.out))
    if summary["splits"]["val"] == 0 or summary["splits"]["test"] == 0:
        print(
            "warning: val or test is empty (fewer than 3 products/documents): add documents "
            "to the catalog for a fair evaluation.",
            file=sys.stderr,
        )
    return 0


def _open_feedback(settings: Settings) -> FeedbackStore | None:
    """The feedback store, or None when the default SQLite file was never created (opening
    it would create an empty database as a side effect)."""
    from shopbot.feedback import FeedbackStore

    if not settings.feedback_url and not (settings.data_dir / "feedback.db").is_file():
        log.info("build-dataset: no feedback database at %s", settings.data_dir / "feedback.db")
        return None
    return FeedbackStore.from_settings(settings)


__all__ = [
    "Teacher",
    "TeacherUnavailable",
    "assign_splits",
    "build_dataset",
    "catalog_candidates",
    "feedback_candidates",
    "format_summary",
    "parse_teacher_reply",
    "percentiles",
    "resolve_tokenizer_name",
    "retrieve_many",
]
