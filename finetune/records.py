"""The fine-tuning dataset on disk: one folder with ``train.jsonl``, ``val.jsonl``,
``test.jsonl`` and ``dataset.json`` (how it was built, counts, length statistics, hash).

Each line is one :class:`Example`. ``input`` is the exact prompt the flan-t5 generator builds
at inference for ``question`` and ``sources`` (:func:`shopbot.generators.flan_t5.build_prompt`
with the tokenizer named in ``dataset.json``); training reads ``input`` -> ``answer``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SPLITS = ("train", "val", "test")
META_FILE = "dataset.json"


@dataclass
class Example:
    id: str
    origin: str  # "catalog", "feedback" or "teacher"
    group: str  # what the split is keyed on: "product:<sku>", "doc:<doc_id>", "chat:<id>"
    task: str  # "price", "stock", "brand", "category", "attribute", "policy", "chat", ...
    question: str
    answer: str
    input: str  # the prompt, built by the generator's own prompt builder
    facts: list[str] = field(default_factory=list)  # strings a right answer must contain
    sources: list[dict[str, Any]] = field(default_factory=list)  # Source.to_dict(with_text=True)
    input_tokens: int = 0
    truncated: bool = False  # not every retrieved source fitted in full

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Example:
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def split_path(directory: Path | str, split: str) -> Path:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; one of {', '.join(SPLITS)}")
    return Path(directory) / f"{split}.jsonl"


def write_split(directory: Path | str, split: str, examples: Iterable[Example]) -> int:
    path = split_path(directory, split)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(example.to_json() + "\n")
            count += 1
    return count


def read_split(directory: Path | str, split: str) -> list[Example]:
    """The examples of one split; a clear error when the folder is not a dataset."""
    path = split_path(directory, split)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist: {directory} is not a dataset folder. Build one with "
            "`python -m finetune build-dataset --out DIR`."
        )
    examples = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                examples.append(Example.from_dict(json.loads(line)))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{path}:{number} is not a dataset record ({exc})") from None
    return examples


def iter_all(directory: Path | str) -> Iterator[tuple[str, Example]]:
    for split in SPLITS:
        for example in read_split(directory, split):
            yield split, example


def dataset_hash(directory: Path | str) -> str:
    """sha256 over the three split files: names the exact data an adapter was trained on."""
    digest = hashlib.sha256()
    for split in SPLITS:
        digest.update(split.encode())
        digest.update(split_path(directory, split).read_bytes())
    return digest.hexdigest()


def read_meta(directory: Path | str) -> dict[str, Any]:
    path = Path(directory) / META_FILE
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}


def write_meta(directory: Path | str, meta: dict[str, Any]) -> None:
    path = Path(directory) / META_FILE
    path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
