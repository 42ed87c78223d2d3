"""Score the sentences of candidate passages against the question.

There is no cross-encoder or reader model offline, so a sentence's evidence blends
two cheap signals: the cosine between the question and the sentence's vector
(pooled at index time from the passage's own forward pass, so free at query time)
and the share of the question's IDF-weighted terms the sentence contains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.index.lexical import tokenize
from qa.index.passage_index import PassageIndex

from .retrieve import Hit

CARRIED_WEIGHT = 0.35  # terms carried from earlier turns count less than the question's own


@dataclass(frozen=True, slots=True)
class SentenceEvidence:
    """How well one sentence of hits[hit] answers the question."""

    hit: int
    span: tuple[int, int]
    cosine: float
    overlap: float  # IDF-weighted share of query terms in the sentence
    coverage: float  # plain share of the question's own terms in the sentence
    score: float  # for ranking: cosine and IDF-weighted overlap

    @property
    def support(self) -> float:
        """For abstaining: cosine and plain coverage, which unlike IDF do not swing with
        corpus size (on a 4-passage index every shared word has an IDF near zero)."""
        return 0.5 * self.cosine + 0.5 * self.coverage


@dataclass(frozen=True, slots=True)
class QueryTerms:
    """Stemmed query terms: IDF weights (carried terms scaled down), and the question's own."""

    weights: dict[str, float]
    own: dict[str, float]  # for coverage: the question's own terms 1, carried terms less
    unseen: frozenset[str] = frozenset()  # the question's own terms that no passage holds


def query_terms(question: str, carried: str, index: PassageIndex) -> QueryTerms:
    own = tokenize([question])[0]
    extra = [t for t in tokenize([carried])[0] if t not in own] if carried else []
    idf = index.bm25.idf([*own, *extra])
    weights = {t: idf[t] for t in own}
    weights.update({t: CARRIED_WEIGHT * idf[t] for t in extra})
    unseen = frozenset(t for t, df in index.bm25.frequency(own).items() if df == 0)
    # Coverage counts every term alike, except that terms carried from earlier turns
    # count less: a follow-up like "When?" is covered by its context alone.
    return QueryTerms(weights, {**{t: CARRIED_WEIGHT for t in extra}, **dict.fromkeys(own, 1.0)}, unseen)


def term_overlap(weights: dict[str, float], sentence_terms: Sequence[str]) -> float:
    """Weighted share of query terms found in the sentence, in [0, 1].

    Example: weights {"nato": 1, "say": 1}, sentence ["nato", "condemn"] -> 0.5
    """
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(weights.get(t, 0.0) for t in set(sentence_terms)) / total


def sentence_evidence(
    terms: QueryTerms,
    qvec: np.ndarray,
    hits: Sequence[Hit],
    index: PassageIndex,
    cosine_weight: float = 0.5,
) -> list[SentenceEvidence]:
    """Every sentence of every hit, scored."""
    # A sentence shared by two overlapping passages is scored for both: each passage's
    # rank needs it, and the answer may only cite a passage that survives the cut.
    rows: list[tuple[int, tuple[int, int], float]] = []
    for i, hit in enumerate(hits):
        cosines = index.sentence_vectors_of(hit.row) @ qvec
        rows.extend((i, span, float(c)) for span, c in zip(hit.passage.sentences, cosines, strict=True))
    texts = [hits[i].article.text[a:b] for i, (a, b), _ in rows]
    out = []
    for (i, span, cosine), words in zip(rows, tokenize(texts) if texts else [], strict=True):
        overlap = term_overlap(terms.weights, words)
        score = cosine_weight * cosine + (1 - cosine_weight) * overlap
        out.append(SentenceEvidence(i, span, cosine, overlap, term_overlap(terms.own, words), score))
    return out


def best_per_hit(evidence: Sequence[SentenceEvidence], n_hits: int) -> list[float]:
    """The best sentence score of each hit (0 for a hit with no sentence)."""
    best = [0.0] * n_hits
    for e in evidence:
        best[e.hit] = max(best[e.hit], e.score)
    return best
