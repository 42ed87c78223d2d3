"""An update (`qa index`, --add, --remove, an upload) over a damaged index never reports success
over the damage: it rewrites what the articles or the intact files can rebuild, else it stops
naming the damaged file and the repair, and the live generation stays as it was."""

from __future__ import annotations

import os

import pytest

from qa.config import IndexSettings
from qa.errors import IndexCorruptError, IndexMismatchError
from qa.index import folder as index_folder
from qa.index import generation
from qa.index.build import index_paths
from qa.index.passage_index import PassageIndex

from .conftest import HashEmbedder, segment_file


def damage(file, same_size=False):
    """Garbage written over `file` as a later write would leave it: its modification time moves
    (set one second on, so a coarse file-system clock cannot hide the write)."""
    before, data = file.stat(), file.read_bytes()
    file.write_bytes(data[:-64] + bytes(b ^ 0xFF for b in data[-64:]) if same_size else data[:-9])
    os.utime(file, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))


def new_article(tmp_path):
    folder = tmp_path / "today"
    folder.mkdir()
    (folder / "tram.txt").write_text("Tram Line Opens\n\nThe new tram line to the harbour opened on Monday.")
    return folder


def intact(root, articles=6):
    """The live generation passes the deep check of `qa index --verify` and holds every article."""
    assert (
        generation.check_files(index_folder.live_generation(root), PassageIndex.load(root).manifest["files"], deep=True)
        == []
    )
    assert len(PassageIndex.load(root, verify=True).articles) == articles


@pytest.mark.parametrize(
    "name", ["dense.faiss", "sentences.npy", "bm25/tf.npy", "passages.jsonl", "keys.npy"]
)
def test_an_unchanged_run_over_a_damaged_file_rewrites_it(built, articles_dir, settings, name):
    live = index_folder.live_generation(built)
    damage(segment_file(built, name))
    report = index_paths([articles_dir], built, embedder=HashEmbedder(), settings=settings).report
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 6)
    assert index_folder.live_generation(built) != live
    intact(built)


def test_same_sized_garbage_is_found_by_its_moved_time(built, articles_dir, settings):
    """The size check of `qa ask` cannot see it; the manifest's modification time can, at a stat."""
    live = index_folder.live_generation(built)
    damage(segment_file(built, "dense.faiss"), same_size=True)
    index_paths([articles_dir], built, embedder=HashEmbedder(), settings=settings)
    assert index_folder.live_generation(built) != live
    intact(built)


def test_moved_times_over_intact_content_are_hashed_once(built, articles_dir, settings):
    """An index copied without its times: its files are hashed, found intact and kept (nothing
    embedded), and the next generation records their times, so the run after hashes nothing."""
    live, segment = index_folder.live_generation(built), segment_file(built, "dense.faiss").parent.name
    for file in live.rglob("*"):
        os.utime(file, ns=(0, 10**18))
    embedder = HashEmbedder()
    report = index_paths([articles_dir], built, embedder=embedder, settings=settings).report
    assert report.unchanged == 6 and embedder.calls == 0
    retimed = index_folder.live_generation(built)
    assert retimed != live and segment_file(built, "dense.faiss").parent.name == segment  # linked, not rewritten
    index_paths([articles_dir], built, embedder=embedder, settings=settings)
    assert index_folder.live_generation(built) == retimed and embedder.calls == 0
    intact(built)


@pytest.mark.parametrize("name, embeds", [("dense.faiss", True), ("bm25/docs.npy", False)])
def test_an_add_rebuilds_a_damaged_segment_from_its_own_articles(built, settings, tmp_path, name, embeds):
    """The other articles are not in an --add's stream: they are read back from the segment, and
    their vectors copied where the vector files are intact (else embedded again)."""
    passages = len(PassageIndex.load(built).passages)
    damage(segment_file(built, name))
    embedder = HashEmbedder()
    report = index_paths(
        [new_article(tmp_path)], built, embedder=embedder, settings=settings, keep_others=True
    )
    assert (report.report.added, report.report.articles) == (1, 7)
    assert (embedder.texts_embedded > passages) == embeds
    intact(built, articles=7)


def test_an_unchanged_add_over_a_damaged_index_rewrites_it(built, articles_dir, settings):
    live = index_folder.live_generation(built)
    damage(segment_file(built, "dense.faiss"))
    report = index_paths([articles_dir], built, embedder=HashEmbedder(), settings=settings, keep_others=True)
    assert report.report.unchanged == 6 and index_folder.live_generation(built) != live
    intact(built)


@pytest.mark.parametrize("name", ["articles.jsonl", "catalog.json"])
def test_an_add_stops_when_the_damaged_files_cannot_be_rebuilt(built, settings, tmp_path, name):
    live = index_folder.live_generation(built)
    damaged = segment_file(built, name)
    damage(damaged)
    with pytest.raises(IndexCorruptError) as raised:
        index_paths(
            [new_article(tmp_path)], built, embedder=HashEmbedder(), settings=settings, keep_others=True
        )
    assert str(raised.value) == (
        f"index at {built} is damaged: {damaged.relative_to(live)} changed since it was written "
        f"(its size or time is not the manifest's), and an --add, --remove or upload cannot rebuild "
        f"it; rewrite it from the index's sources with `qa index --index {built}`"
    )
    assert index_folder.live_generation(built) == live
    report = index_paths([], built, embedder=HashEmbedder(), settings=settings).report  # the named repair
    assert report.articles == 6
    intact(built)


def test_an_add_to_an_index_split_otherwise_says_so_once(built, settings, tmp_path):
    other = IndexSettings(model=settings.model, dim=settings.dim, passage_tokens=20)
    with pytest.raises(IndexMismatchError) as raised:
        index_paths([new_article(tmp_path)], built, embedder=HashEmbedder(), settings=other, keep_others=True)
    assert str(raised.value) == (
        f"index at {built} was split with passage_tokens=160, but this run splits with passage_tokens=20; "
        f"rebuild it with `qa index --rebuild --index {built}`"
    )
