"""The Embedder protocol, its one Progress callback, and helpers every backend shares.

An Embedder is anything with `name`, `dim`, `fingerprint` and `embed(texts)`; tests use a
fast fake, everything else the packaged all-MiniLM-L6-v2 on one of the backends (backends.py).
The helpers: weights_hash (the fingerprint), pool_spans and unit_rows (sentence pooling and
L2 rows), one_blas_thread, and backend_of (what an index records about the vectors).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.config import TORCH

from . import devices

# (done, total): how many of a call's texts are embedded so far, of how many. The one progress
# type of the library: the backends, an index build and `qa eval` (questions) all report so.
Progress = Callable[[int, int], None]


class Embedder(Protocol):
    name: str
    dim: int

    @property
    def fingerprint(self) -> str:
        """Identifies the exact weights; recorded in the manifest."""
        ...

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """float32 array of shape (len(texts), dim), rows L2-normalised; progress hears
        (texts done, len(texts)) after each batch."""
        ...


@lru_cache(maxsize=4)
def weights_hash(model_dir: str) -> str:
    """sha256 of the weight files, so a different build of the same model is noticed."""
    digest = hashlib.sha256()
    for file in sorted(Path(model_dir).glob("*.safetensors")) or sorted(Path(model_dir).glob("*.bin")):
        with file.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def _blas_controller():  # type: ignore[no-untyped-def]
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()  # finding the BLAS libraries takes ms: do it once


def one_blas_thread():  # type: ignore[no-untyped-def]
    return _blas_controller().limit(limits=1)


def pool_spans(
    tokens: np.ndarray,
    offsets: np.ndarray | Sequence[tuple[int, int]],
    spans: Sequence[tuple[int, int]],
    fallback: np.ndarray,
) -> np.ndarray:
    """Mean of token vectors whose characters fall inside each span (special tokens skipped).

    Real tokens come in text order, so the tokens inside a span are one run: two binary
    searches and a cumulative sum give every span's mean without a pass per span.
    """
    pairs = np.asarray(offsets).reshape(-1, 2)
    real = pairs[:, 1] > pairs[:, 0]  # [CLS], [SEP] and padding have empty offsets
    starts, ends, vectors = pairs[real, 0], pairs[real, 1], tokens[: len(pairs)][real]
    sums = np.concatenate([np.zeros((1, tokens.shape[1])), np.cumsum(vectors, axis=0, dtype=np.float64)])
    bounds = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    first = np.searchsorted(starts, bounds[:, 0], side="left")
    stop = np.searchsorted(ends, bounds[:, 1], side="right")
    count = np.maximum(stop - first, 0)
    means = (sums[np.maximum(stop, first)] - sums[first]) / np.maximum(count, 1)[:, None]
    # A span cut off by the window has no tokens: it gets the passage's vector.
    return np.where(count[:, None] > 0, means, fallback).astype(np.float32)


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)


def backend_of(embedder: Embedder) -> str:
    """The backend whose vectors an embedder makes, as an index records it (devices.recorded_backend);
    embedders that do not say (test fakes) are torch's on the CPU."""
    backend = str(getattr(embedder, "backend", TORCH))
    device = str(getattr(embedder, "device", "cpu"))
    return devices.recorded_backend(backend, device, getattr(embedder, "agreement", None))
