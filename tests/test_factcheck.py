"""Answers that match the catalog: prices, stock and specs an answer states are checked
against the records it cites (shopbot/factcheck.py), over the real demo catalog's records,
and end to end with the real `openai` generator made to state a wrong price (the
OpenAI-compatible server on loopback scripted to say so)."""

from __future__ import annotations

import re

import pytest
from pydantic import SecretStr

from catalog import catalog_data
from shopbot.factcheck import FLAG_MARK, CheckedStream, check_answer, cited_sources, split_sentences
from shopbot.vocabulary import format_price
from shopbot.retrieval import Source

P = catalog_data.PRODUCTS_BY_SKU
ALPINE_2, ALPINE_3, TRAVERSE_65 = "RL-TNT-001", "RL-TNT-003", "RL-BPK-001"
ALPINE_2_PRICE = format_price(P[ALPINE_2]["price"], "USD")  # $349.00


def stored(service, **where) -> list[Source]:
    """The demo catalog's stored chunks matching ``where``, as the chain's Sources (the
    product's CSV row first, then its pages and spec sheets)."""
    (key, value), = where.items()
    chunks = service.store.get_chunks({key: value})
    assert chunks, where
    sources = [Source.from_chunk(cid, text, meta, 0.8) for cid, text, meta in chunks]
    return sorted(sources, key=lambda s: (s.kind != "product", s.source, s.text))


def product_record(service, sku: str) -> Source:
    record = stored(service, product_id=sku)[0]
    assert record.kind == "product" and record.price == P[sku]["price"]
    return record


@pytest.fixture(scope="module")
def catalog(demo_service):
    alpine_2 = stored(demo_service, product_id=ALPINE_2)
    return {
        "alpine_2": alpine_2,
        "alpine_2_record": alpine_2[0],
        "alpine_3_record": product_record(demo_service, ALPINE_3),
        "traverse_65": stored(demo_service, product_id=TRAVERSE_65),
        "shipping": stored(demo_service, source="shipping.docx"),
    }


def test_a_wrong_price_is_corrected_from_the_cited_record(catalog):
    sources = [catalog["alpine_2_record"], catalog["alpine_3_record"]]

    result = check_answer("The Alpine 2 Tent costs $299.00 [1]. It sleeps two people [1].", sources)

    assert result.text == f"The Alpine 2 Tent costs {ALPINE_2_PRICE} [1]. It sleeps two people [1]."
    [correction] = result.corrections
    assert (correction.old, correction.new) == ("$299.00", ALPINE_2_PRICE)
    assert correction.source_id == ALPINE_2
    assert correction.sentence == "The Alpine 2 Tent costs $299.00 [1]."
    assert correction.describe() == f"price of Alpine 2 Tent corrected to {ALPINE_2_PRICE}"
    assert result.flagged == []


def test_a_price_of_another_product_is_corrected_to_the_cited_ones(catalog):
    # The usual slip of a model: the Alpine 3's price said of the Alpine 2.
    sources = [catalog["alpine_2_record"], catalog["alpine_3_record"]]
    alpine_3_price = format_price(P[ALPINE_3]["price"], "USD")

    result = check_answer(f"The Alpine 2 Tent is {alpine_3_price} [1].", sources)

    assert result.text == f"The Alpine 2 Tent is {ALPINE_2_PRICE} [1]."


@pytest.mark.parametrize(
    "answer",
    [
        f"The Alpine 2 Tent costs {ALPINE_2_PRICE} [1].",
        "The Alpine 2 Tent costs $349 [1].",
        "The Alpine 2 Tent costs 349 USD and is in stock (18 available) [1].",
        "It is a 2-person, 3-season tent; you can return it within 30 days [1].",
        "The Alpine 2 Tent (RL-TNT-001) has a packed weight of 1650 g [1], about 1.7 kg.",
        "The Alpine 2 is a good pick under $400 [1].",
        "Our catalog was last updated on January 1, 2026.",
    ],
)
def test_right_values_and_numbers_that_are_no_price_or_spec_are_left_alone(catalog, answer):
    result = check_answer(answer, catalog["alpine_2"])

    assert result.text == answer
    assert not result.changed


def test_a_price_from_a_cited_policy_passage_is_not_wrong(catalog):
    sources = [catalog["alpine_2_record"], *catalog["shipping"]]
    express = next(n for n, s in enumerate(sources, 1) if "$14.95" in s.text)
    answer = (
        f"The Alpine 2 Tent costs {ALPINE_2_PRICE} [1], and express shipping costs "
        f"$14.95 [{express}]. Standard shipping is free on orders over $75 [{express}]."
    )

    result = check_answer(answer, sources)

    assert result.text == answer
    assert not result.changed


def test_a_fee_no_source_states_is_flagged_not_turned_into_a_product_price(catalog):
    sources = [catalog["alpine_2_record"], *catalog["shipping"]]

    result = check_answer(
        f"The Alpine 2 Tent costs {ALPINE_2_PRICE}, and express shipping is $9.99 [1].", sources
    )

    assert ALPINE_2_PRICE in result.text and "$9.99" in result.text
    assert result.text.endswith(FLAG_MARK)
    assert result.corrections == []


def test_a_price_in_a_sentence_citing_two_products_with_other_prices_is_flagged(catalog):
    sources = [catalog["alpine_2_record"], catalog["alpine_3_record"]]
    answer = "Both tents cost $299.00 [1][2]. The Alpine 3 Tent sleeps three [2]."

    result = check_answer(answer, sources)

    assert result.text == (
        f"Both tents cost $299.00 [1][2].{FLAG_MARK} The Alpine 3 Tent sleeps three [2]."
    )
    assert result.flagged == ["Both tents cost $299.00 [1][2]."]
    assert result.corrections == []


def test_naming_the_product_settles_which_cited_record_a_price_is_about(catalog):
    sources = [catalog["alpine_2_record"], catalog["alpine_3_record"]]

    result = check_answer("The Alpine 2 Tent costs $299.00 [1][2].", sources)

    assert result.text == f"The Alpine 2 Tent costs {ALPINE_2_PRICE} [1][2]."


def test_a_wrong_weight_is_corrected_from_the_records_weight(catalog):
    # The Traverse 65's records say "Weight: 2050 g" and "max load 25 kg": "weighs" picks
    # the weight, and the load said right is left alone.
    result = check_answer(
        "The Traverse 65 Backpack weighs 2.6 kg [1] and carries up to 25 kg [1].",
        catalog["traverse_65"],
    )

    assert result.text == "The Traverse 65 Backpack weighs 2050 g [1] and carries up to 25 kg [1]."
    [correction] = result.corrections
    assert (correction.old, correction.new, correction.field) == ("2.6 kg", "2050 g", "weight")
    assert correction.source_id == TRAVERSE_65


def test_wrong_capacity_and_stock_are_corrected(catalog):
    stock = P[ALPINE_2]["stock"]
    assert stock > 0
    result = check_answer(
        "The Traverse 65 Backpack has a capacity of 70 L [1].", catalog["traverse_65"]
    )
    assert result.text == "The Traverse 65 Backpack has a capacity of 65 L [1]."

    result = check_answer("Only 2 are left in stock [1].", [catalog["alpine_2_record"]])
    assert result.text == f"Only {stock} are left in stock [1]."
    assert result.corrections[0].field == "stock"

    result = check_answer("Sadly it is out of stock [1].", [catalog["alpine_2_record"]])
    assert result.flagged and result.text.endswith(FLAG_MARK)


def test_a_spec_the_record_cannot_place_is_flagged(catalog):
    # The Alpine 2 has several lengths (peak height, packed size, hydrostatic heads...):
    # "measures 80 cm" does not say which.
    result = check_answer("The Alpine 2 Tent measures 80 cm [1].", catalog["alpine_2"])

    assert result.text.endswith(FLAG_MARK) and result.corrections == []


def test_sentences_without_citations_use_the_named_product_or_the_only_one(catalog):
    sources = [catalog["alpine_2_record"], catalog["alpine_3_record"]]
    result = check_answer("The Alpine 3 Tent is $399.", sources)
    assert result.text == f"The Alpine 3 Tent is {format_price(P[ALPINE_3]['price'], 'USD')}."

    result = check_answer("It costs $299.", catalog["alpine_2"])
    assert result.text == f"It costs {ALPINE_2_PRICE}."


def test_cited_sources_are_the_ones_the_answer_cites_in_order(catalog):
    sources = [catalog["alpine_2_record"], catalog["alpine_3_record"], *catalog["shipping"][:1]]
    assert cited_sources("A [3]. B [1][3].", sources) == [sources[2], sources[0]]
    assert cited_sources("No citations.", sources) == []


ANSWERS = [
    "The Alpine 2 Tent costs $299.00 [1]. It sleeps two people [1].",
    "Here is what matches in our catalog:\n- Alpine 2 Tent by Ridgeline, $349.00, 2 in stock [1]"
    "\n- Alpine 3 Tent by Ridgeline, $399.00 [2]",
    "Both tents cost $299.00 [1][2]. Express shipping is $14.95. [3] Thanks!",
    "The Alpine 2 Tent costs $299.00. [1] It weighs 1.9 kg! [1]\n\nAnything else?",
    "No sentence end at all $299 [1]",
    "",
]


@pytest.mark.parametrize("answer", ANSWERS)
@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_streaming_yields_the_same_text_as_checking_the_whole_answer(catalog, answer, size):
    sources = [catalog["alpine_2_record"], catalog["alpine_3_record"], *catalog["shipping"][:1]]
    pieces = [answer[i : i + size] for i in range(0, len(answer), size)]

    stream = CheckedStream(iter(pieces), sources)
    streamed = list(stream)

    whole = check_answer(answer, sources)
    assert "".join(streamed) == whole.text
    assert stream.result.text == whole.text
    assert stream.corrections == whole.corrections and stream.flagged == whole.flagged
    assert "".join(split_sentences(answer)) == answer
    # Nothing wrong is ever shown, not even for a moment: no piece holds the wrong price.
    assert not any("$299" in piece for piece in streamed if FLAG_MARK not in piece)


def test_streaming_holds_a_sentence_back_only_until_it_ends(catalog):
    sources = [catalog["alpine_2_record"]]
    shown: list[str] = []

    def pieces():
        yield "The Alpine 2 Tent costs $2"
        assert shown == []
        yield "99.00 [1]. It"
        assert shown == [f"The Alpine 2 Tent costs {ALPINE_2_PRICE} [1]. "]
        yield " has two doors [1]."

    for piece in CheckedStream(pieces(), sources):
        shown.append(piece)
    assert "".join(shown) == f"The Alpine 2 Tent costs {ALPINE_2_PRICE} [1]. It has two doors [1]."


def test_a_generator_failing_mid_answer_still_gets_its_text_so_far_checked(catalog):
    def pieces():
        yield "The Alpine 2 Tent costs $299.00 [1]"
        raise RuntimeError("connection dropped")

    stream = CheckedStream(pieces(), [catalog["alpine_2_record"]])
    shown = []
    with pytest.raises(RuntimeError):
        for piece in stream:
            shown.append(piece)
    assert shown == [f"The Alpine 2 Tent costs {ALPINE_2_PRICE} [1]"]


# -- end to end: the real openai generator made to state a wrong price ------------------------

WRONG = "The Alpine 2 Tent costs $299.00 [{n}]. It is a freestanding 2-person tent [{n}]."


@pytest.fixture
def lying_openai(openai_server, demo_service, monkeypatch):
    """The chain over the demo catalog with the real `openai` generator, talking HTTP to the
    loopback server, which says the Alpine 2 Tent costs $299.00, citing the source number
    the prompt gave the Alpine 2 Tent's record."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")

    def reply(messages) -> str:
        prompt = messages[-1]["content"]
        numbers = re.findall(r"^\[(\d+)\] Alpine 2 Tent \|", prompt, flags=re.M)
        assert numbers, prompt
        return WRONG.format(n=numbers[0])

    openai_server.reply = reply
    service = demo_service.with_settings(
        {
            "openai_api_key": SecretStr(openai_server.api_key),
            "openai_base_url": openai_server.base_url,
            "openai_max_retries": 0,
            "openai_timeout": 20.0,
        }
    )
    return service.assistant("openai")


def test_the_shopper_sees_the_catalog_price_not_the_models_wrong_one(lying_openai, openai_server):
    stream = lying_openai.stream("How much is the Alpine 2 Tent?")
    shown = list(stream)
    answer = stream.complete()

    assert openai_server.chat_requests(), "the model was asked"
    text = "".join(shown)
    assert "$299" not in text and "$299" not in answer.text
    assert f"The Alpine 2 Tent costs {ALPINE_2_PRICE} [" in text
    assert answer.text == text.strip()
    assert answer.flagged == []
    [correction] = answer.corrections
    assert (correction.old, correction.new) == ("$299.00", ALPINE_2_PRICE)
    assert correction.source_id == ALPINE_2
    # The product card is drawn from the record the answer cites, which has the same price.
    [cited] = {s.id: s for s in cited_sources(answer.text, answer.sources)}.values()
    assert cited.id == ALPINE_2 and format_price(cited.price, cited.currency) == ALPINE_2_PRICE
    data = answer.to_dict()
    assert data["corrections"][0]["new"] == ALPINE_2_PRICE and data["flagged"] == []


def test_ask_gives_the_corrected_answer_too(lying_openai):
    answer = lying_openai.ask("What does the Alpine 2 Tent cost?")

    assert "$299" not in answer.text and ALPINE_2_PRICE in answer.text
    assert [c.new for c in answer.corrections] == [ALPINE_2_PRICE]


def test_extractive_answers_to_the_labelled_questions_pass_through_unchanged(demo_service):
    """The extractive generator quotes its records: the check must find nothing to change in
    any of its answers to tests/test_answers.py's labelled questions."""
    from tests.test_answers import CASES, ask

    assistant = demo_service.assistant("extractive")
    changed = []
    for case in CASES:
        answer = ask(assistant, case)
        if answer.corrections or answer.flagged or FLAG_MARK in answer.text:
            changed.append((case.question, answer.text, answer.corrections, answer.flagged))
    assert changed == []
