"""BM25 postings of one segment: which passages hold each term, how often, and passage lengths.

bm25s stores BM25 scores with the collection's IDF and mean length baked in, so adding one
passage changes every stored score and the whole index is rebuilt. A segment here stores
raw term frequencies instead (a term's postings: passage rows and counts, sorted by term),
and lexical.Bm25Index computes BM25 at query time from the counts of every segment, so a
new segment is written alone and an old one is never touched. Files (layout.POSTINGS_FILES,
all memory-mapped):

    terms.json     the segment's terms, position = term id
    indptr.npy     int64 (terms + 1): term t's postings are [indptr[t], indptr[t + 1])
    docs.npy       int32 passage rows of each posting
    tf.npy         uint16 occurrences of the term in that passage
    lengths.npy    int32 terms per passage (after stop words), for BM25's length norm
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.layout import POSTINGS_FILES

TERMS, INDPTR, DOCS, TF, LENGTHS = POSTINGS_FILES


class PostingsWriter:
    """Collects term counts batch by batch; memory is the counts, never the texts."""

    def __init__(self) -> None:
        self.terms: dict[str, int] = {}
        self._docs: list[np.ndarray] = []
        self._ids: list[np.ndarray] = []
        self._tf: list[np.ndarray] = []
        self._lengths: list[np.ndarray] = []
        self.rows = 0

    def add(self, ids: Sequence[Sequence[int]], vocab: Sequence[str]) -> None:
        """Count the terms of the next passages (rows continue from the last batch), given as
        term ids per passage and the terms by id (lexical.tokenize_ids)."""
        remap = np.array([self.terms.setdefault(term, len(self.terms)) for term in vocab], dtype=np.int64)
        lengths = np.array([len(doc) for doc in ids], dtype=np.int32)
        flat = remap[np.concatenate([np.asarray(d, dtype=np.int64) for d in ids])] if lengths.sum() else None
        self._lengths.append(lengths)
        if flat is not None:
            rows = np.repeat(np.arange(self.rows, self.rows + len(ids), dtype=np.int64), lengths)
            self.add_counts(*_count(rows, flat))
        self.rows += len(ids)

    def add_counts(self, docs: np.ndarray, term_ids: np.ndarray, tf: np.ndarray) -> None:
        self._docs.append(docs.astype(np.int32))
        self._ids.append(term_ids.astype(np.int32))
        self._tf.append(tf.astype(np.uint16))

    def save(self, folder: Path) -> None:
        """Write the segment's postings, sorted by term then passage; the writer is emptied.

        The counts come sorted by passage, so a stable sort by term gives term-then-passage
        order. Each array is let go as soon as it is written: this is a build's peak memory.
        """
        folder.mkdir(parents=True, exist_ok=True)
        # Terms are numbered in sorted order: the order they came in follows bm25s's vocabulary,
        # which follows Python's string hash seed, and the same articles must give the same bytes.
        names = sorted(self.terms)
        rank = np.empty(len(names), dtype=np.int32)
        rank[np.array([self.terms[t] for t in names], dtype=np.int64)] = np.arange(len(names), dtype=np.int32)
        ids = rank[_taken(self._ids, np.int32)]
        order = np.argsort(ids, kind="stable")
        indptr = np.zeros(len(self.terms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(ids, minlength=len(self.terms)), out=indptr[1:])
        del ids
        np.save(folder / INDPTR, indptr, allow_pickle=False)
        np.save(folder / DOCS, _taken(self._docs, np.int32)[order], allow_pickle=False)
        np.save(folder / TF, _taken(self._tf, np.uint16)[order], allow_pickle=False)
        np.save(folder / LENGTHS, _taken(self._lengths, np.int32), allow_pickle=False)
        (folder / TERMS).write_text(json.dumps(names, ensure_ascii=False), encoding="utf-8")


class Postings:
    """A written segment's postings, memory-mapped."""

    def __init__(self, folder: Path):
        self.terms: dict[str, int] = {
            t: i for i, t in enumerate(json.loads((folder / TERMS).read_text(encoding="utf-8")))
        }
        self.indptr, self.docs, self.tf, self.lengths = (
            np.load(folder / name, mmap_mode="r", allow_pickle=False) for name in (INDPTR, DOCS, TF, LENGTHS)
        )

    @property
    def rows(self) -> int:
        return len(self.lengths)

    def df(self, term: str) -> int:
        t = self.terms.get(term)
        return 0 if t is None else int(self.indptr[t + 1] - self.indptr[t])

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(passage rows, counts) of one term."""
        t = self.terms.get(term)
        if t is None:
            return np.zeros(0, np.int32), np.zeros(0, np.uint16)
        a, b = int(self.indptr[t]), int(self.indptr[t + 1])
        return self.docs[a:b], self.tf[a:b]


def merged(parts: Sequence[tuple[Postings, np.ndarray]]) -> PostingsWriter:
    """One writer holding the kept rows of several segments, renumbered in order, without
    tokenizing anything again: (postings, rows to keep) per segment."""
    out = PostingsWriter()
    for postings, keep in parts:
        new_row = np.full(postings.rows, -1, dtype=np.int64)
        new_row[keep] = np.arange(out.rows, out.rows + len(keep))
        vocab = list(postings.terms)
        remap = np.array([out.terms.setdefault(t, len(out.terms)) for t in vocab], dtype=np.int64)
        term_of = np.repeat(np.arange(len(vocab)), np.diff(np.asarray(postings.indptr)))
        rows = new_row[np.asarray(postings.docs)]
        alive = rows >= 0
        out.add_counts(rows[alive], remap[term_of[alive]], np.asarray(postings.tf)[alive])
        out._lengths.append(np.asarray(postings.lengths)[keep].astype(np.int32))
        out.rows += len(keep)
    return out


def _count(rows: np.ndarray, term_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, term ids, counts) of the distinct (row, term) pairs."""
    width = int(term_ids.max()) + 1
    pairs, counts = np.unique(rows * width + term_ids, return_counts=True)
    return pairs // width, pairs % width, counts


def _taken(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    """The chunks as one array; the list is emptied, so that they are not held twice."""
    joined: np.ndarray = np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)
    parts.clear()
    return joined
