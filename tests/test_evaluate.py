"""`qa eval` end to end with the fake embedder: question sets, rows, report, compare, plot."""

import json

import pytest
from click.testing import CliRunner

from qa.cli.eval_commands import eval_command
from qa.cli.main import cli
from qa.errors import QuestionSetError
from qa.eval.evaluate import evaluate, read_rows, summarise, write_rows
from qa.eval.questions import Question, load_questions
from qa.eval.report import compare, format_report, plot_curves
from qa.index.generation import manifest_backend
from qa.search.options import FUSIONS, SearchOptions

from .conftest import DATA, HashEmbedder

QUESTIONS = DATA / "questions.jsonl"


def test_load_questions_reads_every_field():
    questions = load_questions(QUESTIONS)
    assert [q.id for q in questions][:2] == ["library", "cranes"]
    ghana = next(q for q in questions if q.id == "ghana")
    assert ghana.answers == ("John Mahama",) and ghana.grades() == {"election": 2, "wire-1": 0}
    assert questions[0].grades() == {"nested/library": 1}
    assert questions[-1].unanswerable and questions[-1].answers == ()
    assert len(load_questions(QUESTIONS, limit=2)) == 2


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"id": "a", "question": "ok"', "malformed JSON"),
        ('["a", "b"]', "expected a JSON object"),
        ('{"question": "no id"}', "the question has no id"),
        ('{"id": "", "question": "empty id"}', "the question has no id"),
        ('{"id": [1], "question": "list id"}', r"id \[1\] must be a string or a whole number"),
        ('{"id": true, "question": "bool id"}', "id True must be a string or a whole number"),
        ('{"id": "a", "question": "  "}', "the question has no text"),
        ('{"id": "a"}', "the question has no text"),
        (
            '{"id": "a", "question": "q", "answers": "Paris"}',
            "answers is 'Paris'; expected a list of strings",
        ),
        ('{"id": "a", "question": "q", "qrels": {"d1": "high"}}', "integer grade"),
        ('{"id": "a", "question": "q", "unanswerable": "yes"}', "use true or false"),
        ('{"id": "a", "question": "q", "unanswerable": true, "answers": ["x"]}', "lists answers"),
        ('{"id": "a", "question": "q", "as_of": "last week"}', "as_of is 'last week'; write the day"),
        ('{"id": "a", "question": "q", "as_of": 20241029}', "as_of is 20241029; write the day"),
    ],
)
def test_bad_question_lines_name_the_line_and_the_value(tmp_path, line, message):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "ok", "question": "fine?"}\n' + line + "\n")
    with pytest.raises(QuestionSetError, match=message) as err:
        load_questions(path)
    assert f"{path}:2" in str(err.value)


def test_empty_missing_and_repeated_question_sets(tmp_path, caplog):
    with pytest.raises(QuestionSetError, match="holds no questions"):
        load_questions(_write(tmp_path / "empty.jsonl", "\n"))
    with pytest.raises(QuestionSetError, match="holds no questions"):
        load_questions(_write(tmp_path / "zero.jsonl", ""))
    assert "cut short" not in caplog.text  # an empty file has no torn line to warn of
    with pytest.raises(QuestionSetError, match="cannot read question set"):
        load_questions(tmp_path / "missing.jsonl")
    twice = '{"id": 1, "question": "a?"}\n{"id": "1", "question": "b?"}\n'
    with pytest.raises(QuestionSetError, match="id '1' is used twice"):
        load_questions(_write(tmp_path / "twice.jsonl", twice))


def _write(path, text):
    path.write_text(text)
    return path


def test_evaluate_runs_the_chat_path_and_scores_it(engine):
    run = evaluate(engine, load_questions(QUESTIONS), SearchOptions(k=3))
    rows = {r["id"]: r for r in run.rows}
    library = rows["library"]
    assert library["answer"]["text"] == engine.ask(library["question"], SearchOptions(k=3)).text
    assert len(library["passages"]) <= 3 and library["passages"][0]["rank"] == 1
    assert set(library["passages"][0]) == {
        "rank",
        "article_id",
        "title",
        "date",
        "text",
        "score",
        "start",
        "end",
    }
    assert library["answer_rank"] == 1 and library["article_rank"] == 1 and library["correct"] is True
    assert rows["final"]["gold"]["unanswerable"] and rows["final"]["answer_rank"] is None
    report = run.report
    assert (
        report.questions == 6 and report.counts["unanswerable"] == 1 and report.counts["with_articles"] == 5
    )
    assert report.metrics["hit@1"] == 1.0 and report.metrics["answer_recall@3"] == 1.0
    assert report.metrics["abstention"] == (1.0 if rows["final"]["abstained"] else 0.0)
    assert len(report.index["manifest_sha256"]) == 16 and report.index["articles"] == 6
    assert report.options["k"] == 3 and report.options["fusion"] == "convex"
    assert len(report.curves["hit"]) == 20


def row(
    qid, answer_rank=None, article_rank=None, correct=None, abstained=False, unanswerable=False, ndcg=None,
    low=False,
):
    """A hand-made --results row, as score_row writes it."""
    return {
        "id": qid,
        "question": f"question {qid}?",
        "abstained": abstained,
        "answer": None if abstained else {"text": "x", "low_confidence": low},
        "latency_ms": 10.0,
        "gold": {
            "answers": [] if correct is None else ["x"],
            "article_ids": [] if article_rank is None and ndcg is None else ["a"],
            "unanswerable": unanswerable,
        },
        "answer_rank": answer_rank,
        "article_rank": article_rank,
        "ndcg@10": ndcg,
        "correct": correct,
        "lead_correct": None if correct is None else False,
    }


def test_summary_metrics_by_hand():
    rows = [
        row("a", answer_rank=1, article_rank=1, correct=True, ndcg=1.0),
        row("b", answer_rank=4, article_rank=2, correct=False, ndcg=0.5, low=True),
        row("c", answer_rank=None, article_rank=12, correct=False, abstained=True, ndcg=0.0),
        row("d", unanswerable=True, abstained=True),
        row("e", unanswerable=True, low=True),
        row("f", unanswerable=True),
    ]
    m = summarise(rows).metrics
    assert (m["hit@1"], m["hit@3"], m["hit@10"]) == (0.3333, 0.6667, 0.6667)  # rank 12 is a miss
    assert m["mrr@10"] == 0.5  # (1 + 1/2 + 0) / 3
    assert m["ndcg@10"] == 0.5
    assert (m["answer_recall@1"], m["answer_recall@3"], m["answer_recall@5"]) == (0.3333, 0.3333, 0.6667)
    assert m["answer_accuracy"] == 0.3333 and m["lead_accuracy"] == 0.0
    assert m["abstention"] == 0.3333 and m["false_abstention"] == 0.3333
    assert m["flagged"] == 0.6667 and m["low_confidence"] == 0.3333  # d refused, e warned; b warned
    assert m["latency_p50_ms"] == 10.0


def test_metrics_without_applicable_questions_are_none():
    m = summarise([row("d", unanswerable=True)]).metrics
    assert m["hit@1"] is None and m["answer_accuracy"] is None and m["false_abstention"] is None
    assert m["abstention"] == 0.0


def test_compare_lists_better_and_worse_questions():
    old = [row("a", 1, 1, True), row("b", 5, 2, False), row("c", 2, 1, True), row("u", unanswerable=True)]
    new = [
        row("a", 1, 1, True),
        row("b", 1, 1, True),
        row("c", None, 3, False),
        row("u", unanswerable=True, abstained=True),
    ]
    changes = compare(old, new)
    assert [(c.id, c.better) for c in changes] == [("c", False), ("b", True), ("u", True)]
    assert changes[0].before == "correct, answer in passage 2, article at rank 1"
    assert changes[0].after == "wrong, answer not retrieved, article at rank 3"
    assert (changes[2].before, changes[2].after) == ("answered", "abstained")


def test_rows_round_trip_and_plot(engine, tmp_path):
    run = evaluate(engine, load_questions(QUESTIONS, limit=3))
    path = write_rows(tmp_path / "runs" / "r.jsonl", run.rows)
    assert read_rows(path) == [json.loads(json.dumps(r)) for r in run.rows]
    assert summarise(read_rows(path)).metrics == run.report.metrics
    png = plot_curves({"convex": run.report, "again": run.report}, tmp_path / "curves.png", title="t")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "AnswerRecall@3" in format_report(run.report) and "manifest" in format_report(run.report)


def test_question_that_cannot_be_asked_is_named(engine):
    too_long = Question("long", "why " * 1000)
    with pytest.raises(QuestionSetError, match="question 'long' cannot be asked"):
        evaluate(engine, [too_long])


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.setattr("qa.encode.backends.default_embedder", HashEmbedder)
    return CliRunner()


def test_cli_eval_table_results_plot_and_compare(runner, built, tmp_path):
    out = tmp_path / "before.jsonl"
    first = runner.invoke(cli, ["eval", str(QUESTIONS), "--index", str(built), "--results", str(out)])
    assert first.exit_code == 0, first.output
    assert "6 questions (5 answerable, 1 unanswerable); fusion convex, k=10" in first.output
    assert "AnswerRecall@1" in first.output and "nDCG@10" in first.output
    assert len(out.read_text().splitlines()) == 6 and out.with_suffix(".png").exists()
    again = runner.invoke(
        cli,
        ["eval", str(QUESTIONS), "--index", str(built), "--compare", str(out), "--fusion", "bm25", "-k", "2"],
    )
    assert again.exit_code == 0, again.output
    assert "compared with 6 earlier answers" in again.output and "worse:" in again.output


def test_cli_eval_json_and_limit(runner, built):
    result = runner.invoke(cli, ["eval", str(QUESTIONS), "--index", str(built), "--json", "--limit", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["questions"] == 2 and data["changes"] is None
    assert set(data["metrics"]) >= {"hit@1", "mrr@10", "ndcg@10", "answer_recall@10", "abstention"}


def test_cli_eval_errors_are_one_line(runner, built, tmp_path):
    bad = _write(tmp_path / "bad.jsonl", '{"id": "a"}\n')
    result = runner.invoke(cli, ["eval", str(bad), "--index", str(built)])
    assert result.exit_code == 1 and f"{bad}:1: the question has no text" in result.output
    missing = runner.invoke(cli, ["eval", str(QUESTIONS), "--index", str(tmp_path / "none")])
    assert missing.exit_code == 1 and "no index at" in missing.output


def test_cli_fusion_choices_match_the_library():
    assert [p for p in eval_command.params if p.name == "fusion"][0].type.choices == FUSIONS


def test_as_of_of_a_question_is_the_day_this_week_counts_from(engine, tmp_path):
    """A news quiz question was asked on a day: its "this week" means that week."""
    lines = [
        {"id": "now", "question": "What happened this week?", "article_ids": ["election"]},
        {"id": "march", "question": "What happened this week?", "article_ids": ["orchard"], "as_of": "2024-03-13"},
    ]
    path = _write(tmp_path / "q.jsonl", "".join(json.dumps(line) + "\n" for line in lines))
    questions = load_questions(path)
    assert [q.as_of for q in questions] == [None, "2024-03-13"]
    rows = evaluate(engine, questions, SearchOptions(k=3)).rows
    assert rows[0]["articles"][0] == "election"
    assert set(rows[1]["articles"][:2]) == {"harbour", "orchard"}


def test_report_keeps_a_gap_between_every_label_and_its_value(engine):
    """The longest label ('abstained or low confidence, unanswerable') once ran into its value."""
    text = format_report(evaluate(engine, load_questions(QUESTIONS, limit=3)).report)
    rows = [line for line in text.splitlines() if line.startswith("  ")]
    assert rows and all("  " in line.strip() for line in rows), rows


def test_report_names_the_index_backend(engine):
    """onnx-int8 and torch indexes of the same articles score a little apart: a report says which."""
    report = evaluate(engine, load_questions(QUESTIONS, limit=2)).report
    assert report.index["backend"] == manifest_backend(engine.index.manifest)
    assert f"backend {report.index['backend']}, manifest" in format_report(report)
