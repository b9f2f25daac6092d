"""Product cards (shopbot.cards): what a card says about the variants a shopper asked for,
read from sources as the chat keeps them (``Source.to_dict()``), and how staff read the
hidden-product counts (shopbot.hidden_products)."""

from __future__ import annotations

import csv
from datetime import datetime, timezone

import pytest

from shopbot.cards import for_shoppers, product_card, variant_label
from shopbot.hidden_products import hidden_note, products_note
from shopbot.ingest.platforms import shopify
from shopbot.products import Product, Variant
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
OUTERWEAR_CSV = FIXTURES / "variants" / "outerwear_shopify.csv"


def products(path) -> dict[str, Product]:
    with open(path, encoding="utf-8", newline="") as rows:
        return {p.id: p for p in shopify.read(csv.DictReader(rows), "USD")}


@pytest.fixture(scope="module")
def outerwear() -> dict[str, Product]:
    return products(OUTERWEAR_CSV)


def source(product: Product, variants=(), **fields) -> dict:
    """A product source as the chat page stores it."""
    return {
        "id": product.id,
        "title": product.title,
        "price": product.price(),
        "currency": product.currency,
        "brand": product.brand,
        "kind": "product",
        "image": product.image,
        "product": product.to_dict(),
        "variants": [v.sku for v in variants],
        **fields,
    }


def test_a_card_shows_the_price_and_stock_of_the_size_asked_for(outerwear):
    vest = outerwear["cirrus-down-vest"]
    card = product_card(source(vest, vest.variants_named("the Cirrus Down Vest in size M")))
    assert (card.variant, card.price) == ("Size M", "$48.00")
    assert card.facts() == [
        "Size M: $48.00", "In stock in Black; sold out in Grey", "Loftworks"
    ]
    assert card.options == "Size: S, M, L · Color: Black, Grey"

    one = product_card(source(vest, vest.variants_named("an L in grey")))
    assert one.facts()[:2] == ["Size L / Grey: $52.00", "In stock (4 available)"]
    several = product_card(source(vest, [vest.variant("CDV-S-BLK"), vest.variant("CDV-L-GRY")]))
    assert several.facts()[0] == "Size S / Black, Size L / Grey: $45.00–$52.00"


def test_without_a_named_variant_a_card_shows_the_price_range_and_what_is_sold_out(outerwear):
    card = product_card(source(outerwear["cirrus-down-vest"]))
    assert (card.variant, card.price) == ("", "$45.00–$52.00")
    assert card.stock == "In stock (20 available); sold out: Size M / Grey"
    assert card.facts() == [card.price, card.stock, "Loftworks"]
    assert card.image == "https://cdn.loftworks.example/cirrus-vest.jpg"


def test_a_sale_reads_now_and_was_and_a_sale_outside_its_window_is_no_sale(outerwear):
    cap = outerwear["tern-rain-cap"]
    assert product_card(source(cap)).price == "$39.00, was $49.00"
    assert product_card(source(cap)).options == ""  # one variant: nothing to choose

    # Harbor Scarf: Teal on sale ($39, was $49), Rust $42, Charcoal $39 (compare-at equal).
    scarf = products(FIXTURES / "platforms" / "shopify_products.csv")["harbor-scarf"]
    card = product_card(source(scarf))
    assert card.price == "$39.00–$42.00"
    assert card.sale == "On sale: Teal $39.00, was $49.00"
    assert card.options == "Color: Teal, Rust, Charcoal"
    teal = product_card(source(scarf, scarf.variants_named("the teal one")))
    assert (teal.facts()[0], teal.sale) == ("Teal: $39.00, was $49.00", "")
    assert teal.image.endswith("harbor-scarf-teal.jpg")

    ended = Product("mug", "Camp Mug", variants=[Variant(
        "MUG-1", price=12.0, currency="EUR", compare_at_price=15.0,
        sale_ends=datetime(2020, 1, 1, tzinfo=timezone.utc),
    )])
    assert product_card(source(ended)).price == "€15.00"


def test_a_source_without_a_typed_product_falls_back_to_its_flat_fields():
    card = product_card({"id": "KY-1", "title": "Kayak", "price": 1099.0, "currency": "USD",
                         "stock": 0, "kind": "product"})
    assert (card.price, card.stock, card.options) == ("$1,099.00", "Out of stock", "")
    assert product_card({"id": "X", "title": "X", "price": None}).facts() == []


def test_hidden_products_are_not_for_shoppers(outerwear):
    assert for_shoppers(source(outerwear["cirrus-down-vest"]))
    for hidden in ("aurora-insulated-parka", "old-trail-gaiters", "ember-fleece-gloves"):
        assert not for_shoppers(source(outerwear[hidden]))
        assert product_card(source(outerwear[hidden])).hidden
    assert for_shoppers({"kind": "passage", "product": None})


def test_variant_labels_name_the_option_unless_the_value_is_a_colour():
    assert variant_label({"Size": "M", "Color": "Black"}) == "Size M / Black"
    assert variant_label({"Farbe": "Grau", "Capacity": "500 ml"}) == "Grau / Capacity 500 ml"


def test_hidden_counts_read_by_status():
    assert hidden_note({}) == "" and products_note(4) == "4"
    assert products_note(5, {"archived": 1, "draft": 1, "hidden": 1}) == (
        "5 (3 hidden: 1 draft, 1 archived, 1 not visible)"
    )
