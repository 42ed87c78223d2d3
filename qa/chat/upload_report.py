"""What an upload did, file by file: added, updated, already indexed or refused, and why.

Compares the index's articles before and after the upload (by content hash) and matches
each saved file to the articles read from it, so a re-uploaded file says "Already indexed"
instead of "0 added, 99 unchanged".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from qa.text.articles import Article, Problem
from qa.views.page import UploadRow

from .uploads import UploadResult


def from_file(where: str | None, file: Path) -> bool:
    """Whether an article's `path` ("file" or "file:line") is `file`."""
    return bool(where) and (where == str(file) or str(where).startswith(f"{file}:"))


def upload_rows(
    result: UploadResult, before: Mapping[str, str], after: Mapping[str, Article]
) -> list[UploadRow]:
    """One row per uploaded file.

    Args:
        before: article id -> content hash, as the index held them before the upload.
        after: the index's articles after it.
    """
    problems: dict[str, list[Problem]] = {}
    for p in result.build.problems if result.build else ():
        problems.setdefault(Path(p.path).name, []).append(p)
    rows = [saved_row(path, before, after, problems.get(path.name, [])) for path in result.saved]
    rows += [UploadRow(p.path, False, "Rejected", reason=p.message) for p in result.problems]
    return rows


def saved_row(
    file: Path, before: Mapping[str, str], after: Mapping[str, Article], problems: Sequence[Problem]
) -> UploadRow:
    mine = [a for a in after.values() if from_file(a.path, file)]
    notes = "; ".join(f"line {p.line}: {p.message}" if p.line else p.message for p in problems)
    if not mine:
        copy = next((a for a in after.values() if any(from_file(w, file) for w in a.also_in)), None)
        if copy:
            return UploadRow(file.name, True, "Already indexed", copy.title, f"same text as “{copy.title}”")
        return UploadRow(file.name, False, "Rejected", reason=notes or "no article could be read from it")
    states = [_state(a, before) for a in mine]
    status = states[0] if len(set(states)) == 1 else "Indexed"
    title = mine[0].title + (f" and {len(mine) - 1} more" if len(mine) > 1 else "")
    return UploadRow(file.name, True, status, title, notes)


def _state(article: Article, before: Mapping[str, str]) -> str:
    if article.id not in before:
        return "Added"
    return "Already indexed" if before[article.id] == article.content_hash else "Updated"
