"""The openai generator through LangChain and the official client, over real HTTP to the
OpenAI-compatible stand-in server in tests/openai_server.py (nothing here reaches
api.openai.com).

The generator's normal round trip, a key taken from the environment, refusals that a real
server gives on demand (wrong or revoked key, unknown model, rate limit) and concurrent use
are tested against our own server, `python -m shopbot serve`, in tests/test_api.py. The
stand-in stays for what a real server cannot be made to do, or to show, on demand: record
the exact request body (prompt, history, max_tokens), hold or drop a stream after its first
piece, answer 500/503 or too slowly, echo the key in an error, refuse exactly once with a
429 that a retry gets past, and reply with the numbers of the sources it was sent (which
shows that concurrent answers never cross).
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor

import pytest

from shopbot.generators import GeneratorFailed, GeneratorUnavailable, Turn, resolve_name
from shopbot.generators.openai_chat import OpenAIGenerator
from shopbot.prompts import CONDENSE_PROMPT, NOT_IN_CATALOG, SYSTEM_PROMPT
from shopbot.retrieval import Source
from tests.conftest import free_port, make_settings

SOURCES = [
    Source(
        id="tent-alpine-2",
        title="Alpine 2 Tent",
        price=349.0,
        currency="USD",
        category="Tents",
        brand="Ridgeline",
        url="https://shop.example/p/tent-alpine-2",
        source="products.csv",
        snippet="Two-person backpacking tent, 2.1 kg, aluminium poles.",
        score=0.82,
        stock=18,
        text="Alpine 2 Tent. Two-person backpacking tent, 2.1 kg, aluminium poles.",
    ),
    Source(
        id="bag-summit",
        title="Summit Down Sleeping Bag",
        price=219.5,
        currency="USD",
        category="Sleeping bags",
        brand="Northfold",
        url="https://shop.example/p/bag-summit",
        source="products.csv",
        snippet="Goose down, comfort rating -5 °C.",
        score=0.71,
        stock=0,
        text="Summit Down Sleeping Bag. Goose down, comfort rating -5 °C.",
    ),
    Source(
        id="returns",
        title="Returns policy",
        price=None,
        currency=None,
        category="",
        brand="",
        url="",
        source="policies.docx",
        snippet="Return unworn items within 30 days for a full refund.",
        score=0.55,
        kind="passage",
        section="Returns",
        text="Returns policy. Return unworn items within 30 days for a full refund.",
    ),
]
HISTORY = [
    Turn("user", "Do you sell tents for two people?"),
    Turn("assistant", "Yes: the Alpine 2 Tent sleeps two [1]."),
]
QUESTION = "How much is it, and can I return it?"


@pytest.fixture(autouse=True)
def clean_openai_env(monkeypatch):
    """The developer's own OpenAI settings must not leak into these tests."""
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_API_BASE",
        "OPENAI_ORG_ID",
        "OPENAI_ORGANIZATION",
        "OPENAI_PROJECT_ID",
        "LANGSMITH_GATEWAY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def settings_for(server, **overrides):
    values = {
        "openai_api_key": server.api_key,
        "openai_base_url": server.base_url,
        "openai_timeout": 10.0,
        "openai_max_retries": 0,
    }
    values.update(overrides)
    return make_settings(**values)


def source_numbers_reply(messages) -> str:
    """Answers with the numbers of the sources the prompt carried."""
    numbers = re.findall(r"^\[(\d+)\] ", messages[-1]["content"], flags=re.M)
    return f"I was given sources {', '.join(numbers)}. The Alpine 2 Tent costs $349.00 [1]."


def text_of(message) -> str:
    content = message["content"]
    return content if isinstance(content, str) else "".join(b.get("text", "") for b in content)


def test_streams_the_servers_answer_in_pieces(openai_server):
    openai_server.reply = source_numbers_reply
    generator = OpenAIGenerator(settings_for(openai_server))

    pieces = list(generator.generate(QUESTION, HISTORY, SOURCES))

    assert len(pieces) >= 5 and all(pieces)
    assert "".join(pieces) == (
        "I was given sources 1, 2, 3. The Alpine 2 Tent costs $349.00 [1]."
    )
    body = openai_server.last_request["body"]
    assert body["stream"] is True
    assert body["model"] == "gpt-3.5-turbo"
    assert body["temperature"] == pytest.approx(0.2)
    assert body.get("max_tokens", body.get("max_completion_tokens")) == 400


def test_request_carries_rules_numbered_sources_and_history(openai_server):
    generator = OpenAIGenerator(settings_for(openai_server))

    list(generator.generate(QUESTION, HISTORY, SOURCES))

    messages = openai_server.last_request["body"]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert text_of(messages[0]) == SYSTEM_PROMPT
    assert text_of(messages[1]) == HISTORY[0].content
    assert text_of(messages[2]) == HISTORY[1].content
    prompt = text_of(messages[3])
    assert prompt.startswith("<sources>\n")
    assert "[1] Alpine 2 Tent | $349.00 | Ridgeline | Tents | in stock: 18 | products.csv" in prompt
    assert "[2] Summit Down Sleeping Bag | $219.50 |" in prompt and "out of stock" in prompt
    assert "[3] Returns policy" in prompt and "within 30 days" in prompt
    assert prompt.index("[1]") < prompt.index("[2]") < prompt.index("[3]")
    assert prompt.rstrip().endswith(f"Question: {QUESTION}")


def test_text_reaches_the_caller_while_the_server_is_still_streaming(openai_server):
    release = threading.Event()
    openai_server.hold_after_first = release
    generator = OpenAIGenerator(settings_for(openai_server))

    stream = generator.generate(QUESTION, [], SOURCES)
    first = next(stream)
    assert first and openai_server.finished_streams == 0  # the server is holding the rest
    release.set()
    rest = list(stream)

    assert first + "".join(rest) == openai_server.reply([])
    assert openai_server.finished_streams == 1


def test_no_sources_answers_not_in_catalog_without_calling_the_model(openai_server):
    generator = OpenAIGenerator(settings_for(openai_server))

    assert "".join(generator.generate("Do you sell kayaks?", HISTORY, [])) == NOT_IN_CATALOG
    assert openai_server.requests == []


def test_condense_returns_the_servers_rewrite(openai_server):
    openai_server.reply = lambda messages: "  Alpine 2 Tent in blue for two people?\n"
    generator = OpenAIGenerator(settings_for(openai_server))

    assert generator.condense("and in blue?", HISTORY) == "Alpine 2 Tent in blue for two people?"

    body = openai_server.last_request["body"]
    assert not body.get("stream")
    assert text_of(body["messages"][0]) == CONDENSE_PROMPT
    transcript = text_of(body["messages"][1])
    assert "user: Do you sell tents for two people?" in transcript
    assert "assistant: Yes: the Alpine 2 Tent sleeps two [1]." in transcript
    assert transcript.rstrip().endswith("Last message: and in blue?")


def test_condense_without_history_or_with_an_empty_reply_is_none(openai_server):
    generator = OpenAIGenerator(settings_for(openai_server))
    assert generator.condense("Do you sell tents?", []) is None
    assert openai_server.requests == []

    openai_server.reply = lambda messages: "  \n"
    assert generator.condense("and in blue?", HISTORY) is None


WRONG_KEY = "sk-wrong-key-do-not-log-7f3a9c2e51"

FAILURES = {
    # case: (settings overrides, server changes, words the log reason must contain, reason)
    "wrong-key": (
        {"openai_api_key": WRONG_KEY},
        {},
        ["rejected the API key (401)", "OPENAI_API_KEY"],
        "auth",
    ),
    "rate-limit": ({}, {"fail_status": 429}, ["rate limit", "429"], "rate_limit"),
    "server-error": ({}, {"fail_status": 500}, ["server error (500)"], "server_error"),
    "timeout": (
        {"openai_timeout": 0.5},
        {"delay": 5.0},
        ["did not answer within 0.5s", "timeout", "SHOPBOT_OPENAI_TIMEOUT"],
        "timeout",
    ),
    "refused": (
        {"openai_base_url": "http://127.0.0.1:{free_port}/v1"},
        {},
        ["could not reach http://127.0.0.1:", "connection refused", "OPENAI_BASE_URL"],
        "connection",
    ),
}
# A wrong key stays here because the stand-in echoes it in its 401 (some servers do) and the
# test proves it is redacted; shopbot's own server never echoes a key. An unknown model is
# tested against shopbot's server (tests/test_api.py).


@pytest.mark.parametrize("case", list(FAILURES))
def test_failures_give_a_log_reason_and_a_short_apology_without_the_key(
    case, openai_server, caplog
):
    overrides, server_changes, words, reason = FAILURES[case]
    overrides = dict(overrides)
    if "openai_base_url" in overrides:
        overrides["openai_base_url"] = overrides["openai_base_url"].format(free_port=free_port())
    for name, value in server_changes.items():
        setattr(openai_server, name, value)
    settings = settings_for(openai_server, **overrides)
    key = settings.openai_api_key.get_secret_value()
    generator = OpenAIGenerator(settings)
    caplog.set_level(logging.DEBUG)  # the client's and httpx's own logs too

    with pytest.raises(GeneratorFailed) as failed:
        list(generator.generate(QUESTION, HISTORY, SOURCES))

    error = failed.value
    message = str(error)
    for word in words:
        assert word in message
    assert error.reason == reason
    warnings = [
        r for r in caplog.records
        if r.name == "shopbot.generators.openai_chat" and r.levelno == logging.WARNING
    ]
    assert [r.getMessage() for r in warnings] == [message]
    # The shopper gets a sentence, not a diagnosis.
    assert error.apology.startswith("Sorry") and len(error.apology) < 100
    assert not re.search(r"\d{3}|OPENAI|http|key", error.apology, flags=re.I)
    # The key appears nowhere, not even where the server echoed it back (wrong-key case).
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    shown = "".join(traceback.format_exception(error)) + repr(error) + error.apology
    assert key not in logged
    assert key not in shown


def test_a_server_that_echoes_the_key_in_its_error_gets_it_redacted(openai_server, caplog):
    openai_server.fail_status = 503
    openai_server.fail_message = "Upstream overloaded (request by {key})"
    settings = settings_for(openai_server)
    key = settings.openai_api_key.get_secret_value()

    with pytest.raises(GeneratorFailed) as failed:
        list(OpenAIGenerator(settings).generate(QUESTION, HISTORY, SOURCES))

    assert "server error (503)" in str(failed.value)
    assert "Upstream overloaded (request by [redacted])" in str(failed.value)
    assert key not in caplog.text and key not in str(failed.value)


def test_a_stream_cut_off_mid_answer_fails_after_the_text_so_far(openai_server):
    openai_server.drop_after_first = True
    generator = OpenAIGenerator(settings_for(openai_server))
    pieces = []

    with pytest.raises(GeneratorFailed, match="broke off after 4 characters") as failed:
        for piece in generator.generate(QUESTION, HISTORY, SOURCES):
            pieces.append(piece)

    assert pieces == ["The "]
    assert failed.value.reason == "connection"
    assert failed.value.apology.startswith("Sorry")


def test_condense_failure_is_reported_the_same_way(openai_server, caplog):
    settings = settings_for(openai_server, openai_api_key=WRONG_KEY)
    generator = OpenAIGenerator(settings)

    with pytest.raises(GeneratorFailed, match=r"\(condense, .*rejected the API key \(401\)"):
        generator.condense("and in blue?", HISTORY)
    assert WRONG_KEY not in caplog.text


def test_a_retry_gets_past_one_rate_limit(openai_server):
    openai_server.fail_status, openai_server.fail_times = 429, 1
    generator = OpenAIGenerator(settings_for(openai_server, openai_max_retries=1))

    answer = "".join(generator.generate(QUESTION, HISTORY, SOURCES))

    assert answer == openai_server.reply([])
    assert len(openai_server.chat_requests()) == 2


def test_missing_key_says_how_to_fix_it(openai_server):
    settings = make_settings(openai_base_url=openai_server.base_url)
    assert resolve_name(settings) != "openai"  # auto does not pick a backend without its key
    generator = OpenAIGenerator(settings)  # construction never needs the key (registry lists it)

    for call in (
        lambda: generator.generate(QUESTION, HISTORY, SOURCES),
        lambda: generator.generate(QUESTION, HISTORY, []),
        lambda: generator.condense("and in blue?", HISTORY),
    ):
        with pytest.raises(GeneratorUnavailable) as unavailable:
            call()
        message = str(unavailable.value)
        assert "OPENAI_API_KEY" in message and "SHOPBOT_OPENAI_API_KEY" in message
        assert "OPENAI_BASE_URL" in message
    assert openai_server.requests == []


def test_one_generator_serves_concurrent_shoppers(openai_server):
    openai_server.reply = source_numbers_reply
    generator = OpenAIGenerator(settings_for(openai_server))

    def ask(n: int) -> str:
        return "".join(generator.generate(f"question {n}", [], SOURCES[: 1 + n % 3]))

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(ask, range(12)))

    expected = [", ".join(str(i) for i in range(1, 2 + n % 3)) for n in range(12)]
    assert [a.split("sources ")[1].split(".")[0] for a in answers] == expected
    assert len(openai_server.chat_requests()) == 12
    assert generator.chat_model() is generator.chat_model()


def test_the_model_is_told_what_the_question_asks(openai_server, demo_service):
    """The chain reads the question once (shopbot.query); the OpenAI backend gets that
    reading with the sources: a complete list in the order asked, and how many more fit."""
    from shopbot.generators import create_generator

    settings = settings_for(openai_server)
    assistant = demo_service.assistant_for(create_generator(settings, "openai"))
    answer = assistant.ask("which tents do you have?")
    prompt = text_of(openai_server.last_request["body"]["messages"][-1])
    total = answer.retrieval.total
    assert total and total > len({s.id for s in answer.sources})
    assert f"every product that fits: {total} do" in prompt
    assert f"say there are {answer.retrieval.more} more" in prompt
    for source in {s.title for s in answer.sources}:
        assert source in prompt
