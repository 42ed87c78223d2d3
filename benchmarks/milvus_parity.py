"""Milvus Lite against FAISS exact search on the dev corpora: top-10 agreement and latency. A script.

    .venv/bin/python benchmarks/milvus_parity.py                       # scifact and covid
    .venv/bin/python benchmarks/milvus_parity.py --corpus covid --limit 200

Reads the built indexes under benchmarks/out/<corpus>/index (read-only; built by
benchmarks/public_sets.py) and their questions.jsonl; the Milvus Lite file goes to
benchmarks/out/milvus/<corpus>.db (gitignored). For every question: the top 10 of
FAISS (IndexFlatIP) and of Milvus (FLAT, IP), compared as ordered lists, as sets, and
as sets up to ties (rows whose score equals the 10th score within 1e-4 may swap).
Latency is wall-clock per single-question search, the call Engine makes, with FAISS and
Milvus interleaved question by question so that load from other processes hits both alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import bench
import numpy as np

bench.on_path()
from qa.encode.torch_embed import SentenceTransformerEmbedder  # noqa: E402
from qa.eval.metrics import percentile  # noqa: E402
from qa.index.passage_index import PassageIndex  # noqa: E402
from qa.search.dense_store import FaissStore  # noqa: E402
from qa.search.milvus_store import MilvusStore  # noqa: E402

K = 10
TOL = 1e-4


def corpus_dir(name: str) -> Path:
    return bench.OUT / name


def agreement(f: tuple[np.ndarray, np.ndarray], m: tuple[np.ndarray, np.ndarray]) -> dict[str, float]:
    (fs, fi), (ms, mi) = f, m
    ordered = sets = tied = 0
    for q in range(len(fi)):
        ordered += fi[q].tolist() == mi[q].tolist()
        sets += set(fi[q].tolist()) == set(mi[q].tolist())
        last = fs[q].min()
        tied += {r for r, s in zip(fi[q], fs[q]) if s > last + TOL} == {
            r for r, s in zip(mi[q], ms[q]) if s > last + TOL
        }
    n = len(fi)
    return {
        "same_order": ordered / n,
        "same_rows": sets / n,
        "same_rows_up_to_ties": tied / n,
        "max_score_diff": float(np.abs(np.sort(fs, axis=1) - np.sort(ms, axis=1)).max()),
    }


def latency(faiss: FaissStore, milvus: MilvusStore, queries: np.ndarray) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"faiss": [], "milvus": []}
    for q in queries:
        for name, store in (("faiss", faiss), ("milvus", milvus)):
            started = time.perf_counter()
            store.search(q.reshape(1, -1), K)
            times[name].append((time.perf_counter() - started) * 1000)
    return times


def run(name: str, limit: int | None, embedder: SentenceTransformerEmbedder) -> dict[str, object]:
    folder = corpus_dir(name)
    index = PassageIndex.load(folder / "index")
    questions = [json.loads(line)["question"] for line in (folder / "questions.jsonl").open()][:limit]
    queries = embedder.embed(questions)
    db = bench.OUT / "milvus" / f"{name}.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    if db.exists():
        db.unlink()  # time a fresh copy
    started = time.perf_counter()
    milvus = MilvusStore.for_index(index, str(db))
    copy_s = time.perf_counter() - started
    faiss = FaissStore(index.dense)
    result = agreement(faiss.search(queries, K), milvus.search(queries, K))
    times = latency(faiss, milvus, queries)
    started = time.perf_counter()
    MilvusStore.for_index(index, str(db)).close()  # a second open reuses the copy
    reopen_s = time.perf_counter() - started
    milvus.close()
    row: dict[str, object] = {"corpus": name, "passages": len(index.passages), "questions": len(questions)}
    row.update(result)
    row.update({"copy_s": round(copy_s, 2), "reopen_s": round(reopen_s, 2)})
    for store, values in times.items():
        row[f"{store}_median_ms"] = round(statistics.median(values), 3)
        row[f"{store}_p95_ms"] = round(percentile(values, 95) or 0.0, 3)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append", help="scifact, covid (repeatable; default both)")
    parser.add_argument("--limit", type=int, help="Only the first N questions of each corpus")
    args = parser.parse_args()
    embedder = SentenceTransformerEmbedder()
    for name in args.corpus or ["scifact", "covid"]:
        print(json.dumps(run(name, args.limit, embedder)), flush=True)


if __name__ == "__main__":
    main()
