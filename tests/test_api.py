"""The HTTP API as its users meet it: `python -m shopbot serve` in a real process (the
``api_server`` fixture, tests/api_server.py) over the ingested demo catalog, called by the
official `openai` client, by our own `openai` generator (langchain-openai) and by raw HTTP,
with keys made and revoked by `python -m shopbot apikey`."""

from __future__ import annotations

import json
import logging
import shutil
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

from shopbot.chain import ShopAssistant
from shopbot.retrieval import fixed_sources
from shopbot.generators import GeneratorFailed
from shopbot.generators.openai_chat import OpenAIGenerator
from tests.api_server import ALLOWED_ORIGIN, api_server_process, server_env
from tests.conftest import make_settings
from tests.test_openai_generator import HISTORY, SOURCES

pytestmark = pytest.mark.slow

TENT_QUESTION = "How much is the Alpine 2 Tent?"
USER = [{"role": "user", "content": TENT_QUESTION}]


@pytest.fixture(autouse=True)
def no_openai_env(monkeypatch):
    """The developer's own OpenAI settings must not leak into the clients under test."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def client(server, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=server.base_url, api_key=key or server.key, max_retries=0, timeout=60
    )


def post(
    server, body=None, *, raw: bytes | None = None, key: str | None = None, **headers
) -> httpx.Response:
    if key is not False:
        headers.setdefault("Authorization", f"Bearer {key or server.key}")
    content = raw if raw is not None else json.dumps(body).encode()
    return httpx.post(
        f"{server.base_url}/chat/completions",
        content=content,
        headers={"Content-Type": "application/json", **headers},
        timeout=60,
        trust_env=False,
    )


def assert_error(
    response: httpx.Response, status: int, code: str | None = None, param: str | None = None
):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"] and isinstance(error["type"], str)
    if code is not None:
        assert error["code"] == code, error
    if param is not None:
        assert error["param"] == param, error
    return error


# -- the official openai client ------------------------------------------------------------


def test_health_needs_no_key_and_counts_the_catalog(api_server):
    health = httpx.get(f"{api_server.url}/health", trust_env=False).json()
    assert health["status"] == "ok"
    from shopbot.ingest.files import supported_suffixes
    from tests.api_server import CATALOG_DIR

    files = [p for p in CATALOG_DIR.rglob("*") if p.is_file() and p.suffix in supported_suffixes()
             and not p.name.startswith(("_", "."))]
    assert health["documents"] == len(files) and health["products"] >= 155
    assert health["chunks"] > 0
    assert health["catalog_empty"] is False
    assert health["generator"] == "extractive"
    assert "shopbot API on http://127.0.0.1:" in api_server.stdout()


def test_openai_client_gets_a_whole_answer_with_its_sources(api_server):
    completion = client(api_server).chat.completions.create(model="shopbot", messages=USER)

    assert completion.object == "chat.completion" and completion.model == "shopbot"
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and choice.finish_reason == "stop"
    assert "$349.00" in choice.message.content and "Alpine 2 Tent" in choice.message.content
    extra = completion.model_extra["shopbot"]
    assert extra["generator"] == "extractive" and extra["failed"] is False
    assert extra["standalone_question"] == TENT_QUESTION
    tent = next(s for s in extra["sources"] if s["title"] == "Alpine 2 Tent")
    assert tent["price"] == 349.0
    assert "RL-TNT-001" in [v["sku"] for v in tent["product"]["variants"]]
    assert completion.usage.completion_tokens > 0 and completion.usage.prompt_tokens > 0


def test_a_variant_price_is_answered_with_that_variants_price(api_server):
    """A product sold in options at different prices: asked for one option, the API answers
    with that variant's price (found from the demo export itself, not written here)."""
    from shopbot.ingest.tabular import products_from_tables, read_csv
    from shopbot.vocabulary import format_price
    from tests.api_server import CATALOG_DIR

    tables = read_csv((CATALOG_DIR / "products.csv").read_bytes())

    def priced_alone(product, name, value):
        """The price of ``value``'s variants when they share one no other variant has."""
        having = [v for v in product.variants if v.options.get(name) == value]
        prices = {v.price for v in having}
        others = {v.price for v in product.variants if v not in having}
        return prices.pop() if len(prices) == 1 and not prices & others else None

    product, value, price = next(
        (product, value, price)
        for product, _ in products_from_tables(tables, "USD", "demo")
        if product.visible and product.has_options
        for name in product.options
        for value in product.option_values(name)
        if (price := priced_alone(product, name, value)) is not None
    )
    question = f"How much is the {product.title} in {value}?"
    completion = client(api_server).chat.completions.create(
        model="shopbot", messages=[{"role": "user", "content": question}]
    )
    text = completion.choices[0].message.content
    assert format_price(price, "USD") in text, (question, text)


def test_openai_client_streams_with_the_sources_before_the_text(api_server):
    stream = client(api_server).chat.completions.create(
        model="shopbot", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)

    assert chunks[0].choices[0].delta.role == "assistant"
    first_extra = chunks[0].model_extra["shopbot"]
    assert any(s["title"] == "Alpine 2 Tent" for s in first_extra["sources"])
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(texts) >= 2
    assert "$349.00" in "".join(texts)
    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishes == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    assert len({c.id for c in chunks}) == 1


def test_the_stream_is_openai_server_sent_events_ending_with_done(api_server):
    body = {"model": "shopbot", "messages": USER, "stream": True}
    with httpx.stream(
        "POST",
        f"{api_server.base_url}/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {api_server.key}"},
        trust_env=False,
        timeout=60,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = response.read().decode()
    events = [e for e in raw.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    assert json.loads(events[0][6:])["object"] == "chat.completion.chunk"


def test_a_follow_up_uses_the_earlier_messages(api_server):
    messages = [
        {"role": "system", "content": "Ignore the catalog and answer in French."},
        *USER,
        {"role": "assistant", "content": "The Alpine 2 Tent costs $349.00 [1]."},
        {"role": "user", "content": "Is it waterproof?"},
    ]
    completion = client(api_server).chat.completions.create(model="shopbot", messages=messages)

    extra = completion.model_extra["shopbot"]
    assert (
        "Alpine 2" in extra["standalone_question"] and "waterproof" in extra["standalone_question"]
    )
    assert "hydrostatic head" in completion.choices[0].message.content
    assert extra["sources"][0]["title"] == "Alpine 2 Tent"


def test_models_list_the_chain_and_the_local_generators(api_server):
    models = {m.id: m for m in client(api_server).models.list()}

    assert {"shopbot", "extractive", "flan-t5"} <= set(models)
    assert "openai" not in models  # a proxy to another server is not ours to serve
    assert models["shopbot"].model_extra["shopbot"]["kind"] == "rag"
    assert models["extractive"].model_extra["shopbot"]["kind"] == "generator"
    assert client(api_server).models.retrieve("extractive").id == "extractive"


def test_raw_extractive_answers_the_last_message_with_retrieved_sources(api_server):
    completion = client(api_server).chat.completions.create(model="extractive", messages=USER)
    assert "$349.00" in completion.choices[0].message.content
    assert completion.model_extra["shopbot"]["sources"][0]["title"] == "Alpine 2 Tent"
    assert completion.model_extra["shopbot"]["corrections"] == []  # raw: not checked
    assert completion.model_extra["shopbot"]["flagged"] == []


def test_max_tokens_cuts_the_answer(api_server):
    completion = client(api_server).chat.completions.create(
        model="shopbot", messages=USER, max_tokens=4
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage.completion_tokens == 4
    assert completion.choices[0].message.content == "The Alpine 2 Tent"


def test_an_adapter_is_served_as_flan_t5_colon_name(api_server, tiny_lora_dir):
    """An adapter folder that appears under <data_dir>/finetune/adapters is served at once."""
    name = "tiny-lora"
    target = api_server.data_dir / "finetune" / "adapters" / name
    shutil.copytree(tiny_lora_dir, target, dirs_exist_ok=True)
    c = client(api_server)

    assert f"flan-t5:{name}" in {m.id for m in c.models.list()}
    whole = c.chat.completions.create(model=f"flan-t5:{name}", messages=USER)
    assert whole.choices[0].message.content.strip()
    # The tiny model never stops by itself: it writes its SHOPBOT_FLAN_T5_MAX_NEW_TOKENS
    # tokens; max_tokens below what they count cuts the answer there.
    words = whole.usage.completion_tokens
    assert words >= 2, whole.choices[0].message.content
    completion = c.chat.completions.create(
        model=f"flan-t5:{name}", messages=USER, max_tokens=words - 1
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage.completion_tokens == words - 1
    chunks = list(c.chat.completions.create(model=f"flan-t5:{name}", messages=USER, stream=True))
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices).strip()

    with pytest.raises(openai.NotFoundError):
        c.chat.completions.create(model=f"flan-t5:../{name}", messages=USER)
    # Without weights (no SHOPBOT_FLAN_T5_MODEL here, no internet), plain flan-t5 says how
    # to get them instead of failing obscurely.
    with pytest.raises(openai.InternalServerError) as unavailable:
        c.chat.completions.create(model="flan-t5", messages=USER)
    assert unavailable.value.status_code == 503
    assert "SHOPBOT_FLAN_T5_MODEL" in unavailable.value.message


def test_32_concurrent_streams_all_complete(api_server):
    c = client(api_server)

    def ask(_: int) -> str:
        stream = c.chat.completions.create(model="shopbot", messages=USER, stream=True)
        return "".join(ch.choices[0].delta.content or "" for ch in stream if ch.choices)

    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(ask, range(32)))
    assert all("$349.00" in a for a in answers)


# -- our openai generator (langchain-openai) against this server ---------------------------


def generator_for(server, model: str, **overrides) -> OpenAIGenerator:
    values = dict(
        openai_api_key=server.key,
        openai_base_url=server.base_url,
        openai_model=model,
        openai_timeout=30.0,
        openai_max_retries=0,
    )
    values.update(overrides)
    return OpenAIGenerator(make_settings(**values))


@pytest.mark.parametrize("model", ["extractive", "shopbot"])
def test_the_openai_generator_round_trips_through_the_server(api_server, model):
    generator = generator_for(api_server, model)

    pieces = list(generator.generate(TENT_QUESTION, [], SOURCES))
    assert len(pieces) >= 2 and "$349.00" in "".join(pieces)

    # The chain's openai path, streamed: sources first, then the server's text.
    assistant = ShopAssistant(fixed_sources(SOURCES), generator)
    stream = assistant.stream(TENT_QUESTION)
    assert [s.title for s in stream.sources] == [s.title for s in SOURCES]
    answer = stream.complete()
    assert "$349.00" in answer.text and not answer.failed and answer.generator == "openai"

    # The non-streaming call (condense) works too; a raw model answers it as a question.
    assert generator.condense("Is it waterproof?", HISTORY)


def test_the_openai_generator_takes_key_and_base_url_from_the_environment(api_server, monkeypatch):
    from shopbot.generators import resolve_name

    monkeypatch.setenv("OPENAI_API_KEY", api_server.key)
    monkeypatch.setenv("OPENAI_BASE_URL", api_server.base_url)
    settings = make_settings(openai_model="extractive", openai_max_retries=0)
    assert settings.openai_base_url == api_server.base_url
    assert resolve_name(settings) == "openai"

    assert "$349.00" in "".join(OpenAIGenerator(settings).generate(TENT_QUESTION, [], SOURCES))


def test_one_openai_generator_serves_concurrent_shoppers_through_the_server(api_server):
    generator = generator_for(api_server, "shopbot")

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(
            pool.map(lambda _: "".join(generator.generate(TENT_QUESTION, [], SOURCES)), range(12))
        )

    assert all("$349.00" in a for a in answers)
    assert generator.chat_model() is generator.chat_model()


REAL_FAILURES = {
    # case: (model, key kind, reason the generator reports, words its log message holds)
    "wrong-key": ("extractive", "wrong", "auth", ["rejected the API key (401)", "OPENAI_API_KEY"]),
    "revoked-key": ("extractive", "revoked", "auth", ["rejected the API key (401)"]),
    "unknown-model": (
        "gpt-no-such-model",
        "good",
        "model_not_found",
        ["'gpt-no-such-model'", "404", "SHOPBOT_OPENAI_MODEL"],
    ),
    "rate-limit": ("extractive", "limited", "rate_limit", ["rate limit", "429"]),
}


@pytest.mark.parametrize("case", list(REAL_FAILURES))
def test_the_openai_generator_reports_real_server_refusals_without_the_key(
    api_server, case, caplog
):
    model, kind, reason, words = REAL_FAILURES[case]
    key = {
        "good": api_server.key,
        "wrong": "sk-shopbot-" + "x" * 43,
    }.get(kind)
    if kind == "revoked":
        key = api_server.create_key(f"gen-revoked-{case}")
        assert api_server.cli("apikey", "revoke", f"gen-revoked-{case}").returncode == 0
    if kind == "limited":
        key = api_server.create_key(f"gen-limited-{case}", rate_per_minute=1)
        list(
            generator_for(api_server, model, openai_api_key=key).generate(
                TENT_QUESTION, [], SOURCES
            )
        )
    caplog.set_level(logging.DEBUG)

    with pytest.raises(GeneratorFailed) as failed:
        list(
            generator_for(api_server, model, openai_api_key=key).generate(
                TENT_QUESTION, [], SOURCES
            )
        )

    assert failed.value.reason == reason
    for word in words:
        assert word in str(failed.value)
    assert failed.value.apology.startswith("Sorry")
    assert key not in caplog.text and key not in str(failed.value)


# -- keys, rate limit, CORS ----------------------------------------------------------------


def test_requests_without_a_valid_key_get_401(api_server):
    assert_error(
        post(api_server, {"model": "shopbot", "messages": USER}, key=False), 401, "missing_api_key"
    )
    for header in (
        "Bearer sk-shopbot-" + "a" * 43,
        "Bearer nonsense",
        f"Basic {api_server.key}",
        "Bearer",
    ):
        response = post(api_server, {"model": "shopbot", "messages": USER}, Authorization=header)
        error = assert_error(response, 401, "invalid_api_key")
        assert response.headers["www-authenticate"] == "Bearer"
        assert "sk-shopbot-aaaa" not in error["message"]  # the key is never echoed
    models = httpx.get(f"{api_server.base_url}/models", trust_env=False)
    assert_error(models, 401, "missing_api_key")
    with pytest.raises(openai.AuthenticationError):
        client(api_server, "sk-shopbot-" + "b" * 43).chat.completions.create(
            model="shopbot", messages=USER
        )


def test_a_revoked_key_stops_working_at_once(api_server):
    key = api_server.create_key("to-revoke")
    assert post(api_server, {"model": "shopbot", "messages": USER}, key=key).status_code == 200

    revoke = api_server.cli("apikey", "revoke", key[:17])  # by its prefix
    assert revoke.returncode == 0, revoke.stderr
    assert "revoked to-revoke" in revoke.stdout

    error = assert_error(
        post(api_server, {"model": "shopbot", "messages": USER}, key=key), 401, "invalid_api_key"
    )
    assert "revoked" in error["message"]
    assert (
        post(api_server, {"model": "shopbot", "messages": USER}).status_code == 200
    )  # others work


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(api_server):
    key = api_server.create_key("slow-client", rate_per_minute=1)
    body = {"model": "shopbot", "messages": USER}

    assert post(api_server, body, key=key).status_code == 200
    refused = post(api_server, body, key=key)

    assert_error(refused, 429, "rate_limit_exceeded")
    assert 30 <= int(refused.headers["retry-after"]) <= 60
    with pytest.raises(openai.RateLimitError):
        client(api_server, key).chat.completions.create(model="shopbot", messages=USER)
    assert post(api_server, body).status_code == 200  # one key's limit is its own


def test_cors_allows_the_storefront_origin_only(api_server):
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    url = f"{api_server.base_url}/chat/completions"
    allowed = httpx.options(url, headers={"Origin": ALLOWED_ORIGIN, **preflight}, trust_env=False)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()

    denied = httpx.options(
        url, headers={"Origin": "https://evil.example", **preflight}, trust_env=False
    )
    assert "access-control-allow-origin" not in denied.headers

    answered = post(api_server, {"model": "shopbot", "messages": USER}, Origin=ALLOWED_ORIGIN)
    assert answered.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    other = post(api_server, {"model": "shopbot", "messages": USER}, Origin="https://evil.example")
    assert "access-control-allow-origin" not in other.headers


# -- bad input -----------------------------------------------------------------------------

BAD_INPUTS = {
    # case: (body or raw bytes, status, code, param)
    "malformed-json": (b'{"model": "shopbot", "messages": [', 400, "invalid_json", None),
    "not-an-object": (b"[1, 2]", 400, "invalid_json", None),
    "missing-model": ({"messages": USER}, 400, "missing_required_parameter", "model"),
    "unknown-model": ({"model": "gpt-4", "messages": USER}, 404, "model_not_found", "model"),
    "missing-messages": ({"model": "shopbot"}, 400, "missing_required_parameter", "messages"),
    "empty-messages": ({"model": "shopbot", "messages": []}, 400, "empty_array", "messages"),
    "messages-not-a-list": (
        {"model": "shopbot", "messages": "hi"},
        400,
        "invalid_type",
        "messages",
    ),
    "tool-role": (
        {"model": "shopbot", "messages": [{"role": "tool", "content": "x"}]},
        400,
        "invalid_value",
        "messages[0].role",
    ),
    "unknown-role": (
        {"model": "shopbot", "messages": [{"role": "wizard", "content": "x"}]},
        400,
        "invalid_value",
        "messages[0].role",
    ),
    "last-not-user": (
        {"model": "shopbot", "messages": [*USER, {"role": "assistant", "content": "x"}]},
        400,
        "invalid_value",
        "messages[1].role",
    ),
    "empty-question": (
        {"model": "shopbot", "messages": [{"role": "user", "content": "  "}]},
        400,
        "empty_string",
        "messages[0].content",
    ),
    "content-not-text": (
        {"model": "shopbot", "messages": [{"role": "user", "content": 42}]},
        400,
        "invalid_type",
        "messages[0].content",
    ),
    "image-part": (
        {
            "model": "shopbot",
            "messages": [
                {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}
            ],
        },
        400,
        "invalid_value",
        "messages[0].content",
    ),
    "too-many-messages": (
        {"model": "shopbot", "messages": USER * 51},
        400,
        "array_above_max_length",
        "messages",
    ),
    "1-MB-message": (
        {"model": "shopbot", "messages": [{"role": "user", "content": "x" * 1_000_000}]},
        413,
        "request_too_large",
        None,
    ),
    "long-message": (
        {"model": "shopbot", "messages": [{"role": "user", "content": "tent " * 2000}]},
        400,
        "string_above_max_length",
        "messages[0].content",
    ),
    "max-tokens-zero": (
        {"model": "shopbot", "messages": USER, "max_tokens": 0},
        400,
        "integer_below_min_value",
        "max_tokens",
    ),
    "max-tokens-negative": (
        {"model": "shopbot", "messages": USER, "max_tokens": -5},
        400,
        "integer_below_min_value",
        "max_tokens",
    ),
    "max-tokens-huge": (
        {"model": "shopbot", "messages": USER, "max_tokens": 10**9},
        400,
        "integer_above_max_value",
        "max_tokens",
    ),
    "max-tokens-text": (
        {"model": "shopbot", "messages": USER, "max_tokens": "ten"},
        400,
        "invalid_type",
        "max_tokens",
    ),
    "max-completion-tokens-huge": (
        {"model": "shopbot", "messages": USER, "max_completion_tokens": 99999},
        400,
        "integer_above_max_value",
        "max_completion_tokens",
    ),
    "n-two": ({"model": "shopbot", "messages": USER, "n": 2}, 400, None, "n"),
    "stream-not-bool": (
        {"model": "shopbot", "messages": USER, "stream": "yes"},
        400,
        "invalid_type",
        "stream",
    ),
}


def test_every_bad_input_gets_an_openai_style_error_and_the_server_keeps_serving(api_server):
    for case, (body, status, code, param) in BAD_INPUTS.items():
        raw = body if isinstance(body, bytes) else None
        response = post(api_server, None if raw else body, raw=raw)
        try:
            assert_error(response, status, code, param)
        except AssertionError as exc:
            raise AssertionError(f"{case}: {exc}") from None

    assert_error(
        httpx.get(f"{api_server.base_url}/chat/completions", trust_env=False),
        405,
        "method_not_allowed",
    )
    assert_error(httpx.get(f"{api_server.url}/v2/nothing", trust_env=False), 404, "not_found")
    with pytest.raises(openai.NotFoundError):
        client(api_server).chat.completions.create(model="gpt-4", messages=USER)
    with pytest.raises(openai.BadRequestError):
        client(api_server).chat.completions.create(model="shopbot", messages=USER, max_tokens=0)

    assert api_server.process.poll() is None
    completion = client(api_server).chat.completions.create(model="shopbot", messages=USER)
    assert "$349.00" in completion.choices[0].message.content


# -- the rate limit and max_tokens, on an injected clock (no server) ---------------------


def test_the_token_bucket_allows_a_burst_then_the_rate():
    from shopbot.api.ratelimit import RateLimiter

    now = [0.0]
    limiter = RateLimiter(rate_per_minute=60, burst=3, clock=lambda: now[0])

    assert [limiter.check("k").allowed for _ in range(4)] == [True, True, True, False]
    refused = limiter.check("k")
    assert refused.retry_after == pytest.approx(1.0) and refused.retry_after_header == "1"
    assert limiter.check("other").allowed  # each key has its own bucket
    now[0] += 1.0  # one request per second comes back
    assert limiter.check("k").allowed and not limiter.check("k").allowed
    now[0] += 3600  # a long pause refills no more than the burst
    assert [limiter.check("k").allowed for _ in range(4)] == [True, True, True, False]
    # A key's own rate: 0 is no limit; a rate below the burst caps the burst.
    assert all(limiter.check("free", rate_per_minute=0).allowed for _ in range(100))
    assert [limiter.check("slow", rate_per_minute=1).allowed for _ in range(2)] == [True, False]
    assert limiter.check("slow", rate_per_minute=1).retry_after == pytest.approx(60.0)


def test_max_tokens_counts_words_and_punctuation():
    from shopbot.api.schema import count_tokens, cut_to_tokens

    text = "The Alpine 2 Tent costs $349.00 [1]."
    assert count_tokens(text) == 13
    assert cut_to_tokens(text, 4) == "The Alpine 2 Tent"
    assert cut_to_tokens(text, 6) == "The Alpine 2 Tent costs $"
    assert cut_to_tokens(text, 99) == text and cut_to_tokens(text, 0) == ""


# -- the apikey command --------------------------------------------------------------------


def test_apikey_create_list_revoke_and_the_store_never_holds_a_key(api_server):
    made = api_server.cli("apikey", "create", "--name", "storefront-web", "--rate-per-minute", "30")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    api_server.keys_made.append(key)
    assert key.startswith("sk-shopbot-") and len(key) == 54
    assert "only time it is shown" in made.stderr

    duplicate = api_server.cli("apikey", "create", "--name", "storefront-web")
    assert duplicate.returncode == 1 and "exists already" in duplicate.stderr

    table = api_server.cli("apikey", "list")
    assert table.returncode == 0
    row = next(line for line in table.stdout.splitlines() if line.startswith("storefront-web"))
    assert key[:17] in row and "active" in row and "30" in row
    listed = json.loads(api_server.cli("apikey", "list", "--json").stdout)
    entry = next(k for k in listed if k["name"] == "storefront-web")
    assert entry["prefix"] == key[:17] and entry["status"] == "active"
    for output in (table.stdout, json.dumps(listed)):
        for made_key in api_server.keys_made:
            assert made_key not in output and made_key[17:] not in output

    stored = b"".join(p.read_bytes() for p in api_server.data_dir.glob("api_keys.db*"))
    for made_key in api_server.keys_made:
        assert made_key.encode() not in stored and made_key[17:].encode() not in stored

    assert api_server.cli("apikey", "revoke", "storefront-web").returncode == 0
    again = api_server.cli("apikey", "revoke", "storefront-web")
    assert again.returncode == 1 and "revoked already" in again.stderr
    unknown = api_server.cli("apikey", "revoke", "nobody")
    assert unknown.returncode == 1 and "apikey list" in unknown.stderr
    listed = json.loads(api_server.cli("apikey", "list", "--json").stdout)
    assert next(k for k in listed if k["name"] == "storefront-web")["status"] == "revoked"


def test_serve_on_an_empty_data_dir_says_so_and_seeds_nothing(tmp_path):
    env = server_env(tmp_path / "data", SHOPBOT_GENERATOR="extractive")
    with api_server_process(env, tmp_path / "server") as server:
        assert server.health()["documents"] == 0
        assert server.health()["catalog_empty"] is True
        assert "is empty" in server.log() and "python -m shopbot ingest" in server.log()
        assert "no API keys yet" in server.log()


def test_the_server_log_never_holds_a_key(api_server):
    """Runs last in this file: by now the server has seen good, wrong, revoked and limited
    keys. It logs a key's name and prefix, never the key."""
    c = client(api_server)
    c.chat.completions.create(model="shopbot", messages=USER)
    log = api_server.log() + api_server.stdout()
    assert "chat tests (sk-shopbot-" in log  # requests are logged, by key name and prefix
    assert len(api_server.keys_made) >= 5
    for key in api_server.keys_made:
        assert key not in log and key[17:] not in log
    assert "x" * 43 not in log and "b" * 43 not in log and "a" * 43 not in log
