"""The names qa gives the files of an index folder, and how it knows its own folders.

    INDEX/CURRENT           the name of the live generation, and nothing else
    INDEX/sources.json      what the index is built from (resolved paths), kept out of
                            every generation so that a damaged one cannot take it along
    INDEX/uploads/          articles added in the chat: always one of the sources
    INDEX/gen-<stamp>/      a generation; qa wrote it if it holds GENERATION_MARK

A folder is never recognised by its name: a user's `news/gen-ai/` is not a generation,
and qa deletes only folders that hold the mark it wrote. Low in the pipeline, so that
ingest can skip index folders without importing the store.
"""

from __future__ import annotations

from pathlib import Path

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
SOURCES = "sources.json"
UPLOADS = "uploads"
LOCK = ".lock"
GENERATION_MARK = ".qa-generation"
MARK_TEXT = "written by qa index: one generation of an index; qa deletes it when it is replaced\n"


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


def is_index_folder(folder: Path) -> bool:
    """True for an index root (CURRENT or sources.json) or one of its generations."""
    return (folder / CURRENT).is_file() or (folder / SOURCES).is_file() or is_generation(folder)


def enclosing_index(path: Path) -> Path | None:
    """The index folder that `path` lies in (or is), if any: its articles are not to be read."""
    for folder in [path, *path.parents]:
        if folder.is_dir() and is_index_folder(folder):
            return folder
    return None
