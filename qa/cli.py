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
def index(paths: tuple[Path, ...], index_dir: Path, rebuild: bool, as_json: bool) -> None:
    """Index the articles in PATHS (files or folders; default: the last sources, or seeds/).

    Only new or changed articles are embedded; articles whose files are gone are dropped.

    \b
        qa index seeds/ ~/news/2024
    """
    from .engine import index_paths

    with user_errors():
        result = run_with_progress(
            lambda progress: index_paths(list(paths), index_dir, rebuild=rebuild, progress=progress),
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


def run_with_progress(job: Callable[[Callable[[int, int], None]], Any], quiet: bool) -> Any:
    """Run `job(progress)` with a progress bar on stderr fed by its callback."""
    bar: Any = None
    shown = [0]

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if quiet:
            return
        if bar is None:
            bar = click.progressbar(length=total, label="Embedding passages", file=sys.stderr)
            bar.__enter__()
        bar.update(done - shown[0])
        shown[0] = done

    try:
        return job(progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


@cli.command()
@click.argument("question")
@click.option("-k", type=int, default=5, show_default=True, help="Passages to return and cite")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object")
def ask(question: str, k: int, index_dir: Path, as_json: bool) -> None:
    """Answer QUESTION with sentences quoted from the articles, with citations.

    With no index yet, one is built from seeds/ first.

    \b
        qa ask "How many North Korean troops are in Russia?" -k 3 --json
    """
    from . import store
    from .answer import answer_json, format_answer
    from .engine import Engine, SearchOptions, index_paths

    with user_errors():
        if not store.exists(index_dir):
            click.echo(f"No index at {index_dir} yet; building one from seeds/ ...", err=True)
            run_with_progress(lambda p: index_paths([], index_dir, progress=p), quiet=as_json)
        answer = Engine.from_index(index_dir).ask(question, SearchOptions(k=k))
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
