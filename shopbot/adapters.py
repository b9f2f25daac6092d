"""Which fine-tuned LoRA adapter the ``flan-t5`` generator serves.

``python -m finetune activate DIR`` (and the Model / Fine-tune pages) write
``<data_dir>/finetune/active.json``; the flan-t5 generator reads it when
``SHOPBOT_FLAN_T5_ADAPTER`` is not set, so an activation applies to every process that shares
the data dir, and survives restarts. Explicit settings always win over the file.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shopbot.settings import Settings


@dataclass(frozen=True)
class ActiveAdapter:
    adapter: Path
    base_model: str
    merge: bool = False
    activated_at: str = ""


@dataclass(frozen=True)
class FlanT5Choice:
    """What the flan-t5 generator loads, and where each part came from."""

    model: str | None
    adapter: Path | None
    merge: bool
    from_activation: bool
    # When the activation was written: re-activating (e.g. a retrained adapter at the same
    # path) makes a different choice, so a loaded generator reloads.
    activated_at: str = ""


def active_file(settings: Settings) -> Path:
    return settings.finetune_dir / "active.json"


def read_active(settings: Settings) -> ActiveAdapter | None:
    """The activated adapter, or None (also when the file is unreadable: the bot then runs
    without an adapter rather than not at all)."""
    path = active_file(settings)
    try:
        data = json.loads(path.read_text("utf-8"))
        return ActiveAdapter(
            adapter=Path(data["adapter"]),
            base_model=str(data["base_model"]),
            merge=bool(data.get("merge", False)),
            activated_at=str(data.get("activated_at", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_active(settings: Settings, adapter: Path, base_model: str, merge: bool = False) -> ActiveAdapter:
    """Record ``adapter`` (trained on ``base_model``) as the one to serve. Written atomically,
    so a reader never sees half a file."""
    record = ActiveAdapter(
        adapter=Path(adapter).resolve(),
        base_model=base_model,
        merge=merge,
        activated_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    path = active_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {**asdict(record), "adapter": str(record.adapter)}
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
        json.dump(data, tmp, indent=2)
    os.replace(tmp.name, path)
    return record


def clear_active(settings: Settings) -> bool:
    """Serve the base model again. False when no adapter was active."""
    try:
        active_file(settings).unlink()
    except FileNotFoundError:
        return False
    return True


def flan_t5_choice(settings: Settings) -> FlanT5Choice:
    """Model and adapter for the flan-t5 generator: SHOPBOT_FLAN_T5_ADAPTER when set, else the
    activated adapter (with its base model unless SHOPBOT_FLAN_T5_MODEL names one)."""
    if settings.flan_t5_adapter is not None:
        return FlanT5Choice(
            settings.flan_t5_model, settings.flan_t5_adapter, settings.flan_t5_merge_adapter, False
        )
    active = read_active(settings)
    if active is None:
        return FlanT5Choice(settings.flan_t5_model, None, False, False)
    return FlanT5Choice(
        settings.flan_t5_model or active.base_model,
        active.adapter,
        active.merge or settings.flan_t5_merge_adapter,
        True,
        active.activated_at,
    )


def activation_version(settings: Settings) -> int:
    """Changes whenever an adapter is activated or deactivated (the record's mtime in ns, 0
    when none is active). Cheap (one ``stat``): a cache that picks the generator *kind* once
    (``SHOPBOT_GENERATOR=auto``) can put it in its key, so activating the first adapter
    switches an extractive bot to flan-t5. A loaded flan-t5 generator needs no such help: it
    compares :func:`flan_t5_choice` with what it loaded at every answer."""
    try:
        return active_file(settings).stat().st_mtime_ns
    except OSError:
        return 0
