"""Tiny T5 models built by the tests, so the Flan-T5 code path runs with no download.

``build_tiny_t5`` trains a SentencePiece-style Unigram tokenizer on catalog text and saves it
with a small randomly initialised T5 in the layout of a hub checkpoint (``config.json``,
``model.safetensors``, ``tokenizer.json``, ``tokenizer_config.json``), so it loads through
``AutoTokenizer`` / ``AutoModelForSeq2SeqLM`` exactly like ``google/flan-t5-base`` does.
``build_tiny_lora_adapter`` saves a PEFT LoRA adapter for it whose weights are not zero, so
loading it changes what the model generates.

The session fixtures ``tiny_t5_dir`` and ``tiny_lora_dir`` are re-exported by
``tests/conftest.py``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOG_DIR = ROOT / "catalog"

SEED = 1234


def catalog_texts(catalog_dir: Path = CATALOG_DIR) -> list[str]:
    """Paragraphs of the demo FAQ and one line per product row: the tokenizer's corpus."""
    texts = [p.strip() for p in (catalog_dir / "faq.md").read_text("utf-8").split("\n\n")]
    with open(catalog_dir / "products.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            texts.append(" ".join(v for v in row.values() if v))
    return [t for t in texts if t]


def build_tiny_t5(directory: Path | str, texts: Iterable[str]) -> Path:
    """The ``small`` model of ``python -m finetune make-tiny-t5`` (same code path), except that
    it never emits ``</s>``: greedy generation always runs to ``max_new_tokens``, which lets
    tests check streaming and length limits exactly."""
    from finetune.tiny import make_tiny_t5

    return make_tiny_t5(directory, texts, size="small", never_stop=True, seed=SEED)


def build_tiny_lora_adapter(
    base_dir: Path | str, adapter_dir: Path | str, seed: int = SEED + 1
) -> Path:
    """Save a LoRA adapter (r=4 on q and v) for the tiny T5 in ``base_dir``.

    LoRA initialises B to zero, which would make the adapter a no-op; B is filled with
    seeded noise instead so that the adapted model generates different text (another
    ``seed``, another text). The saved
    ``adapter_config.json`` names ``base_dir`` as its base model.
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSeq2SeqLM

    adapter_dir = Path(adapter_dir)
    base = AutoModelForSeq2SeqLM.from_pretrained(str(base_dir))
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q", "v"], task_type="SEQ_2_SEQ_LM")
    model = get_peft_model(base, config)
    noise = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=noise) * 0.5)
    model.save_pretrained(adapter_dir)
    return adapter_dir


@pytest.fixture(scope="session")
def tiny_t5_dir(tmp_path_factory) -> Path:
    """A tiny T5 checkpoint directory (tokenizer trained on the demo catalog)."""
    return build_tiny_t5(tmp_path_factory.mktemp("tiny-t5") / "model", catalog_texts())


@pytest.fixture(scope="session")
def tiny_lora_dir(tiny_t5_dir, tmp_path_factory) -> Path:
    """A LoRA adapter directory for ``tiny_t5_dir`` that changes its output."""
    return build_tiny_lora_adapter(tiny_t5_dir, tmp_path_factory.mktemp("tiny-lora") / "adapter")
