"""Shopper phrasings the outsider question sets brought (bench/shopper/*_dev2, _dev3), on the
demo catalog, as a shopper sees the answer: broader kinds, what a product must have, whom it
is for, loosely named comparisons, labelled superlatives, budgets said the other way round,
policy questions about a product, and variants named by several words. Expected facts come
from catalog/catalog_data.py, never from the bot's own reading of the files."""

from __future__ import annotations

import re

import pytest

from catalog.catalog_data import PRODUCTS
from shopbot.vocabulary import format_price
from tests.chat_helpers import conversation, first_named


def product(title: str) -> dict:
    return next(p for p in PRODUCTS if p["title"] == title and p.get("status", "active") == "active")


def waterproof_mm(p: dict) -> int | None:
    found = re.search(r"(\d+) mm waterproof", p["material"] or "")
    return int(found.group(1)) if found else None


@pytest.fixture(scope="module")
def assistant(demo_service):
    return demo_service.assistant("extractive")


def test_the_most_expensive_jacket_weighs_the_parka_and_the_shell(assistant):
    # A parka and a shell are jackets, though their titles end otherwise.
    answer = assistant.ask("most expensive jacket?")
    apparel = [p for p in PRODUCTS if p["category"] == "Jackets & Apparel"
               and re.search(r"(Jacket|Parka|Shell)$", p["title"])]
    dearest = max(apparel, key=lambda p: p["price"])
    assert dearest["title"].endswith(("Parka", "Shell"))
    assert first_named(answer.text, [p["title"] for p in apparel]) == dearest["title"]
    assert format_price(dearest["price"], "USD") in answer.text


def test_a_feature_clause_picks_the_product_whose_description_says_so(assistant):
    banks = [p for p in PRODUCTS if p["title"].endswith("Power Bank")]
    laptop = [p for p in banks if "laptop" in p["description"].lower()]
    assert len(banks) > 1 and len(laptop) == 1
    first, second = conversation(assistant, "do you have a power bank that can charge a laptop?",
                                 "how heavy is it")
    assert first_named(first.text, [p["title"] for p in banks]) == laptop[0]["title"]
    assert f"{laptop[0]['weight_g']} g" in second.text


def test_whom_it_is_for_rules_out_the_others(assistant):
    answer = assistant.ask("mens rain jackets?")
    jackets = [p for p in PRODUCTS if p["title"].endswith("Rain Jacket")
               and p.get("status", "active") == "active"]
    for p in jackets:
        if re.search(r"Women's|Kids", p["title"]):
            assert p["title"] not in answer.text
        else:
            assert p["title"] in answer.text


def test_a_ruled_out_kind_is_no_filter(assistant):
    answer = assistant.ask("lightest 2 person tent you sell? a real tent, not a tarp")
    assert "tarp" not in answer.text.lower()
    tents = [p for p in PRODUCTS if p["title"].endswith(" Tent") and p.get("status", "active")
             == "active" and re.search(r"\b2\b", p["title"])]
    lightest = min(tents, key=lambda p: p["weight_g"])
    assert answer.text.startswith("The lightest")
    assert first_named(answer.text, [p["title"] for p in tents]) == lightest["title"]


def test_which_is_more_waterproof_compares_the_labelled_quantity(assistant):
    answer = assistant.ask("Stormline 2.5L or Tempest 3L - which is more waterproof?")
    stormline, tempest = product("Stormline 2.5L Rain Jacket"), product("Tempest 3L Alpine Shell")
    winner = max((stormline, tempest), key=waterproof_mm)
    assert answer.text.startswith(f"The {winner['title']} is more waterproof")
    assert f"{waterproof_mm(winner)} mm" in answer.text


def test_a_loosely_named_second_product_is_compared(assistant):
    answer = assistant.ask("whats cheaper, the voltpack 20000 or the sunfold 21w panel")
    bank, panel = product("Voltpack 20000 Power Bank"), product("Sunfold 21 W Solar Panel")
    cheaper = min((bank, panel), key=lambda p: p["price"])
    assert answer.text.startswith(f"The {cheaper['title']} is cheaper")
    for p in (bank, panel):
        assert format_price(p["price"], "USD") in answer.text


def test_a_budget_said_the_other_way_round_is_a_cap(assistant):
    answer = assistant.ask("looking for a headlamp, dont wanna spend more than 50 bucks")
    assert "under $50" in answer.to_dict()["filters"]
    for p in PRODUCTS:
        if p["title"].endswith("Headlamp") and p.get("status", "active") == "active":
            assert (p["title"] in answer.text) == (p["price"] <= 50), p["title"]


def test_is_it_in_stock_names_the_options_that_are(assistant):
    beacon = product("Beacon 400 Headlamp")
    answer = assistant.ask("is the Beacon 400 headlamp in stock?")
    for variant in beacon["variants"]:
        colour = variant["options"]["Colour"]
        assert colour in answer.text
    sold_out = [v["options"]["Colour"] for v in beacon["variants"] if not v["stock"]]
    assert sold_out and f"{sold_out[0]} is out of stock" in answer.text


def test_the_wide_long_is_that_size_not_also_the_long(assistant):
    pad = product("Loftrest Insulated Sleeping Pad")
    by_size = {v["options"]["Size"]: v for v in pad["variants"]}
    answers = conversation(assistant, "do u sell sleeping pads", "how much is the long one",
                           "ok then the wide long?")
    last = answers[-1].text
    assert format_price(by_size["Wide Long"]["price"], "USD") in last
    assert format_price(by_size["Long"]["price"], "USD") not in last


def test_a_policy_question_about_it_reads_the_policy_for_its_category(assistant):
    first, second = conversation(assistant, "how much is the ember -5 down bag",
                                 "cool. how long is the warranty on it")
    assert second.understanding.intent == "policy"
    assert "Sleeping Bags" in second.text and "3 years" in second.text
    assert not any(s.kind == "product" for s in second.sources)


def test_a_short_name_followed_by_another_kind_is_not_that_product(assistant):
    answer = assistant.ask("how much is the alpine 2 replacement pole set? want to order one")
    assert answer.understanding.intent == "not_sold"
    assert answer.sources == []
    assert format_price(product("Alpine 2 Tent")["price"], "USD") not in answer.text
