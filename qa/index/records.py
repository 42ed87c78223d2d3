"""How articles and passages are written as JSON rows in an index (generation.py owns the manifest).

Passage text is not stored: it is article.text[start:end], rebuilt on load, so a
passage can never drift from the article it cites.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from qa.text.articles import Article
from qa.text.passages import Passage


def article_row(article: Article) -> dict[str, Any]:
    row = asdict(article)
    row["also_in"] = list(article.also_in)
    return row


def article_from_row(row: dict[str, Any]) -> Article:
    return Article(**{**row, "also_in": tuple(row.get("also_in") or ())})


def passage_row(p: Passage) -> dict[str, Any]:
    return {
        "id": p.id,
        "article_id": p.article_id,
        "ordinal": p.ordinal,
        "start": p.start,
        "end": p.end,
        "sentences": [list(s) for s in p.sentences],
        "heading": p.heading,
    }


def passage_from_row(row: dict[str, Any], articles: dict[str, Article]) -> Passage:
    text = articles[row["article_id"]].text[row["start"] : row["end"]]
    spans = tuple((int(a), int(b)) for a, b in row["sentences"])
    return Passage(
        row["id"],
        row["article_id"],
        row["ordinal"],
        row["start"],
        row["end"],
        text,
        spans,
        row.get("heading", ""),
    )

