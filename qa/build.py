"""Bring an index up to date with files and folders of articles (`qa index`, uploads).

Reads with ingest.py, then lets index.py embed only what is new or changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import embed, store
from .articles import Problem
from .config import DEFAULT_BACKEND, DEFAULT_SOURCES, DenseSettings, IndexSettings, default_index_dir
from .embed import Embedder
from .errors import NoArticlesError, QAError
from .index import IndexReport, Progress, update_index
from .ingest import SUPPORTED, load_articles
from .load import manifest_backend, read_manifest


@dataclass(frozen=True, slots=True)
class BuildResult:
    """An index run's report plus the problems met reading the files."""

    report: IndexReport
    problems: tuple[Problem, ...]


def index_paths(
    paths: Sequence[Path | str],
    index_dir: Path | str | None = None,
    *,
    embedder: Embedder | None = None,
    keep_others: bool = False,
    rebuild: bool = False,
    settings: IndexSettings | None = None,
    backend: str | None = None,
    progress: Progress | None = None,
    ray: str | None = None,
    dense: DenseSettings | None = None,
    split_workers: int = 1,
) -> BuildResult:
    """Read articles from files/folders and bring the index up to date with them.

    With no paths, re-reads the sources recorded in the index (or seeds/ for a new one).

    Args:
        backend: without an embedder, the packaged model runs on this backend (see
            config.BACKENDS; default: the one the index was built with, else torch); a
            different backend re-embeds everything.
        ray: embed the passages on Ray: "local" (a Ray on this machine) or a cluster's
            address ("ray://head:10001", "auto"); None embeds in this process.
        split_workers: processes that split new articles (more than 1 re-runs the calling
            script in each; only for scripts with a `__main__` guard, like `qa index`).
    """
    root = Path(index_dir) if index_dir else default_index_dir()
    embedder = embedder or embed.default_embedder(backend or recorded_backend(root))
    if ray:
        from .ray_embed import RayEmbedder

        if not isinstance(embedder, embed.SentenceTransformerEmbedder):
            raise QAError(f"--ray embeds with the packaged model only, not {embedder.name}")
        embedder = RayEmbedder(embedder, ray)
    with store.writer_lock(root):  # one writer at a time; readers keep reading the live generation
        if not paths:
            paths = recorded_sources(root) or [str(p) for p in DEFAULT_SOURCES]
        loaded = load_articles(paths)
        if not loaded.articles:
            detail = "; ".join(str(p) for p in loaded.errors[:5])
            raise NoArticlesError(
                f"no readable articles in {', '.join(map(str, paths))}"
                + (f" ({detail})" if detail else "")
                + f"; supported files: {' '.join(SUPPORTED)}"
            )
        given = [str(Path(p)) for p in paths]
        # An upload adds to the index, so the folders indexed before stay its sources.
        sources = [*dict.fromkeys([*recorded_sources(root), *given])] if keep_others else given
        report = update_index(
            root,
            loaded.articles,
            embedder,
            settings=settings,
            keep_others=keep_others,
            rebuild=rebuild,
            sources=sources,
            progress=progress,
            dense=dense,
            split_workers=split_workers,
        )
        # Leftovers of a killed run go even when nothing changed (safe: we hold the lock).
        store.remove_stale(root, keep=store.live_generation(root).name)
        return BuildResult(report, loaded.problems)


def recorded_backend(root: Path) -> str:
    """The backend the index at `root` was built with; torch when there is none."""
    if not store.exists(root):
        return DEFAULT_BACKEND
    try:
        return manifest_backend(read_manifest(store.live_generation(root), root))
    except QAError:
        return DEFAULT_BACKEND


def recorded_sources(root: Path) -> list[str]:
    if not store.exists(root):
        return []
    try:  # the manifest alone, so a damaged index still knows what to rebuild from
        return list(read_manifest(store.live_generation(root), root).get("sources") or [])
    except QAError:
        return []
