"""Score the sentences of retrieved passages against the question.

There is no cross-encoder or reader model offline, so a sentence's evidence is
the share of the question's (IDF-weighted) terms it contains, blended with the
score of the passage it sits in.
"""

from __future__ import annotations

from collections.abc import Sequence

from .lexical import Bm25Index, tokenize
from .retrieve import Hit

Scored = tuple[float, int, tuple[int, int]]  # (score, hit index, sentence span)


def term_overlap(
    question_terms: Sequence[str], sentence_terms: Sequence[str], idf: dict[str, float]
) -> float:
    """IDF-weighted share of question terms found in the sentence, in [0, 1].

    Example: terms ["nato", "say"], sentence ["nato", "condemn"], equal idf -> 0.5
    """
    wanted = set(question_terms)
    total = sum(idf.get(t, 0.0) for t in wanted)
    if total <= 0:
        return 0.0
    return sum(idf.get(t, 0.0) for t in wanted & set(sentence_terms)) / total


def score_sentences(
    question: str, hits: Sequence[Hit], bm25: Bm25Index, passage_weight: float = 0.4
) -> list[Scored]:
    """Every sentence of every hit, scored; a sentence shared by two passages appears once."""
    q_terms = tokenize([question])[0]
    idf = bm25.idf(q_terms)
    spans: list[tuple[int, tuple[int, int]]] = []
    seen: set[tuple[str, int, int]] = set()
    for i, hit in enumerate(hits):
        for span in hit.passage.sentences:
            key = (hit.article.id, *span)
            if key not in seen:
                seen.add(key)
                spans.append((i, span))
    texts = [hits[i].article.text[a:b] for i, (a, b) in spans]
    terms = tokenize(texts) if texts else []
    top = max((h.score for h in hits), default=1.0) or 1.0
    scored = []
    for (i, span), sentence_terms in zip(spans, terms, strict=True):
        lexical = term_overlap(q_terms, sentence_terms, idf)
        relative = hits[i].score / top
        scored.append(((1 - passage_weight) * lexical + passage_weight * relative, i, span))
    return scored
