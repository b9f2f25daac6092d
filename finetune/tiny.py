"""``python -m finetune make-tiny-t5 DIR``: a small T5 saved like a hub checkpoint.

No Flan-T5 weights can be downloaded on an offline machine, so the tests, the benchmark and a
developer trying the pipeline use this instead: a SentencePiece-style Unigram tokenizer trained
on the catalog's own text and a randomly initialised T5 (a T5Config of a few million
parameters, gated-GELU like Flan-T5), written with ``save_pretrained`` as ``config.json``,
``model.safetensors``, ``tokenizer.json`` and ``tokenizer_config.json``. It then loads through
``AutoTokenizer`` / ``AutoModelForSeq2SeqLM`` exactly like ``google/flan-t5-base``, so every
code path (generator, training, evaluation) is the real one.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

# T5's layout: <pad>=0 (also the decoder start token), </s>=1, <unk>=2. transformers rebuilds a
# T5 tokenizer from tokenizer.json assuming exactly these ids.
SPECIAL_TOKENS = ["<pad>", "</s>", "<unk>"]
# What google/flan-t5-* tokenizers say, so prompts are fitted the same way.
MAX_INPUT_TOKENS = 512
SEED = 1234


@dataclass(frozen=True)
class TinyT5Size:
    """Shape of a generated T5. ``small`` has ~0.3M parameters (tests), ``base`` ~5M (the
    CLI's default), ``large`` ~64M (the CPU benchmark), ``xl`` the shape of
    google/flan-t5-large (24+24 layers, d_model 1024; ~700M parameters with this vocabulary)
    for a GPU benchmark."""

    vocab_size: int
    d_model: int
    d_ff: int
    d_kv: int
    num_layers: int
    num_heads: int


SIZES: dict[str, TinyT5Size] = {
    "small": TinyT5Size(vocab_size=900, d_model=64, d_ff=128, d_kv=16, num_layers=2, num_heads=4),
    "base": TinyT5Size(vocab_size=2000, d_model=256, d_ff=512, d_kv=32, num_layers=4, num_heads=4),
    "large": TinyT5Size(vocab_size=4000, d_model=512, d_ff=1536, d_kv=64, num_layers=8, num_heads=8),
    "xl": TinyT5Size(vocab_size=4000, d_model=1024, d_ff=2816, d_kv=64, num_layers=24, num_heads=16),
}


def catalog_texts(catalog_dir: Path | str = "catalog") -> list[str]:
    """The tokenizer's corpus: every paragraph of the catalog's text files (Markdown, plain
    text, HTML stripped of tags) and one line per row of its CSV files."""
    catalog_dir = Path(catalog_dir)
    if not catalog_dir.is_dir():
        raise FileNotFoundError(
            f"{catalog_dir} is not a folder of catalog documents; pass --catalog DIR."
        )
    texts: list[str] = []
    for path in sorted(catalog_dir.rglob("*")):
        suffix = path.suffix.lower()
        if suffix in {".md", ".txt"}:
            texts.extend(p.strip() for p in path.read_text("utf-8").split("\n\n"))
        elif suffix in {".html", ".htm"}:
            from bs4 import BeautifulSoup

            soup = BeautifulSoup(path.read_text("utf-8"), "html.parser")
            texts.extend(line.strip() for line in soup.get_text("\n").splitlines())
        elif suffix == ".csv":
            with open(path, newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    texts.append(" ".join(v for v in row.values() if v))
    texts = [t for t in texts if t]
    if not texts:
        raise ValueError(f"{catalog_dir} holds no .md, .txt, .html or .csv text to learn from.")
    return texts


def _deterministic(trained):
    """The trained Unigram tokenizer with its vocabulary in a fixed order. The trainer's
    output order (so every token id) and the last digits of its scores vary from run to run
    (hash-map order, parallel sums) although the pieces are the same, so two models made from
    the same texts got different ids, and tests trained on them got different results.
    Special tokens keep their ids; the rest is ordered by piece, with scores rounded to two
    decimals (the noise reaches the third on the rarest characters)."""
    import json

    from tokenizers import Tokenizer

    spec = json.loads(trained.to_str())
    vocab = spec["model"]["vocab"]
    special = sorted(
        (entry for entry in vocab if entry[0] in SPECIAL_TOKENS),
        key=lambda entry: SPECIAL_TOKENS.index(entry[0]),
    )
    rest = sorted(
        [piece, round(score, 2)] for piece, score in vocab if piece not in SPECIAL_TOKENS
    )
    spec["model"]["vocab"] = special + rest
    spec["model"]["unk_id"] = SPECIAL_TOKENS.index("<unk>")
    return Tokenizer.from_str(json.dumps(spec))


def make_tiny_t5(
    directory: Path | str,
    texts: Iterable[str],
    *,
    size: str | TinyT5Size = "base",
    never_stop: bool = False,
    seed: int = SEED,
) -> Path:
    """Train a tokenizer on ``texts`` and save it with a random T5 of ``size`` in ``directory``.

    ``never_stop`` zeroes the output row of ``</s>`` and suppresses it in the saved
    generation config, so greedy decoding always runs to
    ``max_new_tokens`` (tests use it to check streaming and length limits exactly); leave it
    off for a model that is to be trained.
    """
    import torch
    from tokenizers import SentencePieceUnigramTokenizer
    from transformers import T5Config, T5ForConditionalGeneration, T5TokenizerFast

    shape = SIZES[size] if isinstance(size, str) else size
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)

    trained = SentencePieceUnigramTokenizer()
    trained.train_from_iterator(
        list(texts),
        vocab_size=shape.vocab_size,
        special_tokens=SPECIAL_TOKENS,
        unk_token="<unk>",
        show_progress=False,
    )
    tokenizer = T5TokenizerFast(
        tokenizer_object=_deterministic(trained),
        extra_ids=0,
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        model_max_length=MAX_INPUT_TOKENS,
    )
    ids = [tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id]
    if ids != [0, 1, 2]:
        raise RuntimeError(f"tokenizer special ids are {ids}, T5 needs [0, 1, 2]")

    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=shape.d_model,
        d_ff=shape.d_ff,
        d_kv=shape.d_kv,
        num_layers=shape.num_layers,
        num_decoder_layers=shape.num_layers,
        num_heads=shape.num_heads,
        feed_forward_proj="gated-gelu",  # as in Flan-T5 (T5 v1.1)
        tie_word_embeddings=False,
        decoder_start_token_id=tokenizer.pad_token_id,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(config)
    if never_stop:
        with torch.no_grad():
            model.lm_head.weight[tokenizer.eos_token_id].zero_()
        # A zero row still wins when every other logit is negative (an adapter can make
        # that happen), so generation is also told never to pick ``</s>``.
        model.generation_config.suppress_tokens = [tokenizer.eos_token_id]
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    (directory / "tiny_t5.json").write_text(
        json.dumps(
            {
                "size": size if isinstance(size, str) else "custom",
                **asdict(shape),
                "vocab_size": len(tokenizer),  # the trainer may learn fewer pieces than asked
                "parameters": model.num_parameters(),
                "seed": seed,
            },
            indent=2,
        )
        + "\n"
    )
    return directory


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, metavar="DIR", help="where to save the model")
    parser.add_argument(
        "--size", choices=sorted(SIZES), default="base",
        help="small ~0.3M parameters, base ~5M (default), large ~64M, xl ~700M (flan-t5-large's shape)",
    )
    parser.add_argument(
        "--catalog", type=Path, default=None,
        help="folder of catalog text to train the tokenizer on (default: SHOPBOT_CATALOG_DIR)",
    )
    parser.add_argument("--seed", type=int, default=SEED)


def run(args: argparse.Namespace) -> int:
    from shopbot.settings import get_settings

    catalog = args.catalog or get_settings().catalog_dir
    out = make_tiny_t5(args.out, catalog_texts(catalog), size=args.size, seed=args.seed)
    info = json.loads((out / "tiny_t5.json").read_text())
    print(
        f"Saved a {args.size} T5 ({info['parameters']:,} parameters, vocabulary "
        f"{info['vocab_size']:,}) to {out}. Use it with --model {out} or "
        f"SHOPBOT_FLAN_T5_MODEL={out}."
    )
    return 0
