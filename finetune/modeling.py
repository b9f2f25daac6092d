"""Loading a seq2seq model and generating answers the way the bot does.

Training (validation ROUGE), evaluation and the benchmark generate with
:func:`generation_kwargs`, the same greedy settings the flan-t5 generator uses, so the scores
describe what shoppers will see.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shopbot.generators.flan_t5 import NO_REPEAT_NGRAM_SIZE, input_limit


def generation_kwargs(max_new_tokens: int) -> dict[str, Any]:
    """What ``FlanT5Generator.generation_kwargs`` passes to ``model.generate``."""
    return {
        "max_new_tokens": max_new_tokens,
        "do_sample": False,
        "num_beams": 1,
        "no_repeat_ngram_size": NO_REPEAT_NGRAM_SIZE,
    }


def load_tokenizer(model: str | Path) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(model))
    except Exception as exc:  # OSError offline / not found, ValueError for odd configs
        raise RuntimeError(_cannot_load(model, exc)) from exc


def load_model(model: str | Path, adapter: str | Path | None = None, *, merge: bool = False) -> Any:
    """A seq2seq model from a hub id or a directory, with a PEFT adapter on top if given."""
    from transformers import AutoModelForSeq2SeqLM

    try:
        loaded = AutoModelForSeq2SeqLM.from_pretrained(str(model))
    except Exception as exc:
        raise RuntimeError(_cannot_load(model, exc)) from exc
    if adapter is not None:
        from peft import PeftModel

        adapter = Path(adapter)
        if not (adapter / "adapter_config.json").is_file():
            raise RuntimeError(
                f"{adapter} is not a LoRA adapter folder (no adapter_config.json). Pass a "
                "folder written by `python -m finetune train`."
            )
        loaded = PeftModel.from_pretrained(loaded, str(adapter))
        if merge:
            loaded = loaded.merge_and_unload()
    return loaded


def generate(
    model: Any,
    tokenizer: Any,
    inputs: Sequence[str],
    *,
    max_new_tokens: int,
    batch_size: int = 16,
    device: Any = None,
) -> list[str]:
    """Greedy answers for ``inputs`` (already-built prompts), in order."""
    import torch

    device = device if device is not None else next(model.parameters()).device
    limit = input_limit(tokenizer)
    answers: list[str] = []
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(inputs), batch_size):
            batch = tokenizer(
                list(inputs[start : start + batch_size]),
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=limit,
            ).to(device)
            with torch.no_grad():
                output = model.generate(**batch, **generation_kwargs(max_new_tokens))
            answers.extend(
                text.strip() for text in tokenizer.batch_decode(output, skip_special_tokens=True)
            )
    finally:
        model.train(was_training)
    return answers


def _cannot_load(model: str | Path, exc: Exception) -> str:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (
        f"Cannot load the model {str(model)!r} ({detail}). Pass a local directory (e.g. one "
        "made by `python -m finetune make-tiny-t5 DIR`) or a hub id this machine has cached "
        "(download google/flan-t5-base once with `hf download google/flan-t5-base "
        "--local-dir models/flan-t5-base` on a machine with internet)."
    )
