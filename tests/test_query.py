"""Question understanding (shopbot/query.py) on the demo catalog, as a shopper sees it: the
intent a question is read as, complete lists in the order asked, superlatives on measured
attributes, follow-ups by reference, remembered filters that apply only where they make sense,
and things the shop does not sell. Expected facts come from catalog/catalog_data.py, the data
the demo files were rendered from, never from the bot's own reading of them."""

from __future__ import annotations

import re

import pytest

from catalog.catalog_data import PRODUCTS
from shopbot.prompts import NOT_IN_CATALOG
from tests.chat_helpers import conversation, first_named


def visible(title_end: str, subcategory_word: str = "") -> list[dict]:
    """Distinct visible demo products whose title ends with ``title_end``."""
    seen: dict[str, dict] = {}
    for p in PRODUCTS:
        if p.get("status", "active") != "active" or not p["title"].endswith(title_end):
            continue
        if subcategory_word and subcategory_word not in f"{p['category']} {p['subcategory']}":
            continue
        seen.setdefault(p["title"], p)
    return list(seen.values())


@pytest.fixture(scope="module")
def assistant(demo_service):
    return demo_service.assistant("extractive")




def test_a_list_question_names_every_product_that_fits(assistant):
    answer = assistant.ask("Which rain jackets do you have?")
    assert answer.understanding.intent == "list"
    jackets = [p["title"] for p in visible("Rain Jacket")]
    assert len(jackets) >= 3
    for title in jackets:
        assert title in answer.text, title
    assert "Rain Pants" not in answer.text  # filed with the jackets, but not a jacket


def test_a_list_counts_what_it_leaves_out(demo_service, assistant):
    answer = assistant.ask("which tents do you have?")
    tents = visible(" Tent")
    limit = demo_service.settings.list_limit
    assert len(tents) > limit
    shown = [t["title"] for t in tents if t["title"] in answer.text]
    assert len(shown) == limit
    assert f"and {len(tents) - limit} more" in answer.text
    assert answer.retrieval.total == len(tents)


def test_superlatives_sort_on_the_attribute_asked_for(assistant):
    tents = visible(" Tent")
    lightest = min(tents, key=lambda p: p["weight_g"])
    answer = assistant.ask("lightest tent")
    assert answer.understanding.intent == "superlative"
    assert first_named(answer.text, [t["title"] for t in tents]) == lightest["title"]

    bags = [b for b in visible(" Bag", "Sleeping") if "Liner" not in b["title"]]
    cheapest = min(bags, key=lambda p: p["price"])
    answer = assistant.ask("cheapest sleeping bag")
    everything = [p["title"] for p in PRODUCTS]
    assert first_named(answer.text, everything) == cheapest["title"]


def test_a_measured_constraint_with_units(assistant):
    answer = assistant.ask("a sleeping bag for -10 degrees")
    assert "for -10 degrees" in answer.constraints.chips()
    listed = [p for p in visible(" Bag", "Sleeping") if p["title"] in answer.text]
    assert listed
    for bag in listed:  # each one is rated to -10 °C or colder
        comfort = re.search(r"comfort (-?\d+)", bag["description"])
        assert comfort and int(comfort.group(1)) <= -10, bag["title"]

    answer = assistant.ask("Do you have a tent for 6 people?")
    assert "Basecamp 6 Family Tent" in answer.text
    assert NOT_IN_CATALOG not in answer.text


def test_a_remembered_size_does_not_filter_another_kind(assistant):
    boots, headlamps = conversation(
        assistant, "What US size is an EU 42 boot?", "Which headlamps do you have?"
    )
    assert "size 42" in boots.constraints.chips()
    assert "size 42" not in headlamps.constraints.chips()
    assert "size 42" not in headlamps.text
    for lamp in visible("Headlamp"):
        assert lamp["title"] in headlamps.text
    assert "size 42" in headlamps.remember.chips()  # still remembered for the next boot


def test_a_referred_budget_applies_and_the_answer_says_so(assistant):
    first, second = conversation(
        assistant, "headlamps under $50", "and a lantern within the same budget?"
    )
    assert "under $50" in second.constraints.chips()
    assert second.text.startswith("Using your earlier filters: under $50.")
    assert all(s.price <= 50 for s in second.sources if s.kind == "product")


def test_a_new_question_is_not_glued_to_the_previous_one(assistant):
    returns, shipping = conversation(
        assistant, "What is your return policy?", "How much does shipping cost?"
    )
    assert shipping.standalone_question == "How much does shipping cost?"
    assert "shipping" in shipping.text.lower()
    follow = conversation(assistant, "how much is the Alpine 2 tent?", "is it in stock?")[1]
    assert follow.understanding.follow_up
    assert "Alpine 2 Tent" in follow.text


def test_misspelt_names_and_things_not_sold(assistant):
    answer = assistant.ask("how much is the alpin 2 tnet")
    assert "Alpine 2 Tent" in answer.text and "$349.00" in answer.text

    kayaks = assistant.ask("Do you sell kayaks?")
    assert kayaks.understanding.intent == "not_sold"
    assert NOT_IN_CATALOG in kayaks.text and "kayaks" in kayaks.text
    assert kayaks.sources == []  # no unrelated cards

    mug = assistant.ask("how much is the Camp Mug")
    assert mug.sources == [] and "Camp Mug" in mug.text
    assert "Titan" not in mug.text  # never another product as the one asked for


def test_a_comparison_answers_which_one_first(assistant):
    answer = assistant.ask("which is cheaper, the Alpine 2 Tent or the Cirrus UL 2 Tent?")
    prices = {p["title"]: p["price"] for p in PRODUCTS
              if p["title"] in ("Alpine 2 Tent", "Cirrus UL 2 Tent")}
    cheaper = min(prices, key=prices.get)
    assert answer.text.startswith(f"The {cheaper} is cheaper")


def test_a_list_and_a_follow_up_on_it(assistant):
    listed, lighter = conversation(assistant, "i need a tent for 2 people", "which one is lighter")
    two = [t for t in visible(" Tent") if re.search(r"\bSleeps 2\b", t["description"])]
    for tent in two:
        assert tent["title"] in listed.text
    lightest = min(two, key=lambda p: p["weight_g"])
    assert first_named(lighter.text, [t["title"] for t in two]) == lightest["title"]


def test_an_accessory_for_a_named_product(assistant):
    # The footprint made for the Alpine 2 Tent, not the tent itself.
    footprint = assistant.ask("do you have a footprint for the alpine 2 tent?")
    assert "Alpine 2 Footprint" in footprint.text
    assert not footprint.text.startswith("The Alpine 2 Tent")
    # No poles are sold for it: said plainly, and the tent is not offered instead.
    poles = assistant.ask("can i buy replacement poles for the alpine 2 tent")
    assert poles.understanding.intent == "not_sold"
    assert "replacement poles for the Alpine 2 Tent" in poles.text
    assert poles.sources == []


def test_something_smaller_than_the_product_just_answered(assistant):
    first, smaller = conversation(assistant, "how much is the icebox 45 cooler",
                                  "got anything smaller?")
    assert "Icebox 45 Hard Cooler" in first.text
    coolers = visible(" Cooler")
    litres = {c["title"]: int(re.search(r"(\d+) L\b", c["description"]).group(1))
              for c in coolers if re.search(r"(\d+) L\b", c["description"])}
    assert litres.get("Icebox 45 Hard Cooler")
    below = [t for t, v in litres.items() if v < litres["Icebox 45 Hard Cooler"]]
    assert below
    closest = max(below, key=litres.get)
    assert first_named(smaller.text, list(litres)) == closest
    assert "Icebox 45 Hard Cooler" not in [s.title for s in smaller.sources]
    # "smaller than" that cooler is for this question only: not remembered.
    assert not any("than the" in chip for chip in smaller.remember.chips())
