"""Reading a question set (JSONL): ids, gold answers, grades and as-of dates, checked.

One line is one question: `id` and `question` are required; `answers`, `article_ids`,
`qrels`, `unanswerable` and `as_of` are optional gold. The lines are checked before any
question is asked, so a bad set stops `qa eval` with one QuestionSetError naming the file
and line, not a traceback halfway through a run. A torn last line (a write cut short) is
skipped with a warning, as qa.jsonl does for its own files.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa import jsonl
from qa.errors import QuestionError, QuestionSetError
from qa.search.options import check_as_of

log = logging.getLogger(__name__)


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
    if lines and lines[-1][1].strip() and not text.endswith("\n") and _torn(lines[-1][1]):
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
    if qid is None or (isinstance(qid, str) and not qid.strip()):
        raise QuestionSetError(f"{where}: the question has no id; give every question an id")
    if isinstance(qid, bool) or not isinstance(qid, str | int):
        raise QuestionSetError(
            f'{where}: id {repr(qid)[:60]} must be a string or a whole number; give an id like "q1"'
        )
    if not isinstance(text, str) or not text.strip():
        raise QuestionSetError(f'{where}: the question has no text; give it as "question": "..."')
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
