"""The front door of indexing: bring an index up to date with files and folders of articles.

index_paths serves `qa index` and uploads; ensure_index builds a first index from seeds
for `qa ask`, the chat and benchmarks. Both pick the embedder and the sources (recorded
in sources.py), read with text/ingest.py, then let update.py embed only what is new or
changed, under the folder's writer lock.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.config import DEFAULT_BACKEND, DEFAULT_SOURCES, DenseSettings, IndexSettings, default_index_dir
from qa.encode import backends
from qa.encode.embedder import Embedder, Progress
from qa.errors import NoArticlesError, QAError, SourcesError
from qa.text.articles import Article, Problem
from qa.text.ingest import Ingested, load_articles
from qa.text.readers import SUPPORTED

from . import folder, lock, sources
from .generation import manifest_backend, read_manifest
from .previous import IndexReport
from .update import update_index

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BuildResult:
    """An index run's report plus the problems met reading the files."""

    report: IndexReport
    problems: tuple[Problem, ...]
    copies: int = 0  # articles read that were identical copies of others: stored once, their places kept


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
    follow_links: bool = False,
    device: str = "auto",
    notify: Callable[[str], None] | None = None,
    remove: Sequence[str] = (),
) -> BuildResult:
    """Read articles from files/folders and bring the index up to date with them.

    With no paths, re-reads the sources recorded in the index (or seeds/ for a new one);
    INDEX/uploads/ is always read too. `keep_others` (an upload) reads only `paths` and
    keeps every other indexed article; `remove` without paths only takes those articles out.

    Args:
        backend: without an embedder, the packaged model runs on this backend (see
            config.BACKENDS; default: the one the index was built with, else onnx-int8); a
            different backend re-embeds everything.
        device: where passages are embedded: auto, cpu or cuda (see encode/devices.py).
        notify: hears one-line news of slow steps that have no progress bar (the first
            run's model export).
        ray: embed the passages on Ray: "local" (a Ray on this machine) or a cluster's
            address ("ray://head:10001", "auto"); None embeds in this process.
        split_workers: processes that split new articles (more than 1 re-runs the calling
            script in each; only for scripts with a `__main__` guard, like `qa index`).
        follow_links: read files that links inside the folders point to outside them
            (by default they are skipped with a warning).
        remove: ids of indexed articles to take out (the others stay when no paths are given).
    Raises:
        SourcesError: no paths, and the index's sources cannot be known or are gone.
    """
    root = Path(index_dir) if index_dir else default_index_dir()
    lock.check_ours(root)  # before the model loads and before .lock is made
    if rebuild and (keep_others or (remove and not paths)):  # a rebuild reads every source
        paths, keep_others = every_source(root, paths if keep_others else []), False
    chosen = backend or recorded_backend(root)
    # On Ray, this process only encodes questions (on its CPU); the actors pick their device.
    embedder = embedder or backends.default_embedder(chosen, "cpu" if ray else device)
    if ray:
        from qa.encode.ray_embed import RayEmbedder

        if not hasattr(embedder, "model_dir"):
            raise QAError(f"--ray embeds with the packaged model only, not {embedder.name}")
        embedder = RayEmbedder(embedder, ray, device=device)
    prepare = getattr(embedder, "prepare", None)
    if prepare is not None:  # the first run's model export, announced: it takes about 20 s
        prepare(notify)
    # Ray is kept for the whole run, and a Ray this run started is shut down at its end.
    running = (
        embedder if isinstance(embedder, contextlib.AbstractContextManager) else contextlib.nullcontext()
    )
    with lock.writer_lock(root), running:  # one writer at a time; readers keep the live generation
        removing_only = bool(remove) and not paths
        keep_others = keep_others or removing_only
        to_read, to_record = plan_sources(root, paths, keep_others)
        loaded = read_articles(root, to_read, with_uploads=not keep_others, follow_links=follow_links)
        report = update_index(
            root,
            iter(()) if removing_only else _some_articles(loaded, to_read, root),
            embedder,
            settings=settings,
            keep_others=keep_others,
            rebuild=rebuild,
            sources=sources.with_uploads(root, to_record or []),
            progress=progress,
            dense=dense,
            split_workers=split_workers,
            remove=remove,
            also_in=lambda: loaded.also_in,
        )
        if to_record is not None:
            sources.write_sources(root, to_record)
        # Leftovers of a killed run go even when nothing changed (safe: we hold the lock).
        folder.remove_stale(root, keep=folder.live_generation(root).name)
        return BuildResult(report, loaded.problems, sum(map(len, loaded.also_in.values())))


def ensure_index(
    root: Path | str,
    seeds: Sequence[Path | str] = DEFAULT_SOURCES,
    *,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    notify: Callable[[str], None] | None = None,
) -> bool:
    """Build an index at `root` when there is none yet (`qa ask`, `qa serve`, the chat).

    A new folder is built from `seeds`; what is left of an index (sources.json,
    generations without a live one) is rebuilt from its own sources. `notify` (else the
    log) hears one line saying so, and the model export's news. Returns True when it
    built one, False when an index was already there.
    """
    root = Path(root)
    folder.check_folder(root)
    if folder.exists(root):
        return False
    lock.check_ours(root)  # a user's own sources.json: refused before "building one" is said
    paths = [] if sources.has_index(root) else list(seeds)
    if paths and not any(Path(p).exists() for p in paths):  # run outside a checkout: no seeds/ here
        raise NoArticlesError(
            f"no index at {root} yet, and no {', '.join(map(str, paths))} to build one from; "
            f"build one from your articles with `qa index PATH --index {folder.shell_path(root)}`"
        )
    line = f"no index at {root} yet; building one from {', '.join(map(str, paths)) or 'its sources'}"
    (notify or log.warning)(line)
    index_paths(paths, root, embedder=embedder, progress=progress, notify=notify)
    return True


def every_source(root: Path, paths: Sequence[Path | str]) -> list[str]:
    """The sources of a rebuild that would read only some (`--rebuild --add PATHS`, `--rebuild
    --remove ID`): what an --add of PATHS would record, the recorded sources and PATHS. A
    rebuild embeds the whole index again, so reading PATHS alone would leave the rest out."""
    _, recorded = plan_sources(root, paths, keep_others=True)
    if recorded is None:
        raise SourcesError(
            f"the index at {root} does not record its sources, so a rebuild would keep only "
            f"{', '.join(map(str, paths)) or 'nothing'}; rebuild it from every source: "
            "`qa index --rebuild SOURCES...`"
        )
    return recorded


def plan_sources(
    root: Path, paths: Sequence[Path | str], keep_others: bool
) -> tuple[list[str], list[str] | None]:
    """(paths to read, sources to record; None: leave the record as it is).

    A `qa index` reads and records what it was given, else the recorded sources. An
    upload reads only its files and adds them to the record, unless they lie in
    INDEX/uploads/ (always a source) or the index's sources are unknown (then it does
    not pretend to know them).
    """
    if not keep_others:
        chosen = sources.sources_to_read(root, paths)
        return chosen, chosen
    given, recorded = sources.resolve(paths), sources.read_sources(root)
    if recorded is None and sources.has_index(root):
        return given, None
    uploads = str(sources.uploads_dir(root)) + os.sep
    return given, [*dict.fromkeys([*(recorded or []), *(p for p in given if not p.startswith(uploads))])]


def read_articles(root: Path, paths: Sequence[str], with_uploads: bool, follow_links: bool) -> Ingested:
    """The articles of `paths` (and of INDEX/uploads/), read as they are streamed."""
    uploads = sources.uploads_dir(root)
    if with_uploads and uploads.is_dir():
        paths = sources.with_uploads(root, paths)
    return load_articles(paths, index_root=root, follow_outside_links=follow_links)


def _some_articles(loaded: Ingested, paths: Sequence[Path | str], root: Path) -> Iterator[Article]:
    """The stream of articles, which must not be empty (else the error names the paths)."""
    count = 0
    for article in loaded:
        count += 1
        yield article
    if count == 0:
        detail = "; ".join(str(p) for p in loaded.problems[:5])
        if not paths:
            raise NoArticlesError(
                f"the index at {root} records no folder to read, and no upload holds an article; name the "
                f"folders to index: `qa index PATH ... --index {folder.shell_path(root)}`"
            )
        where = ", ".join(map(str, paths))
        raise NoArticlesError(
            f"no readable articles in {where}"
            + (f" ({detail})" if detail else "")
            + f"; supported files: {' '.join(SUPPORTED)}"
        )


def recorded_backend(root: Path) -> str:
    """The backend the index at `root` was built with; the default when there is none."""
    if not folder.exists(root):
        return DEFAULT_BACKEND
    try:
        return manifest_backend(read_manifest(folder.live_generation(root), root))
    except QAError:
        return DEFAULT_BACKEND
