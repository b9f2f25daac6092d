"""The LLM's reading of a question (SHOPBOT_LLM_PARSE, shopbot/llm_parse.py), on the demo
catalog, through the openai generator, langchain-openai and the official client over real HTTP
to the OpenAI-compatible server of tests/openai_server.py, which answers the tool call with a
scripted reading. What a shopper notices: questions the offline reading gets wrong get the
right products; names the catalog does not have, or that nobody mentioned, never reach the
answer; a failing, slow or confused model leaves the offline answer as it was; and with the
setting off (the default) no reading is asked for at all. Expected products come from
catalog/catalog_data.py, the data the demo files were rendered from."""

from __future__ import annotations

import logging
import re

import pytest
from pydantic import SecretStr, ValidationError

from catalog.catalog_data import PRODUCTS
from shopbot.prompts import NOT_IN_CATALOG
from shopbot.settings import Settings
from tests.conftest import make_settings

FORGE = "Forge 12 Multi-Tool"


@pytest.fixture(autouse=True)
def clean_openai_env(monkeypatch):
    """The developer's own OpenAI settings must not leak into these tests."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_ORG_ID",
                 "OPENAI_ORGANIZATION", "OPENAI_PROJECT_ID", "LANGSMITH_GATEWAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def headlamps(max_price: float | None = None) -> set[str]:
    """Titles of the visible demo headlamps (at most ``max_price``)."""
    return {p["title"] for p in PRODUCTS
            if p.get("status", "active") == "active" and p["subcategory"] == "Headlamps"
            and (max_price is None or p["price"] <= max_price)}


def titles_reply(messages) -> str:
    """The model's answer: the title of every source the prompt carried, cited."""
    found = re.findall(r"^\[(\d+)\] ([^|\n]+?)(?: \||$)", messages[-1]["content"], flags=re.M)
    return "We have " + ", ".join(f"the {title} [{n}]" for n, title in found) + "."


def assistant(demo_service, server, generator: str = "openai", **overrides):
    settings = {
        "openai_api_key": SecretStr(server.api_key),
        "openai_base_url": server.base_url,
        "openai_timeout": 10.0,
        "openai_max_retries": 0,
        "llm_parse": "on",
        **overrides,
    }
    server.reply = titles_reply
    return demo_service.with_settings(settings).assistant(generator)


def source_titles(answer) -> list[str]:
    return [s.title for s in answer.sources]


def test_the_setting_is_off_by_default_and_reads_on_off_words(monkeypatch):
    assert make_settings().llm_parse == "off"
    monkeypatch.setenv("SHOPBOT_LLM_PARSE", "true")
    assert Settings(_env_file=None).llm_parse == "on"
    monkeypatch.setenv("SHOPBOT_LLM_PARSE", "maybe")
    with pytest.raises(ValidationError, match="llm_parse"):
        Settings(_env_file=None)


def test_off_by_default_no_reading_is_asked_for(demo_service, openai_server):
    openai_server.structured_reply = lambda body: {"intent": "lookup", "products": [FORGE]}
    bot = assistant(demo_service, openai_server, llm_parse="off")
    answer = bot.ask("do you have that forge multitool")
    assert openai_server.structured_requests() == []
    assert answer.text == NOT_IN_CATALOG  # the offline reading, misread as it is
    assert answer.sources == []


def test_without_the_openai_generator_nothing_is_sent(demo_service, openai_server):
    openai_server.structured_reply = lambda body: {"intent": "lookup", "products": [FORGE]}
    answer = assistant(demo_service, openai_server, "extractive").ask(
        "do you have that forge multitool")
    assert openai_server.requests == []
    assert FORGE not in answer.text


def test_a_product_the_rules_missed_is_found_through_the_llm(demo_service, openai_server):
    question = "do you have that forge multitool"
    assert demo_service.retriever.understand(question).intent == "not_sold"  # offline misread
    openai_server.structured_reply = lambda body: {"intent": "lookup", "products": [FORGE]}

    answer = assistant(demo_service, openai_server).ask(question)

    assert source_titles(answer)[0] == FORGE
    assert FORGE in answer.text
    assert answer.understanding.intent == "lookup"
    sent = openai_server.structured_requests()
    assert len(sent) == 1
    prompt = "\n".join(m["content"] for m in sent[0]["messages"])
    assert question in prompt and "headlamp" in prompt  # the question, the shop's kinds
    assert sent[0]["tools"][0]["function"]["name"] == sent[0]["tool_choice"]["function"]["name"]


def test_a_budget_in_words_lists_every_fitting_product(demo_service, openai_server):
    question = "headlamps under fifty dollars"
    offline = demo_service.retriever.understand(question)
    assert offline.intent != "list" and offline.constraints.price_max is None
    openai_server.structured_reply = lambda body: {
        "intent": "list", "kinds": ["headlamp", "hovercraft"], "price_max": 50}

    answer = assistant(demo_service, openai_server).ask(question)

    cheap = headlamps(max_price=50)
    assert len(cheap) >= 2 and headlamps() - cheap  # some headlamp costs more
    assert set(source_titles(answer)) == cheap
    assert "under $50" in answer.to_dict()["filters"]
    for title in cheap:
        assert title in answer.text


def test_a_question_in_another_language_and_slots_that_fail_the_checks(
        demo_service, openai_server):
    # Italian: a language the offline reader does not translate (shopbot.languages).
    question = "Avete delle lampade frontali?"
    assert demo_service.retriever.understand(question).kinds == []
    # A kind the shop has, with a budget the question never states, a sort on no known
    # attribute and a colour no product has: only the kind stands.
    openai_server.structured_reply = lambda body: {
        "intent": "list", "kinds": ["headlamp"], "price_max": 20, "sort_by": "coolness",
        "sort_order": "desc", "colours": ["ultraviolet"]}

    answer = assistant(demo_service, openai_server).ask(question)

    assert set(source_titles(answer)) == headlamps()
    assert answer.to_dict()["filters"] == ["category: Headlamps"]


def test_a_superlative_the_rules_missed_is_sorted_on_the_attribute(demo_service, openai_server):
    question = "Qual è la tenda più leggera?"  # Italian: which is the lightest tent?
    assert demo_service.retriever.understand(question).intent != "superlative"
    openai_server.structured_reply = lambda body: {
        "intent": "superlative", "kinds": ["tent"], "sort_by": "mass", "sort_order": "asc"}

    answer = assistant(demo_service, openai_server).ask(question)

    tents = [p for p in PRODUCTS
             if p.get("status", "active") == "active" and p["title"].endswith(" Tent")]
    lightest = min(tents, key=lambda p: p["weight_g"])["title"]
    assert source_titles(answer)[0] == lightest
    assert "lightest first" in answer.to_dict()["filters"]


def test_a_product_the_catalog_does_not_have_is_not_presented(demo_service, openai_server):
    question = "how much is the Camp Mug 3000?"
    openai_server.structured_reply = lambda body: {"intent": "lookup",
                                                   "products": ["Camp Mug 3000"]}
    answer = assistant(demo_service, openai_server).ask(question)
    assert len(openai_server.structured_requests()) == 1
    assert answer.sources == []
    assert answer.text == NOT_IN_CATALOG


def test_a_real_product_nobody_mentioned_is_not_presented(demo_service, openai_server):
    openai_server.structured_reply = lambda body: {"intent": "lookup",
                                                   "products": ["Alpine 2 Tent"]}
    answer = assistant(demo_service, openai_server).ask("do you sell kayaks?")
    assert len(openai_server.structured_requests()) == 1
    assert answer.sources == []
    assert "Alpine" not in answer.text


QUESTION = "headlamps under fifty dollars"
GOOD_READING = {"intent": "list", "kinds": ["headlamp"], "price_max": 50}


@pytest.fixture
def offline_answer(demo_service, openai_server):
    """The answer to QUESTION with the offline reading alone (the setting off)."""
    answer = assistant(demo_service, openai_server, llm_parse="off").ask(QUESTION)
    assert set(source_titles(answer)) != headlamps(max_price=50)  # the reading would matter
    openai_server.reset()
    return answer


def test_a_server_error_keeps_the_offline_answer_and_logs_no_key(
        demo_service, openai_server, offline_answer, caplog):
    openai_server.structured_reply = lambda body: GOOD_READING
    openai_server.fail_status, openai_server.fail_times = 500, 1  # the reading request only
    openai_server.fail_message = "internal error for key {key}"
    with caplog.at_level(logging.INFO):
        answer = assistant(demo_service, openai_server).ask(QUESTION)

    assert len(openai_server.structured_requests()) == 1
    assert not answer.failed
    assert source_titles(answer) == source_titles(offline_answer)
    assert answer.understanding.intent == offline_answer.understanding.intent
    warnings = [r.getMessage() for r in caplog.records if r.name == "shopbot.llm_parse"]
    assert any("500" in w and "offline reading is used" in w for w in warnings), warnings
    assert all(openai_server.api_key not in r.getMessage() for r in caplog.records)


def test_a_slow_server_keeps_the_offline_answer(demo_service, openai_server, offline_answer,
                                                caplog):
    # The reading would come after 20 s, within the answer's own timeout (30 s): only the
    # reading's short timeout keeps it out. The waiting request is released when the fixture
    # resets the server.
    openai_server.structured_reply = lambda body: GOOD_READING
    openai_server.structured_delay = 20.0
    with caplog.at_level(logging.WARNING, logger="shopbot.llm_parse"):
        answer = assistant(demo_service, openai_server, openai_timeout=30.0,
                           llm_parse_timeout=0.5).ask(QUESTION)

    assert len(openai_server.structured_requests()) == 1
    assert not answer.failed
    assert source_titles(answer) == source_titles(offline_answer)
    assert any("no answer within 0.5s" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "reply",
    [None, '{"intent": "list", "kinds": ["headl', {"intent": 42, "kinds": "hovercraft",
                                                    "price_max": "fifty", "products": [7]}],
    ids=["no tool call", "malformed arguments", "nothing valid"],
)
def test_an_unusable_reading_keeps_the_offline_answer(demo_service, openai_server,
                                                      offline_answer, reply):
    openai_server.structured_reply = lambda body: reply
    answer = assistant(demo_service, openai_server).ask(QUESTION)
    assert len(openai_server.structured_requests()) == 1
    assert not answer.failed
    assert source_titles(answer) == source_titles(offline_answer)
    assert answer.understanding.intent == offline_answer.understanding.intent
