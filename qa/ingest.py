"""Find article files, decode them, read them, and store identical articles once.

Does not split or embed; see passages.py and index.py. A bad file becomes a
Problem naming the file (and line) while the rest of the batch is still read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .articles import Article, Problem
from .errors import NoArticlesError
from .readers import READERS

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
SUPPORTED = tuple(sorted(READERS))


@dataclass(frozen=True, slots=True)
class Ingested:
    """What a load produced: the articles, and the problems met on the way."""

    articles: tuple[Article, ...]
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.level == "error")


def find_files(paths: Iterable[Path]) -> Iterator[tuple[Path, Path]]:
    """Yield (file, root) for every supported file under the given files and folders."""
    for root in paths:
        if root.is_file():
            yield root, root.parent
        elif root.is_dir():
            for file in sorted(root.rglob("*")):
                hidden = any(part.startswith(".") for part in file.relative_to(root).parts)
                if file.is_file() and not hidden and file.suffix.lower() in READERS:
                    yield file, root
        else:
            raise NoArticlesError(f"{root} does not exist; give a file or folder of articles")


def decode(data: bytes, path: str) -> tuple[str | None, Problem | None]:
    """Bytes to text: UTF-8 (with or without BOM), else Windows-1252 with a warning."""
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


def read_file(file: Path, root: Path) -> Iterator[Article | Problem]:
    """Read one file into Articles and Problems; never raises for bad content."""
    shown = str(file)
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            yield Problem(shown, f"{size:,} bytes is over the {MAX_FILE_BYTES:,}-byte limit; split it")
            return
        data = file.read_bytes()
    except OSError as ex:
        yield Problem(shown, f"cannot read file ({ex.strerror})")
        return
    text, problem = decode(data, shown)
    if problem:
        yield problem
    if text is None:
        return
    default_id = file.relative_to(root).with_suffix("").as_posix()
    yield from READERS[file.suffix.lower()](text, shown, default_id)


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


def load_articles(paths: Iterable[Path | str]) -> Ingested:
    """Read every supported article under `paths` (files or folders, recursively).

    Raises:
        NoArticlesError: a path does not exist.
    """
    found: list[Article] = []
    problems: list[Problem] = []
    for file, root in find_files(Path(p) for p in paths):
        for item in read_file(file, root):
            (found if isinstance(item, Article) else problems).append(item)  # type: ignore[arg-type]
    kept, duplicate_ids = dedupe(found)
    for problem in problems:
        log.warning("%s", problem)
    return Ingested(tuple(kept), tuple(problems + duplicate_ids))


def _free_id(base: str, used: set[str]) -> str:
    n = 2
    while f"{base}~{n}" in used:
        n += 1
    return f"{base}~{n}"
