"""Comparisons: questions recognised, names resolved to catalog records, and a table whose
values are the records' own (real demo catalog, real Chroma, real embeddings)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from shopbot.compare import (
    Comparison,
    compare_ids,
    compared_names,
    comparison_for_question,
    resolve_products,
    title_index,
)
from shopbot.ingest.fields import is_store_export_column
from shopbot.retrieval import Source
from tests.conftest import ROOT, make_settings


def record(service, product_id):
    (found,) = service.store.get_chunks({"$and": [{"product_id": product_id}, {"kind": "product"}]})
    return found


def attribute(text: str, name: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith(f"{name}:"))


# --------------------------------------------------------------------------- recognition


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("compare the Alpine 2 and the Summit Expedition 4", ["Alpine 2", "Summit Expedition 4"]),
        ("Beacon 400 Headlamp vs Beacon 900 Rechargeable Headlamp",
         ["Beacon 400 Headlamp", "Beacon 900 Rechargeable Headlamp"]),
        ("compare the Stormline 2.5L Rain Jacket with the Tempest 3L Alpine Shell",
         ["Stormline 2.5L Rain Jacket", "Tempest 3L Alpine Shell"]),
        ("which is lighter, the Alpine 2 or the Alpine 3?", ["Alpine 2", "Alpine 3"]),
        ("What is the difference between the Blaze Canister Stove and the Blaze Pro Cook System?",
         ["Blaze Canister Stove", "Blaze Pro Cook System"]),
        ("difference between Alpine 2 and Alpine 3", ["Alpine 2", "Alpine 3"]),
        ("RL-TNT-001 vs RL-TNT-003", ["RL-TNT-001", "RL-TNT-003"]),
        ("Glacier -10 Down Bag or Cirrus 0 Down Bag: which is better?",
         ["Glacier -10 Down Bag", "Cirrus 0 Down Bag"]),
        ("Can you compare the Alpine 1, the Alpine 2 and the Alpine 3?",
         ["Alpine 1", "Alpine 2", "Alpine 3"]),
        ("compare alpine 2 and alpine 3 for weight", ["alpine 2", "alpine 3"]),
        ("Alpine 2 vs Alpine 3 — which is warmer?", ["Alpine 2", "Alpine 3"]),
        ("how does the Alpine 2 compare to the Summit Expedition 4?", ["Alpine 2", "Summit Expedition 4"]),
        ("Should I get the Talus Trail Runner or the Skyrunner Trail Shoe?",
         ["Talus Trail Runner", "Skyrunner Trail Shoe"]),
        ("is the Alpine 2 lighter than the Alpine 3?", ["Alpine 2", "Alpine 3"]),
        ("compare RL-TNT-001 with RL-TNT-003", ["RL-TNT-001", "RL-TNT-003"]),
    ],
)
def test_comparison_questions_give_the_named_products(question, names):
    assert compared_names(question) == names


@pytest.mark.parametrize(
    "question",
    [
        "tents between 200 and 400 dollars",
        "do you have pots and pans?",
        "black and white jackets",
        "How much is the Alpine 2 Tent?",
        "Are the Alpine 2 and Alpine 3 in stock?",
        "which tents are under $300 or on sale?",
        "what's the difference between down and synthetic insulation?",
        "which is warmer, down or synthetic?",
        "should I get a tent or a hammock?",
        "compare prices",
        "compare tents under $300",
        "jackets in red or blue",
        "Is shipping free over $100 or only for members?",
        "",
    ],
)
def test_ordinary_questions_are_not_comparisons(question):
    assert compared_names(question) is None


# --------------------------------------------------------------------------- resolution


def comparison_questions():
    with open(ROOT / "bench" / "eval_questions.jsonl", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return [(r["turns"][-1], r["expected_ids"]) for r in rows if r["kind"] == "comparison"]


@pytest.mark.parametrize(("question", "expected"), comparison_questions())
def test_the_benchmark_comparisons_resolve_to_the_right_skus(demo_service, question, expected):
    names = compared_names(question)
    assert names is not None
    found = resolve_products(demo_service.store, names)
    assert [r and r[2]["product_id"] for r in found] == expected
    comparison = comparison_for_question(demo_service.store, question)
    assert [p["id"] for p in comparison.products] == expected


@pytest.mark.parametrize(
    ("name", "product_id"),
    [
        ("the Alpine 2", "RL-TNT-001"),  # not the Alpine 3 Tent, not the Alpine 2 Footprint
        ("ALPINE 2 TENT", "RL-TNT-001"),
        ("Alpine 2 Footprint", "RL-ACC-001"),
        ("Summit Expedition 2", "RL-TNT-005"),
        ("rl-tnt-003", "RL-TNT-003"),
        ("Talus Trail Runner", "RL-FTW-006"),  # not the women's version
        ("Talus Women's Trail Runner", "RL-FTW-007"),
        ("Skyrunner Trail Shoe", "RL-FTW-021"),  # known only from its product page
    ],
)
def test_names_resolve_to_the_closest_title_or_the_sku(demo_service, name, product_id):
    (found,) = resolve_products(demo_service.store, [name])
    assert found is not None and found[2]["product_id"] == product_id


def test_unresolvable_names_are_reported(demo_service):
    # No such model, no such product, a kind of thing, and a name three tents share.
    names = ["Alpine 2", "Alpine 9", "Foobar Tent", "the tent", "the Alpine"]
    found = resolve_products(demo_service.store, names)
    assert found[0][2]["product_id"] == "RL-TNT-001"
    assert found[1:] == [None, None, None, None]

    comparison = comparison_for_question(demo_service.store, "compare the Alpine 2 and the Alpine 9")
    assert [p["id"] for p in comparison.products] == ["RL-TNT-001"]
    assert comparison.missing == ["Alpine 9"]
    assert 'couldn\'t find "Alpine 9"' in comparison.summary()
    # Kinds of things are not products: the chain answers these.
    assert comparison_for_question(demo_service.store, "which is warmer, down or synthetic?") is None
    assert comparison_for_question(demo_service.store, "compare down and synthetic bags") is None


def test_the_title_index_is_built_once_and_follows_new_files(tmp_path, embeddings):
    from shopbot.service import CatalogService

    service = CatalogService(make_settings(data_dir=tmp_path / "data"), embeddings=embeddings)
    first = tmp_path / "first.csv"
    first.write_text("SKU,Title,Price,Brand\nKY-1,Riverlight Touring Kayak,999,Ridgeline\n")
    service.ingest([first])
    index = title_index(service.store)
    assert title_index(service.store) is index
    assert resolve_products(service.store, ["Riverlight Kayak", "Seabird Kayak"])[1] is None

    second = tmp_path / "second.csv"
    second.write_text("SKU,Title,Price,Brand\nKY-2,Seabird Sea Kayak,1499,Ridgeline\n")
    service.ingest([second])
    found = resolve_products(service.store, ["Riverlight Kayak", "Seabird Kayak"])
    assert [r[2]["product_id"] for r in found] == ["KY-1", "KY-2"]


# --------------------------------------------------------------------------- the table


def test_the_table_holds_the_records_values(demo_service):
    tent, expedition, pack = (record(demo_service, i) for i in ("RL-TNT-001", "RL-TNT-004", "RL-BPK-003"))
    comparison = Comparison.from_records([tent, expedition, pack])
    assert comparison.columns() == ["Alpine 2 Tent", "Summit Expedition 4 Tent", "Vertex 80 Expedition Pack"]
    labels = [label for label, _ in comparison.rows()]
    assert labels[:4] == ["Price", "Brand", "Category", "Stock"]
    for chunk_id, text, meta in (tent, expedition, pack):
        product_id = meta["product_id"]
        assert comparison.value("Price", product_id) == attribute(text, "Price")
        assert comparison.value("Brand", product_id) == meta["brand"]
        assert comparison.value("Weight", product_id) == f"{attribute(text, 'Variant Grams')} g"
        assert comparison.value("Material", product_id) == attribute(text, "Material")
    assert comparison.value("Price", "RL-TNT-004") == "$1,299.00"
    assert comparison.value("Stock", "RL-TNT-001") == f"{tent[2]['stock']} in stock" == "18 in stock"
    assert comparison.value("Stock", "RL-BPK-003") == "Out of stock"
    # Store-export housekeeping is not a product attribute.
    assert not [label for label in labels if label != "Weight" and is_store_export_column(label)]
    assert not {"Handle", "Tags", "Status", "SKU", "Type"} & set(labels)


def test_attributes_shared_by_the_products_come_first(demo_service):
    (talus, skyrunner) = resolve_products(demo_service.store, ["Talus Trail Runner", "Skyrunner Trail Shoe"])
    comparison = Comparison.from_records([talus, skyrunner])
    attributes = comparison.rows()[4:]
    shared = [label for label, values in attributes if all(values)]
    assert {"Weight", "Material", "Colour", "Size"} <= set(shared)
    assert [label for label, _ in attributes[: len(shared)]] == shared
    assert comparison.value("Weight", "RL-FTW-006") == f"{attribute(talus[1], 'Weight (g)')} g"
    assert comparison.value("Weight", "RL-FTW-021") == "560 g per pair (EU 42)"  # from its page
    assert comparison.value("Stock", "RL-FTW-021") == "In stock (16 available)"


def test_a_comparison_round_trips_and_reads_as_markdown(demo_service):
    comparison = compare_ids(demo_service.store, ["RL-LGT-001", "RL-LGT-002"])
    data = json.loads(json.dumps(comparison.to_dict()))
    assert data["products"][0]["title"] == "Beacon 400 Headlamp"
    assert {"label": "Price", "values": ["$39.95", "$79.95"]} in data["rows"]
    assert Comparison.from_dict(data) == comparison
    markdown = comparison.to_markdown()
    assert markdown.splitlines()[0] == "|   | Beacon 400 Headlamp | Beacon 900 Rechargeable Headlamp |"
    assert "| Price | $39.95 | $79.95 |" in markdown


def test_retrieved_sources_give_the_same_table_as_store_records(demo_service):
    records = [record(demo_service, i) for i in ("RL-KIT-001", "RL-KIT-002")]
    sources = [Source.from_chunk(chunk_id, text, meta, 1.0) for chunk_id, text, meta in records]
    assert Comparison.from_records(sources) == Comparison.from_records(records)


# --------------------------------------------------------------------------- CLI


def cli(*args: str, data_dir) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPBOT_")}
    env.update(SHOPBOT_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1", SHOPBOT_SEED_DEMO_CATALOG="false")
    return subprocess.run(
        [sys.executable, "-m", "shopbot", "compare", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.mark.slow
def test_cli_compare_prints_the_table_and_says_what_it_could_not_find(demo_service):
    data_dir = demo_service.settings.data_dir
    table = cli("the Alpine 2", "RL-TNT-004", data_dir=data_dir)
    assert table.returncode == 0, table.stderr
    assert "| Alpine 2 Tent | Summit Expedition 4 Tent |" in table.stdout
    assert "| Price | $349.00 | $1,299.00 |" in table.stdout
    assert "| Stock | 18 in stock | 3 in stock |" in table.stdout

    as_json = cli("Beacon 400", "Beacon 900", "--json", data_dir=data_dir)
    assert as_json.returncode == 0, as_json.stderr
    assert [p["id"] for p in json.loads(as_json.stdout)["products"]] == ["RL-LGT-001", "RL-LGT-002"]

    missing = cli("Alpine 2", "Alpine 9", data_dir=data_dir)
    assert missing.returncode == 2 and not missing.stdout
    assert "no product matches 'Alpine 9'" in missing.stderr and "shopbot search" in missing.stderr

    alone = cli("Alpine 2", data_dir=data_dir)
    assert alone.returncode == 2 and "name 2 to 4 products" in alone.stderr


# --------------------------------------------------------------------------- the app


def cards_page():
    import streamlit as st

    from pages.common import catalog_service, comparison_tray, render_comparison, render_sources
    from shopbot.retrieval import Source

    service = catalog_service()
    if "sources" not in st.session_state:
        found = service.store.get_chunks(
            {"$and": [{"kind": "product"}, {"product_id": {"$in": ["RL-TNT-001", "RL-TNT-003", "RL-TNT-004"]}}]}
        )
        st.session_state.sources = [
            Source.from_chunk(i, text, meta, 1.0).to_dict() for i, text, meta in sorted(found)
        ]
    render_sources(st.session_state.sources, compare_key="answer-1")
    made = comparison_tray(service)
    if made:
        st.session_state.made = made
    if "made" in st.session_state:
        render_comparison(st.session_state.made)


@pytest.mark.slow
def test_compare_boxes_on_product_cards_make_a_table(demo_service, monkeypatch):
    import streamlit as st

    for key in [k for k in os.environ if k.startswith("SHOPBOT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SHOPBOT_DATA_DIR", str(demo_service.settings.data_dir))
    st.cache_resource.clear()
    try:
        at = AppTest.from_function(cards_page, default_timeout=60)
        at.run()
        assert not at.exception, at.exception
        boxes = [box for box in at.checkbox if box.label == "Compare"]
        assert len(boxes) == 3 and not any(box.value for box in boxes)
        assert not at.button, "no compare button before anything is picked"

        at.checkbox(key="compare_pick|answer-1|RL-TNT-001").check().run()
        go = at.button(key="compare_go")
        assert go.disabled and go.label == "Pick one more to compare"
        at.checkbox(key="compare_pick|answer-1|RL-TNT-004").check().run()
        assert at.session_state["compare_ids"] == ["RL-TNT-001", "RL-TNT-004"]
        go = at.button(key="compare_go")
        assert not go.disabled and go.label == "Compare 2 products"

        go.click().run()
        assert not at.exception, at.exception
        table = at.table[0].value
        assert list(table.columns) == ["Alpine 2 Tent", "Summit Expedition 4 Tent"]
        assert list(table.loc["Price"]) == ["\\$349.00", "\\$1,299.00"]  # shown as $349.00
        assert list(table.loc["Stock"]) == ["18 in stock", "3 in stock"]
        # The picks are cleared once the table is made.
        assert at.session_state["compare_ids"] == []
        assert not any(box.value for box in at.checkbox if box.label == "Compare")
        assert not at.button
    finally:
        st.cache_resource.clear()
