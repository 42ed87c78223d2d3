"""An index in segments: additions and removals cost what they change, searches see one index."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from qa.cli.main import cli
from qa.index import folder as index_folder
from qa.index import maintenance
from qa.index import update as qindex
from qa.index.build import index_paths
from qa.index.lexical import tokenize
from qa.index.passage_index import PassageIndex
from qa.index.vectors import embedding_key
from qa.search.engine import Engine
from qa.search.options import SearchOptions

from .conftest import DATA, HashEmbedder

QUESTIONS = ["container terminal Tallinn cranes", "frost apple orchards", "library opening hours", "council"]
WORDS = "harbour council budget river bridge school election market storm festival museum tram".split()


def write_story(folder, i):
    sentences = [
        f"The {WORDS[(i + j) % len(WORDS)]} report number {i}.{j} was read by {100 + i * j} people."
        for j in range(6)
    ]
    (folder / f"story{i:03d}.txt").write_text(f"Story {i}\n\n" + " ".join(sentences))


def ranking(root, fusion, k=8):
    engine = Engine.from_index(root, embedder=HashEmbedder())
    return [
        [(h.passage.id, round(h.score, 5)) for h in engine.search(q, SearchOptions(k=k, fusion=fusion))]
        for q in QUESTIONS
    ]


def frequencies(root):
    """How many passages hold each term of the questions (Bm25Index.frequency)."""
    bm25 = PassageIndex.load(root).bm25
    terms = sorted({term for terms in tokenize(QUESTIONS) for term in terms}) + ["zzzunknown"]
    found = bm25.frequency(terms)
    return [found[term] for term in terms]


def segments(root):
    return json.loads((index_folder.live_generation(root) / "manifest.json").read_text())["segments"]


def inode(root, segment, name="bm25/docs.npy"):
    return (index_folder.live_generation(root) / segment / name).stat().st_ino


def test_many_segments_search_like_one(tmp_path, articles_dir, settings, monkeypatch):
    one = tmp_path / "one"
    index_paths([articles_dir], one, embedder=HashEmbedder(), settings=settings)
    monkeypatch.setattr(qindex, "SEGMENT_ROWS", 2)  # a new segment every 2 passages
    many = tmp_path / "many"
    index_paths([articles_dir], many, embedder=HashEmbedder(), settings=settings)
    assert len(segments(one)) == 1 and len(segments(many)) >= 3
    for fusion in ("bm25", "dense", "convex"):
        assert ranking(many, fusion) == ranking(one, fusion)  # BM25 statistics span all segments
    assert frequencies(many) == frequencies(one) and max(frequencies(one)) >= 2


def test_an_addition_writes_one_segment_and_links_the_others(built, articles_dir, settings, tmp_path):
    [first] = segments(built)
    before = inode(built, first["name"])
    extra = tmp_path / "today"
    extra.mkdir()
    write_story(extra, 1)
    embedder = HashEmbedder()
    report = index_paths([extra], built, embedder=embedder, settings=settings, keep_others=True).report
    assert (report.added, report.unchanged, report.removed, report.articles) == (1, 0, 0, 7)
    assert report.embedded == embedder.texts_embedded == 1  # only the new story's passage
    names = [s["name"] for s in segments(built)]
    assert names[0] == first["name"] and len(names) == 2
    assert inode(built, first["name"]) == before  # the old postings were linked, not rewritten
    index = PassageIndex.load(built, verify=True)
    assert index.articles.keys() >= {"harbour", "story001"}
    sentences = sum(len(p.sentences) for p in index.passages)
    assert index.manifest["counts"] == {"articles": 7, "passages": len(index.passages), "sentences": sentences}
    dates = sorted(a.date for a in index.articles.values() if a.date)
    assert index.manifest["date_range"] == [dates[0], dates[-1]]


def test_a_removal_deletes_rows_and_searches_never_return_them(built, settings):
    [first] = segments(built)
    before = inode(built, first["name"])
    report = index_paths([], built, embedder=HashEmbedder(), settings=settings, remove=["harbour"]).report
    assert (report.removed, report.articles, report.embedded) == (1, 5, 0)
    [after] = segments(built)
    assert after["deleted"] >= 1 and inode(built, first["name"]) == before  # marked, not rewritten
    index = PassageIndex.load(built, verify=True)
    assert "harbour" not in index.articles and all(p.article_id != "harbour" for p in index.passages)
    assert len(index.passages) == index.dense.ntotal == index.bm25.size
    engine = Engine.from_index(built, embedder=HashEmbedder())
    for fusion in ("bm25", "dense", "convex"):
        found = [h for q in QUESTIONS for h in engine.search(q, SearchOptions(k=10, fusion=fusion))]
        assert found and all(h.article.id != "harbour" for h in found)


def test_compaction_gives_what_a_fresh_build_gives(tmp_path, articles_dir, settings, monkeypatch):
    monkeypatch.setattr(maintenance, "COMPACT_DEAD", 0.01)  # any deletion rewrites the segment
    ix = tmp_path / "ix"
    index_paths([articles_dir], ix, embedder=HashEmbedder(), settings=settings)
    (articles_dir / "harbour.txt").unlink()
    embedder = HashEmbedder()
    report = index_paths([articles_dir], ix, embedder=embedder, settings=settings).report
    assert report.removed == 1 and embedder.texts_embedded == 0  # rewritten from the stored vectors
    assert [s["deleted"] for s in segments(ix)] == [0]
    index_paths([articles_dir], tmp_path / "fresh", embedder=HashEmbedder(), settings=settings)
    for fusion in ("bm25", "dense", "convex"):
        assert sorted(ranking(ix, fusion)) == sorted(ranking(tmp_path / "fresh", fusion))


def test_small_segments_merge_once_a_tier_fills(built, settings, tmp_path):
    counts = []
    for i in range(maintenance.TIER + 1):
        extra = tmp_path / f"day{i}"
        extra.mkdir()
        write_story(extra, i)
        embedder = HashEmbedder()
        report = index_paths([extra], built, embedder=embedder, settings=settings, keep_others=True).report
        assert report.embedded == embedder.texts_embedded == 1
        counts.append(len(segments(built)))
    assert max(counts) <= maintenance.TIER and counts[-1] < max(counts)  # merged, never one per day
    index = PassageIndex.load(built, verify=True)
    assert len(index.articles) == 6 + maintenance.TIER + 1
    keys = {embedding_key(p) for p in index.passages}
    fresh = tmp_path / "fresh"
    shutil.copytree(DATA / "articles", tmp_path / "all")
    for i in range(maintenance.TIER + 1):
        write_story(tmp_path / "all", i)
    index_paths([tmp_path / "all"], fresh, embedder=HashEmbedder(), settings=settings)
    assert keys == {embedding_key(p) for p in PassageIndex.load(fresh).passages}


def test_an_index_from_before_segments_is_read_then_rewritten_without_embedding(tmp_path, settings):
    """tests/data/legacy-index was written by qa before issue 16 (format 2, bm25s's BM25)."""
    legacy = tmp_path / "legacy"
    shutil.copytree(DATA / "legacy-index", legacy)
    fresh = tmp_path / "fresh"
    index_paths([DATA / "articles"], fresh, embedder=HashEmbedder(), settings=settings)
    old = PassageIndex.load(legacy, verify=True)
    assert old.manifest["format_version"] == 2 and "segments" not in old.manifest
    for fusion in ("bm25", "dense", "convex"):
        assert ranking(legacy, fusion) == ranking(fresh, fusion)  # bm25s's scores equal the postings'
    assert frequencies(legacy) == frequencies(fresh) and max(frequencies(fresh)) >= 1
    embedder = HashEmbedder()
    report = index_paths([DATA / "articles"], legacy, embedder=embedder, settings=settings).report
    assert (report.unchanged, report.embedded, embedder.texts_embedded) == (6, 0, 0)
    assert PassageIndex.load(legacy, verify=True).manifest["format_version"] == 3
    for fusion in ("bm25", "dense", "convex"):
        assert ranking(legacy, fusion) == ranking(fresh, fusion)


def test_copies_found_in_a_stream_are_recorded(tmp_path, settings):
    folder = tmp_path / "news"
    folder.mkdir()
    write_story(folder, 1)
    shutil.copy(folder / "story001.txt", folder / "story002.txt")
    index_paths([folder], tmp_path / "ix", embedder=HashEmbedder(), settings=settings)
    index = PassageIndex.load(tmp_path / "ix")
    assert list(index.articles) == ["story001"]
    assert index.articles["story001"].also_in == (str(folder / "story002.txt"),)


def test_cli_add_and_remove(monkeypatch, tmp_path, articles_dir):
    monkeypatch.setattr("qa.encode.backends.default_embedder", HashEmbedder)
    ix, extra = str(tmp_path / "ix"), tmp_path / "today"
    extra.mkdir()
    write_story(extra, 7)
    runner = CliRunner()
    assert runner.invoke(cli, ["index", str(articles_dir), "--index", ix]).exit_code == 0
    added = runner.invoke(cli, ["index", "--add", str(extra), "--index", ix, "--json"])
    assert json.loads(added.output)["articles"] == 7 and json.loads(added.output)["added"] == 1
    gone = runner.invoke(
        cli, ["index", "--remove", "story007", "--remove", "orchard", "--index", ix, "--json"]
    )
    assert (json.loads(gone.output)["removed"], json.loads(gone.output)["articles"]) == (2, 5)
    again = runner.invoke(cli, ["index", "--index", ix, "--json"])  # the recorded folders, read again
    assert json.loads(again.output)["articles"] == 7


def test_cli_add_without_paths_and_remove_of_an_unknown_id_say_so(monkeypatch, tmp_path, articles_dir, caplog):
    monkeypatch.setattr("qa.encode.backends.default_embedder", HashEmbedder)
    ix = str(tmp_path / "ix")
    runner = CliRunner()
    assert runner.invoke(cli, ["index", str(articles_dir), "--index", ix]).exit_code == 0
    bare = runner.invoke(cli, ["index", "--add", "--index", ix])
    assert bare.exit_code == 2 and "--add adds PATHS: give the files or folders" in bare.output
    gone = runner.invoke(cli, ["index", "--remove", "no-such-story", "--index", ix, "--json"])
    assert json.loads(gone.output)["removed"] == 0
    assert "--remove no-such-story: no indexed article has that id" in caplog.text


def test_a_segment_is_capped_and_batches_are_bounded(tmp_path, articles_dir, settings, monkeypatch):
    monkeypatch.setattr(qindex, "SEGMENT_ROWS", 3)
    monkeypatch.setattr(qindex, "EMBED_ROWS", 2)
    sizes = []

    class Counting(HashEmbedder):
        def embed_passages(self, texts, spans, progress=None):  # type: ignore[no-untyped-def]
            sizes.append(len(texts))
            return super().embed_passages(texts, spans, progress)

    index_paths([articles_dir], tmp_path / "ix", embedder=Counting(), settings=settings)
    rows = [s["rows"] for s in segments(tmp_path / "ix")]
    assert max(sizes) <= 2 + 2  # a batch ends at an article's end: at most one article over
    assert all(r < 3 + 3 for r in rows) and sum(rows) == len(PassageIndex.load(tmp_path / "ix").passages)
    assert np.sum(sizes) == sum(rows)


def test_postings_bytes_do_not_depend_on_the_order_terms_arrive_in(tmp_path):
    """bm25s numbers a batch's terms in an order that follows Python's string hash seed; the
    written files must not (the same articles give the same index bytes)."""
    from qa.index.postings import Postings, PostingsWriter

    docs = [["tram", "wifi", "tram"], ["bakery", "butter"], ["wifi", "energy", "bakery"]]
    for name, vocab in (("a", ["tram", "wifi", "bakery", "butter", "energy"]),
                        ("b", ["energy", "butter", "bakery", "wifi", "tram"])):
        writer = PostingsWriter()
        writer.add([[vocab.index(t) for t in doc] for doc in docs], vocab)
        writer.save(tmp_path / name)
    for file in ("terms.json", "indptr.npy", "docs.npy", "tf.npy", "lengths.npy"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file
    postings = Postings(tmp_path / "a")
    assert [r.tolist() for r in postings.postings("tram")] == [[0], [2]]
    assert [r.tolist() for r in postings.postings("bakery")] == [[1, 2], [1, 1]]


class OtherWeights(HashEmbedder):
    fingerprint = "hash-v2"  # as after an upgrade of the model package


def test_an_addition_to_an_index_it_cannot_reuse_refuses_instead_of_dropping_the_archive(built, tmp_path, settings):
    """An --add (or an upload) keeps every other article; when the index's vectors cannot be
    reused (another model, backend or splitter), writing only the new articles would silently
    drop the archive from the index (6 articles became 1): refuse, name the fix, change nothing."""
    from qa.errors import IndexMismatchError

    live, before = index_folder.live_generation(built), len(PassageIndex.load(built).articles)
    new = tmp_path / "new"
    new.mkdir()
    write_story(new, 500)
    refusal = (
        f"index at {built} was built with model test/hash-embedder (weights hash-v1, dim 64), but the "
        f"model here is test/hash-embedder (weights hash-v2, dim 64); "
        f"rebuild it with `qa index --rebuild --index {built}`"
    )
    with pytest.raises(IndexMismatchError) as raised:
        index_paths([new], built, embedder=OtherWeights(), keep_others=True, settings=settings)
    assert str(raised.value) == refusal
    gone = sorted(PassageIndex.load(built).articles)[0]
    with pytest.raises(IndexMismatchError) as raised:
        index_paths([], built, embedder=OtherWeights(), remove=[gone], settings=settings)
    assert str(raised.value) == refusal
    assert index_folder.live_generation(built) == live and len(PassageIndex.load(built).articles) == before


def test_an_addition_to_an_index_with_a_damaged_key_file_rewrites_that_segment(built, tmp_path, settings):
    """The segment's articles are read back from it and embedded again (its keys cannot be
    trusted to find their vectors); the damage is not carried into the new generation."""
    live = index_folder.live_generation(built)
    (live / segments(built)[0]["name"] / "key_order.npy").write_bytes(b"\x93NUMPY damaged")
    new = tmp_path / "new"
    new.mkdir()
    write_story(new, 501)
    report = index_paths([new], built, embedder=HashEmbedder(), keep_others=True, settings=settings).report
    assert (report.added, report.articles) == (1, 7)
    assert index_folder.live_generation(built) != live and len(PassageIndex.load(built, verify=True).articles) == 7
