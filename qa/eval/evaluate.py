"""`qa eval`: run a question set through Engine.ask, the chat's own code path, and score it.

Gold is answer text and article ids, never passage ids, so a change of splitter never
invalidates a question set. The scoring formulas live in metrics.py, tables and the
plot in report.py; this module reads question sets, runs them and keeps the rows.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from qa import jsonl, layout
from qa.encode.embedder import Progress
from qa.errors import QAError, QuestionError, QuestionSetError
from qa.index.generation import manifest_backend
from qa.search.answer import Answer, answer_json
from qa.search.engine import Engine
from qa.search.options import EVAL_K, MAX_K, SearchOptions
from qa.search.retrieve import Hit

from . import metrics
from .questions import Question

CURVE_DEPTH = 20  # the plot shows k = 1..20


RANK_DEPTH = MAX_K  # passages searched to rank articles and find the gold answer (as deep as k goes)


CUTOFFS = (1, 3, 5, 10)


PASSAGE_KEYS = ("rank", "article_id", "title", "date", "text", "score", "start", "end")


Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class EvalReport:
    """The summary of one run; a metric is None when no question of the set applies to it."""

    questions: int
    counts: dict[str, int]  # answerable, unanswerable, with_answers, with_articles
    metrics: dict[str, float | None]
    curves: dict[str, list[float | None]]  # "answer_recall" and "hit" for k = 1..CURVE_DEPTH
    index: dict[str, Any]  # path, manifest hash, model, sizes: what was measured
    options: dict[str, Any]  # the SearchOptions of the run


@dataclass(frozen=True, slots=True)
class Evaluation:
    rows: tuple[Row, ...]  # one per question, as written to --results
    report: EvalReport


def evaluate(
    engine: Engine,
    questions: Sequence[Question],
    options: SearchOptions | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """Ask every question exactly as the chat does and score the answers.

    Args:
        options: the search options of the answer (k passages, fusion). Ranking metrics
            extend the answer's passages with the same search taken RANK_DEPTH deep.
        progress: called with (questions done, total) after each question.
    """
    options = options or SearchOptions(k=EVAL_K)
    if questions:  # untimed warm-up: loading the model is not the latency of a question
        run_question(engine, questions[0], options)
    rows = []
    for done, question in enumerate(questions, start=1):
        rows.append(run_question(engine, question, options))
        if progress:
            progress(done, len(questions))
    return Evaluation(tuple(rows), summarise(rows, index_info(engine), option_info(options)))


def run_question(engine: Engine, question: Question, options: SearchOptions) -> Row:
    """One question through Engine.ask (timed), then a deeper search for the ranking metrics."""
    if question.as_of:
        options = replace(options, as_of=question.as_of)
    started = time.perf_counter()
    try:
        answer = engine.ask(question.question, options)
    except QuestionError as ex:
        raise QuestionSetError(f"question {question.id!r} cannot be asked: {ex}") from None
    latency_ms = (time.perf_counter() - started) * 1000
    shown = {h.passage.id for h in answer.hits}
    deeper = engine.search(question.question, replace(options, k=RANK_DEPTH))
    ranking = [*answer.hits, *(h for h in deeper if h.passage.id not in shown)]
    return score_row(question, answer, ranking, latency_ms)


def score_row(question: Question, answer: Answer, ranking: Sequence[Hit], latency_ms: float) -> Row:
    """The --results line of one question: what was answered and how it scored."""
    articles = metrics.unique(h.article.id for h in ranking)
    grades = question.grades()
    relevant = [a for a, g in grades.items() if g > 0]
    body = answer_json(answer)
    quoted = "" if answer.abstained else " ".join(c.text for c in answer.citations)
    gold = question.answers
    return {
        "id": question.id,
        "question": question.question,
        "answer": body["answer"],
        "abstained": answer.abstained,
        "passages": [{key: p[key] for key in PASSAGE_KEYS} for p in body["passages"]],
        "latency_ms": round(latency_ms, 1),
        "gold": {
            "answers": list(gold),
            "article_ids": relevant,
            "unanswerable": question.unanswerable,
        },
        "answer_rank": metrics.answer_rank([h.passage.text for h in ranking], gold),
        "article_rank": metrics.first_relevant(articles, relevant) if relevant else None,
        "ndcg@10": round(metrics.ndcg(articles, grades), 4) if relevant else None,
        "correct": metrics.contains_answer(quoted, gold) if gold else None,
        "lead_correct": metrics.contains_answer(lead_sentence(answer), gold) if gold else None,
        "articles": articles[:10],
    }


def lead_sentence(answer: Answer) -> str:
    """The first sentence of the top passage: the baseline a cited sentence must beat."""
    if not answer.hits or not answer.hits[0].passage.sentences:
        return ""
    hit = answer.hits[0]
    start, end = hit.passage.sentences[0]
    return hit.article.text[start:end]


def warned(row: Row) -> bool:
    """Answered, but marked low confidence (rows written before the mark read as not marked)."""
    return bool((row.get("answer") or {}).get("low_confidence"))


def summarise(
    rows: Sequence[Row], index: dict[str, Any] | None = None, options: dict[str, Any] | None = None
) -> EvalReport:
    """The report of a run, from its rows alone (so an old --results file can be summarised)."""
    answerable = [r for r in rows if not r["gold"]["unanswerable"]]
    unanswerable = [r for r in rows if r["gold"]["unanswerable"]]
    with_answers = [r for r in answerable if r["gold"]["answers"]]
    with_articles = [r for r in answerable if r["gold"]["article_ids"]]
    values = {
        **ranking_metrics(with_articles),
        **answer_metrics(with_answers),
        "abstention": metrics.mean(float(r["abstained"]) for r in unanswerable),
        "false_abstention": metrics.mean(float(r["abstained"]) for r in answerable),
        "low_confidence": metrics.mean(float(warned(r)) for r in answerable),
        "flagged": metrics.mean(float(r["abstained"] or warned(r)) for r in unanswerable),
        "latency_p50_ms": metrics.percentile([float(r["latency_ms"]) for r in rows], 50),
        "latency_p95_ms": metrics.percentile([float(r["latency_ms"]) for r in rows], 95),
    }
    counts = {
        "answerable": len(answerable),
        "unanswerable": len(rows) - len(answerable),
        "with_answers": len(with_answers),
        "with_articles": len(with_articles),
    }
    curves = {
        "answer_recall": metrics.curve([r["answer_rank"] for r in with_answers], CURVE_DEPTH),
        "hit": metrics.curve([r["article_rank"] for r in with_articles], CURVE_DEPTH),
    }
    rounded = {k: None if v is None else round(v, 4) for k, v in values.items()}
    return EvalReport(len(rows), counts, rounded, curves, index or {}, options or {})


def ranking_metrics(rows: Sequence[Row]) -> dict[str, float | None]:
    """Article Hit@k, MRR@10 and nDCG@10 over the questions that name gold articles."""
    ranks = [r["article_rank"] for r in rows]
    values = {f"hit@{k}": metrics.mean(metrics.within(r, k) for r in ranks) for k in CUTOFFS}
    values["mrr@10"] = metrics.mean(metrics.reciprocal_rank(r, 10) for r in ranks)
    values["ndcg@10"] = metrics.mean(r["ndcg@10"] for r in rows)
    return values


def answer_metrics(rows: Sequence[Row]) -> dict[str, float | None]:
    """AnswerRecall@k, answer accuracy and the first-sentence baseline over questions with answers."""
    ranks = [r["answer_rank"] for r in rows]
    values = {f"answer_recall@{k}": metrics.mean(metrics.within(r, k) for r in ranks) for k in CUTOFFS}
    values["answer_accuracy"] = metrics.mean(float(r["correct"]) for r in rows)
    values["lead_accuracy"] = metrics.mean(float(r["lead_correct"]) for r in rows)
    return values


def index_info(engine: Engine) -> dict[str, Any]:
    """What was measured: the index generation and a hash of its manifest."""
    ix = engine.index
    manifest = (ix.folder / layout.MANIFEST).read_bytes()
    return {
        "path": str(ix.root),
        "generation": ix.folder.name,
        "manifest_sha256": hashlib.sha256(manifest).hexdigest()[:16],
        "model": ix.manifest.get("model"),
        "backend": manifest_backend(ix.manifest),  # onnx-int8's vectors differ a little from torch's
        "articles": len(ix.articles),
        "passages": len(ix.passages),
    }


def option_info(options: SearchOptions) -> dict[str, Any]:
    """Every search knob of the run, so two reports say whether they are comparable."""
    return asdict(options)


def write_rows(path: Path | str, rows: Sequence[Row]) -> Path:
    """Write one JSON line per question (the --results file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    jsonl.write(path, rows)
    return path


def read_rows(path: Path | str) -> list[Row]:
    """Read a --results file written by an earlier `qa eval`."""
    rows = []
    try:
        for row in jsonl.read(Path(path)):
            if not isinstance(row, dict) or "id" not in row or "gold" not in row:
                raise QAError(f"{path} is not a `qa eval --results` file (a line lacks id or gold)")
            rows.append(row)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as ex:
        raise QAError(
            f"cannot read results file {path} ({ex}); give a file written by `qa eval --results`"
        ) from None
    return rows
