"""The `qa` command: parse options, call one library function, print the result.

Heavy libraries are imported inside commands so `qa --help` stays instant.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from .config import INDEX_ENV
from .errors import QAError

CONTEXT = {"help_option_names": ["-h", "--help"]}


def index_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--index",
        "index_dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar=INDEX_ENV,
        default="index",
        show_default=True,
        help=f"Index folder (or set ${INDEX_ENV})",
    )(fn)


def vector_store_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--vector-store",
        envvar="QA_VECTOR_STORE",
        help="Dense search: faiss (default), milvus:FILE.db (Milvus Lite) or milvus:http://HOST:19530 "
        "(token in $QA_MILVUS_TOKEN) (or set $QA_VECTOR_STORE)",
    )(fn)


@contextmanager
def user_errors() -> Iterator[None]:
    """Library errors become one clean line on stderr and exit code 1."""
    try:
        yield
    except QAError as ex:
        raise click.ClickException(str(ex)) from None


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="qa")
def cli() -> None:
    """Ask questions about a folder of news articles; answers cite exact sentences.

    \b
        qa index seeds/
        qa ask "Who leads the North Korean delegation?"
    """
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_option
@click.option("--rebuild", is_flag=True, help="Re-embed everything (after a model or format change)")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON")
@click.option("--verify", is_flag=True, help="Check every index file against its checksum; change nothing")
@click.option("--ray", "use_ray", is_flag=True, help="Embed on Ray: a local one, or $RAY_ADDRESS's cluster")
@click.option("--ray-address", metavar="ADDRESS", help="Embed on the Ray cluster at ADDRESS (ray://head:10001)")
def index(
    paths: tuple[Path, ...],
    index_dir: Path,
    rebuild: bool,
    as_json: bool,
    verify: bool,
    use_ray: bool,
    ray_address: str | None,
) -> None:
    """Index the articles in PATHS (files or folders; default: the last sources, or seeds/).

    Only new or changed articles are embedded; articles whose files are gone are dropped.

    \b
        qa index seeds/ ~/news/2024
        qa index --verify
        qa index ~/news --ray-address ray://head:10001   # bulk embedding on a Ray cluster
    """
    from .engine import index_paths

    if verify:
        verify_index_files(index_dir, paths, rebuild)
        return
    ray = ray_address or ("local" if use_ray else None)
    with user_errors():
        result = run_with_progress(
            lambda progress: index_paths(list(paths), index_dir, rebuild=rebuild, progress=progress, ray=ray),
            quiet=as_json,
        )
    for problem in result.problems:
        click.echo(f"{problem.level}: {problem}", err=True)
    r = result.report
    if as_json:
        from dataclasses import asdict

        click.echo(json.dumps({**asdict(r), "problems": [str(p) for p in result.problems]}))
        return
    click.echo(
        f"{r.added} added, {r.updated} updated, {r.removed} removed, {r.unchanged} unchanged; "
        f"{r.articles} articles, {r.passages} passages ({r.embedded} embedded) "
        f"in {r.seconds:.1f}s -> {r.path}"
    )


def verify_index_files(index_dir: Path, paths: tuple[Path, ...], rebuild: bool) -> None:
    """`qa index --verify`: OK, or the damaged files and the repair command (exit code 1)."""
    from .index import verify_index

    if paths or rebuild:
        raise click.UsageError("--verify checks the index as it is; give it no PATHS and no --rebuild")
    with user_errors():
        folder, checked, bad = verify_index(index_dir)
    if bad:
        click.echo(f"DAMAGED: {', '.join(bad)} in {folder} (missing or changed)", err=True)
        click.echo(f"repair it with `qa index --rebuild --index {index_dir}`", err=True)
        sys.exit(1)
    click.echo(f"OK: {len(checked)} files of {folder.name} match their sha256 checksums")


def run_with_progress(
    job: Callable[[Callable[[int, int], None]], Any], quiet: bool, label: str = "Embedding passages"
) -> Any:
    """Run `job(progress)` with a progress bar on stderr fed by its callback."""
    bar: Any = None
    shown = [0]

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if quiet:
            return
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
        bar.update(done - shown[0])
        shown[0] = done

    try:
        return job(progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def iso_date(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from .articles import normalise_date

    try:
        return normalise_date(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD") from None


def filter_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--since/--until/--section/--source, shared by the commands that search."""
    options = [
        click.option("--since", callback=iso_date, help="Only articles dated on or after this day"),
        click.option("--until", callback=iso_date, help="Only articles dated on or before this day"),
        click.option("--section", "sections", multiple=True, help="Only this section (repeatable)"),
        click.option("--source", "sources", multiple=True, help="Only this source (repeatable)"),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@cli.command()
@click.argument("question")
@click.option("-k", type=int, default=5, show_default=True, help="Passages to return and cite")
@filter_options
@index_option
@vector_store_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object")
def ask(
    question: str,
    k: int,
    since: str | None,
    until: str | None,
    sections: tuple[str, ...],
    sources: tuple[str, ...],
    index_dir: Path,
    vector_store: str | None,
    as_json: bool,
) -> None:
    """Answer QUESTION with sentences quoted from the articles, with citations.

    With no index yet, one is built from seeds/ first. Dates in the question
    ("in October 2024", "since March", "latest") narrow or order the search.

    \b
        qa ask "How many North Korean troops are in Russia?" -k 3 --json
        qa ask "What did NATO say?" --since 2024-10-01 --section International
    """
    from . import store
    from .answer import answer_json, format_answer
    from .engine import Engine, SearchOptions, index_paths
    from .retrieve import Filters

    with user_errors():
        if not store.exists(index_dir):
            click.echo(f"No index at {index_dir} yet; building one from seeds/ ...", err=True)
            run_with_progress(lambda p: index_paths([], index_dir, progress=p), quiet=as_json)
        filters = Filters(since, until, tuple(sections), tuple(sources))
        engine = Engine.from_index(index_dir, vector_store=vector_store)
        answer = engine.ask(question, SearchOptions(k=k), filters)
    click.echo(json.dumps(answer_json(answer), ensure_ascii=False) if as_json else format_answer(answer))


@cli.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON")
def info(index_dir: Path, as_json: bool) -> None:
    """Say what the index holds: articles, passages, dates, model, settings."""
    from .index import PassageIndex, describe

    with user_errors():
        loaded = PassageIndex.load(index_dir)
    if as_json:
        manifest = dict(loaded.manifest)
        manifest.pop("articles", None)
        click.echo(json.dumps(manifest, indent=1))
    else:
        click.echo(describe(loaded))


FUSION_CHOICES = ("convex", "rrf", "dense", "bm25")  # = retrieve.FUSIONS; literal so --help stays light


@cli.command("eval")
@click.argument("questions", type=click.Path(dir_okay=False, path_type=Path))
@index_option
@click.option("-k", type=int, default=10, show_default=True, help="Passages per answer, as in `qa ask -k`")
@click.option(
    "--fusion",
    type=click.Choice(FUSION_CHOICES),
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

    from . import evaluate as ev
    from . import report as rp
    from .engine import Engine, SearchOptions

    with user_errors():
        asked = ev.load_questions(questions, limit)
        old = ev.read_rows(compare) if compare else None
        engine = Engine.from_index(index_dir, vector_store=vector_store)
        options = SearchOptions(k=k, fusion=fusion)
        run = run_with_progress(
            lambda p: ev.evaluate(engine, asked, options, progress=p), quiet=as_json, label="Asking questions"
        )
        if results:
            ev.write_rows(results, run.rows)
        plot = plot or (results.with_suffix(".png") if results else None)
        if plot:
            rp.plot_curves({fusion: run.report}, plot, title=questions.name)
    changes = rp.compare(old, run.rows) if old is not None else None
    if as_json:
        extra = {"changes": None if changes is None else [asdict(c) for c in changes]}
        click.echo(json.dumps({**asdict(run.report), **extra}, ensure_ascii=False))
        return
    click.echo(rp.format_report(run.report))
    if old is not None and changes is not None:
        click.echo("\n" + rp.format_changes(changes, ev.summarise(old), run.report))


@cli.command()
@index_option
@click.option("--host", envvar="QA_HOST", default="127.0.0.1", show_default=True, help="Address ($QA_HOST)")
@click.option("--port", envvar="QA_PORT", type=int, default=7860, show_default=True, help="Port ($QA_PORT)")
@click.option(
    "--feedback",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="QA_FEEDBACK",
    help="JSONL file for thumbs up/down (default: INDEX/feedback/feedback.jsonl; $QA_FEEDBACK)",
)
def serve(index_dir: Path, host: str, port: int, feedback: Path | None) -> None:
    """Start the browser chat (the same app as `python app.py`) on HOST:PORT.

    Binds 127.0.0.1 unless told otherwise; with no index yet, one is built from seeds/.

    \b
        qa serve --port 8000
    """
    import runpy

    app_file = Path(__file__).resolve().parent.parent / "app.py"
    if not app_file.is_file():
        raise click.ClickException(
            f"the chat's app.py is not at {app_file}; run `qa serve` from a source checkout "
            "installed with `pip install -e .`"
        )
    argv = ["--index", str(index_dir), "--host", host, "--port", str(port)]
    runpy.run_path(str(app_file))["main"](argv + (["--feedback", str(feedback)] if feedback else []))


@cli.group()
def convert() -> None:
    """Turn SQuAD or BEIR data into articles and questions.

    Writes OUT/articles.jsonl (for `qa index`) and OUT/questions.jsonl (for `qa eval`).
    """


def report_conversion(c: Any) -> None:
    skipped = f"; {c.skipped} skipped" if c.skipped else ""
    counts = f"{c.articles} articles, {c.questions} questions ({c.unanswerable} unanswerable)"
    click.echo(f"{counts}{skipped} -> {c.folder}")


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
    from .convert import convert_squad

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
    from .convert import convert_beir

    with user_errors():
        report_conversion(convert_beir(folder, out, split))
