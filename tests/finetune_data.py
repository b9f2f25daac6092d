"""A small fine-tuning dataset for tests, written in the format of :mod:`finetune.records`.

Questions about price, stock and brand of real demo-catalog products, each answered from one
product source; the prompt is built by the flan-t5 generator's own
:func:`shopbot.generators.flan_t5.build_prompt`, as the real dataset builder does. Products are
split by group (a product is in one split only). Kept independent of ``finetune.dataset`` so
the training tests do not depend on how the real builder chooses its examples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from catalog.catalog_data import PRODUCTS
from finetune.records import Example, write_meta, write_split
from shopbot.vocabulary import format_price
from shopbot.retrieval import Source

TASKS = ("price", "stock", "brand")


def product_source(product: dict[str, Any]) -> Source:
    """The product as the retriever would return it, with a short description (short
    prompts keep the tests fast)."""
    short = " ".join(product["description"].split()[:12])
    return Source(
        id=product["sku"],
        title=product["title"],
        price=product["price"],
        currency=product["currency"],
        category=product["category"],
        brand=product["brand"],
        url=product["url"],
        source=product["file"],
        snippet=short,
        score=1.0,
        stock=product["stock"],
        text=f"{product['title']}. {short}",
    )


def question_answer(product: dict[str, Any], task: str) -> tuple[str, str, list[str]]:
    title = product["title"]
    if task == "price":
        price = format_price(product["price"], product["currency"])
        return f"How much is the {title}?", f"The {title} costs {price} [1].", [price]
    if task == "stock":
        stock = product["stock"]
        if stock:
            return (f"Is the {title} in stock?",
                    f"Yes, the {title} is in stock: {stock} left [1].", [str(stock)])
        return f"Is the {title} in stock?", f"No, the {title} is out of stock [1].", ["out of stock"]
    brand = product["brand"] or "no brand"
    return f"Who makes the {title}?", f"The {title} is made by {brand} [1].", [brand]


def write_dataset(directory: Path | str, tokenizer: Any, *, train: int = 60, val: int = 15,
                  test: int = 6) -> Path:
    """Write train/val/test.jsonl (+ dataset.json) with about ``train``/``val``/``test``
    examples: three questions per product, products assigned to one split each."""
    from shopbot.generators.flan_t5 import build_prompt, count_tokens

    directory = Path(directory)
    wanted = {"train": train, "val": val, "test": test}
    splits: dict[str, list[Example]] = {name: [] for name in wanted}
    products = iter([p for p in PRODUCTS if p["price"] is not None])
    for split, count in wanted.items():
        while len(splits[split]) < count:
            product = next(products)
            source = product_source(product)
            for task in TASKS:
                if len(splits[split]) >= count:
                    break
                question, answer, facts = question_answer(product, task)
                prompt = build_prompt(tokenizer, question, [source])
                splits[split].append(Example(
                    id=f"{product['sku']}:{task}",
                    origin="catalog",
                    group=f"product:{product['sku']}",
                    task=task,
                    question=question,
                    answer=answer,
                    input=prompt,
                    facts=facts,
                    sources=[source.to_dict(with_text=True)],
                    input_tokens=count_tokens(tokenizer, prompt),
                ))
    for split, examples in splits.items():
        write_split(directory, split, examples)
    write_meta(directory, {"name": directory.name, "builder": "tests/finetune_data.py",
                           "counts": {k: len(v) for k, v in splits.items()}})
    return directory


def make_trainable_t5(directory: Path | str) -> Path:
    """The ``small`` model of ``make-tiny-t5``, able to stop (unlike the never-stopping
    ``tiny_t5_dir`` fixture), so training on it shapes real answers."""
    from finetune.tiny import make_tiny_t5
    from tests.tiny_t5 import catalog_texts

    return make_tiny_t5(directory, catalog_texts(), size="small")
