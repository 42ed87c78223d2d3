"""`qa eval`: run a question set through Engine.ask, the chat's own code path, and score it.

Gold is answer text and article ids, never passage ids, so a change of splitter never
invalidates a question set. The scoring formulas live in metrics.py, tables and the
plot in report.py; this module reads question sets, runs them and keeps the rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from . import jsonl, metrics, store
from .answer import Answer, answer_json
from .engine import Engine, SearchOptions, check_as_of
from .errors import QAError, QuestionError, QuestionSetError
from .retrieve import Hit

log = logging.getLogger(__name__)
CURVE_DEPTH = 20  # the plot shows k = 1..20
RANK_DEPTH = 100  # passages searched to rank articles and find the gold answer
CUTOFFS = (1, 3, 5, 10)
PASSAGE_KEYS = ("rank", "article_id", "title", "date", "text", "score", "start", "end")
Progress = Callable[[int, int], None]  # (questions done, total)
Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Question:
    """One line of a question set; only `id` and `question` are required."""

    id: str
    question: str
    answers: tuple[str, ...] = ()
    article_ids: tuple[str, ...] = ()
    unanswerable: bool = False
    qrels: dict[str, int] = field(default_factory=dict)  # article id -> relevance grade
    as_of: str | None = None  # the day it was asked: "this week" means that week (YYYY-MM-DD)

    def grades(self) -> dict[str, int]:
        """Graded relevance: the qrels when given, else grade 1 for every gold article."""
        return dict(self.qrels) if self.qrels else dict.fromkeys(self.article_ids, 1)


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


def load_questions(path: Path | str, limit: int | None = None) -> list[Question]:
    """Read a JSONL question set (the first `limit` questions when given).

    Raises:
        QuestionSetError: unreadable file, bad line, repeated id, or no question at all.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as ex:
        raise QuestionSetError(f"cannot read question set {path} ({ex}); give a UTF-8 JSONL file") from None
    lines = list(jsonl.lines(text))
    if lines and not text.endswith("\n") and _torn(lines[-1][1]):
        log.warning("%s: the last line is cut short (a write that did not finish); skipped it", path)
        lines.pop()
    questions: list[Question] = []
    seen: set[str] = set()
    for number, line in lines:
        if limit is not None and len(questions) >= limit:
            break
        if line.strip():
            question = parse_question(line, f"{path}:{number}")
            if question.id in seen:
                raise QuestionSetError(f"{path}:{number}: id {question.id!r} is used twice; make ids unique")
            seen.add(question.id)
            questions.append(question)
    if not questions:
        raise QuestionSetError(
            f'{path} holds no questions; write lines like {{"id": "q1", "question": "..."}}'
        )
    return questions


def _torn(line: str) -> bool:
    try:
        jsonl.loads(line)
    except json.JSONDecodeError:
        return True
    return False


def parse_question(line: str, where: str) -> Question:
    """One JSON line -> Question, naming the line and the field when something is wrong."""
    try:
        record = jsonl.loads(line)
    except json.JSONDecodeError as ex:
        raise QuestionSetError(f"{where}: malformed JSON ({ex.msg} at column {ex.colno})") from None
    if not isinstance(record, dict):
        raise QuestionSetError(f"{where}: expected a JSON object with id and question, got {line[:60]!r}")
    qid, text = record.get("id"), record.get("question")
    if isinstance(qid, bool) or not isinstance(qid, str | int) or str(qid).strip() == "":
        raise QuestionSetError(f"{where}: id {qid!r} is missing or not a string; give every question an id")
    if not isinstance(text, str) or not text.strip():
        raise QuestionSetError(f"{where}: question {text!r} is missing or empty; give the question text")
    unanswerable = record.get("unanswerable", False)
    if not isinstance(unanswerable, bool):
        raise QuestionSetError(f"{where}: unanswerable is {unanswerable!r}; use true or false")
    answers = strings(record, "answers", where)
    if unanswerable and answers:
        raise QuestionSetError(f"{where}: question is unanswerable but lists answers; drop one of them")
    return Question(
        str(qid),
        text,
        answers,
        strings(record, "article_ids", where),
        unanswerable,
        grades(record, where),
        as_of_field(record, where),
    )


def as_of_field(record: dict[str, Any], where: str) -> str | None:
    """The optional day a question was asked, checked: a quiz's "this week" means that week."""
    value = record.get("as_of")
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise QuestionError("not a string")
        return check_as_of(value).isoformat()
    except QuestionError:
        raise QuestionSetError(
            f"{where}: as_of is {value!r}; write the day it was asked as YYYY-MM-DD"
        ) from None


def strings(record: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = record.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise QuestionSetError(f"{where}: {key} is {value!r}; expected a list of strings")
    return tuple(value)


def grades(record: dict[str, Any], where: str) -> dict[str, int]:
    value = record.get("qrels") or {}
    ok = isinstance(value, dict) and all(
        isinstance(g, int) and not isinstance(g, bool) for g in value.values()
    )
    if not ok:
        raise QuestionSetError(f"{where}: qrels is {value!r}; expected {{article_id: integer grade}}")
    return {str(k): int(v) for k, v in value.items()}


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
    options = options or SearchOptions(k=10)
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
    manifest = (ix.folder / store.MANIFEST).read_bytes()
    return {
        "path": str(ix.root),
        "generation": ix.folder.name,
        "manifest_sha256": hashlib.sha256(manifest).hexdigest()[:16],
        "model": ix.manifest.get("model"),
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
    store.write_jsonl(path, rows)
    return path


def read_rows(path: Path | str) -> list[Row]:
    """Read a --results file written by an earlier `qa eval`."""
    rows = []
    try:
        for row in store.read_jsonl(Path(path)):
            if not isinstance(row, dict) or "id" not in row or "gold" not in row:
                raise QAError(f"{path} is not a `qa eval --results` file (a line lacks id or gold)")
            rows.append(row)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as ex:
        raise QAError(
            f"cannot read results file {path} ({ex}); give a file written by `qa eval --results`"
        ) from None
    return rows
