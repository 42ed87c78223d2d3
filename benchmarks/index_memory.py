"""Peak memory of `qa index` as the archive grows: 100k against 1M passages (issue 16).

    python benchmarks/index_memory.py [--sizes 100000,1000000] [--keep] [--write-docs]

For each size, SciFact is tiled into JSONL shards (stand_in.tile) and indexed from scratch by
the real `qa index` command in a child process with the stand-in model (stand_in.py): same
reading, splitting (in worker processes, as `qa index` does), vector and sentence-vector
streams, BM25 postings, segments and HNSW graphs as with the packaged model, without its
cost. Measured: the child's VmHWM (peak resident set; the splitting workers are separate
processes and reported apart), wall and CPU time, passages, disk. The 1M index is kept
(--keep) for benchmarks/daily_additions.py.
"""

from __future__ import annotations

import json
import shutil
import time
from typing import Any

import bench
import stand_in

bench.on_path()
OUT = bench.OUT / "index-memory"
DOC = bench.DOCS / "scaling.md"
HEADING = "## Memory of `qa index` as the archive grows (issue 16)"


def measure(size: int, keep: bool, tag: str = "") -> dict[str, Any]:
    corpus, index = OUT / f"corpus-{size}", OUT / f"index-{size}{tag}"
    if not corpus.is_dir():
        stand_in.tile(corpus, size)
    shutil.rmtree(index, ignore_errors=True)
    before = bench.load_line()
    found = stand_in.run_qa_index([str(corpus), "--index", str(index)])
    disk = sum(f.stat().st_size for f in index.rglob("*") if f.is_file())
    if not keep:
        shutil.rmtree(index, ignore_errors=True)
    row = {
        "size": size,
        **found,
        "disk_mb": disk / 1e6,
        "load": f"{before} before, {bench.load_line()} after",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "commit": bench.commit(),
    }
    print(json.dumps(row), flush=True)
    return row


def peak_at(row: dict[str, Any]) -> str:
    """When the sampled resident memory was highest, as a share of the run (runs before the
    sampler existed say so)."""
    timeline = row.get("rss_timeline")
    if not timeline:
        return "not sampled"
    seconds, mb = max(timeline, key=lambda t: t[1])
    return f"{seconds / max(row['seconds'], 1):.0%} of the run ({mb:,} MB sampled)"


HEAD = [
    "passages", "articles", "peak RSS", "peak RSS of a splitting worker", "wall", "CPU (all processes)",
    "peak reached at", "on disk", "load (1, 5, 15 min)", "date, commit",
]  # fmt: skip


def cells(r: dict[str, Any]) -> list[str]:
    rep = r["report"]
    return [
        f"{rep['passages']:,}", f"{rep['articles']:,}", f"{r['peak_rss_mb']:,.0f} MB",
        f"{r['worker_peak_rss_mb']:,.0f} MB", f"{r['wall_s'] / 60:.0f} min", f"{r['cpu_s'] / 60:.0f} min",
        peak_at(r), f"{r['disk_mb']:,.0f} MB", r["load"], f"{r['date']}, `{r['commit']}`",
    ]  # fmt: skip


def section(rows: list[dict[str, Any]], machine: str) -> str:
    lines = [
        HEADING,
        "",
        f"`benchmarks/index_memory.py` on {machine}. A fresh `qa index` of SciFact tiled into JSONL shards "
        "(the real command, in a child process, with a stand-in model of the packaged model's shapes: "
        "benchmarks/stand_in.py). Peak memory is the command's VmHWM; the splitting workers are "
        "separate processes of their own, reported apart as the largest ru_maxrss of the command's "
        "children. A forked child starts with the command's pages mapped (shared, copy-on-write), so "
        "its resident set counts what it shares with the command and the two columns do not add "
        "up; a child forked late in a run (a splitting worker, or a helper process such as the "
        "library lookup of malloc_trim) can report close to the command's own figure, as at 1M.",
        "",
        *bench.md_table(HEAD, [cells(r) for r in rows]),
    ]
    if len(rows) < 2:
        lines += [
            "",
            "Only one size measured so far: the goal (1M passages under 6 GB and within 20 % of 100k) "
            "is not shown by this table.",
        ]
    if len(rows) >= 2:
        small, big = rows[0], rows[-1]
        growth = big["peak_rss_mb"] / small["peak_rss_mb"] - 1
        lines += [
            "",
            f"Peak memory at {big['report']['passages']:,} passages is {growth:+.0%} of the figure at "
            f"{small['report']['passages']:,} (goal: under 6 GB and within 20 %).",
        ]
    lines += ["", *HISTORY]
    return "\n".join(lines) + "\n"


HISTORY = [
    "Before 2026-11-29 04:00 (`8f7765e`) the same runs peaked at 499 MB (100k) and 681 MB (1M, +36 %). "
    "Measured since, piece by piece (dense.py, segments.py, ingest.py):",
    "",
    "- Turning a 100k-row segment into an HNSW graph (every segment of an index over 100k passages) "
    "took +480 MB over the process: the old flat file memory-mapped and read through (its 154 MB "
    "resident), FAISS's std::vectors doubling while rows were added in chunks (past 80k rows one "
    "chunk asked for 246 MB while the old 123 MB were copied), and a fresh 30 MB array per chunk that "
    "glibc kept. Now the old vectors are read (not mapped) into one reused 4,096-row buffer, the graph's "
    "room is made at once, and freed heap is handed back first: +210 MB measured with 20,000-row "
    "chunks (154 MB of vectors, 26 MB of links, the buffer).",
    "- The flat index a segment is written into grew the same way (to 201 MB of room for 100k rows, "
    "with the old 100 MB copied): room for the segment's rows is now made at once. This is what "
    "lowered the 100k figure.",
    "- Warnings while reading were kept in full: the tiled corpus reuses ids, so every copy earned an "
    "'id already used' warning (300k at 1M). Now 200 per level are listed and the rest counted.",
]


def main() -> None:
    parser = bench.parser(__doc__)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument(
        "--keep", action="store_true", help="keep the indexes (daily_additions.py uses the 1M one)"
    )
    parser.add_argument("--tag", default="", help="suffix of the index folders (a second run beside a first)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    saved = OUT / "results.json"
    rows = json.loads(saved.read_text()) if saved.is_file() else {}
    for size in (int(s) for s in args.sizes.split(",")):
        rows[str(size)] = measure(size, args.keep, args.tag)
        saved.write_text(json.dumps(rows, indent=1))
    text = section([rows[k] for k in sorted(rows, key=int)], bench.machine_line())
    print(text)
    if args.write_docs:
        bench.write_section(DOC, HEADING, text, title="# Scaling")


if __name__ == "__main__":
    main()
