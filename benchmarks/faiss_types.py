"""Exact (IndexFlatIP) against HNSW (IndexHNSWFlat) search by corpus size (issue 6). A script, not a test.

    .venv/bin/python benchmarks/faiss_types.py                # measure, print the table
    .venv/bin/python benchmarks/faiss_types.py --write-docs   # ... and write our docs/benchmarks.md section

Vectors: REAL all-MiniLM-L6-v2 embeddings read from the indexes already built under
benchmarks/out/ (SciFact 15,887 passages; then every passage and sentence vector of SciFact,
COVID-QA, SQuAD v1.1 and v2.0 dev, about 107k). Above that, SYNTHETIC vectors: real vectors
drawn at random with Gaussian noise added and renormalised, so they stay near the real ones.
Queries: real questions of those sets, encoded here with the packaged model (SciFact questions
for SciFact, a mix for the rest).

Per size: recall@10 of HNSW against exact search (the top 10 of a depth-100 search, as
qa.search.retrieve asks for 100 dense candidates), and per-query latency of both, measured one query
at a time with exact and HNSW interleaved (A, B, A, B...) so that other work on the shared
machine disturbs both alike; HNSW build time; bytes on disk; resident memory after a plain
and a memory-mapped load (IO_FLAG_MMAP_IFC).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench
import numpy as np

bench.on_path()
from qa import layout  # noqa: E402
from qa.eval.metrics import percentile  # noqa: E402

BENCH_OUT = bench.OUT  # the dev sets' indexes, built by benchmarks/public_sets.py
DOC = bench.DOCS / "benchmarks.md"
HEADING = "## FAISS index type by size (issue 6)"
CORPORA = ("scifact", "covid", "squad1", "squad2")
DEPTH, K = 100, 10


def live(corpus: str) -> Path:
    root = BENCH_OUT / corpus / "index"
    return root / (root / layout.CURRENT).read_text().strip()


def passage_vectors(corpus: str) -> np.ndarray:
    import faiss

    index = faiss.read_index(str(live(corpus) / layout.DENSE_FILE))
    return index.reconstruct_n(0, index.ntotal)


def sentence_vectors(corpus: str) -> np.ndarray:
    vectors = np.load(live(corpus) / layout.SENTENCES_FILE).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def questions(corpus: str, n: int, seed: int = 0) -> list[str]:
    lines = (BENCH_OUT / corpus / "questions.jsonl").read_text().splitlines()
    rows = [json.loads(line)["question"] for line in lines if line.strip()]
    return random.Random(seed).sample(rows, min(n, len(rows)))


def encode(texts: list[str]) -> np.ndarray:
    from qa.encode.torch_embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder().embed(texts)


def synthetic(pool: np.ndarray, n: int, noise: float, seed: int = 0) -> np.ndarray:
    """n vectors near real ones: a random real vector plus noise, renormalised."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, pool.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        block = pool[rng.integers(0, len(pool), stop - start)]
        block = block + rng.standard_normal(block.shape, dtype=np.float32) * (noise / np.sqrt(pool.shape[1]))
        out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def measure(
    label: str, source: str, vectors: np.ndarray, queries: np.ndarray, ef: list[int]
) -> dict[str, Any]:
    """One row per efSearch: recall@10 and latency of HNSW against exact search."""
    from qa.config import DenseSettings
    from qa.index import dense

    flat = dense.build(vectors, dense.choose(len(vectors), DenseSettings(kind="flat")))
    truth = flat.search(queries, K)[1]
    choice = dense.choose(len(vectors), DenseSettings(kind="hnsw"))
    started, cpu = time.perf_counter(), time.process_time()
    hnsw = dense.build(vectors, choice)
    build_s, build_cpu = time.perf_counter() - started, time.process_time() - cpu
    files = write_both(flat, hnsw)
    flat_wall, flat_cpu = query_times(lambda q: dense.search(flat, q, DEPTH, None), queries)
    rows = []
    for e in ef:
        hnsw.hnsw.efSearch = e
        found: list[np.ndarray] = []
        hnsw_wall, hnsw_cpu = query_times(
            lambda q, out=found: out.append(dense.search(hnsw, q, DEPTH, None)[1][0][:K]), queries
        )
        hits = sum(len(set(f.tolist()) & set(w.tolist())) for f, w in zip(found, truth, strict=True))
        rows.append(
            {
                "label": label,
                "source": source,
                "n": len(vectors),
                "queries": len(queries),
                "ef_search": max(e, DEPTH),
                "recall": hits / (K * len(queries)),
                **{f"flat_{k}": v for k, v in {**stats(flat_wall, "wall"), **stats(flat_cpu, "cpu")}.items()},
                **{f"hnsw_{k}": v for k, v in {**stats(hnsw_wall, "wall"), **stats(hnsw_cpu, "cpu")}.items()},
                "build_s": round(build_s, 1),
                "build_cpu_s": round(build_cpu, 1),
                **files,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return {"rows": rows, "M": choice["M"], "ef_construction": choice["ef_construction"]}


def query_times(search: Any, queries: np.ndarray) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each one-query search, in one thread (as `qa ask` searches).

    CPU time (thread_time) is what the search costs; wall time adds the waits of a shared machine.
    """
    import faiss

    faiss.omp_set_num_threads(1)
    wall, cpu = [], []
    for q in queries:
        a, b = time.perf_counter(), time.thread_time()
        search(q)
        cpu.append(time.thread_time() - b)
        wall.append(time.perf_counter() - a)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    return wall, cpu


def stats(times: list[float], name: str) -> dict[str, float]:
    return {f"{name}_{p}": round(1000 * (percentile(times, p) or 0.0), 2) for p in (50, 95)}


def write_both(flat: Any, hnsw: Any) -> dict[str, float]:
    """MB on disk, and resident MB after loading each index plainly and memory-mapped.

    Each load runs in a new process: in this one, freed memory would be reused and hide the cost.
    """
    import faiss

    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(dir=bench.OUT) as tmp:
        for name, index in (("flat", flat), ("hnsw", hnsw)):
            path = str(Path(tmp) / f"{name}.faiss")
            faiss.write_index(index, path)
            out[f"{name}_mb"] = round(os.path.getsize(path) / 2**20, 1)
            for how, flag in (("read", "0"), ("mmap", "faiss.IO_FLAG_MMAP_IFC")):
                load = f"before = rss(); ix = faiss.read_index({path!r}, {flag}); print(rss() - before)"
                code = f"{RSS_PROBE}\n{load}"
                done = subprocess.run(
                    [sys.executable, "-c", code], capture_output=True, text=True, check=True
                )
                out[f"{name}_{how}_rss_mb"] = round(float(done.stdout), 1)
    return out


RSS_PROBE = """import re, faiss
def rss():
    return int(re.search(r"VmRSS:\\s*(\\d+)", open("/proc/self/status").read()).group(1)) / 1024"""


def section(results: list[dict[str, Any]], env: dict[str, Any], threshold: int) -> str:
    first = results[0]
    lines = [
        HEADING,
        "",
        f"Measured with `benchmarks/faiss_types.py` on {env['nproc']} cores ({env['cpu']}, "
        f"{env['ram_gib']} GiB), **shared with other work** (load average "
        f"{', '.join(f'{x:.1f}' for x in env['load'])} at the start). Latency is per query, one query",
        "at a time in one thread as `qa ask` searches: CPU ms (thread time, what the search costs)",
        "and wall ms (which adds the waits of the shared machine).",
        f"HNSW is `IndexHNSWFlat` (inner product), M={first['M']}, "
        f"efConstruction={first['ef_construction']};",
        f"each search asks for {DEPTH} candidates as `qa.search.retrieve` does,"
        f" so efSearch is at least {DEPTH};",
        f"recall@{K} is the share of exact search's top {K} found in HNSW's top {K}.",
        "Vectors up to 107k are **real** all-MiniLM-L6-v2 embeddings (passages, then passages and",
        "sentences, of SciFact, COVID-QA and SQuAD dev); larger sets are **synthetic**: real vectors",
        "with Gaussian noise, renormalised (at 1M about ten noisy copies of each real vector: near",
        "neighbours crowd closer than in real text, a hard case for recall@10). Queries are real",
        "questions of those sets, encoded by the model.",
        "",
        *bench.md_table(HEAD, [cells(r) for res in results for r in res["rows"]]),
    ]
    return "\n".join(lines + ["", *conclusions(results, threshold), ""])


def conclusions(results: list[dict[str, Any]], threshold: int) -> list[str]:
    """The threshold and the efSearch, argued from the rows just measured."""
    from qa.config import DenseSettings

    rows = [r for res in results for r in res["rows"]]
    real = max((r for r in rows if r["source"] == "real"), key=lambda r: r["n"])
    per_100k = real["flat_cpu_50"] / real["n"] * 100_000
    worst = {e: min(r["recall"] for r in rows if r["ef_search"] == e) for e in {r["ef_search"] for r in rows}}
    build = real["build_cpu_s"] / real["n"] * 1000
    exact = ", ".join(f"{r['flat_cpu_50']} ms at {r['n']:,}" for r in {r["n"]: r for r in rows}.values())
    slowest = max(rows, key=lambda r: r["hnsw_cpu_50"])
    return [
        f"Exact search reads every vector: CPU ms per query (p50) {exact}; the larger sets also",
        "pay for the memory traffic of the other work on the machine. HNSW: at most "
        f"{slowest['hnsw_cpu_50']} CPU ms (p50; {slowest['n']:,} vectors, efSearch {slowest['ef_search']}).",
        f"The threshold (`DenseSettings.exact_limit`, `qa index --dense-index auto`) is {threshold:,}",
        f"passages: there exact search costs about {per_100k * threshold / 100_000:.0f} ms, against 20-32 ms",
        "for a whole warm `Engine.ask` on a small index (issue 2), so the ask goal (p50 < 50 ms) still",
        "holds; above it exact search alone would soon exceed the goal. Below it, exact search costs",
        "little and keeps two advantages: no recall loss, and no graph to rebuild (HNSW takes about",
        f"{build:.2f} CPU s per 1,000 vectors to build, and qa rebuilds the graph on every re-index).",
        "Lowest recall@10 over all sizes: "
        + ", ".join(f"{worst[e]:.3f} at efSearch {e}" for e in sorted(worst))
        + f"; qa searches with efSearch {DenseSettings().ef_search}.",
        "Memory-mapped loading (`faiss.read_index(path, IO_FLAG_MMAP_IFC)`, what qa does) works for",
        "`IndexFlat` and the vector storage of `IndexHNSWFlat`: the vectors stay in the page cache,",
        "shared and evictable, and only the HNSW links are read into process memory. (`IO_FLAG_MMAP`",
        "maps only the inverted lists of IVF indexes; it does not help these two.)",
    ]


HEAD = [
    "vectors", "kind", "queries", "efSearch", "recall@10", "exact CPU ms p50 / p95", "HNSW CPU ms p50 / p95",
    "wall ms p50 exact / HNSW", "HNSW build s (CPU s)", "disk MB exact / HNSW", "RSS MB read / mmap, exact",
    "RSS MB read / mmap, HNSW",
]  # fmt: skip


def cells(r: dict[str, Any]) -> list[Any]:
    return [
        f"{r['n']:,} ({r['label']})",
        r["source"],
        r["queries"],
        r["ef_search"],
        f"{r['recall']:.3f}",
        f"{r['flat_cpu_50']} / {r['flat_cpu_95']}",
        f"{r['hnsw_cpu_50']} / {r['hnsw_cpu_95']}",
        f"{r['flat_wall_50']} / {r['hnsw_wall_50']}",
        f"{r['build_s']} ({r['build_cpu_s']})",
        f"{r['flat_mb']} / {r['hnsw_mb']}",
        f"{r['flat_read_rss_mb']} / {r['flat_mmap_rss_mb']}",
        f"{r['hnsw_read_rss_mb']} / {r['hnsw_mmap_rss_mb']}",
    ]


def main() -> None:
    parser = bench.parser(__doc__)
    parser.add_argument("--sizes", default="250000,500000,1000000", help="synthetic sizes, comma separated")
    parser.add_argument("--ef", default="128,256", help="efSearch values, comma separated")
    parser.add_argument("--noise", type=float, default=0.5, help="norm of the noise on synthetic vectors")
    parser.add_argument("--json", type=Path, default=bench.OUT / "faiss_types.json")
    parser.add_argument("--no-real", action="store_true", help="measure only the synthetic sizes")
    parser.add_argument("--from-json", action="store_true", help="rewrite the section from --json only")
    args = parser.parse_args()
    if args.from_json:
        saved = json.loads(args.json.read_text())
        report(saved["results"], saved["machine"], args.write_docs)
        return
    bench.OUT.mkdir(parents=True, exist_ok=True)
    ef = [int(e) for e in args.ef.split(",")]
    scifact_q = encode(questions("scifact", 300))
    mixed_q = np.concatenate([scifact_q, encode([q for c in CORPORA[1:] for q in questions(c, 100)])])
    scifact = passage_vectors("scifact")
    pool = np.concatenate([passage_vectors(c) for c in CORPORA] + [sentence_vectors(c) for c in CORPORA])
    env = bench.machine()
    real = [("SciFact passages", scifact, scifact_q), ("passages + sentences, 4 sets", pool, mixed_q)]
    results = [] if args.no_real else [measure(label, "real", v, q, ef) for label, v, q in real]
    for n in (int(s) for s in args.sizes.split(",") if s):
        results.append(measure("real + noise", "synthetic", synthetic(pool, n, args.noise), mixed_q, ef))
        args.json.write_text(json.dumps({"machine": env, "results": results}, indent=1))
    args.json.write_text(json.dumps({"machine": env, "results": results}, indent=1))
    report(results, env, args.write_docs)


def report(results: list[dict[str, Any]], env: dict[str, Any], write_docs: bool) -> None:
    from qa.config import DenseSettings

    text = section(results, env, DenseSettings().exact_limit)
    print(text)
    if write_docs:
        bench.write_section(DOC, HEADING, text)


if __name__ == "__main__":
    main()
