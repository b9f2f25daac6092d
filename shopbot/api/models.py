"""The models the HTTP API serves, and how each one answers.

``shopbot``
    The whole RAG chain (:class:`shopbot.chain.ShopAssistant`) with the generator the
    settings pick (``SHOPBOT_GENERATOR``; with ``auto`` that is re-checked per request, so
    activating a fine-tuned adapter switches it without a restart). The earlier messages are
    the conversation: a follow-up is made standalone before the catalog search.
each local generator (``extractive``, ``flan-t5``)
    Raw generation: that backend answers the last message with the catalog sources
    retrieved for that message as written (no rewrite of follow-ups), the earlier messages
    as its history. The generator contract needs sources: without them every backend says
    the catalog has nothing on it. ``flan-t5`` is the model of SHOPBOT_FLAN_T5_MODEL with the
    activated adapter, if any. Generators that call another server (``openai``) are not
    served: that would make this server a proxy with our key.
``flan-t5:<name>``
    ``flan-t5`` with the LoRA adapter in ``<data_dir>/finetune/adapters/<name>/`` (any folder
    there holding ``adapter_config.json``; looked up per request, so a newly trained adapter
    is served at once), on SHOPBOT_FLAN_T5_MODEL or else the base model the adapter names.

Generators are built once per server and shared by all requests (they are thread-safe);
a model is loaded on its first request.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopbot.api.errors import APIError
from shopbot.factcheck import CheckResult

if TYPE_CHECKING:
    from shopbot.chain import ShopAssistant
    from shopbot.generators.base import Generator, Turn
    from shopbot.retrieval import Retrieval, Source
    from shopbot.service import CatalogService

log = logging.getLogger("shopbot.api")

CHAIN_MODEL = "shopbot"
ADAPTER_BASE = "flan-t5"
ADAPTER_CONFIG = "adapter_config.json"
TRAINING_CONFIG = "training_config.json"
_ADAPTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# Each adapter model holds its own copy of the base model: keep the most recently used few.
MAX_LOADED_ADAPTERS = 4


@dataclass(frozen=True)
class ServedModel:
    id: str
    kind: str  # "rag", "generator" or "adapter"
    generator: str  # the registry name of the backend
    description: str
    adapter: Path | None = None

    def to_dict(self, created: int) -> dict[str, Any]:
        extra: dict[str, Any] = {
            "kind": self.kind,
            "generator": self.generator,
            "description": self.description,
        }
        if self.adapter is not None:
            extra["adapter"] = self.adapter.name
        return {
            "id": self.id,
            "object": "model",
            "created": created,
            "owned_by": "shopbot",
            "shopbot": extra,
        }


@dataclass
class AnswerRun:
    """One answer being produced: what was searched and found (known before any text), and
    the text as an iterator of pieces (blocking: iterate it on a worker thread)."""

    sources: list[Source]
    standalone_question: str
    generator: str
    pieces: Iterator[str]
    _failed: Any = field(default=lambda: False, repr=False)
    # What the chain's catalog check corrected and flagged (complete after iteration; a raw
    # generator's answer is not checked, so it stays empty).
    fact_check: CheckResult = field(default_factory=lambda: CheckResult(text=""), repr=False)
    # How the chain found the sources: filters read from the question, comparison table.
    retrieval: Retrieval | None = field(default=None, repr=False)

    @property
    def filters(self) -> list[str]:
        return self.retrieval.constraints.chips() if self.retrieval else []

    @property
    def comparison(self) -> dict[str, Any] | None:
        comparison = self.retrieval.comparison if self.retrieval else None
        return comparison.to_dict() if comparison else None

    @property
    def failed(self) -> bool:
        """Whether the backend failed and the text is its apology (after iteration)."""
        return bool(self._failed())

    @property
    def corrections(self) -> list[dict[str, Any]]:
        return [c.to_dict() for c in self.fact_check.corrections]

    @property
    def flagged(self) -> list[str]:
        return list(self.fact_check.flagged)

    def close(self) -> None:
        close = getattr(self.pieces, "close", None)
        if close is not None:
            try:
                close()
            except ValueError:
                pass  # still running on a worker thread; it is closed when collected


class ModelHub:
    def __init__(self, service: CatalogService) -> None:
        self.service = service
        self.settings = service.settings
        self._lock = threading.Lock()
        self._generators: dict[str, Generator] = {}
        self._adapters: OrderedDict[Path, Generator] = OrderedDict()
        self._assistants: dict[str, ShopAssistant] = {}

    # -- which models --------------------------------------------------------------------

    def local_generators(self) -> list[str]:
        from shopbot.generators.registry import available, generator_class

        return [n for n in available() if generator_class(n).needs_env is None]

    def adapters(self) -> list[Path]:
        folder = self.settings.finetune_dir / "adapters"
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            return []
        return [
            p for p in entries if _ADAPTER_NAME.match(p.name) and (p / ADAPTER_CONFIG).is_file()
        ]

    def chain_generator_name(self) -> str:
        from shopbot.generators import resolve_name

        return resolve_name(self.settings)

    def chain_model(self) -> ServedModel:
        chain = self.chain_generator_name()
        return ServedModel(
            CHAIN_MODEL,
            "rag",
            chain,
            f"The shop assistant: catalog search and a grounded answer with its sources "
            f"(generator: {chain}).",
        )

    def models(self) -> list[ServedModel]:
        from shopbot.generators.registry import generator_class

        served = [self.chain_model()]
        for name in self.local_generators():
            served.append(ServedModel(name, "generator", name, generator_class(name).description))
        if ADAPTER_BASE in self.local_generators():
            for path in self.adapters():
                served.append(_adapter_model(path))
        return served

    def get(self, model_id: str) -> ServedModel:
        """The served model ``model_id``, or APIError 404 ``model_not_found``."""
        if model_id == CHAIN_MODEL:
            return self.chain_model()
        if model_id in self.local_generators():
            from shopbot.generators.registry import generator_class

            return ServedModel(
                model_id, "generator", model_id, generator_class(model_id).description
            )
        base, _, name = model_id.partition(":")
        if base == ADAPTER_BASE and name and _ADAPTER_NAME.match(name):
            path = self.settings.finetune_dir / "adapters" / name
            if (path / ADAPTER_CONFIG).is_file():
                return _adapter_model(path)
        raise APIError(
            404,
            f"The model `{model_id[:100]}` does not exist. GET /v1/models lists the models "
            "this server has (shopbot, the local generators, flan-t5:<adapter>).",
            param="model",
            code="model_not_found",
        )

    # -- running them ----------------------------------------------------------------------

    def start(self, model: ServedModel, question: str, history: list[Turn]) -> AnswerRun:
        """Search, and run the answer up to its first piece of text (blocking: call it on a
        worker thread). Raises APIError 503 when the backend cannot run."""
        from shopbot.generators import GeneratorFailed, GeneratorUnavailable

        try:
            if model.kind == "rag":
                return self._start_chain(question, history)
            return self._start_raw(model, question, history)
        except GeneratorUnavailable as exc:
            raise APIError(
                503,
                f"The model {model.id} cannot run here: {exc}",
                type="server_error",
                code="model_unavailable",
            ) from None
        except GeneratorFailed as exc:
            raise APIError(
                502,
                f"The model {model.id} failed to answer: {getattr(exc, 'apology', GeneratorFailed.apology)}",
                type="server_error",
                code="generator_failed",
            ) from None
        except APIError:
            raise
        except RuntimeError as exc:  # StoreError, EmbeddingModelError: the catalog is unusable
            log.warning("answer with %s failed: %s", model.id, exc)
            raise APIError(
                503,
                "The catalog cannot be searched right now; the server's log says why.",
                type="server_error",
                code="catalog_unavailable",
            ) from None

    def _start_chain(self, question: str, history: list[Turn]) -> AnswerRun:
        name = self.chain_generator_name()
        with self._lock:
            assistant = self._assistants.get(name)
        if assistant is None:
            assistant = self.service.assistant_for(self._generator(name))
            with self._lock:
                assistant = self._assistants.setdefault(name, assistant)
        stream = assistant.stream(question, history)
        return AnswerRun(
            sources=list(stream.sources),
            standalone_question=stream.standalone_question or question,
            generator=name,
            pieces=iter(stream),
            _failed=lambda: stream.answer is not None and stream.answer.failed,
            fact_check=stream.fact_check or CheckResult(text=""),
            retrieval=stream.retrieval,
        )

    def _start_raw(self, model: ServedModel, question: str, history: list[Turn]) -> AnswerRun:
        generator = (
            self._adapter_generator(model.adapter)
            if model.adapter
            else self._generator(model.generator)
        )
        sources = self.service.search(question, k=self.settings.retrieval_k)
        pieces = iter(generator.generate(question, history, sources))
        first = next(pieces, None)  # surfaces a missing model before any byte is sent

        def all_pieces() -> Iterator[str]:
            try:
                if first is not None:
                    yield first
                yield from pieces
            finally:
                close = getattr(pieces, "close", None)
                if close is not None:
                    close()

        return AnswerRun(
            sources=sources, standalone_question=question, generator=model.id, pieces=all_pieces()
        )

    def _generator(self, name: str) -> Generator:
        with self._lock:
            generator = self._generators.get(name)
        if generator is not None:
            return generator
        from shopbot.generators import create_generator

        generator = create_generator(self.settings, name, embeddings=self.service.embeddings)
        with self._lock:
            return self._generators.setdefault(name, generator)

    def _adapter_generator(self, adapter: Path) -> Generator:
        with self._lock:
            generator = self._adapters.get(adapter)
            if generator is not None:
                self._adapters.move_to_end(adapter)
                return generator
        from shopbot.generators import create_generator

        settings = self.settings.model_copy(
            update={
                "flan_t5_adapter": adapter,
                "flan_t5_model": self.settings.flan_t5_model or adapter_base_model(adapter),
            }
        )
        generator = create_generator(settings, ADAPTER_BASE, embeddings=self.service.embeddings)
        with self._lock:
            generator = self._adapters.setdefault(adapter, generator)
            self._adapters.move_to_end(adapter)
            while len(self._adapters) > MAX_LOADED_ADAPTERS:
                self._adapters.popitem(last=False)  # answers in flight keep their reference
        return generator


def _adapter_model(path: Path) -> ServedModel:
    return ServedModel(
        f"{ADAPTER_BASE}:{path.name}",
        "adapter",
        ADAPTER_BASE,
        f"flan-t5 with the fine-tuned LoRA adapter {path.name}.",
        adapter=path,
    )


def adapter_base_model(path: Path) -> str | None:
    """The model an adapter was trained on: ``training_config.json``'s ``base_model``, else
    PEFT's ``base_model_name_or_path`` (the same rule as ``python -m finetune``)."""
    for name, key in ((TRAINING_CONFIG, "base_model"), (ADAPTER_CONFIG, "base_model_name_or_path")):
        try:
            value = json.loads((path / name).read_text("utf-8")).get(key)
        except (OSError, ValueError, AttributeError):
            continue
        if value:
            return str(value)
    return None
