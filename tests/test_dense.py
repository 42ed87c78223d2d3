"""The FAISS index type follows the corpus size; an HNSW index finds what the exact one finds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.config import DenseSettings
from qa.errors import IndexCorruptError, SettingError
from qa.index import dense
from qa.index.build import index_paths
from qa.index.passage_index import PassageIndex
from qa.search.engine import Engine
from qa.search.options import SearchOptions
from qa.search.retrieve import Filters

from .conftest import HashEmbedder

QUESTIONS = [
    "container terminal Tallinn cranes",
    "frost apple orchards Styria blossoms",
    "library opening hours",
    "election results council",
]


def test_auto_picks_exact_up_to_the_limit_then_hnsw():
    settings = DenseSettings(exact_limit=1000)
    assert dense.choose(1000, settings)["type"] == "flat"
    above = dense.choose(1001, settings)
    assert above["type"] == "hnsw" and above["M"] == settings.hnsw_m and above["ef_search"] == settings.ef_search == 512
    assert dense.choose(5, DenseSettings(kind="hnsw"))["type"] == "hnsw"
    assert dense.choose(10**7, DenseSettings(kind="flat"))["type"] == "flat"
    with pytest.raises(SettingError, match="'ivf'.*auto, flat, hnsw"):
        dense.choose(5, DenseSettings(kind="ivf"))


@pytest.fixture
def hnsw_built(tmp_path, articles_dir, settings):
    ix = tmp_path / "hnsw"
    forced = DenseSettings(exact_limit=2, graph_rows=1)  # auto, with limits the tiny corpus exceeds
    index_paths([articles_dir], ix, embedder=HashEmbedder(), settings=settings, dense=forced)
    return ix


def test_an_hnsw_index_finds_what_the_exact_one_finds(hnsw_built, built, embedder):
    approx, exact = (
        Engine.from_index(hnsw_built, embedder=embedder),
        Engine.from_index(built, embedder=embedder),
    )
    assert approx.index.manifest["dense"]["type"] == "hnsw"
    assert [dense.kind_of(part) for part, _ in approx.index.dense.parts] == ["hnsw"]
    assert exact.index.manifest["dense"]["type"] == "flat"
    for q in QUESTIONS:
        for fusion in ("dense", "convex"):
            options = SearchOptions(k=3, fusion=fusion)
            assert [h.passage.id for h in approx.search(q, options)] == [
                h.passage.id for h in exact.search(q, options)
            ]


@pytest.mark.parametrize("exact_filter_rows", [dense.EXACT_FILTER_ROWS, 0])
def test_filtered_hnsw_search_keeps_to_the_allowed_rows(hnsw_built, embedder, monkeypatch, exact_filter_rows):
    monkeypatch.setattr(dense, "EXACT_FILTER_ROWS", exact_filter_rows)  # 0: the graph walk with a selector
    engine = Engine.from_index(hnsw_built, embedder=embedder)
    hits = engine.search("terminal", SearchOptions(k=5, fusion="dense"), Filters(sections=("business",)))
    assert hits and hits[0].article.id == "harbour" and {h.article.section for h in hits} == {"Business"}


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc")
def test_the_dense_file_is_memory_mapped(hnsw_built, built):
    maps = Path("/proc/self/maps").read_text()
    for root in (built, hnsw_built):
        index = PassageIndex.load(root)
        files = [index.folder / s["name"] / "dense.faiss" for s in index.manifest["segments"]]
        assert files and all(str(f) in Path("/proc/self/maps").read_text() for f in files)
        assert not any(str(f) in maps for f in files)


def test_changing_the_kind_rewrites_without_embedding(built, articles_dir, settings):
    again = HashEmbedder()
    report = index_paths(
        [articles_dir], built, embedder=again, settings=settings, dense=DenseSettings(kind="hnsw")
    ).report
    assert report.embedded == again.texts_embedded == 0
    assert PassageIndex.load(built).manifest["dense"]["type"] == "hnsw"


def test_hnsw_recall_on_random_unit_vectors():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = dense.build(vectors, dense.choose(3000, DenseSettings(kind="hnsw")))
    index.hnsw.efSearch = 128
    queries = vectors[:200] + 0.1 * rng.standard_normal((200, 32)).astype(np.float32)
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    found = [dense.search(index, q, 10, None)[1][0] for q in queries]
    recall = np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact)])
    assert recall >= 0.95


def test_an_hnsw_index_gives_back_its_vectors_for_reuse(hnsw_built, built, articles_dir, settings):
    (articles_dir / "new.txt").write_text("Brand New\n\nA fresh article about bridges.")
    forced = DenseSettings(exact_limit=2, graph_rows=1)
    for root in (hnsw_built, built):
        report = index_paths(
            [articles_dir], root, embedder=HashEmbedder(), settings=settings, dense=forced
        ).report
        assert report.embedded == 1
    a, b = PassageIndex.load(hnsw_built), PassageIndex.load(built)
    assert [p.id for p in a.passages] == [p.id for p in b.passages]
    assert (a.vectors() == b.vectors()).all()


def test_a_chosen_kind_is_kept_by_later_runs_that_name_none(built, articles_dir, settings):
    index_paths([articles_dir], built, embedder=HashEmbedder(), settings=settings, dense=DenseSettings(kind="hnsw"))
    (articles_dir / "upload.txt").write_text("Title: Ferry strike\n\nA ferry strike closed the harbour on Monday.")
    index_paths([articles_dir], built, embedder=HashEmbedder(), settings=settings)  # e.g. a chat upload
    manifest = PassageIndex.load(built).manifest
    assert manifest["dense"]["type"] == "hnsw" and manifest["dense"]["chosen_by"] == "hnsw"


def _unit_rows(n: int, seed: int = 3) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, 16)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_stored_rows_reads_back_every_vector_of_either_kind(tmp_path, kind):
    import faiss

    x = _unit_rows(250)
    choice = dense.choose(10, DenseSettings(kind=kind))
    path = tmp_path / "dense.faiss"
    faiss.write_index(dense.build(x, choice), str(path))
    chunks = [c.copy() for c in dense.stored_rows(path, chunk=64)]  # each chunk is reused
    assert [len(c) for c in chunks] == [64, 64, 64, 58]
    assert np.array_equal(np.concatenate(chunks), x)


def test_stored_rows_refuses_a_file_whose_vectors_are_not_at_its_end(tmp_path):
    import faiss

    path = tmp_path / "dense.faiss"
    faiss.write_index(dense.build(_unit_rows(40), dense.FLAT), str(path))
    with path.open("ab") as fh:
        fh.write(b"\0" * 64)  # trailing bytes shift where the rows would be read from
    with pytest.raises(IndexCorruptError, match="dense.faiss"):
        list(dense.stored_rows(path, chunk=16))


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_room_made_in_advance_changes_nothing_that_is_stored(kind):
    x = _unit_rows(300)
    choice = dense.choose(10, DenseSettings(kind=kind))
    plain, roomy = dense.build(x[:0], choice), dense.build(x[:0], choice)
    dense.reserve(roomy, len(x))
    assert roomy.ntotal == 0
    for start in range(0, len(x), 70):
        plain.add(x[start : start + 70])
        roomy.add(x[start : start + 70])
    assert np.array_equal(roomy.reconstruct_n(0, len(x)), x)
    assert np.array_equal(plain.search(x[:5], 10)[1], roomy.search(x[:5], 10)[1])


def test_converting_to_a_graph_keeps_the_vectors(tmp_path):
    import faiss

    x = _unit_rows(500)
    path = tmp_path / "dense.faiss"
    faiss.write_index(dense.build(x, dense.FLAT), str(path))
    dense.convert(path, dense.choose(10, DenseSettings(kind="hnsw")), chunk=128)
    graph = dense.read(path, {})
    assert dense.kind_of(graph) == "hnsw" and np.array_equal(graph.reconstruct_n(0, 500), x)
