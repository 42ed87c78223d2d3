"""The conversation as HTML: each turn is the question, then the answer, then its sources.

Pure functions over answer_json's shape, no Gradio. An answer comes first: the quoted
sentences with citation pills (the answer phrase in bold when the engine marks one),
a "Low confidence" badge when the engine says so, how the question was read; then one
card per article with every passage quoted from it. A refusal is one short line with
the closest matches folded away, title and one line each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .pieces import cite, excerpt, inline, meta_line, one_line, plural, ref_href, text

LOW_CONFIDENCE = (
    "The quoted sentence matches your question only in part: check it in the source before relying on it."
)
GENERIC = ("The articles don't say.", "the closest passages are below.")


def sentence_html(sentence: Mapping[str, Any], span: Mapping[str, Any] | None) -> str:
    """A quoted sentence, with the answer phrase in <strong> when `span` lies inside it."""
    body, start = str(sentence["text"]), int(sentence["start"])
    if span and span.get("article_id") == sentence["article_id"]:
        a, b = int(span["start"]) - start, int(span["end"]) - start
        if 0 <= a < b <= len(body) and body[a:b] == span.get("text"):
            return f'{inline(body[:a])}<strong class="qa-span">{inline(body[a:b])}</strong>{inline(body[b:])}'
    return inline(body)


def answer_html(reply: int, data: Mapping[str, Any], bodies: Mapping[str, str], where: str) -> str:
    """The assistant's part of one turn (`data` is answer_json's shape).

    Args:
        reply: this reply's index in the conversation, used in the citation links.
        bodies: article id -> article text, for the passages the reply shows.
        where: what was searched, for a refusal: "your 8 articles".
    """
    answer, passages = data.get("answer"), data["passages"]
    if not answer:
        return refusal_html(reply, data, where) + read_as_html(data)
    titles = {p["rank"]: p["title"] for p in passages}
    quoted = []
    for i, s in enumerate(answer["sentences"]):
        span = answer.get("span") if i == 0 else None  # the engine marks it in the first sentence
        quoted.append(f"{sentence_html(s, span)} {cite(reply, s['citation'], titles.get(s['citation'], ''))}")
    parts = [f'<p class="qa-answer">{" ".join(quoted)}</p>']
    if answer.get("low_confidence"):
        parts.append(
            f'<p class="qa-low"><span class="qa-badge">Low confidence</span> {text(LOW_CONFIDENCE)}</p>'
        )
    parts.append(read_as_html(data))
    cited = [passages[n - 1] for n in answer["citations"]]
    parts.append(sources_html(reply, cited, answer["sentences"], bodies))
    rest = [p for p in passages if p["rank"] not in answer["citations"]]
    if rest:
        rows = "".join(row_html(reply, p) for p in rest)
        parts.append(
            f'<details class="qa-more" id="qa-more-{reply}"><summary>{plural(len(rest), "more passage")}'
            f'</summary><ul class="qa-rows">{rows}</ul></details>'
        )
    return "".join(parts)


def read_as_html(data: Mapping[str, Any]) -> str:
    """How the question was read: the query searched for a follow-up, the engine's notes."""
    notes = [f"Searched: {inline(data['query'])}"] if data["query"] != data["question"] else []
    notes += [inline(note) for note in data.get("notes") or ()]
    return f'<p class="qa-read">{" · ".join(notes)}</p>' if notes else ""


def sources_html(
    reply: int,
    cited: Sequence[Mapping[str, Any]],
    sentences: Sequence[Mapping[str, Any]],
    bodies: Mapping[str, str],
) -> str:
    """One card per article, in the order first cited, holding each of its quoted passages."""
    by_article: dict[str, list[Mapping[str, Any]]] = {}
    for p in cited:
        by_article.setdefault(p["article_id"], []).append(p)
    cards = []
    for article_id, group in by_article.items():
        first = group[0]
        # other articles with the passage's text, and files holding a copy of this one
        more = len(first.get("also_in") or ()) + int(first.get("copies") or 0)
        also = f" · same text in {more} more" if more else ""
        ranks = {p["rank"] for p in group}
        link = next((s["link"] for s in sentences if s["citation"] in ranks and s.get("link")), None)
        if link:  # built by search/deep_link.py from an http(s) address only
            also += (
                f' · <a href="{text(link)}" target="_blank" rel="noopener noreferrer">'
                'original, at the quote<span aria-hidden="true"> ↗</span>'
                '<span class="qa-sr"> (opens in a new tab)</span></a>'
            )
        quotes = []
        for p in group:
            marks = [(s["start"], s["end"]) for s in sentences if s["citation"] == p["rank"]]
            body = excerpt(bodies[article_id], p["start"], p["end"], marks)
            quotes.append(f'<p class="qa-excerpt">{cite(reply, p["rank"], p["title"])} {body}</p>')
        cards.append(
            f'<article class="qa-card"><h4 class="qa-card-title"><a href="{ref_href(reply, first["rank"])}">'
            f'{text(first["title"])}</a></h4><p class="qa-meta">{meta_line(first)}{also}</p>'
            f"{''.join(quotes)}</article>"
        )
    return f'<h3 class="qa-sources-h">Sources</h3><div class="qa-cards">{"".join(cards)}</div>'


def row_html(reply: int, passage: Mapping[str, Any]) -> str:
    """A passage folded to one row: its number, title, date and source, and its first line."""
    meta = meta_line({"date": passage.get("date"), "source": passage.get("source")})
    return (
        f'<li><a class="qa-row" href="{ref_href(reply, passage["rank"])}">'
        f'<span class="qa-pill" aria-hidden="true">{passage["rank"]}</span> '
        f'<span class="qa-row-title">{text(passage["title"])}</span>'
        f"{f' <span class=qa-meta>{meta}</span>' if meta else ''}"
        f'<span class="qa-line">{text(one_line(passage["text"]))}</span></a></li>'
    )


def refusal_html(reply: int, data: Mapping[str, Any], where: str) -> str:
    """One short line, then the closest matches folded: title and one line each."""
    passages = data["passages"]
    if not passages:
        return f'<p class="qa-answer qa-refusal">{inline(data.get("reason") or GENERIC[0])}</p>'
    detail = refusal_detail(data.get("reason") or "")
    rows = "".join(row_html(reply, p) for p in passages)
    return (
        f'<p class="qa-answer qa-refusal">Not found in {text(where)}.'
        f"{f' <span class=qa-why>{inline(detail)}</span>' if detail else ''}</p>"
        f'<details class="qa-closest" id="qa-closest-{reply}"><summary>Closest matches '
        f'({len(passages)})</summary><ul class="qa-rows">{rows}</ul></details>'
    )


def refusal_detail(reason: str) -> str:
    """The engine's reason without the words the refusal line already says.

    Example: "The articles don't say. No sentence matches; the closest passages are below."
    -> "No sentence matches."
    """
    detail = reason.strip().removeprefix(GENERIC[0]).strip()
    if detail.endswith(GENERIC[1]):
        detail = detail[: -len(GENERIC[1])].rstrip(" ;,") + "."
    return "" if detail == "." else detail


def feedback_html(reply: int, vote: Mapping[str, Any] | None) -> str:
    """Thumbs for one answer; once given, "Thanks, recorded" (and after a thumbs down, a
    field for what was wrong)."""
    if not vote:
        return (
            f'<div class="qa-feedback" role="group" aria-label="Was answer {reply + 1} useful?">'
            f'<button type="button" class="qa-fb" data-qa="fb:{reply}:up">Useful</button>'
            f'<button type="button" class="qa-fb" data-qa="fb:{reply}:down">Not useful</button></div>'
        )
    if vote.get("reason"):
        said = f", with what was wrong: “{inline(vote['reason'])}”"
        return f'<div class="qa-feedback"><p class="qa-thanks" role="status">Thanks, recorded{said}</p></div>'
    if vote.get("feedback") != "down":
        return '<div class="qa-feedback"><p class="qa-thanks" role="status">Thanks, recorded.</p></div>'
    field = f"qa-why-{reply}"
    return (
        '<div class="qa-feedback"><p class="qa-thanks" role="status">Thanks, recorded.</p>'
        f'<form class="qa-why-form"><label for="{field}">What was wrong? (optional)</label>'
        f'<textarea id="{field}" rows="2" maxlength="1000"></textarea>'
        f'<button type="button" class="qa-fb" data-qa="why:{reply}">Send</button></form></div>'
    )


def turn_html(question: str, body: str, footer: str = "") -> str:
    """One exchange: the question as a heading, the answer under it."""
    return (
        f'<section class="qa-turn"><h2 class="qa-q"><span class="qa-sr">You asked: </span>{inline(question)}'
        f'</h2><div class="qa-a">{body}</div>{footer}</section>'
    )


def error_html(message: str) -> str:
    return f'<p class="qa-answer qa-error" role="alert">{inline(message)}</p>'


def conversation_html(parts: Sequence[str], stamp: int) -> str:
    """The whole conversation. `stamp` changes on every reply, so that the page always
    re-renders it (and drops the "Searching…" line it showed meanwhile)."""
    return f'<div class="qa-log" data-v="{stamp}">{"".join(parts)}</div>'
