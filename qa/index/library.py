"""What an index holds, for the chat's first screen and filters: counts, dates, sources,
the list of articles, and example questions spread over several articles.

Read-only views of a loaded PassageIndex; nothing here ranks or answers.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any

from qa import jsonl
from qa.text.articles import Article

from .passage_index import PassageIndex

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Overview:
    """The index in numbers: what the header, the first screen and the filters show."""

    articles: int
    passages: int
    dated: int  # articles that carry a date; a date filter can only judge these
    date_from: str | None
    date_to: str | None
    sections: tuple[str, ...]
    sources: tuple[str, ...]
    model: str

    @property
    def undated(self) -> int:
        return self.articles - self.dated


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of the article list."""

    id: str
    title: str
    date: str | None
    source: str | None
    section: str | None


def overview(index: PassageIndex) -> Overview:
    arts = list(index.articles.values())
    dates = sorted(a.date for a in arts if a.date)
    return Overview(
        articles=len(arts),
        passages=len(index.passages),
        dated=len(dates),
        date_from=dates[0] if dates else None,
        date_to=dates[-1] if dates else None,
        sections=tuple(sorted({a.section for a in arts if a.section})),
        sources=tuple(sorted({a.source for a in arts if a.source})),
        model=str(index.manifest.get("model", "")),
    )


def entries(articles: Mapping[str, Article], limit: int = 300) -> list[Entry]:
    """The articles newest first (undated ones after, by title), at most `limit` of them."""
    ordered = sorted(articles.values(), key=lambda a: (a.date is None, _negate(a.date), a.title.lower()))
    return [Entry(a.id, a.title, a.date, a.source, a.section) for a in ordered[:limit]]


def _negate(day: str | None) -> str:
    """A sort key that puts later ISO dates first. Example: "2024-10-29" -> "7975-89-70" """
    return "".join(chr(ord("9") - ord(c) + ord("0")) if c.isdigit() else c for c in day or "")


def example_questions(files: Iterable[Path], articles: Collection[str], limit: int = 6) -> list[str]:
    """Answerable questions from `qa eval` files whose articles are all in the index,
    taken in turn from different articles so that the examples show the range of the index."""
    by_article: dict[str, list[str]] = {}
    seen: set[str] = set()
    for row in _rows(files):
        question, ids = str(row.get("question") or ""), row.get("article_ids") or []
        answerable = isinstance(ids, list) and ids and not row.get("unanswerable")
        if question and answerable and all(a in articles for a in ids) and question not in seen:
            seen.add(question)
            by_article.setdefault(str(ids[0]), []).append(question)
    spread = [q for round_ in zip_longest(*by_article.values()) for q in round_ if q]
    return spread[:limit]


def _rows(files: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """The records of question files; a file that is not JSON lines is skipped with a warning."""
    for path in files:
        if not path.is_file():
            continue
        try:
            rows = list(jsonl.read(path))
        except (OSError, UnicodeDecodeError, ValueError) as ex:
            log.warning("no example questions from %s: %s", path, ex)
            continue
        yield from (row for row in rows if isinstance(row, dict))


def question_files(sources: Iterable[str], extra: Iterable[Path] = ()) -> list[Path]:
    """The `questions.jsonl` files in the indexed folders (the user's own first), then `extra` ones."""
    found = [Path(s) / "questions.jsonl" for s in sources if Path(s).is_dir()]
    return list(dict.fromkeys([*found, *extra]))
