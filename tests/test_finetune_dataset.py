"""`python -m finetune build-dataset`: the fine-tuning set from the demo catalog, rated chats
and a teacher model, built once per module with the real retriever, the real feedback store,
an OpenAI-compatible server on loopback and a tiny T5 tokenizer; and the questions about
options, variants and sales from a small shop with variants (a Shopify export and a
WooCommerce export with sale windows)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict

import pytest

from catalog import catalog_data
from catalog.catalog_data import PRODUCTS_BY_SKU
from finetune.records import SPLITS, dataset_hash, read_meta, read_split
from shopbot.products import Product
from shopbot.variant_facts import variant_sentences
from shopbot.vocabulary import format_price_range
from tests.conftest import ROOT, make_settings
from tests.openai_server import DEFAULT_KEY
from tests.test_ingest import PRODUCTS_CSV

ALPINE_SKU = "RL-TNT-001"  # Alpine 2 Tent, $349.00: its variant's SKU (the product is keyed
# by its Shopify handle; its HTML page and PDF spec sheet name it by this SKU)
CHAT_QUESTION = "Is the Alpine 2 Tent a good pick for two hikers in heavy rain?"
CHAT_ANSWER = "Yes: the Alpine 2 Tent sleeps 2 and its fly is rated 3000 mm [1]."
DISLIKED_QUESTION = "Do you sell inflatable kayaks?"


def teacher_reply(messages) -> str:
    """What the teacher model writes for one catalog entry: a grounded pair, a pair with an
    invented number (must be dropped: not in the prompt), and an item with no answer."""
    entry = messages[-1]["content"].split("\n", 2)[1].strip()
    return "```json\n" + json.dumps(
        [
            {"question": f"What can you tell me about the {entry}?",
             "answer": f"The {entry} is part of our catalog [3]."},
            {"question": f"Is there a discount on the {entry} today?",
             "answer": "Yes, 99% off today only."},
            {"question": "Broken item without an answer"},
        ]
    ) + "\n```"


@pytest.fixture(scope="module")
def demo_products(demo_service) -> dict[str, Product]:
    """The demo store's product records by product id."""
    found = {}
    for _, _, meta in demo_service.store.iter_chunks():
        if meta.get("kind") == "product":
            product = Product.from_metadata(meta)
            found.setdefault(product.id, product)
    return found


@pytest.fixture(scope="module")
def alpine(demo_products) -> str:
    """The Alpine 2 Tent's product id: the product whose variant SKUs include ALPINE_SKU."""
    (found,) = [p.id for p in demo_products.values() if ALPINE_SKU in p.skus]
    return found


def skus_of_group(demo_products, group: str) -> list[str]:
    """The SKUs of a product group: its record's variant SKUs, or (a product that exists only
    as a page) the id the page names it by."""
    product_id = group.removeprefix("product:")
    product = demo_products.get(product_id)
    return product.skus if product is not None else [product_id]


def catalog_entry(demo_products, group: str) -> dict:
    """The demo catalog's facts for a product group: by the id the store files it under, or
    by one of its SKUs."""
    by_id = getattr(catalog_data, "PRODUCTS_BY_ID", {})
    if group.removeprefix("product:") in by_id:
        return by_id[group.removeprefix("product:")]
    return next(PRODUCTS_BY_SKU[s] for s in skus_of_group(demo_products, group) if s in PRODUCTS_BY_SKU)


def catalog_price(entry: dict) -> str:
    """What the demo catalog says a product costs today: its variants' price range (a sale
    price inside its window)."""
    variants = entry.get("variants") or [entry]
    price_on = getattr(catalog_data, "price_on", None)
    prices = [price_on(v) if price_on and "sale_starts" in v else v["price"] for v in variants]
    return format_price_range(min(prices), max(prices), "USD")


def source_skus(source: dict) -> set[str]:
    """The ids a stored source answers to: its id and its product's variant SKUs."""
    variants = (source.get("product") or {}).get("variants") or []
    return {source["id"], *(v["sku"] for v in variants if v.get("sku"))}


def is_about(example, source: dict, demo_products) -> bool:
    """Whether a cited source is about the example's product or document."""
    if example.group == f"doc:{source['doc_id']}":
        return True
    product_id = example.group.removeprefix("product:")
    return bool({product_id, *skus_of_group(demo_products, example.group)} & source_skus(source))


@pytest.fixture(scope="module")
def built(tmp_path_factory, demo_service, tiny_t5_dir, openai_server_session):
    from finetune.dataset import Teacher, build_dataset
    from finetune.modeling import load_tokenizer
    from shopbot.feedback import FeedbackStore

    base = tmp_path_factory.mktemp("dataset")
    feedback = FeedbackStore(f"sqlite:///{base / 'feedback.db'}")
    found = demo_service.search(CHAT_QUESTION, k=5)
    sources = ([s for s in found if ALPINE_SKU in s.skus][:1]
               + [s for s in found if ALPINE_SKU not in s.skus])
    liked = feedback.record(
        question="and for two of us in the rain?", standalone_question=CHAT_QUESTION,
        answer=CHAT_ANSWER, rating=1, sources=sources, generator="flan-t5",
    )
    smalltalk = feedback.record(question="Thanks, that's all!", answer="You're welcome!", rating=1)
    feedback.record(
        question=DISLIKED_QUESTION, answer="Yes, many.", rating=-1,
        sources=demo_service.search(DISLIKED_QUESTION, k=5),
    )

    server = openai_server_session
    server.reset()
    server.reply = teacher_reply
    teacher = Teacher(
        make_settings(openai_api_key=DEFAULT_KEY, openai_base_url=server.base_url, openai_max_retries=0)
    )
    out = base / "ds"
    try:
        summary = build_dataset(
            demo_service, load_tokenizer(tiny_t5_dir), out, feedback=feedback, teacher=teacher,
            teacher_chunks=6, seed=7, phrasings=1,
        )
        teacher_requests = server.chat_requests()
    finally:
        server.reset()
    splits = {split: read_split(out, split) for split in SPLITS}
    return {
        "out": out, "summary": summary, "splits": splits,
        "examples": [e for split in SPLITS for e in splits[split]],
        "feedback_ids": {"liked": liked, "smalltalk": smalltalk},
        "teacher_requests": teacher_requests,
    }


def split_of(built, example) -> str:
    return next(split for split in SPLITS if example in built["splits"][split])


def cited_number(answer: str) -> int:
    numbers = re.findall(r"\[(\d+)\]", answer)
    assert numbers, f"no citation in {answer!r}"
    return int(numbers[-1])


def test_no_product_or_document_is_in_two_splits(built):
    groups = {split: {e.group for e in built["splits"][split]} for split in SPLITS}
    assert all(groups.values()), {s: len(g) for s, g in groups.items()}
    assert not groups["train"] & groups["val"]
    assert not groups["train"] & groups["test"]
    assert not groups["val"] & groups["test"]
    summary, meta = built["summary"], read_meta(built["out"])
    assert meta == summary
    assert summary["splits"] == {s: len(built["splits"][s]) for s in SPLITS}
    assert meta["dataset_hash"] == dataset_hash(built["out"])
    assert set(meta["input_tokens"]) == {"p50", "p90", "p99", "max"}
    assert meta["input_tokens"]["max"] <= meta["max_input_tokens"]
    assert meta["truncated"] == sum(e.truncated for e in built["examples"])


def test_every_input_is_the_prompt_the_generator_builds(built, tiny_t5_dir):
    from finetune.dataset import source_from_dict
    from shopbot.generators.flan_t5 import FlanT5Generator

    generator = FlanT5Generator(make_settings(flan_t5_model=str(tiny_t5_dir)))
    by_origin = defaultdict(list)
    for example in built["examples"]:
        by_origin[example.origin].append(example)
    assert set(by_origin) == {"catalog", "feedback", "teacher"}
    sample = by_origin["catalog"][::25] + by_origin["feedback"] + by_origin["teacher"]
    for example in sample:
        sources = [source_from_dict(s) for s in example.sources]
        assert example.input == generator.build_prompt(example.question, sources)
        assert example.input_tokens == generator.count_tokens(example.input)
        assert example.input.rstrip().endswith(f"Question: {example.question}\nAnswer:")


def test_context_is_what_the_retriever_returns(built, demo_service):
    catalog = [e for e in built["examples"] if e.origin == "catalog"]
    for example in catalog[::60]:
        found = demo_service.search(example.question, k=built["summary"]["k"])
        assert [(s.id, s.source, s.section) for s in found] == [
            (s["id"], s["source"], s["section"]) for s in example.sources
        ]


def test_price_answers_state_the_catalog_price_and_cite_the_product(built, demo_products, alpine):
    prices = [e for e in built["examples"] if e.task == "price"]
    assert len(prices) > 100
    for example in prices:
        price = catalog_price(catalog_entry(demo_products, example.group))
        assert example.facts == [price]
        assert price in example.answer
        number = cited_number(example.answer)
        cited = example.sources[number - 1]
        assert set(skus_of_group(demo_products, example.group)) & source_skus(cited)
        block = next(line for line in example.input.splitlines() if line.startswith(f"[{number}] "))
        assert price in block
    alpine_prices = [e for e in prices if e.group == f"product:{alpine}"]
    assert alpine_prices and all("$349.00" in e.answer for e in alpine_prices)


def test_every_catalog_answer_is_supported_by_the_cited_source(built, demo_products):
    for example in built["examples"]:
        if example.origin == "feedback":
            continue
        number = cited_number(example.answer)
        assert 1 <= number <= len(example.sources)
        cited = example.sources[number - 1]
        assert is_about(example, cited, demo_products), (example.group, cited["id"])
        block = next(line for line in example.input.splitlines() if line.startswith(f"[{number}] "))
        for fact in example.facts:
            assert fact.lower() in block.lower(), (example.question, fact)


def test_questions_cover_fields_and_policies_in_varied_phrasings(built, demo_products):
    examples = built["examples"]
    tasks = built["summary"]["tasks"]
    assert {"price", "stock", "brand", "category", "attribute", "policy", "chat", "teacher"} <= set(tasks)
    keys = [(e.group, e.question.lower()) for e in examples]
    assert len(keys) == len(set(keys)), "a question is repeated within a group"
    price_openings = {e.question.split(" the ")[0] for e in examples if e.task == "price"}
    assert len(price_openings) >= 3, price_openings
    policies = [e for e in examples if e.task == "policy"]
    assert len({e.group for e in policies}) >= 3  # the FAQ and the policy documents
    assert any(re.search(r"\d days", fact) for e in policies for fact in e.facts)
    stock = [e for e in examples if e.task == "stock"]
    assert any(e.facts == ["out of stock"] for e in stock)
    for example in stock:
        record = demo_products.get(example.group.removeprefix("product:"))
        if record is not None and record.quantity() is None and record.available():
            # The export does not track this product's inventory (Shopify: no inventory
            # tracker): it is always for sale, and no quantity is said.
            assert example.facts == ["in stock"]
            continue
        left = catalog_entry(demo_products, example.group)["stock"]
        assert example.facts == ([str(left)] if left else ["out of stock"])


def test_thumbs_up_chats_are_added_and_thumbs_down_ones_are_not(built, alpine):
    chats = {e.question: e for e in built["examples"] if e.origin == "feedback"}
    assert DISLIKED_QUESTION not in chats
    assert "Thanks, that's all!" in chats
    assert chats["Thanks, that's all!"].group == f"chat:{built['feedback_ids']['smalltalk']}"
    liked = chats[CHAT_QUESTION]  # the standalone question, not the follow-up
    assert liked.answer == CHAT_ANSWER
    assert liked.group == f"product:{alpine}"  # its spec sheet or page counts as the product
    assert ALPINE_SKU in source_skus(liked.sources[0]) and liked.sources[0]["text"]
    catalog = [e for e in built["examples"] if e.group == liked.group and e.origin == "catalog"]
    assert catalog and {split_of(built, e) for e in catalog} == {split_of(built, liked)}
    assert built["summary"]["feedback"] == {"thumbs_up": 2}


def test_teacher_pairs_are_added_grounded_and_cited(built):
    requests = built["teacher_requests"]
    assert len(requests) == 6 and all(r["model"] == "gpt-3.5-turbo" for r in requests)
    teacher = [e for e in built["examples"] if e.origin == "teacher"]
    assert teacher
    for example in teacher:
        assert example.group.startswith(("product:", "doc:"))
        assert "99%" not in example.answer  # an invented number is not in the prompt
        assert example.answer.endswith(f"[{cited_number(example.answer)}].")
        assert len(re.findall(r"\[\d+\]", example.answer)) == 1  # the teacher's own "[3]" is gone
    summary = built["summary"]["teacher"]
    assert summary["chunks"] == 6 and summary["failed_chunks"] == 0
    assert summary["pairs"] == 12  # two valid pairs per chunk; the broken item is ignored
    skipped = built["summary"]["skipped"]
    assert skipped["not_in_prompt"] + skipped["not_retrieved"] >= 6


def test_a_teacher_with_a_wrong_key_stops_the_build_with_a_clear_message(
    demo_service, tiny_t5_dir, openai_server, tmp_path, monkeypatch
):
    from finetune.dataset import Teacher, TeacherUnavailable, build_dataset
    from finetune.modeling import load_tokenizer

    wrong = "sk-wrong-key-0000000000000000"
    teacher = Teacher(make_settings(openai_api_key=wrong, openai_base_url=openai_server.base_url))
    with pytest.raises(TeacherUnavailable) as raised:
        build_dataset(demo_service, load_tokenizer(tiny_t5_dir), tmp_path / "ds", teacher=teacher)
    message = str(raised.value)
    assert "401" in message and "OPENAI_API_KEY" in message and "without --teacher" in message
    assert wrong not in message
    assert len(openai_server.chat_requests()) == 1  # not once per chunk
    assert not (tmp_path / "ds" / "train.jsonl").exists()

    no_key = Teacher(make_settings(openai_base_url=openai_server.base_url))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(TeacherUnavailable, match="OPENAI_API_KEY"):
        no_key.check()


def test_teacher_replies_are_validated():
    from finetune.dataset import parse_teacher_reply

    assert parse_teacher_reply(
        'Sure!\n```json\n[{"question": "How much is the tent?", "answer": "It costs $349.00 [2]."}, '
        '{"question": 3, "answer": "x"}]\n```'
    ) == [("How much is the tent?", "It costs $349.00.")]
    for bad in ("I cannot help with that.", "[not json]", '[{"q": "a", "a": "b"}]'):
        with pytest.raises(ValueError, match="teacher"):
            parse_teacher_reply(bad)


def test_attribute_questions_skip_store_export_columns():
    from finetune.dataset import catalog_candidates
    from shopbot.ingest.fields import ProductRecord

    record = ProductRecord(
        id="LGT-9", title="Beacon Mini Headlamp", price=29.95, currency="USD", brand="Emberline",
        category="Headlamps", stock=0, description="A small headlamp.\nMode: reactive.",
        attributes={
            "Colours": "Black, Lime", "Variant Grams": "42", "Handle": "beacon-mini",
            "Tags": "headlamps", "Variant Barcode": "800000209458", "Published": "TRUE",
            "Image Src": "https://example.test/a.jpg",
            "specs": "Max output: 250 lumens; Battery: 700 mAh, USB-C; Weight: 42 g",
        },
    )
    product = record.to_product()
    found = catalog_candidates(
        [("c1", product.to_text(), {**product.to_metadata(), "kind": "product", "doc_id": "d"})],
        seed=0, phrasings=1,
    )
    answers = {c.answer for c in found}
    assert answers == {
        "The Beacon Mini Headlamp costs $29.95",
        "Sorry, the Beacon Mini Headlamp is out of stock right now",
        "The Beacon Mini Headlamp is made by Emberline",
        "The Beacon Mini Headlamp is in our Headlamps category",
        "The Beacon Mini Headlamp comes in Black and Lime",
        "The Beacon Mini Headlamp weighs 42 g",  # once, though "Weight" is in the specs too
        "The max output of the Beacon Mini Headlamp is 250 lumens",
        "The battery of the Beacon Mini Headlamp is 700 mAh, USB-C",
    }
    assert all(c.group == "product:LGT-9" and c.question.endswith(("?", ".")) for c in found)


def test_splits_are_stable_and_keep_val_and_test_non_empty():
    from finetune.dataset import assign_splits

    groups = [f"product:P{n}" for n in range(200)]
    first = assign_splits(groups, seed=3)
    assert first == assign_splits(list(reversed(groups)), seed=3)
    assert first != assign_splits(groups, seed=4)
    shares = {s: sum(v == s for v in first.values()) / len(groups) for s in SPLITS}
    assert 0.04 < shares["val"] < 0.18 and 0.04 < shares["test"] < 0.18
    grown = assign_splits([*groups, "product:NEW"], seed=3)
    assert all(grown[g] == first[g] for g in groups)  # a new product moves no other
    few = assign_splits(["doc:a", "doc:b", "doc:c"], seed=0)
    assert sorted(few.values()) == ["test", "train", "val"]


# -- options, variants and sales ---------------------------------------------------------------

# A Shopify export: a tee in sizes at different prices with L sold out, a scarf whose teal
# variant is on sale (compare-at price), and a draft tote bag. Short records: a record's
# variant lines come last in its text, and a question is kept only when the prompt (which
# shortens long records to fit the tiny model's 512 tokens) shows what its answer states.
VARIANT_SHOP_CSV = (
    "Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,Published,Option1 Name,"
    "Option1 Value,Variant SKU,Variant Inventory Tracker,Variant Inventory Qty,Variant Price,"
    "Variant Compare At Price,Status\n"
    "trail-tee,Trail Tee,<p>A light merino running tee.</p>,Fjellvik,"
    "Clothing > Tees,,,TRUE,Size,S,TT-S,shopify,5,24.00,,active\n"
    "trail-tee,,,,,,,,,M,TT-M,shopify,4,26.00,,\n"
    "trail-tee,,,,,,,,,L,TT-L,shopify,0,28.00,,\n"
    "harbor-scarf,Harbor Scarf,<p>A soft knitted scarf.</p>,Northwind Knits,"
    "Accessories > Scarves,,,TRUE,Color,Teal,"
    "HS-TEAL,shopify,12,39.00,49.00,active\n"
    "harbor-scarf,,,,,,,,,Rust,HS-RUST,shopify,3,42.00,,\n"
    "canvas-tote,Canvas Tote,<p>A sturdy canvas tote.</p>,Harbor Goods,"
    "Luggage & Bags > Tote Bags,Bags,,TRUE,Title,Default Title,CT-01,shopify,15,18.50,,draft\n"
)
# Shopify exports have no sale window; WooCommerce's do: a mug whose sale ended in January
# 2024, and a lantern on sale through June 2099.
VARIANT_WOO_CSV = (
    "ID,Type,SKU,Name,Published,Visibility in catalog,Short description,Date sale price starts,"
    "Date sale price ends,In stock?,Stock,Sale price,Regular price,Categories,Brands\n"
    "201,simple,SM-1,Summit Mug,1,visible,An enamel camp mug.,2024-01-01,2024-01-31,1,20,"
    "12.00,16.00,Camping > Kitchen,Fjellvik\n"
    "202,simple,CL-1,Camp Lantern,1,visible,A rechargeable lantern.,2024-01-01,2099-06-30,1,8,"
    "30.00,40.00,Camping > Lighting,Fjellvik\n"
)
TEE_PRICES = {"S": "$24.00", "M": "$26.00", "L": "$28.00"}


@pytest.fixture(scope="module")
def variant_shop(tmp_path_factory, embeddings, tiny_t5_dir):
    """The small shop ingested, and the dataset built from it twice with the same seed."""
    from finetune.dataset import build_dataset
    from finetune.modeling import load_tokenizer
    from shopbot.service import CatalogService

    base = tmp_path_factory.mktemp("variants")
    files = base / "upload"
    files.mkdir()
    (files / "shopify_products.csv").write_text(VARIANT_SHOP_CSV)
    (files / "woocommerce_products.csv").write_text(VARIANT_WOO_CSV)
    service = CatalogService(make_settings(data_dir=base / "data"), embeddings=embeddings)
    results = service.ingest([files])
    assert all(r.ok for r in results), [(r.source, r.error) for r in results]
    tokenizer = load_tokenizer(tiny_t5_dir)
    summaries = [
        build_dataset(service, tokenizer, base / name, seed=3, phrasings=3)
        for name in ("first", "again")
    ]
    out = base / "first"
    examples = [e for split in SPLITS for e in read_split(out, split)]
    return {"summary": summaries[0], "again": summaries[1], "examples": examples}


def about(variant_shop, product_id: str, task: str) -> list:
    return [e for e in variant_shop["examples"]
            if e.group == f"product:{product_id}" and e.task == task]


def cited_product(example) -> Product:
    cited = example.sources[cited_number(example.answer) - 1]
    return Product.from_dict(cited["product"])


def test_variant_answers_are_the_extractive_generators_and_cite_the_product(variant_shop):
    tasks = {"options", "variant_price", "variant_stock", "sale"}
    variant = [e for e in variant_shop["examples"] if e.task in tasks]
    assert {e.task for e in variant} == tasks
    for example in variant:
        product = cited_product(example)
        assert example.group == f"product:{product.id}"
        assert example.answer.endswith(f" [{cited_number(example.answer)}].")
        said = re.sub(r" \[\d+\]\.$", ".", example.answer)
        extractive = variant_sentences(product, example.question)
        # Its sentences, all of them, or (a prompt that shows a variant's price but not its
        # own stock count) those that state the price.
        priced = [s for s in extractive if "$" in s]
        assert said in (" ".join(extractive), " ".join(priced)), (said, extractive)


def test_option_answers_name_every_size_and_the_sold_out_one(variant_shop):
    options = about(variant_shop, "trail-tee", "options")
    assert len(options) == 3  # three phrasings
    for example in options:
        assert "sizes" in example.question
        assert "The Trail Tee comes in sizes S, M and L (out of stock) [" in example.answer
    (scarf,) = {e.answer for e in about(variant_shop, "harbor-scarf", "options")}
    assert scarf.startswith("The Harbor Scarf comes in colours Teal and Rust [")


def test_variant_prices_are_each_sizes_own_price(variant_shop):
    prices = about(variant_shop, "trail-tee", "variant_price")
    asked = set()
    for example in prices:
        size = re.search(r"\bsize ([SML])\b", example.question).group(1)
        asked.add(size)
        assert f"The Trail Tee in {size} costs {TEE_PRICES[size]}" in example.answer
        assert example.facts[0] == TEE_PRICES[size]
    assert asked == {"S", "M", "L"}  # the prices differ: every price is asked
    stock = {re.search(r"\bsize ([SML])\b", e.question).group(1): e.answer
             for e in about(variant_shop, "trail-tee", "variant_stock")}
    assert "L" in stock and "L is out of stock" in stock["L"]
    assert all("is in stock (" in answer for size, answer in stock.items() if size != "L")
    # The scarf's prices differ too; its teal one is on sale.
    (teal,) = {e.answer for e in about(variant_shop, "harbor-scarf", "variant_price")
               if "Teal" in e.question}
    assert "The Harbor Scarf in Teal costs $39.00" in teal and "was $49.00" in teal


def test_sale_answers_say_now_was_and_until_and_an_ended_sale_is_no_sale(variant_shop):
    def answers(product_id):
        found = {re.sub(r" \[\d+\]\.$", ".", e.answer) for e in about(variant_shop, product_id, "sale")}
        assert len(found) == 1, found
        return found.pop()

    assert answers("harbor-scarf") == (
        "Yes, the Harbor Scarf is on sale. Sale price (Teal): $39.00, was $49.00."
    )
    assert answers("CL-1") == (
        "Yes, the Camp Lantern is on sale. Sale price: $30.00, was $40.00, until 1 July 2099."
    )
    assert answers("SM-1") == "The Summit Mug is not on sale right now; it costs $16.00."
    # "How much is it?" tells a sale running now, as the extractive generator does.
    assert {e.answer.split(" [")[0] for e in about(variant_shop, "CL-1", "price")} == {
        "The Camp Lantern costs $30.00. Sale price: $30.00, was $40.00, until 1 July 2099"
    }
    # A product never on sale is not asked; the mug's plain price is its regular price.
    assert not about(variant_shop, "trail-tee", "sale")
    assert {e.facts[0] for e in about(variant_shop, "SM-1", "price")} == {"$16.00"}


def test_a_draft_product_is_nowhere_in_the_dataset(variant_shop):
    summary = variant_shop["summary"]
    assert summary["catalog"]["products"] == 4 and summary["catalog"]["hidden_products"] == 1
    for example in variant_shop["examples"]:
        assert example.group != "product:canvas-tote"
        text = f"{example.question} {example.answer} {example.input}"
        assert "Canvas Tote" not in text and "CT-01" not in text
        assert all(s["id"] != "canvas-tote" for s in example.sources)


def test_the_variant_questions_are_the_same_on_every_build(variant_shop):
    first, again = variant_shop["summary"], variant_shop["again"]
    assert first["dataset_hash"] == again["dataset_hash"]
    tasks = first["tasks"]
    # Bounded: per product, each kind of question at most 3 variants x 3 phrasings.
    assert tasks["variant_price"] <= 2 * 3 * 3 and tasks["variant_stock"] <= 2 * 3 * 3
    assert tasks["options"] == 2 * 3 and tasks["sale"] == 3 * 3


# -- the command, as a user runs it ---------------------------------------------------------


def finetune_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "finetune", *args], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )


@pytest.mark.slow
def test_cli_builds_a_dataset_and_prints_counts_and_percentiles(
    tmp_path, embeddings, tiny_t5_dir
):
    from shopbot.service import CatalogService

    data_dir = tmp_path / "data"
    files = tmp_path / "upload"
    files.mkdir()
    (files / "products.csv").write_text(PRODUCTS_CSV)
    (files / "faq.md").write_text(
        "# FAQ\n\n## Returns\n\nUnused items can be returned within 30 days for a full refund.\n\n"
        "## Shipping\n\nStandard shipping is free on orders over $75 and takes 3-5 business days.\n"
    )
    service = CatalogService(make_settings(data_dir=data_dir), embeddings=embeddings)
    assert all(r.ok for r in service.ingest([files]))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOPBOT_", "OPENAI_"))}
    env.update(SHOPBOT_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1")

    missing = finetune_cli("build-dataset", "--out", str(tmp_path / "none"), env=env)
    assert missing.returncode == 1
    assert "--tokenizer" in missing.stderr and "make-tiny-t5" in missing.stderr
    assert "Traceback" not in missing.stderr

    out = tmp_path / "ds"
    run = finetune_cli("build-dataset", "--out", str(out), "--tokenizer", str(tiny_t5_dir), env=env)
    assert run.returncode == 0, run.stderr
    meta = read_meta(out)
    assert meta["tokenizer"] == str(tiny_t5_dir)
    assert meta["splits"]["val"] > 0 and meta["splits"]["test"] > 0
    lines = run.stdout
    table = {}  # the examples table: split -> {column: count}
    for line in lines.splitlines():
        cells = line.replace("examples", "").split()
        if cells[:5] == ["catalog", "feedback", "teacher", "total", "groups"]:
            header = cells
        elif cells and cells[0] in (*SPLITS, "all"):
            table[cells[0]] = dict(zip(header, (int(c.replace(",", "")) for c in cells[1:])))
    assert {s: table[s]["total"] for s in SPLITS} == meta["splits"]
    assert table["all"] == {"catalog": meta["examples"], "feedback": 0, "teacher": 0,
                            "total": meta["examples"], "groups": 4}  # 3 products and the FAQ
    p = meta["input_tokens"]
    assert f"input tokens   p50 {p['p50']} · p90 {p['p90']} · p99 {p['p99']} · max {p['max']}" in lines
    assert f"truncated      {meta['truncated']:,} of {meta['examples']:,} inputs" in lines
    assert not (data_dir / "feedback.db").exists()  # no feedback database: none created
    prices = [e for e in read_split(out, "train") + read_split(out, "val") + read_split(out, "test")
              if e.task == "price"]
    assert {e.facts[0] for e in prices} <= {"$349.00", "$289.00", "$59.00"}
