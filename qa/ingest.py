"""Find article files, decode them, read them, and store identical articles once.

Does not split or embed; see passages.py and index.py. A bad file becomes a
Problem naming the file (and line) while the rest of the batch is still read.
"""

from __future__ import annotations

import codecs
import logging
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .articles import Article, Problem
from .readers import READERS
from .walk import find_files

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
SUPPORTED = tuple(sorted(READERS))
# UTF-32 first: its little-endian mark starts with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True, slots=True)
class Ingested:
    """What a load produced: the articles, and the problems met on the way."""

    articles: tuple[Article, ...]
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.level == "error")


def decode(data: bytes, path: str) -> tuple[str | None, Problem | None]:
    """Bytes to text: UTF-8 (with or without BOM), UTF-16/32 with a BOM, else
    Windows-1252 with a warning; binary data is refused."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), None
            except UnicodeDecodeError as ex:
                return None, Problem(
                    path, f"starts with a {codec} mark but is not {codec} ({ex.reason}); skipped"
                )
    if b"\x00" in data[:8192]:
        return None, Problem(path, "binary file, not text; skipped")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as ex:
        warning = Problem(
            path, f"not UTF-8 (bad byte at offset {ex.start}); read as Windows-1252", level="warning"
        )
        text = data.decode("cp1252", errors="replace")
        head = text[:8192]
        if sum(1 for ch in head if ch == "\ufffd" or (ch < " " and ch not in "\t\n\r\f")) > len(head) // 50:
            return None, Problem(path, "binary file, not text (control bytes and no UTF-8); skipped")
        return text, warning


def read_bytes(file: Path) -> bytes:
    """The file's bytes, refusing anything but a regular file of at most MAX_FILE_BYTES.

    O_NONBLOCK: a FIFO swapped in after the walk looked must not make the open wait for ever.
    """
    fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file; skipped")
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(
            f"{max(info.st_size, len(data)):,} bytes is over the {MAX_FILE_BYTES:,}-byte limit; split it"
        )
    return data


def read_file(file: Path, root: Path) -> Iterator[Article | Problem]:
    """Read one file into Articles and Problems; never raises for bad content."""
    shown = str(file)
    try:
        data = read_bytes(file)
    except OSError as ex:
        yield Problem(shown, f"cannot read file ({ex.strerror})")
        return
    except ValueError as ex:
        yield Problem(shown, str(ex))
        return
    text, problem = decode(data, shown)
    if problem:
        yield problem
    if text is None:
        return
    default_id = file.relative_to(root).with_suffix("").as_posix()
    try:
        yield from list(READERS[file.suffix.lower()](text, shown, default_id))
    except Exception as ex:  # a reader's library met input it cannot take: one file, not the batch
        yield Problem(shown, f"cannot be read ({type(ex).__name__}: {str(ex)[:200]}); skipped")


def dedupe(articles: Iterable[Article]) -> tuple[list[Article], list[Problem]]:
    """Store identical stories once; keep both when one id names different stories."""
    by_identity: dict[str, int] = {}
    kept: list[Article] = []
    ids: set[str] = set()
    problems: list[Problem] = []
    for article in articles:
        first = by_identity.get(article.identity_hash)
        if first is not None:
            original = kept[first]
            kept[first] = original.with_changes(also_in=(*original.also_in, article.path or ""))
            continue
        if article.id in ids:
            new_id = _free_id(article.id, ids)
            problems.append(
                Problem(
                    article.path or "",
                    f"id {article.id!r} is already used by another article; stored this one as {new_id!r}",
                    level="warning",
                )
            )
            article = article.with_changes(id=new_id)
        ids.add(article.id)
        by_identity[article.identity_hash] = len(kept)
        kept.append(article)
    return kept, problems


def load_articles(
    paths: Iterable[Path | str], index_root: Path | None = None, follow_outside_links: bool = False
) -> Ingested:
    """Read every supported article under `paths` (files or folders, recursively).

    Files at the border (links out of a folder, devices, index folders: see walk.py)
    are skipped with a warning; `index_root`'s own uploads/ may be read.
    Raises:
        NoArticlesError: a path does not exist.
    """
    found: list[Article] = []
    problems: list[Problem] = []
    for item in find_files([Path(p) for p in paths], index_root, follow_outside_links):
        if isinstance(item, Problem):
            problems.append(item)
            continue
        for read in read_file(*item):
            (found if isinstance(read, Article) else problems).append(read)  # type: ignore[arg-type]
    kept, duplicate_ids = dedupe(found)
    for problem in problems:  # the caller shows them (one line each); a log line would repeat it
        log.info("%s: %s", problem.level, problem)
    return Ingested(tuple(kept), tuple(problems + duplicate_ids))


def _free_id(base: str, used: set[str]) -> str:
    n = 2
    while f"{base}~{n}" in used:
        n += 1
    return f"{base}~{n}"
