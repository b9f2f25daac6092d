"""``python -m finetune evaluate``: the base model and a tuned adapter, side by side.

    python -m finetune evaluate --adapter data/finetune/adapters/a1 --data data/finetune/datasets/d1

Both answer the split's prompts (``Example.input``, built by the bot's own prompt builder)
with greedy decoding and the bot's generation settings (:func:`finetune.modeling.generate`),
so the scores describe what shoppers would read. Scores: ROUGE-1/2/L/Lsum against the
reference answers and exact-fact accuracy (the price, stock count, brand... each answer must
contain), overall and per task. Results go to ``evaluation.json`` (every prediction included)
and ``evaluation.md`` (the table plus a few examples), by default in the adapter folder,
where ``python -m finetune adapters`` and the Fine-tune page read them.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from finetune.adapters import (
    TRAINING_CONFIG,
    adapter_base_model,
    is_adapter_dir,
    is_full_model_dir,
    read_json,
)
from finetune.records import SPLITS, Example, dataset_hash, read_split

if TYPE_CHECKING:
    from shopbot.settings import Settings

log = logging.getLogger(__name__)

EVALUATION_JSON = "evaluation.json"
EVALUATION_MD = "evaluation.md"
DEFAULT_SAMPLES = 3


def evaluate(
    model: str | Path | None,
    data: str | Path,
    adapter: str | Path | None = None,
    split: str = "test",
    *,
    max_new_tokens: int | None = None,
    batch_size: int = 16,
    limit: int | None = None,
    out: str | Path | None = None,
    device: str | None = None,
    samples: int = DEFAULT_SAMPLES,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Score ``model`` (and ``model`` + ``adapter``) on a dataset split; write
    ``evaluation.json`` and ``evaluation.md`` to ``out`` (default: the adapter folder, else
    the dataset folder) and return what was written to the JSON.

    ``model`` None means the one the adapter was trained on. ``max_new_tokens`` None means
    the bot's ``SHOPBOT_FLAN_T5_MAX_NEW_TOKENS``. Everything that can be checked without a
    model (split, adapter folder, base model) is checked before any model loads."""
    if settings is None:
        from shopbot.settings import get_settings

        settings = get_settings()
    data = Path(data)
    examples = read_split(data, split)
    if limit is not None:
        if limit < 1:
            raise ValueError(f"--limit must be at least 1, not {limit}")
        if limit >= len(examples):
            limit = None  # the whole split: nothing to note
        examples = examples[:limit]
    if not examples:
        raise ValueError(
            f"The {split} split of {data} is empty: rebuild the dataset with more data "
            "(`python -m finetune build-dataset`), or evaluate another --split."
        )
    adapter_dir = Path(adapter).expanduser().resolve() if adapter is not None else None
    if adapter_dir is not None:
        _check_tuned_dir(adapter_dir)
    model_name = _resolve_model(model, adapter_dir)
    max_new_tokens = max_new_tokens or settings.flan_t5_max_new_tokens
    if max_new_tokens < 1 or batch_size < 1:
        raise ValueError("--max-new-tokens and --batch-size must be at least 1")
    out_dir = Path(out) if out is not None else (adapter_dir or data)

    from finetune.modeling import load_model, load_tokenizer
    from shopbot.generators.flan_t5 import _resolve_device  # the bot's device rule

    run_device = _resolve_device(device or settings.flan_t5_device)
    tokenizer = load_tokenizer(model_name)
    inputs = [example.input for example in examples]

    rows: dict[str, dict[str, Any]] = {}
    predictions: dict[str, list[str]] = {}
    log.info("evaluate: %d %s examples with the base model %s", len(examples), split, model_name)
    base = load_model(model_name)
    rows["base"], predictions["base"] = _score(
        f"base ({_display(model_name)})", base, tokenizer, examples, inputs,
        max_new_tokens=max_new_tokens, batch_size=batch_size, device=run_device,
    )
    del base
    if adapter_dir is not None:
        log.info("evaluate: the same examples with %s", adapter_dir)
        tuned = _load_tuned(model_name, adapter_dir)
        label = f"tuned ({adapter_dir.name}{', full' if not is_adapter_dir(adapter_dir) else ''})"
        rows["tuned"], predictions["tuned"] = _score(
            label, tuned, tokenizer, examples, inputs,
            max_new_tokens=max_new_tokens, batch_size=batch_size, device=run_device,
        )
        del tuned

    result: dict[str, Any] = {
        "model": model_name,
        "adapter": str(adapter_dir) if adapter_dir else None,
        "data": str(data.resolve()),
        "split": split,
        "examples": len(examples),
        "dataset_hash": _hash_or_none(data),
        "max_new_tokens": max_new_tokens,
        "batch_size": batch_size,
        "device": str(run_device),
        "evaluated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "models": rows,
        "notes": _notes(adapter_dir, data, split, limit),
        "predictions": [
            {
                "id": example.id,
                "task": example.task,
                "question": example.question,
                "reference": example.answer,
                "facts": example.facts,
                **{name: answers[i] for name, answers in predictions.items()},
            }
            for i, example in enumerate(examples)
        ],
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / EVALUATION_JSON).write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out_dir / EVALUATION_MD).write_text(render_markdown(result, samples), encoding="utf-8")
    result["written"] = [str(out_dir / EVALUATION_JSON), str(out_dir / EVALUATION_MD)]
    return result


def _score(
    label: str,
    model: Any,
    tokenizer: Any,
    examples: Sequence[Example],
    inputs: Sequence[str],
    *,
    max_new_tokens: int,
    batch_size: int,
    device: Any,
) -> tuple[dict[str, Any], list[str]]:
    from finetune.metrics import fact_accuracy, rouge
    from finetune.modeling import generate

    model = model.to(device)
    started = time.perf_counter()
    answers = generate(
        model, tokenizer, inputs, max_new_tokens=max_new_tokens, batch_size=batch_size,
        device=device,
    )
    seconds = time.perf_counter() - started
    by_task: dict[str, list[int]] = defaultdict(list)
    for i, example in enumerate(examples):
        by_task[example.task].append(i)
    row = {
        "label": label,
        "examples": len(examples),
        **rouge(answers, [example.answer for example in examples]),
        "fact_accuracy": fact_accuracy(answers, [example.facts for example in examples]),
        "fact_checked": sum(1 for example in examples if example.facts),
        "fact_accuracy_by_task": {
            task: fact_accuracy([answers[i] for i in idx], [examples[i].facts for i in idx])
            for task, idx in sorted(by_task.items())
        },
        "examples_by_task": {task: len(idx) for task, idx in sorted(by_task.items())},
        "generation_s": round(seconds, 3),
        "ms_per_example": round(1000 * seconds / len(examples), 1),
    }
    return row, answers


def _check_tuned_dir(path: Path) -> None:
    if not path.is_dir():
        raise FileNotFoundError(
            f"The adapter folder {path} does not exist. `python -m finetune adapters` lists "
            "the trained ones."
        )
    if not is_adapter_dir(path) and not is_full_model_dir(path):
        raise ValueError(
            f"{path} is neither a LoRA adapter (no adapter_config.json) nor a fully "
            "fine-tuned model (no config.json + training_config.json). Pass a folder written "
            "by `python -m finetune train --out DIR`."
        )


def _resolve_model(model: str | Path | None, adapter_dir: Path | None) -> str:
    if model is not None and str(model).strip():
        local = Path(str(model)).expanduser()
        return str(local.resolve()) if local.exists() else str(model)
    if adapter_dir is not None:
        base = adapter_base_model(adapter_dir)
        if base:
            return base
        raise ValueError(
            f"{adapter_dir} does not say which model it was trained on (no base_model in "
            f"{TRAINING_CONFIG}, no base_model_name_or_path in adapter_config.json): pass "
            "--model."
        )
    raise ValueError(
        "Pass --model (a hub id or a model folder), or --adapter to use its base model."
    )


def _load_tuned(model_name: str, adapter_dir: Path) -> Any:
    if is_adapter_dir(adapter_dir):
        from finetune.adapters import load_adapter_model

        return load_adapter_model(model_name, adapter_dir)
    from finetune.modeling import load_model

    return load_model(adapter_dir)  # --full: the folder is the whole model


def _notes(adapter_dir: Path | None, data: Path, split: str, limit: int | None) -> list[str]:
    """What a reader of the scores should know: a train split, another dataset, a subset."""
    notes = []
    if split == "train":
        notes.append("The train split is what the adapter learned from: scores overstate quality.")
    if limit is not None:
        notes.append(f"Only the first {limit} examples of the split were evaluated.")
    if adapter_dir is not None:
        trained_on = read_json(adapter_dir / TRAINING_CONFIG).get("dataset_hash")
        current = _hash_or_none(data)
        if trained_on and current and trained_on != current:
            notes.append(
                "The adapter was trained on another dataset (dataset_hash differs): its "
                f"{split} examples may have been in that dataset's training split."
            )
    return notes


def _hash_or_none(data: Path) -> str | None:
    try:
        return dataset_hash(data)
    except OSError:
        return None


def _display(model_name: str) -> str:
    """A model for a table: a hub id as is, a folder by its name."""
    path = Path(model_name)
    return path.name if path.is_absolute() else model_name


# -- rendering -----------------------------------------------------------------------------


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def render_table(result: dict[str, Any]) -> str:
    """The markdown table of scores, one model a row."""
    lines = [
        "| model | examples | ROUGE-1 | ROUGE-2 | ROUGE-L | ROUGE-Lsum | fact accuracy |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["models"].values():
        lines.append(
            f"| {_cell(row['label'])} | {row['examples']} | {row['rouge1']:.4f} | "
            f"{row['rouge2']:.4f} | {row['rougeL']:.4f} | {row['rougeLsum']:.4f} | "
            f"{_percent(row['fact_accuracy'])} |"
        )
    return "\n".join(lines)


def render_details(result: dict[str, Any]) -> str:
    """Fact accuracy per task and generation time, one column per model."""
    rows = list(result["models"].values())
    names = [_cell(row["label"]) for row in rows]
    tasks = sorted({task for row in rows for task in row["fact_accuracy_by_task"]})
    lines = [
        "| task | examples | " + " | ".join(names) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in rows) + " |",
    ]
    for task in tasks:
        count = rows[0]["examples_by_task"].get(task, 0)
        cells = [_percent(row["fact_accuracy_by_task"].get(task)) for row in rows]
        lines.append(f"| {_cell(task)} | {count} | " + " | ".join(cells) + " |")
    lines.append(
        "| generation time | | "
        + " | ".join(
            f"{row['generation_s']:.1f} s ({row['ms_per_example']:.0f} ms/example)" for row in rows
        )
        + " |"
    )
    return "\n".join(lines)


def render_markdown(result: dict[str, Any], samples: int = DEFAULT_SAMPLES) -> str:
    adapter = Path(result["adapter"]).name if result.get("adapter") else None
    title = f"Evaluation of {adapter}" if adapter else f"Evaluation of {_display(result['model'])}"
    parts = [
        f"# {title}",
        f"Split `{result['split']}` of `{result['data']}`: {result['examples']} examples"
        + (f" (dataset {result['dataset_hash'][:12]})" if result.get("dataset_hash") else "")
        + f". Greedy decoding, at most {result['max_new_tokens']} new tokens, on "
        f"{result['device']}, {result['evaluated_at']}. ROUGE is the mean F-measure in [0, 1]; "
        "fact accuracy is the share of answers that contain every expected fact.",
        render_table(result),
        "Fact accuracy by task:",
        render_details(result),
    ]
    if result.get("notes"):
        parts.append("\n".join(f"- {note}" for note in result["notes"]))
    chosen = _pick_samples(result["predictions"], samples)
    if chosen:
        parts.append("## Example predictions")
        for item in chosen:
            lines = [
                f"**{_cell(item['question'])}** (`{item['task']}`)",
                "",
                f"- reference: {_cell(item['reference'])}",
            ]
            for name, row in result["models"].items():
                lines.append(f"- {_cell(row['label'])}: {_cell(item.get(name, '')) or '(empty)'}")
            parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _pick_samples(predictions: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """One example per task first (in dataset order), so the few shown cover the tasks."""
    chosen: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in predictions:
        if len(chosen) < count and item["task"] not in seen:
            chosen.append(item)
            seen.add(item["task"])
    for item in predictions:
        if len(chosen) >= count:
            break
        if item not in chosen:
            chosen.append(item)
    return chosen


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell or list item: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


# -- CLI -----------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", default=None,
        help="base model: hub id or folder (default: the one the adapter was trained on)",
    )
    parser.add_argument(
        "--adapter", type=Path, default=None,
        help="adapter folder (or --full model folder) from `finetune train`; without it only "
        "the base model is scored",
    )
    parser.add_argument("--data", type=Path, required=True, help="dataset folder (build-dataset)")
    parser.add_argument("--split", choices=SPLITS, default="test")
    parser.add_argument(
        "--max-new-tokens", type=int, default=None,
        help="longest answer in tokens (default: SHOPBOT_FLAN_T5_MAX_NEW_TOKENS, as the bot)",
    )
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--limit", type=int, default=None, help="only the first N examples")
    parser.add_argument(
        "--out", type=Path, default=None,
        help="where to write evaluation.json/.md (default: the adapter folder, else --data)",
    )
    parser.add_argument(
        "--device", default=None,
        help="cpu, cuda, cuda:N (default: SHOPBOT_FLAN_T5_DEVICE, else the GPU if any)",
    )
    parser.add_argument(
        "--samples", type=int, default=DEFAULT_SAMPLES,
        help="example predictions shown in evaluation.md",
    )
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")


def run(args: argparse.Namespace) -> int:
    result = evaluate(
        args.model,
        args.data,
        args.adapter,
        args.split,
        max_new_tokens=args.max_new_tokens,
        batch_size=args.batch_size,
        limit=args.limit,
        out=args.out,
        device=args.device,
        samples=args.samples,
    )
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    print(render_table(result))
    print()
    print(render_details(result))
    for note in result["notes"]:
        print(f"note: {note}")
    print(f"\nWrote {' and '.join(result['written'])}.")
    return 0
