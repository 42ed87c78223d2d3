"""all-MiniLM-L6-v2 on ONNX Runtime, fp32 or int8 (the default backend for new indexes).

onnxruntime and onnx are ordinary dependencies. The first use exports the packaged weights
with torch.onnx (the TorchScript exporter, which needs nothing else), fuses attention
with onnxruntime's BERT optimizer and, for int8, quantises the weights dynamically. The
files are cached under default_cache_dir()/onnx/<weights hash>-r<recipe>/, written atomically,
so later processes only load them and never import torch. Nothing is downloaded.

Tokenizer, mean pooling and sentence pooling (pool_spans) are those of the torch
backend; only the arithmetic differs. int8 vectors are close to torch's but not equal,
so an index records its backend and is only searched with questions encoded the same way.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import DEFAULT_MODEL, default_cache_dir
from qa.errors import QAError
from qa.text.tokens import packaged_model_dir

from . import devices
from .embedder import Progress, pool_spans, unit_rows, weights_hash
from .onnx_export import FILES, cache_folder, import_onnxruntime, model_file

log = logging.getLogger(__name__)


MAX_TOKENS = 256  # the window sentence-transformers uses for this model


ATTENTION_BUDGET = 8 * 128 * 128  # rows x tokens² per forward pass (see rows_per_pass)


class OnnxEmbedder:
    """The packaged model run by ONNX Runtime; `backend` is "onnx-fp32" or "onnx-int8"."""

    dim = 384

    def __init__(
        self,
        backend: str = "onnx-int8",
        model_dir: Path | None = None,
        cache_dir: Path | None = None,
        batch_size: int = 32,
        threads: int = 1,
        workers: int = 0,
        session: Any = None,
        device: str = "cpu",
    ):
        """threads: ONNX Runtime's threads per batch; workers: batches run at once (0: one
        per core). One thread per batch and a batch per core embedded 16% more passages/s
        than one batch at a time on 2 threads (benchmarks/backends.py). session: an open
        onnxruntime session instead of the cached file (benchmarks compare variants).
        device: see devices.py; a GPU runs one batch at a time."""
        if backend not in FILES:
            raise QAError(f"unknown ONNX backend {backend!r}; choose one of {', '.join(FILES)}")
        self.backend, self.name, self.batch_size, self.threads = backend, DEFAULT_MODEL, batch_size, threads
        self.model_dir = Path(model_dir or packaged_model_dir())
        self.cache_dir = Path(cache_dir or default_cache_dir())
        self._session, self.workers = session, workers or os.cpu_count() or 1
        self.requested_device = devices.check_device(device)
        self._device: str | None = "cpu" if device == "cpu" or session is not None else None
        self.agreement: float | None = None  # probe cosine against the CPU, on a GPU (devices.py)
        self._lock = threading.Lock()

    @property
    def fingerprint(self) -> str:
        return weights_hash(str(self.model_dir))  # the same weights as torch's; `backend` tells them apart

    @property
    def device(self) -> str:
        """"cuda" or "cpu", settled on first use (see devices.py)."""
        if self._device is None:
            has_cuda = devices.CUDA_PROVIDER in import_onnxruntime().get_available_providers()
            missing = f"onnxruntime has no {devices.CUDA_PROVIDER} (`pip install onnxruntime-gpu`)"
            self._device = devices.gpu_device(self.requested_device, has_cuda, missing)
            twin = OnnxEmbedder(self.backend, self.model_dir, self.cache_dir, self.batch_size, self.threads)
            self._device, self.agreement = devices.settle(
                self.requested_device, self._device, lambda: devices.probe_agreement(self, twin)
            )
            if self._device == "cpu":
                self._session = None  # opened on the GPU by the probe
            else:
                self.workers = 1
        return self._device

    def prepare(self, notify: Callable[[str], None] | None = None) -> None:
        """Export the model now if it is not cached yet, saying so through `notify` (a first run's
        progress line: the export takes about 20 s, once)."""
        self._load(notify)

    def _load(self, notify: Callable[[str], None] | None = None) -> Any:
        providers = devices.onnx_providers(self.device)  # outside the lock: settling embeds a probe
        with self._lock:  # the chat encodes several questions at once; export and load once
            if self._session is None:
                path = model_file(self.backend, self.model_dir, self.cache_dir, notify)
                self._session = new_session(path, self.threads, providers=providers)
                log.info("loaded %s (%s) from %s on %s", self.name, self.backend, path, self.device)
            return self._session

    def _batches(self, texts: Sequence[str]) -> Iterator[tuple[list[int], list[Any], np.ndarray, np.ndarray]]:
        """(rows, encodings, token vectors, mask) per batch, shortest texts first.

        Sorting by length keeps padding small inside each batch. With workers > 1, that
        many batches run at once (ONNX Runtime releases the GIL), at most 2 per worker ahead.
        """
        session, tokenizer = self._load(), padded_tokenizer(str(self.model_dir))
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))

        def run(rows: list[int]) -> tuple[list[int], list[Any], np.ndarray, np.ndarray]:
            encodings = tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            step = rows_per_pass(len(rows), ids.shape[1])
            pieces = range(0, len(rows), step)
            feeds = [{"input_ids": ids[b : b + step], "attention_mask": mask[b : b + step]} for b in pieces]
            hidden = np.concatenate([session.run(None, feed)[0] for feed in feeds])
            return rows, encodings, hidden, mask

        batches = [order[b : b + self.batch_size] for b in range(0, len(order), self.batch_size)]
        if self.workers <= 1 or len(batches) == 1:
            yield from map(run, batches)
            return
        with ThreadPoolExecutor(self.workers) as pool:
            ahead: deque[Future[tuple[list[int], list[Any], np.ndarray, np.ndarray]]] = deque()
            for rows in batches:
                ahead.append(pool.submit(run, rows))
                if len(ahead) > 2 * self.workers:
                    yield ahead.popleft().result()
            while ahead:
                yield ahead.popleft().result()

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """float32 (len(texts), dim), rows L2-normalised."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        done = 0
        for rows, _, hidden, mask in self._batches(texts):
            out[rows] = mean_pool(hidden, mask)
            done += len(rows)
            if progress:
                progress(done, len(texts))
        return unit_rows(out)

    def embed_passages(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        progress: Progress | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Passage vectors and one vector per character span, from one forward pass.

        As SentenceTransformerEmbedder.embed_passages: a span's vector is the mean of the
        passage's token vectors inside it.
        """
        passages = np.zeros((len(texts), self.dim), dtype=np.float32)
        pooled: list[np.ndarray] = [np.zeros((0, self.dim), np.float32)] * len(texts)
        done = 0
        for rows, encodings, hidden, mask in self._batches(texts):
            means = mean_pool(hidden, mask)
            for j, (row, encoding) in enumerate(zip(rows, encodings, strict=True)):
                passages[row] = means[j]
                pooled[row] = pool_spans(hidden[j], encoding.offsets, spans[row], means[j])
            done += len(rows)
            if progress:
                progress(done, len(texts))
        flat = np.concatenate(pooled) if pooled else np.zeros((0, self.dim), np.float32)
        return unit_rows(passages), unit_rows(flat)


def rows_per_pass(rows: int, tokens: int) -> int:
    """Rows of a batch run in one forward pass. Attention holds rows x heads x tokens² scores,
    and ONNX Runtime keeps the largest working set it has seen, once per batch running at
    once: whole batches of 32 took a default build of SQuAD v2.0 to 666 MB. Within 8 x 128²
    (2 rows of 256 word pieces, 8 of 128, 32 of 64) 480 of its passages peaked at 283 MB
    against 530 MB, at the same CPU time (25.4 s against 24.6 s on shared cores)."""
    return max(1, min(rows, ATTENTION_BUDGET // max(tokens * tokens, 1)))


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The model's pooling: mean of the token vectors that are not padding."""
    weights = mask[:, :, None].astype(np.float32)
    return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


@lru_cache(maxsize=4)
def padded_tokenizer(model_dir: str):  # type: ignore[no-untyped-def]
    """The model's tokenizer cut at its window and padded to the longest text of a batch."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # tokenizer.json pads to a fixed 128
    return tokenizer


def new_session(
    path: Path,
    threads: int = 1,
    all_optimisations: bool = True,
    spin: bool = False,
    providers: Sequence[str] = ("CPUExecutionProvider",),
) -> Any:
    """An ONNX Runtime session running each call on `threads` threads (0: one per core),
    by default with every graph optimisation (else only the basic ones), on the CPU unless
    `providers` says otherwise.

    spin: idle worker threads busy-wait for work. On cores shared with other processes
    that burns the time the other thread needs: without it, int8 took 19% less CPU.
    """
    ort = import_onnxruntime()
    options = ort.SessionOptions()
    level = ort.GraphOptimizationLevel
    options.graph_optimization_level = level.ORT_ENABLE_ALL if all_optimisations else level.ORT_ENABLE_BASIC
    options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    return ort.InferenceSession(str(path), options, providers=list(providers))


class _QuestionSession:
    """The cached fp32 file on one thread, for the torch backend's questions (torch_embed.py)."""

    def __init__(self, embedder: OnnxEmbedder):
        self.embedder = embedder

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.embed(texts)


def question_encoder(model_dir: Path) -> Any:
    """What encodes a few questions as torch would, without torch: the fp32 ONNX session if its
    file is cached (never exported here: that takes 20 s and torch), else the NumPy forward
    pass; either has `encode(texts)`."""
    found = cached_question_encoder(model_dir)
    if found is not None:
        return found
    from .minilm import NumpyMiniLM  # only when there is no cached ONNX file

    return NumpyMiniLM(model_dir)


def cached_question_encoder(model_dir: Path, cache_dir: Path | None = None) -> _QuestionSession | None:
    """An encoder of torch's question vectors from the fp32 ONNX file, if an earlier run cached it
    (fp32 ONNX and torch agree to a cosine of 0.9999999), else None; onnxruntime failing to load
    the file is also None, so questions fall back to NumPy rather than fail."""
    path = cache_folder(model_dir, Path(cache_dir or default_cache_dir())) / FILES["onnx-fp32"]
    if not path.is_file():
        return None
    try:
        session = new_session(path, threads=1)
    except Exception as exc:  # a damaged cache file: NumPy gives the same vectors, slower
        log.warning("cannot load %s (%s); questions are encoded with NumPy", path, exc)
        return None
    return _QuestionSession(OnnxEmbedder("onnx-fp32", model_dir, cache_dir, workers=1, session=session))
