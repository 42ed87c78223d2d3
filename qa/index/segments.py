"""A segment: an immutable slice of an index's passages with everything searched about them.

An index generation is a list of segments plus, per segment, the rows deleted since it was
written. A `qa index` that adds articles writes one new segment and hard-links the old
segments' files into the new generation, so its cost follows what it adds, not the archive.
A segment is written in two passes that each hold one batch in memory (passages.jsonl and
friends first, then vectors, sentence vectors and BM25 postings from reading those back).
Its files are drawn and named in qa/layout.py.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import IndexCorruptError
from qa.layout import (
    ARTICLES_FILE,
    BM25_DIR,
    CATALOG_FILE,
    DELETED_FILE,
    DENSE_FILE,
    KEY_ORDER_FILE,
    KEYS_FILE,
    PASSAGES_FILE,
    REUSE_FILE,
    SENTENCE_ROWS_FILE,
    SENTENCES_FILE,
)
from qa.text.articles import Article
from qa.text.passages import Passage

from . import dense as dense_index
from . import folder as index_folder
from .lexical import tokenize_ids
from .postings import Postings, PostingsWriter, merged
from .records import article_from_row, article_row, passage_from_row, passage_row

KEY_BYTES = 16
NPY_HEADER = 128  # bytes reserved for an .npy header whose shape is known only at the end


class SegmentTexts:
    """Pass one: articles and passages as they are split, their keys and where to reuse vectors."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True)
        self.folder, self.rows = folder, 0
        self._articles = (folder / ARTICLES_FILE).open("w", encoding="utf-8")
        self._passages = (folder / PASSAGES_FILE).open("w", encoding="utf-8")
        self.catalog: dict[str, list[Any]] = {"ids": [], "hashes": [], "rows": [], "dates": [], "paths": []}
        self._keys: list[bytes] = []
        self._reuse: list[tuple[int, int]] = []

    def add(
        self,
        article: Article,
        passages: Sequence[Passage],
        keys: Sequence[bytes],
        reuse: Sequence[tuple[int, int] | None],
    ) -> None:
        self._articles.write(json.dumps(article_row(article), ensure_ascii=False) + "\n")
        for p in passages:
            self._passages.write(json.dumps(passage_row(p), ensure_ascii=False) + "\n")
        values = (article.id, article.content_hash, [self.rows, len(passages)], article.date, article.path)
        for name, value in zip(self.catalog, values, strict=True):
            self.catalog[name].append(value)
        self._keys.extend(keys)
        self._reuse.extend(r or (-1, -1) for r in reuse)
        self.rows += len(passages)

    def close(self) -> int:
        """Finish pass one; returns how many rows need embedding."""
        self._articles.close()
        self._passages.close()
        catalog = json.dumps(self.catalog, ensure_ascii=False)
        (self.folder / CATALOG_FILE).write_text(catalog, encoding="utf-8")
        keys = np.array(self._keys, dtype=f"S{KEY_BYTES}")
        np.save(self.folder / KEYS_FILE, keys, allow_pickle=False)
        np.save(self.folder / KEY_ORDER_FILE, np.argsort(keys, kind="stable"), allow_pickle=False)
        reuse = np.array(self._reuse, dtype=np.int64).reshape(-1, 2)
        np.save(self.folder / REUSE_FILE, reuse, allow_pickle=False)
        return int((reuse[:, 0] < 0).sum())


def read_passages(folder: Path) -> Iterator[tuple[Article, list[Passage]]]:
    """(article, its passages) in row order, one article in memory at a time."""
    with (
        (folder / ARTICLES_FILE).open(encoding="utf-8") as articles,
        (folder / PASSAGES_FILE).open(encoding="utf-8") as passages,
    ):
        pending = None
        for line in articles:
            article = article_from_row(json.loads(line))
            found = []
            while True:
                row = pending or json.loads(passages.readline() or "null")
                pending = None
                if row is None:
                    break
                if row["article_id"] != article.id:
                    pending = row
                    break
                found.append(passage_from_row(row, {article.id: article}))
            yield article, found


class SentenceFile:
    """float16 rows appended to an .npy file whose header is written last (shape unknown before)."""

    def __init__(self, path: Path, dim: int):
        self.path, self.dim, self.rows = path, dim, 0
        self._fh = path.open("wb")
        self._fh.write(b"\0" * NPY_HEADER)

    def append(self, vectors: np.ndarray) -> None:
        self._fh.write(np.ascontiguousarray(vectors, dtype="<f2").tobytes())
        self.rows += len(vectors)

    def close(self) -> None:
        header = {"descr": "<f2", "fortran_order": False, "shape": (self.rows, self.dim)}
        self._fh.seek(0)
        np.lib.format.write_array_header_1_0(self._fh, header)
        assert self._fh.tell() == NPY_HEADER, "the .npy header outgrew its room"
        self._fh.close()


class SegmentVectors:
    """Pass two: passage vectors, sentence vectors and BM25 postings, batch by batch, in row order."""

    def __init__(self, folder: Path, dim: int, rows: int = 0):
        """rows: how many the segment will hold, if known (its vectors' room is made at once)."""
        self.folder = folder
        self.dense = dense_index.build(np.zeros((0, dim), np.float32), dense_index.FLAT)
        dense_index.reserve(self.dense, rows)
        self.sentences = SentenceFile(folder / SENTENCES_FILE, dim)
        self.postings = PostingsWriter()
        self._sentence_rows = [0]

    def add(
        self, passages: Sequence[Passage], vectors: np.ndarray, sentences: np.ndarray, terms: bool = True
    ) -> None:
        """Append rows; terms=False leaves the postings to the caller (a merge copies them)."""
        self.dense.add(np.ascontiguousarray(vectors, dtype=np.float32))
        self.sentences.append(sentences)
        for p in passages:
            self._sentence_rows.append(self._sentence_rows[-1] + len(p.sentences))
        if terms:
            self.postings.add(*tokenize_ids([p.embedding_input() for p in passages]))

    def close(self) -> None:
        import faiss

        faiss.write_index(self.dense, str(self.folder / DENSE_FILE))
        self.dense = None  # let the vectors go before the postings' sort: the peak of a build
        self.sentences.close()
        starts = np.array(self._sentence_rows, np.int64)
        np.save(self.folder / SENTENCE_ROWS_FILE, starts, allow_pickle=False)
        self.postings.save(self.folder / BM25_DIR)
        (self.folder / REUSE_FILE).unlink(missing_ok=True)


class Segment:
    """A written segment, opened for what a writer needs: catalog, keys and vectors to reuse."""

    def __init__(self, folder: Path, deleted: dict[str, list[Any]] | None = None):
        self.folder = folder
        self.deleted = deleted or {"rows": [], "articles": []}
        self._cache: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def catalog(self) -> dict[str, list[Any]]:
        if "catalog" not in self._cache:
            self._cache["catalog"] = json.loads((self.folder / CATALOG_FILE).read_text(encoding="utf-8"))
        return self._cache["catalog"]  # type: ignore[no-any-return]

    @property
    def rows(self) -> int:
        return len(np.load(self.folder / KEYS_FILE, mmap_mode="r"))

    def live_rows(self) -> np.ndarray:
        dead = np.asarray(self.deleted["rows"], dtype=np.int64)
        return np.setdiff1d(np.arange(self.rows), dead, assume_unique=True)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Row of each key in this segment (-1: not here); dead rows count, their vectors are intact."""
        if "keys" not in self._cache:
            try:
                order = np.load(self.folder / KEY_ORDER_FILE, allow_pickle=False)
                self._cache["keys"] = KeyTable(np.load(self.folder / KEYS_FILE, allow_pickle=False), order)
            except (OSError, ValueError, EOFError) as ex:  # a damaged file: a clean error, never a traceback
                root = self.folder.parent.parent  # index/gen-*/seg-*
                raise IndexCorruptError(
                    f"index at {root} is damaged ({self.folder.name}: {ex}); {index_folder.repair_hint(root)}"
                ) from ex
        return self._cache["keys"].find(keys)  # type: ignore[no-any-return]

    def vectors(self, rows: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """(passage vectors, sentence vectors per row) of these rows, as stored."""
        if "dense" not in self._cache:
            self._cache["dense"] = dense_index.read(self.folder / DENSE_FILE, dense_index.FLAT)
            self._cache["sentences"] = np.load(self.folder / SENTENCES_FILE, mmap_mode="r")
            self._cache["sentence_rows"] = np.load(self.folder / SENTENCE_ROWS_FILE)
        dense, sentences, starts = (self._cache[k] for k in ("dense", "sentences", "sentence_rows"))
        vectors = dense.reconstruct_batch(np.asarray(rows, dtype=np.int64)) if len(rows) else None
        blocks = [np.asarray(sentences[starts[r] : starts[r + 1]], dtype=np.float32) for r in rows]
        return (vectors if vectors is not None else np.zeros((0, dense.d), np.float32)), blocks


class KeyTable:
    """Rows by embedding key: sorted keys and two binary searches, no dictionary of a million keys.
    `order` (the keys' argsort) is stored with a segment, so opening one sorts nothing."""

    def __init__(self, keys: np.ndarray, order: np.ndarray | None = None):
        self.order = np.argsort(keys, kind="stable") if order is None else order
        self.keys = keys[self.order]

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Row of each key (-1 where absent)."""
        if not len(self.keys):
            return np.full(len(keys), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[at] == keys, self.order[at], -1).astype(np.int64)


def rewrite(sources: Sequence[Segment], folder: Path, dim: int, batch: int = 2048) -> int:
    """One new segment of the live rows of `sources`, in order: vectors, sentence vectors and
    postings are copied, nothing is embedded or tokenized again. Returns its rows."""
    live = sum(source.rows - len(source.deleted["rows"]) for source in sources)  # room for them at once
    texts, vectors = SegmentTexts(folder), SegmentVectors(folder, dim, live)
    kept: list[tuple[Postings, np.ndarray]] = []
    for source in sources:
        keys = np.load(source.folder / KEYS_FILE, mmap_mode="r")
        dead, row, rows = set(source.deleted["articles"]), 0, []
        pending: list[Passage] = []
        for article, passages in read_passages(source.folder):
            if article.id not in dead:
                at = list(range(row, row + len(passages)))
                texts.add(article, passages, [bytes(k) for k in keys[at]], [None] * len(at))
                rows.extend(at)
                pending.extend(passages)
            row += len(passages)
            if len(pending) >= batch:
                _copy(source, rows[len(rows) - len(pending) :], pending, vectors, dim)
                pending = []
        if pending:
            _copy(source, rows[len(rows) - len(pending) :], pending, vectors, dim)
        kept.append((Postings(source.folder / BM25_DIR), np.array(rows, dtype=np.int64)))
    texts.close()
    vectors.postings = merged(kept)
    vectors.close()
    return texts.rows


def _copy(source: Segment, rows: list[int], passages: list[Passage], out: SegmentVectors, dim: int) -> None:
    copied, blocks = source.vectors(np.array(rows, dtype=np.int64))
    out.add(passages, copied, _stacked(blocks, dim), terms=False)


def _stacked(blocks: Sequence[np.ndarray], dim: int) -> np.ndarray:
    return np.concatenate(blocks) if blocks else np.zeros((0, dim), np.float32)


def link(source: Path, target: Path, skip: Sequence[str] = ()) -> None:
    """Hard-link a segment's files into another generation (a copy where links are refused)."""
    for path in source.rglob("*"):
        relative = path.relative_to(source)
        if path.is_dir() or relative.parts[0] in skip:
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, destination)
        except OSError:
            shutil.copy2(path, destination)


def read_deleted(folder: Path) -> dict[str, list[Any]]:
    path = folder / DELETED_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"rows": [], "articles": []}
