"""`qa index --rebuild` with --add or --remove: a rebuild embeds the whole index again, so it
must read every source (before, `--rebuild --add PATHS` left only PATHS' articles indexed)."""

from __future__ import annotations

import json

import pytest

from qa.errors import SourcesError
from qa.index.build import index_paths
from qa.index.passage_index import PassageIndex
from qa.index.sources import read_sources
from qa.layout import SOURCES


def article_ids(index_dir):
    return set(PassageIndex.load(index_dir).articles)


def upload(tmp_path):
    extra = tmp_path / "today"
    extra.mkdir()
    (extra / "owls.txt").write_text("Owls return\n\nOwls came back to the city park this week.")
    return extra


def test_rebuild_with_add_keeps_every_source_and_adds_the_paths(tmp_path, built, embedder, settings, articles_dir):
    before = article_ids(built)
    extra = upload(tmp_path)
    report = index_paths([extra], built, embedder=embedder, settings=settings, keep_others=True, rebuild=True).report
    assert article_ids(built) == before | {"owls"}
    assert report.articles == len(before) + 1
    assert read_sources(built) == [str(articles_dir.resolve()), str(extra.resolve())]


def test_rebuild_with_remove_alone_rebuilds_every_source_but_that_article(built, embedder, settings):
    before = article_ids(built)
    one = sorted(before)[0]
    index_paths([], built, embedder=embedder, settings=settings, remove=[one], rebuild=True)
    assert article_ids(built) == before - {one}


def test_rebuild_with_paths_and_remove_reads_the_paths_as_before(tmp_path, built, embedder, settings, articles_dir):
    before = article_ids(built)
    one = sorted(before)[0]
    index_paths([articles_dir], built, embedder=embedder, settings=settings, remove=[one], rebuild=True)
    assert article_ids(built) == before - {one}


def test_rebuild_with_add_on_an_index_without_recorded_sources_names_the_fix(tmp_path, built, embedder, settings):
    (built / SOURCES).unlink()  # and the manifest's copy, as an index of an older qa kept none
    manifest = built / (built / "CURRENT").read_text().strip() / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "sources": None}))
    with pytest.raises(SourcesError, match="does not record its sources, so a rebuild would keep only .*today.*qa index --rebuild SOURCES"):
        index_paths([upload(tmp_path)], built, embedder=embedder, settings=settings, keep_others=True, rebuild=True)



def test_a_refused_first_run_leaves_no_folder_behind(tmp_path, embedder, settings):
    """`qa index nothere --index a/b/ix` used to leave a/b/ix/.lock (found by an attacker try)."""
    from qa.errors import NoArticlesError

    target = tmp_path / "a" / "b" / "ix"
    with pytest.raises(NoArticlesError, match="does not exist"):
        index_paths([tmp_path / "nothere"], target, embedder=embedder, settings=settings)
    assert list(tmp_path.iterdir()) == []
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")  # a folder of the user's: only qa's lock may go
    with pytest.raises(NoArticlesError):
        index_paths([tmp_path / "nothere"], mine / "ix", embedder=embedder, settings=settings)
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
