"""The ``flan-t5`` backend: a local Flan-T5 (or any seq2seq model) with an optional PEFT LoRA
adapter, streaming its answer token by token.

The model is a hub id (``google/flan-t5-base``, the default) or a local directory; both go
through the same ``from_pretrained`` call. Nothing is loaded until the first answer (or an
explicit :meth:`FlanT5Generator.load`), and torch / transformers / peft are imported only
then, so choosing another backend costs nothing.

Flan-T5 reads at most 512 tokens, so the prompt is the compact one from
:func:`shopbot.prompts.build_compact_prompt`: the instruction and the question always, then as
many sources, best first, as fit. The conversation history is not in the prompt: the chain
turns a follow-up into a standalone question before retrieval, and that question is what the
model sees.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopbot.adapters import FlanT5Choice, flan_t5_choice
from shopbot.generators.base import Generator, GeneratorFailed, GeneratorUnavailable, Turn
from shopbot.generators.registry import register
from shopbot.prompts import NOT_IN_CATALOG, build_compact_prompt

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from shopbot.query import Understanding
    from shopbot.retrieval import Retrieval, Source
    from shopbot.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_MODEL = "google/flan-t5-base"
# Used when a tokenizer does not state its limit (transformers then reports ~1e30).
FALLBACK_MAX_INPUT_TOKENS = 512
_SANE_MAX_INPUT_TOKENS = 100_000
# Head-room under the limit, so a prompt that "just fits" is never cut by the model.
PROMPT_MARGIN_TOKENS = 8
NO_REPEAT_NGRAM_SIZE = 3


@dataclass(frozen=True)
class _Loaded:
    model: Any  # a transformers seq2seq model, or a peft.PeftModel wrapping one
    tokenizer: Any
    device: Any  # torch.device
    max_input_tokens: int
    choice: FlanT5Choice | None = None  # what was loaded: compared with the current choice


@register
class FlanT5Generator(Generator):
    name = "flan-t5"
    description = (
        "Local Flan-T5 (google/flan-t5-base or a directory) with an optional LoRA adapter; "
        "no API key, CPU or GPU."
    )
    uses_llm = True

    def __init__(self, settings: Settings, *, embeddings: Embeddings | None = None) -> None:
        super().__init__(settings, embeddings=embeddings)
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None

    # -- loading -------------------------------------------------------------------------

    @property
    def choice(self) -> FlanT5Choice:
        """Model, adapter and merge flag: the settings, else the activated adapter
        (``python -m finetune activate``). Read at every answer: when an adapter is activated
        or deactivated, a loaded generator reloads before its next answer (the activation
        is a small JSON file, so checking it costs well under a millisecond)."""
        return flan_t5_choice(self.settings)

    @property
    def loaded_choice(self) -> FlanT5Choice | None:
        """What the loaded model is (None before the first load): may lag :attr:`choice`
        until the next answer or :meth:`load`."""
        loaded = self._loaded
        return loaded.choice if loaded is not None else None

    @property
    def model_name(self) -> str:
        """The hub id or directory the model is loaded from."""
        return self.choice.model or DEFAULT_MODEL

    @property
    def adapter_path(self) -> Path | None:
        """The LoRA adapter directory loaded on top of the model, if any."""
        return self.choice.adapter

    @property
    def is_loaded(self) -> bool:
        return self._loaded is not None

    def load(self) -> None:
        """Load the tokenizer, model and adapter now (otherwise the first answer does), or
        reload them if the activated adapter changed. Safe to call from several threads:
        the model is loaded once."""
        self._ensure_loaded(follow_activation=True)

    def _ensure_loaded(self, *, follow_activation: bool = False) -> _Loaded:
        """The loaded model; with ``follow_activation``, first reload it if the choice
        (settings or activated adapter) differs from what was loaded. Answers in flight
        keep the model they started with; the old one is freed when they finish."""
        loaded = self._loaded
        if loaded is not None and not (follow_activation and loaded.choice != self.choice):
            return loaded
        with self._lock:
            loaded = self._loaded
            choice = self.choice
            if loaded is None or (follow_activation and loaded.choice != choice):
                if loaded is not None:
                    log.info(
                        "flan-t5: the adapter to serve changed (%s -> %s); reloading",
                        loaded.choice.adapter if loaded.choice else None,
                        choice.adapter,
                    )
                self._loaded = self._load(choice)
            return self._loaded

    def _load(self, choice: FlanT5Choice | None = None) -> _Loaded:
        started = time.perf_counter()
        choice = choice or self.choice
        adapter = self._check_adapter(choice)  # before the slow part: a wrong path fails fast
        try:
            from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
        except ImportError as exc:
            raise GeneratorUnavailable(
                f"The flan-t5 generator needs torch and transformers ({exc}): run "
                "`pip install -r requirements.txt`."
            ) from exc
        device = _resolve_device(self.settings.flan_t5_device)
        name = choice.model or DEFAULT_MODEL
        try:
            tokenizer = AutoTokenizer.from_pretrained(name)
            model = AutoModelForSeq2SeqLM.from_pretrained(name)
        except Exception as exc:  # OSError offline / not found; ValueError for odd configs
            raise GeneratorUnavailable(_cannot_load_message(name, exc)) from exc
        if adapter is not None:
            model = _load_adapter(model, adapter)
            if choice.merge:
                model = model.merge_and_unload()
        try:
            model = model.to(device)
        except (RuntimeError, AssertionError) as exc:  # e.g. a CUDA out-of-memory
            raise GeneratorUnavailable(
                f"Could not move the Flan-T5 model to {device} ({exc}). Set "
                "SHOPBOT_FLAN_T5_DEVICE=cpu, or free memory on that device."
            ) from exc
        model.eval()
        log.info(
            "flan-t5: loaded %s%s on %s in %.1fs",
            name,
            f" with adapter {adapter}{' (merged)' if choice.merge else ''}" if adapter else "",
            device,
            time.perf_counter() - started,
        )
        return _Loaded(
            model=model,
            tokenizer=tokenizer,
            device=device,
            max_input_tokens=input_limit(tokenizer),
            choice=choice,
        )

    def _check_adapter(self, choice: FlanT5Choice) -> Path | None:
        """The adapter directory, checked; warn when it was trained on another model."""
        if choice.adapter is None:
            return None
        adapter = Path(choice.adapter).expanduser()
        if not adapter.is_dir():
            if choice.from_activation:
                raise GeneratorUnavailable(
                    f"The activated LoRA adapter {adapter} no longer exists. Activate another "
                    "one (`python -m finetune activate DIR`) or serve the base model "
                    "(`python -m finetune deactivate`)."
                )
            raise GeneratorUnavailable(
                f"The LoRA adapter directory {adapter} does not exist. Set "
                "SHOPBOT_FLAN_T5_ADAPTER to a directory saved by the fine-tuning (it holds "
                "adapter_config.json), or leave it empty to run the model without an adapter."
            )
        config_file = adapter / "adapter_config.json"
        if not config_file.is_file():
            raise GeneratorUnavailable(
                f"{adapter} is not a PEFT adapter directory: it has no adapter_config.json. "
                "Point SHOPBOT_FLAN_T5_ADAPTER at the folder the fine-tuning saved, or leave it "
                "empty to run the model without an adapter."
            )
        try:
            base = json.loads(config_file.read_text("utf-8")).get("base_model_name_or_path")
        except (OSError, ValueError) as exc:
            raise GeneratorUnavailable(f"Cannot read {config_file}: {exc}") from exc
        model_name = choice.model or DEFAULT_MODEL
        if base and not _same_model(str(base), model_name):
            log.warning(
                "flan-t5: the LoRA adapter %s was trained on %r, but the model is %r; its "
                "answers may be poor. Set SHOPBOT_FLAN_T5_MODEL=%s, or use an adapter trained "
                "on this model.",
                adapter,
                base,
                model_name,
                base,
            )
        return adapter

    # -- what a benchmark or the UI may want to see --------------------------------------

    @property
    def model(self) -> Any:
        """The loaded model (a ``PeftModel`` when an adapter is set); loads it if needed."""
        return self._ensure_loaded().model

    @property
    def tokenizer(self) -> Any:
        return self._ensure_loaded().tokenizer

    @property
    def device(self) -> Any:
        """The ``torch.device`` the model runs on."""
        return self._ensure_loaded().device

    @property
    def max_input_tokens(self) -> int:
        """The longest input the model reads, in tokens (the prompt is fitted under it)."""
        return self._ensure_loaded().max_input_tokens

    @property
    def generation_kwargs(self) -> dict[str, Any]:
        """The arguments every answer passes to ``model.generate`` (greedy decoding)."""
        return {
            "max_new_tokens": self.settings.flan_t5_max_new_tokens,
            "do_sample": False,
            "num_beams": 1,
            "no_repeat_ngram_size": NO_REPEAT_NGRAM_SIZE,
        }

    def count_tokens(self, text: str) -> int:
        """Tokens the model reads for ``text``, ``</s>`` included."""
        return count_tokens(self._ensure_loaded().tokenizer, text)

    def prompt_fits(self, prompt: str) -> bool:
        return self.count_tokens(prompt) <= self.max_input_tokens - PROMPT_MARGIN_TOKENS

    def build_prompt(self, question: str, sources: Sequence[Source]) -> str:
        """The prompt the model gets: instruction, the sources that fit, the question."""
        loaded = self._ensure_loaded()
        return build_prompt(loaded.tokenizer, question, sources, loaded.max_input_tokens)

    # -- the contract --------------------------------------------------------------------

    def generate(
        self, question: str, history: Sequence[Turn], sources: Sequence[Source],
        *, understanding: Understanding | None = None, retrieval: Retrieval | None = None,
    ) -> Iterator[str]:
        if not sources:
            yield NOT_IN_CATALOG
            return
        loaded = self._ensure_loaded(follow_activation=True)
        prompt = build_prompt(loaded.tokenizer, question, sources, loaded.max_input_tokens)
        inputs = self._encode(loaded, prompt)

        from transformers import StoppingCriteriaList, TextIteratorStreamer

        streamer = TextIteratorStreamer(
            loaded.tokenizer, skip_prompt=True, skip_special_tokens=True
        )
        cancelled = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                loaded.model.generate(
                    **inputs,
                    **self.generation_kwargs,
                    streamer=streamer,
                    stopping_criteria=StoppingCriteriaList([_stop_when(cancelled)]),
                )
            except BaseException as exc:  # handed to the consumer below
                failure.append(exc)
                streamer.end()  # unblock the consumer, who is waiting on the queue

        thread = threading.Thread(target=run, name="flan-t5-generate", daemon=True)
        thread.start()
        answered = False
        pending = ""  # leading whitespace is held back: an all-blank answer is no answer
        try:
            for piece in streamer:
                if not piece:
                    continue
                if not answered:
                    pending += piece
                    if not pending.strip():
                        continue
                    piece, answered = pending.lstrip(), True
                yield piece
        finally:
            # Also reached when the consumer stops early (generator closed): stop the model at
            # its next token instead of letting it run on in the background.
            cancelled.set()
            thread.join()
        if failure:
            exc = failure[0]
            if not isinstance(exc, Exception):
                raise exc
            raise GeneratorFailed(f"flan-t5 generation failed: {exc!r}") from exc
        if not answered:
            yield NOT_IN_CATALOG

    def condense(self, question: str, history: Sequence[Turn]) -> str | None:
        # Flan-T5 base/small rewrites follow-ups poorly: it tends to answer the question or
        # drop the product it refers to, and a bad rewrite retrieves the wrong products. The
        # chain's rules (carry over the product and constraints) are more reliable here.
        return None

    @staticmethod
    def _encode(loaded: _Loaded, prompt: str) -> dict[str, Any]:
        encoded = loaded.tokenizer(prompt, return_tensors="pt", verbose=False)
        if encoded["input_ids"].shape[1] > loaded.max_input_tokens:
            # Only a question longer than the model's whole input gets here; keep its start.
            # Cut by hand (see count_tokens), keeping the final </s>.
            keep = loaded.max_input_tokens - 1
            encoded = {
                key: value[:, list(range(keep)) + [value.shape[1] - 1]]
                for key, value in encoded.items()
            }
        return {key: value.to(loaded.device) for key, value in encoded.items()}


def input_limit(tokenizer: Any) -> int:
    """The longest input a tokenizer's model reads (512 when the tokenizer does not say)."""
    limit = getattr(tokenizer, "model_max_length", None)
    if not isinstance(limit, int) or not 0 < limit <= _SANE_MAX_INPUT_TOKENS:
        return FALLBACK_MAX_INPUT_TOKENS
    return limit


def count_tokens(tokenizer: Any, text: str) -> int:
    """Tokens a model reads for ``text``, ``</s>`` included."""
    # No truncation or padding arguments: they would reconfigure the shared Rust
    # tokenizer, which raises "Already borrowed" when another thread is using it.
    return len(tokenizer(text, verbose=False)["input_ids"])


def build_prompt(
    tokenizer: Any, question: str, sources: Sequence[Source], max_input_tokens: int | None = None
) -> str:
    """The exact prompt the flan-t5 generator gives a model with this tokenizer: the
    instruction and the question, then as many sources, best first, as fit under the input
    limit. The fine-tuning dataset is built with this same function (no train/serve skew)."""
    limit = (max_input_tokens or input_limit(tokenizer)) - PROMPT_MARGIN_TOKENS
    return build_compact_prompt(
        question, sources, fits=lambda prompt: count_tokens(tokenizer, prompt) <= limit
    )


def _resolve_device(requested: str | None) -> Any:
    import torch

    if not requested:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except (RuntimeError, ValueError) as exc:
        raise GeneratorUnavailable(
            f"SHOPBOT_FLAN_T5_DEVICE={requested!r} is not a device: use cpu, cuda or cuda:N, "
            "or leave it empty to pick the GPU when there is one."
        ) from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GeneratorUnavailable(
            f"SHOPBOT_FLAN_T5_DEVICE={requested!r}, but torch sees no CUDA GPU here. Set it to "
            "cpu, or leave it empty to pick the GPU when there is one."
        )
    return device


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or "\\" in name or Path(name).expanduser().exists()


def _cannot_load_message(name: str, exc: Exception) -> str:
    path = Path(name).expanduser()
    hub_id = DEFAULT_MODEL if _looks_like_path(name) else name
    local_dir = f"models/{hub_id.rsplit('/', 1)[-1]}"
    if path.is_dir():
        cause = f"the directory {path} does not hold a complete model"
    else:
        cause = (
            "this machine may be offline, and the model is not in the local Hugging Face cache"
        )
        if name != DEFAULT_MODEL:
            cause += f" (if it is meant to be a directory: {path.resolve()} does not exist)"
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return (
        f"The Flan-T5 model {name!r} could not be loaded: {cause}. "
        f"[{type(exc).__name__}: {detail}] "
        f"To fix it, download it once on a machine with internet: "
        f"`hf download {hub_id} --local-dir {local_dir}` (older huggingface_hub: "
        f"`huggingface-cli download {hub_id} --local-dir {local_dir}`), copy that directory "
        f"here and set SHOPBOT_FLAN_T5_MODEL={local_dir}. Or choose another backend with "
        "SHOPBOT_GENERATOR=extractive (no LLM, works offline)."
    )


def _same_model(a: str, b: str) -> bool:
    """Whether two hub ids / directories name the same model. A hub id and a local copy of
    it count as the same when the last path part matches (``google/flan-t5-base`` and
    ``models/flan-t5-base``), since that is how the download instructions name them."""
    if a == b:
        return True
    pa, pb = Path(a).expanduser(), Path(b).expanduser()
    if pa.exists() and pb.exists() and pa.resolve() == pb.resolve():
        return True
    return pa.name.lower() == pb.name.lower()


def _load_adapter(model: Any, adapter: Path) -> Any:
    try:
        from peft import PeftModel
    except ImportError as exc:
        raise GeneratorUnavailable(
            f"Loading the LoRA adapter {adapter} needs peft ({exc}): run "
            "`pip install -r requirements.txt`, or leave SHOPBOT_FLAN_T5_ADAPTER empty."
        ) from exc
    try:
        with warnings.catch_warnings():
            # peft 0.21 calls a transformers 5 method that warns about its own rename.
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
            return PeftModel.from_pretrained(model, str(adapter))
    except Exception as exc:  # shape mismatch (another base model), corrupt weights, ...
        raise GeneratorUnavailable(
            f"The LoRA adapter {adapter} could not be loaded onto the model ({exc}). Was it "
            "trained on the model SHOPBOT_FLAN_T5_MODEL names?"
        ) from exc


@lru_cache(maxsize=1)
def _stop_criteria_class() -> type:
    import torch
    from transformers import StoppingCriteria

    class StopWhenSet(StoppingCriteria):
        """Ends generation once ``event`` is set (the reader went away)."""

        def __init__(self, event: threading.Event) -> None:
            self.event = event

        def __call__(self, input_ids, scores, **kwargs):  # noqa: ANN001 - transformers' API
            return torch.full(
                (input_ids.shape[0],), self.event.is_set(), dtype=torch.bool,
                device=input_ids.device,
            )

    return StopWhenSet


def _stop_when(event: threading.Event) -> Any:
    return _stop_criteria_class()(event)
