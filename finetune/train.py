"""``python -m finetune train``: LoRA (or, with ``--full``, all weights) fine-tuning of a
seq2seq model on a dataset folder from ``python -m finetune build-dataset``.

A hand-written loop on ``accelerate`` (no ``transformers.Trainer``), so the same code runs on one
CPU, one GPU, several processes (DDP) and DeepSpeed ZeRO-3: one ``Accelerator``, one
``prepare`` of model, optimizer, train loader and scheduler, steps under
``accelerator.accumulate``, validation loss and ROUGE gathered with ``gather_for_metrics`` so
the numbers do not depend on how many processes computed them.

What ``--out OUT`` receives (the contract the bot, ``finetune evaluate`` and the Fine-tune page
read):

- the best epoch's adapter (``adapter_config.json`` + ``adapter_model.safetensors``; a full
  model with ``--full``) and the tokenizer, so OUT loads with ``PeftModel.from_pretrained`` and
  ``SHOPBOT_FLAN_T5_ADAPTER=OUT``;
- ``training_config.json`` (base model, dataset + hash, every hyperparameter, parameter counts,
  world size, library versions), ``metrics.jsonl`` (events ``start``, ``step``, ``epoch``,
  ``early_stop``, ``done``, appended and flushed as training goes), ``metrics.json`` (final);
- ``checkpoints/last/`` (``accelerator.save_state`` + ``trainer_state.json``) after every epoch
  and every ``--save-every`` steps, which ``--resume`` continues from exactly.

Launching::

    # one process: CPU, or the GPU when there is one (bf16 where it is supported)
    python -m finetune train --model google/flan-t5-base --data DATA --out OUT

    # two CPU processes talking over gloo (what the tests run)
    ACCELERATE_USE_CPU=true OMP_NUM_THREADS=1 torchrun --nproc_per_node 2 \\
        -m finetune train --model M --data DATA --out OUT

    # several GPUs on one machine (DDP)
    accelerate launch --config_file finetune/configs/accelerate_multi_gpu.yaml \\
        --num_processes 4 -m finetune train --model M --data DATA --out OUT

    # DeepSpeed ZeRO-3 (pip install deepspeed first; it is not in requirements.txt)
    accelerate launch --config_file finetune/configs/deepspeed_zero3.yaml \\
        --num_processes 4 -m finetune train --model M --data DATA --out OUT

``--batch-size`` is per process: the effective batch is batch size x grad accumulation x
processes. Mixed precision comes from ``--mixed-precision`` (``auto``: bf16 on a GPU that has
it, else fp16 on a GPU, none on CPU), also under DeepSpeed, whose JSON config says ``auto``.

Python API (the benchmark and the app's background job use it)::

    from finetune.train import TrainConfig, train
    metrics = train(TrainConfig(model="google/flan-t5-base", data=DATA, out=OUT, epochs=3))
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from finetune.records import SPLITS, Example, dataset_hash, read_meta, read_split, split_path

log = logging.getLogger(__name__)

MIXED_PRECISION_CHOICES = ("auto", "no", "fp16", "bf16")
CHECKPOINT_DIR = "checkpoints"
LAST_CHECKPOINT = "last"
STATE_FILE = "trainer_state.json"
TRAINABLE_WEIGHTS_FILE = "trainable.safetensors"
METRICS_LOG = "metrics.jsonl"
METRICS_FILE = "metrics.json"
CONFIG_FILE = "training_config.json"
# Files a run writes into OUT; --overwrite removes exactly these (and nothing else a user put there).
RUN_FILES = (
    METRICS_LOG, METRICS_FILE, CONFIG_FILE, "adapter_config.json", "adapter_model.safetensors",
    "config.json", "model.safetensors", "generation_config.json", "README.md",
)
DEFAULT_LR = {"lora": 1e-3, "full": 3e-4}
# Exit status of the CLI when SIGTERM stopped the run (after saving a checkpoint): 128 + 15.
EXIT_CANCELLED = 143
ROUGE_KEYS = ("rouge1", "rouge2", "rougeL", "rougeLsum")


def _opt(help: str, flag: str | None = None, **argparse_kwargs: Any) -> dict[str, Any]:
    return {"help": help, "flag": flag, **argparse_kwargs}


@dataclass
class TrainConfig:
    """Everything a training run needs. The CLI options are generated from these fields
    (``lora_r`` -> ``--lora-r``), so the help text lives here once."""

    model: str = field(metadata=_opt("base model: a hub id (google/flan-t5-base) or a directory"))
    data: Path = field(metadata=_opt("dataset folder (train/val/test.jsonl) from build-dataset", type=Path))
    out: Path = field(metadata=_opt("output folder for the adapter, metrics and checkpoints", type=Path))
    full: bool = field(default=False, metadata=_opt(
        "train all weights instead of a LoRA adapter (for comparison; saves a full model)",
        action="store_true"))
    lora_r: int = field(default=16, metadata=_opt("LoRA rank", type=int))
    lora_alpha: int = field(default=32, metadata=_opt("LoRA alpha (scale = alpha / r)", type=int))
    lora_dropout: float = field(default=0.05, metadata=_opt("dropout on the LoRA input", type=float))
    target_modules: tuple[str, ...] = field(default=("q", "v"), metadata=_opt(
        "comma-separated modules LoRA adapts; T5 attention: q,k,v,o, feed-forward: wi_0,wi_1,wo",
        type=lambda text: tuple(p.strip() for p in text.split(",") if p.strip())))
    epochs: int = field(default=3, metadata=_opt("passes over the training split", type=int))
    batch_size: int = field(default=8, metadata=_opt("examples per step and process", type=int))
    eval_batch_size: int | None = field(default=None, metadata=_opt(
        "examples per validation batch (default: --batch-size)", type=int))
    lr: float | None = field(default=None, metadata=_opt(
        "peak learning rate (default 1e-3 for LoRA, 3e-4 with --full)", type=float))
    weight_decay: float = field(default=0.01, metadata=_opt(
        "AdamW weight decay (not applied to layer norms and biases)", type=float))
    warmup_ratio: float = field(default=0.06, metadata=_opt(
        "share of all steps spent warming the learning rate up linearly", type=float))
    warmup_steps: int | None = field(default=None, metadata=_opt(
        "warm-up steps (overrides --warmup-ratio)", type=int))
    grad_accum: int = field(default=1, metadata=_opt(
        "micro-batches accumulated per optimizer step", type=int))
    max_grad_norm: float = field(default=1.0, metadata=_opt(
        "clip the gradient norm to this (0: no clipping)", type=float))
    mixed_precision: str = field(default="auto", metadata=_opt(
        "auto: bf16 on a GPU that supports it, else fp16 on a GPU, no on CPU",
        choices=MIXED_PRECISION_CHOICES))
    seed: int = field(default=42, metadata=_opt("seed for LoRA init, shuffling and dropout", type=int))
    max_input_tokens: int | None = field(default=None, metadata=_opt(
        "cut prompts to this many tokens (default: the tokenizer's limit, 512 for Flan-T5)", type=int))
    max_target_tokens: int = field(default=128, metadata=_opt(
        "cut answers to this many tokens", type=int))
    eval_max_new_tokens: int | None = field(default=None, metadata=_opt(
        "longest generated answer for validation ROUGE (default: --max-target-tokens)", type=int))
    patience: int = field(default=2, metadata=_opt(
        "stop after this many epochs without a lower validation loss (0: never)", type=int))
    max_train_examples: int | None = field(default=None, metadata=_opt(
        "use only the first N training examples (quick runs)", type=int))
    max_eval_examples: int | None = field(default=None, metadata=_opt(
        "use only the first N validation examples (quick runs)", type=int))
    log_every: int = field(default=10, metadata=_opt("log a step event every N optimizer steps", type=int))
    save_every: int | None = field(default=None, metadata=_opt(
        "also checkpoint every N optimizer steps (always at each epoch end)", type=int))
    resume: bool = field(default=False, metadata=_opt(
        "continue the run in --out from its last checkpoint", action="store_true"))
    overwrite: bool = field(default=False, metadata=_opt(
        "replace a previous run in --out instead of refusing", action="store_true"))
    stop_after_epochs: int | None = field(default=None, metadata=_opt(
        "stop (resumably) once this many epochs are done, e.g. to continue later with --resume",
        type=int))
    cpu: bool = field(default=False, metadata=_opt("train on the CPU even if there is a GPU",
                                                   action="store_true"))
    gradient_checkpointing: bool = field(default=False, metadata=_opt(
        "recompute activations in the backward pass instead of keeping them: much less memory "
        "for long inputs, about a third more time per step", action="store_true"))
    progress: bool = field(default=True, metadata=_opt(
        "no progress bar", flag="--no-progress", action="store_false"))

    @property
    def mode(self) -> str:
        return "full" if self.full else "lora"

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else DEFAULT_LR[self.mode]

    def validate(self) -> None:
        """Reject settings that cannot train, with the option to change."""
        positive = {
            "--epochs": self.epochs, "--batch-size": self.batch_size, "--grad-accum": self.grad_accum,
            "--max-target-tokens": self.max_target_tokens, "--log-every": self.log_every,
            "--lora-r": self.lora_r,
        }
        optional_positive = {
            "--eval-batch-size": self.eval_batch_size, "--max-input-tokens": self.max_input_tokens,
            "--eval-max-new-tokens": self.eval_max_new_tokens, "--save-every": self.save_every,
            "--max-train-examples": self.max_train_examples,
            "--max-eval-examples": self.max_eval_examples,
            "--stop-after-epochs": self.stop_after_epochs,
        }
        given = {flag: value for flag, value in optional_positive.items() if value is not None}
        for flag, value in {**positive, **given}.items():
            if value < 1:
                raise ValueError(f"{flag} must be at least 1 (got {value}).")
        if not self.learning_rate > 0:
            raise ValueError(f"--lr must be positive (got {self.learning_rate}).")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"--warmup-ratio must be in [0, 1) (got {self.warmup_ratio}).")
        if self.warmup_steps is not None and self.warmup_steps < 0:
            raise ValueError(f"--warmup-steps must not be negative (got {self.warmup_steps}).")
        if self.weight_decay < 0 or self.max_grad_norm < 0 or self.patience < 0:
            raise ValueError("--weight-decay, --max-grad-norm and --patience must not be negative.")
        if not 0 <= self.lora_dropout < 1:
            raise ValueError(f"--lora-dropout must be in [0, 1) (got {self.lora_dropout}).")
        if not self.full and not self.target_modules:
            raise ValueError("--target-modules is empty: name the modules LoRA adapts, e.g. q,v.")
        if self.mixed_precision not in MIXED_PRECISION_CHOICES:
            raise ValueError(
                f"--mixed-precision must be one of {', '.join(MIXED_PRECISION_CHOICES)} "
                f"(got {self.mixed_precision!r})."
            )
        if self.resume and self.overwrite:
            raise ValueError("--resume continues the run in --out and --overwrite replaces it: pick one.")

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> TrainConfig:
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls)})


@dataclass
class TrainResult:
    """What :func:`run_training` hands back: the final metrics (as in ``OUT/metrics.json``),
    and the trained model and tokenizer in memory (the model after the last epoch run, which
    is the saved one whenever the last epoch was the best)."""

    metrics: dict[str, Any]
    model: Any
    tokenizer: Any


def train(
    config: TrainConfig,
    *,
    should_stop: Callable[[], bool] | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Train as ``config`` says and return the final metrics (also in ``OUT/metrics.json``).

    ``should_stop`` is polled after every optimizer step (a background job's cancel button):
    when it returns True the run saves a checkpoint and ends with status ``cancelled``, like on
    SIGTERM. ``on_event`` receives every event written to ``OUT/metrics.jsonl``.
    """
    return run_training(config, should_stop=should_stop, on_event=on_event).metrics


# -- evaluation --------------------------------------------------------------------------


def evaluate_examples(
    model: Any,
    tokenizer: Any,
    examples: Sequence[Example],
    *,
    batch_size: int = 8,
    max_input_tokens: int | None = None,
    max_target_tokens: int = 128,
    max_new_tokens: int | None = None,
    generate: bool = True,
) -> dict[str, float]:
    """Validation loss (mean cross-entropy per answer token) and, with ``generate``, ROUGE of
    greedy answers, computed in this one process exactly as training computes them per epoch.
    A multi-process run logs the same numbers for the same weights."""
    import torch

    limit = _input_limit(tokenizer, max_input_tokens)
    features, _ = _tokenize(tokenizer, examples, limit, max_target_tokens)
    loader = torch.utils.data.DataLoader(
        features, batch_size=batch_size, shuffle=False, collate_fn=_PadCollator(tokenizer.pad_token_id)
    )
    return _evaluate(
        model, loader, tokenizer, [e.answer for e in examples], accelerator=None,
        max_new_tokens=(max_new_tokens or max_target_tokens) if generate else None,
        device=next(model.parameters()).device,
    )


def _evaluate(
    model: Any,
    loader: Any,
    tokenizer: Any,
    references: Sequence[str],
    *,
    accelerator: Any,
    max_new_tokens: int | None,
    device: Any = None,
    synced_gpus: bool = False,
    show_progress: bool = False,
) -> dict[str, float]:
    """Loss (and ROUGE when ``max_new_tokens``) over ``loader``. With an accelerator, each
    process works on its shard and ``gather_for_metrics`` puts the per-example results back
    together, dropping the examples the sampler repeated to even out the shards."""
    import torch
    from tqdm.auto import tqdm

    from finetune.metrics import rouge
    from finetune.modeling import generation_kwargs

    generator = accelerator.unwrap_model(model) if accelerator is not None else model
    was_training = model.training
    model.eval()
    loss_sum = 0.0
    token_count = 0
    predictions: dict[int, str] = {}
    seen: set[int] = set()
    bar = tqdm(total=len(loader), desc="validate", unit="batch", leave=False, file=sys.stderr,
               disable=not show_progress, dynamic_ncols=True)
    try:
        for batch in loader:
            index = batch.pop("index")
            if device is not None:
                batch = {key: value.to(device) for key, value in batch.items()}
                index = index.to(device)
            with torch.no_grad():
                logits = model(**batch).logits.float()
                labels = batch["labels"]
                token_loss = torch.nn.functional.cross_entropy(
                    logits.transpose(1, 2), labels, ignore_index=-100, reduction="none"
                )
                mask = labels != -100
                sums, counts = (token_loss * mask).sum(dim=1), mask.sum(dim=1)
                texts: list[str] = []
                if max_new_tokens:
                    output = generator.generate(
                        input_ids=batch["input_ids"],
                        attention_mask=batch["attention_mask"],
                        **generation_kwargs(max_new_tokens),
                        **({"synced_gpus": True} if synced_gpus else {}),
                    )
                    texts = [t.strip() for t in tokenizer.batch_decode(output, skip_special_tokens=True)]
            if accelerator is not None:
                index, sums, counts = accelerator.gather_for_metrics((index, sums, counts))
                if max_new_tokens:
                    texts = accelerator.gather_for_metrics(texts, use_gather_object=True)
            for position, example in enumerate(index.tolist()):
                if example in seen:  # never counted twice, whatever the sharding did
                    continue
                seen.add(example)
                loss_sum += float(sums[position])
                token_count += int(counts[position])
                if max_new_tokens:
                    predictions[example] = texts[position]
            bar.update(1)
    finally:
        bar.close()
        model.train(was_training)
    if len(seen) != len(references):
        raise RuntimeError(
            f"validation saw {len(seen)} of {len(references)} examples; the gathered results "
            "do not cover the validation split"
        )
    metrics = {"val_loss": round(loss_sum / max(token_count, 1), 6)}
    if max_new_tokens:
        ordered = [predictions[i] for i in range(len(references))]
        metrics.update(rouge(ordered, list(references)))
    return metrics


# -- the training run --------------------------------------------------------------------


def run_training(
    config: TrainConfig,
    *,
    should_stop: Callable[[], bool] | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> TrainResult:
    """The whole run; see the module docstring. Raises ValueError / RuntimeError / OSError
    with a message that says what to change."""
    config.validate()
    data = Path(config.data)
    train_examples, val_examples = _read_dataset(data, config)
    data_hash = dataset_hash(data)

    import torch
    from accelerate import Accelerator
    from accelerate.utils import (
        DataLoaderConfiguration, DistributedType, ProjectConfiguration, set_seed,
    )
    from transformers import get_linear_schedule_with_warmup

    from finetune.modeling import load_model, load_tokenizer

    _reset_accelerate_singletons()
    out = Path(config.out)
    tensorboard = _tensorboard_available()
    mixed_precision = resolve_mixed_precision(config.mixed_precision, cpu=config.cpu)
    accelerator = Accelerator(
        mixed_precision=mixed_precision,
        gradient_accumulation_steps=config.grad_accum,
        cpu=config.cpu,
        log_with="tensorboard" if tensorboard else None,
        project_config=ProjectConfiguration(project_dir=str(out), logging_dir=str(out / "tensorboard")),
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True, data_seed=config.seed),
    )
    main = accelerator.is_main_process
    world_size = accelerator.num_processes
    deepspeed = accelerator.distributed_type == DistributedType.DEEPSPEED
    zero3 = deepspeed and accelerator.state.deepspeed_plugin.zero_stage == 3
    if deepspeed:
        ds_config = accelerator.state.deepspeed_plugin.deepspeed_config
        if ds_config.get("gradient_clipping") in (None, "auto"):
            ds_config["gradient_clipping"] = config.max_grad_norm  # what --max-grad-norm says

    # A local model is recorded (in training_config.json and adapter_config.json) by its
    # absolute path, so the bot finds it from any working directory.
    model_ref = str(Path(config.model).resolve()) if Path(config.model).is_dir() else config.model
    tokenizer = load_tokenizer(model_ref)  # a wrong --model fails here, before OUT is touched
    resume_state = _prepare_out_dir(out, config, accelerator)

    max_input_tokens = _input_limit(tokenizer, config.max_input_tokens)
    train_features, cut = _tokenize(tokenizer, train_examples, max_input_tokens, config.max_target_tokens)
    val_features, _ = _tokenize(tokenizer, val_examples, max_input_tokens, config.max_target_tokens)
    if cut and main:
        log.warning(
            "%d of %d training prompts were longer than %d tokens and were cut; raise "
            "--max-input-tokens if the model reads more.", cut, len(train_features), max_input_tokens,
        )
    # Batches per process as accelerate shards them (each process gets every world_size-th
    # batch; the last round is completed with repeated examples).
    batches_per_process = math.ceil(math.ceil(len(train_features) / config.batch_size) / world_size)
    steps_per_epoch = math.ceil(batches_per_process / config.grad_accum)
    total_steps = steps_per_epoch * config.epochs
    warmup = (
        config.warmup_steps if config.warmup_steps is not None
        else math.ceil(config.warmup_ratio * total_steps)
    )
    eval_batch_size = config.eval_batch_size or config.batch_size
    eval_max_new_tokens = config.eval_max_new_tokens or config.max_target_tokens
    run_config: dict[str, Any] = {
        "base_model": model_ref,
        "dataset": str(data.resolve()),
        "dataset_hash": data_hash,
        "dataset_name": read_meta(data).get("name", data.name),
        "mode": config.mode,
        "lora": None if config.full else {
            "r": config.lora_r, "alpha": config.lora_alpha, "dropout": config.lora_dropout,
            "target_modules": list(config.target_modules),
        },
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "eval_batch_size": eval_batch_size,
        "grad_accum": config.grad_accum,
        "effective_batch_size": config.batch_size * config.grad_accum * world_size,
        "lr": config.learning_rate,
        "weight_decay": config.weight_decay,
        "warmup_ratio": config.warmup_ratio,
        "warmup_steps": warmup,
        "max_grad_norm": config.max_grad_norm,
        "gradient_checkpointing": config.gradient_checkpointing,
        "mixed_precision": mixed_precision,
        "seed": config.seed,
        "max_input_tokens": max_input_tokens,
        "max_target_tokens": config.max_target_tokens,
        "eval_max_new_tokens": eval_max_new_tokens,
        "patience": config.patience,
        "max_train_examples": config.max_train_examples,
        "max_eval_examples": config.max_eval_examples,
        "train_examples": len(train_features),
        "val_examples": len(val_features),
        "steps_per_epoch": steps_per_epoch,
        "total_steps": total_steps,
        "world_size": world_size,
        "distributed_type": str(accelerator.distributed_type.value),
        "device": str(accelerator.device),
        "versions": _versions(),
    }
    resume_key = {key: run_config[key] for key in _RESUME_KEYS}
    if resume_state is not None:  # refuse before the (slow) model load
        _check_resumable(resume_state, resume_key, out)

    # The model after the Accelerator, so DeepSpeed ZeRO-3 can partition it while it loads.
    set_seed(config.seed)
    model = load_model(model_ref)
    if config.gradient_checkpointing:
        # Non-reentrant checkpointing also works when the inputs to a block need no gradient
        # (frozen embeddings under LoRA).
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if config.full:
        model.requires_grad_(True)
    else:
        model = _add_lora(model, config)
    trainable, total = _count_parameters(model)
    pct = 100.0 * trainable / total if total else 0.0
    run_config.update(
        trainable_parameters=trainable, total_parameters=total, trainable_pct=round(pct, 4)
    )
    accelerator.print(f"trainable {trainable:,} of {total:,} parameters ({pct:.2f}%)")

    collate = _PadCollator(tokenizer.pad_token_id)
    # Own generators: a DataLoader draws a seed from the global RNG whenever it starts an
    # iteration, which would shift the dropout masks of a run resumed in mid-epoch.
    train_loader = torch.utils.data.DataLoader(
        train_features, batch_size=config.batch_size, shuffle=True, collate_fn=collate,
        generator=torch.Generator().manual_seed(config.seed),
    )
    val_loader = torch.utils.data.DataLoader(
        val_features, batch_size=eval_batch_size, shuffle=False, collate_fn=collate,
        generator=torch.Generator().manual_seed(config.seed),
    )
    optimizer = torch.optim.AdamW(
        _parameter_groups(model, config.weight_decay), lr=config.learning_rate
    )
    # accelerate steps a prepared scheduler once per process for every optimizer step (it
    # assumes one process would have seen all those batches), hence the factor.
    scheduler = get_linear_schedule_with_warmup(
        optimizer, num_warmup_steps=warmup * world_size, num_training_steps=total_steps * world_size
    )
    model, optimizer, train_loader, scheduler = accelerator.prepare(
        model, optimizer, train_loader, scheduler
    )
    val_loader = accelerator.prepare(val_loader)
    if len(train_loader) != batches_per_process:
        raise RuntimeError(
            f"expected {batches_per_process} training batches per process, the prepared loader "
            f"has {len(train_loader)}; the step count and schedule would be wrong"
        )
    if not config.full and not deepspeed:
        _checkpoint_trainable_weights_only(accelerator)

    state = _RunState()
    if resume_state is not None:
        accelerator.load_state(str(_checkpoint_dir(out)))
        state = _RunState.from_json(resume_state)
    elif main:
        tokenizer.save_pretrained(out)
        _write_json(out / CONFIG_FILE, {**run_config, "created_at": _now()})

    metrics_log = _MetricsLog(out / METRICS_LOG, enabled=main, on_event=on_event,
                              truncate_to=state.metrics_offset if resume_state else None)
    if tensorboard:
        accelerator.init_trackers("finetune", config=_flat_hparams(run_config))

    synced_gpus = zero3 and world_size > 1

    def evaluate(generate: bool) -> dict[str, float]:
        return _evaluate(
            model, val_loader, tokenizer, [e.answer for e in val_examples],
            accelerator=accelerator, max_new_tokens=eval_max_new_tokens if generate else None,
            synced_gpus=synced_gpus, show_progress=main and config.progress,
        )

    if resume_state is None:
        state.base_val_loss = evaluate(generate=False)["val_loss"]
    metrics_log.write({
        "event": "start", "resumed": resume_state is not None, "step": state.global_step,
        "epoch": state.epoch, "total_steps": total_steps, "steps_per_epoch": steps_per_epoch,
        "epochs": config.epochs, "train_examples": len(train_features),
        "val_examples": len(val_features), "base_val_loss": state.base_val_loss,
        "mode": config.mode, "trainable_parameters": trainable, "total_parameters": total,
        "trainable_pct": round(pct, 4), "world_size": world_size,
    })

    cancel = _CancelFlag(should_stop)
    session_start = time.monotonic()
    session_start_step = state.global_step
    elapsed_before = state.elapsed_s

    def elapsed() -> float:
        return elapsed_before + time.monotonic() - session_start

    def save_checkpoint(finished: bool = False) -> None:
        state.elapsed_s = round(elapsed(), 3)
        state.finished = finished
        state.metrics_offset = metrics_log.offset()
        _save_checkpoint(accelerator, out, {**state.to_json(), "config": resume_key})

    from tqdm.auto import tqdm

    bar = tqdm(total=total_steps, initial=state.global_step, desc="train", unit="step",
               file=sys.stderr, disable=not (main and config.progress), dynamic_ncols=True)
    status = "finished"
    stopped_early = False
    micro_loss = torch.zeros((), device=accelerator.device)
    micro_batches = 0
    cancel.install()
    try:
        for epoch in range(state.epoch, config.epochs):
            if status != "finished" or stopped_early:
                break
            train_loader.set_epoch(epoch)
            loader = train_loader
            if state.batches_done:
                loader = accelerator.skip_first_batches(train_loader, state.batches_done)
                loader.set_epoch(epoch)
            model.train()
            for batch in loader:
                batch.pop("index")
                with accelerator.accumulate(model):
                    loss = model(**batch).loss
                    accelerator.backward(loss)
                    if accelerator.sync_gradients and config.max_grad_norm > 0:
                        accelerator.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                    optimizer.step()
                    scheduler.step()
                    optimizer.zero_grad()
                micro_loss += loss.detach().float()
                micro_batches += 1
                state.batches_done += 1
                if not accelerator.sync_gradients:
                    continue
                # One small all-reduce per optimizer step: the mean loss over processes and
                # micro-batches, and whether any process was asked to stop.
                totals = accelerator.reduce(
                    torch.stack([
                        micro_loss,
                        torch.tensor(float(micro_batches), device=accelerator.device),
                        torch.tensor(float(cancel.requested()), device=accelerator.device),
                    ]),
                    reduction="sum",
                )
                step_loss = float(totals[0] / totals[1])
                micro_loss.zero_()
                micro_batches = 0
                state.global_step += 1
                state.window.add(step_loss)
                state.epoch_loss.add(step_loss)
                lr = float(scheduler.get_last_lr()[0])
                bar.update(1)
                bar.set_postfix(loss=f"{step_loss:.4f}", lr=f"{lr:.2e}", refresh=False)
                end_of_epoch = state.batches_done >= batches_per_process
                if state.global_step % config.log_every == 0 or end_of_epoch:
                    done_now = state.global_step - session_start_step
                    rate = (time.monotonic() - session_start) / max(done_now, 1)
                    event = {
                        "event": "step", "step": state.global_step, "total_steps": total_steps,
                        "epoch": epoch + 1, "loss": round(state.window.mean(), 6), "lr": lr,
                        "elapsed_s": round(elapsed(), 2),
                        "eta_s": round(rate * (total_steps - state.global_step), 1),
                    }
                    state.window.reset()
                    metrics_log.write(event)
                    if tensorboard:
                        accelerator.log({"train/loss": event["loss"], "train/lr": lr},
                                        step=state.global_step)
                if float(totals[2]) > 0 and not end_of_epoch:
                    status = "cancelled"
                    save_checkpoint()
                    break
                if config.save_every and state.global_step % config.save_every == 0 and not end_of_epoch:
                    save_checkpoint()
            if status != "finished":
                break

            # End of an epoch: validate, keep the best weights, maybe stop early, checkpoint.
            eval_started = time.monotonic()
            val = evaluate(generate=True)
            improved = state.best_val_loss is None or val["val_loss"] < state.best_val_loss
            record = {
                "epoch": epoch + 1, "step": state.global_step,
                "train_loss": round(state.epoch_loss.mean(), 6), **val, "best": improved,
                "eval_s": round(time.monotonic() - eval_started, 2),
                "elapsed_s": round(elapsed(), 2),
            }
            if improved:
                state.best_val_loss = val["val_loss"]
                state.best_epoch = epoch + 1
                state.bad_epochs = 0
                _save_model(accelerator, model, out, full=config.full)
            else:
                state.bad_epochs += 1
            state.history.append(record)
            metrics_log.write({"event": "epoch", **record})
            if tensorboard:
                accelerator.log({f"val/{k}": v for k, v in val.items()}, step=state.global_step)
            if main and config.progress:
                bar.write(
                    f"epoch {epoch + 1}/{config.epochs}: train loss {record['train_loss']:.4f}, "
                    f"val loss {val['val_loss']:.4f}, ROUGE-L {val['rougeL']:.4f}"
                    + (" (best)" if improved else "")
                )
            if config.patience and state.bad_epochs >= config.patience and epoch + 1 < config.epochs:
                stopped_early = True
                metrics_log.write({
                    "event": "early_stop", "epoch": epoch + 1, "best_epoch": state.best_epoch,
                    "best_val_loss": state.best_val_loss, "patience": config.patience,
                })
            state.epoch = epoch + 1
            state.batches_done = 0
            state.epoch_loss.reset()
            finished = stopped_early or state.epoch >= config.epochs
            save_checkpoint(finished=finished)
            cancel_now = float(accelerator.reduce(
                torch.tensor(float(cancel.requested()), device=accelerator.device), reduction="sum"
            )) > 0
            if not finished and (cancel_now or (
                config.stop_after_epochs and state.epoch >= config.stop_after_epochs
            )):
                status = "cancelled" if cancel_now else "stopped"
    finally:
        cancel.restore()
        bar.close()

    metrics = _final_metrics(state, status, stopped_early, total_steps, elapsed())
    metrics_log.write({
        "event": "done", "status": status, "best_epoch": state.best_epoch,
        "best_val_loss": state.best_val_loss, "steps": state.global_step,
        "total_steps": total_steps, "epochs_completed": state.epoch,
        "early_stopped": stopped_early, "train_time_s": metrics["train_time_s"], "out": str(out),
    })
    if main:
        _write_json(out / METRICS_FILE, metrics)
    if tensorboard:
        accelerator.end_training()
    accelerator.wait_for_everyone()
    accelerator.print(_summary(metrics, out, config))
    return TrainResult(metrics=metrics, model=accelerator.unwrap_model(model), tokenizer=tokenizer)


# Settings that must be the same for --resume to continue the same run.
_RESUME_KEYS = (
    "base_model", "dataset_hash", "mode", "lora", "epochs", "batch_size", "eval_batch_size",
    "grad_accum", "lr", "weight_decay", "warmup_steps", "max_grad_norm", "mixed_precision",
    "seed", "max_input_tokens", "max_target_tokens", "max_train_examples", "max_eval_examples",
    "world_size", "total_steps",
)


class _Mean:
    """A running mean that survives a checkpoint."""

    def __init__(self, total: float = 0.0, count: int = 0) -> None:
        self.total, self.count = total, count

    def add(self, value: float) -> None:
        self.total += value
        self.count += 1

    def mean(self) -> float:
        return self.total / self.count if self.count else float("nan")

    def reset(self) -> None:
        self.total, self.count = 0.0, 0


@dataclass
class _RunState:
    """Counters saved in ``trainer_state.json`` next to accelerate's state (model, optimizer,
    scheduler, RNG states), so --resume picks up at the same batch of the same epoch."""

    epoch: int = 0  # epochs completed; also the index of the epoch in progress
    batches_done: int = 0  # micro-batches of that epoch already trained on (this process)
    global_step: int = 0  # optimizer steps done
    best_val_loss: float | None = None
    best_epoch: int | None = None
    bad_epochs: int = 0  # epochs since the best one (early stopping)
    base_val_loss: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    window: _Mean = field(default_factory=_Mean)  # step losses since the last step event
    epoch_loss: _Mean = field(default_factory=_Mean)  # step losses of the epoch in progress
    elapsed_s: float = 0.0
    metrics_offset: int = 0  # size of metrics.jsonl at the checkpoint
    finished: bool = False

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["window"] = [self.window.total, self.window.count]
        data["epoch_loss"] = [self.epoch_loss.total, self.epoch_loss.count]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _RunState:
        known = {f.name for f in fields(cls)}
        state = cls(**{k: v for k, v in data.items() if k in known and k not in ("window", "epoch_loss")})
        state.window = _Mean(*data.get("window", (0.0, 0)))
        state.epoch_loss = _Mean(*data.get("epoch_loss", (0.0, 0)))
        return state


class _CancelFlag:
    """SIGTERM (and ``should_stop``) ask the loop to stop after the current step; the loop
    then saves a checkpoint. A second SIGTERM ends the process at once."""

    def __init__(self, should_stop: Callable[[], bool] | None) -> None:
        self.should_stop = should_stop
        self.signalled = False
        self._previous: Any = None
        self._installed = False

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals can only be handled on the main thread; should_stop still works
        self._previous = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, self._handle)
        self._installed = True

    def _handle(self, signum: int, frame: Any) -> None:
        self.signalled = True
        signal.signal(signal.SIGTERM, self._previous or signal.SIG_DFL)
        print("SIGTERM: finishing the current step and saving a checkpoint "
              "(send it again to stop at once)", file=sys.stderr, flush=True)

    def restore(self) -> None:
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous or signal.SIG_DFL)
            self._installed = False

    def requested(self) -> bool:
        if self.signalled:
            return True
        return bool(self.should_stop and self.should_stop())


class _MetricsLog:
    """``OUT/metrics.jsonl``: one event per line, flushed at once so a page or ``tail -f`` sees
    it; written by the main process only."""

    def __init__(self, path: Path, *, enabled: bool, on_event: Callable[[dict[str, Any]], None] | None,
                 truncate_to: int | None) -> None:
        self.path = path
        self.enabled = enabled
        self.on_event = on_event
        if enabled:
            path.parent.mkdir(parents=True, exist_ok=True)
            if truncate_to is not None and path.exists():
                # Events after the checkpoint describe steps that are about to be redone.
                with open(path, "r+b") as handle:
                    handle.truncate(truncate_to)

    def write(self, event: dict[str, Any]) -> None:
        if not self.enabled:
            return
        event = {**event, "time": _now()}
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(event, ensure_ascii=False) + "\n")
            handle.flush()
        if self.on_event is not None:
            self.on_event(event)

    def offset(self) -> int:
        return self.path.stat().st_size if self.enabled and self.path.exists() else 0


class _PadCollator:
    """Right-pads a batch: inputs with the pad id (masked out), labels with -100 (ignored by
    the loss). ``index`` keeps each example's position for gathering results in order."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        rows = len(features)
        input_width = max(len(f["input_ids"]) for f in features)
        label_width = max(len(f["labels"]) for f in features)
        input_ids = torch.full((rows, input_width), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((rows, input_width), dtype=torch.long)
        labels = torch.full((rows, label_width), -100, dtype=torch.long)
        for row, feature in enumerate(features):
            n, m = len(feature["input_ids"]), len(feature["labels"])
            input_ids[row, :n] = torch.tensor(feature["input_ids"])
            attention_mask[row, :n] = 1
            labels[row, :m] = torch.tensor(feature["labels"])
        index = torch.tensor([f["index"] for f in features], dtype=torch.long)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels, "index": index}


def _read_dataset(data: Path, config: TrainConfig) -> tuple[list[Example], list[Example]]:
    if not data.is_dir():
        raise FileNotFoundError(
            f"The dataset folder {data} does not exist. Build one with "
            "`python -m finetune build-dataset --out DIR` and pass it with --data."
        )
    for split in SPLITS:
        if not split_path(data, split).is_file():
            raise FileNotFoundError(
                f"{split_path(data, split)} is missing: {data} is not a complete dataset folder "
                "(it needs train.jsonl, val.jsonl and test.jsonl). Rebuild it with "
                "`python -m finetune build-dataset --out DIR`."
            )
    train_examples = read_split(data, "train")[: config.max_train_examples]
    val_examples = read_split(data, "val")[: config.max_eval_examples]
    for split, examples in (("train", train_examples), ("val", val_examples)):
        if not examples:
            raise ValueError(
                f"{split_path(data, split)} has no examples, so there is nothing to "
                f"{'train on' if split == 'train' else 'validate on'}. Rebuild the dataset with "
                "more catalog entries or rated chats (`python -m finetune build-dataset`)."
            )
    return train_examples, val_examples


def _prepare_out_dir(out: Path, config: TrainConfig, accelerator: Any) -> dict[str, Any] | None:
    """Refuse to mix two runs in one folder; with --resume return the checkpoint's state."""
    if config.resume:
        state_file = _checkpoint_dir(out) / STATE_FILE
        if not state_file.is_file():
            raise FileNotFoundError(
                f"Nothing to resume: {state_file} does not exist. Start the run without --resume "
                "(or check --out)."
            )
        state = json.loads(state_file.read_text("utf-8"))
        if state.get("finished"):
            raise ValueError(
                f"The run in {out} already finished (see {out / METRICS_FILE}); there is nothing "
                "to resume. Train again with --overwrite, or into another --out."
            )
        return state
    previous = [name for name in (METRICS_LOG, CONFIG_FILE, CHECKPOINT_DIR) if (out / name).exists()]
    if previous and not config.overwrite:
        raise FileExistsError(
            f"{out} already holds a training run ({', '.join(previous)}). Pass --resume to "
            "continue it, --overwrite to replace it, or choose another --out."
        )
    if accelerator.is_main_process:
        if previous:
            for name in RUN_FILES:
                (out / name).unlink(missing_ok=True)
            shutil.rmtree(out / CHECKPOINT_DIR, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)
    accelerator.wait_for_everyone()
    return None


def _check_resumable(saved: dict[str, Any], current: dict[str, Any], out: Path) -> None:
    before = saved.get("config", {})
    differences = [
        f"{key}: checkpoint {before.get(key)!r}, now {current[key]!r}"
        for key in current
        if _normalise(before.get(key)) != _normalise(current[key])
    ]
    if differences:
        raise ValueError(
            f"Cannot resume the run in {out}: these settings differ from the checkpoint's, so "
            "the rest of the run would not continue the same training:\n  "
            + "\n  ".join(differences)
            + "\nRun again with the checkpoint's settings (see "
            f"{out / CONFIG_FILE}), or start over with --overwrite."
        )


def _normalise(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _checkpoint_dir(out: Path) -> Path:
    return out / CHECKPOINT_DIR / LAST_CHECKPOINT


def _save_checkpoint(accelerator: Any, out: Path, state: dict[str, Any]) -> None:
    """Save into a temporary folder and swap it in, so a crash mid-save keeps the previous
    checkpoint usable."""
    final = _checkpoint_dir(out)
    tmp = final.with_name(LAST_CHECKPOINT + ".tmp")
    old = final.with_name(LAST_CHECKPOINT + ".old")
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
    accelerator.wait_for_everyone()
    with _quiet_shared_tensor_warning():
        accelerator.save_state(str(tmp))
    if accelerator.is_main_process:
        _write_json(tmp / STATE_FILE, state)
        if final.exists():
            shutil.rmtree(old, ignore_errors=True)
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


class _SharedTensorFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "Removed shared tensor" not in record.getMessage()


class _quiet_shared_tensor_warning:
    """T5 ties its embeddings and output layer (transformers 5 always does), so a full-model
    checkpoint warns at every save that it stored the shared tensor once. Loading ties them
    again (a resumed --full run ends with the same weights), so the warning is only noise."""

    logger = logging.getLogger("accelerate.utils.other")

    def __enter__(self) -> None:
        self.filter = _SharedTensorFilter()
        self.logger.addFilter(self.filter)

    def __exit__(self, *exc: object) -> None:
        self.logger.removeFilter(self.filter)


def _checkpoint_trainable_weights_only(accelerator: Any) -> None:
    """With LoRA the base model never changes, so checkpoints hold only the trainable tensors
    (megabytes instead of the whole model); the load hook puts them back."""
    from safetensors.torch import load_file, save_file

    def trainable_names(model: Any) -> set[str]:
        return {name for name, p in model.named_parameters() if p.requires_grad}

    def save_hook(models: list[Any], weights: list[dict[str, Any]], output_dir: str) -> None:
        for i, model in enumerate(models):
            names = trainable_names(model)
            if accelerator.is_main_process:
                tensors = {
                    k: v.detach().cpu().contiguous().clone()
                    for k, v in weights[i].items() if k in names
                }
                save_file(tensors, os.path.join(output_dir, _trainable_file(i)))
        weights.clear()  # accelerate must not save the full models again

    def load_hook(models: list[Any], input_dir: str) -> None:
        for i, model in enumerate(models):
            path = os.path.join(input_dir, _trainable_file(i))
            if not os.path.isfile(path):
                raise FileNotFoundError(f"{path} is missing: the checkpoint is incomplete.")
            tensors = load_file(path)
            expected = trainable_names(model)
            if set(tensors) != expected:
                raise ValueError(
                    f"{path} holds other weights than this model trains; was the checkpoint made "
                    "with other LoRA settings?"
                )
            device = next(model.parameters()).device
            result = model.load_state_dict({k: v.to(device) for k, v in tensors.items()}, strict=False)
            if result.unexpected_keys:
                raise ValueError(f"{path} has weights this model lacks: {result.unexpected_keys[:5]}")
        models.clear()  # loaded here; accelerate must not look for full model files

    accelerator.register_save_state_pre_hook(save_hook)
    accelerator.register_load_state_pre_hook(load_hook)


def _trainable_file(i: int) -> str:
    return TRAINABLE_WEIGHTS_FILE if i == 0 else TRAINABLE_WEIGHTS_FILE.replace(".", f"_{i}.", 1)


def _save_model(accelerator: Any, model: Any, out: Path, *, full: bool) -> None:
    """The best weights so far into OUT: the adapter (or the full model). Every process takes
    part (under ZeRO-3 the weights are gathered from all of them); the main one writes."""
    state_dict = accelerator.get_state_dict(model)
    accelerator.unwrap_model(model).save_pretrained(
        str(out), is_main_process=accelerator.is_main_process, state_dict=state_dict
    )
    accelerator.wait_for_everyone()


def _add_lora(model: Any, config: TrainConfig) -> Any:
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules),
        task_type="SEQ_2_SEQ_LM",
    )
    try:
        return get_peft_model(model, lora)
    except ValueError as exc:
        raise ValueError(
            f"LoRA cannot attach to --target-modules {','.join(config.target_modules)} ({exc}). "
            "For T5 models the attention projections are q, k, v, o and the feed-forward ones "
            "wi_0, wi_1 (wi), wo."
        ) from exc


def _count_parameters(model: Any) -> tuple[int, int]:
    trainable = total = 0
    for param in model.parameters():
        count = getattr(param, "ds_numel", None) or param.numel()  # ZeRO-3 partitions params
        total += count
        if param.requires_grad:
            trainable += count
    return trainable, total


def _parameter_groups(model: Any, weight_decay: float) -> list[dict[str, Any]]:
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (no_decay if "layer_norm" in name or name.endswith("bias") else decay).append(param)
    groups = [{"params": decay, "weight_decay": weight_decay}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return groups


def _input_limit(tokenizer: Any, requested: int | None) -> int:
    from shopbot.generators.flan_t5 import input_limit

    return requested or input_limit(tokenizer)


def _tokenize(
    tokenizer: Any, examples: Sequence[Example], max_input_tokens: int, max_target_tokens: int
) -> tuple[list[dict[str, Any]], int]:
    """Token ids of prompt and answer per example, and how many prompts were cut."""
    if not examples:
        return [], 0
    inputs = tokenizer([e.input for e in examples], truncation=False)["input_ids"]
    targets = tokenizer(text_target=[e.answer for e in examples], truncation=True,
                        max_length=max_target_tokens)["input_ids"]
    features, cut = [], 0
    for index, (ids, labels) in enumerate(zip(inputs, targets)):
        if len(ids) > max_input_tokens:
            # Keep the start and the final </s>, as the generator does with an over-long prompt.
            ids = ids[: max_input_tokens - 1] + ids[-1:]
            cut += 1
        features.append({"input_ids": ids, "labels": labels, "index": index})
    return features, cut


def resolve_mixed_precision(requested: str, *, cpu: bool = False) -> str:
    """``auto`` -> bf16 on a GPU that supports it, fp16 on another GPU, ``no`` on CPU."""
    if requested != "auto":
        return requested
    import torch

    if cpu or not torch.cuda.is_available():
        return "no"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def _reset_accelerate_singletons() -> None:
    """accelerate keeps its state in process-wide singletons; a second run in the same process
    (the benchmark, the app's job runner, tests) may use another precision or accumulation.
    The process group (PartialState) is kept."""
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state()
    GradientState._reset_state()


def _tensorboard_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("tensorboard") is not None


def _flat_hparams(run_config: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in run_config.items():
        if isinstance(value, dict):
            for sub, inner in value.items():
                flat[f"{key}.{sub}"] = inner if isinstance(inner, (int, float, str, bool)) else str(inner)
        elif isinstance(value, (int, float, str, bool)):
            flat[key] = value
        elif value is not None:
            flat[key] = str(value)
    return flat


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("torch", "transformers", "peft", "accelerate", "deepspeed"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def _final_metrics(state: _RunState, status: str, stopped_early: bool, total_steps: int,
                   train_time: float) -> dict[str, Any]:
    best = next((r for r in state.history if r["epoch"] == state.best_epoch), {})
    return {
        "status": status,
        "best_epoch": state.best_epoch,
        "val_loss": best.get("val_loss"),
        "best_val_loss": state.best_val_loss,  # the same number, named as in the done event
        **{key: best.get(key) for key in ROUGE_KEYS},
        "train_loss": best.get("train_loss"),
        "base_val_loss": state.base_val_loss,
        "early_stopped": stopped_early,
        "epochs_completed": state.epoch,
        "steps": state.global_step,
        "total_steps": total_steps,
        "train_time_s": round(train_time, 2),
        "history": state.history,
    }


def _summary(metrics: dict[str, Any], out: Path, config: TrainConfig) -> str:
    what = "model" if config.full else "adapter"
    if metrics["best_epoch"] is None:
        return (f"Training {metrics['status']} after {metrics['steps']} steps, before the first "
                f"epoch ended; no {what} saved. Continue with --resume.")
    lines = [
        f"Training {metrics['status']}: {metrics['steps']}/{metrics['total_steps']} steps, "
        f"{metrics['epochs_completed']} epoch(s) in {metrics['train_time_s']:.0f}s"
        + (" (stopped early)" if metrics["early_stopped"] else "") + ".",
        f"Best epoch {metrics['best_epoch']}: val loss {metrics['val_loss']:.4f} "
        f"(untrained {metrics['base_val_loss']:.4f}), ROUGE-1 {metrics['rouge1']:.4f}, "
        f"ROUGE-L {metrics['rougeL']:.4f}.",
        f"Saved the {what} to {out}.",
    ]
    if metrics["status"] in ("stopped", "cancelled"):
        lines.append("Continue with the same command plus --resume.")
    elif config.full:
        lines.append(f"Serve it as the bot's model: SHOPBOT_FLAN_T5_MODEL={out}")
    else:
        lines.append(
            f"Compare it with the base model: python -m finetune evaluate --model {config.model} "
            f"--adapter {out} --data {config.data}; serve it: python -m finetune activate {out}"
        )
    return "\n".join(lines)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- CLI -----------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per :class:`TrainConfig` field; fields without a default are required."""
    for spec in fields(TrainConfig):
        meta = dict(spec.metadata)
        flag = meta.pop("flag") or "--" + spec.name.replace("_", "-")
        default = spec.default
        if default is MISSING:
            meta["required"] = True
        else:
            meta["default"] = default
            if "action" not in meta and default is not None:
                shown = ",".join(default) if isinstance(default, tuple) else default
                meta["help"] += f" (default: {shown})"
        parser.add_argument(flag, dest=spec.name, **meta)


def run(args: argparse.Namespace) -> int:
    metrics = train(TrainConfig.from_args(args))
    if metrics["status"] == "cancelled":
        return EXIT_CANCELLED
    return 0


__all__ = [
    "TrainConfig", "TrainResult", "train", "run_training", "evaluate_examples",
    "resolve_mixed_precision", "add_arguments", "run",
]
