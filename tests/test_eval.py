"""`python -m shopbot eval`: the labelled question set agrees with the demo catalog's facts,
the metrics score hand-made top-5 lists as defined, and the command prints its table."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from catalog import catalog_data
from shopbot.evaluation import (
    DEFAULT_QUESTIONS,
    KINDS,
    SHOPPER_KINDS,
    VARIANT_KINDS,
    ProductFacts,
    Question,
    QuestionFileError,
    fact_present,
    facts_correct,
    filter_precision,
    load_questions,
    product_index,
    recall_at_k,
    run_eval,
    violations,
)
from shopbot.vocabulary import format_price
from tests.conftest import CATALOG_DIR, ROOT

# Labels name products by the key the store files them under (a handle for the Shopify
# export, the SKU elsewhere).
P = catalog_data.PRODUCTS_BY_ID
QUESTIONS = load_questions()
# The demo catalog's question set covers these; the variant kinds have their own sets
# (bench/variant_questions*.jsonl, tests/test_eval_variants.py).
DEMO_KINDS = tuple(kind for kind in KINDS if kind not in VARIANT_KINDS + SHOPPER_KINDS)


# -- the question set --------------------------------------------------------------------


def fits(product: dict, constraints: dict) -> bool:
    """The demo catalog's own answer to "does this product satisfy these constraints",
    written from catalog_data's fields (independently of shopbot.evaluation)."""
    text = " ".join(
        [product["title"], product["description"], product["material"], product["notes"]]
        + [str(v) for v in product["specs"].values()]
    ).lower()
    for key, want in constraints.items():
        if key == "sort":
            continue
        ok = {
            "price_min": lambda: product["price"] >= want,
            "price_max": lambda: product["price"] <= want,
            "in_stock": lambda: (product["stock"] > 0) == want,
            "brand": lambda: product["brand"] == want,
            "category": lambda: want.lower()
            in (product["category"].lower(), product["subcategory"].lower()),
            "colour": lambda: any(want.lower() in c.lower().split() for c in product["colours"]),
            "size": lambda: want in product["sizes"],
            "keyword": lambda: re.search(rf"(?<!non-)(?<!not )\b{want}", text) is not None,
        }[key]()
        if not ok:
            return False
    return True


def test_the_question_set_is_big_enough_and_covers_every_kind():
    assert len(QUESTIONS) >= 80
    assert {q.kind for q in QUESTIONS} == set(DEMO_KINDS)
    ids = [q.id for q in QUESTIONS]
    assert len(ids) == len(set(ids)), "question ids are unique"
    for q in QUESTIONS:
        assert q.targets or q.facts, f"{q.id} checks nothing"
    assert all(len(q.turns) >= 2 for q in QUESTIONS if q.kind == "follow_up")
    assert all(len(q.expected_ids) >= 2 for q in QUESTIONS if q.kind == "comparison")


def test_every_label_names_something_in_the_demo_catalog():
    catalog_files = {p.name for p in CATALOG_DIR.rglob("*") if p.is_file()}
    for q in QUESTIONS:
        unknown = [sku for sku in q.expected_ids if sku not in P]
        assert not unknown, (q.id, unknown)
        assert set(q.expected_sources) <= catalog_files, q.id
        for sku, names in q.aliases.items():
            assert sku in q.expected_ids and P[sku]["file"].endswith(tuple(names)), q.id
        if q.kind == "sku":
            assert q.question.count(P[q.expected_ids[0]]["sku"]) == 1, "a SKU lookup names its SKU"
            product = P[q.expected_ids[0]]
            assert {product["title"], format_price(product["price"], "USD")} <= set(q.facts)


def test_filter_labels_are_exactly_the_products_that_satisfy_the_constraints():
    filtered = [q for q in QUESTIONS if q.filters and q.kind in ("filter", "follow_up")]
    assert len(filtered) >= 20
    for q in filtered:
        expected = {p["product_id"] for p in catalog_data.PRODUCTS if fits(p, q.filters)}
        assert expected, f"{q.id}: nothing in the catalog fits"
        assert set(q.expected_ids) == expected, (q.id, sorted(set(q.expected_ids) ^ expected))
        # no product sits on a price bound, so "under $150" and "up to $150" agree
        for bound in ("price_min", "price_max"):
            if bound in q.filters:
                assert all(p["price"] != q.filters[bound] for p in catalog_data.PRODUCTS), q.id


def test_sort_labels_are_the_first_product_in_that_order():
    sorts = [q for q in QUESTIONS if q.kind == "sort"]
    assert {q.constraints["sort"] for q in sorts} == {"price_asc", "price_desc"}
    for q in sorts:
        fitting = [p for p in catalog_data.PRODUCTS if fits(p, q.filters)]
        # "the cheapest tent" is a tent: its title or its own subcategory says so (a beach
        # shelter filed under Tents is not), when any fitting product is one.
        noun = q.question.rstrip("?").split()[-1].capitalize()
        of_kind = [p for p in fitting if p["title"].endswith(noun)
                   or noun.lower() in str(p.get("subcategory") or "").lower()]
        fitting = of_kind or fitting
        prices = [p["price"] for p in fitting]
        best = min(prices) if q.constraints["sort"] == "price_asc" else max(prices)
        assert prices.count(best) == 1, f"{q.id}: a tie has no single answer"
        assert q.expected_ids == (next(p["product_id"] for p in fitting if p["price"] == best),), q.id


def test_the_store_records_agree_with_the_labels(demo_service):
    """What filter precision reads (the stored records) says the expected products fit: a
    perfect top 5 scores 1.0, and no other stored product fits a filter question."""
    products = product_index(demo_service)
    assert len(products) >= 150
    for q in QUESTIONS:
        if not q.filters:
            continue
        stored = [sku for sku in q.expected_ids if sku in products]
        broken = {sku: violations(products[sku], q.filters) for sku in stored}
        assert not any(broken.values()), (q.id, broken)
        if q.kind == "filter":
            fitting = {pid for pid, f in products.items() if not violations(f, q.filters)}
            extra = fitting - set(q.expected_ids)
            assert not extra, (q.id, sorted(extra))


def test_a_question_file_with_a_bad_line_is_reported_with_its_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"kind": "fact", "turns": ["How much is the Alpine 2 Tent?"]}\n'
        '{"kind": "nope", "turns": ["x"]}\n'
    )
    with pytest.raises(QuestionFileError, match=r"q\.jsonl:2: 'kind' must be one of"):
        load_questions(path)
    path.write_text('{"kind": "filter", "turns": ["x"], "constraints": {"colour_ish": "red"}}\n')
    with pytest.raises(QuestionFileError, match="unknown constraint"):
        load_questions(path)
    with pytest.raises(QuestionFileError, match="not found"):
        load_questions(tmp_path / "missing.jsonl")


# -- the metrics on hand-made inputs -----------------------------------------------------


def hit(pid: str, kind: str = "product", source: str = "products.csv") -> dict:
    return {"id": pid, "kind": kind, "source": source}


CHEAP_TENTS = Question(
    id="t", kind="filter", turns=("tents under $200",),
    expected_ids=("T1", "T2", "T3", "T4", "T5", "T6"),
    constraints={"category": "Tents", "price_max": 200},
)
STORE = {
    **{
        f"T{i}": ProductFacts(f"T{i}", price=100.0 + i, stock=3, categories=frozenset({"tents"}))
        for i in range(1, 7)
    },
    "T9": ProductFacts("T9", price=450.0, stock=3, categories=frozenset({"tents"})),
    "B1": ProductFacts("B1", price=50.0, stock=3, categories=frozenset({"backpacks"})),
}


def test_a_perfect_top_5_scores_full_recall_and_precision():
    top = [hit(f"T{i}") for i in range(1, 6)]
    assert recall_at_k(CHEAP_TENTS, top) == 1.0  # 5 of 6 is all that fits in a top 5
    assert filter_precision(CHEAP_TENTS, top, STORE) == 1.0


def test_an_imperfect_top_5_scores_its_share():
    passage = hit("faq.md#3", kind="passage", source="faq.md")
    top = [hit("T1"), hit("T9"), hit("B1"), hit("T2"), passage]
    assert recall_at_k(CHEAP_TENTS, top) == pytest.approx(2 / 5)
    # 4 product hits, 2 fit (T9 costs too much, B1 is no tent); the passage is not counted
    assert filter_precision(CHEAP_TENTS, top, STORE) == pytest.approx(2 / 4)
    assert filter_precision(CHEAP_TENTS, [hit("faq.md#3", kind="passage")], STORE) == 0.0
    assert recall_at_k(CHEAP_TENTS, []) == 0.0
    # hits past k do not count
    assert recall_at_k(CHEAP_TENTS, [hit(f"B{i}") for i in range(5)] + [hit("T1")]) == 0.0
    # a product's several chunks fill one slot, as they fill one card
    assert recall_at_k(CHEAP_TENTS, [hit("B1")] * 5 + [hit("T1")]) == pytest.approx(1 / 5)


def test_recall_matches_documents_by_file_and_products_by_alias():
    policy = Question(
        id="p", kind="policy", turns=("returns?",), expected_sources=("returns.docx",)
    )
    returns = hit("returns-docx:p1", kind="passage", source="returns.docx")
    assert recall_at_k(policy, [returns]) == 1.0
    assert recall_at_k(policy, [hit("RL-TNT-001")]) == 0.0
    shoe = Question(id="s", kind="sku", turns=("RL-FTW-021",), expected_ids=("RL-FTW-021",),
                    aliases={"RL-FTW-021": ("skyrunner-trail-shoe.html",)})
    page = hit("chunk-7", kind="passage", source="skyrunner-trail-shoe.html")
    assert recall_at_k(shoe, [page]) == 1.0
    none = Question(id="n", kind="not_sold", turns=("kayaks?",), facts=("x",))
    assert recall_at_k(none, [hit("RL-TNT-001")]) is None
    assert filter_precision(none, [hit("RL-TNT-001")], STORE) is None


def test_constraints_read_from_a_stored_record():
    meta = {"price": 149.0, "stock": 0, "brand": "Ridgeline", "category": "Backpacking Tents",
            "category_path": "Camping > Tents > Backpacking Tents"}
    text = (
        "Alpine X\nColour: Forest Green / Slate Grey\nSize: S/M / M/L\n"
        "A non-waterproof tent.\nSKU: X"
    )
    record = ProductFacts.from_record("X", meta, text)
    assert not violations(record, {"category": "Tents", "brand": "ridgeline", "colour": "green",
                                   "size": "M/L", "price_max": 150, "in_stock": False})
    wrong = {"in_stock": True, "colour": "red", "size": "XL", "keyword": "waterproof"}
    assert violations(record, wrong) == ["in_stock", "colour", "size", "keyword"]


def test_facts_compare_prices_as_amounts():
    assert fact_present("$1,299.00", "It costs $1299 [1].")
    assert fact_present("$1,299.00", "1,299.00 USD")
    assert not fact_present("$1,299.00", "It costs $129.90.")
    assert fact_present("3–5 business days", "Standard shipping takes 3-5 Business  days.")
    q = Question(id="c", kind="comparison", turns=("a vs b",), facts=("$349.00", "$1,299.00"))
    assert facts_correct(q, "A is $349.00, B is $1,299.00") is True
    assert facts_correct(q, "A is $349.00") is False


# -- run_eval and the command ------------------------------------------------------------


def one_per_kind() -> list[Question]:
    return [next(q for q in QUESTIONS if q.kind == kind) for kind in DEMO_KINDS]


def test_run_eval_scores_every_question_and_each_kind(demo_service):
    subset = one_per_kind()
    report = run_eval(demo_service, subset, generator="extractive", k=5, label="t")
    assert report["label"] == "t" and report["generator"] == "extractive"
    assert [row["id"] for row in report["questions"]] == [q.id for q in subset]
    assert set(report["by_kind"]) == set(DEMO_KINDS)
    overall = report["overall"]
    assert overall["questions"] == len(subset)
    for name in ("recall_at_k", "filter_precision", "fact_accuracy"):
        assert 0.0 <= overall[name] <= 1.0
    assert overall["with_constraints"] == sum(bool(q.filters) for q in subset)
    assert overall["latency_p50_s"] > 0
    follow_up = next(r for r in report["questions"] if r["kind"] == "follow_up")
    assert follow_up["standalone_question"] != follow_up["question"], "history reached the chain"


@pytest.mark.slow
def test_eval_command_prints_the_table_and_writes_the_report(demo_service, tmp_path):
    data_dir = tmp_path / "data"  # a copy: two processes must not share one embedded store
    shutil.copytree(demo_service.settings.data_dir, data_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPBOT_")}
    env.update(SHOPBOT_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1")
    questions = tmp_path / "subset.jsonl"
    lines = DEFAULT_QUESTIONS.read_text().splitlines()
    subset = [
        next(line for line in lines if json.loads(line)["kind"] == kind) for kind in DEMO_KINDS
    ]
    questions.write_text("\n".join(subset) + "\n")
    out = tmp_path / "report.json"

    def shopbot(*args):
        return subprocess.run([sys.executable, "-m", "shopbot", "eval", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)

    run = shopbot(
        "--questions", str(questions), "--limit", "6", "--label", "before", "--out", str(out)
    )
    assert run.returncode == 0, run.stderr
    table = run.stdout.splitlines()
    assert table[0].startswith("before: generator extractive, k=5")
    assert table[1].split()[:3] == ["set", "questions", "Recall@5"]
    assert "filter precision" in table[1] and "fact accuracy" in table[1]
    assert table[2].split()[:2] == ["overall", "6"]
    report = json.loads(out.read_text())
    assert report["label"] == "before" and len(report["questions"]) == 6
    kinds_in_table = {
        line.split()[0] for line in table[3:] if line.strip() and not line.startswith("report")
    }
    assert kinds_in_table == set(report["by_kind"])

    bad = shopbot("--questions", str(tmp_path / "nope.jsonl"))
    assert bad.returncode == 2 and "nope.jsonl not found" in bad.stderr
