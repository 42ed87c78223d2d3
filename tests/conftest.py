"""Shared fixtures: a fast fake embedder, the tiny article set, built indexes."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings as hypothesis_settings

from qa.config import IndexSettings
from qa.index.build import index_paths
from qa.search.engine import Engine

# Property tests draw the same examples on every run, so a run of CI fails only on a change,
# never on the luck of the draw (a random draw once failed CI on a pysbd bug: now an @example).
# QA_HYPOTHESIS=explore draws new examples each run, to look for more.
hypothesis_settings.register_profile("stable", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("QA_HYPOTHESIS", "stable"))

DATA = Path(__file__).parent / "data"
ARTICLES = DATA / "articles"
ROOT = Path(__file__).parent.parent


class HashEmbedder:
    """Deterministic stand-in for the model: a bag of hashed lower-cased words, L2-normalised.

    Texts that share words get similar vectors, which is enough to test plumbing.
    """

    name = "test/hash-embedder"
    dim = 64
    fingerprint = "hash-v1"

    def __init__(self, backend: str = "torch", device: str | None = None) -> None:  # stands in for default_embedder
        self.calls = 0
        self.texts_embedded = 0

    def embed(self, texts: Sequence[str], progress=None) -> np.ndarray:  # type: ignore[no-untyped-def]
        self.calls += 1
        self.texts_embedded += len(texts)
        out = self._vectors(texts)
        if progress:
            progress(len(texts), len(texts))
        return out

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out /= np.where(norms == 0, 1, norms)
        return out

    def embed_passages(self, texts, spans, progress=None):  # type: ignore[no-untyped-def]
        """Like the real model: one call gives passage and sentence vectors."""
        vectors = self.embed(texts, progress)
        pieces = [text[a:b] for text, row in zip(texts, spans) for a, b in row]
        sentences = self._vectors(pieces) if pieces else np.zeros((0, self.dim), np.float32)
        return vectors, sentences


def segment_file(root: Path, name: str) -> Path:
    """A file of the first segment of the index at `root` (its only one after a first build)."""
    import json

    from qa.index import folder as index_folder

    folder = index_folder.live_generation(root)
    first = json.loads((folder / "manifest.json").read_text())["segments"][0]["name"]
    return folder / first / name


@pytest.fixture
def embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture
def settings() -> IndexSettings:
    return IndexSettings(model=HashEmbedder.name, dim=HashEmbedder.dim)


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    """A private copy of the tiny article set, safe to edit."""
    target = tmp_path / "articles"
    shutil.copytree(ARTICLES, target)
    return target


@pytest.fixture
def built(tmp_path: Path, articles_dir: Path, embedder: HashEmbedder, settings: IndexSettings) -> Path:
    index_dir = tmp_path / "index"
    index_paths([articles_dir], index_dir, embedder=embedder, settings=settings)
    return index_dir


@pytest.fixture
def engine(built: Path, embedder: HashEmbedder) -> Engine:
    return Engine.from_index(built, embedder=embedder)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session's exported ONNX models go: exported once (about 20 s), not per test."""
    return tmp_path_factory.mktemp("qa-cache")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model_cache: Path) -> None:
    """No test reads or writes the developer's ./index or model cache."""
    monkeypatch.setenv("QA_INDEX", str(tmp_path / "default-index"))
    monkeypatch.delenv("QA_VECTOR_STORE", raising=False)
    monkeypatch.setenv("QA_CACHE_DIR", str(model_cache))
