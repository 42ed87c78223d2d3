"""Turn retrieved passages into a cited answer: verbatim sentences with offsets.

No text is generated. The answer is one or two sentences copied from the stored
articles, each carrying the number [n] of the passage it came from and its exact
character offsets, so a citation cannot point at text that is not there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .conversation import Turn
from .retrieve import Hit

_WORDS = re.compile(r"\w+")
NEAR_DUPLICATE = 0.8  # word-set Jaccard above which two texts count as the same text


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
class Answer:
    """The reply to one question: quoted sentences plus the numbered passages."""

    question: str
    query: str  # what was actually searched (differs for follow-ups)
    citations: tuple[Citation, ...]  # the answer sentences, best first
    hits: tuple[Hit, ...]  # passage [n] is hits[n - 1]
    abstained: bool = False
    reason: str = ""

    def turn(self) -> Turn:
        """This exchange as history for the next question."""
        cited = tuple(dict.fromkeys(c.article_id for c in self.citations))
        return Turn(self.question, self.query, cited or tuple(h.article.id for h in self.hits[:2]))

    @property
    def text(self) -> str:
        """The answer line: each quoted sentence followed by its [n]."""
        if self.abstained or not self.citations:
            return self.reason or "The articles don't say."
        return " ".join(f"{c.text} [{c.number}]" for c in self.citations)


def words(text: str) -> set[str]:
    return {w.lower() for w in _WORDS.findall(text)}


def same_text(a: set[str], b: set[str]) -> bool:
    """Near-duplicate test on word sets. Example: same_text({"a","b"}, {"a","b"}) -> True"""
    if not a or not b:
        return a == b
    return len(a & b) / len(a | b) >= NEAR_DUPLICATE


def collapse_duplicates(hits: Sequence[Hit]) -> list[Hit]:
    """Keep the best of near-identical passages; the kept one lists the other articles."""
    kept: list[Hit] = []
    seen: list[set[str]] = []
    for hit in hits:
        bag = words(hit.passage.text)
        twin = next((i for i, other in enumerate(seen) if same_text(bag, other)), None)
        if twin is None:
            kept.append(hit)
            seen.append(bag)
        elif hit.article.id != kept[twin].article.id and hit.article.id not in kept[twin].also_in:
            first = kept[twin]
            kept[twin] = Hit(
                first.passage,
                first.article,
                first.score,
                first.dense,
                first.lexical,
                first.row,
                (*first.also_in, hit.article.id),
            )
    return kept


def choose_sentences(
    scored: Sequence[tuple[float, int, tuple[int, int]]],
    hits: Sequence[Hit],
    limit: int = 2,
    keep_ratio: float = 0.85,
) -> list[Citation]:
    """Best sentence, plus a second one when nearly as good and not a repeat.

    `scored` holds (score, hit index, sentence span) for candidate sentences.
    """
    chosen: list[Citation] = []
    bags: list[set[str]] = []
    for score, i, (start, end) in sorted(scored, key=lambda s: -s[0]):
        if len(chosen) == limit or (chosen and score < keep_ratio * chosen[0].score):
            break
        article = hits[i].article
        text = article.text[start:end]
        bag = words(text)
        if any(same_text(bag, other) or bag <= other for other in bags):
            continue
        chosen.append(Citation(i + 1, article.id, start, end, text, round(score, 4)))
        bags.append(bag)
    return chosen


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
        }
    return {
        "question": answer.question,
        "query": answer.query,
        "answer": body,
        "abstained": answer.abstained,
        "reason": answer.reason or None,
        "passages": [hit_json(h, n) for n, h in enumerate(answer.hits, start=1)],
    }


def format_answer(answer: Answer) -> str:
    """Readable text: the answer line, then numbered passages with the quoted sentence marked."""
    import click

    lines = [click.style(answer.text, bold=True)]
    if answer.query != answer.question:
        lines.append(f"(searched: {answer.query})")
    if answer.abstained and answer.hits:
        lines.append("Closest matches:")
    marked = {(c.number, c.start, c.end) for c in answer.citations}
    for n, hit in enumerate(answer.hits, start=1):
        a = hit.article
        meta = " - ".join(x for x in (a.title, a.date, a.section or a.source) if x)
        lines += ["", f"[{n}] {meta}  (score {hit.score:.2f})", "    " + mark(hit, n, marked)]
        if hit.also_in:
            lines.append(f"    (same text also in: {', '.join(hit.also_in)})")
    return "\n".join(lines)


def mark(hit: Hit, number: int, marked: set[tuple[int, int, int]]) -> str:
    """The passage text with cited sentences wrapped in »...« (and bold on a terminal)."""
    import click

    p = hit.passage
    out, cursor = [], p.start
    for start, end in p.sentences:
        if (number, start, end) in marked:
            out.append(hit.article.text[cursor:start])
            out.append(click.style(f"»{hit.article.text[start:end]}«", bold=True, underline=True))
            cursor = end
    out.append(hit.article.text[cursor : p.end])
    return "".join(out).replace("\n", "\n    ")
