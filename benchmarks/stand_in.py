"""What the indexing benchmarks share: a fast stand-in encoder, a tiled corpus, and `qa index` in a child.

    python benchmarks/stand_in.py tile OUT --passages 1000000       # SciFact tiled into JSONL shards
    python benchmarks/stand_in.py index FOLDER... --index IX [options]   # the real CLI, stand-in model

The stand-in has the packaged model's shapes (384 dimensions, one vector per passage and per
sentence, unit length) at almost no cost, so a benchmark of the index path measures
everything but the model. With --replay INDEX it returns that index's real vectors (plus
Gaussian noise, sigma 0.02) for passages whose text it holds: tiled copies of SciFact then
cluster like real text, which graph search cares about. The corpus is SciFact's abstracts
repeated under new ids, each copy's title marked "(copy N)" so that no copy is an identical
story (qa stores those once), in JSONL shards under the 50 MB per-file limit.

synthesize() skips the texts' splitting and writes a tiled index directly from a built one
(for benchmarks/scaling.py's query latencies): real vectors plus noise, the library's own
segments, maintenance and manifest.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import bench
import numpy as np

ROOT = bench.ROOT
SCIFACT = bench.OUT / "scifact" / "articles.jsonl"
SHARD_ARTICLES = 20_000  # about 31 MB of JSONL
PASSAGES_PER_ARTICLE = 3.065  # SciFact: 15,887 passages from 5,183 abstracts
COPY = re.compile(r" \(copy \d+\)(?=\n)")
SIGMA = 0.02  # noise per dimension on replayed and tiled vectors: cosine about 0.93 to the original


class StandIn:
    """An Embedder with all-MiniLM-L6-v2's shapes and none of its cost (see the module docstring)."""

    name, dim, fingerprint, backend = "sentence-transformers/all-MiniLM-L6-v2", 384, "stand-in", "onnx-int8"

    def __init__(self, replay: str | None = None):
        self.rng = np.random.default_rng(0)
        self.known: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if replay:
            from qa.index.passage_index import PassageIndex

            index = PassageIndex.load(replay)
            vectors = index.vectors()
            for row, p in enumerate(index.passages):
                self.known[p.embedding_input()] = (
                    vectors[row],
                    index.sentence_vectors_of(row).astype(np.float16),
                )

    def _unit(self, rows: int, base: np.ndarray | None = None, sigma: float = SIGMA) -> np.ndarray:
        noise = self.rng.standard_normal((rows, self.dim), dtype=np.float32)
        out = noise if base is None else base.astype(np.float32) + sigma * noise
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def embed(self, texts: Sequence[str], progress: Any = None) -> np.ndarray:
        if progress:
            progress(len(texts), len(texts))
        return self._unit(len(texts))

    def embed_passages(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], progress: Any = None
    ):  # type: ignore[no-untyped-def]
        vectors, sentences = self._unit(len(texts)), []
        for i, (text, own) in enumerate(zip(texts, spans, strict=True)):
            found = self.known.get(COPY.sub("", text, count=1))
            if found is not None and len(found[1]) == len(own):
                vectors[i] = self._unit(1, found[0])[0]
                sentences.append(self._unit(len(own), found[1]))
            else:
                sentences.append(self._unit(len(own)))
        if progress:
            progress(len(texts), len(texts))
        return vectors, np.concatenate(sentences) if sentences else np.zeros((0, self.dim), np.float32)


def tile(out: Path, passages: int, source: Path = SCIFACT) -> int:
    """Write about `passages` passages' worth of tiled SciFact articles into out/*.jsonl; returns articles."""
    rows = [json.loads(line) for line in source.open(encoding="utf-8")]
    wanted = round(passages / PASSAGES_PER_ARTICLE)
    out.mkdir(parents=True, exist_ok=True)
    shard = None
    for n in range(wanted):
        if n % SHARD_ARTICLES == 0:
            shard = (out / f"shard-{n // SHARD_ARTICLES:03d}.jsonl").open("w", encoding="utf-8")
        copy, row = divmod(n, len(rows))
        record = dict(rows[row])
        if copy:
            record.update(id=f"{record['id']}~{copy}", title=f"{record['title']} (copy {copy})")
        shard.write(json.dumps(record, ensure_ascii=False) + "\n")  # type: ignore[union-attr]
        if n % SHARD_ARTICLES == SHARD_ARTICLES - 1 or n == wanted - 1:
            shard.close()  # type: ignore[union-attr]
    return wanted


def noisy(vectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = vectors.astype(np.float32) + rng.normal(0, SIGMA, vectors.shape).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def tiles(src: Any, size: int) -> Iterator[tuple[Any, list[Any], np.ndarray, np.ndarray]]:
    """(article, passages, passage vectors, sentence vectors) of copy after copy of `src`."""
    vectors, rng, written = src.vectors(), np.random.default_rng(size), 0
    by_article: dict[str, list[int]] = {}
    for row, p in enumerate(src.passages):
        by_article.setdefault(p.article_id, []).append(row)
    for copy in range(-(-size // len(src.passages))):
        tag = "" if copy == 0 else f"~{copy}"
        for aid, rows in by_article.items():
            if written >= size:
                return
            passages = [
                replace(src.passages[r], id=f"{aid}{tag}#{n}", article_id=aid + tag)
                for n, r in enumerate(rows)
            ]
            sentences = np.concatenate([src.sentence_vectors_of(r) for r in rows])
            own = (
                (vectors[rows], sentences)
                if copy == 0
                else (noisy(vectors[rows], rng), noisy(sentences, rng))
            )
            yield replace(src.articles[aid], id=aid + tag), passages, *own
            written += len(rows)


def synthesize(size: int, base: Path, target: Path, **model: Any) -> dict[str, Any]:
    """Write an index of `size` passages tiled from the index at `base` with the library's own
    segments, maintenance and manifest; returns timings. `model` overrides the manifest's
    model record (fingerprint="stand-in" and backend=StandIn.backend: an index the stand-in may add to)."""
    from qa.index import folder
    from qa.index.generation import build_manifest, write_generation
    from qa.index.maintenance import Part, maintain, new_segment_name
    from qa.index.passage_index import PassageIndex
    from qa.index.segments import Segment, SegmentTexts, SegmentVectors
    from qa.index.update import SEGMENT_ROWS
    from qa.index.vectors import key_bytes

    started, src = time.perf_counter(), PassageIndex.load(base)
    shutil.rmtree(target, ignore_errors=True)
    building, parts = folder.new_generation(target), []
    stream = tiles(src, size)
    while True:
        texts, out, batch = SegmentTexts(building / new_segment_name()), None, []
        out = SegmentVectors(texts.folder, src.dense.d)
        for article, passages, vectors, sentences in stream:
            texts.add(article, passages, [key_bytes(p) for p in passages], [None] * len(passages))
            batch.append((passages, vectors, sentences))
            if sum(len(b[0]) for b in batch) >= 2048 or texts.rows >= SEGMENT_ROWS:
                out.add(
                    [p for b in batch for p in b[0]], *(np.concatenate([b[i] for b in batch]) for i in (1, 2))
                )
                batch = []
            if texts.rows >= SEGMENT_ROWS:
                break
        if batch:
            out.add(
                [p for b in batch for p in b[0]], *(np.concatenate([b[i] for b in batch]) for i in (1, 2))
            )
        texts.close()
        out.close()
        parts.append(Part(Segment(texts.folder), new=True))
        if texts.rows < SEGMENT_ROWS:
            break
    prepared = time.perf_counter()
    from qa.config import DenseSettings
    from qa.index import dense

    choice = dense.choose(sum(p.rows for p in parts), DenseSettings())
    parts = maintain(parts, choice, src.dense.d, SEGMENT_ROWS)
    m = src.manifest
    recorded = {"name": m["model"], "fingerprint": m["model_fingerprint"], "dim": m["dim"]}
    model = SimpleNamespace(**{**recorded, "backend": m.get("backend"), **model})
    manifest = build_manifest(parts, model, src.settings, ["synthetic"], choice, started)  # type: ignore[arg-type]
    write_generation(target, building, manifest, None)
    return {"prepare_s": prepared - started, "write_s": time.perf_counter() - prepared}


def memory_mb(field: str, pid: str = "self") -> float:
    """One memory figure from /proc/<pid>/status (VmHWM: peak resident set), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_qa_index(args: list[str], replay: str | None = None) -> dict[str, Any]:
    """`qa index ARGS` in a child process with the stand-in model; its wall, CPU and peak memory."""
    import subprocess

    command = [sys.executable, str(Path(__file__).resolve()), "index", *args]
    if replay:
        command += ["--replay", replay]
    started, before = time.perf_counter(), os.times()
    child = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    after = os.times()
    if child.returncode:
        raise SystemExit(f"qa index {' '.join(args)} failed:\n{child.stderr[-3000:]}")
    *_, report, measured = child.stdout.strip().splitlines()
    return {
        "report": json.loads(report),
        **json.loads(measured),
        "wall_s": time.perf_counter() - started,
        "cpu_s": after.children_user + after.children_system - before.children_user - before.children_system,
    }


def _sample_memory(timeline: list[tuple[int, int]], started: float, every: float = 5.0) -> None:
    """Append (seconds since start, resident MB) every few seconds from a daemon thread."""
    import threading

    def sample() -> None:
        while True:
            timeline.append((round(time.perf_counter() - started), round(memory_mb("VmRSS"))))
            time.sleep(every)

    threading.Thread(target=sample, daemon=True).start()


def _child(argv: list[str]) -> None:
    """The child of run_qa_index: the real CLI, the stand-in model; prints the report and VmHWM."""
    import resource

    import qa.encode.backends
    from qa.cli.main import cli

    replay = None
    if "--replay" in argv:
        at = argv.index("--replay")
        replay, argv = argv[at + 1], argv[:at] + argv[at + 2 :]
    stand_in = StandIn(replay)
    qa.encode.backends.default_embedder = lambda backend="onnx-int8", device=None: stand_in  # type: ignore[assignment]
    started = time.perf_counter()
    timeline: list[tuple[int, int]] = []  # (seconds, MB resident): where in the run the peak falls
    _sample_memory(timeline, started)
    try:
        cli(["index", *argv, "--json"], standalone_mode=False)
    finally:
        workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            json.dumps(
                {
                    "seconds": time.perf_counter() - started,
                    "peak_rss_mb": memory_mb("VmHWM"),
                    "worker_peak_rss_mb": workers,
                    "rss_timeline": timeline,
                }
            )
        )


if __name__ == "__main__":
    bench.on_path()
    if sys.argv[1:2] == ["tile"]:
        print(tile(Path(sys.argv[2]), int(sys.argv[sys.argv.index("--passages") + 1])), "articles")
    elif sys.argv[1:2] == ["index"]:
        _child(sys.argv[2:])
