"""Products with variants in the app (AppTest): a shopper asking for one size gets that
size's price in the answer and on the card; drafts, archived and unpublished products never
reach a shopper, and staff see them, with their status, on the Catalog page.

The catalog is a Shopify export written for these tests (tests/fixtures/variants/): the
Cirrus Down Vest in S/M/L ($45/$48/$52) and two colours, the Tern Rain Cap on sale, a draft
parka, archived gaiters and gloves not published to the online store.
"""

from __future__ import annotations

import os
import shutil

import pytest

from shopbot.auth import hash_password
from tests.conftest import CATALOG_DIR, ROOT
from tests.test_app import PASSWORD, ask, new_app, shown, sign_in

OUTERWEAR_CSV = ROOT / "tests" / "fixtures" / "variants" / "outerwear_shopify.csv"
HIDDEN = {
    "Aurora Insulated Parka": "draft",
    "Old Trail Gaiters": "archived",
    "Ember Fleece Gloves": "not visible",
}


@pytest.fixture
def variant_app(monkeypatch, tmp_path):
    """The app over the variants export and the demo FAQ, with the extractive generator."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    shutil.copy(OUTERWEAR_CSV, catalog)
    shutil.copy(CATALOG_DIR / "faq.md", catalog)
    for key in [k for k in os.environ if k.startswith(("SHOPBOT_", "OPENAI_"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SHOPBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHOPBOT_CATALOG_DIR", str(catalog))
    monkeypatch.setenv("SHOPBOT_GENERATOR", "extractive")
    monkeypatch.setenv("SHOPBOT_STAFF_PASSWORD_HASH", hash_password(PASSWORD, rounds=4))
    import streamlit as st

    st.cache_resource.clear()
    yield new_app()
    st.cache_resource.clear()


def cards(at) -> str:
    """The last answer's product cards as a reader sees them (titles and captions)."""
    message = at.chat_message[-1]
    parts = [m.value for m in message.markdown[1:]] + [c.value for c in message.caption]
    return shown("\n".join(parts))


def card_images(at) -> list:
    return [img for element in at.chat_message[-1].image for img in element.proto.imgs]


def test_asking_for_a_size_shows_that_sizes_price_in_the_answer_and_on_the_card(variant_app):
    at = variant_app
    answer = ask(at, "How much is the Cirrus Down Vest in size M?")
    assert "$48.00" in answer, answer
    assert "$45.00" not in answer and "$52.00" not in answer, answer
    shown_cards = cards(at)
    assert "Cirrus Down Vest" in shown_cards
    assert "Size M: $48.00 · In stock in Black; sold out in Grey · Loftworks" in shown_cards
    assert "Size: S, M, L · Color: Black, Grey" in shown_cards
    # Its image is on a host that never resolves: the local placeholder instead.
    (image,) = card_images(at)
    assert image.url.startswith("data:image/svg+xml") and image.alt == "No product image"

    # Without a size (a new chat, so "size M" is no standing filter): the range. The sale
    # of the cap reads now and was, and the cap's image is on a host that resolves.
    next(b for b in at.button if b.label == "New chat").click().run()
    ask(at, "How much is the Cirrus Down Vest?")
    assert "$45.00–$52.00" in cards(at)
    answer = ask(at, "How much is the Tern Rain Cap?")
    assert "$39.00" in answer
    assert "$39.00, was $49.00" in cards(at)
    assert card_images(at)[0].url == (
        "https://cdn.shopify.com/s/files/1/0001/files/tern-rain-cap.jpg"
    )


def test_drafts_never_reach_shoppers_and_staff_see_them_with_their_status(variant_app):
    at = variant_app
    for question in (
        "Do you have the Aurora Insulated Parka?",
        "How much are the Old Trail Gaiters?",
        "Do you sell fleece gloves?",
    ):
        answer = ask(at, question)
        shown_cards = cards(at)
        for title in HIDDEN:
            assert title not in answer and title not in shown_cards, (question, title)
        sources = at.session_state["messages"][-1]["sources"]
        assert not {s["title"] for s in sources} & set(HIDDEN), question

    sign_in(at)
    at.switch_page("pages/catalog.py").run()
    assert not at.exception, at.exception
    documents = next(d.value for d in at.dataframe if "superseded" in d.value.columns)
    documents = documents.set_index("source")
    assert documents.loc["outerwear_shopify.csv", "products"] == 5
    assert documents.loc["outerwear_shopify.csv", "hidden"] == (
        "3 hidden: 1 draft, 1 archived, 1 not visible"
    )
    assert documents.loc["faq.md", "hidden"] == ""

    (listing,) = [e for e in at.expander if e.label == "Hidden from shoppers (3)"]
    table = listing.dataframe[0].value
    assert dict(zip(table["product"], table["status"])) == HIDDEN
    assert set(table["document"]) == {"outerwear_shopify.csv"}
