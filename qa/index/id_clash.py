"""An --add's article whose id another indexed article holds: an update, or a clash of file names.

Without a given id, an article is named by its file's path inside the folder it was read
from, so two folders can both hold an `s1` (monday/s1.txt, tuesday/s1.txt). One run reading
both names the second `s1~2` (text/ingest.py). An --add reads only the new folder, so here
the index decides: the same id from another file, with another title and content, is a
clash, and the new article takes the `s1~N` that a run reading both folders would give it
(or the one that file already holds); the same file, the same title (a revised story
uploaded in the chat) or an id the article gives itself is an update.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Protocol

from qa import jsonl
from qa.layout import ARTICLES_FILE
from qa.text.articles import Article
from qa.text.ingest import numbered_id

from .segments import Segment

log = logging.getLogger(__name__)


class Indexed(Protocol):
    """What this needs of the previous index (previous.Previous)."""

    catalog: dict[str, tuple[int, str, int, int]]  # id -> (segment, content hash, first row, rows)
    segments: list[Segment]


Paths = dict[int, dict[str, tuple[str | None, str]]]  # segment -> {article id: (path, title)}


def stored(previous: Indexed, aid: str, paths: Paths) -> tuple[str | None, str]:
    """Where indexed article `aid` was read from, and its title: its segment's articles are
    read once, and only when an --add brings an id already indexed with other content."""
    k = previous.catalog[aid][0]
    if k not in paths:
        rows = jsonl.read(previous.segments[k].folder / ARTICLES_FILE)
        paths[k] = {row["id"]: (row.get("path"), row.get("title", "")) for row in rows}
    return paths[k].get(aid, (None, ""))


def own_id(article: Article, previous: Indexed, paths: Paths, taken: set[str]) -> Article:
    """The article, with an `s1~N` id when its own clashes with another file's article (in the
    index, or earlier in this run: `taken`)."""
    if not (article.path and named_by_file(article) and clashes(article, previous, paths, taken)):
        return article
    other = numbered_id(
        without_number(article.id),
        lambda candidate: candidate not in taken and same_story(previous, candidate, article, paths),
    )
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
        and not same_story(previous, article.id, article, paths)
    )


def same_story(previous: Indexed, aid: str, article: Article, paths: Paths) -> bool:
    """True when `aid` is free in the index, or holds an article read from the same file or
    with the same title (a revised story uploaded from elsewhere is an update)."""
    if aid not in previous.catalog:
        return True
    path, title = stored(previous, aid, paths)
    return path is None or file_of(path) == file_of(article.path or "") or title == article.title


def named_by_file(article: Article) -> bool:
    """True when the article's id is its file's path without the extension (no id was given),
    or that with the `~N` a run that read two such files gave the second."""
    stem, aid = Path(file_of(article.path or "")).with_suffix("").as_posix(), without_number(article.id)
    return stem == aid or stem.endswith("/" + aid)


def without_number(aid: str) -> str:
    """`s1` of `s1~2`: the id before the number a clash gave it (text/ingest.py's numbered_id)."""
    return re.sub(r"~\d+$", "", aid)


def file_of(path: str) -> str:
    """The file of an article's path ("file", or "file:line" for a record of a JSON Lines file)."""
    return re.sub(r":\d+$", "", path)
