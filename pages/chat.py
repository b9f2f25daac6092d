"""Shopper chat: questions in, streamed answers out, with the products and passages they
came from, a thumbs up/down per answer, standing filters as removable chips, and
comparison tables built from the catalog records."""

from __future__ import annotations

import uuid

import streamlit as st

from pages.common import (
    active_assistant,
    answer_markdown,
    answer_stream,
    catalog_service,
    comparison_message,
    comparison_tray,
    md_escape,
    render_comparison,
    seeding_banner,
    seeding_notice,
    render_corrections,
    render_sources,
    save_feedback,
)
from pages.errors import friendly_errors
from shopbot.constraints import Constraints
from shopbot.generators import GeneratorUnavailable, Turn

STARTERS = [
    "How much is the Alpine 2 Tent?",
    "Which headlamps do you have?",
    "How long do I have to return an item?",
    "What US size is an EU 42 boot?",
]

service = catalog_service()
state = st.session_state
state.setdefault("messages", [])
state.setdefault("session_id", uuid.uuid4().hex)
# The shopper's standing filters (budget, brand, colour, size, stock): on until removed.
state.setdefault("filters", {})

# Read the question first (the input is pinned to the bottom wherever it is called), so that
# "New chat" is already enabled in the run that answers the first question.
prompt = st.chat_input("Ask about products, prices, sizes, stock or our policies")
prompt = prompt or state.pop("pending_prompt", None)

header, reset = st.columns([5, 1], vertical_alignment="bottom")
header.title("Ask our shop assistant")
if reset.button("New chat", icon=":material/add_comment:", disabled=not (state.messages or prompt)):
    state.messages = []
    state.filters = {}
    st.rerun()

seeding_banner(service)
if service.is_empty() and not seeding_notice(service):
    st.info(
        "The catalog is empty, so there is nothing to answer from yet. Staff: sign in and "
        "upload product lists, spec sheets and policies on the Catalog page."
    )

for index, message in enumerate(state.messages):
    with st.chat_message(message["role"]):
        st.markdown(answer_markdown(message["content"], message.get("sources") or []))
        if message["role"] == "assistant":
            if message.get("notice"):
                st.caption(message["notice"])
            if message.get("comparison"):
                render_comparison(message["comparison"])
            render_corrections(message)
            render_sources(
                message.get("sources", []), compare_key=f"m{index}", answer=message["content"]
            )
            save_feedback(index, message)



def _use_starter() -> None:
    state.pending_prompt, state.starter = state.starter, None


def _drop_unanswered() -> None:
    if state.messages and state.messages[-1]["role"] == "user":
        state.messages.pop()


if not state.messages and not prompt:
    st.pills("Try asking", STARTERS, key="starter", on_change=_use_starter)

if prompt:
    history = [Turn(m["role"], m["content"]) for m in state.messages]
    state.messages.append({"role": "user", "content": prompt})
    with st.chat_message("user"):
        st.markdown(answer_markdown(prompt))
    # An unexpected failure while answering: a short message here, the traceback in the
    # log, and the unanswered question leaves the history (pages/errors.py).
    with st.chat_message("assistant"), friendly_errors("while answering", _drop_unanswered):
        try:
            stream = active_assistant().stream(
                prompt, history, Constraints.from_dict(state.filters)
            )
        except GeneratorUnavailable as exc:
            st.error(f"The assistant is not set up yet: {exc}")
            state.messages.pop()
            st.stop()
        text = st.write_stream(answer_stream(stream, stream.sources))
        answer = stream.complete()
        if answer.constraints is not None:
            state.filters = answer.remember.to_dict()
        message = {
            "role": "assistant",
            "content": answer.text or str(text),
            "sources": [s.to_dict(with_text=True) for s in answer.sources],
            "question": prompt,
            "standalone_question": answer.standalone_question,
            "generator": answer.generator,
            "comparison": answer.comparison.to_dict() if answer.comparison else None,
            "corrections": [c.to_dict() for c in answer.corrections],
            "flagged": list(answer.flagged),
        }
        notice = seeding_notice(service)
        if notice:
            message["notice"] = notice
        state.messages.append(message)
        if notice:
            st.caption(notice)
        if message["comparison"]:
            render_comparison(message["comparison"])
        render_corrections(message)
        render_sources(
            message["sources"],
            compare_key=f"m{len(state.messages) - 1}",
            answer=message["content"],
        )
        save_feedback(len(state.messages) - 1, message)


def _drop_filter(chip: str) -> None:
    state.filters = Constraints.from_dict(state.filters).without(chip).to_dict()


# Standing filters as chips above the input; a click removes one.
chips = Constraints.from_dict(state.filters).chips()
if chips:
    with st.container(horizontal=True, vertical_alignment="center", key="filter_chips"):
        st.caption("Filters on:")
        for chip in chips:
            st.button(
                md_escape(chip),
                key=f"drop-filter-{chip}",
                icon=":material/close:",
                help="Remove this filter from the next answers",
                on_click=_drop_filter,
                args=(chip,),
                type="tertiary",
            )

# Products picked with the cards' "Compare" boxes; the table joins the chat.
made = comparison_tray(service)
if made is not None:
    state.messages.append(comparison_message(made))
    st.rerun()
