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
from .lexical import Bm25Index, LegacyBm25Index
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
READABLE_VERSIONS = (2, FORMAT_VERSION)  # 2: one generation of files, before segments (issue 16)


class PassageIndex:
    """A loaded index: row i of `passages` is vector i of `dense` and row i of `bm25`.

    The rows are the live rows of every segment, segment after segment (segments.py); an
    index written before segments (format 2) is one segment. Sentence j of passage i has
    vector `sentence_vectors_of(i)[j]`.
    """

    def __init__(
        self,
        root: Path,
        folder: Path,
        manifest: dict[str, Any],
        articles: dict[str, Article],
        passages: list[Passage],
        dense: Any,
        sentences: SentenceVectors,
        bm25: Any,
    ):
        self.root, self.folder, self.manifest = root, folder, manifest
        self.articles, self.passages, self.dense, self.bm25 = articles, passages, dense, bm25
        self.sentences = sentences
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
            segmented = "segments" in manifest
            opened = _open_segments(folder, manifest) if segmented else _open_legacy(folder, manifest)
        except (OSError, RuntimeError, ValueError, KeyError, TypeError, IndexError) as ex:  # changed in place
            raise IndexCorruptError(
                f"index at {root} is damaged ({type(ex).__name__}: {str(ex)[:200]}); "
                f"check it with `qa index --verify --index {store.shell_path(root)}`, "
                f"{store.repair_hint(root)}"
            ) from None
        articles, passages, dense, sentences, bm25 = opened
        if dense.ntotal != len(passages) or sentences.rows != len(passages):
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
        return self.dense.reconstruct_n(0, self.dense.ntotal)

    def sentence_vectors_of(self, row: int) -> np.ndarray:
        """float32 (sentences of passage `row`, dim)."""
        return self.sentences.of(row)

    @property
    def sentence_vectors(self) -> np.ndarray:
        """Every passage's sentence vectors, row after row (a copy, except for one whole segment)."""
        return self.sentences.all()

    @property
    def vectors_key(self) -> str:
        """Changes exactly when the searched vectors do: the dense files' checksums and deletions."""
        files = self.manifest.get("files") or {}
        names = sorted(n for n in files if n.endswith(("dense.faiss", "deleted.json")))
        return ",".join(str(files[n].get("sha256", "")) for n in names)


class SentenceVectors:
    """Sentence vectors of the live rows: (float16 array, first sentence per physical row) per
    segment, and the segment and physical row of each live row."""

    def __init__(self, parts: list[tuple[np.ndarray, np.ndarray]], part: np.ndarray, local: np.ndarray):
        self.parts, self.part, self.local = parts, part, local
        self.rows = len(part)

    def of(self, row: int) -> np.ndarray:
        vectors, starts = self.parts[int(self.part[row])]
        r = int(self.local[row])
        return np.asarray(vectors[starts[r] : starts[r + 1]], dtype=np.float32)

    def all(self) -> np.ndarray:
        if len(self.parts) == 1 and len(self.parts[0][1]) == self.rows + 1:
            return self.parts[0][0]
        blocks = [self.of(i).astype(np.float16) for i in range(self.rows)]
        return np.concatenate(blocks) if blocks else np.zeros((0, 0), np.float16)


def _open_segments(folder: Path, manifest: dict[str, Any]) -> tuple[Any, ...]:
    from .segments import read_deleted

    articles: dict[str, Article] = {}
    passages: list[Passage] = []
    dense_parts, sentence_parts, bm25_parts, part_of, local_of = [], [], [], [], []
    choice = manifest.get("dense") or dense_index.FLAT
    for k, entry in enumerate(manifest["segments"]):
        segment = folder / entry["name"]
        dead = set(read_deleted(segment)["articles"])
        mine = {r["id"]: article_from_row(r) for r in store.read_jsonl(segment / "articles.jsonl")}
        rows = [passage_from_row(r, mine) for r in store.read_jsonl(segment / "passages.jsonl")]
        live = np.array([i for i, p in enumerate(rows) if p.article_id not in dead], dtype=np.int64)
        articles.update((i, a) for i, a in mine.items() if i not in dead)
        passages.extend(rows[i] for i in live)
        whole = None if len(live) == len(rows) else live
        index = dense_index.read(segment / "dense.faiss", choice)
        if index.ntotal != len(rows):
            raise ValueError(f"{entry['name']} has {index.ntotal} vectors for {len(rows)} passages")
        dense_parts.append((index, whole))
        sentences = np.load(segment / "sentences.npy", mmap_mode="r", allow_pickle=False)
        sentence_parts.append((sentences, np.load(segment / "sentence_rows.npy", allow_pickle=False)))
        bm25_parts.append((segment / "bm25", whole))
        part_of.append(np.full(len(live), k, dtype=np.int32))
        local_of.append(live)
    _add_also_in(articles, folder, manifest)
    return (
        articles,
        passages,
        dense_index.SegmentedDense(dense_parts, int(manifest["dim"])),
        SentenceVectors(sentence_parts, _joined(part_of, np.int32), _joined(local_of, np.int64)),
        Bm25Index.load(bm25_parts),
    )


def _open_legacy(folder: Path, manifest: dict[str, Any]) -> tuple[Any, ...]:
    """An index written before segments (format 2): one segment, bm25s's BM25."""
    articles = {r["id"]: article_from_row(r) for r in store.read_jsonl(folder / "articles.jsonl")}
    passages = [passage_from_row(r, articles) for r in store.read_jsonl(folder / "passages.jsonl")]
    index = dense_index.read(folder / "dense.faiss", manifest.get("dense") or dense_index.FLAT)
    sentences = np.load(folder / "sentences.npy", mmap_mode="r", allow_pickle=False)
    starts = np.cumsum([0, *(len(p.sentences) for p in passages)])
    if len(sentences) != starts[-1]:
        raise ValueError(f"{len(sentences)} sentence vectors for {starts[-1]} sentences")
    rows = np.arange(len(passages), dtype=np.int64)
    return (
        articles,
        passages,
        dense_index.SegmentedDense([(index, None)], index.d),
        SentenceVectors([(sentences, starts)], np.zeros(len(passages), np.int32), rows),
        LegacyBm25Index.load(folder / "bm25", len(passages)),
    )


def _add_also_in(articles: dict[str, Article], folder: Path, manifest: dict[str, Any]) -> None:
    """Places where copies of an article were found, kept beside the segments (index.py)."""
    name = manifest.get("also_in")
    if not name:
        return
    for aid, places in json.loads((folder / name).read_text(encoding="utf-8")).items():
        if aid in articles:
            merged = tuple(dict.fromkeys([*articles[aid].also_in, *places]))
            articles[aid] = articles[aid].with_changes(also_in=merged)


def _joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


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
    if found not in READABLE_VERSIONS:
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


def article_places(root: Path) -> list[str]:
    """Where the live index's articles were read from ("file" or "file:line"), from the small
    catalogs of its segments (or the manifest of an index from before segments)."""
    from .segments import read_deleted

    folder = store.live_generation(root)
    manifest = read_manifest(folder, root)
    if "segments" not in manifest:
        articles = manifest.get("articles") or {}
        return [str(a.get("path") or "") for a in articles.values() if isinstance(a, dict)]
    places = []
    for entry in manifest["segments"]:
        catalog = json.loads((folder / entry["name"] / "catalog.json").read_text(encoding="utf-8"))
        dead = set(read_deleted(folder / entry["name"])["articles"])
        found = zip(catalog["ids"], catalog.get("paths", []), strict=False)
        places += [str(path or "") for aid, path in found if aid not in dead]
    return places


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
            f"  {_segment_words(m)}",
            f"  sources: {', '.join(m.get('sources') or []) or 'uploads only'}",
            f"  built {m.get('built_at', '?')} in {m.get('build_seconds', '?')}s",
        ]
    )


def _segment_words(m: dict[str, Any]) -> str:
    segments = m.get("segments")
    if segments is None:
        return "one segment (an index from before segments; the next `qa index` rewrites it)"
    deleted = sum(s["deleted"] for s in segments)
    return f"{len(segments)} segment(s), {deleted} deleted row(s) not yet compacted away"


def _dense_words(choice: dict[str, Any]) -> str:
    if choice["type"] == "flat":
        return "exact (FAISS IndexFlatIP)"
    return f"HNSW graph (FAISS IndexHNSWFlat, M={choice['M']}, efSearch={choice['ef_search']})"
