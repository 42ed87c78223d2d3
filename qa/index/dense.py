"""The FAISS indexes that hold the passage vectors: exact, or HNSW graphs for big corpora.

Every segment of an index (segments.py) has its own FAISS file; SegmentedDense searches
them all as one, over the live rows only. Both kinds store the full float32 vectors
(IndexFlatIP, IndexHNSWFlat), so a row can be reconstructed exactly for reuse, and both
are memory-mapped on load (IO_FLAG_MMAP_IFC maps the flat vector codes; the HNSW links are
read into memory). Inner product on unit vectors is cosine similarity.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import DENSE_KINDS, DenseSettings
from qa.errors import IndexCorruptError, SettingError

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


def convert(path: Path, choice: dict[str, Any], chunk: int = 4096) -> None:
    """Rewrite the FAISS file at `path` as `choice`'s type, from the vectors it holds (a new
    file renamed over the name: a hard link to an older generation's file is left as it is).
    The old file is read a chunk at a time, so memory holds one index: the new one."""
    import faiss

    release_freed_heap()
    old = _header(path)
    new = build(np.zeros((0, old.d), np.float32), choice)
    reserve(new, old.ntotal)
    del old
    for rows in stored_rows(path, chunk):
        new.add(rows)
    tmp = path.with_name(f".{path.name}.tmp")
    faiss.write_index(new, str(tmp))
    tmp.replace(path)


def release_freed_heap() -> None:
    """Hand heap pages that earlier passes freed back to the OS (glibc only; else nothing).

    Why: glibc keeps freed heap for reuse, but a graph's 180 MB of vectors and links are
    allocated as fresh mappings that cannot reuse it, so the freed pages of the passes before
    (texts, postings) would stay resident under the graph and add to a build's peak.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@lru_cache(maxsize=1)
def _malloc_trim() -> Any:
    """glibc's malloc_trim, or None (macOS, musl, Windows). Looked up once: find_library runs
    `ldconfig -p` in a child process, a fork of the whole build at every segment otherwise."""
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None


def reserve(index: Any, rows: int) -> None:
    """Make room for `rows` vectors (and their graph links) before adding them in chunks.

    FAISS keeps both in std::vectors that double when full: past 80k of 100k rows, one
    more chunk allocated 246 MB of codes while the old 123 MB were copied, so a graph's
    build peaked near 2.4x its size. Growing each vector to its final size and back to
    empty keeps the capacity: later adds fill it without moving anything.
    """
    import faiss

    flat: Any = faiss.downcast_index(getattr(index, "storage", index))
    codes = flat.codes
    codes.resize(rows * index.d * 4)
    codes.resize(0)
    hnsw = getattr(index, "hnsw", None)
    if hnsw is not None:  # level 0 holds 2*M links per row, upper levels M/(M-1) on average
        links = hnsw.neighbors
        links.resize(rows * (hnsw.nb_neighbors(0) + hnsw.nb_neighbors(1) // 8))
        links.resize(0)


def _header(path: Path) -> Any:
    import faiss

    return faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)


def stored_rows(path: Path, chunk: int) -> Iterator[np.ndarray]:
    """The float32 rows of a flat or HNSW file, `chunk` rows at a time, read, not mapped
    (each chunk is overwritten by the next: copy what must outlive it).

    Why not reconstruct_n on the memory-mapped index: every page it touches stays in the
    process's resident memory while the mapping lives, so converting a 100k-row segment to
    a graph held its 154 MB twice, mapped and in the graph (a 1M-passage `qa index` peaked
    there). Both kinds end with their float32 codes, the file's last ntotal*d*4 bytes; the
    first and last rows are checked against FAISS's own before anything is trusted.
    """
    index = _header(path)
    n, d = index.ntotal, index.d
    offset = path.stat().st_size - n * d * 4
    with path.open("rb") as fh:
        if n and (offset < 0 or not _same_rows(fh, offset, index, (0, n - 1))):
            raise IndexCorruptError(f"{path}: vectors are not where a FAISS flat store keeps them")
        del index
        fh.seek(offset)
        # One buffer, refilled: a new 30 MB array per chunk made glibc keep freed ones around
        buffer = np.empty((min(chunk, n), d), dtype="<f4")
        for start in range(0, n, chunk):
            rows = buffer[: min(chunk, n - start)]
            if fh.readinto(rows.data.cast("B")) != rows.nbytes:
                raise IndexCorruptError(f"{path}: shorter than its {n} vectors")
            yield rows


def _same_rows(fh: Any, offset: int, index: Any, rows: tuple[int, ...]) -> bool:
    d = index.d
    for row in rows:
        fh.seek(offset + row * d * 4)
        if not np.array_equal(np.fromfile(fh, dtype="<f4", count=d), index.reconstruct(row)):
            return False
    return True


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
