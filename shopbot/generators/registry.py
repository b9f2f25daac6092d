"""Name -> generator class. Adding a backend is one module plus one ``@register``."""

from __future__ import annotations

import importlib
import os
import re
from typing import TYPE_CHECKING

from shopbot.generators.base import Generator

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from shopbot.settings import Settings

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_REGISTRY: dict[str, type[Generator]] = {}

# Modules that register the built-in backends; imported on first use, not at import time.
BUILTIN_MODULES = (
    "shopbot.generators.extractive",
    "shopbot.generators.openai_chat",
    "shopbot.generators.flan_t5",
)


class UnknownGenerator(ValueError):
    pass


def register(cls: type[Generator]) -> type[Generator]:
    """Class decorator: add a backend under ``cls.name``."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"generator name {name!r} is malformed: use lower-case letters, digits and single "
            "hyphens, starting with a letter (e.g. 'flan-t5')"
        )
    if name == "auto":
        raise ValueError("'auto' is reserved: it picks a generator from the settings")
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"a generator named {name!r} is already registered ({_REGISTRY[name]})")
    if not issubclass(cls, Generator):
        raise TypeError(f"{cls!r} must subclass shopbot.generators.base.Generator")
    _REGISTRY[name] = cls
    return cls


def _load_builtins() -> None:
    for module in BUILTIN_MODULES:
        importlib.import_module(module)


def available() -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY)


def resolve_name(settings: Settings) -> str:
    """The backend a setting names; ``auto`` = openai with a key, else flan-t5 when a model
    is configured, else extractive."""
    name = settings.generator.strip().lower()
    if name != "auto":
        if name not in available():
            raise UnknownGenerator(
                f"unknown generator {settings.generator!r}; choose one of: auto, "
                + ", ".join(available())
            )
        return name
    if settings.openai_api_key is not None or os.environ.get("OPENAI_API_KEY"):
        return "openai"
    if settings.flan_t5_model or _adapter_activated(settings):
        return "flan-t5"
    return "extractive"


def _adapter_activated(settings: Settings) -> bool:
    from shopbot.adapters import read_active

    return read_active(settings) is not None


def explain_choice(settings: Settings) -> str:
    """Which backend answers, and why, in one sentence for the Model page and logs."""
    name = resolve_name(settings)
    if settings.generator.strip().lower() != "auto":
        return f"{name}: chosen by SHOPBOT_GENERATOR={settings.generator}."
    if name == "openai":
        return "openai: SHOPBOT_GENERATOR is auto and an OpenAI API key is set."
    if name == "flan-t5":
        if not settings.flan_t5_model:
            return (
                "flan-t5: SHOPBOT_GENERATOR is auto, no OpenAI key, and a fine-tuned adapter "
                "is activated (python -m finetune activate)."
            )
        return "flan-t5: SHOPBOT_GENERATOR is auto, no OpenAI key, and SHOPBOT_FLAN_T5_MODEL is set."
    return (
        "extractive: SHOPBOT_GENERATOR is auto and neither OPENAI_API_KEY nor "
        "SHOPBOT_FLAN_T5_MODEL is set, so answers are composed without an LLM."
    )


def generator_class(name: str) -> type[Generator]:
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownGenerator(
            f"unknown generator {name!r}; choose one of: auto, {', '.join(available())}"
        ) from None


def create_generator(
    settings: Settings, name: str | None = None, *, embeddings: Embeddings | None = None
) -> Generator:
    """Build the backend ``name`` (default: the one the settings pick). ``auto`` is
    accepted as a name too."""
    if name is None or name.strip().lower() == "auto":
        name = resolve_name(settings)
    return generator_class(name.strip().lower())(settings, embeddings=embeddings)
