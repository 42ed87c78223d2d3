"""The FAISS indexes that hold the passage vectors: exact, or HNSW graphs for big corpora.

Every segment of an index (segments.py) has its own FAISS file; SegmentedDense searches
them all as one, over the live rows only. Both kinds store the full float32 vectors
(IndexFlatIP, IndexHNSWFlat), so a row can be reconstructed exactly for reuse, and both
are memory-mapped on load (IO_FLAG_MMAP_IFC maps the flat vector codes; the HNSW links are
read into memory). Inner product on unit vectors is cosine similarity.
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
        "graph_rows": settings.graph_rows,
        **base,
    }


def segment_kind(rows: int, choice: dict[str, Any]) -> str:
    """"flat" or "hnsw" for one segment of an index whose choice() is `choice`."""
    forced = choice.get("chosen_by") == "hnsw"  # --dense-index hnsw: every segment a graph
    big = rows >= choice.get("graph_rows", DenseSettings().graph_rows)
    return "hnsw" if choice["type"] == "hnsw" and (big or forced) else "flat"


def kind_of(index: Any) -> str:
    return "hnsw" if hasattr(index, "hnsw") else "flat"


def convert(path: Path, choice: dict[str, Any], chunk: int = 20_000) -> None:
    """Rewrite the FAISS file at `path` as `choice`'s type, from the vectors it holds (a new
    file renamed over the name: a hard link to an older generation's file is left as it is).
    The old file is memory-mapped and copied a chunk at a time, so memory holds one index."""
    import faiss

    old = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
    new = build(np.zeros((0, old.d), np.float32), choice)
    for start in range(0, old.ntotal, chunk):
        new.add(old.reconstruct_n(start, min(chunk, old.ntotal - start)))
    del old
    tmp = path.with_name(f".{path.name}.tmp")
    faiss.write_index(new, str(tmp))
    tmp.replace(path)


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
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = choice.get("ef_search", DenseSettings().ef_search)
    return index


class SegmentedDense:
    """The FAISS indexes of all segments as one index over the live rows (row i: the i-th live
    row counting segment by segment). `parts` is (index, live local rows or None for all)."""

    def __init__(self, parts: list[tuple[Any, np.ndarray | None]], dim: int):
        self.parts, self.d = parts, dim
        self._dead = [
            None if live is None else np.setdiff1d(np.arange(index.ntotal), live) for index, live in parts
        ]
        sizes = [index.ntotal if live is None else len(live) for index, live in parts]
        self.starts = np.cumsum([0, *sizes])
        self.ntotal = int(self.starts[-1])

    def _locate(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(segment, local row) of live rows."""
        part = np.searchsorted(self.starts, rows, side="right") - 1
        local = rows - self.starts[part]
        for k, (_, live) in enumerate(self.parts):
            at = part == k
            if live is not None and at.any():
                local[at] = live[local[at]]
        return part, local

    def reconstruct(self, row: int) -> np.ndarray:
        part, local = self._locate(np.array([row], dtype=np.int64))
        return np.asarray(self.parts[int(part[0])][0].reconstruct(int(local[0])))

    def reconstruct_batch(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros((len(rows), self.d), dtype=np.float32)
        part, local = self._locate(rows)
        for k in np.unique(part):
            at = part == k
            out[at] = self.parts[int(k)][0].reconstruct_batch(local[at])
        return out

    def reconstruct_n(self, start: int, n: int) -> np.ndarray:
        return self.reconstruct_batch(np.arange(start, start + n, dtype=np.int64))

    def search(self, qvec: np.ndarray, depth: int, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row ids), each (1, depth) at most, best first, over every segment."""
        scores, ids = [], []
        for k, (index, live) in enumerate(self.parts):
            begin, end = int(self.starts[k]), int(self.starts[k + 1])
            mine = None if rows is None else rows[(rows >= begin) & (rows < end)] - begin
            if (mine is not None and not len(mine)) or end == begin:
                continue
            local = None if mine is None else (mine if live is None else live[mine])
            dead = None if local is not None else self._dead[k]
            found_scores, found = _search_one(index, qvec, min(depth, end - begin), local, dead)
            keep = found >= 0
            found = found[keep] if live is None else np.searchsorted(live, found[keep])
            scores.append(found_scores[keep])
            ids.append(found + begin)
        all_scores = np.concatenate([*scores, np.full(depth, -np.finfo(np.float32).max, np.float32)])
        all_ids = np.concatenate([*ids, np.full(depth, -1, np.int64)])  # -1 pads a short result, as in FAISS
        top = np.argsort(-all_scores, kind="stable")[:depth]
        return all_scores[top][None, :], all_ids[top][None, :]


def search(
    index: Any, qvec: np.ndarray, depth: int, rows: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, row ids) of the `depth` best rows for one query, within `rows` if given."""
    if isinstance(index, SegmentedDense):
        return index.search(qvec, depth, rows)
    scores, ids = _search_one(index, qvec, depth, rows, None)
    return scores[None, :], ids[None, :]


def _search_one(
    index: Any, qvec: np.ndarray, depth: int, rows: np.ndarray | None, dead: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """One FAISS index: (scores, ids) of its best rows, within `rows` if given, never `dead` ones."""
    import faiss

    query = qvec.reshape(1, -1).astype(np.float32)
    hnsw = getattr(index, "hnsw", None)
    params: Any = None
    if dead is not None and len(dead):
        dead_ids = faiss.IDSelectorBatch(dead)  # type: ignore[call-arg]  # alive until the search returns
        sel = faiss.IDSelectorNot(dead_ids)  # type: ignore[attr-defined]
        params = (
            faiss.SearchParametersHNSW(efSearch=max(hnsw.efSearch, depth), sel=sel)  # type: ignore[attr-defined]
            if hnsw is not None
            else faiss.SearchParameters(sel=sel)  # type: ignore[call-arg]
        )
    elif hnsw is None and rows is not None:
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(rows))  # type: ignore[call-arg]
    elif hnsw is not None and rows is not None and len(rows) <= EXACT_FILTER_ROWS:
        # a graph walk that may only step on few nodes loses recall: scan those rows exactly
        scores = index.reconstruct_batch(rows) @ query[0]
        top = np.argsort(-scores, kind="stable")[:depth]
        return scores[top], rows[top]
    elif hnsw is not None:
        # passed to the constructor, which keeps the selector alive as long as params
        extra = {} if rows is None else {"sel": faiss.IDSelectorBatch(rows)}
        params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
            efSearch=max(hnsw.efSearch, depth), **extra
        )
    scores, ids = index.search(query, depth, params=params)
    return scores[0], ids[0]
