"""Mark the answer phrase inside the quoted sentence: the name, number, date or place asked for.

Candidates come from qa/search/phrases.py (every phrase of the question's kind that the question
does not already hold). A small logistic model (weights in qa/models/chooser.json, trained
by benchmarks/train_chooser.py) scores each from where it sits: how near the question's own
words, after them or before, after "by" or a place word, how many rivals it has, and how
sure the chooser is of the sentence. The best is marked only above a threshold chosen for
precision: no span is better than a wrong one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from .answer import AnswerSpan, Citation
from .answer_type import KINDS, OTHER, QuestionView, echoed, terms_at
from .choose import load_model
from .phrases import Phrase, find_phrases, titled

_WORD = re.compile(r"\w+")
PLACE_WORDS = frozenset("in at from near to across into inside outside throughout".split())
SPAN_FEATURES = (
    "sentence_probability", "distance", "after", "nearest", "rivals", "length", "sentence_start",
    "partly_echoed", "after_by", "after_place_word", "in_brackets", *(f"kind_{kind}" for kind in KINDS),
)  # fmt: skip


def phrase_candidates(view: QuestionView, text: str) -> list[Phrase]:
    """Phrases of the asked-for kind in `text` that add something to the question."""
    if view.kind == OTHER:
        return []
    found = [p for p in find_phrases(text, view.kind) if not echoed(view, text[p.start : p.end])]
    if view.kind in ("organisation", "place"):  # (the chooser's features keep them: it was trained so)
        found = [p for p in found if not titled(text[p.start : p.end])]
    return found


def phrase_features(
    view: QuestionView, text: str, phrases: Sequence[Phrase], probability: float
) -> np.ndarray:
    """One row of SPAN_FEATURES per phrase."""
    words = list(_WORD.finditer(text))
    stems = {start: stem for start, _, stem in terms_at(text)}
    matches = [i for i, w in enumerate(words) if stems.get(w.start()) in view.terms]
    rows = []
    distances = [distance(words, matches, p) for p in phrases]
    for p, (gap, after) in zip(phrases, distances, strict=True):
        before = text[: p.start].split()
        prev = before[-1].lower() if before else ""
        inside = [w.group().lower() for w in words if p.start <= w.start() < p.end]
        partly = sum(w in view.words for w in inside) / max(len(inside), 1)
        rows.append([
            probability, math.log1p(gap), after, float(gap == min(d for d, _ in distances)),
            math.log1p(len(phrases) - 1), math.log1p(len(inside)), float(not before), partly,
            float(prev == "by"), float(prev in PLACE_WORDS),
            float(text[: p.start].count("(") > text[: p.start].count(")")),
            *(float(kind == p.kind) for kind in KINDS),
        ])  # fmt: skip
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(SPAN_FEATURES))


def distance(words: Sequence[re.Match[str]], matches: Sequence[int], phrase: Phrase) -> tuple[float, float]:
    """Words between the phrase and the nearest of the question's words in the sentence
    (99 when none is there), and 1.0 when the phrase comes after that word."""
    inside = [i for i, w in enumerate(words) if phrase.start <= w.start() < phrase.end]
    if not inside or not matches:
        return 99.0, 0.0
    first, last = inside[0], inside[-1]
    gaps = [(first - m if m < first else m - last if m > last else 0, m < first) for m in matches]
    gap, after = min(gaps)
    return float(gap), float(after)


def probabilities(rows: np.ndarray, model: dict[str, Any]) -> np.ndarray:
    """The span model's probability that each phrase is (part of) the answer."""
    x = (rows - np.asarray(model["mean"])) / np.asarray(model["scale"])
    return 1.0 / (1.0 + np.exp(-(x @ np.asarray(model["weights"]) + model["bias"])))


def answer_span(question: QuestionView, cited: Citation) -> AnswerSpan | None:
    """The answer phrase inside the cited sentence, or None when no phrase stands out.
    The citation's score is the chooser's probability for the sentence (a feature)."""
    phrases = phrase_candidates(question, cited.text)
    if not phrases:
        return None
    model = load_model()["span"]
    p = probabilities(phrase_features(question, cited.text, phrases, cited.score), model)
    best = int(np.argmax(p))
    if p[best] < model["threshold"]:
        return None
    phrase = phrases[best]
    start, end = cited.start + phrase.start, cited.start + phrase.end
    return AnswerSpan(cited.article_id, start, end, cited.text[phrase.start : phrase.end], phrase.kind)
