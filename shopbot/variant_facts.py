"""What a product's variants say about a question, as plain sentences: the price and stock of
the size or colour a shopper names, which options it comes in (and which are sold out), and
whether it is on sale (now / was / until when). Composed from the typed product
(:mod:`shopbot.products`) at the moment of asking, so an ended sale is never quoted.

The extractive generator answers with these sentences; the prompt of an LLM generator gives
them as facts, so every generator gets the same variant facts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone

from shopbot.products import Product, Variant
from shopbot.vocabulary import (
    format_price,
    format_price_range,
    option_kind,
    option_label,
    stock_phrase,
)

_OPTIONS_QUESTION = re.compile(
    r"\b(?:what|which|any|other|all|list)\b[^?]*\b(?:sizes|colou?rs|options|variants|"
    r"styles|flavou?rs|lengths|widths|capacities|shades|versions|size|colou?r)\s+"
    r"(?:does|do|is|are|can|come|available|options?|choices?|left|in\s+stock)\b"
    r"|\b(?:what|which|any|other|all|list)\b[^?]*\b(?:sizes|colou?rs|options|variants|"
    r"styles|flavou?rs|lengths|widths|capacities|shades|versions)\b"
    r"|\bcomes?\s+in\b|\bavailable\s+in\s+(?:what|which|other|any)\b",
    re.I,
)
_SALE_QUESTION = re.compile(
    r"\b(?:on\s+sale|sale\s+price|discount(?:ed|s)?|reduced|mark(?:ed)?[\s-]?down|deals?|"
    r"promo(?:tion)?|clearance|percent\s+off|was\s+price|any\s+offers?|savings?|"
    r"how\s+much\s+(?:is\s+it\s+|is\s+\w+\s+)?off)\b|\d\s*%\s*off\b",
    re.I,
)
_STOCK_QUESTION = re.compile(
    r"\b(?:in\s+stock|stock|available|availability|sold\s+out|left|have\s+(?:it|any|one))\b",
    re.I,
)
_ASKED_WORD = re.compile(r"[A-Za-z]+")
#: Variants listed by name in one sentence at most.
MAX_NAMED = 6


def asks_options(question: str) -> bool:
    return bool(_OPTIONS_QUESTION.search(question))


def asks_sale(question: str) -> bool:
    return bool(_SALE_QUESTION.search(question))


def named_variants(product: Product, question: str, query: str = "") -> list[Variant]:
    """The variants the shopper's words name, by option values or by SKU (the question
    first, then the conversation it continues)."""
    for text in (question, query):
        if not text:
            continue
        lowered = text.lower()
        by_sku = [v for v in product.variants if v.sku and v.sku.lower() in lowered
                  and v.sku.lower() != product.id.lower()]
        if by_sku:
            return by_sku
        found = product.variants_named(text)
        if found:
            return found
    return []


def variant_sentences(
    product: Product,
    question: str,
    query: str = "",
    fitting: Sequence[str] = (),
    now: datetime | None = None,
) -> list[str]:
    """Sentences about the variants the question is about; [] when it is not about them
    (then the product's usual answer applies)."""
    now = now or datetime.now(timezone.utc)
    title = product.title
    named = named_variants(product, question, query)
    fits = [v for v in product.variants if v.sku in set(fitting)]
    # "in medium blue": the words name the colour, the constraints read the size too.
    chosen = [v for v in named if v in fits] or named or fits
    if asks_sale(question):
        return sale_sentences(product, chosen or product.variants, now)
    if asks_options(question):
        options = option_sentences(product, question)  # [] when it has no such option
        asked = [v for v in named if v in fits] or named or fits
        if not asked or not product.has_options or len(asked) == len(product.variants):
            return options
        # "what colours does it come in? looking for forest green in XL": both.
        return options + chosen_sentences(
            product, asked, now, stock_asked=bool(_STOCK_QUESTION.search(question)),
            title=product.title)
    if not product.has_options:
        return []
    stock_asked = bool(_STOCK_QUESTION.search(question))
    if not chosen and stock_asked:
        # "is the Beacon 400 in stock?": which options are, when they differ.
        known = {v.available() for v in product.variants} - {None}
        if len(known) == 2:
            available = [v for v in product.variants if v.available() is True]
            sold_out = [v for v in product.variants if v.available() is False]
            verb = "is" if len(sold_out) == 1 else "are"
            return [f"The {title} is in stock in {_counted(available)}; "
                    f"{_labels(sold_out, '')} {verb} out of stock."]
    if not chosen:
        return []
    return chosen_sentences(product, chosen, now, stock_asked=bool(_STOCK_QUESTION.search(question)),
                            title=title)


def chosen_sentences(
    product: Product, chosen: list[Variant], now: datetime, stock_asked: bool, title: str
) -> list[str]:
    """Price and stock of the named variants: one sentence when they agree, else each."""
    currency = product.currency
    names = _common_name(product, chosen)
    prices = sorted({p for v in chosen if (p := v.current_price(now)) is not None})
    sentences = []
    if prices:
        price = format_price_range(prices[0], prices[-1], currency)
        verb = "costs" if len(prices) == 1 else "costs between"
        if len(prices) > 1 and len(chosen) <= MAX_NAMED:
            listed = "; ".join(
                f"{v.label()} {format_price(p, v.currency or currency)}"
                for v in chosen if (p := v.current_price(now)) is not None
            )
            sentences.append(f"The {title} in {names} costs {listed}.")
        else:
            sentences.append(f"The {title} in {names} {verb} {price.replace('–', ' and ')}.")
        on_sale = [v for v in chosen if v.sale_active(now)]
        if on_sale:
            sentences.append(sale_clause(on_sale, currency, named=False))
    available = [v for v in chosen if v.available() is True]
    sold_out = [v for v in chosen if v.available() is False]
    if len(chosen) == 1:
        stock = stock_phrase(chosen[0].available(), chosen[0].quantity, chosen[0].availability)
        if stock:
            sentences.append(f"{names} is {stock}.")
        elif stock_asked:
            sentences.append(f"The catalog does not say whether {names} is in stock.")
    elif sold_out and available:
        # Whole labels ("M / Grey"), so the sentence says which variants on its own.
        sentences.append(
            f"In stock: {_labels(available, '')}; out of stock: {_labels(sold_out, '')}."
        )
    elif sold_out:
        sentences.append(f"{names} is out of stock.")
    elif available:
        sentences.append(f"{names} is in stock.")
    return sentences


def missing_option_sentences(product: Product, colours: Sequence[str],
                             sizes: Sequence[str]) -> list[str]:
    """"The Hero Hoodie does not come in blue. It comes in colours Black, Gray and Green."
    for a colour or size asked for that none of its variants has."""
    sentences = []
    for kind, wanted in (("colour", colours), ("size", sizes)):
        if not wanted:
            continue
        names = [n for n in product.options if option_kind(n) == kind]
        if not names:
            continue
        values = [v for n in names for v in product.option_values(n)]
        lowered = " ".join(values).lower()
        missing = [w for w in wanted
                   if not re.search(rf"(?<!\w){re.escape(str(w).lower())}(?!\w)", lowered)]
        if missing and values:
            sentences.append(f"The {product.title} does not come in {_and_list(list(missing))}. "
                             f"It comes in {option_label(kind)} {_and_list(values)}.")
    return sentences


def option_sentences(product: Product, question: str) -> list[str]:
    """"The X comes in sizes XS, S, M (out of stock) and L." for the options asked about
    (every option when the question names none)."""
    asked = {option_kind(w) for w in _ASKED_WORD.findall(question)}
    asked |= {option_kind(w.rstrip("s")) for w in _ASKED_WORD.findall(question)}
    names = [n for n in product.options if option_kind(n) in asked]
    if not names and not asked & {"size", "colour"}:
        names = list(product.options)  # "what options does it come in?"
    sentences = []
    for name in names:
        values = product.option_values(name)
        if not values:
            continue
        shown = []
        for value in values:
            having = [v for v in product.variants if v.options.get(name) == value]
            states = [v.available() for v in having]
            if states and all(s is False for s in states):
                shown.append(f"{value} (out of stock)")
            else:
                shown.append(value)
        sentences.append(f"The {product.title} comes in {option_label(option_kind(name))} "
                         f"{_and_list(shown)}.")
    if not sentences:
        # Sizes or colours listed as an attribute ("Sizes: S, M, L") rather than variants.
        for kind in ("size", "colour"):
            if kind in asked or not asked & {"size", "colour"}:
                _, values = product.options_of(kind)
                if values:
                    sentences.append(
                        f"The {product.title} comes in {option_label(kind)} {_and_list(values)}."
                    )
    return sentences


def sale_sentences(product: Product, variants: list[Variant], now: datetime) -> list[str]:
    """On sale now (now/was, until when), or not on sale and its price (a sale window that
    has ended, or not begun, is not a sale)."""
    currency = product.currency
    on_sale = [v for v in variants if v.sale_active(now)]
    if on_sale:
        named = len(product.variants) > 1
        return [f"Yes, the {product.title} is on sale. {sale_clause(on_sale, currency, named)}"]
    prices = sorted({p for v in variants if (p := v.current_price(now)) is not None})
    if not prices:
        return [f"The {product.title} is not on sale."]
    return [f"The {product.title} is not on sale right now; it costs "
            f"{format_price_range(prices[0], prices[-1], currency)}."]


def sale_clause(on_sale: list[Variant], currency: str | None, named: bool = True) -> str:
    """"Sale price (M / Black): $39.00, was $49.00, until 31 December 2026." ``named``:
    say which variants (not when the product has only one, or the sentence named them).
    Variants on sale at different prices get a clause each."""
    groups: dict[tuple, list[Variant]] = {}
    for variant in on_sale:
        key = (variant.price, variant.compare_at_price, variant.sale_ends)
        groups.setdefault(key, []).append(variant)
    clauses = []
    for (price, was_price, ends), variants in list(groups.items())[:MAX_NAMED]:
        first = variants[0]
        now_price = format_price(price, first.currency or currency)
        was = format_price(was_price, first.currency or currency)
        who = f" ({_labels(variants, '')})" if named and len(variants) <= MAX_NAMED else ""
        until = f", until {ends.strftime('%d %B %Y').lstrip('0')}" if ends is not None else ""
        clauses.append(f"Sale price{who}: {now_price}, was {was}{until}.")
    return " ".join(clauses)


def _common_name(product: Product, chosen: list[Variant]) -> str:
    """How the chosen variants are named: "M / Black", or the values they share ("Black")."""
    if len(chosen) == 1:
        return chosen[0].label()
    shared = [
        value for name in product.options
        if len(values := {v.options.get(name) for v in chosen}) == 1 and (value := values.pop())
    ]
    return " / ".join(shared) or "those options"


def _counted(variants: list[Variant]) -> str:
    """"Black (45 available), Red": labels with the quantity where the catalog gives it."""
    labels = [f"{v.label()} ({v.quantity} available)" if v.quantity else v.label()
              for v in variants[:MAX_NAMED]]
    more = len(variants) - MAX_NAMED
    return ", ".join(labels) + (f" and {more} more" if more > 0 else "")


def _labels(variants: list[Variant], common: str) -> str:
    """The variants' labels without the values they all share ("S, M" rather than "S / Black,
    M / Black" when the question named black)."""
    shared = set(common.split(" / ")) if common else set()
    labels = []
    for variant in variants[:MAX_NAMED]:
        own = [v for v in variant.options.values() if v and v not in shared]
        labels.append(" / ".join(own) or variant.label())
    more = len(variants) - MAX_NAMED
    return ", ".join(labels) + (f" and {more} more" if more > 0 else "")


def _and_list(values: list[str]) -> str:
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} and {values[-1]}"
