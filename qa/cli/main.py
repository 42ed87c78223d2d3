"""The `qa` command: parse options, call one library function, print the result.

Heavy libraries are imported inside commands so `qa --help` stays instant; `qa eval`
and `qa convert` live in cli_eval.py, the shared options in cli_options.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from qa.config import BACKENDS, DENSE_KINDS
from qa.encode.devices import DEFAULT_DEVICE, DEVICES
from qa.terminal import json_text

from .eval_commands import FUSION_CHOICES, convert, eval_command
from .options import (
    CONTEXT,
    echo,
    filter_options,
    index_option,
    run_with_progress,
    user_errors,
    vector_store_option,
)

__all__ = ["FUSION_CHOICES", "cli"]


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="qa")
def cli() -> None:
    """Ask questions about a folder of news articles; answers cite exact sentences.

    \b
        qa index seeds/
        qa ask "Who leads the North Korean delegation?"
    """
    import logging

    from qa.terminal import EscapingFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(EscapingFormatter("%(levelname)s: %(message)s"))  # a file name cannot forge a line
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_option
@click.option("--rebuild", is_flag=True, help="Re-embed everything (after a model or format change)")
@click.option("--add", "add", is_flag=True, help="Add or update PATHS' articles and keep the others indexed")
@click.option(
    "--remove",
    multiple=True,
    metavar="ARTICLE_ID",
    help="Take this article out (repeatable); without PATHS every other article stays",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON")
@click.option("--verify", is_flag=True, help="Check every index file against its checksum; change nothing")
@click.option(
    "--follow-outside-links",
    is_flag=True,
    help="Read files that links inside the folders point to outside them (skipped by default)",
)
@click.option("--ray", "use_ray", is_flag=True, help="Embed on Ray: a local one, or $RAY_ADDRESS's cluster")
@click.option(
    "--ray-address", metavar="ADDRESS", help="Embed on the Ray cluster at ADDRESS (ray://head:10001)"
)
@click.option(
    "--dense-index",
    type=click.Choice(DENSE_KINDS),
    help="FAISS index: exact (flat), HNSW graph, or auto (exact up to 100k passages); "
    "default: what the index was given before, else auto",
)
@click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    help="How passages and questions are encoded (default: the index's, else onnx-int8, "
    "2.2x-2.7x torch's passages/s within 0.005 of its answers; onnx-fp32 gives torch's vectors "
    "at 1.26x); another backend re-embeds everything",
)
@click.option(
    "--device",
    type=click.Choice(DEVICES),
    default=DEFAULT_DEVICE,
    show_default=True,
    help="Where passages are embedded: a GPU when the backend can use one (auto), or the CPU",
)
def index(
    paths: tuple[Path, ...],
    index_dir: Path,
    rebuild: bool,
    add: bool,
    remove: tuple[str, ...],
    as_json: bool,
    verify: bool,
    follow_outside_links: bool,
    use_ray: bool,
    ray_address: str | None,
    dense_index: str | None,
    backend: str | None,
    device: str,
) -> None:
    """Index the articles in PATHS (files or folders; default: the last sources, or seeds/).

    Only new or changed articles are embedded; articles whose files are gone are dropped
    (with --add, kept). A run costs what it adds or removes, not the whole archive.
    INDEX/uploads/ (articles added in the chat) is always read too. Links that lead out
    of a folder, devices, FIFOs and other qa index folders are skipped with a warning.

    \b
        qa index seeds/ ~/news/2024
        qa index --add ~/news/today
        qa index --remove news/2024-10-29-storm
        qa index --verify
        qa index ~/news --ray-address ray://head:10001   # bulk embedding on a Ray cluster
        qa index --rebuild --backend torch --device cpu
    """
    from qa.config import DenseSettings
    from qa.index.build import index_paths

    if verify:
        verify_index_files(index_dir, paths, rebuild)
        return
    ray = ray_address or ("local" if use_ray else None)
    with user_errors():
        result = run_with_progress(
            lambda progress: index_paths(
                list(paths),
                index_dir,
                keep_others=add,
                remove=list(remove),
                rebuild=rebuild,
                progress=progress,
                ray=ray,
                dense=DenseSettings(dense_index) if dense_index else None,
                split_workers=os.cpu_count() or 1,
                backend=backend,
                follow_links=follow_outside_links,
                device=device,
                notify=None if as_json else lambda line: echo(line, err=True),
            ),
            quiet=as_json,
        )
    for problem in result.problems:
        echo(f"{problem.level}: {problem}", err=True)
    r = result.report
    if as_json:
        from dataclasses import asdict

        click.echo(json_text({**asdict(r), "problems": [str(p) for p in result.problems]}))
        return
    echo(
        f"{r.added} added, {r.updated} updated, {r.removed} removed, {r.unchanged} unchanged; "
        f"{r.articles} articles, {r.passages} passages ({r.embedded} embedded) "
        f"in {r.seconds:.1f}s -> {r.path}"
    )


def verify_index_files(index_dir: Path, paths: tuple[Path, ...], rebuild: bool) -> None:
    """`qa index --verify`: OK, or the damaged files and the repair command (exit code 1)."""
    from qa.index.folder import repair_hint
    from qa.index.generation import verify_index

    if paths or rebuild:
        raise click.UsageError("--verify checks the index as it is; give it no PATHS and no --rebuild")
    with user_errors():
        folder, checked, bad = verify_index(index_dir)
    if bad:
        echo(f"DAMAGED: {', '.join(bad)} in {folder} (missing or changed)", err=True)
        echo(repair_hint(index_dir), err=True)
        sys.exit(1)
    echo(f"OK: {len(checked)} files of {folder.name} match their sha256 checksums")


@cli.command()
@click.argument("question")
@click.option("-k", type=int, default=5, show_default=True, help="Passages to return and cite")
@filter_options
@click.option(
    "--as-of",
    metavar="DATE",
    help="Read 'this week', 'latest' as of this day (YYYY-MM-DD) [default: the newest article's date]",
)
@index_option
@vector_store_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object")
def ask(
    question: str,
    k: int,
    as_of: str | None,
    since: str | None,
    until: str | None,
    sections: tuple[str, ...],
    sources: tuple[str, ...],
    index_dir: Path,
    vector_store: str | None,
    as_json: bool,
) -> None:
    """Answer QUESTION with sentences quoted from the articles, with citations.

    With no index yet, one is built from seeds/ first. Time words in the question
    ("this week", "in October 2024", "latest") prefer articles of that time; only
    --since/--until leave articles out.

    \b
        qa ask "How many North Korean troops are in Russia?" -k 3 --json
        qa ask "What did NATO say?" --since 2024-10-01 --section International
    """
    from qa.index import folder as index_folder
    from qa.index.build import index_paths
    from qa.search.answer import answer_json
    from qa.search.engine import Engine
    from qa.search.options import SearchOptions
    from qa.search.retrieve import Filters

    from .answer_text import format_answer

    with user_errors():
        if not index_folder.exists(index_dir):
            echo(f"No index at {index_dir} yet; building one ...", err=True)
            run_with_progress(lambda p: index_paths([], index_dir, progress=p), quiet=as_json)
        filters = Filters(since, until, tuple(sections), tuple(sources))
        engine = Engine.from_index(index_dir, vector_store=vector_store)
        answer = engine.ask(question, SearchOptions(k=k, as_of=as_of), filters)
    # format_answer escapes the articles' text itself: its own bold marks must reach the terminal.
    click.echo(json_text(answer_json(answer)) if as_json else format_answer(answer))


@cli.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON")
def info(index_dir: Path, as_json: bool) -> None:
    """Say what the index holds: articles, passages, dates, model, settings."""
    from qa.index.passage_index import PassageIndex, describe

    with user_errors():
        loaded = PassageIndex.load(index_dir)
    if as_json:
        manifest = dict(loaded.manifest)
        manifest.pop("articles", None)
        click.echo(json_text(manifest, indent=1))
    else:
        echo(describe(loaded))


@cli.command()
@index_option
@click.option("--host", envvar="QA_HOST", default="127.0.0.1", show_default=True, help="Address ($QA_HOST)")
@click.option(
    "--port",
    envvar="QA_PORT",
    type=click.IntRange(1, 65535),
    default=7860,
    show_default=True,
    help="Port ($QA_PORT)",
)
@click.option(
    "--feedback",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="QA_FEEDBACK",
    help="JSONL file for thumbs up/down (default: INDEX/feedback/feedback.jsonl; $QA_FEEDBACK)",
)
@click.option(
    "--auth",
    envvar="QA_AUTH",
    metavar="USER:PASSWORD",
    help="Ask for this login on every page and API call ($QA_AUTH; the variable keeps it out of `ps`)",
)
def serve(index_dir: Path, host: str, port: int, feedback: Path | None, auth: str | None) -> None:
    """Start the browser chat (the same app as `python app.py`) on HOST:PORT.

    Binds 127.0.0.1 unless told otherwise; with no index yet, one is built from seeds/.
    Before binding another address, set a password: it warns when there is none.

    \b
        qa serve --port 8000
        QA_AUTH=alice:correct-horse qa serve --host 0.0.0.0
    """
    import runpy

    from qa.serve import check_address

    with user_errors():
        check_address(host, port)  # a clean line now, not a traceback from deep in the server
    app_file = Path(__file__).resolve().parents[2] / "app.py"
    if not app_file.is_file():
        raise click.ClickException(
            f"the chat's app.py is not at {app_file}; run `qa serve` from a source checkout "
            "installed with `pip install -e .`"
        )
    argv = ["--index", str(index_dir), "--host", host, "--port", str(port)]
    argv += ["--feedback", str(feedback)] if feedback else []
    runpy.run_path(str(app_file))["main"](argv + (["--auth", auth] if auth else []))


cli.add_command(eval_command)
cli.add_command(convert)
