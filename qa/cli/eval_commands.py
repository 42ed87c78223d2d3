"""The `qa eval` and `qa convert` commands: parse options, call one library function, print the result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from qa.search.options import EVAL_K, FUSIONS
from qa.terminal import json_text

from .options import echo, index_option, run_with_progress, user_errors, vector_store_option


@click.command("eval")
@click.argument("questions", type=click.Path(dir_okay=False, path_type=Path))
@index_option
@click.option(
    "-k", type=int, default=EVAL_K, show_default=True, help="Passages per answer, as in `qa ask -k`"
)
@click.option(
    "--fusion",
    type=click.Choice(FUSIONS),
    default="convex",
    show_default=True,
    help="Retriever: the default hybrid (convex), rank fusion, dense only or BM25 only",
)
@click.option("--limit", type=click.IntRange(min=1), help="Ask only the first N questions")
@click.option(
    "--results", type=click.Path(dir_okay=False, path_type=Path), help="Write a JSON line per question"
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PNG of the k-curves (default: beside --results)",
)
@click.option(
    "--compare",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An earlier --results file",
)
@vector_store_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON")
def eval_command(
    questions: Path,
    index_dir: Path,
    k: int,
    fusion: str,
    limit: int | None,
    results: Path | None,
    plot: Path | None,
    compare: Path | None,
    vector_store: str | None,
    as_json: bool,
) -> None:
    """Score the answers to a question set (QUESTIONS, JSONL).

    Every question is asked exactly as the chat asks it. Prints article Hit@k, MRR@10,
    nDCG@10, AnswerRecall@k, answer accuracy, abstention and latency, with the hash of
    the index manifest that was measured.

    \b
        qa eval seeds/questions.jsonl --results runs/before.jsonl
        qa eval seeds/questions.jsonl --compare runs/before.jsonl --fusion bm25
    """
    from dataclasses import asdict

    from qa.eval import evaluate
    from qa.eval import questions as eval_questions
    from qa.eval import report as rp
    from qa.search.engine import Engine
    from qa.search.options import SearchOptions

    with user_errors():
        asked = eval_questions.load_questions(questions, limit)
        old = evaluate.read_rows(compare) if compare else None
        engine = Engine.from_index(index_dir, vector_store=vector_store)
        options = SearchOptions(k=k, fusion=fusion)
        run = run_with_progress(
            lambda p: evaluate.evaluate(engine, asked, options, progress=p),
            quiet=as_json,
            label="Asking questions",
        )
        if results:
            evaluate.write_rows(results, run.rows)
        plot = plot or (results.with_suffix(".png") if results else None)
        if plot:
            rp.plot_curves({fusion: run.report}, plot, title=questions.name)
    changes = rp.compare(old, run.rows) if old is not None else None
    if as_json:
        extra = {"changes": None if changes is None else [asdict(c) for c in changes]}
        click.echo(json_text({**asdict(run.report), **extra}))
        return
    echo(rp.format_report(run.report))
    if old is not None and changes is not None:
        echo("\n" + rp.format_changes(changes, evaluate.summarise(old), run.report))


@click.group()
def convert() -> None:
    """Turn SQuAD or BEIR data into articles and questions.

    Writes OUT/articles.jsonl (for `qa index`) and OUT/questions.jsonl (for `qa eval`);
    files of those names with other content in OUT are never replaced.
    """


def report_conversion(c: Any) -> None:
    skipped = f"; {c.skipped} skipped" if c.skipped else ""
    counts = f"{c.articles} articles, {c.questions} questions ({c.unanswerable} unanswerable)"
    echo(f"{counts}{skipped} -> {c.folder}")


@convert.command("squad")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder")
def convert_squad_command(file: Path, out: Path) -> None:
    """SQuAD v1.1/v2.0 (or COVID-QA) JSON FILE to articles and questions.

    One article per title, paragraphs joined by blank lines; v2.0 questions marked
    is_impossible become unanswerable.

    \b
        qa convert squad dev-v2.0.json --out squad2
        qa index squad2/articles.jsonl --index squad2/index
        qa eval squad2/questions.jsonl --index squad2/index
    """
    from qa.eval.convert import convert_squad

    with user_errors():
        report_conversion(convert_squad(file, out))


@convert.command("beir")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder")
@click.option("--split", help="qrels/<SPLIT>.tsv to use [default: test, or the only one]")
def convert_beir_command(folder: Path, out: Path, split: str | None) -> None:
    """BEIR FOLDER (corpus.jsonl, queries.jsonl, qrels/) to articles and questions.

    The queries judged in one qrels split become questions with graded qrels.

    \b
        qa convert beir scifact/ --out scifact-qa --split train
    """
    from qa.eval.convert import convert_beir

    with user_errors():
        report_conversion(convert_beir(folder, out, split))
