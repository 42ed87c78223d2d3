"""What one ranked retrieval returns, and the notes it adds to an answer.

Engine.retrieve hands a Retrieval to Engine.ask: the top-k hits, the evidence of their
sentences (positions into those hits), how the question's time words were read, and what
the confidence model measures. `remap` keeps evidence pointing at the right hit when the
re-ranked pool is cut to the top k; `evidence_note` says when the cited article lies
outside the time the question asked about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from qa.index.passage_index import PassageIndex

from .answer import Citation
from .dates import (
    DateIntent,
    time_fit,
)
from .evidence import QueryTerms, SentenceEvidence
from .retrieve import Hit


@dataclass(frozen=True, slots=True)
class Retrieval:
    """The ranked top-k hits and the evidence of their sentences."""

    query: str
    hits: list[Hit]
    evidence: list[SentenceEvidence]
    notes: tuple[str, ...] = ()
    intent: DateIntent = DateIntent()  # the question's time words, read as a window of days
    terms: QueryTerms | None = None  # the question's stemmed terms, for the confidence signals
    qvec: np.ndarray | None = field(default=None, compare=False, repr=False)  # the searched query's vector
    # A follow-up searched with the previous turn's terms: its hits' sentences scored against
    # the question's own words and vector, which choose the quoted sentence (None: use `evidence`).
    own_evidence: list[SentenceEvidence] | None = None
    best_dense: float = 0.0  # the best passage cosine of the whole dense search (confidence signals)


def remap(evidence: list[SentenceEvidence], pool: list[Hit], top: list[Hit]) -> list[SentenceEvidence]:
    """Evidence of the hits kept in `top`, re-pointed at their positions in `top`."""
    where = {hit.row: i for i, hit in enumerate(top)}
    return [replace(e, hit=where[pool[e.hit].row]) for e in evidence if pool[e.hit].row in where]


def evidence_note(intent: DateIntent, citations: Sequence[Citation], index: PassageIndex) -> tuple[str, ...]:
    """Say so when the answer's evidence lies outside the time the question asked about."""
    if not intent or not citations:
        return ()
    day = index.articles[citations[0].article_id].date
    if day and time_fit(day, intent) >= 1.0:
        return ()
    return (f"Closest evidence is dated {day}." if day else "Closest evidence is undated.",)
