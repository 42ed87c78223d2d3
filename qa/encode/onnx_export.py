"""The first run's ONNX export and int8 quantisation, cached and written atomically.

model_file gives the cached file of a backend (onnx-fp32 or onnx-int8), exporting the packaged
weights with torch.onnx, fusing attention and quantising on first use (about 20 s, once per
weights hash and RECIPE). Only this module imports torch for ONNX; onnx_embed.py runs the files.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qa.errors import MissingDependencyError

from .embedder import weights_hash

log = logging.getLogger(__name__)


FILES = {"onnx-fp32": "model-fp32.onnx", "onnx-int8": "model-int8.onnx"}


RECIPE = 1  # bump when export or quantisation changes, so old cached files are not reused


def model_file(
    backend: str, model_dir: Path, cache_dir: Path, notify: Callable[[str], None] | None = None
) -> Path:
    """The cached ONNX file of `backend`, exported (and quantised) on first use; `notify` hears
    a line when that starts and when it is done."""
    folder = cache_folder(model_dir, cache_dir)
    target = folder / FILES[backend]
    if target.is_file():
        return target
    import_onnxruntime()  # fail before the slow export when onnxruntime is broken
    started = time.perf_counter()
    say = notify or log.info
    say(f"Preparing the {backend} model (first run only, about 20 s; cached in {folder})...")
    folder.mkdir(parents=True, exist_ok=True)
    fp32 = folder / FILES["onnx-fp32"]
    if not fp32.is_file():
        _write_atomically(fp32, lambda tmp: export_fp32(model_dir, tmp))
    if backend == "onnx-int8":
        _write_atomically(target, lambda tmp: quantize_int8(fp32, tmp))
    say(f"Prepared the {backend} model in {time.perf_counter() - started:.0f} s.")
    return target


def cache_folder(model_dir: Path, cache_dir: Path) -> Path:
    return cache_dir / "onnx" / f"{weights_hash(str(model_dir))}-r{RECIPE}"


def _write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    # Two processes may export at once: each writes its own file and the last rename wins.
    tmp = target.with_name(f".{target.stem}-{os.getpid()}-{uuid.uuid4().hex[:8]}.onnx")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def import_onnxruntime() -> Any:
    """The onnxruntime module, or an error that says how to get it (one wording for both uses)."""
    # onnxruntime 1.32 keeps a telemetry queue (a device id, process events) in
    # ~/.cache/Microsoft/DeveloperTools; qa runs offline and writes only where it is told to.
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    try:
        import onnxruntime
    except ImportError as ex:
        raise MissingDependencyError(
            "the ONNX backends need onnxruntime and onnx, which qa depends on; reinstall qa "
            "(`pip install -e .`) or index with `--backend torch`"
        ) from ex
    if hasattr(onnxruntime, "disable_telemetry_events"):
        onnxruntime.disable_telemetry_events()
    return onnxruntime


def export_fp32(model_dir: Path, target: Path, fuse: bool = True) -> None:
    """Trace the packaged BertModel (ids and mask in, token vectors out) to an ONNX file.

    fuse: let onnxruntime's BERT optimizer replace the traced attention and layer norms
    with its fused kernels (the quantiser then sees fewer, larger MatMuls).
    """
    import warnings

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are local; never ask a hub
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class TokenVectors(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert  # a submodule, so its weights are exported as weights

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            types = torch.zeros_like(input_ids)
            return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=types)[0]

    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]])
    names = ("input_ids", "attention_mask", "last_hidden_state")
    traced = target.with_suffix(".traced.onnx") if fuse else target
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and deprecation notes about the legacy exporter
        torch.onnx.export(
            TokenVectors(),
            (ids, (ids > 0).long()),
            str(traced),
            dynamo=False,
            input_names=list(names[:2]),
            output_names=list(names[2:]),
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in names},
            opset_version=17,
        )
    if fuse:
        try:
            fuse_attention(traced, target)
        finally:
            traced.unlink(missing_ok=True)


def fuse_attention(source: Path, target: Path) -> None:
    from onnxruntime.transformers.optimizer import optimize_model

    fused = optimize_model(str(source), model_type="bert", num_heads=12, hidden_size=384)
    fused.save_model_to_file(str(target))


def quantize_int8(source: Path, target: Path, per_channel: bool = True) -> None:
    """Weights of every MatMul and attention to int8; activations are quantised per batch.

    One scale per output channel (per_channel) keeps the cosine to torch at 0.994 on
    SciFact passages, against 0.945 with one scale per tensor. The embedding lookup stays
    fp32: quantising it saves no arithmetic.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet_root_logger():
        quantize_dynamic(
            source,
            target,
            weight_type=QuantType.QInt8,
            per_channel=per_channel,
            op_types_to_quantize=["MatMul", "Attention"],
            # Shape inference does not know the fused operators' output types; they are all fp32.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """The quantiser advises pre-processing through the root logger, which would also set up
    logging to stderr for the whole process: the library never prints."""
    root, null = logging.getLogger(), logging.NullHandler()
    advice = logging.Filter("no record passes")  # only records of a logger of that name would
    root.addHandler(null)
    root.addFilter(advice)
    try:
        yield
    finally:
        root.removeFilter(advice)
        root.removeHandler(null)
