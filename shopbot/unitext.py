"""Text that can be encoded: lone surrogates found and replaced.

A JSON string may carry ``"\\ud800"`` (a UTF-16 surrogate with no partner) and Python's own
``surrogateescape`` turns undecodable bytes (command-line arguments, file names) into
``\\udc80``..``\\udcff``. Such a string is a valid ``str`` but cannot be encoded as UTF-8:
the tokenizer, a log handler, a JSON response or the database fails on it much later,
far from where it came in. Entry points refuse it (the HTTP API answers 400) or replace
it (the chain) with U+FFFD, so none reaches the code behind them.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
# Any surrogate code point left in a str is unpaired: decoders join valid pairs into one
# code point (json.loads turns "\ud83d\ude00" into one emoji), so a surrogate is never part
# of well-formed text.
_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate_at(text: str) -> int | None:
    """The index of the first lone surrogate in ``text``, or None when it has none."""
    match = _SURROGATE.search(text)
    return match.start() if match else None


def without_lone_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (unchanged when it has none)."""
    return _SURROGATE.sub(REPLACEMENT, text)
