"""An answer as terminal text: quoted sentences marked, the answer phrase in bold."""

from __future__ import annotations

from collections.abc import Callable

from qa.search.answer import Answer, AnswerSpan
from qa.search.deep_link import text_fragment
from qa.search.retrieve import Hit
from qa.terminal import one_line, text_block


def format_answer(answer: Answer) -> str:
    """Readable text: the answer line, then numbered passages with the quoted sentences marked
    »...« (underlined on a terminal) and the answer phrase in bold."""
    import click

    # Article text and titles are escaped (an ANSI sequence in an article must not restyle
    # or retitle the terminal); only qa's own marks are real escapes.
    answered = answer.citations and not answer.abstained
    lines = [answer_line(answer) if answered else click.style(one_line(answer.text), bold=True)]
    if answer.low_confidence:
        lines.append(f"(Low confidence ({answer.confidence:.2f}): weak evidence; read the passages below.)")
    if answer.query != answer.question:
        lines.append(f"(searched: {one_line(answer.query)})")
    lines.extend(f"({one_line(note)})" for note in answer.notes)
    if answer.abstained and answer.hits:
        lines.append("Closest matches:")
    marked = {(c.number, c.start, c.end) for c in answer.citations}
    for n, hit in enumerate(answer.hits, start=1):
        a = hit.article
        meta = " - ".join(x for x in (a.title, a.date, a.section or a.source) if x)
        passage = mark(hit, n, marked, answer.span)
        lines += ["", f"[{n}] {one_line(meta)}  (score {hit.score:.2f})", "    " + passage]
        if hit.also_in:
            lines.append(f"    (same text also in: {one_line(', '.join(hit.also_in))})")
        if a.also_in and all(h.article.id != a.id for h in answer.hits[: n - 1]):  # once an article
            lines.append(f"    (identical copy also at: {one_line(', '.join(a.also_in))})")
        quoted = next((c for c in answer.citations if c.number == n and answered), None)
        link = text_fragment(a.url, quoted.text) if quoted else None
        if link:
            lines.append(f"    original at the quote: {one_line(link)}")
    return "\n".join(lines)


def answer_line(answer: Answer) -> str:
    """Each quoted sentence and its [n] on one line, the answer phrase in bold."""
    said = (f"{styled(c.text, c.start, answer.span, one_line)} [{c.number}]" for c in answer.citations)
    return " ".join(said)


def styled(
    text: str, start: int, span: AnswerSpan | None, escape: Callable[[str], str], **style: bool
) -> str:
    """`text` (which starts at `start` in its article) escaped and in `style`, the answer
    span inside it also bold. Split before escaping: the span's offsets are the article's."""
    import click

    inside = span is not None and start <= span.start and span.end <= start + len(text)
    a, b = (span.start - start, span.end - start) if span and inside else (len(text), len(text))
    parts = [(text[:a], style), (text[a:b], {**style, "bold": True}), (text[b:], style)]
    return "".join(click.style(escape(part), **how) if how else escape(part) for part, how in parts if part)


def mark(hit: Hit, number: int, marked: set[tuple[int, int, int]], span: AnswerSpan | None = None) -> str:
    """The passage text with cited sentences wrapped in »...« (underlined on a terminal)."""
    p, text = hit.passage, hit.article.text
    out, cursor = [], p.start
    for start, end in p.sentences:
        if (number, start, end) in marked:
            out.append(text_block(text[cursor:start]))
            out.append(f"»{styled(text[start:end], start, span, text_block, underline=True)}«")
            cursor = end
    out.append(text_block(text[cursor : p.end]))
    return "".join(out).replace("\n", "\n    ")
