"""``python -m finetune train``: the accelerate LoRA loop on a trainable tiny T5 and a small
dataset of real catalog questions (tests/finetune_data.py).

What a developer relies on: training lowers the validation loss; the adapter in OUT gives the
bot exactly the model that was trained; --resume continues a stopped run to the same result
as an uninterrupted one; two processes report the metrics one process computes; --full trains
every weight; bad input ends with a message, not a traceback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from finetune.records import dataset_hash, read_split, split_path
from tests.conftest import ROOT, free_port, make_settings
from tests.finetune_data import make_trainable_t5, write_dataset

EVAL_TOKENS = 12  # generated tokens for validation ROUGE: enough to show words, quick on CPU
STEPS_PER_EPOCH = 8  # 60 training examples in batches of 8


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory) -> Path:
    """A trainable tiny T5 (it can stop: no never_stop), saved like a hub checkpoint."""
    return make_trainable_t5(tmp_path_factory.mktemp("ft-base") / "model")


@pytest.fixture(scope="module")
def data_dir(base_dir, tmp_path_factory) -> Path:
    from finetune.modeling import load_tokenizer

    # 15 validation examples in batches of 4 do not split evenly over two processes.
    return write_dataset(tmp_path_factory.mktemp("ft-data") / "shop", load_tokenizer(base_dir),
                         train=60, val=15, test=6)


def make_config(base_dir: Path, data_dir: Path, out: Path, **overrides):
    from finetune.train import TrainConfig

    settings = dict(
        model=str(base_dir), data=data_dir, out=out, epochs=1, batch_size=8, eval_batch_size=4,
        lr=1e-2, lora_r=4, lora_alpha=8, eval_max_new_tokens=EVAL_TOKENS, log_every=3,
        warmup_ratio=0.1, progress=False,
    )
    settings.update(overrides)
    return TrainConfig(**settings)


def read_events(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def without_clock(event: dict) -> dict:
    return {k: v for k, v in event.items() if k not in ("time", "elapsed_s", "eta_s", "eval_s")}


def same_numbers(got: dict, want: dict, rel: float = 1e-5) -> bool:
    """Equal events, floats compared with a relative tolerance."""
    if got.keys() != want.keys():
        return False
    return all(
        got[k] == pytest.approx(v, rel=rel) if isinstance(v, float) else got[k] == v
        for k, v in want.items()
    )


def load_adapter(base_dir: Path, adapter: Path):
    from peft import PeftModel
    from transformers import AutoModelForSeq2SeqLM

    model = PeftModel.from_pretrained(AutoModelForSeq2SeqLM.from_pretrained(str(base_dir)), str(adapter))
    return model.eval()


def adapter_tensors(out: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(out / "adapter_model.safetensors"))


@pytest.fixture(scope="module")
def lora_run(base_dir, data_dir, tmp_path_factory):
    """One epoch of LoRA, in this process (the in-memory model is kept for comparison)."""
    from finetune.train import run_training

    out = tmp_path_factory.mktemp("ft-lora") / "adapter"
    return out, run_training(make_config(base_dir, data_dir, out))


@pytest.fixture(scope="module")
def full_run(base_dir, data_dir, tmp_path_factory):
    """Two epochs of full fine-tuning: the --full test, and a base that already answers in
    words for the two-process test (whose ROUGE should compare real text)."""
    from finetune.train import run_training

    out = tmp_path_factory.mktemp("ft-full") / "model"
    return out, run_training(make_config(base_dir, data_dir, out, full=True, epochs=2, patience=0))


def test_one_epoch_of_lora_lowers_validation_loss_and_writes_the_run(lora_run, base_dir, data_dir):
    from transformers import AutoModelForSeq2SeqLM

    from finetune.modeling import load_tokenizer
    from finetune.train import evaluate_examples

    out, result = lora_run
    events = read_events(out)
    start, epoch, done = events[0], next(e for e in events if e["event"] == "epoch"), events[-1]
    assert start["event"] == "start" and done["event"] == "done"
    assert done["status"] == "finished" and result.metrics["status"] == "finished"

    # The untrained model's loss in the start event is the one evaluate_examples computes.
    base = AutoModelForSeq2SeqLM.from_pretrained(str(base_dir))
    untrained = evaluate_examples(base, load_tokenizer(base_dir), read_split(data_dir, "val"),
                                  batch_size=4, generate=False)
    assert untrained["val_loss"] == pytest.approx(start["base_val_loss"], abs=1e-5)
    assert epoch["val_loss"] < 0.8 * start["base_val_loss"]
    assert result.metrics["val_loss"] == epoch["val_loss"]
    assert set(epoch) >= {"rouge1", "rouge2", "rougeL", "rougeLsum", "train_loss", "best"}

    steps = [e for e in events if e["event"] == "step"]
    assert [e["step"] for e in steps] == [3, 6, 8]  # every --log-every steps, and the last
    assert all(e["total_steps"] == STEPS_PER_EPOCH and e["loss"] > 0 and "eta_s" in e for e in steps)
    assert steps[-1]["eta_s"] == 0

    # What OUT holds: the adapter, the tokenizer, the resolved config, the final metrics.
    for name in ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json",
                 "training_config.json", "metrics.json", "checkpoints/last/trainer_state.json"):
        assert (out / name).is_file(), name
    config = json.loads((out / "training_config.json").read_text())
    assert config["base_model"] == str(base_dir) and config["mode"] == "lora"
    assert config["dataset_hash"] == dataset_hash(data_dir)
    assert config["lora"] == {"r": 4, "alpha": 8, "dropout": 0.05, "target_modules": ["q", "v"]}
    assert config["world_size"] == 1 and config["total_steps"] == STEPS_PER_EPOCH
    assert set(config["versions"]) >= {"torch", "transformers", "peft", "accelerate"}
    # The parameter count is what the adapter file really holds, and a small share.
    saved = sum(t.numel() for t in adapter_tensors(out).values())
    assert config["trainable_parameters"] == saved
    assert config["trainable_pct"] == pytest.approx(100 * saved / config["total_parameters"], abs=1e-3)
    assert config["trainable_pct"] < 5
    assert json.loads((out / "metrics.json").read_text())["val_loss"] == epoch["val_loss"]


def test_the_saved_adapter_is_the_trained_model(lora_run, base_dir, data_dir):
    import torch

    from finetune.modeling import generate, load_tokenizer
    from shopbot.generators.flan_t5 import FlanT5Generator
    from shopbot.prompts import NOT_IN_CATALOG
    from shopbot.retrieval import Source

    out, result = lora_run
    trained = result.model.eval()
    loaded = load_adapter(base_dir, out)
    tokenizer = load_tokenizer(out)  # the tokenizer saved with the adapter
    examples = read_split(data_dir, "val")[:4]
    batch = tokenizer([e.input for e in examples], return_tensors="pt", padding=True)
    labels = tokenizer(text_target=[e.answer for e in examples], return_tensors="pt", padding=True)
    with torch.no_grad():
        want = trained(**batch, labels=labels["input_ids"]).logits
        got = loaded(**batch, labels=labels["input_ids"]).logits
    assert torch.allclose(want, got, atol=1e-6)
    # LoRA changed the model: the base alone gives other logits.
    with torch.no_grad(), loaded.disable_adapter():
        assert not torch.allclose(loaded(**batch, labels=labels["input_ids"]).logits, want, atol=1e-3)

    prompts = [e.input for e in examples]
    assert generate(loaded, tokenizer, prompts, max_new_tokens=EVAL_TOKENS) == generate(
        trained, tokenizer, prompts, max_new_tokens=EVAL_TOKENS)

    # The bot's flan-t5 generator serving OUT answers as the trained model does.
    settings = make_settings(flan_t5_model=str(base_dir), flan_t5_adapter=out,
                             flan_t5_max_new_tokens=EVAL_TOKENS, flan_t5_device="cpu")
    bot = FlanT5Generator(settings)
    example = examples[0]
    sources = [Source(**source) for source in example.sources]
    assert bot.build_prompt(example.question, sources) == example.input
    expected = generate(trained, tokenizer, [example.input], max_new_tokens=EVAL_TOKENS)[0]
    answer = "".join(bot.generate(example.question, [], sources))
    assert " ".join(answer.split()) == (" ".join(expected.split()) or NOT_IN_CATALOG)


def test_resume_continues_a_stopped_run_to_the_same_result(base_dir, data_dir, tmp_path):
    import torch

    from finetune.train import run_training, train

    def config(out, **overrides):
        return make_config(base_dir, data_dir, out, epochs=2, patience=0, **overrides)

    straight = tmp_path / "straight"
    train(config(straight))

    # Stopped after the first epoch, then resumed.
    stopped = tmp_path / "stopped"
    first = train(config(stopped, stop_after_epochs=1))
    assert first["status"] == "stopped" and first["steps"] == STEPS_PER_EPOCH
    state = json.loads((stopped / "checkpoints/last/trainer_state.json").read_text())
    assert state["epoch"] == 1 and state["global_step"] == STEPS_PER_EPOCH
    # A setting that changes the run is refused, naming the difference.
    with pytest.raises(ValueError, match=r"batch_size: checkpoint 8, now 4"):
        train(config(stopped, resume=True, batch_size=4))
    resumed = run_training(config(stopped, resume=True)).metrics

    # SIGTERM in the middle of epoch 1 (the process sends it to itself during step 5): the
    # run finishes the next step, saves a checkpoint and ends "cancelled"; then it is resumed.
    cancelled = tmp_path / "cancelled"
    calls = iter(range(100))

    def sigterm_during_step_5() -> bool:
        if next(calls) == 4:
            os.kill(os.getpid(), signal.SIGTERM)
        return False

    handler = signal.getsignal(signal.SIGTERM)
    partial = train(config(cancelled), should_stop=sigterm_during_step_5)
    assert signal.getsignal(signal.SIGTERM) == handler  # put back after the run
    assert partial["status"] == "cancelled" and partial["steps"] == 6
    assert read_events(cancelled)[-1]["status"] == "cancelled"
    again = train(config(cancelled, resume=True))

    reference = read_events(straight)
    for out, metrics in ((stopped, resumed), (cancelled, again)):
        assert metrics["status"] == "finished" and metrics["steps"] == 2 * STEPS_PER_EPOCH
        events = read_events(out)
        restart = [e for e in events if e["event"] == "start"][1]
        assert restart["resumed"] and restart["step"] in (STEPS_PER_EPOCH, 6)
        # Same step losses, learning rates and epoch metrics as the run that never stopped.
        for kind in ("step", "epoch"):
            want = [without_clock(e) for e in reference if e["event"] == kind]
            got = [without_clock(e) for e in events if e["event"] == kind]
            assert len(got) == len(want), kind
            for got_event, want_event in zip(got, want):
                assert same_numbers(got_event, want_event), (got_event, want_event)
        final, expected = adapter_tensors(out), adapter_tensors(straight)
        assert final.keys() == expected.keys()
        assert all(torch.allclose(final[k], expected[k], atol=1e-6) for k in expected)

    with pytest.raises(ValueError, match="already finished"):
        train(config(stopped, resume=True))


def test_two_processes_log_the_metrics_of_a_single_process_run(full_run, data_dir, tmp_path):
    """torchrun starts two CPU processes (gloo); each validates half the examples. What they
    log must be what one process computes for the saved adapter on the whole split."""
    from finetune.modeling import load_tokenizer
    from finetune.train import evaluate_examples

    base_dir = full_run[0]  # a model that already answers in words
    out = tmp_path / "ddp"
    env = {**os.environ, "ACCELERATE_USE_CPU": "true", "OMP_NUM_THREADS": "1",
           "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", "2",
        "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
        "-m", "finetune", "train", "--model", str(base_dir), "--data", str(data_dir),
        "--out", str(out), "--epochs", "1", "--batch-size", "4", "--eval-batch-size", "4",
        "--lr", "3e-3", "--lora-r", "4", "--lora-alpha", "8",
        "--eval-max-new-tokens", str(EVAL_TOKENS), "--log-every", "2",
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "trainable" in done.stdout and done.stdout.count("trainable") == 1  # main process only

    config = json.loads((out / "training_config.json").read_text())
    assert config["world_size"] == 2 and config["effective_batch_size"] == 8
    events = read_events(out)
    assert len([e for e in events if e["event"] == "start"]) == 1  # one writer
    logged = next(e for e in events if e["event"] == "epoch")
    assert logged["step"] == config["total_steps"] == 8  # 15 batches of 4 over 2 processes

    model = load_adapter(base_dir, out)
    single = evaluate_examples(model, load_tokenizer(out), read_split(data_dir, "val"),
                               batch_size=4, max_new_tokens=EVAL_TOKENS)
    for key in ("val_loss", "rouge1", "rouge2", "rougeL", "rougeLsum"):
        assert logged[key] == pytest.approx(single[key], abs=1e-4), key
    assert logged["rouge1"] > 0  # the comparison is of real text, not of two empty outputs


def test_full_fine_tuning_trains_and_saves_every_weight(full_run, base_dir, data_dir, tmp_path):
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForSeq2SeqLM

    from finetune.train import train

    out, result = full_run
    assert result.metrics["best_epoch"] == 2  # the in-memory model is the saved one
    config = json.loads((out / "training_config.json").read_text())
    assert config["mode"] == "full" and config["lora"] is None
    assert config["trainable_pct"] == 100 and config["trainable_parameters"] == config["total_parameters"]
    assert (out / "model.safetensors").is_file() and not (out / "adapter_config.json").exists()
    assert result.metrics["val_loss"] < result.metrics["base_val_loss"]

    saved = AutoModelForSeq2SeqLM.from_pretrained(str(out))
    base = AutoModelForSeq2SeqLM.from_pretrained(str(base_dir))
    trained = result.model.state_dict()
    for name, tensor in saved.state_dict().items():
        assert torch.allclose(tensor, trained[name], atol=1e-6), name
    changed = [n for n, t in base.state_dict().items() if not torch.equal(t, saved.state_dict()[n])]
    assert len(changed) > 0.9 * len(base.state_dict())  # not just an adapter's worth

    # Full-model checkpoints (tied embeddings included) resume to the same weights.
    resumed = tmp_path / "full-resumed"
    config = dict(full=True, epochs=2, patience=0)
    train(make_config(base_dir, data_dir, resumed, stop_after_epochs=1, **config))
    assert train(make_config(base_dir, data_dir, resumed, resume=True, **config))["status"] == "finished"
    want, got = load_file(str(out / "model.safetensors")), load_file(str(resumed / "model.safetensors"))
    assert want.keys() == got.keys()
    assert all(torch.allclose(want[k], got[k], atol=1e-6) for k in want)


@pytest.mark.parametrize("problem", ["no dataset", "empty train split", "unknown model", "run exists"])
def test_bad_input_ends_with_a_clear_message(problem, base_dir, data_dir, tmp_path, capsys):
    from finetune.cli import main

    data, model, out = data_dir, str(base_dir), tmp_path / "out"
    if problem == "no dataset":
        data, expected = tmp_path / "missing", "does not exist"
    elif problem == "empty train split":
        data = tmp_path / "empty"
        data.mkdir()
        for split in ("train", "val", "test"):
            text = "" if split == "train" else split_path(data_dir, split).read_text()
            split_path(data, split).write_text(text)
        expected = "train.jsonl has no examples"
    elif problem == "unknown model":
        model, expected = str(tmp_path / "no-such-model"), "Cannot load the model"
    else:
        out.mkdir()
        (out / "metrics.jsonl").write_text("")
        expected = "already holds a training run"
    code = main(["train", "--model", model, "--data", str(data), "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: ") and expected in err
    assert "Traceback" not in err
    if problem != "run exists":
        assert not out.exists()  # nothing half-written


def test_launch_configs_are_valid_for_accelerate():
    """The multi-GPU and DeepSpeed ZeRO-3 configs parse with accelerate's own loaders (DeepSpeed
    itself is not installed here, so the ZeRO-3 run cannot be exercised)."""
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.utils import DeepSpeedPlugin

    configs = ROOT / "finetune" / "configs"
    multi_gpu = load_config_from_file(str(configs / "accelerate_multi_gpu.yaml"))
    assert multi_gpu.distributed_type == "MULTI_GPU" and not multi_gpu.use_cpu
    zero3 = load_config_from_file(str(configs / "deepspeed_zero3.yaml"))
    assert zero3.distributed_type == "DEEPSPEED" and zero3.mixed_precision is None
    ds_file = zero3.deepspeed_config["deepspeed_config_file"]
    assert (ROOT / ds_file).is_file()
    plugin = DeepSpeedPlugin(hf_ds_config=str(ROOT / ds_file), zero3_init_flag=True)
    assert plugin.zero_stage == 3 and plugin.zero3_save_16bit_model  # full weights on save
    assert "optimizer" not in plugin.deepspeed_config  # the loop's own AdamW is used
