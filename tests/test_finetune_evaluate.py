"""``python -m finetune evaluate``: base model vs tuned adapter on a dataset split, with real
transformers / peft / rouge-score on a tiny T5 built here (no download).

The dataset is a handful of catalog facts (prices and brands from ``catalog.catalog_data``)
whose prompts come from the bot's own prompt builder; the adapter is trained here, briefly,
with a plain PEFT loop (the ``finetune train`` command is tested elsewhere), on those very
examples, so the test split is its training data. That is no claim about quality: it gives
the comparison a known winner (the adapter has learnt the answers' wording, the random base
model has not), so a swapped or mis-scored row fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from catalog.catalog_data import PRODUCTS, fmt_price
from finetune.cli import main
from finetune.evaluate import evaluate
from finetune.metrics import fact_accuracy, rouge
from finetune.records import Example, dataset_hash, read_split, write_meta, write_split
from shopbot.retrieval import Source
from tests.conftest import ROOT, make_settings
from tests.finetune_data import make_trainable_t5

# peft 0.21 calls an API that transformers 5.23 deprecated; not ours to fix.
pytestmark = [
    pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated"),
    pytest.mark.usefixtures("one_torch_thread"),
]

MAX_NEW_TOKENS = 16
ROUGE_KEYS = ("rouge1", "rouge2", "rougeL", "rougeLsum")
TABLE_HEADER = "| model | examples | ROUGE-1 | ROUGE-2 | ROUGE-L | ROUGE-Lsum | fact accuracy |"


def catalog_products(count: int) -> list[dict]:
    """The first product of ``count`` different categories."""
    chosen, seen = [], set()
    for product in PRODUCTS:
        if product["category"] not in seen and product["brand"]:
            chosen.append(product)
            seen.add(product["category"])
    return chosen[:count]


def product_source(product: dict) -> Source:
    return Source(
        id=product["sku"], title=product["title"], price=product["price"], currency="USD",
        category=product["category"], brand=product["brand"], url=product["url"],
        source=product["file"], snippet="", score=1.0, stock=product["stock"],
    )


def shop_examples(tokenizer, products: list[dict]) -> list[Example]:
    """A price and a brand question per product, prompts built exactly as the bot does."""
    from shopbot.generators.flan_t5 import build_prompt

    examples = []
    for product in products:
        source = product_source(product)
        for task, question, answer, fact in (
            ("price", f"How much is the {product['title']}?",
             f"The {product['title']} costs {fmt_price(product['price'])}.",
             fmt_price(product["price"])),
            ("brand", f"Who makes the {product['title']}?",
             f"The {product['title']} is made by {product['brand']}.", product["brand"]),
        ):
            examples.append(Example(
                id=f"{product['sku']}-{task}", origin="catalog", group=f"product:{product['sku']}",
                task=task, question=question, answer=answer,
                input=build_prompt(tokenizer, question, [source]), facts=[fact],
                sources=[source.to_dict(with_text=True)],
            ))
    return examples


def write_dataset(directory: Path, examples: list[Example], model: Path) -> Path:
    for split in ("train", "val", "test"):
        write_split(directory, split, examples)
    write_meta(directory, {"tokenizer": str(model), "counts": {"test": len(examples)}})
    return directory


def train_tiny_lora(
    base_dir: Path, dataset: Path, out: Path, split: str = "train", steps: int = 30
) -> Path:
    """A LoRA adapter fitted to ``examples`` with a plain loop, saved the way ``finetune
    train`` saves one (PEFT files, tokenizer, training_config.json, metrics.json)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    examples = read_split(dataset, split)
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    model = AutoModelForSeq2SeqLM.from_pretrained(str(base_dir))
    lora = {"r": 8, "alpha": 16, "dropout": 0.0,
            "target_modules": ["q", "k", "v", "o", "wi_0", "wi_1", "wo"]}
    model = get_peft_model(model, LoraConfig(
        r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"],
        target_modules=lora["target_modules"], task_type="SEQ_2_SEQ_LM",
    ))
    batch = tokenizer([e.input for e in examples], return_tensors="pt", padding=True)
    labels = tokenizer([e.answer for e in examples], return_tensors="pt", padding=True).input_ids
    labels[labels == tokenizer.pad_token_id] = -100
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.train()
    for _ in range(steps):
        loss = model(**batch, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    trainable, total = model.get_nb_trainable_parameters()
    write_training_files(out, base_dir, mode="lora", lora=lora, trainable=trainable, total=total,
                         val_loss=loss.item(), rouge_l=0.5, dataset=dataset)
    return out


def write_training_files(
    out: Path, base_dir: Path, *, mode: str = "lora", lora: dict | None = None,
    trainable: int = 1000, total: int = 100_000, val_loss: float = 1.25, rouge_l: float = 0.5,
    dataset: Path | None = None,
) -> None:
    """training_config.json, metrics.jsonl and metrics.json as the training contract says."""
    config = {
        "base_model": str(base_dir), "dataset": str(dataset) if dataset else None,
        "dataset_hash": dataset_hash(dataset) if dataset else None, "mode": mode,
        "lora": lora or {}, "epochs": 1, "seed": 0,
        "trainable_parameters": trainable, "total_parameters": total,
        "trainable_pct": round(100 * trainable / total, 4), "world_size": 1,
    }
    (out / "training_config.json").write_text(json.dumps(config, indent=2))
    epoch = {"event": "epoch", "epoch": 1, "step": 10, "val_loss": val_loss, "rouge1": rouge_l,
             "rouge2": rouge_l / 2, "rougeL": rouge_l, "rougeLsum": rouge_l, "best": True}
    (out / "metrics.jsonl").write_text(
        "\n".join(json.dumps(e) for e in (
            {"event": "start", "total_steps": 10, "epochs": 1}, epoch,
            {"event": "done", "status": "finished", "best_val_loss": val_loss},
        )) + "\n"
    )
    (out / "metrics.json").write_text(json.dumps(
        {"best_epoch": 1, "best_val_loss": val_loss, "rouge1": rouge_l, "rouge2": rouge_l / 2,
         "rougeL": rouge_l, "rougeLsum": rouge_l, "train_seconds": 1.0, "steps": 10}
    ))




@pytest.fixture(scope="module")
def trainable_t5(tmp_path_factory) -> Path:
    """Training on a model that can stop makes answers the right length."""
    return make_trainable_t5(tmp_path_factory.mktemp("evaluate") / "base")


def resized_t5(base_dir: Path, out: Path, **shape) -> Path:
    """Another T5 with ``base_dir``'s tokenizer but another shape (e.g. ``d_model=32``): an
    adapter trained on one does not fit the other."""
    import shutil

    from transformers import T5Config, T5ForConditionalGeneration

    config = T5Config.from_pretrained(str(base_dir))
    for key, value in shape.items():
        setattr(config, key, value)
    T5ForConditionalGeneration(config).save_pretrained(out)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (base_dir / name).exists():
            shutil.copy(base_dir / name, out / name)
    return out


@pytest.fixture(scope="module")
def dataset_dir(trainable_t5, tmp_path_factory) -> Path:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(trainable_t5))
    examples = shop_examples(tokenizer, catalog_products(3))
    return write_dataset(tmp_path_factory.mktemp("evaluate") / "dataset", examples, trainable_t5)


@pytest.fixture(scope="module")
def adapter_dir(trainable_t5, dataset_dir, tmp_path_factory) -> Path:
    return train_tiny_lora(
        trainable_t5, dataset_dir, tmp_path_factory.mktemp("evaluate") / "adapters" / "shop-lora"
    )


@pytest.fixture(scope="module")
def evaluated(adapter_dir, dataset_dir) -> dict:
    """One evaluation with the defaults (model from the adapter, output to the adapter)."""
    return evaluate(None, dataset_dir, adapter_dir, max_new_tokens=MAX_NEW_TOKENS,
                    settings=make_settings())


# -- the numbers ---------------------------------------------------------------------------


def test_the_dataset_references_pass_their_own_checks(dataset_dir):
    examples = read_split(dataset_dir, "test")
    references = [e.answer for e in examples]
    assert fact_accuracy(references, [e.facts for e in examples]) == 1.0
    assert rouge(references, references) == dict.fromkeys(ROUGE_KEYS, 1.0)


def test_evaluate_scores_base_and_tuned_side_by_side(evaluated, dataset_dir, trainable_t5):
    examples = read_split(dataset_dir, "test")
    assert evaluated["model"] == str(trainable_t5)  # taken from training_config.json
    assert evaluated["examples"] == len(examples) == 6
    assert evaluated["notes"] == []  # trained on this dataset, evaluated on its test split
    base, tuned = evaluated["models"]["base"], evaluated["models"]["tuned"]
    assert base["label"] == f"base ({trainable_t5.name})"
    assert tuned["label"] == "tuned (shop-lora)"
    for row in (base, tuned):
        assert row["examples"] == len(examples)
        for key in ROUGE_KEYS:
            assert 0.0 <= row[key] <= 1.0
        assert row["fact_checked"] == 6
        assert set(row["fact_accuracy_by_task"]) == {"price", "brand"}
        assert row["examples_by_task"] == {"brand": 3, "price": 3}
        assert row["generation_s"] > 0

    # The scores are those of the predictions stored beside them...
    predictions = evaluated["predictions"]
    assert [p["id"] for p in predictions] == [e.id for e in examples]
    references = [e.answer for e in examples]
    for name, row in evaluated["models"].items():
        answers = [p[name] for p in predictions]
        assert {k: row[k] for k in ROUGE_KEYS} == rouge(answers, references)
        assert row["fact_accuracy"] == fact_accuracy(answers, [e.facts for e in examples])
    # ...and the adapter, fitted to these answers, beats the untrained model it sits on.
    assert [p["base"] for p in predictions] != [p["tuned"] for p in predictions]
    # (A few steps teach it the answers' wording, not yet every price: ROUGE shows it.)
    assert tuned["rougeL"] > base["rougeL"] + 0.2
    assert tuned["fact_accuracy"] >= base["fact_accuracy"]


def test_evaluate_writes_json_and_markdown_to_the_adapter(evaluated, adapter_dir):
    saved = json.loads((adapter_dir / "evaluation.json").read_text())
    assert saved["models"] == evaluated["models"]
    assert len(saved["predictions"]) == 6

    markdown = (adapter_dir / "evaluation.md").read_text()
    assert TABLE_HEADER in markdown
    rows = [line for line in markdown.splitlines() if line.startswith(("| base (", "| tuned ("))]
    assert len(rows) == 2
    base_row, tuned_row = rows
    assert base_row.split("|")[2].strip() == tuned_row.split("|")[2].strip() == "6"
    assert f"{evaluated['models']['tuned']['rougeL']:.4f}" in tuned_row
    assert base_row.split("|")[3:] != tuned_row.split("|")[3:]
    assert "Example predictions" in markdown
    first = evaluated["predictions"][0]
    assert f"reference: {first['reference']}" in markdown


def test_the_cli_prints_the_table(adapter_dir, dataset_dir, tmp_path):
    out = tmp_path / "report"
    result = subprocess.run(
        [sys.executable, "-m", "finetune", "evaluate", "--adapter", str(adapter_dir),
         "--data", str(dataset_dir), "--max-new-tokens", str(MAX_NEW_TOKENS), "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "SHOPBOT_FLAN_T5_DEVICE": "cpu",
             "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert TABLE_HEADER in lines
    assert any(line.startswith("| base (") and "| 6 |" in line for line in lines)
    assert any(line.startswith("| tuned (shop-lora) | 6 |") for line in lines)
    assert any(line.startswith("| price | 3 |") for line in lines)  # per-task fact accuracy
    assert (out / "evaluation.json").is_file() and (out / "evaluation.md").is_file()
    assert str(out / "evaluation.md") in result.stdout


def test_json_output_a_limit_and_the_base_model_alone(
    dataset_dir, trainable_t5, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr("shopbot.settings.get_settings", lambda: make_settings())
    assert main(["evaluate", "--model", str(trainable_t5), "--data", str(dataset_dir),
                 "--limit", "3", "--max-new-tokens", "4", "--out", str(tmp_path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["examples"] == 3 and list(printed["models"]) == ["base"]
    assert printed["adapter"] is None
    assert any("first 3 examples" in note for note in printed["notes"])
    assert json.loads((tmp_path / "evaluation.json").read_text())["examples"] == 3


# -- what goes wrong -----------------------------------------------------------------------


def run_cli(capsys, *args: str) -> tuple[int, str]:
    code = main(["evaluate", *args])
    return code, capsys.readouterr().err


@pytest.fixture
def cli_settings(monkeypatch):
    monkeypatch.setattr("shopbot.settings.get_settings", lambda: make_settings())


def test_a_missing_split_is_an_error_that_says_how_to_build_one(
    cli_settings, adapter_dir, tmp_path, capsys
):
    (tmp_path / "half").mkdir()
    write_split(tmp_path / "half", "train", [])
    code, err = run_cli(capsys, "--adapter", str(adapter_dir), "--data", str(tmp_path / "half"))
    assert code == 1
    assert err.startswith("error: ") and "test.jsonl does not exist" in err
    assert "build-dataset" in err


def test_a_folder_that_is_not_an_adapter_is_refused(cli_settings, dataset_dir, tmp_path, capsys):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("hello")
    code, err = run_cli(capsys, "--adapter", str(tmp_path / "notes"), "--data", str(dataset_dir))
    assert code == 1 and "neither a LoRA adapter" in err
    assert not (tmp_path / "notes" / "evaluation.json").exists()


def test_an_adapter_for_another_base_model_is_refused(
    cli_settings, adapter_dir, dataset_dir, trainable_t5, tmp_path, capsys
):
    narrow = resized_t5(trainable_t5, tmp_path / "narrow-t5", d_model=32, d_kv=8)
    code, err = run_cli(capsys, "--model", str(narrow), "--adapter", str(adapter_dir),
                        "--data", str(dataset_dir), "--max-new-tokens", "2",
                        "--out", str(tmp_path))
    assert code == 1
    assert "does not fit the base model" in err and "trained on another model" in err
    assert not (tmp_path / "evaluation.json").exists()


def test_no_model_and_no_adapter_asks_for_one(cli_settings, dataset_dir, capsys):
    code, err = run_cli(capsys, "--data", str(dataset_dir))
    assert code == 1 and "Pass --model" in err
