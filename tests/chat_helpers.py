"""Helpers for tests that hold a conversation with the assistant as the chat page does."""

from __future__ import annotations

from shopbot.generators import Turn


def first_named(text: str, titles: list[str]) -> str | None:
    """The title the answer names first, of ``titles``."""
    found = [(text.find(t), t) for t in titles if t in text]
    return min(found)[1] if found else None


def conversation(assistant, *turns: str):
    """Ask ``turns`` as the chat does (history and remembered filters); every answer."""
    history, remembered, answers = [], None, []
    for turn in turns:
        answer = assistant.ask(turn, history, remembered)
        history += [Turn("user", turn), Turn("assistant", answer.text)]
        remembered = answer.remember
        answers.append(answer)
    return answers
