"""Build, update and load an index: articles, passages, FAISS vectors, sentence vectors, BM25.

Re-indexing embeds only new or changed articles (matched by id and content hash)
and drops the ones that are gone; loading never embeds anything.
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

from . import store
from .articles import Article
from .config import FORMAT_VERSION, IndexSettings
from .embed import Embedder
from .errors import IndexCorruptError, IndexMismatchError, NoArticlesError
from .lexical import Bm25Index
from .passages import Passage, split_article
from .records import article_from_row, article_row, build_manifest, passage_from_row, passage_row
from .tokens import TokenCounter, model_token_counter
from .vectors import Progress, assemble

log = logging.getLogger(__name__)
__all__ = [
    "IndexReport",
    "PassageIndex",
    "Progress",
    "update_index",
    "check_model",
    "describe",
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


class PassageIndex:
    """A loaded index: row i of `passages` is vector i of `dense` and row i of `bm25`.

    Sentence j of passage i has vector `sentence_vectors[sentence_rows[i] + j]`.
    """

    def __init__(
        self,
        root: Path,
        folder: Path,
        manifest: dict[str, Any],
        articles: dict[str, Article],
        passages: list[Passage],
        dense: Any,
        sentence_vectors: np.ndarray,
        bm25: Bm25Index,
    ):
        self.root, self.folder, self.manifest = root, folder, manifest
        self.articles, self.passages, self.dense, self.bm25 = articles, passages, dense, bm25
        self.sentence_vectors = sentence_vectors
        self.sentence_rows = np.cumsum([0] + [len(p.sentences) for p in passages])[:-1]
        self.settings = IndexSettings.from_dict(manifest["settings"])

    @classmethod
    def load(cls, root: Path | str, verify: bool = False) -> PassageIndex:
        """Open the live generation under `root`; checks format and file sizes (hashes if verify)."""
        import faiss

        root = Path(root)
        folder = store.live_generation(root)
        manifest = read_manifest(folder, root)
        bad = store.check_files(folder, manifest.get("files", {}), deep=verify)
        if bad:
            raise IndexCorruptError(
                f"index at {root} is damaged ({', '.join(bad)} missing or changed); "
                f"repair it with `qa index --rebuild --index {root}`"
            )
        try:
            articles = {r["id"]: article_from_row(r) for r in store.read_jsonl(folder / "articles.jsonl")}
            passages = [passage_from_row(r, articles) for r in store.read_jsonl(folder / "passages.jsonl")]
            dense = faiss.read_index(str(folder / "dense.faiss"))
            sentences = np.load(folder / "sentences.npy", mmap_mode="r", allow_pickle=False)
            bm25 = Bm25Index.load(folder / "bm25", len(passages))
        except (OSError, RuntimeError, ValueError, KeyError, TypeError) as ex:  # changed in place
            raise IndexCorruptError(
                f"index at {root} is damaged ({type(ex).__name__}: {str(ex)[:200]}); "
                f"check it with `qa index --verify --index {root}`, "
                f"repair it with `qa index --rebuild --index {root}`"
            ) from None
        if dense.ntotal != len(passages) or len(sentences) != sum(len(p.sentences) for p in passages):
            raise IndexCorruptError(
                f"index at {root} has {dense.ntotal} vectors for {len(passages)} "
                f"passages; repair it with `qa index --rebuild --index {root}`"
            )
        return cls(root, folder, manifest, articles, passages, dense, sentences, bm25)

    def vectors(self) -> np.ndarray:
        """All passage vectors, float32 (n, dim)."""
        if self.dense.ntotal == 0:
            return np.zeros((0, self.dense.d), dtype=np.float32)
        return self.dense.reconstruct_n(0, self.dense.ntotal)

    def sentence_vectors_of(self, row: int) -> np.ndarray:
        """float32 (sentences of passage `row`, dim)."""
        start = int(self.sentence_rows[row])
        return np.asarray(
            self.sentence_vectors[start : start + len(self.passages[row].sentences)], dtype=np.float32
        )

    def rows_by_article(self) -> dict[str, list[int]]:
        rows: dict[str, list[int]] = {}
        for i, passage in enumerate(self.passages):
            rows.setdefault(passage.article_id, []).append(i)
        return rows


def read_manifest(folder: Path, root: Path) -> dict[str, Any]:
    """The manifest of a generation, checked for this qa's format version."""
    try:
        manifest = json.loads((folder / store.MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as ex:
        raise IndexCorruptError(
            f"the manifest of the index at {root} is unreadable ({ex}); "
            f"repair it with `qa index --rebuild --index {root}`"
        ) from None
    if not isinstance(manifest, dict):
        raise IndexCorruptError(
            f"the manifest of the index at {root} is not a JSON object; "
            f"repair it with `qa index --rebuild --index {root}`"
        )
    check_format(manifest, root)
    return manifest


def verify_index(root: Path | str) -> tuple[Path, list[str], list[str]]:
    """Hash every file of the live generation: (folder, files checked, files missing or changed)."""
    root = Path(root)
    folder = store.live_generation(root)
    expected = read_manifest(folder, root).get("files") or {}
    return folder, sorted(expected), store.check_files(folder, expected, deep=True)


def check_format(manifest: dict[str, Any], root: Path) -> None:
    found = manifest.get("format_version")
    if found != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index at {root} has format version {found}, this qa reads version "
            f"{FORMAT_VERSION}; rebuild it with `qa index --rebuild --index {root}`"
        )


def check_model(manifest: dict[str, Any], embedder: Embedder, root: Path) -> None:
    """Refuse to mix vectors of two models (or two dimensions) in one search."""
    built = (manifest.get("model"), manifest.get("model_fingerprint"), manifest.get("dim"))
    wanted = (embedder.name, embedder.fingerprint, embedder.dim)
    if built != wanted:
        raise IndexMismatchError(
            f"index at {root} was built with model {built[0]} (weights {built[1]}, dim {built[2]}), "
            f"but the model here is {wanted[0]} (weights {wanted[1]}, dim {wanted[2]}); "
            f"rebuild it with `qa index --rebuild --index {root}`"
        )


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
) -> IndexReport:
    """Make the index at `root` hold `articles`, embedding only what is new or changed.

    Args:
        keep_others: keep indexed articles that are not in `articles` (an upload adds;
            a `qa index` of a folder replaces).
        rebuild: ignore the previous vectors and embed everything.
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
    plan = plan_rows(target, None if rebuild else previous, settings, counter or model_token_counter())
    unchanged = previous is not None and not rebuild and all(row is not None for _, row in plan)
    if unchanged and set(old) == set(target) and list(sources) == previous.manifest.get("sources"):  # type: ignore[union-attr]
        return _report(root, target, old, 0, len(plan), started)
    old_vectors = None
    if previous is not None and not rebuild:
        old_vectors = (previous.vectors(), previous.sentence_vectors, previous.sentence_rows)
    vectors, sentences, embedded = assemble(plan, old_vectors, embedder, progress)
    model = (embedder.name, embedder.fingerprint, embedder.dim)
    write_generation(
        root,
        target,
        [p for p, _ in plan],
        vectors,
        sentences,
        build_manifest(target, [p for p, _ in plan], model, settings, sources, started),
    )
    return _report(root, target, old, embedded, len(plan), started)


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
    target: dict[str, Article], previous: PassageIndex | None, settings: IndexSettings, counter: TokenCounter
) -> list[tuple[Passage, int | None]]:
    """Every passage of the new index with its row in the previous one (None: embed it)."""
    old_rows = previous.rows_by_article() if previous else {}
    plan: list[tuple[Passage, int | None]] = []
    for article in target.values():
        before = previous.articles.get(article.id) if previous else None
        if previous is not None and before is not None and before.content_hash == article.content_hash:
            plan.extend((previous.passages[r], r) for r in old_rows.get(article.id, []))
        else:
            plan.extend((p, None) for p in split_article(article, settings, counter))
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

    folder = store.new_generation(root)
    store.write_jsonl(folder / "articles.jsonl", (article_row(a) for a in articles.values()))
    store.write_jsonl(folder / "passages.jsonl", (passage_row(p) for p in passages))
    dense = faiss.IndexFlatIP(vectors.shape[1])  # exact inner product = cosine on unit vectors
    if len(vectors):
        dense.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(dense, str(folder / "dense.faiss"))
    # float16 halves the disk and page cache; sentence scores need no more precision.
    np.save(folder / "sentences.npy", sentences.astype(np.float16), allow_pickle=False)
    Bm25Index.build([p.embedding_input() for p in passages]).save(folder / "bm25")
    manifest["files"] = store.file_checksums(folder)
    (folder / store.MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return store.publish(root, folder)


def describe(index: PassageIndex) -> str:
    """What the manifest says, in words (for `qa info`)."""
    m, s = index.manifest, index.manifest["settings"]
    dates = m.get("date_range") or ["?", "?"]
    sections = sorted({a.section for a in index.articles.values() if a.section})
    return "\n".join(
        [
            f"Index {index.root} (generation {index.folder.name}, format v{m['format_version']})",
            f"  {m['counts']['articles']} articles, {m['counts']['passages']} passages, "
            f"dated {dates[0]} to {dates[1]}",
            f"  sections: {', '.join(sections) or 'none'}",
            f"  model {m['model']} (weights {m['model_fingerprint']}, {m['dim']} dimensions)",
            f"  passages of whole sentences, about {s['passage_tokens']} word pieces "
            f"(window {s['max_tokens']}), {s['overlap_sentences']} sentence(s) of overlap",
            f"  sources: {', '.join(m.get('sources') or []) or 'uploads only'}",
            f"  built {m['built_at']} in {m['build_seconds']}s",
        ]
    )


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
