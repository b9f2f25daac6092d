"""A phrase from a product's own description finds that product, on a real store export
nobody here wrote (the Magento sample in ../shared/realdata), with the real embedding model
and a real store: the keyword evidence is not lost by fusion, and colour or category words
inside the quoted text do not become filters that hide the product.

bench/description_recall.py measures the same over every product of the export."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopbot.evaluation import temporary_catalog
from tests.conftest import ROOT, make_settings

MAGENTO = ROOT.parent / "shared" / "realdata" / "magento" / "products.csv"

pytestmark = pytest.mark.skipif(
    not MAGENTO.is_file(), reason=f"the real Magento export is not here: {MAGENTO}"
)

# (phrase copied from the product's description, the product's id). The first ones hold
# words the catalog also uses as categories or colours ("bottom" ~ Bottoms, "short" ~ Shorts,
# "red", "purple"); the hoodie they describe is none of those.
PHRASES = [
    ("bottom band seal in body", "MH01"),  # Chaz Kangeroo Hoodie
    ("This short-sleeve wonder works twice", "MS06"),  # Zoltan Gym Tee
    ("red accents. • 92% Organic Cotton 8% Spandex", "MSH05"),  # Hawkeye Yoga Short
    ("purple stiching. • Hoodie pullover", "WH02"),  # Hera Pullover Hoodie: blue/green/orange
    ("drawstrings. • Longer rounded", "WH04"),  # Miko Pullover Hoodie
    ("afternoon stadium stints or winter trailside", "MH04"),
]


@pytest.fixture(scope="module")
def magento(embeddings):
    with temporary_catalog([Path(MAGENTO)], make_settings(), embeddings) as catalog:
        yield catalog.service


@pytest.mark.parametrize("phrase, product", PHRASES)
def test_a_description_phrase_finds_its_product_in_the_top_5(magento, phrase, product):
    found = magento.retrieve(phrase, 5)
    ids = [s.id for s in found.sources]
    assert product in ids[:5], f"{phrase!r} -> {ids}"
    assert not found.relaxed


def test_colour_and_category_words_of_a_quoted_description_are_no_filters(magento):
    for phrase, product in [("purple stiching. • Hoodie pullover", "WH02"),
                            ("bottom band seal in body", "MH01")]:
        found = magento.retrieve(phrase, 5)
        assert not found.constraints.filters, found.constraints.chips()
        shown = {s.id: s for s in found.sources}
        assert product in shown and not shown[product].note, "shown as a fitting product"


def test_the_shoppers_own_colour_and_category_words_still_filter(magento):
    found = magento.retrieve("purple hoodies", 5)
    assert {"colour: purple", "category: Hoodies & Sweatshirts"} <= set(found.constraints.chips())
    products = [s.product for s in found.sources if s.kind == "product"]
    assert products and all("Purple" in p.option_values("Color") for p in products)


# -- lists and superlatives on the same real export -------------------------------------------


def magento_products(category: str) -> dict[str, float]:
    """Name -> price of the products shoppers see in ``category`` ("Men/Tops/Tanks"), read
    from the export itself."""
    import csv
    import html

    with MAGENTO.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    found = {}
    for row in rows:
        if row["visibility"] != "Catalog, Search" or f"/{category}" not in row["categories"]:
            continue
        found[" ".join(html.unescape(row["name"]).split())] = float(row["price"])
    return found


def test_a_list_question_names_every_product_of_the_kind(magento):
    tanks = magento_products("Men/Tops/Tanks")
    assert len(tanks) >= 8
    answer = magento.assistant("extractive").ask("what tank tops do you have for men")
    shown = [name for name in tanks if name in answer.text]
    assert len(shown) == min(len(tanks), magento.settings.list_limit), answer.text
    assert "Bra Top" not in answer.text  # women's bra tops are filed with "Bras & Tanks"


def test_a_superlative_counts_what_the_category_files_as_that_kind(magento):
    hoodies = magento_products("Women/Tops/Hoodies & Sweatshirts")
    cheapest = min(hoodies, key=hoodies.get)
    answer = magento.assistant("extractive").ask("cheapest hoodie for women")
    first = min((answer.text.find(n), n) for n in hoodies if n in answer.text)[1]
    assert first == cheapest
