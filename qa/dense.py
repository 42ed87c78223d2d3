"""The FAISS index that holds the passage vectors: exact, or an HNSW graph for big corpora.

Both kinds store the full float32 vectors (IndexFlatIP, IndexHNSWFlat), so a row can
be reconstructed exactly for reuse, and both are memory-mapped on load
(IO_FLAG_MMAP_IFC maps the flat vector codes; the HNSW links are read into memory).
Inner product on unit vectors is cosine similarity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .config import DENSE_KINDS, DenseSettings
from .errors import SettingError

FLAT = {"type": "flat"}  # what an index written before the choice existed holds
EXACT_FILTER_ROWS = 50_000  # a filter leaving fewer rows than this is scanned exactly


def choose(passages: int, settings: DenseSettings) -> dict[str, Any]:
    """The index type and parameters for a corpus of `passages` (recorded in the manifest)."""
    if settings.kind not in DENSE_KINDS:
        raise SettingError(f"unknown dense index kind {settings.kind!r}; use one of {', '.join(DENSE_KINDS)}")
    kind = settings.kind
    if kind == "auto":
        kind = "flat" if passages <= settings.exact_limit else "hnsw"
    base = {"chosen_by": settings.kind, "exact_limit": settings.exact_limit}
    if kind == "flat":
        return {**FLAT, **base}
    return {
        "type": "hnsw",
        "M": settings.hnsw_m,
        "ef_construction": settings.ef_construction,
        "ef_search": settings.ef_search,
        **base,
    }


def build(vectors: np.ndarray, choice: dict[str, Any]) -> Any:
    """A FAISS index of the chosen type holding `vectors` as rows 0..n-1."""
    import faiss

    dim = vectors.shape[1]
    index: Any
    if choice["type"] == "flat":
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, choice["M"], faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = choice["ef_construction"]
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def read(path: Path, choice: dict[str, Any]) -> Any:
    """Open a written index memory-mapped: the OS pages vectors in as searches touch them."""
    import faiss

    index: Any = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
    if choice["type"] == "hnsw":
        index.hnsw.efSearch = choice["ef_search"]
    return index


def search(
    index: Any, qvec: np.ndarray, depth: int, rows: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, row ids) of the `depth` best rows for one query, within `rows` if given."""
    import faiss

    query = qvec.reshape(1, -1).astype(np.float32)
    hnsw = getattr(index, "hnsw", None)
    params: Any = None
    if hnsw is None and rows is not None:
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(rows))  # type: ignore[call-arg]
    elif hnsw is not None and rows is not None and len(rows) <= EXACT_FILTER_ROWS:
        # a graph walk that may only step on few nodes loses recall: scan those rows exactly
        scores = index.reconstruct_batch(rows) @ query[0]
        top = np.argsort(-scores, kind="stable")[:depth]
        return scores[top][None, :], rows[top][None, :]
    elif hnsw is not None:
        # passed to the constructor, which keeps the selector alive as long as params
        extra = {} if rows is None else {"sel": faiss.IDSelectorBatch(rows)}
        params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
            efSearch=max(hnsw.efSearch, depth), **extra
        )
    return index.search(query, depth, params=params)
