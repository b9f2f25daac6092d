"""LoRA against full fine-tuning (``--full``) of the same model on the same data.

    .venv/bin/python bench/finetune.py            # CPU: a ~64M-parameter T5 ("large")
    .venv/bin/python bench/finetune.py --quick    # smoke run: small model, few steps
    python3 bench/finetune.py --size xl --data DIR --steps 30   # on a GPU: flan-t5-large's shape

Each mode trains in its own process (so its peak memory is its own) through the real
``finetune.train.train`` loop, one epoch over the same examples with the same batch size.
Measured per mode: trainable parameters, peak memory (RSS on CPU; ``torch.cuda`` peak
allocated memory on a GPU), median optimizer-step time (the first steps are warm-up and left
out), and the size of what is saved (adapter vs full checkpoint). Both modes use gradient
checkpointing by default (``--no-gradient-checkpointing`` to keep activations): with 512-token
prompts, kept activations dwarf a small model's weights and optimizer state, which is the
memory LoRA saves. Written to
``bench/results/finetune.json`` (``--out`` to change), with the ratios the issue targets:
``trainable_pct`` <= 1.5, ``peak_memory_ratio`` <= 0.7, ``adapter_size_ratio`` <= 0.02, and
``step_time_ratio`` (reported).

No Flan-T5 weights can be downloaded here, so the model is a randomly initialised T5 built by
``finetune.tiny`` (same architecture family, same code path); step time and memory depend on
the shape, not on the weights. The data is a dataset folder from ``python -m finetune
build-dataset`` (``--data``); without one, the bench builds it from the demo catalog.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
TARGETS = {"trainable_pct": 1.5, "peak_memory_ratio": 0.7, "adapter_size_ratio": 0.02}
WARMUP_STEPS = 3


def _rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _saved_bytes(out: Path) -> int:
    names = ("adapter_model.safetensors", "adapter_model.bin", "model.safetensors", "pytorch_model.bin")
    return sum(p.stat().st_size for p in out.iterdir() if p.name in names or p.name.startswith("model-0"))


def worker(args: argparse.Namespace) -> None:
    """One training run; prints one JSON line with what it measured."""
    import accelerate  # noqa: F401 - the libraries are loaded before the baseline is read
    import peft  # noqa: F401
    import torch
    import transformers  # noqa: F401

    from finetune.train import TrainConfig, train

    runtime_rss_mb = _rss_mb()  # Python + torch + transformers, before any model exists
    if args.threads:
        torch.set_num_threads(args.threads)
    gpu = torch.cuda.is_available() and not args.cpu
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    steps: list[float] = []
    seen: dict[str, Any] = {}

    def on_event(event: dict[str, Any]) -> None:
        if event.get("event") == "step":
            steps.append(float(event["elapsed_s"]))
        elif event.get("event") == "start":
            seen["rss_at_start_mb"] = _rss_mb()

    out = Path(args.worker_out)
    config = TrainConfig(
        model=args.model,
        data=Path(args.data),
        out=out,
        full=args.worker == "full",
        epochs=1,
        batch_size=args.batch_size,
        max_train_examples=args.steps * args.batch_size,
        max_eval_examples=args.batch_size,
        eval_max_new_tokens=4,
        log_every=1,
        patience=1,
        mixed_precision="bf16" if gpu else "no",
        gradient_checkpointing=args.gradient_checkpointing,
        cpu=args.cpu,
        progress=False,
        overwrite=True,
    )
    started = time.perf_counter()
    result = train(config, on_event=on_event)
    wall = time.perf_counter() - started
    step_times = [b - a for a, b in zip(steps, steps[1:])][WARMUP_STEPS - 1 :]
    run_config = json.loads((out / "training_config.json").read_text())
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "mode": args.worker,
        "trainable_parameters": run_config["trainable_parameters"],
        "total_parameters": run_config["total_parameters"],
        "trainable_pct": run_config["trainable_pct"],
        "device": run_config["device"],
        "mixed_precision": run_config["mixed_precision"],
        "steps": len(steps),
        "step_time_s_median": round(statistics.median(step_times), 4) if step_times else None,
        "wall_s": round(wall, 2),
        # On a GPU: the peak of torch's allocations on it. On the CPU: the process's peak RSS
        # less what Python and the libraries took before any model was loaded (the same in
        # both modes, and not part of training), so both describe model + training memory.
        "peak_memory_mb": round(
            torch.cuda.max_memory_allocated() / 2**20 if gpu else peak_rss_mb - runtime_rss_mb, 1
        ),
        "memory_kind": "cuda max_memory_allocated" if gpu else "peak RSS minus runtime RSS",
        "peak_rss_mb": round(peak_rss_mb, 1),
        "runtime_rss_mb": round(runtime_rss_mb, 1),
        "rss_at_start_mb": round(seen.get("rss_at_start_mb", 0.0), 1),
        "saved_bytes": _saved_bytes(out),
        "final_val_loss": result.get("best_val_loss"),
    }))


def _run_mode(mode: str, args: argparse.Namespace, model: Path, data: Path, work: Path) -> dict[str, Any]:
    command = [
        sys.executable, __file__, "--worker", mode, "--worker-out", str(work / mode),
        "--model", str(model), "--data", str(data), "--steps", str(args.steps),
        "--batch-size", str(args.batch_size), "--threads", str(args.threads),
    ] + (["--cpu"] if args.cpu else []) + ([] if args.gradient_checkpointing else ["--no-gradient-checkpointing"])
    print(f"[finetune bench] {mode}: {args.steps} steps of {args.batch_size}", file=sys.stderr, flush=True)
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"{mode} run failed ({done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _build_data(work: Path, model: Path) -> Path:
    """A dataset from the demo catalog, in a throwaway data dir."""
    env = {**os.environ, "SHOPBOT_DATA_DIR": str(work / "data"), "HF_HUB_OFFLINE": "1"}
    for command in (
        [sys.executable, "-m", "shopbot", "ingest", str(ROOT / "catalog")],
        [sys.executable, "-m", "finetune", "build-dataset", "--out", str(work / "dataset"),
         "--tokenizer", str(model), "--no-feedback"],
    ):
        print("[finetune bench] " + " ".join(command[1:]), file=sys.stderr, flush=True)
        subprocess.run(command, check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    return work / "dataset"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default=None, help="finetune.tiny size (default: large; small with --quick)")
    parser.add_argument("--model", type=Path, default=None, help="use this model folder instead of building one")
    parser.add_argument("--data", type=Path, default=None, help="dataset folder (default: built from the demo catalog)")
    parser.add_argument("--steps", type=int, default=None, help="optimizer steps per mode (default 12; 4 with --quick)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    parser.add_argument("--cpu", action="store_true", help="stay on the CPU even with a GPU")
    parser.add_argument(
        "--no-gradient-checkpointing", dest="gradient_checkpointing", action="store_false",
        help="keep all activations (both modes); by default both modes recompute them, the "
        "memory-lean setting one fine-tunes with when memory is what limits",
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="results JSON (default bench/results/finetune.json)")
    parser.add_argument("--worker", choices=["lora", "full"], help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    args.steps = args.steps or (4 if args.quick else 12)
    size = args.size or ("small" if args.quick else "large")

    import torch

    from finetune.tiny import catalog_texts, make_tiny_t5

    with tempfile.TemporaryDirectory(prefix="bench-finetune-") as tmp:
        work = Path(tmp)
        model = args.model or make_tiny_t5(work / "model", catalog_texts(ROOT / "catalog"), size=size)
        data = args.data or _build_data(work, model)
        runs = {mode: _run_mode(mode, args, model, data, work) for mode in ("lora", "full")}
    lora, full = runs["lora"], runs["full"]
    result = {
        "trainable_pct": lora["trainable_pct"],
        "peak_memory_ratio": round(lora["peak_memory_mb"] / full["peak_memory_mb"], 4),
        "peak_rss_ratio": round(lora["peak_rss_mb"] / full["peak_rss_mb"], 4),
        "adapter_size_ratio": round(lora["saved_bytes"] / full["saved_bytes"], 6),
        "step_time_ratio": round(lora["step_time_s_median"] / full["step_time_s_median"], 4),
        "targets": TARGETS,
    }
    result["met"] = {key: result[key] <= target for key, target in TARGETS.items()}
    result.update({
        "lora": lora,
        "full": full,
        "model": {"size": args.size or (None if args.model else size), "path": str(args.model or "")},
        "steps": args.steps,
        "batch_size": args.batch_size,
        "gradient_checkpointing": args.gradient_checkpointing,
        "quick": args.quick,
        "device": lora["device"],
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() and not args.cpu else None,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__},
        "timestamp_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    })
    out = args.out or RESULTS / "finetune.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'':24}{'LoRA':>14}{'full':>14}")
    for label, key, fmt in (
        ("trainable parameters", "trainable_parameters", "{:,}"),
        ("trainable %", "trainable_pct", "{:.3f}"),
        ("peak memory (MB)", "peak_memory_mb", "{:,.0f}"),
        ("step time (s, median)", "step_time_s_median", "{:.3f}"),
        ("saved (bytes)", "saved_bytes", "{:,}"),
    ):
        print(f"{label:24}{fmt.format(lora[key]):>14}{fmt.format(full[key]):>14}")
    for key, target in TARGETS.items():
        print(f"{key}: {result[key]} (target <= {target}) {'met' if result['met'][key] else 'MISSED'}")
    print(f"peak_rss_ratio (whole process): {result['peak_rss_ratio']}")
    print(f"step_time_ratio: {result['step_time_ratio']}  -> {out}")


if __name__ == "__main__":
    main()
