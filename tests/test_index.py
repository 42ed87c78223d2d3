import json

import pytest

from qa.config import IndexSettings
from qa.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError, NoArticlesError
from qa.index import folder
from qa.index.build import index_paths
from qa.index.passage_index import PassageIndex
from qa.search.engine import Engine

from .conftest import HashEmbedder


def test_round_trip(built, embedder):
    index = PassageIndex.load(built)
    assert len(index.articles) == 6 and len(index.passages) == index.dense.ntotal > 0
    m = index.manifest
    assert m["model"] == HashEmbedder.name and m["model_fingerprint"] == "hash-v1" and m["dim"] == 64
    n_sentences = sum(len(p.sentences) for p in index.passages)
    assert m["counts"] == {"articles": 6, "passages": len(index.passages), "sentences": n_sentences}
    assert index.sentence_vectors.shape == (n_sentences, 64)
    [segment] = m["segments"]  # a first build: one segment, nothing deleted
    assert segment["rows"] == len(index.passages) and segment["deleted"] == 0 and segment["articles"] == 6
    catalog = json.loads((index.folder / segment["name"] / "catalog.json").read_text())
    assert "harbour" in catalog["ids"] and len(catalog["hashes"]) == 6
    assert m["settings"]["overlap_sentences"] == 1 and m["format_version"] == 3
    for p in index.passages:
        assert index.articles[p.article_id].text[p.start : p.end] == p.text
    assert json.loads((index.folder / "manifest.json").read_text())["date_range"] == [
        "2024-01-16",
        "2024-12-07",
    ]


def test_reindex_embeds_only_new_and_changed(tmp_path, articles_dir, settings):
    first = HashEmbedder()
    index_dir = tmp_path / "ix"
    r1 = index_paths([articles_dir], index_dir, embedder=first, settings=settings).report
    assert (r1.added, r1.embedded) == (6, r1.passages)

    again = HashEmbedder()
    r2 = index_paths([articles_dir], index_dir, embedder=again, settings=settings).report
    assert (r2.added, r2.updated, r2.removed, r2.unchanged, r2.embedded) == (0, 0, 0, 6, 0)
    assert again.texts_embedded == 0

    (articles_dir / "harbour.txt").write_text(
        " date 2024-03-05 Business\n\nPort News\n\nA new text. Two sentences."
    )
    (articles_dir / "orchard.md").unlink()
    (articles_dir / "new.txt").write_text("Brand New\n\nA fresh article about bridges.")
    third = HashEmbedder()
    r3 = index_paths([articles_dir], index_dir, embedder=third, settings=settings).report
    assert (r3.added, r3.updated, r3.removed, r3.unchanged) == (1, 1, 1, 4)
    assert third.texts_embedded == r3.embedded == 2  # one passage each for harbour and new
    index = PassageIndex.load(index_dir)
    assert "orchard" not in index.articles and index.articles["harbour"].title == "Port News"
    assert len(index.passages) == index.dense.ntotal


def test_reused_vectors_equal_fresh_ones(tmp_path, articles_dir, settings):
    index_paths([articles_dir], tmp_path / "a", embedder=HashEmbedder(), settings=settings)
    (articles_dir / "new.txt").write_text("Brand New\n\nA fresh article about bridges.")
    index_paths([articles_dir], tmp_path / "a", embedder=HashEmbedder(), settings=settings)
    index_paths([articles_dir], tmp_path / "b", embedder=HashEmbedder(), settings=settings)
    a, b = PassageIndex.load(tmp_path / "a"), PassageIndex.load(tmp_path / "b")
    rows_b = {p.id: i for i, p in enumerate(b.passages)}
    va, vb = a.vectors(), b.vectors()
    for i, p in enumerate(a.passages):
        assert (va[i] == vb[rows_b[p.id]]).all()
        assert (a.sentence_vectors_of(i) == b.sentence_vectors_of(rows_b[p.id])).all()


def test_keep_others_adds_without_removing(tmp_path, built, embedder, settings, articles_dir):
    extra = tmp_path / "upload"
    extra.mkdir()
    (extra / "up.txt").write_text("Uploaded\n\nAn uploaded story about owls.")
    report = index_paths([extra], built, embedder=embedder, settings=settings, keep_others=True).report
    assert (report.added, report.removed, report.articles) == (1, 0, 7)
    sources = PassageIndex.load(built).manifest["sources"]  # resolved, and the index's uploads/ always
    assert sources == [str(articles_dir.resolve()), str(extra.resolve()), str((built / "uploads").resolve())]
    again = index_paths([], built, embedder=embedder, settings=settings).report  # re-reads both
    assert (again.removed, again.articles) == (0, 7)


def test_a_failed_write_leaves_the_previous_index_live(tmp_path, built, articles_dir, settings, monkeypatch):
    before = PassageIndex.load(built)
    (articles_dir / "new.txt").write_text("Brand New\n\nA fresh article about bridges.")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr("qa.index.postings.PostingsWriter.save", crash)
    with pytest.raises(KeyboardInterrupt):
        index_paths([articles_dir], built, embedder=HashEmbedder(), settings=settings)
    after = PassageIndex.load(built)
    assert after.folder == before.folder and set(after.articles) == set(before.articles)
    monkeypatch.undo()
    report = index_paths([articles_dir], built, embedder=HashEmbedder(), settings=settings).report
    assert report.added == 1
    leftovers = [p.name for p in built.iterdir() if p.name.startswith(".building")]
    assert leftovers == [] and len([p for p in built.iterdir() if p.name.startswith("gen-")]) == 1


def test_builds_in_the_same_clock_tick_get_their_own_generations(built, articles_dir, settings, monkeypatch):
    # CI once saw two builds by one process in one second read the same clock: the second
    # publish met the live generation of that name ("Directory not empty"). Freeze the clock.
    monkeypatch.setattr(folder.time, "strftime", lambda *a: "20260101-000000")
    monkeypatch.setattr(folder.time, "monotonic_ns", lambda: 123, raising=False)
    for n in range(3):
        (articles_dir / f"tick{n}.txt").write_text(f"Tick {n}\n\nA story about clock tick {n}.")
        index_paths([articles_dir], built, embedder=HashEmbedder(), settings=settings)
        live = PassageIndex.load(built)
        assert f"tick{n}" in live.articles
    assert len([p for p in built.iterdir() if p.name.startswith("gen-")]) == 1


def test_other_model_is_refused_with_the_fix(built):
    class OtherModel(HashEmbedder):
        name = "other/model"
        fingerprint = "other"

    with pytest.raises(IndexMismatchError, match="qa index --rebuild"):
        Engine.from_index(built, embedder=OtherModel())


def test_other_dimension_is_refused(built):
    class Wider(HashEmbedder):
        dim = 128

    with pytest.raises(IndexMismatchError, match="dim 64"):
        Engine.from_index(built, embedder=Wider())


def test_other_format_version_is_refused(built):
    manifest = folder.live_generation(built) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["format_version"] = 99
    manifest.write_text(json.dumps(data))
    with pytest.raises(IndexMismatchError, match="format version 99.*--rebuild"):
        PassageIndex.load(built)


def test_truncated_file_is_detected(built):
    [segment] = json.loads((folder.live_generation(built) / "manifest.json").read_text())["segments"]
    passages = folder.live_generation(built) / segment["name"] / "passages.jsonl"
    passages.write_text(passages.read_text()[:-20])
    with pytest.raises(IndexCorruptError, match="passages.jsonl"):
        PassageIndex.load(built)


def test_settings_change_re_embeds_everything(tmp_path, articles_dir, embedder, settings):
    index_paths([articles_dir], tmp_path / "ix", embedder=embedder, settings=settings)
    smaller = IndexSettings(model=settings.model, dim=settings.dim, passage_tokens=20)
    again = HashEmbedder()
    report = index_paths([articles_dir], tmp_path / "ix", embedder=again, settings=smaller).report
    assert report.embedded == report.passages == again.texts_embedded


def test_missing_index_and_empty_folder(tmp_path, embedder, settings):
    with pytest.raises(IndexNotFoundError, match="qa index"):
        PassageIndex.load(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NoArticlesError, match="supported files"):
        index_paths([tmp_path / "empty"], tmp_path / "ix", embedder=embedder, settings=settings)


def test_sources_are_remembered(built, embedder, settings, articles_dir):
    report = index_paths([], built, embedder=embedder, settings=settings).report
    assert report.unchanged == 6 and report.removed == 0
    sources = [str(articles_dir.resolve()), str((built / "uploads").resolve())]
    assert PassageIndex.load(built).manifest["sources"] == sources
