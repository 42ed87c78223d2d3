"""One Progress, (done, total), from every backend and from an index build.

The backends run here on stand-ins for their models (an ONNX session that returns
zeros, a sentence-transformers model that returns zeros): what is checked is the
counting, not the vectors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from qa.encode.onnx_embed import OnnxEmbedder
from qa.encode.torch_embed import SMALL_BATCH, SentenceTransformerEmbedder
from qa.index.build import index_paths

TEXTS = [f"passage {i} " + "word " * (i % 7) for i in range(11)]


def _heard() -> tuple[list[tuple[int, int]], Any]:
    calls: list[tuple[int, int]] = []
    return calls, lambda done, total: calls.append((done, total))


def _counts_up_to_the_total(calls: list[tuple[int, int]], total: int, batches: int) -> None:
    assert len(calls) == batches
    assert all(t == total for _, t in calls)
    assert [d for d, _ in calls] == sorted({d for d, _ in calls})  # strictly increasing
    assert calls[-1] == (total, total)


class _ZeroSession:
    """An onnxruntime session's `run`: zero token vectors of the fed shape."""

    def run(self, _: Any, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        rows, tokens = feed["input_ids"].shape
        return [np.zeros((rows, tokens, 384), np.float32)]


def test_onnx_backend_reports_done_of_total() -> None:
    embedder = OnnxEmbedder("onnx-int8", batch_size=4, workers=1, session=_ZeroSession())
    calls, progress = _heard()
    embedder.embed(TEXTS, progress)
    _counts_up_to_the_total(calls, len(TEXTS), batches=3)
    calls.clear()
    embedder.embed_passages(TEXTS, [[(0, 7)] for _ in TEXTS], progress)
    _counts_up_to_the_total(calls, len(TEXTS), batches=3)


class _ZeroModel:
    """A SentenceTransformer's `encode`: zero vectors."""

    def encode(self, texts: list[str], **_: Any) -> np.ndarray:
        return np.zeros((len(texts), 384), np.float32)


def test_torch_backend_reports_done_of_total(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert len(TEXTS) > SMALL_BATCH  # else the texts go to the question encoder, which reports nothing
    embedder = SentenceTransformerEmbedder(batch_size=1)  # 4 texts per encode call
    monkeypatch.setattr(embedder, "_load", lambda: _ZeroModel())
    calls, progress = _heard()
    embedder.embed(TEXTS, progress)
    _counts_up_to_the_total(calls, len(TEXTS), batches=3)


def test_an_index_build_reports_passages_done_of_total(tmp_path: Path, articles_dir: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    calls, progress = _heard()
    report = index_paths([articles_dir], tmp_path / "index", embedder=embedder, progress=progress).report
    assert calls and calls[-1] == (report.embedded, report.embedded)
    assert all(t == report.embedded for _, t in calls)
