"""Find article files, decode them, read them, and store identical articles once.

Does not split or embed; see text/passages.py and index/update.py. A bad file becomes a
Problem naming the file (and line) while the rest of the batch is still read.
"""

from __future__ import annotations

import codecs
import logging
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from qa.errors import NoArticlesError

from .articles import Article, Problem
from .readers import READERS
from .walk import find_files

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
KEEP_PROBLEMS = 200  # problems of one level listed in full; the rest are counted (ProblemList)
# UTF-32 first: its little-endian mark starts with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class Ingested:
    """The articles under some paths, read when first asked for: iterating streams them once,
    one file at a time (an index build holds a batch, not the archive); `articles` reads
    them all. Identical articles are stored once; `also_in` then names the places of the
    copies (a stream can only say so at its end), and `problems` what went wrong so far."""

    def __init__(self, roots: list[Path], index_root: Path | None = None, follow_links: bool = False):
        self._roots, self._index_root, self._follow_links = roots, index_root, follow_links
        self._streamed = False
        self._articles: tuple[Article, ...] | None = None
        self._problems = ProblemList()
        self._dedupe = Dedupe(self._problems)

    def __iter__(self) -> Iterator[Article]:
        if self._articles is not None:
            yield from self._articles
            return
        if self._streamed:
            raise RuntimeError("the articles were streamed once already; use .articles to keep them")
        self._streamed = True
        for found in find_files(self._roots, self._index_root, self._follow_links):
            for item in [found] if isinstance(found, Problem) else read_file(*found):
                if isinstance(item, Problem):  # the caller shows them (one line each): logged quietly
                    log.info("%s: %s", item.level, item)
                    self._problems.add(item)
                    continue
                kept = self._dedupe.add(item)
                if kept is not None:
                    yield kept
        self._dedupe.forget()  # read to the end: a hash per story is no longer needed

    @property
    def articles(self) -> tuple[Article, ...]:
        if self._articles is None:
            found, places = list(self), self.also_in
            self._articles = tuple(a.with_changes(also_in=(*a.also_in, *places.get(a.id, ()))) for a in found)
        return self._articles

    @property
    def also_in(self) -> dict[str, tuple[str, ...]]:
        return {aid: tuple(paths) for aid, paths in self._dedupe.also_in.items()}

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self._problems.listed()

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


class ProblemList:
    """The problems met while reading: the first KEEP_PROBLEMS of each level in full, the
    rest counted and listed as one line per level.

    Why a cap: a mirrored or tiled archive can earn every article a warning ("id already
    used"); kept in full, 300k of them held about 90 MB through a 1M-passage `qa index` and
    were printed as 300k lines.
    """

    def __init__(self, keep: int = KEEP_PROBLEMS):
        self.keep = keep
        self.kept: list[Problem] = []
        self.counts: dict[str, int] = {}

    def add(self, problem: Problem) -> None:
        self.counts[problem.level] = self.counts.get(problem.level, 0) + 1
        if self.counts[problem.level] <= self.keep:
            self.kept.append(problem)

    def listed(self) -> tuple[Problem, ...]:
        more = [
            Problem("(more)", f"{n - self.keep:,} more {level}s like the ones above, not listed", level=level)
            for level, n in sorted(self.counts.items())
            if n > self.keep
        ]
        return (*self.kept, *more)


class Dedupe:
    """Store identical stories once; keep both when one id names different stories.

    One article at a time: the first copy is kept, later copies only add their path to
    `also_in`; memory is a 128-bit hash per story and the ids, not the texts.
    """

    def __init__(self, problems: ProblemList) -> None:
        self.first: dict[int, str] = {}  # identity hash (as a number: smaller) -> id of the copy kept
        self.ids: set[str] = set()
        self.also_in: dict[str, list[str]] = {}
        self.problems = problems

    def forget(self) -> None:
        """Let go of the hashes and ids once every article was seen (also_in and problems stay)."""
        self.first, self.ids = {}, set()

    def add(self, article: Article) -> Article | None:
        """The article to keep (its id made unique), or None for a copy of a kept one."""
        identity = int(article.identity_hash, 16)
        first = self.first.get(identity)
        if first is not None:
            self.also_in.setdefault(first, []).append(article.path or "")
            return None
        if article.id in self.ids:
            new_id = numbered_id(article.id, lambda candidate: candidate not in self.ids)
            self.problems.add(
                Problem(
                    article.path or "",
                    f"id {article.id!r} is already used by another article; stored this one as {new_id!r}",
                    level="warning",
                )
            )
            article = article.with_changes(id=new_id)
        self.ids.add(article.id)
        self.first[identity] = article.id
        return article


def load_articles(
    paths: Iterable[Path | str], index_root: Path | None = None, follow_outside_links: bool = False
) -> Ingested:
    """The supported articles under `paths` (files or folders, recursively), read lazily.

    Files at the border (links out of a folder, devices, index folders: see walk.py)
    are skipped with a warning; `index_root`'s own uploads/ may be read.
    Raises:
        NoArticlesError: a path does not exist.
    """
    roots = [Path(p) for p in paths]
    for root in roots:
        if not root.exists():
            raise NoArticlesError(f"{root} does not exist; give a file or folder of articles")
    return Ingested(roots, index_root, follow_outside_links)


def numbered_id(base: str, usable: Callable[[str], bool]) -> str:
    """`base~2`, `base~3`, ...: the first that `usable` accepts; the one numbering of clashing
    ids (a run's own, and index/id_clash.py's for an --add, which numbers from the id without
    its `~N`), so that one run reading both folders and an --add of the second agree."""
    n = 2
    while not usable(f"{base}~{n}"):
        n += 1
    return f"{base}~{n}"
