"""Bulk embedding on a local Ray gives the single-process vectors, and `qa index` needs no Ray without --ray."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
import pytest

from qa.config import IndexSettings
from qa.encode.ray_embed import RayEmbedder, connect
from qa.encode.torch_embed import SentenceTransformerEmbedder
from qa.errors import QAError
from qa.index.build import index_paths
from qa.index.vectors import embed_fresh
from qa.text.ingest import load_articles
from qa.text.passages import split_article
from qa.text.tokens import model_token_counter

from .conftest import ROOT


def shuffled_seed_articles(folder, n: int = 12):  # type: ignore[no-untyped-def]
    """n articles of the seed article's paragraphs in n orders: ~45 passages of real news text."""
    header, title, *paragraphs = (ROOT / "seeds" / "000_e55bf5d3b8499c8c.txt").read_text().split("\n\n")
    folder.mkdir()
    for i in range(n):
        random.Random(i).shuffle(paragraphs)
        (folder / f"{i:02d}.txt").write_text("\n\n".join([header, f"{title} ({i})", *paragraphs]))
    return folder


@pytest.fixture
def stale_ray_cluster_file(monkeypatch):
    """The cluster file a killed Ray leaves behind, naming a Ray that is gone (as in /tmp/ray/)."""
    temp = Path(tempfile.mkdtemp(prefix="qa-ray-", dir="/tmp"))  # short: Ray's socket paths are limited
    (temp / "ray").mkdir()
    (temp / "ray" / "ray_current_cluster").write_text("127.0.0.1:6399\n")
    monkeypatch.setenv("RAY_TMPDIR", str(temp))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    yield temp
    shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.model
def test_ray_vectors_equal_single_process_vectors(tmp_path, monkeypatch, stale_ray_cluster_file):
    """`--ray` starts its own local Ray even when an earlier one left its cluster file behind
    (ray.init(address=None) would try to join that dead cluster)."""
    ray = pytest.importorskip("ray")
    articles = load_articles([shuffled_seed_articles(tmp_path / "articles")]).articles
    passages = [p for a in articles for p in split_article(a, IndexSettings(), model_token_counter())]
    monkeypatch.setattr("qa.encode.ray_embed.BLOCK_ROWS", 16)  # several blocks over both actors, out of order
    embedder = SentenceTransformerEmbedder()
    single = embed_fresh(passages, embedder, None)
    seen: list[int] = []
    try:
        with RayEmbedder(embedder, actors=2) as on_ray:
            done = embed_fresh(passages, on_ray, lambda n, total: seen.append(n))
            assert ray.is_initialized()  # kept for the whole run...
        assert not ray.is_initialized()  # ...and the Ray qa started is shut down at its end
    finally:
        ray.shutdown()
    assert len(passages) > 40 and seen[-1] == len(passages)
    assert done[0].shape == single[0].shape and done[1].shape == single[1].shape
    np.testing.assert_allclose(done[0], single[0], atol=1e-5)
    np.testing.assert_allclose(done[1], single[1], atol=1e-5)


def test_a_ray_the_caller_started_is_used_and_left_running(monkeypatch):
    calls = []
    fake = types.SimpleNamespace(is_initialized=lambda: True, init=lambda **kw: calls.append(kw))
    monkeypatch.setitem(sys.modules, "ray", fake)
    assert connect("local") == (fake, False) and calls == []
    fake.is_initialized = lambda: False
    assert connect("local") == (fake, True) and calls[0]["address"] == "local"


def test_one_ray_serves_a_whole_run(monkeypatch):
    """An index build embeds batch after batch: Ray is joined once and let go once."""
    events = []
    fake = types.SimpleNamespace(shutdown=lambda: events.append("shutdown"))
    monkeypatch.setattr("qa.encode.ray_embed.connect", lambda address: events.append("connect") or (fake, True))
    monkeypatch.setattr(RayEmbedder, "_run", lambda self, ray, texts, spans, progress: {
        i: (np.ones(384, np.float32), np.ones((len(s), 384), np.float32)) for i, s in enumerate(spans)
    })
    with RayEmbedder(SentenceTransformerEmbedder()) as on_ray:
        for _ in range(3):
            on_ray.embed_passages(["a text", "another"], [[(0, 1)], [(0, 2), (2, 4)]])
    assert events == ["connect", "shutdown"]


def test_ray_needs_the_packaged_model(tmp_path, articles_dir, embedder, settings):
    with pytest.raises(QAError, match="packaged model only"):
        index_paths([articles_dir], tmp_path / "ix", embedder=embedder, settings=settings, ray="local")


def test_indexing_without_ray_never_imports_it(tmp_path, articles_dir):
    code = (
        "import sys\n"
        "from tests.conftest import HashEmbedder\n"
        "from qa.config import IndexSettings\n"
        "from qa.index.build import index_paths\n"
        f"index_paths([{str(articles_dir)!r}], {str(tmp_path / 'ix')!r}, embedder=HashEmbedder(),\n"
        "            settings=IndexSettings(model=HashEmbedder.name, dim=HashEmbedder.dim))\n"
        "assert 'ray' not in sys.modules and 'pymilvus' not in sys.modules, 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
