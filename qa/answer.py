"""Turn retrieved passages into a cited answer: verbatim sentences with offsets.

No text is generated. The answer is one or two sentences copied from the stored
articles, each carrying the number [n] of the passage it came from and its exact
character offsets, so a citation cannot point at text that is not there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .conversation import Turn
from .evidence import SentenceEvidence
from .rank import same_text, words
from .retrieve import Hit
from .terminal import one_line, text_block


@dataclass(frozen=True, slots=True)
class Citation:
    """A sentence quoted verbatim: article.text[start:end] == text."""

    number: int  # the [n] of the passage it came from
    article_id: str
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True, slots=True)
class AnswerSpan:
    """The phrase inside a quoted sentence that states the fact asked for (a name, a number,
    a date, a place): article.text[start:end] == text, exact like every citation."""

    article_id: str
    start: int
    end: int
    text: str
    kind: str  # what the question asked for: "person", "number", "date", "place", ...


@dataclass(frozen=True, slots=True)
class Answer:
    """The reply to one question: quoted sentences plus the numbered passages."""

    question: str
    query: str  # what was actually searched (differs for follow-ups)
    citations: tuple[Citation, ...]  # the answer sentences, best first
    hits: tuple[Hit, ...]  # passage [n] is hits[n - 1]
    abstained: bool = False
    reason: str = ""
    confidence: float = 0.0  # probability that the articles answer it (qa/confidence.py)
    notes: tuple[str, ...] = ()  # how the question was read (dates, filters)
    low_confidence: bool = False  # answered, but the evidence is weak: say so beside the answer
    span: AnswerSpan | None = None  # the answer phrase inside the first quoted sentence, if one stands out

    def turn(self) -> Turn:
        """This exchange as history for the next question."""
        cited = tuple(dict.fromkeys(c.article_id for c in self.citations))
        return Turn(self.question, self.query, cited or tuple(h.article.id for h in self.hits[:2]))

    @property
    def text(self) -> str:
        """The answer line: each quoted sentence followed by its [n]."""
        if self.abstained or not self.citations:
            return self.reason or DONT_SAY
        return " ".join(f"{c.text} [{c.number}]" for c in self.citations)


def choose_sentences(
    evidence: Sequence[SentenceEvidence],
    hits: Sequence[Hit],
    limit: int = 2,
    keep_ratio: float = 0.9,
    passage_weight: float = 0.2,
) -> list[Citation]:
    """Best sentence, plus a second one when nearly as good and not a repeat.

    A sentence's final score adds a little of its passage's rank score, so that of two
    equally good sentences the one in the better passage wins.
    """
    top = max((h.score for h in hits), default=0.0) or 1.0
    ranked = sorted(evidence, key=lambda e: -(e.score + passage_weight * hits[e.hit].score / top))
    chosen: list[Citation] = []
    bags: list[set[str]] = []
    for e in ranked:
        score = e.score + passage_weight * hits[e.hit].score / top
        if len(chosen) == limit or (chosen and score < keep_ratio * chosen[0].score):
            break
        article = hits[e.hit].article
        text = article.text[e.span[0] : e.span[1]]
        bag = words(text)
        if any(same_text(bag, other) or bag <= other for other in bags):
            continue
        chosen.append(Citation(e.hit + 1, article.id, e.span[0], e.span[1], text, round(score, 4)))
        bags.append(bag)
    return chosen


DONT_SAY = "The articles don't say."


def abstain_reason(confidence: float, threshold: float) -> str:
    """Why no answer is given, or "" to answer.

    `confidence` is the probability from qa/confidence.py's model that the articles hold an
    answer; the threshold was set on dev sets so that at most 5% of answerable questions are
    refused (docs/benchmarks.md has the measured rates).
    """
    if confidence < threshold:
        return f"{DONT_SAY} Nothing in them matches the question well enough; the closest passages are below."
    return ""


def hit_json(hit: Hit, rank: int) -> dict[str, Any]:
    a, p = hit.article, hit.passage
    return {
        "rank": rank,
        "article_id": a.id,
        "title": a.title,
        "date": a.date,
        "section": a.section,
        "source": a.source,
        "url": a.url,
        "text": p.text,
        "score": round(hit.score, 4),
        "dense": round(hit.dense, 4),
        "bm25": round(hit.lexical, 4),
        "evidence": round(hit.evidence, 4),
        "start": p.start,
        "end": p.end,
        "also_in": list(hit.also_in),
    }


def answer_json(answer: Answer) -> dict[str, Any]:
    """The one JSON shape of an answer, shared by `qa ask --json`, the app API and `qa eval`."""
    body = None
    if not answer.abstained and answer.citations:
        body = {
            "text": answer.text,
            "citations": sorted({c.number for c in answer.citations}),
            "sentences": [
                {
                    "text": c.text,
                    "citation": c.number,
                    "article_id": c.article_id,
                    "start": c.start,
                    "end": c.end,
                    "score": c.score,
                }
                for c in answer.citations
            ],
            "span": span_json(answer.span),
            "low_confidence": answer.low_confidence,
        }
    return {
        "question": answer.question,
        "query": answer.query,
        "answer": body,
        "abstained": answer.abstained,
        "reason": answer.reason or None,
        "confidence": round(answer.confidence, 4),
        "notes": list(answer.notes),
        "passages": [hit_json(h, n) for n, h in enumerate(answer.hits, start=1)],
    }


def span_json(span: AnswerSpan | None) -> dict[str, Any] | None:
    if span is None:
        return None
    keys = ("text", "article_id", "start", "end", "kind")
    return {key: getattr(span, key) for key in keys}


def format_answer(answer: Answer) -> str:
    """Readable text: the answer line, then numbered passages with the quoted sentence marked."""
    import click

    # Article text and titles are escaped (an ANSI sequence in an article must not restyle
    # or retitle the terminal); only qa's own bold marks are real escapes.
    lines = [click.style(one_line(answer.text), bold=True)]
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
        lines += ["", f"[{n}] {one_line(meta)}  (score {hit.score:.2f})", "    " + mark(hit, n, marked)]
        if hit.also_in:
            lines.append(f"    (same text also in: {one_line(', '.join(hit.also_in))})")
    return "\n".join(lines)


def mark(hit: Hit, number: int, marked: set[tuple[int, int, int]]) -> str:
    """The passage text with cited sentences wrapped in »...« (and bold on a terminal)."""
    import click

    p, text = hit.passage, hit.article.text
    out, cursor = [], p.start
    for start, end in p.sentences:
        if (number, start, end) in marked:
            out.append(text_block(text[cursor:start]))
            quoted = text_block(text[start:end])
            out.append(click.style(f"»{quoted}«", bold=True, underline=True))
            cursor = end
    out.append(text_block(text[cursor : p.end]))
    return "".join(out).replace("\n", "\n    ")
