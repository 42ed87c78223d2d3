"""What the browser chat shows, as HTML strings built from Answers and Articles.

Pure functions, no Gradio. Every piece of article text, title, query or file name
passes through `text()` before it reaches HTML: markup, scripts and Markdown in an
article are shown as characters, never run or rendered. Links back to the chat use
`#qa-ref-<reply>-<passage>` hrefs, the one attribute Gradio's chat sanitiser keeps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .articles import Article

# HTML specials, plus the characters Markdown, LaTeX and Gradio's HTML templates
# give a meaning to, become numeric entities: they still display as themselves.
_ENTITIES = {ord(c): f"&#{ord(c)};" for c in "&<>\"'`\\*_{}[]()#+!|~$:="}
_NEWLINES = re.compile(r"\r\n?|\n")
REF = re.compile(r"^(\d{1,6})-(\d{1,3})$")
FOCUS = ' id="qa-focus"'
EXCERPT_CHARS = 180  # context kept on each side of the quoted sentence in a card
STYLE = """
.qa-reply p { margin: 0 0 .5em 0; }
.qa-searched, .qa-note, .qa-meta { color: var(--body-text-color-subdued); font-size: .9em; }
a.qa-cite { text-decoration: none; font-weight: 600; }
a.qa-card { display: block; border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: .5em .7em; margin: .5em 0; color: inherit; text-decoration: none; }
a.qa-card:hover { border-color: var(--color-accent); }
.qa-card-head, .qa-meta, .qa-excerpt { display: block; }
.qa-excerpt { font-size: .92em; margin-top: .3em; }
.qa-article .qa-body { white-space: pre-wrap; line-height: 1.55; }
.qa-article .qa-passage { background: rgba(255, 214, 0, .18); }
mark { background: #ffe066; color: #000; padding: 0 .1em; }
.qa-article { max-height: 75vh; overflow-y: auto; }
"""


def text(value: object) -> str:
    """Escape anything for HTML (and Markdown). Example: text("<b>[x]</b>") shows <b>[x]</b>"""
    return "" if value is None else str(value).translate(_ENTITIES)


def inline(value: object) -> str:
    """Like text(), with line breaks as <br>: chat replies must stay one line of HTML."""
    return _NEWLINES.sub("<br>", text(value))


def ref_href(reply: int, number: int) -> str:
    return f"#qa-ref-{reply}-{number}"


def parse_ref(ref: str) -> tuple[int, int] | None:
    """Reply index and passage number from a link. Example: "#qa-ref-3-2" -> (3, 2); junk -> None"""
    match = REF.match(str(ref or "").removeprefix("#qa-ref-"))
    return (int(match.group(1)), int(match.group(2))) if match else None


def meta_line(article: Mapping[str, Any] | Article, extra: Iterable[str] = ()) -> str:
    """Date · section · source of an article (or of a passage dict), escaped."""
    get = article.get if isinstance(article, Mapping) else lambda k: getattr(article, k, None)
    parts = [get("date"), get("section"), get("source"), *extra]
    return " · ".join(text(p) for p in parts if p)


def marked(body: str, start: int, end: int, marks: Sequence[tuple[int, int]], passage: bool = False) -> str:
    """body[start:end] as HTML, with the `marks` spans (absolute offsets) in <mark>.

    With `passage`, the whole range is also wrapped as the highlighted passage and the first
    mark (or the passage itself when there is none) gets id="qa-focus" to scroll to.
    """
    cuts = sorted({start, end, *(p for s, e in marks for p in (s, e) if start <= p <= end)})
    out, focus = [], FOCUS if passage else ""
    for a, b in zip(cuts, cuts[1:], strict=False):
        piece = text(body[a:b])
        if any(s <= a and b <= e for s, e in marks):
            piece, focus = f"<mark{focus}>{piece}</mark>", ""
        out.append(piece)
    html = "".join(out)
    return f'<span class="qa-passage"{focus}>{html}</span>' if passage else html


def excerpt(body: str, start: int, end: int, marks: Sequence[tuple[int, int]]) -> str:
    """A card's view of a passage: the quoted sentences with some context, on one line."""
    head = tail = ""
    if marks:
        first, last = min(s for s, _ in marks), max(e for _, e in marks)
        if first - start > EXCERPT_CHARS:  # cut at a space, never inside a word
            space = body.find(" ", first - EXCERPT_CHARS, first)
            start, head = (space + 1 if space >= 0 else first - EXCERPT_CHARS), "… "
        if end - last > EXCERPT_CHARS:
            space = body.rfind(" ", last, last + EXCERPT_CHARS)
            end, tail = (space if space >= 0 else last + EXCERPT_CHARS), " …"
    return head + _NEWLINES.sub(" ", marked(body, start, end, marks)) + tail


def source_card(reply: int, passage: Mapping[str, Any], body: str, marks: Sequence[tuple[int, int]]) -> str:
    """One card: [n], title, date/section/source, relevance, and the passage with its quote marked."""
    n = passage["rank"]
    also = f" · same text in {len(passage['also_in'])} more" if passage.get("also_in") else ""
    relevance = f"relevance {passage['score']:.2f}"
    return (
        f'<a class="qa-card" href="{ref_href(reply, n)}" title="Open the full article">'
        f'<span class="qa-card-head"><strong>[{n}]</strong> <strong>{text(passage["title"])}</strong></span>'
        f'<span class="qa-meta">{meta_line(passage, [relevance])}{also}</span>'
        f'<span class="qa-excerpt">{excerpt(body, passage["start"], passage["end"], marks)}</span></a>'
    )


def reply_html(reply: int, data: Mapping[str, Any], bodies: Mapping[str, str]) -> str:
    """The assistant's message for one answer (`data` is answer_json's shape).

    Args:
        reply: this reply's index in the conversation, used in the citation links.
        bodies: article id -> article text, for the passages the reply shows.
    """
    answer, passages = data.get("answer"), data["passages"]
    parts = []
    if answer:
        quoted = (
            f'{inline(s["text"])} <a class="qa-cite" href="{ref_href(reply, s["citation"])}" '
            f'title="Show this sentence in its article">[{s["citation"]}]</a>'
            for s in answer["sentences"]
        )
        parts.append(f'<p class="qa-answer">{" ".join(quoted)}</p>')
        shown = [passages[n - 1] for n in answer["citations"]]
    else:
        reason = data.get("reason") or "The articles don't say."
        closest = " Closest matches:" if passages else ""
        parts.append(f'<p class="qa-answer qa-note">{inline(reason)}{closest}</p>')
        shown = list(passages)
    if data["query"] != data["question"]:
        parts.append(f'<p class="qa-searched">searched: {inline(data["query"])}</p>')
    sentences = answer["sentences"] if answer else []
    for p in shown:
        marks = [(s["start"], s["end"]) for s in sentences if s["citation"] == p["rank"]]
        parts.append(source_card(reply, p, bodies[p["article_id"]], marks))
    return f'<div class="qa-reply">{"".join(parts)}</div>'


def article_html(
    article: Article, passage: tuple[int, int] | None = None, marks: Sequence[tuple[int, int]] = ()
) -> str:
    """The full article, its cited passage highlighted and the quoted sentences in <mark>."""
    body = article.text
    if passage:
        ps, pe = passage
        html = text(body[:ps]) + marked(body, ps, pe, marks, passage=True) + text(body[pe:])
    else:
        html = text(body)
    link = ""
    if article.url and re.match(r"(?i)^https?://", article.url):
        link = f' · <a href="{text(article.url)}" target="_blank" rel="noopener noreferrer">original</a>'
    return (
        f'<article class="qa-article"><h3>{text(article.title)}</h3>'
        f'<p class="qa-meta">{meta_line(article)}{link}</p>'
        f'<div class="qa-body">{html}</div></article>'
    )


def header_html(facets: Mapping[str, Any]) -> str:
    """The line saying what is indexed: articles, passages, date range, model."""
    dates = ""
    if facets.get("date_from"):
        dates = f" · {text(facets['date_from'])} to {text(facets['date_to'])}"
    counts = f"{plural(facets['articles'], 'article')} · {plural(facets['passages'], 'passage')}"
    return f'<p class="qa-meta">{counts}{dates} · model {text(facets["model"])}</p>'


def plural(n: int, noun: str) -> str:
    """Example: plural(1, "article") -> 1 article; plural(2000, "passage") -> 2,000 passages"""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def notice_html(message: str) -> str:
    return f'<p class="qa-note">{inline(message)}</p>'
