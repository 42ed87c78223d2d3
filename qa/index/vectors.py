"""Vectors for an index build: reuse what is unchanged, embed only the rest.

Each passage gets one vector, and each of its sentences one more, pooled from the
same forward pass when the embedder can (see SentenceTransformerEmbedder.embed_passages).
A passage's vectors depend only on its embedding input and its sentence spans in it,
so embedding_key() of those two finds reusable rows whatever article they came from
(an index keeps 16 bytes of it per passage: key_bytes()).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from qa.encode.embedder import Embedder, Progress
from qa.text.passages import Passage


def sentence_spans_in_input(p: Passage) -> list[tuple[int, int]]:
    """Sentence spans relative to p.embedding_input() (heading + newline + text)."""
    shift = len(p.heading) + 1 if p.heading else 0
    return [(a - p.start + shift, b - p.start + shift) for a, b in p.sentences]


def embedding_key(p: Passage) -> str:
    """Hash of everything the passage and sentence vectors are computed from."""
    spans = ",".join(f"{a}-{b}" for a, b in sentence_spans_in_input(p))
    return hashlib.sha256(f"{spans}\x1f{p.embedding_input()}".encode()).hexdigest()


def key_bytes(p: Passage) -> bytes:
    """embedding_key as the 16 bytes an index stores per passage (segments.py keys.npy)."""
    return bytes.fromhex(embedding_key(p))[:16]


def embed_fresh(
    passages: Sequence[Passage], embedder: Embedder, progress: Progress | None
) -> tuple[np.ndarray, np.ndarray]:
    """(passage vectors, sentence vectors) for passages that need embedding; progress
    hears (passages done, len(passages))."""
    texts = [p.embedding_input() for p in passages]
    pooled = getattr(embedder, "embed_passages", None)
    if pooled is not None:
        return pooled(texts, [sentence_spans_in_input(p) for p in passages], progress=progress)
    # An embedder without token access (the test fake): embed sentences on their own.
    vectors = embedder.embed(texts, progress=progress)
    sentences = [p.text[a - p.start : b - p.start] for p in passages for a, b in p.sentences]
    sentence_vectors = embedder.embed(sentences) if sentences else np.zeros((0, embedder.dim), np.float32)
    return vectors, sentence_vectors


class Source(Protocol):
    """Where reused vectors come from: a previous segment (segments.Segment) or an older index."""

    def vectors(self, rows: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]: ...


def gather(
    passages: Sequence[Passage],
    reuse: np.ndarray,
    sources: Sequence[Source],
    embedder: Embedder,
    progress: Progress | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(passage vectors, sentence vectors) of a batch in order: rows with a reuse entry
    (source, row) are copied from that source, the others (source -1) embedded."""
    fresh = np.flatnonzero(reuse[:, 0] < 0)
    new_vectors, new_sentences = (
        embed_fresh([passages[int(i)] for i in fresh], embedder, progress) if len(fresh) else (None, None)
    )
    vectors = np.zeros((len(passages), embedder.dim), dtype=np.float32)
    blocks: list[np.ndarray] = [np.zeros((0, embedder.dim), np.float32)] * len(passages)
    starts = np.cumsum([0, *(len(passages[int(i)].sentences) for i in fresh)])
    for k, i in enumerate(fresh):
        vectors[i] = new_vectors[k]  # type: ignore[index]
        blocks[i] = new_sentences[starts[k] : starts[k + 1]]  # type: ignore[index]
    for source in np.unique(reuse[:, 0][reuse[:, 0] >= 0]):
        at = np.flatnonzero(reuse[:, 0] == source)
        copied, sentence_blocks = sources[int(source)].vectors(reuse[at, 1])
        vectors[at] = copied
        for i, block in zip(at, sentence_blocks, strict=True):
            blocks[i] = block
    return vectors, np.concatenate(blocks) if blocks else np.zeros((0, embedder.dim), np.float32)
