"""BM25 over the same passage rows as the dense index (bm25s, saved in the index folder).

Built once per `qa index` and memory-mapped on load, so no query ever rebuilds it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

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


class Bm25Index:
    """BM25 scores for every passage row; row i is passage i of the index."""

    def __init__(self, retriever: object, size: int):
        self._retriever = retriever
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> Bm25Index:
        bm25s = _bm25s()
        retriever = bm25s.BM25()
        if texts:
            tokens = bm25s.tokenize(
                list(texts), stopwords=stopwords(), stemmer=_stemmer(), show_progress=False
            )
            retriever.index(tokens, show_progress=False)
        return cls(retriever, len(texts))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.size:
            self._retriever.save(str(folder))  # type: ignore[attr-defined]

    @classmethod
    def load(cls, folder: Path, size: int) -> Bm25Index:
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
        return {t: float(np.log(1 + (n - df + 0.5) / (df + 0.5))) for t, df in self.frequency(terms).items()}
