"""Staff: which generator answers and why; try another one with its parameters in this
session; time a test question; activate a fine-tuned adapter for the whole shop. An API key
typed here stays in this browser session only."""

import time

import streamlit as st

from pages.adapter_panel import render_adapters
from pages.common import (
    active_assistant,
    answer_markdown,
    catalog_service,
    md_escape,
    require_staff,
)
from shopbot.adapters import flan_t5_choice
from shopbot.generators import GeneratorUnavailable, available, explain_choice, resolve_name

require_staff()
service = catalog_service()
state = st.session_state
overrides = dict(state.get("model_overrides", {}))
current = service.with_settings(overrides).settings
if state.get("session_api_key"):
    current = current.model_copy(update={"openai_api_key": state.session_api_key})


def explain_with_adapter(settings) -> str:
    """explain_choice, plus which LoRA adapter flan-t5 serves and where that comes from."""
    text = explain_choice(settings)
    try:
        backend = resolve_name(settings)
    except ValueError:
        return text
    if backend != "flan-t5":
        return text
    choice = flan_t5_choice(settings)
    if choice.adapter is None:
        return f"{text} No adapter: the base model answers."
    if choice.adapter.name in text:
        return text
    origin = "activated for the shop" if choice.from_activation else "from SHOPBOT_FLAN_T5_ADAPTER"
    return f"{text} Adapter: {choice.adapter.name} ({origin})."


st.title("Model")
st.info(f"Answering now: **{explain_with_adapter(current)}**", icon=":material/smart_toy:")
st.caption(
    "Changes here apply to your browser session, so you can try a model before switching "
    "the shop over. The shop's default comes from SHOPBOT_GENERATOR and the other settings."
)

names = ["auto", *available()]
with st.form("model_settings"):
    generator = st.selectbox("Generator", names, index=names.index(current.generator) if current.generator in names else 0)
    top_k = st.slider("Sources per answer (top-k)", 1, 20, current.retrieval_k)
    st.markdown("**OpenAI or an OpenAI-compatible server**")
    openai_model = st.text_input("Model name", current.openai_model)
    base_url = st.text_input("Base URL", current.openai_base_url or "", placeholder="empty = api.openai.com")
    api_key = st.text_input(
        "API key (kept in this session only)", type="password",
        placeholder="set" if state.get("session_api_key") else "empty = use the server's OPENAI_API_KEY",
    )
    temperature = st.slider("Temperature", 0.0, 2.0, float(current.openai_temperature), 0.1)
    max_tokens = st.number_input("Max tokens", 16, 4096, int(current.openai_max_tokens), 16)
    st.markdown("**Local Flan-T5**")
    flan_model = st.text_input("Model (hub id or directory)", current.flan_t5_model or "", placeholder="google/flan-t5-base")
    adapter = st.text_input("LoRA adapter directory", str(current.flan_t5_adapter or ""))
    new_tokens = st.number_input("Max new tokens", 8, 1024, int(current.flan_t5_max_new_tokens), 8)
    apply, reset = st.columns(2)
    applied = apply.form_submit_button("Apply to my session", type="primary")
    cleared = reset.form_submit_button("Back to the shop's default")

if applied:
    state.model_overrides = {
        "generator": generator,
        "retrieval_k": int(top_k),
        "openai_model": openai_model.strip() or "gpt-3.5-turbo",
        "openai_base_url": base_url.strip() or None,
        "openai_temperature": float(temperature),
        "openai_max_tokens": int(max_tokens),
        "flan_t5_model": flan_model.strip() or None,
        "flan_t5_adapter": adapter.strip() or None,
        "flan_t5_max_new_tokens": int(new_tokens),
    }
    if api_key:
        state.session_api_key = api_key
    st.rerun()
if cleared:
    for key in ("model_overrides", "session_api_key", "_private_assistant"):
        state.pop(key, None)
    st.rerun()

st.subheader("Test question")
question = st.text_input("Question", "How much is the Alpine 2 Tent?", key="test_question")
if st.button("Ask", icon=":material/play_arrow:"):
    started = time.perf_counter()
    try:
        answer = active_assistant().ask(question)
    except GeneratorUnavailable as exc:
        st.error(str(exc))
    else:
        elapsed = time.perf_counter() - started
        (st.warning if answer.failed else st.success)(f"{answer.generator} answered in {elapsed * 1000:,.0f} ms")
        st.markdown(answer_markdown(answer.text, answer.sources))
        st.caption(
            md_escape("Sources: " + ", ".join(f"[{n}] {s.title}" for n, s in enumerate(answer.sources, 1)))
        )

st.subheader("Fine-tuned adapters")
st.caption(
    "LoRA adapters trained on the Fine-tune page (or `python -m finetune train`). Activating "
    "one is shop-wide: the flan-t5 generator serves it from the next answer on, in every "
    "session and after restarts."
)
render_adapters(service.settings, key="model")
