"""Serving fine-tuned adapters: ``python -m finetune adapters | activate | deactivate`` and
the bot's flan-t5 generator following the activation, with real transformers and peft on
tiny T5 models built by the tests (``tiny_t5_dir`` never emits ``</s>``, so every answer is
exactly ``flan_t5_max_new_tokens`` long and outputs compare exactly)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from finetune.adapters import (
    activate,
    deactivate,
    list_adapters,
    resolve_adapter,
)
from finetune.cli import main
from shopbot.adapters import activation_version, active_file, read_active
from shopbot.generators import create_generator
from shopbot.generators.flan_t5 import FlanT5Generator
from shopbot.generators.registry import resolve_name
from shopbot.retrieval import Source
from tests.conftest import make_settings
from tests.test_finetune_evaluate import resized_t5, write_training_files
from tests.tiny_t5 import build_tiny_lora_adapter

pytestmark = [
    pytest.mark.usefixtures("one_torch_thread"),
    pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated"),
    # what the depth misfit makes peft say; activate turns it into an error of its own
    pytest.mark.filterwarnings("ignore:Found missing adapter keys"),
]

QUESTION = "How much is the Alpine 2 Tent?"
SOURCES = [
    Source(id="RL-TNT-001", title="Alpine 2 Tent", price=349.0, currency="USD",
           category="Tents", brand="Ridgeline", url="https://ridgeline-outfitters.example/a2",
           source="products.csv", snippet="", score=1.0, stock=18,
           text="A freestanding two-door backpacking tent; packed weight 1650 g."),
]
NEW_TOKENS = 8
ADAPTERS = ("alpha", "beta")


def peft_answer(base_dir: Path, adapter: Path | None, prompt: str) -> str:
    """What plain transformers + peft generate for ``prompt``: the reference for the bot."""
    from finetune.modeling import generate, load_model, load_tokenizer

    model = load_model(base_dir, adapter)
    return generate(model, load_tokenizer(base_dir), [prompt], max_new_tokens=NEW_TOKENS)[0]


def answer(generator: FlanT5Generator) -> str:
    return "".join(generator.generate(QUESTION, [], SOURCES))




@pytest.fixture(scope="module")
def built(tiny_t5_dir, tmp_path_factory) -> dict[str, Path]:
    """Adapters as ``finetune train`` leaves them: ``alpha`` (trained and evaluated),
    ``beta`` (trained, not evaluated), plus the misfits the errors are about."""
    root = tmp_path_factory.mktemp("adapters")
    alpha = build_tiny_lora_adapter(tiny_t5_dir, root / "alpha", seed=11)
    write_training_files(alpha, tiny_t5_dir, val_loss=1.25, rouge_l=0.41, trainable=2048,
                         total=300_000)
    (alpha / "evaluation.json").write_text(json.dumps({
        "models": {"base": {"label": "base", "rougeL": 0.05, "fact_accuracy": 0.0},
                   "tuned": {"label": "tuned (alpha)", "rougeL": 0.38, "fact_accuracy": 0.5}},
    }))
    beta = build_tiny_lora_adapter(tiny_t5_dir, root / "beta", seed=22)
    write_training_files(beta, tiny_t5_dir, val_loss=0.9, rouge_l=0.47)
    (beta / "checkpoints" / "last").mkdir(parents=True)  # resume state: not counted as size
    (beta / "checkpoints" / "last" / "optimizer.bin").write_bytes(b"\0" * 100_000)

    # Trained on T5s of another width / depth, but labelled as trained on tiny_t5_dir.
    misfits = {}
    for kind, shape in {"width": {"d_model": 32, "d_kv": 8},
                        "depth": {"num_layers": 1, "num_decoder_layers": 1}}.items():
        other = resized_t5(tiny_t5_dir, root / f"t5-{kind}", **shape)
        misfits[kind] = build_tiny_lora_adapter(other, root / f"misfit-{kind}", seed=33)
        write_training_files(misfits[kind], tiny_t5_dir)
    return {"alpha": alpha, "beta": beta, **{f"misfit-{k}": v for k, v in misfits.items()}}


@pytest.fixture
def data_dir(built, tmp_path) -> Path:
    """A data dir whose adapters folder holds alpha and beta; nothing active."""
    data = tmp_path / "data"
    for name in ("alpha", "beta"):
        shutil.copytree(built[name], data / "finetune" / "adapters" / name)
    return data


@pytest.fixture
def cli(monkeypatch, capsys):
    """``python -m finetune ...`` in this process with the given settings: (code, out, err)."""

    def run(settings, *args: str) -> tuple[int, str, str]:
        monkeypatch.setattr("shopbot.settings.get_settings", lambda: settings)
        capsys.readouterr()  # what the test printed before (e.g. model loading progress)
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


# -- listing -------------------------------------------------------------------------------


def test_adapters_lists_each_with_its_metrics_and_marks_the_active_one(
    data_dir, tiny_t5_dir, built, cli
):
    settings = make_settings(data_dir=data_dir)
    activate(settings, "alpha")
    infos = {info.name: info for info in list_adapters(settings)}
    assert set(infos) == {"alpha", "beta"}
    alpha, beta = infos["alpha"], infos["beta"]
    assert alpha.active and not beta.active
    assert alpha.path == (data_dir / "finetune" / "adapters" / "alpha").resolve()
    assert alpha.base_model == beta.base_model == str(tiny_t5_dir)
    assert alpha.mode == "lora" and alpha.trainable_pct == pytest.approx(0.6827, abs=1e-4)
    assert (alpha.best_val_loss, alpha.val_rouge_l) == (1.25, 0.41)
    assert (alpha.test_rouge_l, alpha.base_test_rouge_l) == (0.38, 0.05)
    assert alpha.test_fact_accuracy == 0.5
    assert alpha.rouge_l == 0.38  # the test split's, when evaluated
    assert (beta.best_val_loss, beta.rouge_l, beta.test_rouge_l) == (0.9, 0.47, None)
    files = [f for f in alpha.path.iterdir() if f.is_file()]
    assert alpha.size_bytes == sum(f.stat().st_size for f in files)
    assert beta.size_bytes < 100_000  # the resume checkpoint is not the adapter
    assert alpha.created and beta.created

    code, out, _ = cli(settings, "adapters")
    assert code == 0
    rows = {name: next(line for line in out.splitlines() if name in line.split()[:2])
            for name in ("alpha", "beta")}
    assert rows["alpha"].startswith("*") and not rows["beta"].startswith("*")
    assert "0.380 test (base 0.050)" in rows["alpha"] and "1.2500" in rows["alpha"]
    assert "0.470 val" in rows["beta"] and "0.9000" in rows["beta"]
    assert "active: the bot's flan-t5 serves alpha" in out

    # --dir adds a folder outside the data dir; --json is the same data for scripts.
    code, out, _ = cli(settings, "adapters", "--json", "--dir", str(built["misfit-width"]))
    listed = {item["name"]: item for item in json.loads(out)}
    assert set(listed) == {"alpha", "beta", "misfit-width"}
    assert listed["alpha"]["active"] and listed["alpha"]["rouge_l"] == 0.38


def test_no_adapters_says_how_to_train_one(tmp_path, cli):
    code, out, _ = cli(make_settings(data_dir=tmp_path / "data"), "adapters")
    assert code == 0 and "No adapters" in out and "finetune train" in out


def test_resolve_adapter_takes_a_name_or_a_folder(data_dir, built):
    settings = make_settings(data_dir=data_dir)
    beta = (data_dir / "finetune" / "adapters" / "beta").resolve()
    assert resolve_adapter(settings, "beta") == beta
    assert resolve_adapter(settings, str(built["alpha"])) == built["alpha"].resolve()


# -- serving -------------------------------------------------------------------------------


def test_with_auto_an_activation_makes_the_bot_answer_with_the_adapter(
    data_dir, tiny_t5_dir, monkeypatch, cli
):
    from peft import PeftModel

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    settings = make_settings(data_dir=data_dir, flan_t5_max_new_tokens=NEW_TOKENS)  # auto
    assert resolve_name(settings) == "extractive"  # no key, no flan-t5 model, nothing active
    before = activation_version(settings)

    code, out, _ = cli(settings, "activate", "alpha")
    assert code == 0
    assert out.startswith("Activated alpha:") and "next answer" in out
    assert read_active(settings).adapter == (data_dir / "finetune" / "adapters" / "alpha").resolve()
    assert activation_version(settings) != before
    assert resolve_name(settings) == "flan-t5"

    generator = create_generator(settings)
    assert isinstance(generator, FlanT5Generator)
    served = answer(generator)
    assert isinstance(generator.model, PeftModel)
    prompt = generator.build_prompt(QUESTION, SOURCES)
    assert served == peft_answer(tiny_t5_dir, data_dir / "finetune/adapters/alpha", prompt)
    assert served != peft_answer(tiny_t5_dir, None, prompt)


def test_a_loaded_generator_follows_activations_on_its_next_answer(data_dir, tiny_t5_dir):
    from peft import PeftModel

    settings = make_settings(data_dir=data_dir, generator="flan-t5",
                             flan_t5_model=str(tiny_t5_dir), flan_t5_max_new_tokens=NEW_TOKENS)
    generator = create_generator(settings)
    base = answer(generator)
    prompt = generator.build_prompt(QUESTION, SOURCES)
    adapters = data_dir / "finetune" / "adapters"
    expected = {name: peft_answer(tiny_t5_dir, adapters / name, prompt) for name in ADAPTERS}
    assert len({base, *expected.values()}) == 3  # three different models, three answers

    activate(settings, "alpha")
    assert answer(generator) == expected["alpha"]
    activate(settings, "beta")  # the generator already holds alpha: it switches
    assert answer(generator) == expected["beta"]
    assert generator.loaded_choice.adapter == (adapters / "beta").resolve()

    activate(settings, "beta", merge=True)
    assert answer(generator) == expected["beta"]  # merged weights, same greedy answer
    assert not isinstance(generator.model, PeftModel)
    assert generator.loaded_choice.merge

    assert deactivate(settings)
    assert answer(generator) == base
    assert generator.loaded_choice.adapter is None
    assert not deactivate(settings)  # nothing left to deactivate


def test_activate_merge_serves_the_same_answers_as_the_adapter(data_dir, tiny_t5_dir, cli):
    settings = make_settings(data_dir=data_dir, generator="flan-t5",
                             flan_t5_max_new_tokens=NEW_TOKENS)
    code, out, _ = cli(settings, "activate", "alpha", "--merge")
    assert code == 0 and "Activated alpha (merged)" in out
    assert read_active(settings).merge
    merged = create_generator(settings)
    merged_answer = answer(merged)
    assert type(merged.model).__name__ == "T5ForConditionalGeneration"

    prompt = merged.build_prompt(QUESTION, SOURCES)
    assert merged_answer == peft_answer(tiny_t5_dir, data_dir / "finetune/adapters/alpha", prompt)


def test_deactivate_from_the_cli(data_dir, cli):
    settings = make_settings(data_dir=data_dir, generator="flan-t5")
    activate(settings, "beta")
    code, out, _ = cli(settings, "deactivate")
    assert code == 0 and out.startswith("Deactivated beta")
    assert read_active(settings) is None and not active_file(settings).exists()
    code, out, _ = cli(settings, "deactivate")
    assert code == 0 and "No adapter was active" in out


def test_an_adapter_setting_wins_and_activate_says_so(data_dir, built, cli):
    settings = make_settings(data_dir=data_dir, generator="extractive",
                             flan_t5_adapter=built["beta"])
    code, _, err = cli(settings, "activate", "alpha")
    assert code == 0
    assert "SHOPBOT_FLAN_T5_ADAPTER" in err and "wins over the activation" in err
    assert "answers with extractive" in err


# -- refusals ------------------------------------------------------------------------------


def _full_model(tiny_t5_dir: Path, tmp_path: Path) -> Path:
    full = shutil.copytree(tiny_t5_dir, tmp_path / "full-run")
    write_training_files(full, tiny_t5_dir, mode="full")
    return full


def _no_base(built: dict[str, Path], tmp_path: Path) -> Path:
    adapter = shutil.copytree(built["alpha"], tmp_path / "orphan")
    (adapter / "training_config.json").unlink()
    config = json.loads((adapter / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = str(tmp_path / "deleted-model")
    (adapter / "adapter_config.json").write_text(json.dumps(config))
    return adapter


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("not-an-adapter", "is not a LoRA adapter folder: it has no adapter_config.json"),
        ("unknown-name", "No adapter 'gamma'"),
        ("misfit-width", "does not fit the base model"),
        ("misfit-depth", "layers the model has that the adapter lacks"),
        ("base-model-gone", "Cannot load the model"),
        ("full-model", "serve it as the model itself with SHOPBOT_FLAN_T5_MODEL="),
    ],
)
def test_bad_activations_are_refused_and_leave_the_active_adapter(
    case, message, data_dir, built, tiny_t5_dir, tmp_path, cli
):
    settings = make_settings(data_dir=data_dir, generator="flan-t5")
    activate(settings, "alpha")
    recorded = active_file(settings).read_bytes()
    if case == "not-an-adapter":
        (tmp_path / "notes").mkdir()
        (tmp_path / "notes" / "adapter_model.safetensors").write_bytes(b"")
        target = str(tmp_path / "notes")
    elif case == "unknown-name":
        target = "gamma"
    elif case.startswith("misfit"):
        target = str(built[case])
    elif case == "base-model-gone":
        target = str(_no_base(built, tmp_path))
    else:
        target = str(_full_model(tiny_t5_dir, tmp_path))

    code, out, err = cli(settings, "activate", target)
    assert code == 1 and not out
    error = err.strip().splitlines()[-1]  # after any model-loading progress bar
    assert error.startswith("error: ") and message in error
    if case == "unknown-name":
        assert "alpha, beta" in err or "beta, alpha" in err
    if case.startswith("misfit"):
        assert "trained on another model" in err
    assert active_file(settings).read_bytes() == recorded
