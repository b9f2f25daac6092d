"""The evaluation's variant extensions: ``absent`` strings, variant SKUs as targets, the new
kinds, and ``python -m shopbot eval --catalog`` on a fresh temporary store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from shopbot.evaluation import (
    VARIANT_KINDS,
    CatalogFileError,
    Question,
    QuestionFileError,
    fact_present,
    facts_correct,
    load_questions,
    prepare_catalog_files,
    products_by_source,
    recall_at_k,
    summarise,
    temporary_catalog,
)
from shopbot.products import Product, Variant
from shopbot.retrieval import Source
from tests.conftest import ROOT, make_settings

FIXTURES = ROOT / "tests" / "fixtures"
TINY_SHOP = FIXTURES / "eval" / "tiny_shop.csv"
TINY_QUESTIONS = FIXTURES / "eval" / "tiny_questions.jsonl"
PRESTASHOP = FIXTURES / "platforms" / "prestashop_products.csv"
COMBINATIONS = FIXTURES / "platforms" / "prestashop_combinations.csv"


def test_both_variant_question_sets_load_with_every_new_kind():
    for name in ("variant_questions.jsonl", "variant_questions_heldout.jsonl"):
        questions = load_questions(ROOT / "bench" / name)
        assert {q.kind for q in questions} == set(VARIANT_KINDS), name
        assert all(q.targets or q.facts or q.absent for q in questions), name


def test_absent_strings_fail_a_question():
    q = Question(id="s", kind="sale", turns=("navy scarf on sale?",), facts=("$35.00",),
                 absent=("$28.00", "Canvas Tote"))
    assert facts_correct(q, "The Navy scarf costs $35.00.") is True
    assert facts_correct(q, "The Navy scarf costs $35.00, was $28.00.") is False
    # an absent price is an amount, like a fact: "28 USD" is $28.00
    assert facts_correct(q, "It costs $35.00 (28 USD in the sale).") is False
    assert facts_correct(q, "It costs $35.00. We also have the canvas  TOTE.") is False
    assert facts_correct(q, "It costs $128.00 and $35.00.") is True  # 128 is not 28


def test_a_question_with_only_absent_strings_counts_for_fact_accuracy():
    hidden = Question(id="h", kind="hidden", turns=("tote bags?",), absent=("Canvas Tote",))
    assert facts_correct(hidden, "Sorry, we do not sell that.") is True
    assert facts_correct(hidden, "Yes: the Canvas Tote, $20.00.") is False
    nothing = Question(id="n", kind="hidden", turns=("x",), expected_ids=("A",))
    assert facts_correct(nothing, "anything") is None
    rows = [{"recall": None, "filter_precision": None, "facts_ok": ok, "latency_s": 0.1}
            for ok in (True, False, None)]
    assert summarise(rows)["fact_accuracy"] == 0.5 and summarise(rows)["with_facts"] == 2


def test_short_tokens_and_bare_amounts_are_matched_as_such():
    assert fact_present("M", "Sizes: S, M, L")
    assert not fact_present("M", "Medium only, made in Portugal")
    assert not fact_present("34", "It costs $34.00")
    assert fact_present("34", "Waist 32, 34 and 36")
    assert not fact_present("L", "XL only")
    assert fact_present("15.00", "Now $15 (was $20)")
    assert not fact_present("45.00", "It costs 145.00 EUR")


def test_absent_must_be_a_list_of_strings(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"kind": "hidden", "turns": ["totes?"], "absent": "Canvas Tote"}\n')
    with pytest.raises(QuestionFileError, match=r"q\.jsonl:1: 'absent' must be a list"):
        load_questions(path)


def scarf_source() -> Source:
    product = Product(
        id="harbor-scarf", title="Harbor Scarf",
        variants=[Variant(sku="HS-TEAL", options={"Color": "Teal"}, price=39.0),
                  Variant(sku="HS-RUST", options={"Color": "Rust"}, price=42.0)],
    )
    return Source(id="harbor-scarf", title="Harbor Scarf", price=39.0, currency="USD",
                  category="", brand="", url="", source="shop.csv", snippet="", score=1.0,
                  product=product)


def test_a_variant_sku_hits_its_products_source():
    source = scarf_source()
    assert "HS-RUST" in source.skus
    by_sku = Question(id="v", kind="variant_price", turns=("rust scarf",), expected_ids=("HS-RUST",))
    by_id = Question(id="p", kind="variant_price", turns=("scarf",), expected_ids=("harbor-scarf",))
    other = Question(id="o", kind="variant_price", turns=("mug",), expected_ids=("KM-1",))
    assert recall_at_k(by_sku, [source]) == 1.0
    assert recall_at_k(by_id, [source]) == 1.0
    assert recall_at_k(other, [source]) == 0.0
    # the dict form (a report's sources) too; a source with no skus still matches by id
    assert recall_at_k(by_sku, [{"id": "harbor-scarf", "skus": ["HS-RUST"]}]) == 1.0
    assert recall_at_k(by_sku, [{"id": "harbor-scarf"}]) == 0.0


def test_prestashop_combinations_are_joined_with_their_products_csv(tmp_path):
    files, notes = prepare_catalog_files([TINY_SHOP, PRESTASHOP, COMBINATIONS], tmp_path)
    workbook = tmp_path / "prestashop_products.xlsx"
    assert files == [TINY_SHOP, workbook] and "joined" in notes[0]
    book = load_workbook(workbook, read_only=True)
    assert book.sheetnames == ["products", "combinations"]  # products first
    assert next(book["combinations"].iter_rows(values_only=True))[0] == "Product ID*"
    book.close()
    with pytest.raises(CatalogFileError, match="exactly one PrestaShop products CSV"):
        prepare_catalog_files([TINY_SHOP, COMBINATIONS], tmp_path)
    with pytest.raises(CatalogFileError, match="not found"):
        prepare_catalog_files([tmp_path / "nope.csv"], tmp_path)


def test_a_temporary_catalog_holds_only_its_files_and_is_removed(embeddings):
    settings = make_settings()
    with temporary_catalog([PRESTASHOP, COMBINATIONS], settings, embeddings) as catalog:
        data_dir = catalog.service.settings.data_dir
        assert data_dir != settings.data_dir and data_dir.is_dir()
        assert [r.source for r in catalog.results] == ["prestashop_products.xlsx"]
        assert products_by_source(catalog.service) == {"prestashop_products.xlsx": 5}
        shirt = catalog.service.search("coastal linen shirt", k=1)[0]
        assert "LS-100-S-WHT" in shirt.skus, "the combinations reached their product"
    assert not data_dir.parent.exists()


def test_a_file_that_fails_to_ingest_stops_a_temporary_catalog(tmp_path, embeddings):
    settings = make_settings()
    bad = tmp_path / "notes.csv"
    bad.write_text("colour,mood\nblue,calm\n")
    with pytest.raises(CatalogFileError, match="notes.csv: No product columns"):
        with temporary_catalog([TINY_SHOP, bad], settings, embeddings):
            pass
    with temporary_catalog([TINY_SHOP, bad], settings, embeddings, skip_failed=True) as catalog:
        assert [r.status for r in catalog.results] == ["added", "failed"]
        assert catalog.notes[0].startswith("not ingested, left out: notes.csv")
    with pytest.raises(CatalogFileError, match="failed to ingest"):
        with temporary_catalog([bad], settings, embeddings, skip_failed=True):
            pass


@pytest.mark.slow
def test_eval_command_runs_on_a_temporary_catalog(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPBOT_")}
    # the configured store is somewhere else, and stays untouched
    env.update(SHOPBOT_DATA_DIR=str(tmp_path / "configured"), HF_HUB_OFFLINE="1",
               TMPDIR=str(temp))
    out = tmp_path / "report.json"
    run = subprocess.run(
        [sys.executable, "-m", "shopbot", "eval", "--questions", str(TINY_QUESTIONS),
         "--catalog", str(TINY_SHOP), "--label", "tiny", "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "added      tiny_shop.csv  2 products" in run.stderr
    table = run.stdout.splitlines()
    assert table[0].startswith("tiny: generator extractive, k=5")
    kinds = {line.split()[0] for line in table[3:] if not line.startswith("report")}
    assert kinds == {"variant_price", "sale", "hidden"}
    report = json.loads(out.read_text())
    assert report["products_in_store"] == 2
    assert report["catalog"] == [
        {"source": "tiny_shop.csv", "status": "added", "products": 2, "chunks": 2}
    ]
    rows = {row["id"]: row for row in report["questions"]}
    assert rows["tiny-1"]["recall"] == 1.0, "FB-BLUE, a variant SKU, hits fjord-beanie"
    assert rows["tiny-3"]["facts_ok"] is not None  # absent only: scored
    assert list(temp.iterdir()) == [], "the temporary data dir is removed"
    assert not Path(tmp_path / "configured").exists()
