"""The RAG chain: follow-ups, LLM condensation over real HTTP, and failures that leave the
shopper with an apology instead of a crash."""

from __future__ import annotations

import logging

import pytest

from shopbot.chain import ShopAssistant, condense_by_rules, is_follow_up
from shopbot.retrieval import fixed_sources
from shopbot.generators import Turn, create_generator
from tests.conftest import make_settings
from tests.openai_server import DEFAULT_KEY


@pytest.mark.parametrize(
    ("question", "follow_up"),
    [
        ("and is it waterproof?", True),
        ("what about in blue?", True),
        ("is it in stock?", True),
        ("cheaper ones?", True),
        ("How much is the Alpine 2 Tent?", False),
        ("Do you sell kayaks?", False),
        ("What is your returns policy for worn boots?", False),
    ],
)
def test_follow_up_detection(question, follow_up):
    assert is_follow_up(question) is follow_up


def test_rules_carry_the_product_and_constraints_forward():
    history = [
        Turn("user", "Do you have a rain jacket under $200 in size M?"),
        Turn("assistant", "The Stormline 2.5L Rain Jacket costs $149.00 [1]."),
        Turn("user", "what about in blue?"),
        Turn("assistant", "..."),
    ]
    rewritten = condense_by_rules("and is it breathable?", history)
    assert "rain jacket under $200 in size M" in rewritten
    assert rewritten.endswith("and is it breathable?")
    # a new, self-contained question starts a new subject
    assert condense_by_rules("How much is the Alpine 2 Tent?", history) == "How much is the Alpine 2 Tent?"


def test_follow_up_retrieves_the_same_product(demo_service):
    assistant = demo_service.assistant("extractive")
    first = assistant.ask("how much is the Alpine 2 tent?")
    second = assistant.ask(
        "and is it waterproof?", [Turn("user", first.question), Turn("assistant", first.text)]
    )
    assert first.sources[0].title == second.sources[0].title == "Alpine 2 Tent"
    assert "mm" in second.text


@pytest.fixture
def openai_assistant(openai_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    settings = make_settings(
        openai_api_key=DEFAULT_KEY, openai_base_url=openai_server.base_url, openai_max_retries=0
    )
    searched: list[str] = []

    def retrieve(query):
        from shopbot.retrieval import Source

        searched.append(query)
        return [Source("RL-TNT-001", "Alpine 2 Tent", 349.0, "USD", "Tents", "Ridgeline", "", "products.csv", "2-person tent", 0.8)]

    return ShopAssistant(fixed_sources(retrieve), create_generator(settings, "openai")), searched


def test_llm_condenses_the_follow_up_before_retrieval(openai_assistant, openai_server):
    assistant, searched = openai_assistant
    openai_server.reply = lambda messages: (
        "Is the Alpine 2 Tent waterproof?" if "Rewrite" in messages[0]["content"] else "Yes [1]."
    )
    answer = assistant.ask(
        "and is it waterproof?",
        [Turn("user", "how much is the Alpine 2 tent?"), Turn("assistant", "$349.00 [1].")],
    )
    assert searched == ["Is the Alpine 2 Tent waterproof?"]
    assert answer.standalone_question == "Is the Alpine 2 Tent waterproof?"
    assert answer.text == "Yes [1]."


@pytest.mark.parametrize("status", [401, 429, 500])
def test_a_failing_llm_gives_an_apology_and_keeps_the_sources(openai_assistant, openai_server, caplog, status):
    assistant, _ = openai_assistant
    openai_server.fail_status = status
    with caplog.at_level(logging.WARNING):
        answer = assistant.ask("how much is the Alpine 2 tent?")
    assert answer.failed
    assert answer.text.startswith("Sorry")
    assert answer.sources[0].title == "Alpine 2 Tent"
    assert str(status) in caplog.text
    assert DEFAULT_KEY not in caplog.text and DEFAULT_KEY not in answer.text


def test_a_stream_read_twice_keeps_its_answer(demo_service):
    stream = demo_service.assistant("extractive").stream("How much is the Alpine 2 Tent?")
    text = "".join(stream)
    assert stream.complete().text == text.strip()
    assert list(stream) == []
