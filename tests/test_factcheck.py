"""Answers that match the catalog: prices, stock and specs an answer states are checked
against the records it cites (shopbot/factcheck.py), over the real demo catalog's records,
and end to end with the real `openai` generator made to state a wrong price (the
OpenAI-compatible server on loopback scripted to say so). Prices and stock of products with
variants are checked variant by variant, over a small Shopify export (tests/variant_shop.py).

The demo catalog's products are keyed by their Shopify handle ("alpine-2-tent"); the SKUs
these tests name ("RL-TNT-001") are their variants' SKUs, which their pages and spec sheets
carry."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from pydantic import SecretStr

from catalog import catalog_data
from shopbot.factcheck import FLAG_MARK, CheckedStream, check_answer, cited_sources, split_sentences
from shopbot.products import Product
from shopbot.retrieval import Source
from shopbot.variant_facts import chosen_sentences, option_sentences, sale_sentences
from shopbot.vocabulary import format_price
from tests.variant_shop import FLEECE, SCARF, SHELL, ended_sale_record, source_of, variant_shop

P = catalog_data.PRODUCTS_BY_SKU
ALPINE_2, ALPINE_3, TRAVERSE_65 = "RL-TNT-001", "RL-TNT-003", "RL-BPK-001"
ALPINE_2_PRICE = format_price(P[ALPINE_2]["price"], "USD")  # $349.00


def stored(service, **where) -> list[Source]:
    """The demo catalog's stored chunks matching ``where``, as the chain's Sources (the
    product's CSV row first, then its pages and spec sheets). ``sku=...``: the product with
    that variant SKU: its record and the pages and spec sheets that name it by the SKU."""
    (key, value), = where.items()
    if key == "sku":
        records = [
            chunk for chunk in service.store.get_chunks({"kind": "product"})
            if value in Product.from_metadata(chunk[2]).skus
        ]
        chunks = records + service.store.get_chunks({"product_id": value})
    else:
        chunks = service.store.get_chunks({key: value})
    assert chunks, where
    sources = [Source.from_chunk(cid, text, meta, 0.8) for cid, text, meta in chunks]
    return sorted(sources, key=lambda s: (s.kind != "product", s.source, s.text))


def product_record(service, sku: str) -> Source:
    record = stored(service, sku=sku)[0]
    assert record.kind == "product" and record.price == P[sku]["price"] and sku in record.skus
    return record


@pytest.fixture(scope="module")
def catalog(demo_service):
    alpine_2 = stored(demo_service, sku=ALPINE_2)
    return {
        "alpine_2": alpine_2,
        "alpine_2_record": alpine_2[0],
        "alpine_3_record": product_record(demo_service, ALPINE_3),
        "traverse_65": stored(demo_service, sku=TRAVERSE_65),
        "shipping": stored(demo_service, source="shipping.docx"),
    }


def test_a_wrong_price_is_corrected_from_the_cited_record(catalog):
    sources = [catalog["alpine_2_record"], catalog["alpine_3_record"]]

    result = check_answer("The Alpine 2 Tent costs $299.00 [1]. It sleeps two people [1].", sources)

    assert result.text == f"The Alpine 2 Tent costs {ALPINE_2_PRICE} [1]. It sleeps two people [1]."
    [correction] = result.corrections
    assert (correction.old, correction.new) == ("$299.00", ALPINE_2_PRICE)
    assert correction.source_id == sources[0].id and ALPINE_2 in sources[0].skus
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
    assert TRAVERSE_65 in catalog["traverse_65"][0].skus
    assert correction.source_id == catalog["traverse_65"][0].id


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


# -- variants: a price or stock level is right only for the variants it is said of ------------


@pytest.fixture(scope="module")
def shop(tmp_path_factory, embeddings):
    """The variant shop's records as the chain's Sources: [1] the fleece (S $45, M $48 in
    black and red, L $52 sold out), [2] the scarf (teal on sale at $39, was $49; rust $42),
    [3] the rain shell ($120, no options)."""
    service = variant_shop(tmp_path_factory.mktemp("variant-shop"), embeddings)
    return [source_of(service, key) for key in (FLEECE, SCARF, SHELL)]


@pytest.mark.parametrize(
    ("answer", "checked"),
    [
        ("The Summit Fleece Jacket in M costs $48.00 [1].", None),
        ("The Summit Fleece Jacket in size M costs $52.00 [1].",
         "The Summit Fleece Jacket in size M costs $48.00 [1]."),
        ("The Summit Fleece Jacket in L costs $45.00 [1].",
         "The Summit Fleece Jacket in L costs $52.00 [1]."),
        ("MH01-L-Black costs $45.00 [1].", "MH01-L-Black costs $52.00 [1]."),
        ("The Summit Fleece Jacket in M / Red costs $48.00, and the L costs $52.00 [1].", None),
        # No variant named: any variant's price, or the range, is the product's price.
        ("The Summit Fleece Jacket costs $52.00 [1].", None),
        ("The Summit Fleece Jacket costs $45.00–$52.00 [1].", None),
        ("The Canyon Rain Shell costs $120 [3].", None),
        ("The Canyon Rain Shell costs $110 [3].", "The Canyon Rain Shell costs $120.00 [3]."),
    ],
)
def test_a_variants_price_is_right_only_for_that_variant(shop, answer, checked):
    result = check_answer(answer, shop)

    assert result.text == (checked or answer)
    assert result.flagged == []
    if checked:
        [correction] = result.corrections
        assert correction.field == "price" and correction.source_id in (shop[0].id, shop[2].id)
    else:
        assert result.corrections == []


def test_a_price_no_variant_has_is_flagged_when_no_variant_is_named(shop):
    # The fleece has three prices: which one was meant cannot be told.
    result = check_answer("The Summit Fleece Jacket costs $50.00 [1].", shop)
    assert result.text.endswith(FLAG_MARK) and result.corrections == []
    # Naming the size settles it.
    result = check_answer("The Summit Fleece Jacket in S costs $50.00 [1].", shop)
    assert result.text == "The Summit Fleece Jacket in S costs $45.00 [1]."


@pytest.mark.parametrize(
    ("answer", "checked"),
    [
        ("The Harbor Wool Scarf in Teal is on sale for $39.00, was $49.00 [2].", None),
        ("The Harbor Wool Scarf costs $39.00–$42.00 [2].", None),
        # $49 is only what the teal was: not what it costs now.
        ("The Harbor Wool Scarf in Teal costs $49.00 [2].",
         "The Harbor Wool Scarf in Teal costs $39.00 [2]."),
        # The sale price is the teal's, not the rust's.
        ("The Harbor Wool Scarf in Rust costs $39.00 [2].",
         "The Harbor Wool Scarf in Rust costs $42.00 [2]."),
    ],
)
def test_a_sale_price_is_the_on_sale_variants_and_was_is_what_it_was(shop, answer, checked):
    result = check_answer(answer, shop)
    assert result.text == (checked or answer) and result.flagged == []


def test_a_sale_price_after_the_sale_ended_is_wrong():
    # The record's text, written at upload, still lists the sale price: the typed record,
    # read now, says the sale is over.
    beanie = Source.from_chunk(*ended_sale_record(), 0.9)
    assert "$39.00" in beanie.text

    result = check_answer("The Ember Beanie is on sale for $39.00 [1].", [beanie])
    assert result.text == "The Ember Beanie is on sale for $49.00 [1]."
    assert [c.new for c in result.corrections] == ["$49.00"]
    assert not check_answer("The Ember Beanie costs $49.00 [1].", [beanie]).changed


@pytest.mark.parametrize(
    ("answer", "checked"),
    [
        ("The Summit Fleece Jacket in L is out of stock [1].", None),
        ("The Summit Fleece Jacket in M is out of stock [1].", FLAG_MARK),
        ("Sadly the Summit Fleece Jacket is out of stock [1].", FLAG_MARK),
        ("The Summit Fleece Jacket in M is in stock [1].", None),
        ("The Summit Fleece Jacket in L is in stock [1].", FLAG_MARK),
        ("The Summit Fleece Jacket has 12 in stock [1].", None),
        ("The Summit Fleece Jacket in M / Red has 2 in stock [1].", None),
        ("The Summit Fleece Jacket in M / Red has 5 in stock [1].",
         "The Summit Fleece Jacket in M / Red has 2 in stock [1]."),
        ("The Summit Fleece Jacket comes in sizes S, M and L (out of stock) [1].", None),
    ],
)
def test_stock_is_checked_for_the_variants_named(shop, answer, checked):
    result = check_answer(answer, shop)
    if checked == FLAG_MARK:
        assert result.text == answer + FLAG_MARK and result.corrections == []
    else:
        assert result.text == (checked or answer) and result.flagged == []


def test_the_variant_sentences_of_extractive_answers_pass_unchanged(shop):
    fleece, scarf = shop[0], shop[1]
    now = datetime.now(timezone.utc)
    product = fleece.product
    sentences = [
        *chosen_sentences(product, product.variants_named("M"), now, True, product.title),
        *chosen_sentences(product, product.variants_named("black"), now, True, product.title),
        *chosen_sentences(product, product.variants_named("L"), now, True, product.title),
        *option_sentences(product, "what sizes and colours does it come in?"),
    ]
    assert "In stock: S / Black, M / Black; out of stock: L / Black." in sentences
    for sentence in sentences:
        result = check_answer(sentence, [fleece])
        assert result.text == sentence and not result.changed, result
    for sentence in sale_sentences(scarf.product, scarf.product.variants, now):
        assert "was $49.00" in sentence
        result = check_answer(sentence, [scarf])
        assert result.text == sentence and not result.changed, result


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
    # The product card is drawn from the record the answer cites, which has the same price.
    [cited] = {s.id: s for s in cited_sources(answer.text, answer.sources)}.values()
    assert ALPINE_2 in cited.skus and format_price(cited.price, cited.currency) == ALPINE_2_PRICE
    assert correction.source_id == cited.id
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
