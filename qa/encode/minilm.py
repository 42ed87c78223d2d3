"""A NumPy forward pass of the packaged all-MiniLM-L6-v2, for questions.

Importing sentence-transformers (and with it torch and transformers) takes 5-10 s;
a question is a dozen word pieces, for which six small BERT layers in NumPy take a
few milliseconds. So a new process (`qa ask`, the chat's first answer) encodes
questions here, and only indexing loads torch. Same weights, same tokenizer, same
mean pooling: tests/test_real_model.py checks the vectors against
sentence-transformers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.text.tokens import packaged_model_dir, tokenizer_for


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Phi(x), with erf from Abramowitz-Stegun 7.1.26 (error < 1.5e-7)."""
    z = np.abs(x) * (1.0 / math.sqrt(2.0))  # a Python float: an np.float64 would upcast to float64
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = np.sign(x) * (1.0 - poly * np.exp(-z * z))
    return 0.5 * x * (1.0 + erf)


class NumpyMiniLM:
    """Encode a few short texts to unit vectors without importing torch."""

    def __init__(self, model_dir: Path | None = None):
        from safetensors.numpy import load_file

        folder = Path(model_dir or packaged_model_dir())
        config = json.loads((folder / "config.json").read_text())
        self.heads, self.eps = config["num_attention_heads"], config["layer_norm_eps"]
        self.layers = config["num_hidden_layers"]
        self.max_tokens = 256  # the window sentence-transformers uses for this model
        weights = load_file(str(folder / "model.safetensors"))
        # Linear weights are stored (out, in); keeping them as contiguous (in, out) makes
        # x @ w a plain GEMM, a third faster than multiplying by a transposed view.
        self.w = {
            k: np.ascontiguousarray(
                v.T if k.endswith("dense.weight") or ".self." in k and k.endswith(".weight") else v,
                dtype=np.float32,
            )
            for k, v in weights.items()
        }
        self.tokenizer = tokenizer_for(folder)

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def _layer(self, x: np.ndarray, i: int) -> np.ndarray:
        p = f"encoder.layer.{i}"
        n, width = x.shape
        size = width // self.heads
        q, k, v = (
            self._linear(x, f"{p}.attention.self.{m}").reshape(n, self.heads, size).transpose(1, 0, 2)
            for m in ("query", "key", "value")
        )
        # math.sqrt, not np.sqrt: under NumPy 2 an np.float64 scalar turns float32 arrays into
        # float64, and every layer after the first attention ran in float64 at twice the cost
        scores = q @ k.transpose(0, 2, 1) * (1.0 / math.sqrt(size))
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        context = (scores / scores.sum(-1, keepdims=True)) @ v
        attended = self._linear(context.transpose(1, 0, 2).reshape(n, width), f"{p}.attention.output.dense")
        x = _layer_norm(
            x + attended,
            self.w[f"{p}.attention.output.LayerNorm.weight"],
            self.w[f"{p}.attention.output.LayerNorm.bias"],
            self.eps,
        )
        hidden = self._linear(_gelu(self._linear(x, f"{p}.intermediate.dense")), f"{p}.output.dense")
        return _layer_norm(
            x + hidden, self.w[f"{p}.output.LayerNorm.weight"], self.w[f"{p}.output.LayerNorm.bias"], self.eps
        )

    def encode_one(self, text: str) -> np.ndarray:
        ids = self.tokenizer.encode(text).ids[: self.max_tokens]
        ids = ids if ids[-1] == 102 else [*ids[:-1], 102]  # keep [SEP] last after the cut
        x = (
            self.w["embeddings.word_embeddings.weight"][ids]
            + self.w["embeddings.position_embeddings.weight"][: len(ids)]
            + self.w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(
            x, self.w["embeddings.LayerNorm.weight"], self.w["embeddings.LayerNorm.bias"], self.eps
        )
        for i in range(self.layers):
            x = self._layer(x, i)
        pooled = x.mean(axis=0)
        return (pooled / (np.linalg.norm(pooled) or 1.0)).astype(np.float32)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (len(texts), 384), rows L2-normalised."""
        return np.stack([self.encode_one(t) for t in texts]) if texts else np.zeros((0, 384), np.float32)
