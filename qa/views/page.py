"""The chat page around the conversation: header, first screen, filter hints, upload report.

Pure functions, no Gradio; every value from an article or a file passes through text().
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qa.index.library import Entry, Overview

from .pieces import meta_line, plural, text

SHOWN_SOURCES = 3  # sources named on the first screen; the rest are counted


@dataclass(frozen=True, slots=True)
class UploadRow:
    """What happened to one uploaded file."""

    file: str
    ok: bool
    status: str  # "Added", "Updated", "Already indexed", "Rejected", ...
    title: str = ""
    reason: str = ""


def dates_phrase(ov: Overview) -> str:
    """How many articles carry a date, and their span. Example: "3 of 100 dated, 2024-10-29 to 2024-11-05" """
    if not ov.dated:
        return "no dates"
    span = ov.date_from if ov.date_from == ov.date_to else f"{ov.date_from} to {ov.date_to}"
    return f"{span}" if ov.dated == ov.articles else f"{ov.dated:,} of {ov.articles:,} dated, {span}"


def sources_phrase(ov: Overview) -> str:
    """Example: "sources AP, BBC, DW and 4 more"; "" without sources."""
    if not ov.sources:
        return ""
    named = ", ".join(ov.sources[:SHOWN_SOURCES])
    more = len(ov.sources) - SHOWN_SOURCES
    return f"{plural(len(ov.sources), 'source')}: {named}{f' and {more} more' if more > 0 else ''}"


def header_html(ov: Overview) -> str:
    """The page title and, beside it, what is indexed."""
    parts = [
        plural(ov.articles, "article"),
        plural(len(ov.sources), "source") if ov.sources else "",
        dates_phrase(ov),
    ]
    line = " · ".join(text(p) for p in parts if p)
    return (
        '<header class="qa-header"><h1>qa <span>cited answers from your news articles</span></h1>'
        f'<p class="qa-index" id="qa-index-line">{line}</p></header>'
    )


def welcome_html(ov: Overview, examples: Sequence[str], entries: Sequence[Entry]) -> str:
    """The first screen: what is indexed, example questions, and the articles to browse."""
    stats = [
        plural(ov.articles, "article"),
        plural(ov.passages, "passage"),
        sources_phrase(ov),
        dates_phrase(ov),
    ]
    buttons = "".join(
        f'<button type="button" class="qa-example" data-qa="ex:{text(q)}">{text(q)}</button>'
        for q in examples
    )
    tried = f'<h3>Try one</h3><div class="qa-examples">{buttons}</div>' if examples else ""
    return (
        '<section class="qa-welcome" aria-labelledby="qa-welcome-h">'
        f'<h2 id="qa-welcome-h">Ask about your {plural(ov.articles, "article")}</h2>'
        f'<p class="qa-stats">{" · ".join(text(s) for s in stats if s)}</p>'
        '<p class="qa-how">Every answer is a sentence quoted word for word from an article, with a '
        "numbered link to it. When the articles don't say, the reply says so.</p>"
        f"{tried}{library_html(ov, entries)}</section>"
    )


def library_html(ov: Overview, entries: Sequence[Entry]) -> str:
    """The articles as a list to browse (title, date, source); each opens in the article pane."""
    rows = "".join(
        f'<li><button type="button" class="qa-entry" data-qa="art:{text(e.id)}">'
        f'<span class="qa-entry-title">{text(e.title)}</span> '
        f'<span class="qa-meta">{meta_line({"date": e.date, "source": e.source or e.section})}</span>'
        "</button></li>"
        for e in entries
    )
    more = len(entries) < ov.articles
    shown = f"The newest {len(entries):,} of {ov.articles:,}; a question searches them all."
    return (
        f'<details class="qa-library" id="qa-library"><summary>Browse the {plural(ov.articles, "article")}'
        '</summary><input type="search" class="qa-lib-filter" placeholder="Filter by title" '
        'aria-label="Show the articles whose title contains">'
        f'<ul class="qa-entries">{rows}</ul>{f"<p class=qa-meta>{shown}</p>" if more else ""}</details>'
    )


def dated_html(ov: Overview) -> str:
    """Above the date fields: which articles a date range can judge."""
    if not ov.dated:
        return ""
    if ov.dated == ov.articles:
        return (
            f'<p class="qa-meta">{plural(ov.articles, "article")}, all dated: {text(dates_phrase(ov))}.</p>'
        )
    return (
        f'<p class="qa-meta">{ov.dated:,} of {plural(ov.articles, "article")} dated '
        f"({text(ov.date_from)} to {text(ov.date_to)}). A date range leaves out the "
        f"{ov.undated:,} undated unless you include them.</p>"
    )


def hint_html(hints: Sequence[str]) -> str:
    """What is wrong with the filters, shown under the fields (nothing when all is well)."""
    if not hints:
        return ""
    return "".join(f'<p class="qa-hint" role="alert">{text(h)}</p>' for h in hints)


def uploads_html(rows: Sequence[UploadRow], total: int | None) -> str:
    """One line per uploaded file (done or refused, its title or the reason), then the index size."""
    if not rows:
        return '<p class="qa-meta">Nothing was uploaded.</p>'
    items = "".join(
        f'<li class="qa-up {"qa-up-ok" if r.ok else "qa-up-bad"}">'
        f'<span class="qa-up-status">{text(r.status)}</span> <span class="qa-up-file">{text(r.file)}</span>'
        f"{f' <span class=qa-up-title>{text(r.title)}</span>' if r.title else ''}"
        f"{f' <span class=qa-up-why>{text(r.reason)}</span>' if r.reason else ''}</li>"
        for r in rows
    )
    done = sum(r.ok for r in rows)
    summary = f"{done} of {plural(len(rows), 'file')} taken"
    if total is not None:
        summary += f"; the index now holds {plural(total, 'article')}"
    return f'<div class="qa-upload-report" role="status"><p>{summary}.</p><ul>{items}</ul></div>'


def shown_filters(ov: Overview) -> dict[str, bool]:
    """Which filters can narrow anything: a filter with nothing to choose is hidden."""
    return {
        "dates": ov.dated > 0,
        "undated": 0 < ov.dated < ov.articles,
        "sections": len(ov.sections) > 1,
        "sources": len(ov.sources) > 1,
    }


def undated_label(ov: Overview) -> str:
    return f"Include the {plural(ov.undated, 'undated article')}"
