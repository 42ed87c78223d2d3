"""The `qa index` and `qa info` commands: build, update or check an index, and say what it holds."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from qa.config import BACKENDS, DENSE_KINDS
from qa.encode.devices import DEFAULT_DEVICE, DEVICES
from qa.terminal import json_text

from .options import echo, index_option, run_with_progress, user_errors


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_option
@click.option(
    "--rebuild",
    is_flag=True,
    help="Re-embed every source (after a model or format change); with --add, PATHS join them",
)
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
    if add and not paths:
        raise click.UsageError("--add adds PATHS: give the files or folders of articles to add")
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

        problems = [str(p) for p in result.problems]
        click.echo(json_text({**asdict(r), "copies": result.copies, "problems": problems}))
        return
    copies = result.copies
    echo(
        f"{r.added} added, {r.updated} updated, {r.removed} removed, {r.unchanged} unchanged; "
        f"{r.articles} articles, {r.passages} passages ({r.embedded} embedded) "
        f"in {r.seconds:.1f}s -> {r.path}"
        + (f"\n{_copies_words(copies)}" if copies else "")
    )


def _copies_words(n: int) -> str:
    """Copies are counted by article (a JSON lines file can hold several), not by file."""
    if n == 1:
        return "1 article read was an identical copy of another: stored once (qa ask names its file)"
    return f"{n} articles read were identical copies of others: each stored once (qa ask names their files)"


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



@click.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON")
def info(index_dir: Path, as_json: bool) -> None:
    """Say what the index holds: articles, passages, dates, model, settings."""
    from qa.index.passage_index import PassageIndex, dated_articles, describe

    with user_errors():
        loaded = PassageIndex.load(index_dir)
    if as_json:
        manifest = dict(loaded.manifest)
        manifest.pop("articles", None)
        manifest["dated_articles"] = dated_articles(loaded)  # what time words can favour
        click.echo(json_text(manifest, indent=1))
    else:
        echo(describe(loaded))
