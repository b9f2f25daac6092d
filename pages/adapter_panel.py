"""What the Model and Fine-tune pages both show of fine-tuned adapters: the list with metrics,
the base-vs-tuned evaluation table, which one the shop serves, and Activate / Deactivate.

Activation is shop-wide (``<data_dir>/finetune/active.json``): every session's next answer
uses it (pages.common keys the shared assistant on the generator the settings pick, and a
loaded flan-t5 generator reloads when the file changes)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from shopbot.settings import Settings


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def evaluation_rows(evaluation: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per model of an evaluation.json (base, then tuned)."""
    rows = []
    for row in (evaluation.get("models") or {}).values():
        rows.append(
            {
                "model": row.get("label", ""),
                "examples": row.get("examples"),
                "ROUGE-1": row.get("rouge1"),
                "ROUGE-2": row.get("rouge2"),
                "ROUGE-L": row.get("rougeL"),
                "ROUGE-Lsum": row.get("rougeLsum"),
                "fact accuracy": _percent(row.get("fact_accuracy")),
            }
        )
    return rows


def render_evaluation(evaluation: dict[str, Any] | None) -> None:
    """The before/after table, or a note that the adapter was not evaluated."""
    if not evaluation:
        st.caption("Not evaluated yet: `python -m finetune evaluate --adapter DIR --data D` scores it.")
        return
    st.dataframe(
        evaluation_rows(evaluation),
        hide_index=True,
        width="stretch",
        column_config={
            name: st.column_config.NumberColumn(format="%.3f")
            for name in ("ROUGE-1", "ROUGE-2", "ROUGE-L", "ROUGE-Lsum")
        },
    )
    st.caption(
        f"{evaluation.get('examples', '?')} examples of the {evaluation.get('split', 'test')} split, "
        "greedy decoding as the bot answers. ROUGE is the mean F-measure (0–1); fact accuracy is "
        "the share of answers containing every expected fact (price, stock, brand…)."
    )
    for note in evaluation.get("notes") or []:
        st.caption(f"Note: {note}")


def activate_adapter(settings: Settings, path: str, label: str) -> bool:
    """Activate with a spinner; errors (the adapter does not fit its base model, the base
    model cannot be loaded) are shown, never raised."""
    from finetune.adapters import activate

    with st.spinner(f"Checking that {label} loads on its base model…"):
        try:
            activate(settings, path)
        except (ValueError, RuntimeError, OSError) as exc:
            st.error(f"Could not activate {label}: {exc}")
            return False
    st.toast(f"{label} is now served by the shop's flan-t5 generator.", icon=":material/check_circle:")
    return True


def render_active(settings: Settings, key: str) -> None:
    """Which adapter the shop serves, with a Deactivate button."""
    from finetune.adapters import deactivate
    from shopbot.adapters import flan_t5_choice, read_active
    from shopbot.generators import resolve_name

    active = read_active(settings)
    if active is None:
        st.caption("No adapter is active: the flan-t5 generator serves its base model.")
    else:
        st.success(
            f"Active adapter: **{active.adapter.name}** on {active.base_model}"
            + (" (merged)" if active.merge else "")
            + (f", since {active.activated_at[:16].replace('T', ' ')} UTC" if active.activated_at else ""),
            icon=":material/check_circle:",
        )
        if st.button("Deactivate", key=f"{key}_deactivate", icon=":material/block:"):
            deactivate(settings)
            st.toast("Adapter deactivated: flan-t5 serves its base model again.")
            st.rerun()
        choice = flan_t5_choice(settings)
        if choice.adapter is not None and not choice.from_activation:
            st.warning(
                f"SHOPBOT_FLAN_T5_ADAPTER={choice.adapter} is set and wins over the activation; "
                "unset it to serve the activated adapter."
            )
    try:
        backend = resolve_name(settings)
    except ValueError:
        backend = settings.generator
    if active is not None and backend != "flan-t5":
        st.caption(
            f"The shop answers with **{backend}** (SHOPBOT_GENERATOR={settings.generator}), so "
            "the adapter is used once the generator is flan-t5 (on the Model page for your "
            "session, or SHOPBOT_GENERATOR=flan-t5 / auto for the shop)."
        )


def render_adapters(settings: Settings, *, key: str, selected: str | None = None) -> None:
    """The adapters table, the chosen adapter's evaluation, Activate / Deactivate."""
    from finetune.adapters import human_size, list_adapters

    render_active(settings, key)
    try:
        infos = list_adapters(settings)
    except (OSError, ValueError) as exc:
        st.error(f"Could not list the adapters: {exc}")
        return
    if not infos:
        st.info("No adapters yet: train one on the Fine-tune page.")
        return
    st.dataframe(
        [
            {
                "active": "✓" if info.active else "",
                "name": info.name,
                "base model": info.base_model or "?",
                "created": info.created[:16].replace("T", " "),
                "ROUGE-L base": info.base_test_rouge_l,
                "ROUGE-L tuned": info.rouge_l,
                "fact accuracy": _percent(info.test_fact_accuracy),
                "best val loss": info.best_val_loss,
                "trainable": _percent(info.trainable_pct / 100) if info.trainable_pct is not None else "–",
                "size": human_size(info.size_bytes),
            }
            for info in infos
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "ROUGE-L base": st.column_config.NumberColumn(format="%.3f"),
            "ROUGE-L tuned": st.column_config.NumberColumn(format="%.3f"),
            "best val loss": st.column_config.NumberColumn(format="%.4f"),
        },
    )
    by_name = {info.name: info for info in infos}
    names = list(by_name)
    index = names.index(selected) if selected in by_name else 0
    name = st.selectbox("Adapter", names, index=index, key=f"{key}_adapter_choice")
    info = by_name[name]
    from finetune.adapters import read_json

    render_evaluation(read_json(info.path / "evaluation.json") or None)
    if info.active:
        st.caption(f"{info.name} is the active adapter.")
    elif not info.activatable:
        st.caption(
            f"{info.name} is a fully fine-tuned model: serve it with SHOPBOT_FLAN_T5_MODEL={info.path}."
        )
    elif st.button("Activate", key=f"{key}_activate", type="primary", icon=":material/rocket_launch:"):
        if activate_adapter(settings, str(info.path), info.name):
            st.rerun()
