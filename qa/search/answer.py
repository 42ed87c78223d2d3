"""Turn retrieved passages into a cited answer: verbatim sentences with offsets.

No text is generated. The answer is one or two sentences copied from the stored
articles, each carrying the number [n] of the passage it came from and its exact
character offsets, so a citation cannot point at text that is not there.

An Answer is data: `answer_json` is its one JSON shape (`qa ask --json`, the app's API,
`qa eval --results`); the terminal's text is qa/cli/answer_text.py's and the chat's HTML
qa/views/reply.py's, so the library stays free of click and of markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .answer_type import QuestionView
from .choose import candidates, load_model, score
from .conversation import Turn
from .deep_link import text_fragment
from .evidence import SentenceEvidence
from .rank import same_text, words
from .retrieve import Hit


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
    confidence: float = 0.0  # probability that the articles answer it (qa/search/confidence.py)
    notes: tuple[str, ...] = ()  # how the question was read (dates, filters)
    low_confidence: bool = False  # answered, but the evidence is weak: say so beside the answer
    span: AnswerSpan | None = None  # the answer phrase inside the first quoted sentence, if one stands out

    def turn(self) -> Turn:
        """This exchange as history for the next question."""
        cited = tuple(dict.fromkeys(c.article_id for c in self.citations))
        shown = cited or tuple(h.article.id for h in self.hits[:2])
        return Turn(self.question, self.query, shown, answered=not self.abstained)

    @property
    def text(self) -> str:
        """The answer line: each quoted sentence followed by its [n]."""
        if self.abstained or not self.citations:
            return self.reason or DONT_SAY
        return " ".join(f"{c.text} [{c.number}]" for c in self.citations)


def choose_sentences(
    question: QuestionView, evidence: Sequence[SentenceEvidence], hits: Sequence[Hit], limit: int = 2
) -> list[Citation]:
    """The sentence most likely to state the answer (qa/search/choose.py's model), plus a second one
    only when it qualifies on its own: its probability reaches the model's `second` bar and
    it is not a repeat of the first. A citation's score is that probability."""
    bar = load_model()["sentence"]["second"]
    chosen: list[Citation] = []
    bags: list[set[str]] = []
    for c in score(candidates(question, evidence, hits)):
        if len(chosen) == limit or (chosen and c.probability < bar):
            break
        bag = words(c.text)
        if any(same_text(bag, other) or bag <= other for other in bags):
            continue
        article, (start, end) = hits[c.evidence.hit].article, c.evidence.span
        chosen.append(Citation(c.evidence.hit + 1, article.id, start, end, c.text, round(c.probability, 4)))
        bags.append(bag)
    return chosen


DONT_SAY = "The articles don't say."


def abstain_reason(confidence: float, threshold: float) -> str:
    """Why no answer is given, or "" to answer.

    `confidence` is the probability from qa/search/confidence.py's model that the articles
    hold an answer; the threshold was set on dev sets so that at most 5% of answerable
    questions are refused (docs/benchmarks.md has the measured rates).
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
        "also_in": list(hit.also_in),  # other articles whose passage has the same text
        # How many files held an identical copy of the article (stored once). A count, not their
        # paths: this also answers the chat's API, which must not hand out the server's paths.
        "copies": len(a.also_in),
    }


def answer_json(answer: Answer) -> dict[str, Any]:
    """The one JSON shape of an answer, shared by `qa ask --json`, the app API and `qa eval`."""
    body = None
    urls = {h.article.id: h.article.url for h in answer.hits}
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
                    # the original page opened at this sentence (None: no web address)
                    "link": text_fragment(urls.get(c.article_id), c.text),
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
