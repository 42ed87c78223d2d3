"""Open an index: the loaded PassageIndex, its manifest checks, verification and description.

Loading never embeds anything; index.py builds and updates what this module opens.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from . import dense as dense_index
from . import jsonl, store
from .articles import Article
from .config import FORMAT_VERSION, TORCH, IndexSettings
from .embed import Embedder, backend_of
from .errors import IndexCorruptError, IndexMismatchError
from .lexical import Bm25Index
from .passages import Passage
from .records import article_from_row, passage_from_row

MAX_MANIFEST_BYTES = 1 << 30  # about 2,000 bytes per article: room for 500k articles
# What every reader of a manifest relies on, with its JSON type (bool is refused as a number).
MANIFEST_KEYS: dict[str, type | tuple[type, ...]] = {
    "model": str,
    "model_fingerprint": str,
    "dim": int,
    "settings": dict,
    "counts": dict,
    "files": dict,
    "sources": list,
}


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
        root = Path(root)
        folder = store.live_generation(root)
        manifest = read_manifest(folder, root)
        bad = store.check_files(folder, manifest.get("files", {}), deep=verify)
        if bad:
            raise IndexCorruptError(
                f"index at {root} is damaged ({', '.join(bad)} missing or changed); {store.repair_hint(root)}"
            )
        try:
            articles = {r["id"]: article_from_row(r) for r in store.read_jsonl(folder / "articles.jsonl")}
            passages = [passage_from_row(r, articles) for r in store.read_jsonl(folder / "passages.jsonl")]
            dense = dense_index.read(folder / "dense.faiss", manifest.get("dense") or dense_index.FLAT)
            sentences = np.load(folder / "sentences.npy", mmap_mode="r", allow_pickle=False)
            bm25 = Bm25Index.load(folder / "bm25", len(passages))
        except (OSError, RuntimeError, ValueError, KeyError, TypeError) as ex:  # changed in place
            raise IndexCorruptError(
                f"index at {root} is damaged ({type(ex).__name__}: {str(ex)[:200]}); "
                f"check it with `qa index --verify --index {store.shell_path(root)}`, "
                f"{store.repair_hint(root)}"
            ) from None
        if dense.ntotal != len(passages) or len(sentences) != sum(len(p.sentences) for p in passages):
            raise IndexCorruptError(
                f"index at {root} has {dense.ntotal} vectors for {len(passages)} "
                f"passages; {store.repair_hint(root)}"
            )
        return cls(root, folder, manifest, articles, passages, dense, sentences, bm25)

    @cached_property
    def row_days(self) -> np.ndarray:
        """The date of each row's article as a day number (date.toordinal), 0 when undated:
        a date window becomes one vectorised comparison instead of a loop over passages."""
        days = {i: date.fromisoformat(a.date).toordinal() if a.date else 0 for i, a in self.articles.items()}
        return np.array([days[p.article_id] for p in self.passages], dtype=np.int64)

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
        with (folder / store.MANIFEST).open("rb") as fh:
            manifest = jsonl.loads(fh.read(MAX_MANIFEST_BYTES).decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as ex:
        raise IndexCorruptError(
            f"the manifest of the index at {root} is unreadable ({str(ex)[:200]}); {store.repair_hint(root)}"
        ) from None
    if not isinstance(manifest, dict):
        raise IndexCorruptError(
            f"the manifest of the index at {root} is not a JSON object; {store.repair_hint(root)}"
        )
    check_format(manifest, root)
    wrong = [key for key, kind in MANIFEST_KEYS.items() if not isinstance(manifest.get(key), kind)]
    if wrong:
        raise IndexCorruptError(
            f"the manifest of the index at {root} lacks {', '.join(wrong)} (or holds the wrong type); "
            f"{store.repair_hint(root)}"
        )
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
            f"{FORMAT_VERSION}; rebuild it with `qa index --rebuild --index {store.shell_path(root)}`"
        )


def check_model(manifest: dict[str, Any], embedder: Embedder, root: Path) -> None:
    """Refuse to mix vectors of two models (or two dimensions) in one search."""
    built = (manifest.get("model"), manifest.get("model_fingerprint"), manifest.get("dim"))
    wanted = (embedder.name, embedder.fingerprint, embedder.dim)
    if built != wanted:
        raise IndexMismatchError(
            f"index at {root} was built with model {built[0]} (weights {built[1]}, dim {built[2]}), "
            f"but the model here is {wanted[0]} (weights {wanted[1]}, dim {wanted[2]}); "
            f"rebuild it with `qa index --rebuild --index {store.shell_path(root)}`"
        )
    built_with, here = manifest_backend(manifest), backend_of(embedder)
    if built_with != here:
        raise IndexMismatchError(
            f"index at {root} was built with backend {built_with}, but questions here are encoded "
            f"with {here}; their vectors differ slightly and must not be mixed. Search it with "
            f"backend {built_with}, or rebuild it with "
            f"`qa index --rebuild --backend {here} --index {store.shell_path(root)}`"
        )


def manifest_backend(manifest: dict[str, Any]) -> str:
    """The backend an index was built with (indexes from before backends existed: torch)."""
    return str(manifest.get("backend") or TORCH)


def describe(index: PassageIndex) -> str:
    """What the manifest says, in words (for `qa info`)."""
    m, s = index.manifest, index.settings
    dates = m.get("date_range") or ["?", "?"]
    sections = sorted({a.section for a in index.articles.values() if a.section})
    return "\n".join(
        [
            f"Index {index.root} (generation {index.folder.name}, format v{m['format_version']})",
            f"  {m['counts'].get('articles', '?')} articles, {m['counts'].get('passages', '?')} passages, "
            f"dated {dates[0]} to {dates[1]}",
            f"  sections: {', '.join(sections) or 'none'}",
            f"  model {m['model']} (weights {m['model_fingerprint']}, {m['dim']} dimensions, "
            f"backend {manifest_backend(m)})",
            f"  passages of whole sentences, about {s.passage_tokens} word pieces "
            f"(window {s.max_tokens}), {s.overlap_sentences} sentence(s) of overlap",
            f"  dense index: {_dense_words(m.get('dense') or dense_index.FLAT)}",
            f"  sources: {', '.join(m.get('sources') or []) or 'uploads only'}",
            f"  built {m.get('built_at', '?')} in {m.get('build_seconds', '?')}s",
        ]
    )


def _dense_words(choice: dict[str, Any]) -> str:
    if choice["type"] == "flat":
        return "exact (FAISS IndexFlatIP)"
    return f"HNSW graph (FAISS IndexHNSWFlat, M={choice['M']}, efSearch={choice['ef_search']})"
