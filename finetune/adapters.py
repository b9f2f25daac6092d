"""Trained adapters and which one the bot serves.

    python -m finetune adapters [--json]        # every adapter, its metrics, the active one
    python -m finetune activate NAME_OR_DIR [--merge]
    python -m finetune deactivate

Adapters live in ``<data_dir>/finetune/adapters/<name>/`` (``finetune train --out`` writes
them there by default); any folder holding ``adapter_config.json`` works. Activation is one
small file, ``<data_dir>/finetune/active.json`` (:mod:`shopbot.adapters`): every process
sharing the data dir serves it, a running app's flan-t5 generator reloads on its next answer,
and it survives restarts. Before writing it, :func:`activate` loads the adapter onto its base
model once on CPU, so a wrong folder or an adapter trained on another model is refused here,
with the active file unchanged, rather than breaking the shop's chat.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopbot.adapters import ActiveAdapter, clear_active, read_active, write_active

if TYPE_CHECKING:
    from shopbot.settings import Settings

log = logging.getLogger(__name__)

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
TRAINING_CONFIG = "training_config.json"
METRICS = "metrics.json"
METRICS_LOG = "metrics.jsonl"
EVALUATION = "evaluation.json"


@dataclass
class AdapterInfo:
    """One trained adapter (or ``--full`` model) as the listing and the Fine-tune page show
    it. Metrics are None where the file that holds them is missing."""

    name: str
    path: Path
    base_model: str | None
    created: str  # ISO 8601, UTC
    mode: str  # "lora" or "full"
    trainable_pct: float | None
    best_val_loss: float | None
    val_rouge_l: float | None  # best epoch on the validation split (metrics.json)
    test_rouge_l: float | None  # tuned row of evaluation.json
    base_test_rouge_l: float | None  # base row of evaluation.json, same examples
    test_fact_accuracy: float | None
    dataset: str | None
    size_bytes: int
    active: bool = False
    merge: bool = False  # active and served merged

    @property
    def rouge_l(self) -> float | None:
        """The ROUGE-L to show: the test split's when evaluated, else the validation one."""
        return self.test_rouge_l if self.test_rouge_l is not None else self.val_rouge_l

    @property
    def activatable(self) -> bool:
        return self.mode != "full"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path), "rouge_l": self.rouge_l}


# -- reading adapter folders ---------------------------------------------------------------


def adapters_dir(settings: Settings) -> Path:
    return settings.finetune_dir / "adapters"


def is_adapter_dir(path: Path) -> bool:
    """A PEFT adapter folder: what PeftModel.from_pretrained and the bot load."""
    return (Path(path) / ADAPTER_CONFIG).is_file()


def is_full_model_dir(path: Path) -> bool:
    """A ``finetune train --full`` output: a whole model, served as SHOPBOT_FLAN_T5_MODEL."""
    path = Path(path)
    return not is_adapter_dir(path) and (path / "config.json").is_file() and (
        path / TRAINING_CONFIG
    ).is_file()


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; {} when missing or unreadable (a half-written metrics
    file must not break the listing)."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def adapter_base_model(path: Path) -> str | None:
    """The model an adapter was trained on: ``training_config.json``'s ``base_model``, else
    PEFT's ``base_model_name_or_path``. A relative directory that exists from here is made
    absolute, so apps started elsewhere find it too."""
    path = Path(path)
    base = read_json(path / TRAINING_CONFIG).get("base_model") or read_json(
        path / ADAPTER_CONFIG
    ).get("base_model_name_or_path")
    if not base:
        return None
    local = Path(str(base)).expanduser()
    return str(local.resolve()) if local.exists() else str(base)


def resolve_adapter(settings: Settings, path_or_name: str | Path) -> Path:
    """An adapter folder from a path, or a bare name under ``<data_dir>/finetune/adapters``.
    Raises FileNotFoundError naming the adapters there when neither exists."""
    text = str(path_or_name).strip()
    if not text:
        raise ValueError("No adapter given: pass an adapter name or folder.")
    candidate = Path(text).expanduser()
    if candidate.exists():
        return candidate.resolve()
    bare = "/" not in text and "\\" not in text and not text.startswith((".", "~"))
    if bare and (adapters_dir(settings) / text).exists():
        return (adapters_dir(settings) / text).resolve()
    known = [info.name for info in list_adapters(settings)]
    where = f"{candidate}" + (f" nor {adapters_dir(settings) / text}" if bare else "")
    raise FileNotFoundError(
        f"No adapter {text!r}: neither {where} exists. "
        + (
            f"Adapters in {adapters_dir(settings)}: {', '.join(known)}."
            if known
            else f"{adapters_dir(settings)} holds none yet: train one with "
            "`python -m finetune train --model M --data D --out DIR`."
        )
    )


def describe(path: Path, active: ActiveAdapter | None = None) -> AdapterInfo:
    """What a listing shows for one adapter folder, from the files training and evaluation
    wrote there."""
    path = Path(path).resolve()
    config = read_json(path / TRAINING_CONFIG)
    metrics = read_json(path / METRICS)
    logged = _logged_metrics(path / METRICS_LOG)
    evaluation = read_json(path / EVALUATION)
    models = evaluation.get("models") if isinstance(evaluation.get("models"), dict) else {}
    tuned = models.get("tuned") or {}
    base = models.get("base") or {}
    is_active = active is not None and _same_path(active.adapter, path)
    return AdapterInfo(
        name=path.name,
        path=path,
        base_model=adapter_base_model(path),
        created=_created(path, config, metrics),
        mode=str(config.get("mode") or ("lora" if is_adapter_dir(path) else "full")),
        trainable_pct=_number(config, "trainable_pct"),
        best_val_loss=_first(
            _number(metrics, "best_val_loss", "val_loss"), logged.get("val_loss")
        ),
        val_rouge_l=_first(
            _number(metrics, "rougeL", "val_rougeL", "rouge_l"), logged.get("rougeL")
        ),
        test_rouge_l=_number(tuned, "rougeL"),
        base_test_rouge_l=_number(base, "rougeL"),
        test_fact_accuracy=_number(tuned, "fact_accuracy"),
        dataset=str(config["dataset"]) if config.get("dataset") else None,
        size_bytes=_size(path),
        active=is_active,
        merge=bool(is_active and active and active.merge),
    )


def list_adapters(
    settings: Settings, extra_dirs: list[Path] | tuple[Path, ...] = ()
) -> list[AdapterInfo]:
    """Every adapter under ``<data_dir>/finetune/adapters`` (and ``extra_dirs``: adapter
    folders themselves, or folders of them), newest first; the active one is marked."""
    active = read_active(settings)
    found: dict[Path, None] = {}
    for root in [adapters_dir(settings), *map(Path, extra_dirs)]:
        root = root.expanduser()
        if _listable(root):
            found[root.resolve()] = None
        elif root.is_dir():
            for child in sorted(root.iterdir()):
                if child.is_dir() and _listable(child):
                    found[child.resolve()] = None
    infos = [describe(path, active) for path in found]
    infos.sort(key=lambda info: (info.created, info.name), reverse=True)
    return infos


def _listable(path: Path) -> bool:
    return is_adapter_dir(path) or is_full_model_dir(path)


# -- loading an adapter, checked -----------------------------------------------------------


def load_adapter_model(model: str, adapter: Path, *, merge: bool = False) -> Any:
    """``model`` with the LoRA ``adapter`` on top (merged into its weights with ``merge``),
    on CPU, checked to fit: every LoRA weight in the file must match a layer of the model in
    name and shape. PEFT itself only warns about missing or unexpected keys, which would
    leave a partly adapted model that answers badly for no visible reason.

    Raises RuntimeError when the base model cannot be loaded, ValueError when the adapter
    does not fit it."""
    from finetune.modeling import load_model

    adapter = Path(adapter)
    if not is_adapter_dir(adapter):
        raise ValueError(_not_an_adapter(adapter))
    base = load_model(model)  # its own clear error when the model cannot be loaded
    try:
        from peft import PeftModel
        from peft.utils import get_peft_model_state_dict

        loaded = PeftModel.from_pretrained(base, str(adapter))
        expected = {k: tuple(v.shape) for k, v in get_peft_model_state_dict(loaded).items()}
    except Exception as exc:  # size mismatch, target modules absent, corrupt file
        raise ValueError(_does_not_fit(adapter, model, _first_line(exc))) from exc
    saved = _saved_shapes(adapter)
    if saved is not None and saved != expected:
        missing = sorted(set(expected) - set(saved))
        unexpected = sorted(set(saved) - set(expected))
        resized = sorted(k for k in set(saved) & set(expected) if saved[k] != expected[k])
        detail = "; ".join(
            f"{label}: {len(keys)} (e.g. {keys[0]})"
            for label, keys in (
                ("layers the model has that the adapter lacks", missing),
                ("adapter weights the model has no layer for", unexpected),
                ("weights of another shape", resized),
            )
            if keys
        )
        raise ValueError(_does_not_fit(adapter, model, detail))
    if merge:
        loaded = loaded.merge_and_unload()
    loaded.eval()
    return loaded


def _saved_shapes(adapter: Path) -> dict[str, tuple[int, ...]] | None:
    """Names and shapes of the LoRA weights in the adapter file, without loading them."""
    weights = adapter / ADAPTER_WEIGHTS[0]
    if not weights.is_file():
        return None  # the older .bin format: PEFT's own checks are all we have
    from safetensors import safe_open

    with safe_open(str(weights), framework="pt") as handle:
        return {key: tuple(handle.get_slice(key).get_shape()) for key in handle.keys()}


def _not_an_adapter(path: Path) -> str:
    if is_full_model_dir(path):
        return (
            f"{path} holds a fully fine-tuned model (`finetune train --full`), not a LoRA "
            f"adapter: serve it as the model itself with SHOPBOT_FLAN_T5_MODEL={path}."
        )
    return (
        f"{path} is not a LoRA adapter folder: it has no {ADAPTER_CONFIG}. Pass a folder "
        "written by `python -m finetune train --out DIR` (`python -m finetune adapters` "
        "lists them)."
    )


def _does_not_fit(adapter: Path, model: str, detail: str) -> str:
    return (
        f"The adapter {adapter} does not fit the base model {model} ({detail}). It was "
        "trained on another model: use the model it was trained on (its training_config.json "
        "names it; unset SHOPBOT_FLAN_T5_MODEL if that overrides it), or train an adapter "
        "on this model."
    )


# -- activation ----------------------------------------------------------------------------


def activate(settings: Settings, path_or_name: str | Path, merge: bool = False) -> ActiveAdapter:
    """Make the bot's flan-t5 generator serve an adapter, after loading it once on CPU onto
    the model the bot will use. Raises (and leaves the active file as it was) when it is
    not an adapter, its base model is unknown or cannot be loaded, or it does not fit."""
    path = resolve_adapter(settings, path_or_name)
    if not is_adapter_dir(path):
        raise ValueError(_not_an_adapter(path))
    base = adapter_base_model(path)
    if not base:
        raise ValueError(
            f"{path} does not say which model it was trained on (no base_model in "
            f"{TRAINING_CONFIG}, no base_model_name_or_path in {ADAPTER_CONFIG}). Add "
            f'"base_model_name_or_path": "<model id or folder>" to {path / ADAPTER_CONFIG}.'
        )
    served = settings.flan_t5_model or base  # what shopbot.adapters.flan_t5_choice will load
    model = load_adapter_model(served, path, merge=merge)
    del model
    return write_active(settings, path, base, merge)


def deactivate(settings: Settings) -> bool:
    """Serve the base model again. False when no adapter was active."""
    return clear_active(settings)


# -- CLI -----------------------------------------------------------------------------------


def add_adapters_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir", type=Path, action="append", default=[], metavar="DIR",
        help="also list this adapter folder, or the adapters in it (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run_adapters(args: argparse.Namespace) -> int:
    from shopbot.settings import get_settings

    settings = get_settings()
    infos = list_adapters(settings, args.dir)
    if args.json:
        print(json.dumps([info.to_dict() for info in infos], indent=2))
        return 0
    if not infos:
        print(
            f"No adapters in {adapters_dir(settings)}. Train one with `python -m finetune "
            "train --model M --data D --out DIR`."
        )
        return 0
    print(format_table(infos))
    active = next((info for info in infos if info.active), None)
    recorded = read_active(settings)
    if active is not None:
        print(f"\n* active: the bot's flan-t5 serves {active.name}"
              f"{' (merged)' if active.merge else ''} on {active.base_model}.")
    elif recorded is not None:
        print(f"\nactive: {recorded.adapter} (not in this listing).")
    else:
        print("\nNo adapter is active: flan-t5 serves its base model. "
              "Activate one with `python -m finetune activate NAME`.")
    return 0


def format_table(infos: list[AdapterInfo]) -> str:
    """A plain-text table, one adapter a row, aligned for a terminal."""
    header = ["", "name", "base model", "created", "mode", "trainable", "best val loss",
              "ROUGE-L", "size", "path"]
    rows = [header]
    for info in infos:
        rouge = "-"
        if info.test_rouge_l is not None:
            rouge = f"{info.test_rouge_l:.3f} test"
            if info.base_test_rouge_l is not None:
                rouge += f" (base {info.base_test_rouge_l:.3f})"
        elif info.val_rouge_l is not None:
            rouge = f"{info.val_rouge_l:.3f} val"
        rows.append([
            "*" if info.active else "",
            info.name,
            _short(info.base_model or "?"),
            info.created[:16].replace("T", " "),
            info.mode,
            f"{info.trainable_pct:.2f}%" if info.trainable_pct is not None else "-",
            f"{info.best_val_loss:.4f}" if info.best_val_loss is not None else "-",
            rouge,
            human_size(info.size_bytes),
            str(info.path),
        ])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows
    )


def add_activate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "adapter", metavar="NAME_OR_DIR",
        help="an adapter folder, or the name of one in <data_dir>/finetune/adapters",
    )
    parser.add_argument(
        "--merge", action="store_true",
        help="merge the adapter into the model's weights when the bot loads it (faster "
        "answers, same output)",
    )


def run_activate(args: argparse.Namespace) -> int:
    from shopbot.generators.registry import resolve_name
    from shopbot.settings import get_settings

    settings = get_settings()
    record = activate(settings, args.adapter, merge=args.merge)
    served = settings.flan_t5_model or record.base_model
    print(
        f"Activated {record.adapter.name}{' (merged)' if record.merge else ''}: the bot's "
        f"flan-t5 generator now serves {served} with the adapter {record.adapter}. Running "
        "apps pick it up on their next answer; new processes load it at start."
    )
    for note in _serving_notes(settings, resolve_name):
        print(f"note: {note}", file=sys.stderr)
    return 0


def add_deactivate_arguments(parser: argparse.ArgumentParser) -> None:
    """No options: there is at most one active adapter."""


def run_deactivate(args: argparse.Namespace) -> int:
    from shopbot.generators.flan_t5 import DEFAULT_MODEL
    from shopbot.settings import get_settings

    settings = get_settings()
    previous = read_active(settings)
    if not deactivate(settings):
        print("No adapter was active: flan-t5 already serves its model without one.")
        return 0
    name = previous.adapter.name if previous else "the adapter"
    if settings.flan_t5_model:
        print(
            f"Deactivated {name}: flan-t5 serves {settings.flan_t5_model} without an adapter "
            "from its next answer."
        )
        return 0
    print(f"Deactivated {name}: flan-t5 serves no adapter from its next answer.")
    generator = settings.generator.strip().lower()
    if generator == "auto":
        print(
            "note: SHOPBOT_GENERATOR is auto and SHOPBOT_FLAN_T5_MODEL is empty, so the bot "
            "answers with another backend again (OpenAI with a key, else extractive).",
            file=sys.stderr,
        )
    elif generator == "flan-t5" and previous is not None:
        print(
            f"note: SHOPBOT_FLAN_T5_MODEL is empty, so flan-t5 loads {DEFAULT_MODEL}; set "
            f"SHOPBOT_FLAN_T5_MODEL={previous.base_model} to keep serving the base model the "
            "adapter was trained on.",
            file=sys.stderr,
        )
    return 0


def _serving_notes(settings: Settings, resolve_name: Any) -> list[str]:
    """Settings in this environment that would keep the activation from being served."""
    notes = []
    if settings.flan_t5_adapter is not None:
        notes.append(
            f"SHOPBOT_FLAN_T5_ADAPTER={settings.flan_t5_adapter} is set here and wins over "
            "the activation; unset it to serve the activated adapter."
        )
    try:
        backend = resolve_name(settings)
    except ValueError:
        backend = None
    if backend not in (None, "flan-t5"):
        notes.append(
            f"the bot answers with {backend} (SHOPBOT_GENERATOR={settings.generator}); choose "
            "flan-t5 on the Model page or set SHOPBOT_GENERATOR=flan-t5 to use the adapter."
        )
    return notes


# -- helpers -------------------------------------------------------------------------------


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def _size(path: Path) -> int:
    """Bytes on disk of the adapter itself: resume checkpoints are left out, since they are
    not what is served (and may be deleted)."""
    total = 0
    for file in path.rglob("*"):
        if file.is_file() and "checkpoints" not in file.relative_to(path).parts:
            total += file.stat().st_size
    return total


def _created(path: Path, config: dict[str, Any], metrics: dict[str, Any]) -> str:
    for source in (config, metrics):
        for key in ("created_at", "finished_at", "started_at"):
            if isinstance(source.get(key), str) and source[key]:
                return source[key]
    marker = path / ADAPTER_CONFIG if is_adapter_dir(path) else path / "config.json"
    stamp = marker.stat().st_mtime if marker.exists() else path.stat().st_mtime
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")


def _number(data: dict[str, Any], *keys: str) -> float | None:
    """The first of ``keys`` holding a number, at the top level or one level down (e.g.
    ``{"best": {"val_loss": ...}}``)."""
    for scope in [data, *(v for v in data.values() if isinstance(v, dict))]:
        for key in keys:
            value = scope.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
    return None


def _first(*values: float | None) -> float | None:
    return next((value for value in values if value is not None), None)


def _logged_metrics(path: Path) -> dict[str, float]:
    """Best-epoch val loss and ROUGE-L from metrics.jsonl, for a run that has no
    metrics.json yet (still training, or stopped)."""
    best: dict[str, float] = {}
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError:
        return best
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue  # the line being written
        if not isinstance(event, dict) or event.get("event") != "epoch":
            continue
        loss = event.get("val_loss")
        if isinstance(loss, (int, float)) and ("val_loss" not in best or loss < best["val_loss"]):
            best = {"val_loss": float(loss)}
            if isinstance(event.get("rougeL"), (int, float)):
                best["rougeL"] = float(event["rougeL"])
    return best


def _same_path(a: Path, b: Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1):]


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    # torch's "Error(s) in loading state_dict for X:" says nothing; the next line does.
    return lines[1] if lines[0].startswith("Error(s) in loading") and len(lines) > 1 else lines[0]
