"""Order and trim candidate passages: prefer, re-rank by evidence, then select the top k.

Small pure functions over lists of Hits, applied by the engine in this order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from .evidence import SentenceEvidence, best_per_hit
from .retrieve import Hit

_WORDS = re.compile(r"\w+")
NEAR_DUPLICATE = 0.8  # word-set Jaccard above which two texts count as the same text
# A dateline's day ("RAVIA, March 4 (Reuters) -") and an update's clock time ("Updated 10:42
# GMT.") vary between copies of one wire story; only there are they words, not figures.
_MONTHS = (
    r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)  # capitalised, as in a dateline: "12 may have died" is no date
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b")  # 10:42, not 3.25 percent
# "RAVIA, March 4 (Reuters)" or "LONDON, 4 March": a place, a comma, the day, at the very start
_DATELINE = re.compile(rf"\s*[A-Z][\w .'/-]{{0,40}},\s+(?:{_MONTHS}\.?\s+\d{{1,2}}|\d{{1,2}}\s+{_MONTHS})\b")


def words(text: str) -> set[str]:
    """The word set near-duplicates are told by; a dateline's day and a clock time count as
    words, not figures (see _MONTHS)."""
    dateline = _DATELINE.match(text)
    if dateline:
        text = re.sub(r"\d+", " dayofmonth ", dateline.group(0)) + text[dateline.end() :]
    text = _CLOCK.sub(" clocktime ", text)
    return {w.lower() for w in _WORDS.findall(text)}


def same_text(a: set[str], b: set[str]) -> bool:
    """Near-duplicate test on word sets. Example: same_text({"a","b"}, {"a","b"}) -> True

    Numbers must all agree: a story updated with a new death toll ("killed 12" then
    "killed 45") differs in one word of many, but it is news, not a copy to fold away.
    """
    if not a or not b:
        return a == b
    if _numbers(a) != _numbers(b):
        return False
    small, large = sorted((len(a), len(b)))
    if small < NEAR_DUPLICATE * large:  # Jaccard <= small / large: cannot reach the bar
        return False
    return len(a & b) / len(a | b) >= NEAR_DUPLICATE


def _numbers(bag: set[str]) -> set[str]:
    return {w for w in bag if any(ch.isdigit() for ch in w)}


def rerank(
    hits: Sequence[Hit], evidence: Sequence[SentenceEvidence], weight: float, top: float | None = None
) -> list[Hit]:
    """Blend each hit's fused score (scaled by `top`, default the best among `hits`) with its
    best sentence's evidence, and re-sort."""
    best = best_per_hit(evidence, len(hits))
    top = top or max((h.score for h in hits), default=0.0) or 1.0
    blended = [
        replace(h, score=(1 - weight) * h.score / top + weight * b, evidence=b)
        for h, b in zip(hits, best, strict=True)
    ]
    return sorted(blended, key=lambda h: -h.score)


def select(hits: Sequence[Hit], k: int, per_article: int) -> list[Hit]:
    """The top k hits with no near-duplicate text and at most `per_article` per article.

    A duplicate (the same text in another article) is not shown again; the kept hit lists
    where else it appears. When diversity leaves fewer than k hits, the best of the
    held-back ones fill the list. Comparing only against the k kept hits keeps this cheap.
    """
    kept: list[Hit] = []
    bags: list[set[str]] = []
    held: list[Hit] = []
    counts: dict[str, int] = {}
    for hit in hits:
        bag = words(hit.passage.text)
        twin = next((i for i, other in enumerate(bags) if same_text(bag, other)), None)
        if twin is not None:
            first = kept[twin]
            if hit.article.id != first.article.id and hit.article.id not in first.also_in:
                kept[twin] = replace(first, also_in=(*first.also_in, hit.article.id))
        elif len(kept) < k and (per_article <= 0 or counts.get(hit.article.id, 0) < per_article):
            kept.append(hit)
            bags.append(bag)
            counts[hit.article.id] = counts.get(hit.article.id, 0) + 1
        elif len(held) < k:
            held.append(hit)
    return kept + held[: k - len(kept)]


def favour(hits: Sequence[Hit], articles: set[str], bonus: float = 0.1) -> list[Hit]:
    """Lift hits from already-cited articles (a follow-up's context) and re-sort."""
    lifted = [replace(h, score=h.score + bonus) if h.article.id in articles else h for h in hits]
    return sorted(lifted, key=lambda h: -h.score)


def prefer_time(hits: Sequence[Hit], fits: Sequence[float], weight: float) -> list[Hit]:
    """Lift each hit by `weight` times how well its date fits the question's time words
    (dates.time_fit, in [0, 1]), and re-sort: a preference that strong evidence outweighs."""
    lifted = [replace(h, score=h.score + weight * f) if f else h for h, f in zip(hits, fits, strict=True)]
    return sorted(lifted, key=lambda h: -h.score)
