"""What the browser chat shows, as HTML strings: the shared pieces and the article pane.

Pure functions, no Gradio. Every piece of article text, title, query or file name
passes through `text()` before it reaches HTML: markup, scripts and Markdown in an
article are shown as characters, never run or rendered. The answers are built in
reply.py, the first screen, filters and uploads in page.py; the page's style and
scripts are the files in qa/static/.

Clicks go back to the server as actions: a citation links to `#qa-ref-<reply>-<n>`,
a button carries `data-qa="<action>"` (see parse_action).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from qa.errors import QAError
from qa.search.deep_link import web_address
from qa.text.articles import Article

# HTML specials, plus the characters Markdown, LaTeX and Gradio's HTML templates
# give a meaning to, become numeric entities: they still display as themselves.
_ENTITIES = {ord(c): f"&#{ord(c)};" for c in "&<>\"'`\\*_{}[]()#+!|~$:="}
_NEWLINES = re.compile(r"\r\n?|\n")
REF = re.compile(r"^(\d{1,6})-(\d{1,3})$")
FOCUS = ' id="qa-focus"'
EXCERPT_CHARS = 180  # context kept on each side of the quoted sentence in a card
STATIC = Path(__file__).parents[1] / "static"


def asset(name: str) -> str:
    """A file of qa/static/ (the page's CSS and scripts) as text."""
    return (STATIC / name).read_text(encoding="utf-8")


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
    match = REF.match(str(ref or "").removeprefix("#").removeprefix("qa-ref-"))
    return (int(match.group(1)), int(match.group(2))) if match else None


def parse_action(value: object) -> tuple[str, str]:
    """What a click in the page asks for, as (verb, argument).

    Example: "#qa-ref-3-2" -> ("ref", "3-2"); "fb:3:down" -> ("fb", "3:down"); "close" -> ("close", "")
    """
    raw = str(value or "")[:2000]
    if raw.startswith("#qa-ref-"):
        return "ref", raw.removeprefix("#qa-ref-")
    verb, _, argument = raw.partition(":")
    return verb, argument


def cite(reply: int, number: int, title: str = "") -> str:
    """A citation pill: a link that opens passage [n] of this reply in the article pane."""
    label = f"Source {number}: {title}" if title else f"Source {number}"
    return (
        f'<a class="qa-cite" href="{ref_href(reply, number)}" aria-label="{text(label)}" '
        f'title="{text(label)}">{number}</a>'
    )


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


def one_line(value: str, limit: int = 140) -> str:
    """The start of a text on one line, cut at a word. Example: one_line("a b c", 3) -> "a b…" """
    flat = " ".join(str(value).split())
    if len(flat) <= limit:
        return flat
    cut = flat.rfind(" ", 0, limit)
    return flat[: cut if cut > 0 else limit] + "…"


def article_html(
    article: Article,
    passage: tuple[int, int] | None = None,
    marks: Sequence[tuple[int, int]] = (),
    number: int | None = None,
    note: str = "",
) -> str:
    """The article pane: a sticky head (close button, [n], title, meta) over the full text,
    the cited passage highlighted and the quoted sentences in <mark>."""
    body = article.text
    if passage:
        ps, pe = passage
        html = text(body[:ps]) + marked(body, ps, pe, marks, passage=True) + text(body[pe:])
    else:
        html = text(body)
    link = ""
    if web_address(article.url):
        link = f' · <a href="{text(article.url)}" target="_blank" rel="noopener noreferrer">original</a>'
    source = f'<p class="qa-art-ref">Source <span class="qa-pill">{number}</span> of the answer</p>'
    return (
        '<article class="qa-article" aria-labelledby="qa-art-title"><header class="qa-art-head">'
        '<button type="button" class="qa-close" data-qa="close" aria-label="Close the article">'
        '<span aria-hidden="true">×</span> Close</button>'
        f"{source if number else ''}"
        f'<h2 id="qa-art-title" tabindex="-1">{text(article.title)}</h2>'
        f'<p class="qa-meta">{meta_line(article)}{link}</p></header>'
        f"{notice_html(note) if note else ''}"
        f'<div class="qa-body">{html}</div></article>'
    )


def plural(n: int, noun: str) -> str:
    """Example: plural(1, "article") -> 1 article; plural(2000, "passage") -> 2,000 passages"""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def notice_html(message: str) -> str:
    return f'<p class="qa-note">{inline(message)}</p>'


def pane_note_html(message: str) -> str:
    """The article pane when there is no article to show, with its close button."""
    return (
        '<article class="qa-article"><header class="qa-art-head">'
        '<button type="button" class="qa-close" data-qa="close" aria-label="Close">'
        '<span aria-hidden="true">×</span> Close</button></header>'
        f"{notice_html(message)}</article>"
    )


# The article pane's two ways in. `article_of` looks an article up by id in the live index
# (Engine.article) and raises QAError when it is gone: the pane then says so.
ArticleOf = Callable[[str], Article]


def cited_article_html(article_of: ArticleOf, ref: str, replies: Sequence[Mapping[str, Any]]) -> str:
    """The article behind citation `ref` ("#qa-ref-<reply>-<n>") of the conversation's `replies`."""
    parsed = parse_ref(ref)
    if not parsed or parsed[0] >= len(replies) or not 1 <= parsed[1] <= len(replies[parsed[0]]["passages"]):
        return pane_note_html("That citation is no longer in this conversation.")
    data = replies[parsed[0]]
    passage = data["passages"][parsed[1] - 1]
    try:
        article = article_of(passage["article_id"])
    except QAError:
        return pane_note_html("That article is no longer in the index.")
    if article.text[passage["start"] : passage["end"]] != passage["text"]:
        note = "The article has changed since this answer; the passage is not marked."
        return article_html(article, number=passage["rank"], note=note)
    sentences = data["answer"]["sentences"] if data.get("answer") else []
    marks = [(s["start"], s["end"]) for s in sentences if s["citation"] == passage["rank"]]
    return article_html(article, (passage["start"], passage["end"]), marks, passage["rank"])


def listed_article_html(article_of: ArticleOf, article_id: str) -> str:
    """An article picked from the list on the first screen, unmarked."""
    try:
        return article_html(article_of(article_id))
    except QAError:
        return pane_note_html("That article is no longer in the index.")
