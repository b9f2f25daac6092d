"""One contract, every registered generator: the same checks run over each backend, each
configured with its real parts (the embedding model; an OpenAI-compatible server over real
HTTP; a tiny T5 built from the catalog). A new backend gets these tests by registering."""

from __future__ import annotations

import pytest

from shopbot.chain import ShopAssistant
from shopbot.retrieval import fixed_sources
from shopbot.generators import (
    Generator,
    GeneratorUnavailable,
    UnknownGenerator,
    available,
    create_generator,
    register,
    resolve_name,
)
from shopbot.prompts import NOT_IN_CATALOG
from tests.conftest import make_settings
from tests.openai_server import DEFAULT_KEY

QUESTION = "How much is the Alpine 2 Tent?"


@pytest.fixture
def configured(request, embeddings, openai_server, tiny_t5_dir):
    """name -> a working generator; and name -> settings that cannot work (or None)."""

    def working(name: str) -> Generator:
        settings = {
            "extractive": make_settings(),
            "openai": make_settings(openai_api_key=DEFAULT_KEY, openai_base_url=openai_server.base_url),
            "flan-t5": make_settings(flan_t5_model=str(tiny_t5_dir), flan_t5_max_new_tokens=12),
        }[name]
        return create_generator(settings, name, embeddings=embeddings)

    def broken(name: str):
        return {
            "extractive": None,  # needs nothing it could miss
            "openai": (make_settings(), "OPENAI_API_KEY"),
            "flan-t5": (make_settings(flan_t5_model=str(tiny_t5_dir / "missing")), "SHOPBOT_FLAN_T5_MODEL"),
        }[name]

    return working, broken


@pytest.fixture(scope="module")
def tent_sources(demo_service):
    return demo_service.search(QUESTION, k=5)


def test_every_builtin_backend_is_registered():
    assert {"extractive", "openai", "flan-t5"} <= set(available())


@pytest.mark.parametrize("name", available())
def test_streams_an_answer_from_the_sources(configured, name, tent_sources, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    generator = configured[0](name)
    pieces = list(generator.generate(QUESTION, [], tent_sources))
    assert pieces and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces).strip()
    assert NOT_IN_CATALOG not in "".join(pieces)


@pytest.mark.parametrize("name", available())
def test_chain_knows_the_sources_before_the_first_token(configured, name, tent_sources):
    generator = configured[0](name)
    assistant = ShopAssistant(fixed_sources(tent_sources), generator)
    stream = assistant.stream(QUESTION)
    assert [s.id for s in stream.sources] == [s.id for s in tent_sources]  # before iterating
    text = "".join(stream)
    answer = stream.answer
    assert answer.text == text.strip() and answer.text
    assert answer.generator == name
    assert answer.to_dict()["sources"][0]["title"] == tent_sources[0].title


@pytest.mark.parametrize("name", available())
def test_empty_retrieval_says_the_catalog_has_nothing(configured, name):
    generator = configured[0](name)
    text = "".join(generator.generate("Do you sell kayaks?", [], []))
    assert NOT_IN_CATALOG in text


@pytest.mark.parametrize("name", available())
def test_missing_keys_or_weights_are_explained(configured, name, tent_sources, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    broken = configured[1](name)
    if broken is None:
        pytest.skip(f"{name} needs no key or weights")
    settings, hint = broken
    generator = create_generator(settings, name)
    with pytest.raises(GeneratorUnavailable, match=hint):
        "".join(generator.generate(QUESTION, [], tent_sources))


def test_auto_picks_openai_then_flan_t5_then_extractive(monkeypatch, tiny_t5_dir):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert resolve_name(make_settings()) == "extractive"
    assert resolve_name(make_settings(flan_t5_model=str(tiny_t5_dir))) == "flan-t5"
    assert resolve_name(make_settings(openai_api_key="sk-x", flan_t5_model=str(tiny_t5_dir))) == "openai"
    assert resolve_name(make_settings(generator="extractive", openai_api_key="sk-x")) == "extractive"


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(UnknownGenerator, match="auto, extractive, flan-t5, openai"):
        resolve_name(make_settings(generator="gpt-5-turbo-max"))


def test_registry_rejects_malformed_and_duplicate_names():
    class Bad(Generator):
        name = "Not OK!"

    with pytest.raises(ValueError, match="malformed"):
        register(Bad)

    class Copycat(Generator):
        name = "extractive"

    available()  # make sure the real one is registered first
    with pytest.raises(ValueError, match="already registered"):
        register(Copycat)

    class Reserved(Generator):
        name = "auto"

    with pytest.raises(ValueError, match="reserved"):
        register(Reserved)
