"""Where dense search runs: the DenseStore protocol and its FAISS implementation.

retrieve.search asks a DenseStore for the best passage rows of a question vector and
never asks where they come from. FaissStore, the default, searches the index's own FAISS
files in this process; milvus_store.py is the other implementation, behind
`--vector-store milvus:...`. Both return the same (scores, rows) shape.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from qa.index.dense import search as dense_search


class DenseStore(Protocol):
    """Exact inner-product search over the index's passage vectors (FAISS here, or Milvus)."""

    def search(
        self, queries: np.ndarray, k: int, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows), each (len(queries), k), best first; row -1 pads a short result."""
        ...


class FaissStore:
    """The default store: the index's own FAISS files (exact or HNSW, qa/index/dense.py), in this process."""

    def __init__(self, dense: Any):
        self.dense = dense

    def search(
        self, queries: np.ndarray, k: int, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        found = [dense_search(self.dense, q, k, rows) for q in np.asarray(queries, dtype=np.float32)]
        if not found:
            return np.zeros((0, k), np.float32), np.zeros((0, k), np.int64)
        return np.concatenate([s for s, _ in found]), np.concatenate([i for _, i in found])
