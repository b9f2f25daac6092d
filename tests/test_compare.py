"""Comparisons: questions recognised, names resolved to catalog records, and a table whose
values are the records' own (real demo catalog, real Chroma, real embeddings); and, over a
small Shopify export with variants (tests/variant_shop.py), prices, options and stock read from
the variants, variant SKUs resolved, and hidden products never shown.

The demo catalog's products are keyed by their Shopify handle ("alpine-2-tent"); the SKUs the
questions and these tests name ("RL-TNT-001") are their variants' SKUs."""

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
from shopbot.products import Product
from shopbot.retrieval import Source
from shopbot.vocabulary import option_kind
from tests.conftest import ROOT, make_settings
from tests.variant_shop import (
    DRAFT,
    FLEECE,
    SCARF,
    SHELL,
    ended_sale_record,
    record_of,
    variant_shop,
)


def skus_of(found) -> list[str]:
    """A record's product id and its variants' SKUs."""
    meta = found[2]
    product = Product.from_metadata(meta)
    return [meta["product_id"], *(product.skus if product is not None else [])]


def record(service, sku):
    """The product record of the product with this id or variant SKU."""
    (found,) = [
        chunk for chunk in service.store.get_chunks({"kind": "product"}) if sku in skus_of(chunk)
    ]
    return found


def shown(comparison, sku) -> bool:
    """Whether the comparison's column is the product with this id or variant SKU."""
    return sku == comparison["id"] or sku in comparison.get("skus", [])


def stock_row(comparison) -> str:
    return next(line for line in comparison.to_markdown().splitlines() if line.startswith("| Stock |"))


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
    assert len(found) == len(expected)
    assert all(r is not None and sku in skus_of(r) for r, sku in zip(found, expected))
    comparison = comparison_for_question(demo_service.store, question)
    assert len(comparison.products) == len(expected)
    assert all(shown(p, sku) for p, sku in zip(comparison.products, expected))


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
    assert found is not None and product_id in skus_of(found)


def test_unresolvable_names_are_reported(demo_service):
    # No such model, no such product, a kind of thing, and a name three tents share.
    names = ["Alpine 2", "Alpine 9", "Foobar Tent", "the tent", "the Alpine"]
    found = resolve_products(demo_service.store, names)
    assert "RL-TNT-001" in skus_of(found[0])
    assert found[1:] == [None, None, None, None]

    comparison = comparison_for_question(demo_service.store, "compare the Alpine 2 and the Alpine 9")
    [alpine] = comparison.products
    assert shown(alpine, "RL-TNT-001")
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
    for found in (tent, expedition, pack):
        product = Product.from_metadata(found[2])
        (weight,) = {v.weight_grams for v in product.variants}
        for product_id in (product.id, *product.skus):  # a column is found by either
            assert comparison.value("Price", product_id) == product.price_text()
            assert comparison.value("Brand", product_id) == product.brand
            assert comparison.value("Category", product_id) == product.category_path
            assert comparison.value("Weight", product_id) == f"{weight:g} g"
            for name in product.options:  # a row per option kind: "Colour", "Size"
                row = {"colour": "Colour", "size": "Size"}[option_kind(name)]
                assert comparison.value(row, product_id) == ", ".join(product.option_values(name))
            if product.available() is False:
                assert comparison.value("Stock", product_id) == "Out of stock"
            elif product.quantity():
                assert comparison.value("Stock", product_id) == f"{product.quantity()} in stock"
            else:
                assert comparison.value("Stock", product_id) == "In stock"
    assert comparison.value("Price", "RL-TNT-004") == "$1,299.00"
    assert comparison.value("Stock", "RL-TNT-001") == "18 in stock"
    assert comparison.value("Size", "RL-TNT-001") is None  # a tent has no sizes
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
    # The page's "Availability: In stock (16 available)" is the product's typed stock now,
    # shown as every column shows stock.
    assert comparison.value("Stock", "RL-FTW-021") == "16 in stock"


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


# --------------------------------------------------------------------------- variants


@pytest.fixture(scope="module")
def shop(tmp_path_factory, embeddings):
    return variant_shop(tmp_path_factory.mktemp("variant-shop"), embeddings)


@pytest.mark.parametrize(
    "name",
    ["Summit Fleece Jacket", "the summit fleece", "MH01-L-Black", "mh01-m-red",
     "Sumit Fleece Jakcet"],  # a variant's SKU in any case, and a misspelt title
)
def test_a_variant_sku_or_a_misspelt_title_resolves_to_its_product(shop, name):
    (found,) = resolve_products(shop.store, [name])
    assert found is not None and found[2]["product_id"] == FLEECE


def test_a_hidden_product_is_never_resolved_nor_shown(shop):
    # The draft is in the store (staff see it)...
    assert record_of(shop, DRAFT)[2]["visible"] is False
    # ...but no name, SKU or id of it reaches a shopper's comparison.
    assert resolve_products(shop.store, ["Ridge Bivy Prototype", "RBP-01", DRAFT]) == [None] * 3
    comparison = comparison_for_question(
        shop.store, "compare the Summit Fleece Jacket and the Ridge Bivy Prototype"
    )
    assert [p["id"] for p in comparison.products] == [FLEECE]
    assert comparison.missing == ["Ridge Bivy Prototype"]
    picked = compare_ids(shop.store, [SCARF, DRAFT, "RBP-01"])
    assert [p["id"] for p in picked.products] == [SCARF]
    assert "Ridge Bivy" not in picked.to_markdown() and "199" not in picked.to_markdown()
    versus = comparison_for_question(shop.store, "RBP-01 vs Canyon Rain Shell")
    assert [p["id"] for p in versus.products] == [SHELL] and versus.missing == ["RBP-01"]


def test_the_table_reads_prices_options_and_stock_from_the_variants(shop):
    comparison = compare_ids(shop.store, [FLEECE, "HWS-RUST", SHELL])  # an id or any SKU
    assert comparison.columns() == ["Summit Fleece Jacket", "Harbor Wool Scarf", "Canyon Rain Shell"]
    rows = dict(comparison.rows())
    # The price range of the sizes; the scarf's teal on sale, now and was; one price.
    assert rows["Price"] == [
        "$45.00–$52.00", "$39.00–$42.00 (Teal on sale: $39.00, was $49.00)", "$120.00",
    ]
    # A row per option kind, the values as the shop lists them; none for the shell.
    assert rows["Size"] == ["S, M, L", None, None]
    assert rows["Colour"] == ["Black, Red", "Teal, Rust", None]
    # Stock over the variants, and which are sold out.
    assert rows["Stock"] == ["12 in stock (L / Black out of stock)", "16 in stock", "7 in stock"]
    assert rows["Weight"] == ["410–430 g", "180 g", "300 g"]
    assert rows["Material"] == ["Recycled polyester", "Merino wool", "Nylon ripstop"]
    assert comparison.value("Price", "MH01-M-Red") == "$45.00–$52.00"  # a column by a SKU
    markdown = comparison.to_markdown()
    assert "| Size | S, M, L | — | — |" in markdown
    assert Comparison.from_dict(json.loads(json.dumps(comparison.to_dict()))) == comparison


def test_a_sale_that_has_ended_is_not_shown(shop):
    beanie = ended_sale_record()
    assert "$39.00" in beanie[1]  # the text written at upload still says the sale price
    comparison = Comparison.from_records([beanie, record_of(shop, SHELL)])
    assert comparison.value("Price", "ember-beanie") == "$49.00"
    assert "$39" not in comparison.to_markdown()


def test_sources_give_the_same_variant_table_as_records(shop):
    records = [record_of(shop, FLEECE), record_of(shop, SCARF)]
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
    records = [record(demo_service, sku) for sku in ("RL-TNT-001", "RL-TNT-004")]
    assert stock_row(Comparison.from_records(records)) in table.stdout
    assert "| Stock | 18 in stock |" in table.stdout

    as_json = cli("Beacon 400", "Beacon 900", "--json", data_dir=data_dir)
    assert as_json.returncode == 0, as_json.stderr
    beacons = json.loads(as_json.stdout)["products"]
    assert [shown(p, sku) for p, sku in zip(beacons, ["RL-LGT-001", "RL-LGT-002"])] == [True, True]

    missing = cli("Alpine 2", "Alpine 9", data_dir=data_dir)
    assert missing.returncode == 2 and not missing.stdout
    assert "no product matches 'Alpine 9'" in missing.stderr and "shopbot search" in missing.stderr

    alone = cli("Alpine 2", data_dir=data_dir)
    assert alone.returncode == 2 and "name 2 to 4 products" in alone.stderr


# --------------------------------------------------------------------------- the app


def cards_page():
    import streamlit as st

    from pages.common import catalog_service, comparison_tray, render_comparison, render_sources
    from shopbot.products import Product
    from shopbot.retrieval import Source

    service = catalog_service()
    if "sources" not in st.session_state:
        wanted = {"RL-TNT-001", "RL-TNT-003", "RL-TNT-004"}  # variant SKUs of three tents
        found = [
            chunk for chunk in service.store.get_chunks({"kind": "product"})
            if wanted & set(Product.from_metadata(chunk[2]).skus)
        ]
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
    tent, expedition = (record(demo_service, sku) for sku in ("RL-TNT-001", "RL-TNT-004"))
    tent_id, expedition_id = tent[2]["product_id"], expedition[2]["product_id"]
    st.cache_resource.clear()
    try:
        at = AppTest.from_function(cards_page, default_timeout=60)
        at.run()
        assert not at.exception, at.exception
        boxes = [box for box in at.checkbox if box.label == "Compare"]
        assert len(boxes) == 3 and not any(box.value for box in boxes)
        assert not at.button, "no compare button before anything is picked"

        at.checkbox(key=f"compare_pick|answer-1|{tent_id}").check().run()
        go = at.button(key="compare_go")
        assert go.disabled and go.label == "Pick one more to compare"
        at.checkbox(key=f"compare_pick|answer-1|{expedition_id}").check().run()
        assert at.session_state["compare_ids"] == [tent_id, expedition_id]
        go = at.button(key="compare_go")
        assert not go.disabled and go.label == "Compare 2 products"

        go.click().run()
        assert not at.exception, at.exception
        table = at.table[0].value
        assert list(table.columns) == ["Alpine 2 Tent", "Summit Expedition 4 Tent"]
        assert list(table.loc["Price"]) == ["\\$349.00", "\\$1,299.00"]  # shown as $349.00
        expected = Comparison.from_records([tent, expedition])
        assert list(table.loc["Stock"]) == dict(expected.rows())["Stock"]
        assert list(table.loc["Stock"])[0] == "18 in stock"
        # The picks are cleared once the table is made.
        assert at.session_state["compare_ids"] == []
        assert not any(box.value for box in at.checkbox if box.label == "Compare")
        assert not at.button
    finally:
        st.cache_resource.clear()
