"""Build and update an index: segments of articles, passages, vectors and BM25 postings.

A run reads the articles it is given once, as a stream. An unchanged article (same id and
content hash as indexed) costs a dictionary lookup; new and changed ones are split (in
worker processes when there is much text) and written into new segments (segments.py) in
two passes that each hold one batch: texts first, then passage and sentence vectors
(embedded, or copied when a passage's embedding key is already in the index) and BM25
postings. The previous generation's segments are hard-linked into the new one, with the
rows of changed and removed articles marked deleted; maintenance.py then rewrites segments
that are mostly deleted and merges small ones. So adding or removing a few articles costs
about what they cost alone, and memory is set by the batch and the segment size, not the
archive. Opening an index is passage_index.py's job; a generation's format is generation.py's.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import DenseSettings, IndexSettings
from qa.encode.embedder import Embedder, Progress
from qa.errors import NoArticlesError
from qa.layout import REUSE_FILE
from qa.text.articles import Article
from qa.text.passages import split_stream
from qa.text.readers import SUPPORTED
from qa.text.tokens import TokenCounter

from . import dense as dense_index
from . import folder
from .generation import build_manifest, write_generation
from .maintenance import Part, maintain, new_segment_name
from .previous import IndexReport, Plan, Previous
from .segments import Segment, SegmentTexts, SegmentVectors, read_passages
from .vectors import gather, key_bytes

SEGMENT_ROWS = 100_000  # passages per segment: a build holds one segment's vectors and postings


EMBED_ROWS = 2048  # passages embedded at once (sorted by length inside, so padding stays small)


def update_index(
    root: Path | str,
    articles: Iterable[Article],
    embedder: Embedder,
    *,
    settings: IndexSettings | None = None,
    keep_others: bool = False,
    rebuild: bool = False,
    sources: Sequence[str] = (),
    counter: TokenCounter | None = None,
    progress: Progress | None = None,
    dense: DenseSettings | None = None,
    split_workers: int = 1,
    remove: Sequence[str] = (),
    also_in: Callable[[], dict[str, Any]] | None = None,
) -> IndexReport:
    """Make the index at `root` hold `articles`, embedding only what is new or changed.

    Args:
        articles: read once, in order.
        also_in: called once `articles` is read: {article id: places where copies of it
            were found} (ingest.Ingested.also_in; a stream learns them last).
        keep_others: keep indexed articles that are not in `articles` (an upload adds;
            a `qa index` of a folder replaces).
        rebuild: ignore the previous vectors and embed everything.
        dense: which FAISS index to write (default: the kind the index was given before,
            else exact up to 100k passages, then HNSW).
        split_workers: processes that split new articles into passages (see split_stream).
        remove: ids of articles to take out (with keep_others, the only ones removed).
    Raises:
        NoArticlesError: the index would hold no article at all.
    """
    started = time.perf_counter()
    root, settings = Path(root), settings or IndexSettings(dim=embedder.dim, model=embedder.name)
    previous = None if rebuild else Previous.open(root, embedder, settings, strict=keep_others)
    if dense is None:  # keep what the index was told before (an upload must not undo --dense-index)
        chosen = previous.manifest.get("dense", {}).get("chosen_by", "auto") if previous else "auto"
        dense = DenseSettings(kind=chosen)
    with folder.building(root) as building:  # removed again if anything fails (a full disk, a kill)
        plan = Plan(previous, keep_others, remove)
        written = write_texts(building, plan.fresh(articles), previous, settings, counter, split_workers)
        plan.finish()
        if plan.articles == 0:
            raise NoArticlesError(
                f"no articles to index at {root}; supported files: {' '.join(SUPPORTED)}"
            )
        parts = [*plan.kept_parts(building), *written]
        embedded = write_vectors(parts, previous, embedder, progress)
        choice = dense_index.choose(sum(p.live for p in parts), dense)
        if previous is not None and plan.nothing_changed(sources, choice, parts):
            shutil.rmtree(building, ignore_errors=True)
            return plan.report(root, previous.passages, 0, started)
        parts = maintain(parts, choice, embedder.dim, SEGMENT_ROWS)
        manifest = build_manifest(parts, embedder, settings, sources, choice, started)
        manifest["also_in"] = plan.also_in(also_in() if also_in else {}, building)
        write_generation(root, building, manifest, previous.folder if previous else None)
    return plan.report(root, manifest["counts"]["passages"], embedded, started)


def write_texts(
    building: Path,
    articles: Iterator[Article],
    previous: Previous | None,
    settings: IndexSettings,
    counter: TokenCounter | None,
    workers: int,
) -> list[Part]:
    """Pass one: split the articles into new segments of at most SEGMENT_ROWS passages each,
    noting for every passage where its vectors can be copied from (else it is embedded)."""
    sources = previous.sources if previous else []
    parts: list[Part] = []
    current: SegmentTexts | None = None
    for article, passages in split_stream(articles, settings, counter, workers):
        if current is None or current.rows >= SEGMENT_ROWS:
            if current is not None:
                parts.append(_closed(current))
            current = SegmentTexts(building / new_segment_name())
        keys = [key_bytes(p) for p in passages]
        current.add(article, passages, keys, _reuse(np.array(keys, dtype="S16"), sources))
    if current is not None:
        parts.append(_closed(current))
    return parts


def _closed(texts: SegmentTexts) -> Part:
    to_embed = texts.close()
    return Part(Segment(texts.folder), new=True, to_embed=to_embed)


def _reuse(keys: np.ndarray, sources: Sequence[Any]) -> list[tuple[int, int] | None]:
    found: list[tuple[int, int] | None] = [None] * len(keys)
    for k, source in enumerate(sources):
        missing = [i for i, f in enumerate(found) if f is None]
        if not missing:
            break
        for i, row in zip(missing, source.find(keys[missing]), strict=True):
            if row >= 0:
                found[i] = (k, int(row))
    return found


def write_vectors(
    parts: list[Part], previous: Previous | None, embedder: Embedder, progress: Progress | None
) -> int:
    """Pass two: vectors, sentence vectors and postings of every new segment, EMBED_ROWS at a time;
    returns how many passages were embedded (the others' vectors were copied)."""
    sources = previous.sources if previous else []
    total = sum(p.to_embed for p in parts if p.new)
    done = 0

    def step(n: int, _: int) -> None:
        if progress:
            progress(done + n, total)

    for part in (p for p in parts if p.new):
        out = SegmentVectors(part.segment.folder, embedder.dim, part.rows)
        reuse = np.load(part.segment.folder / REUSE_FILE)
        row = 0
        size = getattr(embedder, "stream_rows", EMBED_ROWS)  # Ray: a call starts actors, so fewer
        for batch in _batches(read_passages(part.segment.folder), size):
            here = reuse[row : row + len(batch)]
            vectors, sentences = gather(batch, here, sources, embedder, step)
            out.add(batch, vectors, sentences)
            done += int((here[:, 0] < 0).sum())
            row += len(batch)
        out.close()
    return done


def _batches(articles: Iterator[tuple[Article, list[Any]]], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for _, passages in articles:
        batch.extend(passages)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
