"""Training data for the sentence chooser and the answer span (used by train_chooser.py).

For every question of a dev set, the engine's own retrieval (`Engine.retrieve`, k=10 as
`qa eval` asks) is run once and kept in benchmarks/out/<set>/retrieval.jsonl: the hits'
rows and scores and every sentence's evidence. Features are then recomputed from that
file with qa/search/choose.py's code, so changing a feature never re-runs retrieval.
A sentence's label is the eval's own test: does it hold a gold answer (metrics.contains_answer).
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from qa import Engine, SearchOptions
from qa.eval.metrics import contains_answer
from qa.eval.questions import Question, load_questions
from qa.index.passage_index import PassageIndex
from qa.search.answer_type import QuestionView, expected_kind
from qa.search.choose import Candidate, candidates
from qa.search.evidence import SentenceEvidence
from qa.search.options import EVAL_K  # passages per answer, as `qa eval` asks
from qa.search.retrieve import Hit

log = logging.getLogger("chooser")


@dataclass(frozen=True)
class Example:
    """One question's candidates and labels."""

    question: Question
    set_name: str
    candidates: list[Candidate]
    labels: list[bool]
    hits: list[Hit]

    @property
    def article(self) -> str:
        return f"{self.set_name}:{self.question.article_ids[0]}"


def collect(engine: Engine, questions: list[Question], cache: Path) -> None:
    """Run retrieval for the questions not yet in `cache` and append them (a killed run resumes)."""
    done = {json.loads(line)["id"] for line in cache.open()} if cache.exists() else set()
    todo = [q for q in questions if q.id not in done]
    with cache.open("a", encoding="utf-8") as out:
        for n, q in enumerate(todo, start=1):
            found = engine.retrieve(q.question, SearchOptions(k=EVAL_K))
            hits = [[h.row, h.score, h.dense, h.lexical, h.evidence] for h in found.hits]
            evidence = [[e.hit, *e.span, e.cosine, e.overlap, e.coverage, e.score] for e in found.evidence]
            out.write(
                json.dumps({"id": q.id, "query": found.query, "hits": hits, "evidence": evidence}) + "\n"
            )
            if n % 500 == 0:
                log.info("%s: retrieved %d/%d", cache.parent.name, n, len(todo))


def rebuild(index: PassageIndex, record: dict) -> tuple[list[Hit], list[SentenceEvidence]]:
    """Hits and evidence back from a cached line."""
    hits = []
    for row, score, dense, lexical, evidence in record["hits"]:
        passage = index.passages[row]
        hits.append(
            Hit(passage, index.articles[passage.article_id], score, dense, lexical, row, (), evidence)
        )
    found = [SentenceEvidence(h, (a, b), c, o, v, s) for h, a, b, c, o, v, s in record["evidence"]]
    return hits, found


def examples(set_name: str, index: PassageIndex, questions: list[Question], cache: Path) -> Iterator[Example]:
    """Every cached question with answers, featurised and labelled."""
    by_id = {q.id: q for q in questions if q.answers and q.article_ids}
    for line in cache.open(encoding="utf-8"):
        record = json.loads(line)
        question = by_id.get(record["id"])
        if question is None:
            continue
        hits, evidence = rebuild(index, record)
        view = QuestionView.of(question.question, expected_kind(question.question))
        found = candidates(view, evidence, hits)
        labels = [contains_answer(c.text, question.answers) for c in found]
        yield Example(question, set_name, found, labels, hits)


def load_set(folder: Path, set_name: str, engine_for_missing: bool = True) -> list[Example]:
    """Retrieve (once, cached) and featurise every question of benchmarks/out/<set>/."""
    questions = load_questions(folder / "questions.jsonl")
    cache = folder / "retrieval.jsonl"
    if engine_for_missing:
        collect(Engine.from_index(folder / "index"), questions, cache)
    index = PassageIndex.load(folder / "index")
    return list(examples(set_name, index, questions, cache))


def split_articles(found: list[Example], held_out: float, seed: int) -> tuple[set[str], set[str]]:
    """Articles for training and for testing: a question is tested only on articles never trained on."""
    articles = sorted({e.article for e in found})
    random.Random(seed).shuffle(articles)
    cut = round(len(articles) * held_out)
    return set(articles[cut:]), set(articles[:cut])
