"""Which files of the live generation changed since they were written, seen by a writer.

`qa index` (and --add, --remove, an upload) links the live generation's segments into the
next one unread, so a damaged file would be carried on under its old checksum, or copied
into a merged segment under a new one, and an unchanged run would publish nothing at all:
the damage would stay behind a report of success. So a writer first checks every file
against the manifest: its size, and its modification time (a stat; a file whose time moved
while its size did not is hashed, as after a copy that did not keep times). A damaged segment
is then rewritten (previous.py) from what is intact, or the run stops and names the repair.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import IndexCorruptError
from qa.layout import (
    ARTICLES_FILE,
    CATALOG_FILE,
    DELETED_FILE,
    DENSE_FILE,
    KEY_ORDER_FILE,
    KEYS_FILE,
    SENTENCE_ROWS_FILE,
    SENTENCES_FILE,
)

from . import folder as index_folder
from . import generation

log = logging.getLogger(__name__)
# What the reuse of a segment's vectors reads (Segment.find, Segment.vectors), what says which
# articles it holds, and their texts: while these are intact, a damaged segment is rebuilt from them.
VECTOR_FILES = frozenset({KEYS_FILE, KEY_ORDER_FILE, DENSE_FILE, SENTENCES_FILE, SENTENCE_ROWS_FILE})
CATALOG_FILES = frozenset({CATALOG_FILE, DELETED_FILE})
ARTICLE_FILES = CATALOG_FILES | {ARTICLES_FILE}


@dataclass(frozen=True, slots=True)
class Damage:
    """Damaged files (names relative to the generation) and the segments they are in."""

    files: tuple[str, ...]
    segments: frozenset[str]
    retimed: bool = False  # intact files whose times moved: the next manifest records their times

    @classmethod
    def of_generation(cls, folder: Path, manifest: dict[str, Any], segments: list[str]) -> Damage:
        expected = manifest["files"]
        files = tuple(generation.check_files(folder, expected, deep=False, by_time=True))
        retimed = any(_moved(folder / name, info) for name, info in expected.items() if name not in files)
        return cls(files, frozenset(f.split("/")[0] for f in files) & frozenset(segments), retimed)

    def within(self, segment: str) -> set[str]:
        """The damaged files of one segment, relative to its folder."""
        return {f.removeprefix(f"{segment}/") for f in self.files if f.startswith(f"{segment}/")}

    def keeps_vectors(self, segment: str) -> bool:
        return not self.within(segment) & VECTOR_FILES

    def knows_articles(self, segment: str) -> bool:
        """Which articles the segment holds, and their hashes, can still be read."""
        return not self.within(segment) & CATALOG_FILES

    def keeps_articles(self, segment: str) -> bool:
        """Its live articles can still be read back whole."""
        return not self.within(segment) & ARTICLE_FILES

    def beyond_rebuild(self) -> list[str]:
        """What a run that keeps the other articles cannot rebuild, not having them: which
        articles a segment holds, or a file of the generation's own (also_in.json)."""
        segment_of = {f: f.split("/")[0] for f in self.files}
        return [f for f, s in segment_of.items() if s not in self.segments or not self.keeps_articles(s)]

    def check(self, root: Path, keeps_others: bool) -> None:
        """Stop a run that cannot rebuild the damage; else say what it rewrites."""
        if not self.files:
            return
        lost = self.beyond_rebuild() if keeps_others else []
        if lost:
            one = len(lost) == 1
            it, them = ("it", "its") if one else ("them", "their")
            raise IndexCorruptError(
                f"index at {root} is damaged: {', '.join(lost)} changed since "
                f"{'it was' if one else 'they were'} written ({them} size or time is not the manifest's), "
                f"and an --add, --remove or upload cannot rebuild {it}; rewrite {it} from the index's "
                f"sources with `qa index --index {index_folder.shell_path(root)}`"
            )
        log.warning(
            "index at %s: %s changed since written (size or time not the manifest's); "
            "rewriting segment(s) %s from the articles and the intact files",
            root,
            ", ".join(self.files),
            ", ".join(sorted(self.segments)) or "none",
        )


def _moved(file: Path, info: dict[str, Any]) -> bool:
    return "mtime_ns" in info and file.stat().st_mtime_ns != info["mtime_ns"]
