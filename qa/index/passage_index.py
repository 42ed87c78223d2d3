"""Open an index: the loaded PassageIndex over the live generation, and its description.

Owns reading a generation's segments (or a format-2 generation's files) into one set of
rows: passages, dense vectors, sentence vectors and BM25 postings. The manifest and its
checks are generation.py's; update.py writes what this module opens. Loading never embeds.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from qa import jsonl
from qa.config import IndexSettings
from qa.errors import IndexCorruptError
from qa.layout import (
    ARTICLES_FILE,
    BM25_DIR,
    DELETED_FILE,
    DENSE_FILE,
    PASSAGES_FILE,
    SENTENCE_ROWS_FILE,
    SENTENCES_FILE,
)
from qa.text.articles import Article
from qa.text.passages import Passage

from . import dense as dense_index
from . import folder as index_folder
from . import generation
from .generation import manifest_backend, read_manifest
from .lexical import Bm25Index, LegacyBm25Index
from .records import article_from_row, passage_from_row


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
        folder = index_folder.live_generation(root)
        manifest = read_manifest(folder, root)
        bad = generation.check_files(folder, manifest.get("files", {}), deep=verify)
        if bad:
            raise IndexCorruptError(
                f"index at {root} is damaged ({', '.join(bad)} missing or changed); "
                f"{index_folder.repair_hint(root)}"
            )
        try:
            segmented = "segments" in manifest
            opened = _open_segments(folder, manifest) if segmented else _open_legacy(folder, manifest)
        except (OSError, RuntimeError, ValueError, KeyError, TypeError, IndexError) as ex:  # changed in place
            raise IndexCorruptError(
                f"index at {root} is damaged ({type(ex).__name__}: {str(ex)[:200]}); "
                f"check it with `qa index --verify --index {index_folder.shell_path(root)}`, "
                f"{index_folder.repair_hint(root)}"
            ) from None
        articles, passages, dense, sentences, bm25 = opened
        if dense.ntotal != len(passages) or sentences.rows != len(passages):
            raise IndexCorruptError(
                f"index at {root} has {dense.ntotal} vectors for {len(passages)} "
                f"passages; {index_folder.repair_hint(root)}"
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
        names = sorted(n for n in files if n.endswith((DENSE_FILE, DELETED_FILE)))
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
        mine = {r["id"]: article_from_row(r) for r in jsonl.read(segment / ARTICLES_FILE)}
        rows = [passage_from_row(r, mine) for r in jsonl.read(segment / PASSAGES_FILE)]
        live = np.array([i for i, p in enumerate(rows) if p.article_id not in dead], dtype=np.int64)
        articles.update((i, a) for i, a in mine.items() if i not in dead)
        passages.extend(rows[i] for i in live)
        whole = None if len(live) == len(rows) else live
        index = dense_index.read(segment / DENSE_FILE, choice)
        if index.ntotal != len(rows):
            raise ValueError(f"{entry['name']} has {index.ntotal} vectors for {len(rows)} passages")
        dense_parts.append((index, whole))
        sentences = np.load(segment / SENTENCES_FILE, mmap_mode="r", allow_pickle=False)
        sentence_parts.append((sentences, np.load(segment / SENTENCE_ROWS_FILE, allow_pickle=False)))
        bm25_parts.append((segment / BM25_DIR, whole))
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
    articles = {r["id"]: article_from_row(r) for r in jsonl.read(folder / ARTICLES_FILE)}
    passages = [passage_from_row(r, articles) for r in jsonl.read(folder / PASSAGES_FILE)]
    index = dense_index.read(folder / DENSE_FILE, manifest.get("dense") or dense_index.FLAT)
    sentences = np.load(folder / SENTENCES_FILE, mmap_mode="r", allow_pickle=False)
    starts = np.cumsum([0, *(len(p.sentences) for p in passages)])
    if len(sentences) != starts[-1]:
        raise ValueError(f"{len(sentences)} sentence vectors for {starts[-1]} sentences")
    rows = np.arange(len(passages), dtype=np.int64)
    return (
        articles,
        passages,
        dense_index.SegmentedDense([(index, None)], index.d),
        SentenceVectors([(sentences, starts)], np.zeros(len(passages), np.int32), rows),
        LegacyBm25Index.load(folder / BM25_DIR, len(passages)),
    )


def _add_also_in(articles: dict[str, Article], folder: Path, manifest: dict[str, Any]) -> None:
    """Places where copies of an article were found, kept beside the segments (previous.Plan.also_in)."""
    name = manifest.get("also_in")
    if not name:
        return
    for aid, places in json.loads((folder / name).read_text(encoding="utf-8")).items():
        if aid in articles:
            merged = tuple(dict.fromkeys([*articles[aid].also_in, *places]))
            articles[aid] = articles[aid].with_changes(also_in=merged)


def _joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


def describe(index: PassageIndex) -> str:
    """What the manifest says, in words (for `qa info`)."""
    m, s = index.manifest, index.settings
    sections = sorted({a.section for a in index.articles.values() if a.section})
    return "\n".join(
        [
            f"Index {index.root} (generation {index.folder.name}, format v{m['format_version']})",
            f"  {_articles(m['counts'].get('articles', '?'))} ({_date_words(index)}), "
            f"{m['counts'].get('passages', '?')} passages",
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


def _articles(n: object) -> str:
    return "1 article" if n == 1 else f"{n} articles"


def dated_articles(index: PassageIndex) -> int:
    return sum(1 for a in index.articles.values() if a.date)


def _date_words(index: PassageIndex) -> str:
    """How many articles time words can favour: only dated ones (search/dates.py)."""
    dated, span = dated_articles(index), index.manifest.get("date_range")
    if not dated or not span:
        return "none dated: time words like 'this week' cannot favour any"
    return f"{dated} dated, {span[0]} to {span[1]}"


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
