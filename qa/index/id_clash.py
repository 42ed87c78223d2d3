"""An --add's article whose id another indexed article holds: an update, or a clash of file names.

Without a given id, an article is named by its file's path inside the folder it was read
from, so two folders can both hold an `s1` (monday/s1.txt, tuesday/s1.txt). One run reading
both names the second `s1~2` (text/ingest.py). An --add reads only the new folder, so here
the index decides: the same id from another file, with other content, is a clash, and the
new article takes the `s1~N` that a run reading both folders would give it (or the one that
file already holds); the same file, or an id the article gives itself, is an update.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Protocol

from qa import jsonl
from qa.layout import ARTICLES_FILE
from qa.text.articles import Article

from .segments import Segment

log = logging.getLogger(__name__)


class Indexed(Protocol):
    """What this needs of the previous index (previous.Previous)."""

    catalog: dict[str, tuple[int, str, int, int]]  # id -> (segment, content hash, first row, rows)
    segments: list[Segment]


Paths = dict[int, dict[str, str | None]]  # segment -> {article id: the path it was read from}


def stored_path(previous: Indexed, aid: str, paths: Paths) -> str | None:
    """Where indexed article `aid` was read from: its segment's articles are read once, and
    only when an --add brings an id already indexed with other content."""
    k = previous.catalog[aid][0]
    if k not in paths:
        rows = jsonl.read(previous.segments[k].folder / ARTICLES_FILE)
        paths[k] = {row["id"]: row.get("path") for row in rows}
    return paths[k].get(aid)


def own_id(article: Article, previous: Indexed, paths: Paths, taken: set[str]) -> Article:
    """The article, with an `s1~N` id when its own clashes with another file's article (in the
    index, or earlier in this run: `taken`)."""
    if not (article.path and named_by_file(article) and clashes(article, previous, paths, taken)):
        return article
    base, n = re.sub(r"~\d+$", "", article.id), 2
    while (other := f"{base}~{n}") in taken or not same_file(previous, other, article.path, paths):
        n += 1
    if other not in previous.catalog:  # said once, when the id is given
        log.warning(
            "%s: id %r is used by another article; stored this one as %r", article.path, article.id, other
        )
    return article.with_changes(id=other)


def clashes(article: Article, previous: Indexed, paths: Paths, taken: set[str]) -> bool:
    if article.id in taken:
        return True
    old = previous.catalog.get(article.id)
    return (
        old is not None
        and old[1] != article.content_hash
        and not same_file(previous, article.id, article.path or "", paths)
    )


def same_file(previous: Indexed, aid: str, path: str, paths: Paths) -> bool:
    """True when `aid` is free in the index or was read from the file at `path`."""
    if aid not in previous.catalog:
        return True
    before = stored_path(previous, aid, paths)
    return before is None or file_of(before) == file_of(path)


def named_by_file(article: Article) -> bool:
    """True when the article's id is its file's path without the extension (no id was given),
    or that with the `~N` a run that read two such files gave the second."""
    stem, aid = Path(file_of(article.path or "")).with_suffix("").as_posix(), re.sub(r"~\d+$", "", article.id)
    return stem == aid or stem.endswith("/" + aid)


def file_of(path: str) -> str:
    """The file of an article's path ("file", or "file:line" for a record of a JSON Lines file)."""
    return re.sub(r":\d+$", "", path)
