"""Find the passages for a question: dense (FAISS) and BM25 candidates, fused.

Fusion is a pair of small pure functions over {row: score} maps. Raw BM25 and
cosine scores live on different scales, so they are never simply added.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from qa.index.passage_index import PassageIndex
from qa.text.articles import Article
from qa.text.passages import Passage

from .dense_store import DenseStore, FaissStore


@dataclass(frozen=True, slots=True)
class Filters:
    """Restrict a search to a date range (ISO, inclusive), sections and sources."""

    date_from: str | None = None
    date_to: str | None = None
    sections: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    keep_undated: bool = False  # a date range read from a question keeps undated articles

    def active(self) -> bool:
        return bool(self.date_from or self.date_to or self.sections or self.sources)

    def allows(self, article: Article) -> bool:
        if article.date is None and (self.date_from or self.date_to) and not self.keep_undated:
            return False
        if self.date_from and article.date and article.date < self.date_from:
            return False
        if self.date_to and article.date and article.date > self.date_to:
            return False
        if self.sections and (article.section or "").lower() not in {s.lower() for s in self.sections}:
            return False
        return not self.sources or (article.source or "").lower() in {s.lower() for s in self.sources}


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved passage with the article it came from."""

    passage: Passage
    article: Article
    score: float  # fused, in [0, 1] for convex fusion
    dense: float  # cosine similarity to the question
    lexical: float  # raw BM25 score
    row: int
    also_in: tuple[str, ...] = field(default=())  # ids of other articles with the same text
    evidence: float = 0.0  # score of its best sentence (see evidence.py)


def minmax(scores: Mapping[int, float], scale: Mapping[int, float] | None = None) -> dict[int, float]:
    """Scale scores so the lowest and highest of `scale` (default: `scores`) become 0 and 1;
    below the lowest counts as the lowest, like a candidate the retriever did not return.

    Example: {1: 2.0, 2: 4.0} -> {1: 0.0, 2: 1.0}; with scale {2: 4.0, 3: 3.0}, 1 -> 0.0
    """
    scale = scale or scores
    if not scores or not scale:
        return {}
    low, high = min(scale.values()), max(scale.values())
    span = high - low
    return {k: max(v - low, 0.0) / span if span > 0 else float(v >= high) for k, v in scores.items()}


def convex(
    dense: Mapping[int, float],
    lexical: Mapping[int, float],
    weight: float,
    scale: tuple[Mapping[int, float], Mapping[int, float]] | None = None,
) -> dict[int, float]:
    """weight * minmax(dense) + (1 - weight) * minmax(lexical), over the union of candidates.

    `scale` (dense, lexical) sets the 0 and 1 of each side: candidates added from a preferred
    date window are scored on the scale of the overall top, so adding them changes no other
    candidate's score (weaker than all of it, they count 0 on that side)."""
    d, lex = minmax(dense, scale and scale[0]), minmax(lexical, scale and scale[1])
    return {k: weight * d.get(k, 0.0) + (1 - weight) * lex.get(k, 0.0) for k in set(d) | set(lex)}


def rrf(*rankings: list[int], k: int = 60) -> dict[int, float]:
    """Reciprocal rank fusion. Example: rrf([1, 2], [2, 1]) gives 1 and 2 equal scores."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank + 1)
    return fused


def allowed_rows(index: PassageIndex, filters: Filters | None) -> np.ndarray | None:
    """Row numbers that pass the filters, or None for "all rows"."""
    if filters is None or not filters.active():
        return None
    ok = {aid for aid, a in index.articles.items() if filters.allows(a)}
    return np.array([i for i, p in enumerate(index.passages) if p.article_id in ok], dtype=np.int64)


def preferred_rows(index: PassageIndex, rows: np.ndarray | None, prefer: Filters | None) -> np.ndarray | None:
    """Rows of dated articles inside the preferred window (and the user's filters), or None."""
    if prefer is None or not (prefer.date_from or prefer.date_to):
        return None
    days = index.row_days
    first = date.fromisoformat(prefer.date_from).toordinal() if prefer.date_from else 1
    last = date.fromisoformat(prefer.date_to).toordinal() if prefer.date_to else days.max(initial=1)
    inside = np.flatnonzero((days >= max(first, 1)) & (days <= last))
    return inside if rows is None else np.intersect1d(inside, rows)


def dense_candidates(
    index: PassageIndex,
    qvec: np.ndarray,
    depth: int,
    rows: np.ndarray | None,
    store: DenseStore | None = None,
) -> dict[int, float]:
    """Top `depth` rows by cosine similarity, within `rows` if given (qa/index/dense.py: exact or HNSW)."""
    depth = min(depth, index.dense.ntotal if rows is None else len(rows))
    if depth <= 0:
        return {}
    store = store or FaissStore(index.dense)
    scores, ids = store.search(qvec.reshape(1, -1).astype(np.float32), depth, rows)
    return {int(i): float(s) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0}


def lexical_candidates(all_scores: np.ndarray, depth: int, rows: np.ndarray | None) -> dict[int, float]:
    """Top `depth` rows by BM25 with a score above zero, within `rows` if given."""
    scores = all_scores if rows is None else all_scores[rows]
    depth = min(depth, len(scores))
    if depth <= 0:
        return {}
    top = np.argpartition(-scores, depth - 1)[:depth]
    picked = top if rows is None else rows[top]
    return {int(r): float(all_scores[r]) for r in picked if all_scores[r] > 0}


def fuse(
    dense: dict[int, float],
    lexical: dict[int, float],
    method: str,
    weight: float,
    scale: tuple[Mapping[int, float], Mapping[int, float]] | None = None,
) -> dict[int, float]:
    if method == "dense":
        return dict(dense)
    if method == "bm25":
        return dict(lexical)
    if method == "rrf":
        return rrf(
            sorted(dense, key=dense.__getitem__, reverse=True),
            sorted(lexical, key=lexical.__getitem__, reverse=True),
        )
    return convex(dense, lexical, weight, scale)


def search(
    index: PassageIndex,
    qvec: np.ndarray,
    query: str,
    *,
    depth: int = 100,
    fusion: str = "convex",
    weight: float = 0.5,
    filters: Filters | None = None,
    store: DenseStore | None = None,
    prefer: Filters | None = None,
) -> list[Hit]:
    """All fused candidates for a question, best first (no cut to k yet).

    `store` does the dense search (default: the index's FAISS vectors). `prefer` (a date
    window read from the question) adds each retriever's best candidates from inside it, so
    that articles of that time can be lifted even when they were not in the overall top.
    """
    rows = allowed_rows(index, filters)
    all_lex = index.bm25.scores(query) if fusion != "dense" else np.zeros(len(index.passages), np.float32)
    dense = dense_candidates(index, qvec, depth, rows, store) if fusion != "bm25" else {}
    lexical = lexical_candidates(all_lex, depth, rows) if fusion != "dense" else {}
    scale = (dict(dense), dict(lexical))  # the overall top sets the fused scale, extras or not
    inside = preferred_rows(index, rows, prefer)
    if inside is not None and len(inside):
        dense |= dense_candidates(index, qvec, depth, inside, store) if fusion != "bm25" else {}
        lexical |= lexical_candidates(all_lex, depth, inside) if fusion != "dense" else {}
    fused = fuse(dense, lexical, fusion, weight, scale)
    cosines = cosine_of(index, qvec, [r for r in fused if r not in dense])
    hits = []
    for row, score in sorted(fused.items(), key=lambda kv: (-kv[1], kv[0])):
        passage = index.passages[row]
        hits.append(
            Hit(
                passage,
                index.articles[passage.article_id],
                float(score),
                dense.get(row, cosines.get(row, 0.0)),
                float(all_lex[row]),
                row,
            )
        )
    return hits


def cosine_of(index: PassageIndex, qvec: np.ndarray, rows: list[int]) -> dict[int, float]:
    """Exact cosine for rows found only by BM25, so every hit reports both scores."""
    if not rows:
        return {}
    vectors = np.stack([index.dense.reconstruct(int(r)) for r in rows])
    return {r: float(s) for r, s in zip(rows, vectors @ qvec.reshape(-1), strict=True)}
