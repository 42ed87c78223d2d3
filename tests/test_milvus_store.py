"""Milvus Lite gives exactly the top-k of FAISS exact search, and is rebuilt only when the index changes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qa.encode.torch_embed import SentenceTransformerEmbedder
from qa.errors import VectorStoreError
from qa.index.build import index_paths
from qa.index.passage_index import PassageIndex
from qa.search.dense_store import FaissStore
from qa.search.engine import Engine
from qa.search.milvus_store import MilvusStore, collection_name, folder_prefix, open_store
from qa.search.options import SearchOptions

from .conftest import ROOT

QUESTIONS = [
    json.loads(line)["question"] for line in (ROOT / "seeds" / "questions.jsonl").read_text().splitlines()
]


def assert_same_top(faiss_result, milvus_result, tol: float = 1e-4) -> None:
    """Same rows and scores, query by query; rows may swap only where their scores tie."""
    (fs, fi), (ms, mi) = faiss_result, milvus_result
    assert fi.shape == mi.shape
    np.testing.assert_array_equal(fi >= 0, mi >= 0)
    np.testing.assert_allclose(ms[mi >= 0], fs[fi >= 0], atol=tol)
    for q in range(len(fi)):
        last = fs[q][fi[q] >= 0].min(initial=np.inf)
        clear_f = {int(r) for r, s in zip(fi[q], fs[q]) if r >= 0 and s > last + tol}
        clear_m = {int(r) for r, s in zip(mi[q], ms[q]) if r >= 0 and s > last + tol}
        assert clear_f == clear_m, f"query {q}: FAISS {fi[q]} vs Milvus {mi[q]}"


def test_fake_corpus_top10_equals_faiss(built, embedder, tmp_path):
    index = PassageIndex.load(built)
    milvus = MilvusStore.for_index(index, str(tmp_path / "m.db"))
    queries = np.concatenate([embedder.embed(QUESTIONS), index.vectors()[:5]])
    assert_same_top(FaissStore(index.dense).search(queries, 10), milvus.search(queries, 10))
    rows = np.arange(0, len(index.passages), 3, dtype=np.int64)  # a filtered search
    assert_same_top(FaissStore(index.dense).search(queries, 10, rows), milvus.search(queries, 10, rows))
    found = milvus.search(queries, 10, rows)[1]
    assert set(found[found >= 0].tolist()) <= set(rows.tolist())
    milvus.close()


def test_copy_is_reused_until_the_index_changes(
    built, embedder, settings, articles_dir, tmp_path, monkeypatch
):
    db = str(tmp_path / "m.db")
    first = PassageIndex.load(built)
    MilvusStore.for_index(first, db).close()

    def no_reload(self, vectors):  # type: ignore[no-untyped-def]
        raise AssertionError("the vectors were copied again for an unchanged index")

    with monkeypatch.context() as m:
        m.setattr(MilvusStore, "load", no_reload)
        MilvusStore.for_index(PassageIndex.load(built), db).close()
    (articles_dir / "new.txt").write_text(
        "Title: Ferry strike\n\nA ferry strike closed the harbour on Monday."
    )
    index_paths([articles_dir], built, embedder=embedder, settings=settings)
    second = PassageIndex.load(built)
    assert collection_name(second) != collection_name(first)
    store = MilvusStore.for_index(second, db)
    assert store.count() == len(second.passages)
    # the old copy stays while a running chat may still search it, until drop_stale
    assert sorted(store.client.list_collections()) == sorted([collection_name(first), collection_name(second)])
    store.drop_stale(folder_prefix(second))
    assert store.client.list_collections() == [collection_name(second)]
    store.close()


def test_engine_answers_the_same_through_milvus(built, embedder, tmp_path):
    faiss_engine = Engine.from_index(built, embedder=embedder, vector_store="faiss")
    milvus_engine = Engine.from_index(built, embedder=embedder, vector_store=f"milvus:{tmp_path / 'm.db'}")
    assert isinstance(milvus_engine.store, MilvusStore)
    for question in QUESTIONS[:5]:
        a = faiss_engine.search(question, SearchOptions(k=5, fusion="dense"))
        b = milvus_engine.search(question, SearchOptions(k=5, fusion="dense"))
        assert [h.row for h in a] == [h.row for h in b]
    milvus_engine.store.close()  # type: ignore[attr-defined]


def test_store_comes_from_the_environment_and_bad_specs_name_the_choices(built, monkeypatch, tmp_path):
    index = PassageIndex.load(built)
    assert isinstance(open_store(None, index), FaissStore)
    monkeypatch.setenv("QA_VECTOR_STORE", f"milvus:{tmp_path / 'env.db'}")
    store = open_store(None, index)
    assert isinstance(store, MilvusStore)
    store.close()
    with pytest.raises(VectorStoreError, match="milvus:http://host:19530"):
        open_store("qdrant:./x", index)
    with pytest.raises(VectorStoreError, match="1 to 16384"):
        MilvusStore(None, "x").search(np.zeros((1, 4), np.float32), 0)


@pytest.mark.model
def test_seed_corpus_real_model_top10_equals_faiss(tmp_path):
    embedder = SentenceTransformerEmbedder()
    index_paths([ROOT / "seeds"], tmp_path / "index", embedder=embedder)
    index = PassageIndex.load(tmp_path / "index")
    milvus = MilvusStore.for_index(index, str(tmp_path / "m.db"))
    queries = embedder.embed(QUESTIONS)
    assert_same_top(FaissStore(index.dense).search(queries, 10), milvus.search(queries, 10))
    milvus.close()


def test_an_unreachable_cluster_is_named_with_the_fix(built):
    with pytest.raises(VectorStoreError, match=r"http://127\.0\.0\.1:9 .*QA_MILVUS_TOKEN"):
        open_store("milvus:http://127.0.0.1:9", PassageIndex.load(built))
