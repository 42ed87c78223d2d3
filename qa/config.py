"""Settings that define an index, and where things live by default.

An index records its IndexSettings in its manifest; loading compares them, so a
change of model or splitter is detected instead of silently mixing vectors.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FORMAT_VERSION = 3  # the folder's layout; 3: segments (issue 16), and 2 is still read
PASSAGE_FORMAT = 2  # how passages are cut and keyed: a change re-embeds (IndexSettings)
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
INDEX_ENV = "QA_INDEX"
DEFAULT_INDEX_DIR = Path("index")
DEFAULT_SOURCES = (Path("seeds"),)
CACHE_ENV = "QA_CACHE_DIR"
# How passages and questions are encoded. Vectors of two backends differ slightly, so an
# index records its backend and is searched only with questions encoded the same way.
TORCH = "torch"  # also what an index from before backends were recorded was built with
BACKENDS = (TORCH, "onnx-fp32", "onnx-int8")
# For new indexes: the fastest backend that keeps torch's answers. onnx-int8 indexes 2.2x-2.7x
# torch's passages/s (a whole `qa index`, interleaved) and, asked every question of every dev
# set, stays within 0.005 of torch
# (SQuAD v1.1 AnswerRecall@5 -0.0016, cited sentence -0.0019 over 7,876 questions; the seed
# questions 14 of 14 alone and among every dev article; docs/benchmarks.md, issue 16).
# A 1,000-question sample had said -0.006; the whole sets settled it.
DEFAULT_BACKEND = "onnx-int8"


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """Everything that changes what gets embedded, so it must match on reload.

    max_tokens is the model's window (all-MiniLM-L6-v2: 256 word pieces,
    [CLS] and [SEP] included); passage_tokens is the target size of a passage,
    kept well under the window so that the title fits in front of it.
    """

    model: str = DEFAULT_MODEL
    dim: int = 384
    max_tokens: int = 256
    passage_tokens: int = 160
    overlap_sentences: int = 1
    format_version: int = PASSAGE_FORMAT

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexSettings:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


DENSE_KINDS = ("auto", "flat", "hnsw")


@dataclass(frozen=True, slots=True)
class DenseSettings:
    """Which FAISS index holds the passage vectors (the manifest records the choice).

    Not part of IndexSettings: changing it rebuilds the FAISS file but re-embeds nothing.
    "auto" searches exactly up to `exact_limit` passages and by HNSW graph above it,
    where an exact scan costs over 12 ms per query (docs/benchmarks.md, issue 6).
    """

    kind: str = "auto"  # one of DENSE_KINDS
    exact_limit: int = 100_000
    hnsw_m: int = 32  # graph links per vector: more is better recall, more memory
    ef_construction: int = 80
    ef_search: int = 512  # recall@10 >= 0.96 up to 1M vectors at about 2 ms (docs/benchmarks.md)
    graph_rows: int = 10_000  # in an HNSW index, a smaller segment is searched exactly (about 1 ms)


def default_index_dir() -> Path:
    """The index folder: $QA_INDEX if set, else ./index."""
    return Path(os.environ.get(INDEX_ENV) or DEFAULT_INDEX_DIR)


def default_cache_dir() -> Path:
    """Where exported models are kept: $QA_CACHE_DIR, else $XDG_CACHE_HOME/qa, else ~/.cache/qa."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qa"
