"""Filters read from a shopper's question: prices, sort, brand, category, colour, size, stock."""

from __future__ import annotations

import dataclasses
import time

import pytest

from catalog import catalog_data
from shopbot.constraints import Constraints, Facets, parse


@pytest.fixture(scope="module")
def facets(demo_service):
    return Facets.from_store(demo_service.store)


@pytest.fixture(scope="module")
def products(demo_service):
    return list(demo_service.store.iter_chunks(where={"kind": "product"}))


# --------------------------------------------------------------------------- prices


@pytest.mark.parametrize(
    "question, low, high",
    [
        ("waterproof jackets under $150", None, 150),
        ("anything below 50 dollars?", None, 50),
        ("a headlamp for less than 100", None, 100),
        ("max $80 for a headlamp", None, 80),
        ("up to 60 for a daypack", None, 60),
        ("my budget is 300, which tent?", None, 300),
        ("tents cheaper than $400", None, 400),
        ("no more than USD 75", None, 75),
        ("stoves under 1,200 dollars", None, 1200),
        ("over $200 backpacks", 200, None),
        ("a mug at least 30", 30, None),
        ("more than 20 dollars", 20, None),
        ("jackets above €100", 100, None),
        ("between 20 and 40 dollars", 20, 40),
        ("something between 20 and 40", 20, 40),
        ("$20-$40 mugs", 20, 40),
        ("$20 to $40", 20, 40),
        ("20 to 40 euros", 20, 40),
        ("from £15 to £30", 15, 30),
        ("sleeping bags from 100 to 200", 100, 200),
        ("between $20 and $40", 20, 40),
        ("$150 or less", None, 150),
        ("150 dollars or less", None, 150),
        ("a $50 max headlamp", None, 50),
        ("tents $300 and up", 300, None),
        ("under $1k", None, 1000),
        ("priced below 80 dollars", None, 80),
        ("a 2 person tent under 200", None, 200),
        ("jacket under 150 usd", None, 150),
        ("cheapest Ridgeline tents under $150 in stock", None, 150),
    ],
)
def test_price_bounds(question, low, high):
    found = parse(question)
    assert (found.price_min, found.price_max) == (low, high), found


def test_around_a_price_is_a_band_either_side():
    found = parse("a sleeping bag around $100")
    assert found.price_min < 100 < found.price_max
    assert 80 <= found.price_min and found.price_max <= 120


def test_currency_is_kept_for_the_chips():
    assert parse("under 40 euros").currency == "EUR"
    assert parse("under £40").currency == "GBP"
    assert parse("under $40").currency == "USD"
    assert parse("under 40 euros").chips() == ["under €40"]


@pytest.mark.parametrize(
    "question",
    [
        "the 2-person tent",
        "a 65L pack",
        "a 65 L backpack for 5 days",
        "tell me about the Alpine 2 Tent",
        "what is RL-TNT-001?",
        "is RL-TNT-001 waterproof",
        "do you have a 30 days return policy?",
        "a stove that weighs under 500 g",
        "a tent that sleeps more than 4",
        "a tent for up to 4 people",
        "a sleeping bag rated to -10",
        "a headlamp with more than 300 lumens",
        "a pack under 2 kg",
        "Glacier -20 Expedition Bag",
        "what sizes does the Summit 45 come in?",
        "What sizes does the Granite Mid Waterproof Hiking Boot come in?",
        "Is the 3000 mm fly enough?",
        "a tent for between 2 and 4 people",
        "for 2-3 people",
        "ships in 2-3 days",
        "returns within 60 days",
        "a tent under 2 kilos",
        "a tent for up to 4",
        "more than 3 nights",
        "the 45+5 L pack",
        "top 5 tents",
        "models from 2020 to 2024",
        "what does the 65 L pack cost",
    ],
)
def test_numbers_that_are_not_prices(question):
    found = parse(question)
    assert found.price_min is None and found.price_max is None, found


# --------------------------------------------------------------------------- sort and stock


@pytest.mark.parametrize(
    "question, sort",
    [
        ("the cheapest 2-person tent", "price_asc"),
        ("least expensive daypack", "price_asc"),
        ("which stove has the lowest price?", "price_asc"),
        ("something not too expensive", "price_asc"),
        ("most expensive jacket", "price_desc"),
        ("your priciest tent", "price_desc"),
        ("highest-priced sleeping bag", "price_desc"),
        ("a warm sleeping bag", None),
    ],
)
def test_sort_intents(question, sort):
    assert parse(question).sort == sort


@pytest.mark.parametrize(
    "question, in_stock",
    [
        ("tents in stock", True),
        ("which daypacks are available now?", True),
        ("headlamps I can get available today", True),
        ("show me in-stock jackets", True),
        ("which tents are out of stock", False),
        ("sold out sleeping bags", False),
        ("Are there any tents in stock?", True),
        ("Do you have any tents in stock?", True),
        ("Is the Alpine 2 Tent in stock?", None),  # asks about one product; don't hide it
        ("Do you have the Loft Camp Chair in stock?", None),
        ("How many Cirrus UL 1 Tents are left in stock?", None),
        ("a warm tent", None),
    ],
)
def test_stock(question, in_stock):
    assert parse(question).in_stock is in_stock


# --------------------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    "question, size",
    [
        ("do you have the Trailtee in a size M?", "M"),
        ("size medium fleece", "M"),
        ("a rain jacket in large", "L"),
        ("XL rain jacket", "XL"),
        ("hiking shoes size 42", "42"),
        ("trail shoes in EU 43", "43"),
        ("a jacket in size s", "S"),
        ("do you have it in M?", "M"),
        ("boots size 10", "10"),
    ],
)
def test_sizes(question, size):
    assert parse(question).sizes == {size}


@pytest.mark.parametrize(
    "question",
    ["a large tent for 6 people", "a medium-weight fleece", "a medium daypack", "one size hat",
     "I'm 180 cm tall", "Mountain running shoes", "a 3 m tarp",
     "What sizes does the Granite Mid Waterproof Hiking Boot come in?"],
)
def test_no_size_from_ordinary_words(question):
    assert parse(question).sizes == set()


# --------------------------------------------------------------------------- facets


def test_facets_come_from_the_catalog(facets):
    assert set(catalog_data.BRANDS) <= facets.brands
    for category in catalog_data.CATEGORIES:
        assert category in facets.categories
    assert "Backpacking Tents" in facets.categories  # the last part of a " | " path
    assert "Camping > Tents > Backpacking Tents" in facets.category_paths
    assert {"Forest Green", "Black"} <= facets.colours
    assert {"M", "XL"} <= facets.sizes


@pytest.mark.parametrize(
    "question, brands, categories",
    [
        ("waterproof jackets under $150", set(), {"Jackets & Apparel"}),
        ("Ridgeline tents", {"Ridgeline"}, {"Tents"}),
        ("a kestrel peak backpack", {"Kestrel Peak"}, {"Backpacks"}),
        ("backpacking tents", set(), {"Backpacking Tents"}),
        ("a tent", set(), {"Tents"}),
        ("down sleeping bags", set(), {"Down"}),
        ("a sleeping bag liner", set(), {"Liners"}),
        ("daypacks by Talusworks", {"Talusworks"}, {"Daypacks"}),
        ("Does Ridgeline Outfitters ship to Canada?", set(), set()),  # the shop, not the brand
        ("a down jacket", set(), {"Jackets & Apparel"}),  # "down" alone is not a category
        ("hiking boots", set(), set()),  # "Hiking" alone is a department, not a filter
        ("what is your return policy?", set(), set()),
    ],
)
def test_brands_and_categories(facets, question, brands, categories):
    found = parse(question, facets)
    assert found.brands == brands
    assert found.categories == categories


@pytest.mark.parametrize(
    "question, colour",
    [
        ("green tents", "green"),
        ("a grey jacket", "grey"),
        ("a gray jacket", "grey"),
        ("the Sling 6 Hip Pack in sand", "sand"),
        ("a forest green daypack", "forest green"),
    ],
)
def test_colours(facets, question, colour):
    assert parse(question, facets).colours == {colour}


@pytest.mark.parametrize("question", ["white gas stove", "tent stakes for sand", "is it clear?"])
def test_no_colour_from_other_meanings(facets, question):
    assert parse(question, facets).colours == set()


def test_nothing_asked_gives_empty_constraints(facets):
    for question in ["what should I pack for rain?", "Tell me about RL-TNT-001",
                     "how do I return something?"]:
        found = parse(question, facets)
        assert not found.filters and found.sort is None
        assert found.text == question
        assert found.to_where() == {"kind": "product"}


def test_text_drops_the_constraint_phrases(facets):
    found = parse("the cheapest waterproof jackets under $150 in stock", facets)
    assert "150" not in found.text and "cheapest" not in found.text
    assert "in stock" not in found.text
    assert "waterproof jackets" in found.text


def test_chips_read_like_a_person_wrote_them(facets):
    chips = parse("cheapest Ridgeline tents under $150 in stock in a size M", facets).chips()
    assert chips == ["under $150", "cheapest first", "brand: Ridgeline", "category: Tents",
                     "size M", "in stock"]
    assert parse("between 20 and 40 dollars").describe() == "$20–$40"


# --------------------------------------------------------------------------- the real store


def test_naming_a_product_never_filters_it_out(facets, products):
    for _, text, meta in products:
        found = parse(f"How much is the {meta['title']}?", facets)
        assert found.matches(meta, text), (meta["title"], found.chips())


def test_labelled_questions_keep_their_own_product(facets, products):
    """The chat's labelled questions (tests/test_answers.py) never filter out the product
    they ask about, and a size question is not read as "size S"."""
    from tests.test_answers import CASES

    from shopbot.products import Product

    # A labelled case names its product by SKU: a product id, or one of its variants' SKUs.
    by_sku = {
        sku: (text, meta)
        for _, text, meta in products
        for sku in [meta["product_id"], *Product.from_metadata(meta).skus]
    }
    asked = 0
    for case in CASES:
        if case.source not in by_sku:
            continue
        text, meta = by_sku[case.source]
        found = parse(case.question, facets)
        assert found.matches(meta, text), (case.question, found.chips())
        asked += 1
    assert asked >= 20


FILTERED_QUESTIONS = [
    "waterproof jackets under $150",
    "the cheapest 2-person tent",
    "backpacks between 20 and 40 dollars",
    "Ridgeline tents over $300",
    "sleeping bags less than 100",
    "in-stock Kestrel Peak backpacks",
    "which tents are out of stock",
    "down sleeping bags",
    "headlamps under $50",
    "black rain jacket in a size M",
    "trail shoes size 42 under $150",
    "green tents",
]


@pytest.mark.parametrize("question", FILTERED_QUESTIONS)
def test_where_filter_runs_on_chroma_and_agrees_with_matches(demo_service, facets, products,
                                                             question):
    found = parse(question, facets)
    assert found.filters or found.sort
    got = demo_service.store.chunks.get(where=found.to_where(), include=["metadatas",
                                                                         "documents"])
    by_where = set(got["ids"])
    # Colour, size and measured attributes live in the record's text: matches() alone.
    metadata_only = dataclasses.replace(found, colours=set(), sizes=set(), measures=[])
    by_matches = {cid for cid, text, meta in products if metadata_only.matches(meta, text)}
    # Metadata constraints: Chroma and matches() pick the very same records.
    assert by_where == by_matches
    from shopbot.products import Product

    for meta in got["metadatas"]:
        assert meta["kind"] == "product"
        product = Product.from_metadata(meta)
        if found.price_max is not None:
            assert product.price() <= found.price_max
        if found.price_min is not None:
            assert product.price_range()[1] >= found.price_min
        if found.brands:
            assert product.brand in found.brands
        if found.in_stock:
            assert product.available()
    # Colour and size are post-filters on the text: what survives really offers them.
    survivors = [(t, m) for t, m in zip(got["documents"], got["metadatas"])
                 if found.matches(m, t)]
    assert survivors, f"no demo product fits {question!r}"
    for text, meta in survivors:
        for colour in found.colours:
            assert colour in text.lower()
        if found.sizes:
            assert "Size" in text


def test_sizes_are_read_from_the_size_attributes():
    medium = parse("a fleece in a size M")
    assert medium.matches({"kind": "product"}, "Fleece\nSizes: XS, S, M, L")
    assert not medium.matches({"kind": "product"}, "Fleece\nSizes: XS, S")
    assert not medium.matches({"kind": "product"}, "Fleece\nMaterial: M-weight polyester")
    eu42 = parse("booties size 42")
    assert eu42.matches({"kind": "product"}, "Bootie\nSizes: S (EU 36-39), M (EU 40-43)")
    assert eu42.matches({"kind": "product"}, "Shoe\nSizes: EU 40, EU 41, EU 42")
    assert not eu42.matches({"kind": "product"}, "Shoe\nSizes: EU 36, EU 37")


def test_jackets_under_150_are_jackets_under_150(demo_service, facets):
    found = parse("waterproof jackets under $150", facets)
    got = demo_service.store.chunks.get(where=found.to_where(), include=["metadatas"])
    assert got["ids"]
    for meta in got["metadatas"]:
        assert meta["price"] <= 150
        assert "Jackets" in meta["category_path"] or meta["category"] in found.categories


def test_a_constraint_with_no_match_gives_nothing(demo_service, facets):
    found = parse("Emberline tents under $5", facets)
    assert demo_service.store.chunks.get(where=found.to_where())["ids"] == []


def test_constraints_without_facets_still_filter(demo_service):
    found = Constraints(categories={"Tents"}, price_max=200.0)
    got = demo_service.store.chunks.get(where=found.to_where(), include=["metadatas"])
    assert all(m["category"] == "Tents" for m in got["metadatas"])
    tent = {"kind": "product", "price": 150.0,
            "category_path": "Camping > Tents > Backpacking Tents"}
    assert found.matches(tent) and not found.matches({**tent, "price": 250.0})


def test_parsing_is_cheap(facets):
    questions = ["what is a good tent for rain?", "the cheapest Ridgeline tent under $300"] * 500
    started = time.perf_counter()
    for question in questions:
        parse(question, facets)
    elapsed = time.perf_counter() - started
    print(f"{elapsed / len(questions) * 1e6:.0f} µs per question")


def test_facets_from_plain_records_with_pipe_paths():
    records = [
        ("Ridge Tent\nColour: Forest Green / Slate Grey", {
            "title": "Ridge Tent", "brand": "Acme", "category": "Backpacking Tents",
            "category_path": "Camping | Tents | Backpacking Tents", "price": 300.0}),
        ("Shell\nColor: Navy\nSize: S/M / M/L", {
            "title": "Shell", "brand": "Acme", "category": "Jackets",
            "category_path": "Clothing | Jackets", "price": 120.0}),
    ]
    facets = Facets.from_records(records)
    assert facets.brands == {"Acme"}
    assert {"Camping", "Tents", "Backpacking Tents", "Jackets"} <= facets.categories
    assert {"Forest Green", "Slate Grey", "Navy"} <= facets.colours
    found = parse("acme tents under $350 in slate grey", facets)
    assert found.categories == {"Tents"} and found.brands == {"Acme"}
    assert found.colours == {"slate grey"}
    assert found.to_where()["$and"][-1] == {
        "category_path": {"$in": ["Camping | Tents | Backpacking Tents"]}
    }
    tent_text, tent_meta = records[0]
    assert found.matches({**tent_meta, "kind": "product"}, tent_text)
    assert not found.matches({**records[1][1], "kind": "product"}, records[1][0])
    assert parse("an M/L shell in navy", facets).colours == {"navy"}
