"""The names of an index folder's files (the one owner of them), and how qa knows its folders.

Whatever writes or reads a file of an index takes its name from here. An index folder
(index/folder.py switches generations):

    INDEX/CURRENT           the name of the live generation (replaced atomically), and nothing else
    INDEX/sources.json      what the index is built from (resolved paths), kept out of
                            every generation so that a damaged one cannot take it along
    INDEX/uploads/          articles added in the chat: always one of the sources
    INDEX/.lock             held (flock) by the one writer at a time; readers never take it
    INDEX/gen-<stamp>/      a generation: .qa-generation (qa's mark), manifest.json,
                            also_in.json (where copies of articles were found) and its
                            segments' folders

A segment's folder (index/segments.py), written in two passes that each hold one batch:

    articles.jsonl   passages.jsonl   catalog.json (id, content hash, rows, date, path per article)
    keys.npy         16-byte embedding keys per row (vectors.embedding_key), for reuse;
                     key_order.npy: their argsort
    reuse.npy        while building only: (segment, row) of a previous passage to copy, or -1
    dense.faiss      flat or HNSW over the rows (index/dense.py)
    sentences.npy    float16 sentence vectors, row after row; sentence_rows.npy: each row's first
    bm25/            terms.json indptr.npy docs.npy tf.npy lengths.npy (index/postings.py)
    deleted.json     rows and articles deleted since (written by each later generation for itself)

A generation written before segments (format 2) holds articles.jsonl, passages.jsonl,
dense.faiss, sentences.npy and bm25/ (bm25s's own files) itself.

A folder is never recognised by its name: a user's `news/gen-ai/` is not a generation,
and qa deletes only folders that hold the mark it wrote. Low in the pipeline, so that
ingest can skip index folders without importing the index.
"""

from __future__ import annotations

from pathlib import Path

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
SOURCES = "sources.json"
UPLOADS = "uploads"
FEEDBACK = "feedback/feedback.jsonl"  # the chat's thumbs up/down, unless --feedback names another file
LOCK = ".lock"
GENERATION_MARK = ".qa-generation"
MARK_TEXT = "written by qa index: one generation of an index; qa deletes it when it is replaced\n"

# A segment's files (and a format-2 generation's: the first five and BM25_DIR).
ARTICLES_FILE = "articles.jsonl"
PASSAGES_FILE = "passages.jsonl"
DENSE_FILE = "dense.faiss"
SENTENCES_FILE = "sentences.npy"
BM25_DIR = "bm25"
CATALOG_FILE = "catalog.json"
KEYS_FILE = "keys.npy"
KEY_ORDER_FILE = "key_order.npy"
REUSE_FILE = "reuse.npy"
SENTENCE_ROWS_FILE = "sentence_rows.npy"
DELETED_FILE = "deleted.json"
POSTINGS_FILES = ("terms.json", "indptr.npy", "docs.npy", "tf.npy", "lengths.npy")  # in BM25_DIR
ALSO_IN_FILE = "also_in.json"  # a generation's own, beside its segments


def is_generation(folder: Path) -> bool:
    """True for a folder qa wrote as a generation (it holds the mark, with qa's words)."""
    mark = folder / GENERATION_MARK
    try:
        if mark.is_symlink() or not mark.is_file():
            return False
        with mark.open("rb") as fh:
            return fh.read(len(MARK_TEXT) + 1) == MARK_TEXT.encode()
    except OSError:
        return False


def generations_in(folder: Path) -> list[Path]:
    """The folders in `folder` (not links) that look like generations: qa's mark, or a gen-*
    folder with a manifest (an older qa's, unmarked; index/folder.py checks its manifest).
    Raises OSError when `folder` cannot be listed."""
    return [
        c
        for c in folder.iterdir()
        if not c.is_symlink()
        and c.is_dir()
        and (is_generation(c) or (c.name.startswith("gen-") and (c / MANIFEST).is_file()))
    ]


def is_index_folder(folder: Path) -> bool:
    """True for one of qa's generations, or an index root: CURRENT or sources.json beside a
    generation or the .lock every qa write leaves (its generations deleted by hand). A
    folder of articles that merely holds a file named sources.json is not one."""
    if is_generation(folder):
        return True
    if not ((folder / CURRENT).is_file() or (folder / SOURCES).is_file()):
        return False
    try:
        return (folder / LOCK).is_file() or bool(generations_in(folder))
    except OSError:
        return True  # unlistable: never read it as articles


def enclosing_index(path: Path) -> Path | None:
    """The index folder that `path` lies in (or is), if any: its articles are not to be read."""
    for folder in [path, *path.parents]:
        if folder.is_dir() and is_index_folder(folder):
            return folder
    return None
