"""``python -m finetune``: specialise a local Flan-T5 to this shop.

    python -m finetune make-tiny-t5 DIR                 # offline stand-in for a hub model
    python -m finetune build-dataset --out DIR          # train/val/test JSONL from the catalog
    python -m finetune train --model M --data D --out A # LoRA (or --full) on accelerate
    python -m finetune evaluate --model M --adapter A --data D
    python -m finetune adapters                         # trained adapters and their metrics
    python -m finetune activate A                       # the bot's flan-t5 serves A
    python -m finetune deactivate

Each command lives in its own module with ``add_arguments(parser)`` and ``run(args) -> int``;
modules import torch and transformers only inside ``run``, so ``--help`` is instant.
Results go to stdout, progress and logs to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import warnings
from collections.abc import Sequence

# command name -> (module, help). "adapters", "activate" and "deactivate" share a module.
COMMANDS: dict[str, tuple[str, str]] = {
    "make-tiny-t5": ("finetune.tiny", "build a small T5 + tokenizer from the catalog text, saved like a hub model"),
    "build-dataset": ("finetune.dataset", "write train/val/test JSONL of (question, context, answer)"),
    "train": ("finetune.train", "train a LoRA adapter (or all weights with --full) with accelerate"),
    "evaluate": ("finetune.evaluate", "ROUGE and fact accuracy of the base model and an adapter"),
    "adapters": ("finetune.adapters", "list trained adapters with their metrics"),
    "activate": ("finetune.adapters", "serve an adapter from the bot's flan-t5 generator"),
    "deactivate": ("finetune.adapters", "serve the base model again"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m finetune",
        description="Specialise a local Flan-T5 to this shop.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.split("\n\n")[1].splitlines()),
    )
    parser.add_argument("--log-level", help="override SHOPBOT_LOG_LEVEL (DEBUG, INFO, ...)")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        sub = commands.add_parser(name, help=help_text, description=help_text)
        configure = getattr(module, f"add_{name.replace('-', '_')}_arguments", None)
        (configure or module.add_arguments)(sub)
        handler = getattr(module, f"run_{name.replace('-', '_')}", None) or module.run
        sub.set_defaults(handler=handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    from shopbot.settings import get_settings

    logging.basicConfig(
        level=args.log_level or get_settings().log_level,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for name in ("httpx", "chromadb", "sentence_transformers", "unstructured", "pikepdf"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # peft 0.21 calls a transformers 5 method that warns about its own rename on every load.
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except (RuntimeError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
