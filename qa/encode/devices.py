"""Which hardware encodes passages (`qa index --device auto|cpu|cuda`), decided by small pure functions.

`auto` takes a GPU when the backend can use one: torch when `torch.cuda.is_available()`,
ONNX Runtime when its CUDA provider is installed (`pip install onnxruntime-gpu`), Ray actors
when the cluster has GPUs. Questions are always encoded on the CPU (a few short texts).

Vectors of one backend on a GPU and on the CPU differ by rounding. An index records the
device its passages were embedded on, and before a GPU run the same probe passages are
embedded on both: if every passage and sentence vector agrees within AGREEMENT (cosine), the
GPU's vectors are recorded as the backend's own (CPU questions may search them, CPU runs may
add to them). Otherwise `auto` embeds on the CPU instead, and an explicit `cuda` records them
as a distinct backend, "<backend>@cuda", which only questions encoded on that GPU search and
which a CPU run re-embeds rather than mixes. Ray actors on GPUs run the same probe and fall
back to their CPU when it fails, so a Ray run's vectors are always the backend's own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import numpy as np

from qa.errors import QAError

log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")
DEFAULT_DEVICE = "auto"
AGREEMENT = 1e-3  # largest 1 - cosine between GPU and CPU vectors still treated as the same
CUDA_PROVIDER = "CUDAExecutionProvider"
PROBE = (  # passages embedded on both devices before a GPU run; whole and first half pooled as sentences
    "Talks resume\nThe two delegations met in Geneva on Tuesday. No agreement was reached.",
    "Markets\nShares fell 3% after the central bank raised rates by a quarter point.",
    "x",
    'U.S. Gen. Tamm said: "No." ' * 60,
    "Café 🏗 Ωmega 北朝鮮: a storm closed the port for two days.",
)


def check_device(device: str) -> str:
    if device not in DEVICES:
        raise QAError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    return device


def gpu_device(requested: str, gpu_available: bool, runtime: str) -> str:
    """ "cuda" or "cpu": auto takes the GPU when `runtime` can use one; cuda insists on it."""
    check_device(requested)
    if requested == "cuda" and not gpu_available:
        raise QAError(f"--device cuda, but {runtime}; use --device cpu (or auto)")
    return "cuda" if requested == "cuda" or (requested == "auto" and gpu_available) else "cpu"


def settle(requested: str, device: str, agreement: Callable[[], float]) -> tuple[str, float | None]:
    """(device to embed on, its probe agreement with the CPU, None on the CPU).

    auto leaves a GPU whose vectors disagree with the CPU's for the CPU (the index then
    stays one backend); an explicit cuda keeps it, and the index records the GPU apart.
    """
    if device == "cpu":
        return "cpu", None
    found = agreement()
    if requested == "auto" and found < 1 - AGREEMENT:
        log.warning("GPU vectors differ from CPU ones (cosine %.5f); embedding on the CPU", found)
        return "cpu", None
    return device, found


def onnx_providers(device: str) -> list[str]:
    """ONNX Runtime execution providers for a settled device."""
    return [CUDA_PROVIDER, "CPUExecutionProvider"] if device == "cuda" else ["CPUExecutionProvider"]


def ray_gpus(requested: str, cluster: Mapping[str, float]) -> float:
    """GPUs each Ray actor asks for: one when the cluster has GPUs (and the CPU is not asked for)."""
    check_device(requested)
    gpus = float(cluster.get("GPU", 0))
    if requested == "cuda" and gpus < 1:
        raise QAError("--device cuda, but the Ray cluster has no GPU; use --device cpu or auto")
    return 1.0 if requested != "cpu" and gpus >= 1 else 0.0


def min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Smallest cosine between matching rows of two arrays of unit vectors (1.0 for none)."""
    if not len(a):
        return 1.0
    return float(np.min(np.sum(np.asarray(a, np.float64) * np.asarray(b, np.float64), axis=1)))


def recorded_backend(backend: str, device: str, agreement: float | None) -> str:
    """The backend an index records: the backend itself on the CPU, or on a GPU whose probe
    vectors agreed with the CPU's within AGREEMENT; else "<backend>@<device>", kept apart."""
    if device == "cpu" or (agreement is not None and agreement >= 1 - AGREEMENT):
        return backend
    return f"{backend}@{device}"


def split_backend(recorded: str) -> tuple[str, str]:
    """("onnx-int8", "cuda") from "onnx-int8@cuda"; a plain backend runs on "cpu" for questions."""
    backend, _, device = recorded.partition("@")
    return backend, device or "cpu"


def probe_agreement(on_device: object, on_cpu: object) -> float:
    """Smallest cosine, over the probe's passage and sentence vectors, between two embedders."""
    texts = list(PROBE)
    spans = [[(0, len(t)), (0, max(1, len(t) // 2))] for t in texts]
    gpu_vectors, gpu_sentences = on_device.embed_passages(texts, spans)  # type: ignore[attr-defined]
    cpu_vectors, cpu_sentences = on_cpu.embed_passages(texts, spans)  # type: ignore[attr-defined]
    return min(min_cosine(gpu_vectors, cpu_vectors), min_cosine(gpu_sentences, cpu_sentences))
