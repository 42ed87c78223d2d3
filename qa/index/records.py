"""How articles, passages and the manifest are written as JSON in an index folder.

Passage text is not stored: it is article.text[start:end], rebuilt on load, so a
passage can never drift from the article it cites.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from qa.config import FORMAT_VERSION, IndexSettings
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


def build_manifest(
    articles: dict[str, Article],
    passages: Sequence[Passage],
    model: tuple[str, str, int],
    settings: IndexSettings,
    sources: Sequence[str],
    started: float,
) -> dict[str, Any]:
    """Everything a reader needs to trust an index: format, model, settings, contents."""
    counts: dict[str, int] = {}
    for p in passages:
        counts[p.article_id] = counts.get(p.article_id, 0) + 1
    dates = sorted(a.date for a in articles.values() if a.date)
    name, fingerprint, dim = model
    return {
        "format_version": FORMAT_VERSION,
        "model": name,
        "model_fingerprint": fingerprint,
        "dim": dim,
        "settings": settings.to_dict(),
        "sources": list(sources),
        "counts": {
            "articles": len(articles),
            "passages": len(passages),
            "sentences": sum(len(p.sentences) for p in passages),
        },
        "date_range": [dates[0], dates[-1]] if dates else None,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": round(time.perf_counter() - started, 3),
        "articles": {
            a.id: {"hash": a.content_hash, "path": a.path, "passages": counts.get(a.id, 0)}
            for a in articles.values()
        },
    }
