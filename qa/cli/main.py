"""The `qa` command: parse options, call one library function, print the result.

Heavy libraries are imported inside commands so `qa --help` stays instant. Here: the
group, `qa ask` and `qa serve`; `qa index` and `qa info` are in index_commands.py, `qa eval`
and `qa convert` in eval_commands.py, the shared options in options.py.
"""

from __future__ import annotations

from pathlib import Path

import click

from qa.search.options import DEFAULT_K
from qa.terminal import json_text

from .eval_commands import convert, eval_command
from .index_commands import index, info
from .options import (
    CONTEXT,
    echo,
    filter_options,
    index_option,
    run_with_progress,
    serve_options,
    user_errors,
    vector_store_option,
)


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
@click.argument("question")
@click.option("-k", type=int, default=DEFAULT_K, show_default=True, help="Passages to return and cite")
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
    --since/--until leave articles out (undated ones too).

    \b
        qa ask "How many North Korean troops are in Russia?" -k 3 --json
        qa ask "What did NATO say?" --since 2024-10-01 --section International
    """
    from qa.index.build import ensure_index
    from qa.search.answer import answer_json
    from qa.search.engine import Engine
    from qa.search.options import SearchOptions
    from qa.search.retrieve import Filters

    from .answer_text import format_answer

    if since and until and since > until:
        raise click.UsageError(f"--since {since} is after --until {until}: swap them")
    with user_errors():
        run_with_progress(
            lambda p: ensure_index(index_dir, progress=p, notify=lambda line: echo(line, err=True)),
            quiet=as_json,
        )
        filters = Filters(since, until, tuple(sections), tuple(sources))
        engine = Engine.from_index(index_dir, vector_store=vector_store)
        answer = engine.ask(question, SearchOptions(k=k, as_of=as_of), filters)
    # format_answer escapes the articles' text itself: its own bold marks must reach the terminal.
    click.echo(json_text(answer_json(answer)) if as_json else format_answer(answer))


@cli.command()
@serve_options
def serve(index_dir: Path, host: str, port: int, feedback: Path | None, auth: str | None) -> None:
    """Start the browser chat (the same app as `python app.py`) on HOST:PORT.

    Binds 127.0.0.1 unless told otherwise; with no index yet, one is built from seeds/.
    Before binding another address, set a password: it warns when there is none.

    \b
        qa serve --port 8000
        QA_AUTH=alice:correct-horse qa serve --host 0.0.0.0
    """
    import runpy

    from qa.serve import check_address, to_argv

    with user_errors():
        check_address(host, port)  # a clean line now, not a traceback from deep in the server
    app_file = Path(__file__).resolve().parents[2] / "app.py"
    if not app_file.is_file():
        raise click.ClickException(
            f"the chat's app.py is not at {app_file}; run `qa serve` from a source checkout "
            "installed with `pip install -e .`"
        )
    argv = to_argv({"index_dir": index_dir, "host": host, "port": port, "feedback": feedback, "auth": auth})
    runpy.run_path(str(app_file))["main"](argv)


cli.add_command(index)
cli.add_command(info)
cli.add_command(eval_command)
cli.add_command(convert)
