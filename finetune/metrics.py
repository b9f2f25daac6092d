"""ROUGE (via Google's ``rouge-score``) and exact-fact accuracy."""

from __future__ import annotations

import re
from collections.abc import Sequence

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")


def rouge(predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Mean F-measure of ROUGE-1/2/L/Lsum, in [0, 1] (stemmed, as ``evaluate`` does)."""
    from rouge_score import rouge_scorer

    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    if not predictions:
        return {name: 0.0 for name in ROUGE_TYPES}
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    totals = dict.fromkeys(ROUGE_TYPES, 0.0)
    for prediction, reference in zip(predictions, references):
        # rougeLsum splits summaries on newlines.
        scores = scorer.score(_lines(reference), _lines(prediction))
        for name in ROUGE_TYPES:
            totals[name] += scores[name].fmeasure
    return {name: round(total / len(predictions), 4) for name, total in totals.items()}


def fact_accuracy(predictions: Sequence[str], facts: Sequence[Sequence[str]]) -> float | None:
    """Share of answers that contain every expected fact (a price such as ``$349.00``, a
    stock count, a brand, an attribute value), compared case- and space-insensitively, with
    thousands separators ignored. Examples without facts are not counted; None if none has."""
    checked = hits = 0
    for prediction, expected in zip(predictions, facts):
        if not expected:
            continue
        checked += 1
        text = _normalise(prediction)
        hits += all(_normalise(fact) in text for fact in expected)
    return round(hits / checked, 4) if checked else None


def _normalise(text: str) -> str:
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text.lower())
    return " ".join(text.split())


def _lines(text: str) -> str:
    return "\n".join(part.strip() for part in re.split(r"(?<=[.!?])\s+", text.strip()) if part)
