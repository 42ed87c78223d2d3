"""Which backend encodes: the packaged model on torch or ONNX, loaded once per process.

default_embedder is the one way the library gets the real model (index builds, the engine,
uploads); tests patch it here. The backends themselves are torch_embed.py and onnx_embed.py.
"""

from __future__ import annotations

from functools import lru_cache

from qa.config import BACKENDS, DEFAULT_BACKEND, TORCH
from qa.errors import QAError

from . import devices
from .embedder import Embedder
from .torch_embed import SentenceTransformerEmbedder


def default_embedder(backend: str = DEFAULT_BACKEND, device: str | None = None) -> Embedder:
    """The packaged model run by `backend` (see config.BACKENDS) on `device` (devices.DEVICES;
    default: the CPU, or the GPU a "<backend>@cuda" index was recorded with); loaded once per process."""
    name, recorded_device = devices.split_backend(backend)
    if name not in BACKENDS:
        raise QAError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return _shared_embedder(name, devices.check_device(device or recorded_device))


@lru_cache(maxsize=2 * len(BACKENDS))
def _shared_embedder(backend: str, device: str) -> Embedder:
    if backend == TORCH:
        return SentenceTransformerEmbedder(device=device)
    from .onnx_embed import OnnxEmbedder  # same stage; imported late, as onnxruntime is optional

    return OnnxEmbedder(backend, device=device)
