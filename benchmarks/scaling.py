"""How query cost, memory, disk and cold start grow with the corpus: 1k to 1M passages (issue 6).

    python benchmarks/scaling.py [--sizes 1000,10000,100000,1000000] [--write-docs]

Real corpora on hand stop at about 16k passages (SciFact), so bigger indexes are tiled from a
real built index (default: the SciFact index left by benchmarks/public_sets.py): copy c of
passage i has the same text under a new article id, and its passage and sentence vectors are
the real ones plus Gaussian noise (sigma 0.02 per dimension, cosine about 0.93 to the
original), renormalised. Texts are therefore repeated (BM25 sees each word c times more
often) and vectors are near-duplicates in clusters; dense search cost does not depend on
the values for exact search, and depends on them only mildly for graph/IVF search. The index
is written with the library's own segments (qa/index/segments.py, SEGMENT_ROWS per segment),
maintenance and `write_generation`, so file formats, FAISS type per segment and BM25
postings are exactly what `qa index` would produce for that many passages.

Each size is then opened in a fresh process (`--probe`), as `qa ask` would: load time, first
answer, peak RSS (getrusage), then warm questions (real SciFact claims) with each stage timed
by wrapping the library's stage functions: query encoding, dense search, BM25, fusion,
sentence evidence, total.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from argparse import SUPPRESS
from pathlib import Path
from typing import Any

import bench
from stand_in import memory_mb, synthesize

bench.on_path()
from qa.eval.metrics import percentile  # noqa: E402

ROOT = bench.ROOT
OUT = bench.OUT / "scaling"
BASE = bench.OUT / "scifact"
DOC = bench.DOCS / "scaling.md"
HEADING = "## How cost grows with the corpus"


def disk_bytes(folder: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for f in folder.rglob("*"):
        if f.is_file():
            key = "bm25/" if f.parent.name == "bm25" else f.name  # summed over segments
            sizes[key] = sizes.get(key, 0) + f.stat().st_size
    return sizes


class StageClock:
    """Wraps the library's stage functions and adds up their time per question."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, owner: Any, attr: str, stage: str) -> None:
        original = getattr(owner, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.spent[stage] = self.spent.get(stage, 0.0) + time.perf_counter() - t

        setattr(owner, attr, timed)

    def install(self, engine: Any) -> None:
        import qa.index.lexical
        import qa.search.engine
        import qa.search.retrieve

        self.wrap(engine.embedder, "embed", "query encoding")
        self.wrap(qa.search.retrieve, "dense_candidates", "dense search")
        self.wrap(qa.index.lexical.Bm25Index, "scores", "BM25")
        self.wrap(qa.search.retrieve, "lexical_candidates", "BM25")
        self.wrap(qa.search.retrieve, "fuse", "fusion")
        self.wrap(qa.search.retrieve, "cosine_of", "fusion")
        self.wrap(qa.search.engine, "sentence_evidence", "sentence evidence")


def probe(index_dir: str, questions: list[str]) -> None:
    """In a fresh process: cold start, peak memory, warm stage latencies; one JSON line out."""
    t0 = time.perf_counter()
    from qa import Engine

    engine = Engine.from_index(index_dir)
    loaded = time.perf_counter()
    rss_loaded = memory_mb("VmRSS")
    engine.ask(questions[0])
    first = time.perf_counter()
    clock = StageClock()
    clock.install(engine)
    rows: list[dict[str, float]] = []
    for q in questions[1:]:
        clock.spent = {}
        t = time.perf_counter()
        engine.ask(q)
        rows.append({**clock.spent, "total": time.perf_counter() - t})
    dense = engine.index.manifest.get("dense") or {"type": type(engine.index.dense).__name__}
    print(
        json.dumps(
            {
                "load_s": loaded - t0,
                "first_answer_s": first - t0,
                "rss_loaded_mb": rss_loaded,
                # VmHWM, not getrusage: ru_maxrss survives exec and would count the parent's
                # synthetic arrays (13.7 GB "peak" at 1M that this process never held).
                "peak_rss_mb": memory_mb("VmHWM"),
                "anon_mb": memory_mb("RssAnon"),
                "file_mb": memory_mb("RssFile"),
                "stages_ms": {k: [r.get(k, 0.0) * 1000 for r in rows] for k in STAGES},
                "dense": dense,
            }
        )
    )


STAGES = ["query encoding", "dense search", "BM25", "fusion", "sentence evidence", "total"]


def questions(base: Path, count: int) -> list[str]:
    rows = [json.loads(line) for line in (base / "questions.jsonl").open()]
    step = max(1, len(rows) // count)
    return [r["question"] for r in rows[::step][:count]]


def measure(size: int, base: Path, count: int, keep: bool) -> dict[str, Any]:
    target = OUT / str(size) / "index"
    built = synthesize(size, base / "index", target)
    print(f"{size:,}: written in {built['write_s']:.1f} s", flush=True)
    disk = disk_bytes(target)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--probe", str(target), "--base", str(base)]
    cmd += ["--queries", str(count)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode:
        raise SystemExit(f"probe failed for {size}:\n{proc.stderr[-3000:]}")
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    if not keep:
        shutil.rmtree(OUT / str(size), ignore_errors=True)
    return {"size": size, "build": built, "disk": disk, **found}


def pct(values: list[float], q: float) -> float:
    found = percentile(values, q)
    return float("nan") if found is None else found


HEAD = [
    "passages", "dense index", "p50 total", "p95 total", "encode p50", "dense p50", "BM25 p50", "fusion p50",
    "evidence p50", "load", "first answer", "peak RSS (heap / mapped index files at the end)", "on disk",
]  # fmt: skip


def cells(r: dict[str, Any]) -> list[str]:
    s = r["stages_ms"]
    return [
        f"{r['size']:,}", r["dense"].get("type", "?"), f"{pct(s['total'], 50):.0f} ms",
        f"{pct(s['total'], 95):.0f} ms", f"{pct(s['query encoding'], 50):.1f} ms",
        f"{pct(s['dense search'], 50):.1f} ms", f"{pct(s['BM25'], 50):.1f} ms",
        f"{pct(s['fusion'], 50):.1f} ms",
        f"{pct(s['sentence evidence'], 50):.1f} ms", f"{r['load_s']:.1f} s", f"{r['first_answer_s']:.1f} s",
        f"{r['peak_rss_mb']:,.0f} MB ({r['anon_mb']:,.0f} / {r['file_mb']:,.0f})",
        f"{sum(r['disk'].values()) / 1e6:,.0f} MB",
    ]  # fmt: skip


def report(results: list[dict[str, Any]], machine: dict[str, Any]) -> str:
    lines = [
        HEADING,
        "",
        f"Measured {machine['date']} by `benchmarks/scaling.py` on {machine['line']} "
        f"({machine['note']}). Indexes above the real "
        "SciFact size (15,887 passages) are tiled from it: real texts repeated, real vectors plus noise "
        "(see the script's docstring). Questions: real SciFact claims; warm latencies are per question, "
        "after one question has been answered.",
        "",
        *bench.md_table(HEAD, [cells(r) for r in results]),
        "",
        "Per 100k passages, marginal (growth over the smallest size, so the interpreter, libraries "
        "and model weights are not counted):",
        "",
    ]
    small, grown = results[0], []
    for r in results[1:]:
        per = 100_000 / (r["size"] - small["size"])
        grown_disk = sum(r["disk"].values()) - sum(small["disk"].values())
        top = sorted(r["disk"].items(), key=lambda kv: -kv[1])[:3]
        files = ", ".join(f"{k} {v / 1e6:,.0f} MB" for k, v in top)
        rss = f"{(r['peak_rss_mb'] - small['peak_rss_mb']) * per:,.0f} MB"
        grown.append([f"{r['size']:,}", rss, f"{grown_disk * per / 1e6:,.0f} MB", files])
    lines += bench.md_table(["passages", "RSS per 100k", "disk per 100k", "largest files"], grown)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = bench.parser(__doc__, note=True)
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--base", type=Path, default=BASE, help="folder with index/ and questions.jsonl")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the synthetic indexes")
    parser.add_argument("--probe", help=SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        probe(args.probe, questions(args.base, args.queries + 1))
        return
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        results.append(measure(size, args.base, args.queries, args.keep))
        r = results[-1]
        print(
            f"{size:,}: p50 {statistics.median(r['stages_ms']['total']):.0f} ms, load {r['load_s']:.1f} s, "
            f"peak {r['peak_rss_mb']:,.0f} MB",
            flush=True,
        )
    OUT.mkdir(parents=True, exist_ok=True)
    machine = {
        "date": time.strftime("%Y-%m-%d"),
        "line": bench.machine_line(),
        "note": args.note or f"load average {bench.load_line()} at the end",
    }
    (OUT / "scaling.json").write_text(json.dumps({"machine": machine, "results": results}, indent=1))
    section = report(results, machine)
    print(section)
    if args.write_docs:
        bench.write_section(DOC, HEADING, section, title="# Scaling")


if __name__ == "__main__":
    main()
