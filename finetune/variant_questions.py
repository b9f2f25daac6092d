"""Questions about a product's options, variants and sale for the fine-tuning set: "What sizes
does the Trail Tee come in?", "How much is the Trail Tee in size L?", "Is the Trail Tee in
size L in stock?", "Is the Harbor Scarf on sale?".

Each answer is what the no-LLM generator says to the same question
(:func:`shopbot.variant_facts.variant_sentences`), so the model is trained on the phrasing
every generator shares. This module only chooses which questions to ask (a seeded, bounded
sample per product) and what the cited source's part of the prompt must show for the answer
to be grounded: the prices and stock it states. A prompt may show a variant's price but not
its own stock count (the prompt gives a product's stock as a whole): a price question then
falls back to the answer's price sentences.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from shopbot.products import Product, Variant
from shopbot.variant_facts import named_variants, variant_sentences
from shopbot.vocabulary import option_kind, option_label

OPTION_QUESTIONS = (
    "What {label} does the {title} come in?",
    "Which {label} is the {title} available in?",
    "What {label} do you have for the {title}?",
)
VARIANT_PRICE_QUESTIONS = (
    "How much is the {title} in {variant}?",
    "What does the {title} cost in {variant}?",
    "What's the price of the {title} in {variant}?",
)
VARIANT_STOCK_QUESTIONS = (
    "Is the {title} in {variant} in stock?",
    "Is the {title} available in {variant} right now?",
    "Can I still get the {title} in {variant}, or is it sold out?",
)
SALE_QUESTIONS = (
    "Is the {title} on sale?",
    "Is there a discount on the {title} right now?",
    "Is the {title} reduced at the moment?",
)
#: Variants asked about per product and question kind, at most (a product may have hundreds).
MAX_VARIANT_QUESTIONS = 3

# What an answer states that its source must show: money, and stock as variant_facts says it.
_MONEY = re.compile(r"[$€£]\d[\d,]*(?:\.\d+)?|\b\d[\d,]*\.\d{2} [A-Z]{3}\b")
_STOCK = re.compile(r"out of stock|in stock \(\d+ available\)")
_UNTIL = re.compile(r"\buntil (\d{1,2} [A-Z][a-z]+ \d{4})")


@dataclass(frozen=True)
class VariantQuestion:
    task: str  # "options", "variant_price", "variant_stock" or "sale"
    question: str
    answer: str
    facts: list[str] = field(default_factory=list)  # what a right answer must contain
    # What the cited source's part of the prompt must contain; a tuple: any one of them.
    support: list[str | tuple[str, ...]] = field(default_factory=list)
    # The same question with a shorter answer, for when the prompt does not show all of
    # this one (the price of a variant without its stock count).
    fallback: VariantQuestion | None = None


def variant_questions(
    product: Product, *, group: str, seed: int, phrasings: int, now: datetime
) -> list[VariantQuestion]:
    """Questions about ``product``'s options, a sample of its variants (every price it comes
    at first, sold-out variants first) and its sale; [] for a product with neither options
    nor a compare-at price. ``group`` and ``seed`` key the sample: the same on every run."""
    out: list[VariantQuestion] = []
    title = product.title.strip()
    if not title:
        return out
    if product.has_options:
        out += _option_questions(product, title, group, seed, phrasings, now)
        out += _chosen_questions(
            product, title, "variant_price", VARIANT_PRICE_QUESTIONS,
            _priced_sample(product, group, seed, now), group, seed, phrasings, now,
        )
        out += _chosen_questions(
            product, title, "variant_stock", VARIANT_STOCK_QUESTIONS,
            _stock_sample(product, group, seed), group, seed, phrasings, now,
        )
    if any(_has_sale_price(v) for v in product.variants):
        for template in _sample(SALE_QUESTIONS, phrasings, seed, group, "sale"):
            question = template.format(title=title)
            out += _asked(product, "sale", question, now)
    return out


def _option_questions(
    product: Product, title: str, group: str, seed: int, phrasings: int, now: datetime
) -> list[VariantQuestion]:
    out = []
    for name in product.options:
        values = product.option_values(name)
        if len(values) < 2:
            continue
        label = option_label(option_kind(name))
        for template in _sample(OPTION_QUESTIONS, phrasings, seed, group, "options", name):
            question = template.format(label=label, title=title)
            out += _asked(product, "options", question, now, values)
    return out


def _chosen_questions(
    product: Product,
    title: str,
    task: str,
    templates: Sequence[str],
    variants: list[Variant],
    group: str,
    seed: int,
    phrasings: int,
    now: datetime,
) -> list[VariantQuestion]:
    out = []
    for variant in variants:
        phrase = variant_phrase(product, variant)
        for template in _sample(templates, phrasings, seed, group, task, variant.label()):
            question = template.format(title=title, variant=phrase)
            if named_variants(product, question) != [variant]:
                continue  # the words do not single it out (two variants alike)
            out += _asked(product, task, question, now)
    return out


def _asked(
    product: Product, task: str, question: str, now: datetime, values: Sequence[str] = ()
) -> list[VariantQuestion]:
    """The question with the extractive generator's answer to it, and what grounds it."""
    sentences = variant_sentences(product, question, now=now)
    if not sentences:
        return []

    def asked(said: list[str], fallback: VariantQuestion | None = None) -> VariantQuestion:
        answer = " ".join(said)
        stated, support = stated_facts(answer)
        facts = list(dict.fromkeys([*values, *stated]))
        return VariantQuestion(task, question, answer, facts, [*values, *support], fallback)

    priced = [s for s in sentences if _MONEY.search(s)]
    if task == "variant_price" and priced and len(priced) < len(sentences):
        return [asked(sentences, fallback=asked(priced))]
    return [asked(sentences)]


def stated_facts(answer: str) -> tuple[list[str], list[str | tuple[str, ...]]]:
    """The prices and stock an answer states (its facts), and what its source must show for
    them: the same, and the end of a sale as the answer says it or as the record writes it
    ("until 30 June 2099" / "2099-06-30")."""
    facts = list(dict.fromkeys([*_MONEY.findall(answer), *_STOCK.findall(answer)]))
    support: list[str | tuple[str, ...]] = list(facts)
    for shown in _UNTIL.findall(answer):
        iso = datetime.strptime(shown, "%d %B %Y").date().isoformat()
        support.append((shown, iso))
    return facts, support


def variant_phrase(product: Product, variant: Variant) -> str:
    """How a shopper names a variant: "Navy, size M", "Teal"."""
    values = [(option_kind(n), variant.options.get(n, "")) for n in product.options]
    others = [value for kind, value in values if value and kind != "size"]
    sizes = [f"size {value}" for kind, value in values if value and kind == "size"]
    return ", ".join(others + sizes)


def _priced_sample(product: Product, group: str, seed: int, now: datetime) -> list[Variant]:
    """Variants to ask the price of: one per price they come at (up to the cap) when prices
    differ, else one."""
    priced = [v for v in product.variants if v.options and v.current_price(now) is not None]
    random.Random(f"{seed}|{group}|variant_price").shuffle(priced)
    firsts: dict[float, Variant] = {}
    for variant in priced:
        firsts.setdefault(round(variant.current_price(now), 2), variant)
    if len(firsts) > 1:
        return list(firsts.values())[:MAX_VARIANT_QUESTIONS]
    return priced[:1]


def _stock_sample(product: Product, group: str, seed: int) -> list[Variant]:
    """Variants to ask the stock of: the sold-out ones first, and one in stock."""
    known = [v for v in product.variants if v.options and v.available() is not None]
    random.Random(f"{seed}|{group}|variant_stock").shuffle(known)
    sold_out = [v for v in known if v.available() is False]
    in_stock = [v for v in known if v.available() is True]
    return (sold_out[: MAX_VARIANT_QUESTIONS - 1] + in_stock[:1])[:MAX_VARIANT_QUESTIONS]


def _has_sale_price(variant: Variant) -> bool:
    """A compare-at price above the price: on sale now, or in a window that ended or has not
    begun (then the answer is "not on sale")."""
    return (variant.price is not None and variant.compare_at_price is not None
            and variant.compare_at_price > variant.price)


def _sample(templates: Sequence[str], count: int, seed: int, *key: str) -> list[str]:
    rng = random.Random("|".join((str(seed), *key)))
    return rng.sample(list(templates), min(count, len(templates)))
