"""Pure scoring functions for `qa eval`: ranking metrics, SQuAD answer matching, percentiles.

No I/O and no qa imports: each function takes plain lists (rankings are ids, best first)
and returns a number, so every one can be checked by hand and against ir-measures.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Iterable, Mapping, Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = frozenset(string.punctuation)
_LETTER_MARK_DIGIT = re.compile(r"(?<=[^\W\d_])[^\w\s]+(?=\d)")


def normalize_answer(text: str) -> str:
    """The official SQuAD normalisation: lower case, no punctuation, no a/an/the, single spaces.

    Example: "The  U.S.-led Coalition!" -> "usled coalition"
    """
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """True when a normalised gold answer occurs in the normalised text as whole words.

    Whole words, so that the answer "10" is not found in "100". Punctuation between a
    letter and a digit is also tried as a space, because deleting it glues a word to a
    reference mark ("Sekulić.:32" -> "sekulić32"). Example:
    contains_answer("About 10,000 troops.", ["10,000"]) -> True
    """
    golds = [g for g in answers if normalize_answer(g)]
    for norm in (normalize_answer, _split_normalize):
        haystack = f" {norm(text)} "
        if any(f" {norm(gold)} " in haystack for gold in golds):
            return True
    return False


def _split_normalize(text: str) -> str:
    """normalize_answer, with letter-punctuation-digit runs split. Example: "Sekulić.:32" -> "sekulić 32" """
    return normalize_answer(_LETTER_MARK_DIGIT.sub(" ", text))


def answer_rank(texts: Sequence[str], answers: Sequence[str]) -> int | None:
    """1-based rank of the first text holding a gold answer, or None.

    Example: answer_rank(["no", "yes: Paris"], ["Paris"]) -> 2
    """
    if not answers:
        return None
    return next((i for i, text in enumerate(texts, start=1) if contains_answer(text, answers)), None)


def unique(ids: Iterable[str]) -> list[str]:
    """Ids in first-seen order, repeats dropped: passage ranks become article ranks.

    Example: ["a", "b", "a", "c"] -> ["a", "b", "c"]
    """
    return list(dict.fromkeys(ids))


def first_relevant(ranking: Sequence[str], relevant: Iterable[str]) -> int | None:
    """1-based rank of the first relevant id, or None. Example: (["x", "a"], {"a"}) -> 2"""
    wanted = set(relevant)
    return next((i for i, doc in enumerate(ranking, start=1) if doc in wanted), None)


def within(rank: int | None, k: int) -> float:
    """1.0 when a rank exists and is at most k: Hit@k and AnswerRecall@k of one question."""
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(rank: int | None, k: int = 10) -> float:
    """MRR@k of one question from its first relevant rank. Example: rank 4 -> 0.25; 11 -> 0.0"""
    return 1.0 / rank if rank is not None and rank <= k else 0.0


def ndcg(ranking: Sequence[str], grades: Mapping[str, float], k: int = 10) -> float:
    """nDCG@k with linear gains (trec_eval's definition, as ir-measures computes it).

    A ranking shorter than k counts the missing places as not relevant. Example:
    ndcg(["b", "a"], {"a": 1}) -> 1 / log2(3) = 0.631
    """
    gain = sum(
        max(grades.get(doc, 0.0), 0.0) / math.log2(i + 1) for i, doc in enumerate(ranking[:k], start=1)
    )
    ideal_grades = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    ideal = sum(g / math.log2(i + 1) for i, g in enumerate(ideal_grades, start=1))
    return gain / ideal if ideal > 0 else 0.0


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None; None when there are none. Example: [1, None, 0] -> 0.5"""
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation, as numpy's default.

    Example: percentile([1, 2, 3, 4], 50) -> 2.5
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def curve(ranks: Sequence[int | None], depth: int = 20) -> list[float | None]:
    """Share of questions whose rank is at most k, for k = 1..depth (None when no question).

    Example: curve([1, 3, None], 3) -> [1/3, 1/3, 2/3]
    """
    return [mean(within(r, k) for r in ranks) for k in range(1, depth + 1)]


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD's token F1 between two answers, after normalize_answer.

    Example: token_f1("Foreign Minister Choe Son Hui", "Choe Son Hui") -> 0.75
    """
    pred, true = normalize_answer(prediction).split(), normalize_answer(gold).split()
    common = sum(min(pred.count(w), true.count(w)) for w in set(pred) & set(true))
    if not common:
        return 0.0
    precision, recall = common / len(pred), common / len(true)
    return 2 * precision * recall / (precision + recall)
