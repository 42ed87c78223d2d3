"""Build, update and load an index: articles, passages, FAISS vectors and BM25.

Re-indexing embeds only new or changed articles (matched by id and content hash)
and drops the ones that are gone; loading never embeds anything.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
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
from .tokens import TokenCounter, model_token_counter

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # (done, total) passages embedded


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
    rebuilt: bool = False


class PassageIndex:
    """A loaded index: row i of `passages` is vector i of `dense` and row i of `bm25`."""

    def __init__(
        self,
        root: Path,
        folder: Path,
        manifest: dict[str, Any],
        articles: dict[str, Article],
        passages: list[Passage],
        dense: Any,
        bm25: Bm25Index,
    ):
        self.root, self.folder, self.manifest = root, folder, manifest
        self.articles, self.passages, self.dense, self.bm25 = articles, passages, dense, bm25
        self.settings = IndexSettings.from_dict(manifest["settings"])

    @classmethod
    def load(cls, root: Path | str, verify: bool = False) -> PassageIndex:
        """Open the live generation under `root`; checks format and file sizes (hashes if verify)."""
        import faiss

        root = Path(root)
        folder = store.live_generation(root)
        manifest = json.loads((folder / store.MANIFEST).read_text(encoding="utf-8"))
        check_format(manifest, root)
        bad = store.check_files(folder, manifest.get("files", {}), deep=verify)
        if bad:
            raise IndexCorruptError(
                f"index at {root} is damaged ({', '.join(bad)} missing or changed); "
                f"repair it with `qa index --rebuild --index {root}`"
            )
        articles = {row["id"]: article_from_row(row) for row in store.read_jsonl(folder / "articles.jsonl")}
        passages = [passage_from_row(row, articles) for row in store.read_jsonl(folder / "passages.jsonl")]
        dense = faiss.read_index(str(folder / "dense.faiss"))
        bm25 = Bm25Index.load(folder / "bm25", len(passages))
        if dense.ntotal != len(passages):
            raise IndexCorruptError(
                f"index at {root} has {dense.ntotal} vectors for {len(passages)} "
                f"passages; repair it with `qa index --rebuild --index {root}`"
            )
        return cls(root, folder, manifest, articles, passages, dense, bm25)

    def vectors(self) -> np.ndarray:
        """All passage vectors, float32 (n, dim)."""
        if self.dense.ntotal == 0:
            return np.zeros((0, self.dense.d), dtype=np.float32)
        return self.dense.reconstruct_n(0, self.dense.ntotal)

    def rows_by_article(self) -> dict[str, list[int]]:
        rows: dict[str, list[int]] = {}
        for i, passage in enumerate(self.passages):
            rows.setdefault(passage.article_id, []).append(i)
        return rows


def check_format(manifest: dict[str, Any], root: Path) -> None:
    found = manifest.get("format_version")
    if found != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index at {root} has format version {found}, this qa reads version {FORMAT_VERSION}; "
            f"rebuild it with `qa index --rebuild --index {root}`"
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
        rebuild: ignore the previous generation and embed everything.
    Raises:
        NoArticlesError: the index would hold no article at all.
    """
    started = time.perf_counter()
    root, settings = Path(root), settings or IndexSettings(dim=embedder.dim, model=embedder.name)
    previous = reusable(root, embedder, settings)
    old = previous.articles if previous else {}
    if rebuild:
        previous = None  # still report against the old articles, but reuse no vector
    target = {a.id: a for a in articles}
    if keep_others:
        target = {**old, **target}
    if not target:
        raise NoArticlesError(
            f"no articles to index at {root}; supported files: .txt .md .json .jsonl .html .htm"
        )
    plan = plan_rows(target, previous, settings, counter or model_token_counter())
    changed = sum(1 for a in target.values() if old.get(a.id, a).content_hash != a.content_hash)
    removed = len(set(old) - set(target))
    fresh = [p for p, row in plan if row is None]
    if previous and not fresh and not removed and not changed:
        sources = sources or previous.manifest.get("sources", [])
        if list(sources) == previous.manifest.get("sources", []):
            return _report(root, target, old, removed, 0, previous.dense.ntotal, started)
    vectors = embed_rows(plan, previous, embedder, progress)
    write_generation(root, target, [p for p, _ in plan], vectors, embedder, settings, sources, started)
    return _report(root, target, old, removed, len(fresh), len(plan), started, previous is None)


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
        if before is not None and before.content_hash == article.content_hash:
            plan.extend((previous.passages[r], r) for r in old_rows.get(article.id, []))  # type: ignore[union-attr]
        else:
            plan.extend((p, None) for p in split_article(article, settings, counter))
    return plan


def embed_rows(
    plan: list[tuple[Passage, int | None]],
    previous: PassageIndex | None,
    embedder: Embedder,
    progress: Progress | None,
) -> np.ndarray:
    vectors = np.zeros((len(plan), embedder.dim), dtype=np.float32)
    reuse = [(i, row) for i, (_, row) in enumerate(plan) if row is not None]
    if reuse and previous is not None:
        old = previous.vectors()
        vectors[[i for i, _ in reuse]] = old[[row for _, row in reuse]]
    fresh = [i for i, (_, row) in enumerate(plan) if row is None]
    if fresh:
        done = [0]

        def step(n: int) -> None:
            done[0] += n
            if progress:
                progress(done[0], len(fresh))

        texts = [plan[i][0].embedding_input() for i in fresh]
        vectors[fresh] = embedder.embed(texts, progress=step)
    return vectors


def write_generation(
    root: Path,
    articles: dict[str, Article],
    passages: list[Passage],
    vectors: np.ndarray,
    embedder: Embedder,
    settings: IndexSettings,
    sources: Sequence[str],
    started: float,
) -> Path:
    """Write a complete generation and switch to it atomically."""
    import faiss

    folder = store.new_generation(root)
    store.write_jsonl(folder / "articles.jsonl", (article_row(a) for a in articles.values()))
    store.write_jsonl(folder / "passages.jsonl", (passage_row(p) for p in passages))
    dense = faiss.IndexFlatIP(embedder.dim)  # exact inner product = cosine on unit vectors
    if len(vectors):
        dense.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(dense, str(folder / "dense.faiss"))
    Bm25Index.build([p.embedding_input() for p in passages]).save(folder / "bm25")
    manifest = build_manifest(articles, passages, embedder, settings, sources, started)
    manifest["files"] = store.file_checksums(folder)
    (folder / store.MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return store.publish(root, folder)


def build_manifest(
    articles: dict[str, Article],
    passages: list[Passage],
    embedder: Embedder,
    settings: IndexSettings,
    sources: Sequence[str],
    started: float,
) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for p in passages:
        counts[p.article_id] = counts.get(p.article_id, 0) + 1
    dates = sorted(a.date for a in articles.values() if a.date)
    return {
        "format_version": FORMAT_VERSION,
        "model": embedder.name,
        "model_fingerprint": embedder.fingerprint,
        "dim": embedder.dim,
        "settings": settings.to_dict(),
        "sources": list(sources),
        "counts": {"articles": len(articles), "passages": len(passages)},
        "date_range": [dates[0], dates[-1]] if dates else None,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": round(time.perf_counter() - started, 3),
        "articles": {
            a.id: {"hash": a.content_hash, "path": a.path, "passages": counts.get(a.id, 0)}
            for a in articles.values()
        },
    }


def article_row(article: Article) -> dict[str, Any]:
    row = asdict(article)
    row["also_in"] = list(article.also_in)
    return row


def article_from_row(row: dict[str, Any]) -> Article:
    return Article(**{**row, "also_in": tuple(row.get("also_in") or ())})


def passage_row(p: Passage) -> dict[str, Any]:
    # The text is not stored: it is article.text[start:end], rebuilt on load.
    return {
        "id": p.id,
        "article_id": p.article_id,
        "ordinal": p.ordinal,
        "start": p.start,
        "end": p.end,
        "sentences": [list(s) for s in p.sentences],
        "heading": p.heading,
    }


def passage_from_row(row: dict[str, Any], articles: dict[str, Article]) -> Passage:
    text = articles[row["article_id"]].text[row["start"] : row["end"]]
    spans = tuple((int(a), int(b)) for a, b in row["sentences"])
    return Passage(
        row["id"],
        row["article_id"],
        row["ordinal"],
        row["start"],
        row["end"],
        text,
        spans,
        row.get("heading", ""),
    )


def _report(
    root: Path,
    target: dict[str, Article],
    old: dict[str, Article],
    removed: int,
    embedded: int,
    passages: int,
    started: float,
    rebuilt: bool = False,
) -> IndexReport:
    added = sum(1 for i in target if i not in old)
    updated = sum(1 for i, a in target.items() if i in old and old[i].content_hash != a.content_hash)
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
        rebuilt,
    )


def describe(index: PassageIndex) -> str:
    """What the manifest says, in words (for `qa info`)."""
    m = index.manifest
    s = m["settings"]
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
