"""What the `qa` commands share: the --index and filter options, error and progress display.

Heavy libraries are imported inside functions so `qa --help` stays instant.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from qa.config import INDEX_ENV
from qa.errors import QAError
from qa.serve import OPTIONS as SERVE_OPTIONS
from qa.terminal import escape_controls

if TYPE_CHECKING:  # numpy stays out of `qa --help`
    from qa.encode.embedder import Progress

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


def serve_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options of `qa serve`, as qa.serve.OPTIONS defines them for app.py too."""
    types: dict[str, Any] = {
        "folder": click.Path(file_okay=False, path_type=Path),
        "file": click.Path(dir_okay=False, path_type=Path),
        "port": click.IntRange(1, 65535),
    }
    for option in reversed(SERVE_OPTIONS):
        fn = click.option(
            option.flag,
            option.name,
            type=types.get(option.kind),
            envvar=option.env,
            default=option.default,
            show_default=option.default is not None,
            metavar=option.metavar,
            help=option.help,
        )(fn)
    return fn


def vector_store_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--vector-store",
        envvar="QA_VECTOR_STORE",
        help="Dense search: faiss (default), milvus:FILE.db (Milvus Lite) or milvus:http://HOST:19530 "
        "(token in $QA_MILVUS_TOKEN) (or set $QA_VECTOR_STORE)",
    )(fn)


@contextmanager
def user_errors() -> Iterator[None]:
    """Library errors, and files that cannot be written, become one clean line on stderr
    (control characters escaped) and exit code 1."""
    try:
        yield
    except QAError as ex:
        raise click.ClickException(escape_controls(ex)) from None
    except OSError as ex:
        raise click.ClickException(escape_controls(os_error_line(ex))) from None


def os_error_line(ex: OSError) -> str:
    """`ex` as one line with what to do about it."""
    what = f"{ex.strerror or ex}: {ex.filename}" if ex.filename else str(ex.strerror or ex)
    if ex.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{what}; free some disk space and run it again"
    if ex.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{what}; the folder is read-only: make it writable or write somewhere else"
    return what


def echo(text: str, err: bool = False) -> None:
    """Print one message: control characters escaped, line breaks kept."""
    click.echo(escape_controls(text, keep="\n\t"), err=err)


def run_with_progress(
    job: Callable[[Progress], Any], quiet: bool, label: str = "Embedding passages"
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
    from qa.text.articles import normalise_date

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
