"""Build and update an index: articles, passages, FAISS vectors, sentence vectors, BM25.

Re-indexing embeds only new or changed articles (matched by id and content hash)
and drops the ones that are gone. Opening an index is load.py's job.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import dense as dense_index
from . import store
from .articles import Article
from .config import DenseSettings, IndexSettings
from .embed import Embedder, backend_of
from .errors import IndexCorruptError, IndexMismatchError, NoArticlesError
from .lexical import Bm25Index
from .load import PassageIndex, check_model, describe, read_manifest, verify_index
from .passages import Passage, split_articles
from .records import article_row, build_manifest, passage_row
from .tokens import TokenCounter
from .vectors import Progress, assemble, embedding_key, rows_by_key

log = logging.getLogger(__name__)
__all__ = [
    "IndexReport",
    "PassageIndex",
    "Progress",
    "update_index",
    "check_model",
    "describe",
    "read_manifest",
    "verify_index",
]


@dataclass(frozen=True, slots=True)
class IndexReport:
    """What one `qa index` run did."""

    path: str
    added: int
    updated: int
    removed: int
    unchanged: int
    articles: int
    passages: int
    embedded: int
    seconds: float


def update_index(
    root: Path | str,
    articles: Sequence[Article],
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
) -> IndexReport:
    """Make the index at `root` hold `articles`, embedding only what is new or changed.

    Args:
        keep_others: keep indexed articles that are not in `articles` (an upload adds;
            a `qa index` of a folder replaces).
        rebuild: ignore the previous vectors and embed everything.
        dense: which FAISS index to write (default: the kind the index was given before,
            else exact up to 100k passages, then HNSW).
        split_workers: processes that split new articles into passages (see split_articles).
    Raises:
        NoArticlesError: the index would hold no article at all.
    """
    started = time.perf_counter()
    root, settings = Path(root), settings or IndexSettings(dim=embedder.dim, model=embedder.name)
    previous = reusable(root, embedder, settings)
    old = previous.articles if previous else {}
    target = {**old, **{a.id: a for a in articles}} if keep_others else {a.id: a for a in articles}
    if not target:
        raise NoArticlesError(
            f"no articles to index at {root}; supported files: .txt .md .json .jsonl .html .htm"
        )
    if dense is None:  # keep what the index was told before (an upload must not undo --dense-index)
        chosen = previous.manifest.get("dense", {}).get("chosen_by", "auto") if previous else "auto"
        dense = DenseSettings(kind=chosen)
    if not rebuild and previous is not None and _same_contents(previous, target, sources, dense):
        return _report(root, target, old, 0, len(previous.passages), started)
    plan = plan_rows(target, None if rebuild else previous, settings, counter, split_workers)
    old_vectors = None
    if previous is not None and not rebuild:
        old_vectors = (previous.vectors(), previous.sentence_vectors, previous.sentence_rows)
    vectors, sentences, embedded = assemble(plan, old_vectors, embedder, progress)
    model = (embedder.name, embedder.fingerprint, embedder.dim)
    passages = [p for p, _ in plan]
    manifest = build_manifest(target, passages, model, settings, sources, started)
    manifest["dense"] = dense_index.choose(len(passages), dense)
    manifest["backend"] = backend_of(embedder)
    manifest["device"] = embedded_on(embedder)
    write_generation(root, target, passages, vectors, sentences, manifest)
    return _report(root, target, old, embedded, len(plan), started)


def embedded_on(embedder: Embedder) -> dict[str, Any]:
    """Where the passages were embedded, for the manifest: the device, and on a GPU how close
    its probe vectors came to the CPU's (devices.py)."""
    device = str(getattr(embedder, "embedded_on", None) or getattr(embedder, "device", "cpu"))
    agreement = getattr(embedder, "agreement", None)
    return {"name": device} if agreement is None else {"name": device, "min_cosine_to_cpu": agreement}


def _same_contents(
    previous: PassageIndex, target: dict[str, Article], sources: Sequence[str], dense: DenseSettings
) -> bool:
    """True when a new generation would hold exactly what the live one holds, the same way."""
    old, manifest = previous.articles, previous.manifest
    same = set(old) == set(target) and all(old[i].content_hash == a.content_hash for i, a in target.items())
    same_dense = manifest.get("dense", dense_index.FLAT) == dense_index.choose(len(previous.passages), dense)
    return same and same_dense and list(sources) == manifest.get("sources")


def reusable(root: Path, embedder: Embedder, settings: IndexSettings) -> PassageIndex | None:
    """The previous index if its vectors can be reused as they are, else None."""
    if not store.exists(root):
        return None
    try:
        previous = PassageIndex.load(root)
        check_model(previous.manifest, embedder, root)
    except (IndexMismatchError, IndexCorruptError) as ex:
        log.warning("re-embedding everything: %s", ex)
        return None
    if previous.settings != settings:
        log.warning(
            "splitter settings changed (%s -> %s); re-embedding everything", previous.settings, settings
        )
        return None
    return previous


def plan_rows(
    target: dict[str, Article],
    previous: PassageIndex | None,
    settings: IndexSettings,
    counter: TokenCounter | None = None,
    workers: int = 1,
) -> list[tuple[Passage, int | None]]:
    """Every passage of the new index with a row of the previous one to reuse (None: embed it).

    An unchanged article keeps its rows. A new or changed one is split again, and each
    passage reuses any previous row with the same embedding_key: an edit re-embeds only
    the passages it touched, a renamed or moved file nothing.
    """
    old_rows = previous.rows_by_article() if previous else {}

    def unchanged(article: Article) -> bool:
        before = previous.articles.get(article.id) if previous else None
        return before is not None and before.content_hash == article.content_hash

    fresh = [a for a in target.values() if not unchanged(a)]
    split = dict(zip([a.id for a in fresh], split_articles(fresh, settings, counter, workers), strict=True))
    by_key = rows_by_key(previous.passages) if previous and fresh else {}
    plan: list[tuple[Passage, int | None]] = []
    for article in target.values():
        if article.id in split:
            plan.extend((p, by_key.get(embedding_key(p))) for p in split[article.id])
        else:
            plan.extend((previous.passages[r], r) for r in old_rows.get(article.id, []))  # type: ignore[union-attr]
    return plan


def write_generation(
    root: Path,
    articles: dict[str, Article],
    passages: list[Passage],
    vectors: np.ndarray,
    sentences: np.ndarray,
    manifest: dict[str, Any],
) -> Path:
    """Write a complete generation and switch to it atomically."""
    import faiss

    with store.building(root) as folder:  # removed again if anything fails (a full disk)
        store.write_jsonl(folder / "articles.jsonl", (article_row(a) for a in articles.values()))
        store.write_jsonl(folder / "passages.jsonl", (passage_row(p) for p in passages))
        dense = dense_index.build(vectors, manifest.get("dense", dense_index.FLAT))
        faiss.write_index(dense, str(folder / "dense.faiss"))
        # float16 halves the disk and page cache; sentence scores need no more precision.
        np.save(folder / "sentences.npy", sentences.astype(np.float16), allow_pickle=False)
        Bm25Index.build([p.embedding_input() for p in passages]).save(folder / "bm25")
        manifest["files"] = store.file_checksums(folder)
        (folder / store.MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        return store.publish(root, folder)


def _report(
    root: Path,
    target: dict[str, Article],
    old: dict[str, Article],
    embedded: int,
    passages: int,
    started: float,
) -> IndexReport:
    added = sum(1 for i in target if i not in old)
    updated = sum(1 for i, a in target.items() if i in old and old[i].content_hash != a.content_hash)
    removed = len(set(old) - set(target))
    return IndexReport(
        str(root),
        added,
        updated,
        removed,
        len(target) - added - updated,
        len(target),
        passages,
        embedded,
        round(time.perf_counter() - started, 3),
    )
