"""`python -m finetune build-dataset`: the fine-tuning set from the demo catalog, rated chats
and a teacher model, built once per module with the real retriever, the real feedback store,
an OpenAI-compatible server on loopback and a tiny T5 tokenizer."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict

import pytest

from catalog.catalog_data import PRODUCTS_BY_SKU
from finetune.records import SPLITS, dataset_hash, read_meta, read_split
from shopbot.vocabulary import format_price
from shopbot.retrieval import Source
from tests.conftest import ROOT, make_settings
from tests.openai_server import DEFAULT_KEY
from tests.test_ingest import PRODUCTS_CSV

ALPINE = "RL-TNT-001"  # Alpine 2 Tent, $349.00
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
def built(tmp_path_factory, demo_service, tiny_t5_dir, openai_server_session):
    from finetune.dataset import Teacher, build_dataset
    from finetune.modeling import load_tokenizer
    from shopbot.feedback import FeedbackStore

    base = tmp_path_factory.mktemp("dataset")
    feedback = FeedbackStore(f"sqlite:///{base / 'feedback.db'}")
    found = demo_service.search(CHAT_QUESTION, k=5)
    sources = [s for s in found if s.id == ALPINE][:1] + [s for s in found if s.id != ALPINE]
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
    from shopbot.generators.flan_t5 import FlanT5Generator

    generator = FlanT5Generator(make_settings(flan_t5_model=str(tiny_t5_dir)))
    by_origin = defaultdict(list)
    for example in built["examples"]:
        by_origin[example.origin].append(example)
    assert set(by_origin) == {"catalog", "feedback", "teacher"}
    sample = by_origin["catalog"][::25] + by_origin["feedback"] + by_origin["teacher"]
    for example in sample:
        sources = [Source(**s) for s in example.sources]
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


def test_price_answers_state_the_catalog_price_and_cite_the_product(built):
    prices = [e for e in built["examples"] if e.task == "price"]
    assert len(prices) > 100
    for example in prices:
        sku = example.group.removeprefix("product:")
        price = format_price(PRODUCTS_BY_SKU[sku]["price"], "USD")
        assert example.facts == [price]
        assert price in example.answer
        number = cited_number(example.answer)
        cited = example.sources[number - 1]
        assert cited["id"] == sku
        block = next(line for line in example.input.splitlines() if line.startswith(f"[{number}] "))
        assert price in block
    alpine = [e for e in prices if e.group == f"product:{ALPINE}"]
    assert alpine and all("$349.00" in e.answer for e in alpine)


def test_every_catalog_answer_is_supported_by_the_cited_source(built):
    for example in built["examples"]:
        if example.origin == "feedback":
            continue
        number = cited_number(example.answer)
        assert 1 <= number <= len(example.sources)
        cited = example.sources[number - 1]
        assert example.group in (f"product:{cited['id']}", f"doc:{cited['doc_id']}")
        block = next(line for line in example.input.splitlines() if line.startswith(f"[{number}] "))
        for fact in example.facts:
            assert fact.lower() in block.lower(), (example.question, fact)


def test_questions_cover_fields_and_policies_in_varied_phrasings(built):
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
        left = PRODUCTS_BY_SKU[example.group.removeprefix("product:")]["stock"]
        assert example.facts == ([str(left)] if left else ["out of stock"])


def test_thumbs_up_chats_are_added_and_thumbs_down_ones_are_not(built):
    chats = {e.question: e for e in built["examples"] if e.origin == "feedback"}
    assert DISLIKED_QUESTION not in chats
    assert "Thanks, that's all!" in chats
    assert chats["Thanks, that's all!"].group == f"chat:{built['feedback_ids']['smalltalk']}"
    liked = chats[CHAT_QUESTION]  # the standalone question, not the follow-up
    assert liked.answer == CHAT_ANSWER
    assert liked.group == f"product:{ALPINE}"
    assert liked.sources[0]["id"] == ALPINE and liked.sources[0]["text"]
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
    found = catalog_candidates(
        [("c1", record.to_text(), {**record.to_metadata(), "kind": "product", "doc_id": "d"})],
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
