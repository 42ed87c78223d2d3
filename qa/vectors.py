"""Vectors for an index build: reuse what is unchanged, embed only the rest.

Each passage gets one vector, and each of its sentences one more, pooled from the
same forward pass when the embedder can (see SentenceTransformerEmbedder.embed_passages).
A passage's vectors depend only on its embedding input and its sentence spans in it,
so embedding_key() of those two finds reusable rows whatever article they came from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np

from .embed import Embedder
from .passages import Passage

Progress = Callable[[int, int], None]  # (done, total) passages embedded
Reused = tuple[np.ndarray, np.ndarray]  # (passage vectors, sentence vectors) of the old rows, in plan order


def sentence_spans_in_input(p: Passage) -> list[tuple[int, int]]:
    """Sentence spans relative to p.embedding_input() (heading + newline + text)."""
    shift = len(p.heading) + 1 if p.heading else 0
    return [(a - p.start + shift, b - p.start + shift) for a, b in p.sentences]


def embedding_key(p: Passage) -> str:
    """Hash of everything the passage and sentence vectors are computed from."""
    spans = ",".join(f"{a}-{b}" for a, b in sentence_spans_in_input(p))
    return hashlib.sha256(f"{spans}\x1f{p.embedding_input()}".encode()).hexdigest()


def rows_by_key(passages: Sequence[Passage]) -> dict[str, int]:
    """embedding_key -> a row of `passages` with that key."""
    return {embedding_key(p): row for row, p in enumerate(passages)}


def embed_fresh(
    passages: Sequence[Passage], embedder: Embedder, progress: Progress | None
) -> tuple[np.ndarray, np.ndarray]:
    """(passage vectors, sentence vectors) for passages that need embedding."""
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        if progress:
            progress(done[0], len(passages))

    texts = [p.embedding_input() for p in passages]
    pooled = getattr(embedder, "embed_passages", None)
    if pooled is not None:
        return pooled(texts, [sentence_spans_in_input(p) for p in passages], progress=step)
    # An embedder without token access (the test fake): embed sentences on their own.
    vectors = embedder.embed(texts, progress=step)
    sentences = [p.text[a - p.start : b - p.start] for p in passages for a, b in p.sentences]
    sentence_vectors = embedder.embed(sentences) if sentences else np.zeros((0, embedder.dim), np.float32)
    return vectors, sentence_vectors


def assemble(
    plan: Sequence[tuple[Passage, int | None]],
    old: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    embedder: Embedder,
    progress: Progress | None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Vectors for every planned passage, in plan order; returns (passages, sentences, embedded).

    `old` is (passage vectors, sentence vectors, first sentence row per passage) of the
    previous index; a plan entry with a row number reuses that row.
    """
    fresh_rows = [i for i, (_, row) in enumerate(plan) if row is None]
    new_vecs, new_sents = embed_fresh([plan[i][0] for i in fresh_rows], embedder, progress)
    passages = np.zeros((len(plan), embedder.dim), dtype=np.float32)
    blocks: list[np.ndarray] = []
    fresh_at = {row: k for k, row in enumerate(fresh_rows)}
    fresh_sentence_starts = np.cumsum([0] + [len(plan[i][0].sentences) for i in fresh_rows])
    for i, (passage, row) in enumerate(plan):
        n = len(passage.sentences)
        if row is None:
            k = fresh_at[i]
            passages[i] = new_vecs[k]
            blocks.append(new_sents[fresh_sentence_starts[k] : fresh_sentence_starts[k] + n])
        else:
            assert old is not None
            passages[i] = old[0][row]
            blocks.append(np.asarray(old[1][old[2][row] : old[2][row] + n], dtype=np.float32))
    sentences = np.concatenate(blocks) if blocks else np.zeros((0, embedder.dim), np.float32)
    return passages, sentences, len(fresh_rows)
