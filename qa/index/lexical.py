"""BM25 over the same passage rows as the dense index, from the segments' postings (postings.py).

Scores are computed at query time from term counts, with the collection-wide IDF and mean
passage length of all segments together, so appending a segment changes no file; rows
deleted since a segment was written still count in those statistics until the segment is
compacted (as in Lucene). On one segment without deletions the scores are bm25s's ("lucene"
variant, k1 1.5, b 0.75), which indexes before issue 16 were built with and still load with.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from .postings import Postings

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _bm25s():  # type: ignore[no-untyped-def]
    import bm25s

    # bm25s sets its own logger to DEBUG on import, which floods every caller's log.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


# bm25s's English list (33 words) keeps question words; they never help find an
# answer ("how", "did") and they dilute the share of a question's words a sentence holds.
QUESTION_WORDS = frozenset(
    "who whom whose what which when where why how did does do doe has have had been were can could "
    "would should may might shall about according i me my we our you your he she him her his its "
    "them than so also any some all each other more most very just only many much".split()
)


@lru_cache(maxsize=1)
def stopwords() -> list[str]:
    return sorted(set(_bm25s().stopwords.STOPWORDS_EN) | set(QUESTION_WORDS))


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stop-worded, stemmed terms, the same for passages and questions."""
    return _bm25s().tokenize(
        list(texts), stopwords=stopwords(), stemmer=_stemmer(), return_ids=False, show_progress=False
    )


def tokenize_ids(texts: Sequence[str]) -> tuple[list[list[int]], list[str]]:
    """(term ids per text, the terms by id): tokenize() without spelling every term again."""
    ids, vocab = _bm25s().tokenize(
        list(texts), stopwords=stopwords(), stemmer=_stemmer(), return_ids=True, show_progress=False
    )
    terms = [""] * len(vocab)
    for term, i in vocab.items():
        terms[i] = term
    return ids, terms


K1, B = 1.5, 0.75  # bm25s's defaults


class Bm25Index:
    """BM25 scores for every live passage row, over the postings of every segment.

    `parts` is (postings, live local rows or None for all) per segment, in row order: the
    index's row i is the i-th live row counting segment by segment.
    """

    def __init__(self, parts: Sequence[tuple[Postings, np.ndarray | None]]):
        self._parts = list(parts)
        self.size = sum(p.rows if live is None else len(live) for p, live in self._parts)
        self._n = sum(p.rows for p, _ in self._parts)  # deleted rows included, as their counts are
        self._avgdl = sum(int(np.sum(p.lengths, dtype=np.int64)) for p, _ in self._parts) / max(self._n, 1)

    @classmethod
    def load(cls, folders: Sequence[tuple[Path, np.ndarray | None]]) -> Bm25Index:
        return cls([(Postings(folder), live) for folder, live in folders])

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for `query` (float32, shape (size,))."""
        terms = tokenize([query])[0]
        if not self.size or not terms:
            return np.zeros(self.size, dtype=np.float32)
        idf = self.idf(terms)
        norm, slope = np.float32(K1 * (1 - B)), np.float32(K1 * B / self._avgdl)
        out = []
        for postings, live in self._parts:
            docs, weights = [], []
            for term in terms:  # a repeated query term counts again, as in bm25s
                rows, tf = postings.postings(term)
                if len(rows):
                    tf = tf.astype(np.float32)  # float32 arithmetic: a third faster than float64
                    length = postings.lengths[rows].astype(np.float32)
                    docs.append(rows)
                    weights.append(np.float32(idf[term]) * tf / (tf + norm + slope * length))
            total = (
                np.bincount(np.concatenate(docs), np.concatenate(weights), minlength=postings.rows)
                if docs
                else np.zeros(postings.rows)
            )
            out.append(total if live is None else total[live])
        return np.concatenate(out).astype(np.float32)

    def frequency(self, terms: Sequence[str]) -> dict[str, int]:
        """How many passages hold each term (0: the index has never seen it); rows deleted
        since their segment was written count until it is compacted, as in the IDF."""
        return {term: sum(p.df(term) for p, _ in self._parts) for term in terms}

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of each term over the passages (unknown terms: the max)."""
        n = max(self._n, 1)
        return {term: _idf(n, df) for term, df in self.frequency(terms).items()}


class LegacyBm25Index:
    """The bm25s index of an index written before issue 16 (one bm25/ folder): read as it is
    until the next `qa index` rewrites it as postings."""

    def __init__(self, retriever: object, size: int):
        self._retriever = retriever
        self.size = size

    @classmethod
    def load(cls, folder: Path, size: int) -> LegacyBm25Index:
        bm25s = _bm25s()
        if size == 0:
            return cls(bm25s.BM25(), 0)
        return cls(bm25s.BM25.load(str(folder), mmap=True), size)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for `query` (float32, shape (size,))."""
        terms = tokenize([query])[0]
        if not self.size or not terms:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(terms), dtype=np.float32)  # type: ignore[attr-defined]

    def frequency(self, terms: Sequence[str]) -> dict[str, int]:
        """How many passages hold each term (0: the index has never seen it)."""
        vocab = getattr(self._retriever, "vocab_dict", None) or {}
        indptr = self._retriever.scores["indptr"] if self.size else None  # type: ignore[attr-defined]
        out = {}
        for term in terms:
            tid = vocab.get(term)
            out[term] = int(indptr[tid + 1] - indptr[tid]) if tid is not None and indptr is not None else 0
        return out

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of each term over the passages (unknown terms: the max)."""
        n = max(self.size, 1)
        return {term: _idf(n, df) for term, df in self.frequency(terms).items()}


def _idf(n: int, df: int) -> float:
    """bm25s's "lucene" IDF of a term held by `df` of `n` passages."""
    return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))
