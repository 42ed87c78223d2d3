"""ensure_index: the one place that builds an index from seeds when a folder has none."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.errors import IndexNotFoundError, NoArticlesError
from qa.index import folder
from qa.index.build import ensure_index, index_paths
from qa.index.passage_index import PassageIndex
from qa.index.sources import read_sources
from qa.layout import CURRENT

from .conftest import ARTICLES


def _seeds(tmp_path: Path, name: str, files: tuple[str, ...]) -> Path:
    """A seeds folder holding some of the tiny article set's files."""
    target = tmp_path / name
    target.mkdir()
    for file in files:
        shutil.copy(ARTICLES / file, target / file)
    return target


def _titles(root: Path) -> set[str]:
    return {a.title for a in PassageIndex.load(root).articles.values()}


def test_builds_from_seeds_when_there_is_no_index(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    seeds = _seeds(tmp_path, "seeds", ("harbour.txt", "orchard.md"))
    root, heard = tmp_path / "index", []

    assert ensure_index(root, [seeds], embedder=embedder, notify=heard.append) is True

    assert folder.exists(root)
    assert read_sources(root) == [str(seeds.resolve())]
    assert len(_titles(root)) == 2
    assert embedder.calls > 0
    assert heard[0] == f"no index at {root} yet; building one from {seeds}"


def test_leaves_an_existing_index_alone(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "index"
    index_paths([_seeds(tmp_path, "first", ("harbour.txt",))], root, embedder=embedder)
    live, titles, calls = folder.read_current(root), _titles(root), embedder.calls
    heard: list[str] = []

    other = _seeds(tmp_path, "other", ("orchard.md",))
    assert ensure_index(root, [other], embedder=embedder, notify=heard.append) is False

    assert folder.read_current(root) == live
    assert _titles(root) == titles
    assert embedder.calls == calls
    assert heard == []


def test_rebuilds_what_is_left_of_an_index_from_its_own_sources(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    first = _seeds(tmp_path, "first", ("harbour.txt",))
    root = tmp_path / "index"
    index_paths([first], root, embedder=embedder)
    titles = _titles(root)
    (root / CURRENT).unlink()  # sources.json and the generation are still there
    heard: list[str] = []

    seeds = _seeds(tmp_path, "seeds", ("orchard.md",))
    assert ensure_index(root, [seeds], embedder=embedder, notify=heard.append) is True

    assert _titles(root) == titles  # the seeds were not read
    assert read_sources(root) == [str(first.resolve())]
    assert heard[0].endswith("building one from its sources")


def test_refuses_a_file_given_as_the_index(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    file = tmp_path / "index"
    file.write_text("not an index")
    with pytest.raises(IndexNotFoundError, match="is a file"):
        ensure_index(file, [_seeds(tmp_path, "seeds", ("harbour.txt",))], embedder=embedder)
    assert file.read_text() == "not an index"


def test_without_seeds_it_says_to_index_the_users_articles(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    # `qa ask` run outside a source checkout: no seeds/ to build a first index from.
    with pytest.raises(NoArticlesError, match=r"no index at .* yet, and no .*seeds to build one from; .*qa index PATH"):
        ensure_index(tmp_path / "index", [tmp_path / "seeds"], embedder=embedder)
    assert not (tmp_path / "index").exists()
