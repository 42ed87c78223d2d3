"""Many users at once (issue 7): concurrent clients against the chat's API, on loopback only.

    .venv/bin/python benchmarks/load.py                     # 20 clients, 1,000 requests or 60 s
    .venv/bin/python benchmarks/load.py --index DIR --clients 20 --requests 1000 --seconds 60
    .venv/bin/python benchmarks/load.py --write-docs        # ... and (re)write our docs section

Starts `python app.py` in its own process on 127.0.0.1 (a free port), on the seed index
(built into benchmarks/out/load-index, gitignored) or --index. Then:

1. steady load: --clients threads, each with its own gradio_client Client, ask the seed
   questions back to back (three /ask for every /search) until --requests have been sent or
   --seconds have passed, whichever comes first. Every reply is checked: an /ask reply must
   be the answer to the question that was sent. Reported: requests, errors, latency p50/p95/max,
   throughput, the server's CPU seconds per request (robust on a shared machine), and the
   server's resident memory (RSS, read from /proc after every reply): first 100 replies vs last 100.
2. burst: every client submits --burst requests at once, more than the server answers at
   a time; the longest queue seen (Gradio's /queue/status, polled) shows they waited, and
   every one must be answered.

Linux only (/proc). Nothing leaves the machine: the server binds 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import threading
import time
from argparse import Namespace
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bench
from app_process import QueueWatch, Server

bench.on_path()
from qa.eval.metrics import percentile  # noqa: E402
from qa.search.options import DEFAULT_K  # noqa: E402

ROOT, OUT = bench.ROOT, bench.OUT
DOC = bench.DOCS / "reliability.md"
HEADING = "## Many users at once"
QUESTIONS = ROOT / "seeds" / "questions.jsonl"


@dataclass(frozen=True)
class Call:
    """One request as a client saw it, and the server's memory right after its reply."""

    number: int
    endpoint: str
    seconds: float
    error: str | None
    rss_mb: float


def seed_index(index: Path | None) -> Path:
    """--index, else the seed index under benchmarks/out (built the first time)."""
    if index is not None:
        return index
    from qa.index.build import ensure_index

    path = OUT / "load-index"
    ensure_index(path, [ROOT / "seeds"])
    return path


def request(client: Any, number: int, questions: list[str]) -> tuple[str, Callable[[], None]]:
    """The endpoint for request `number` and a call that raises unless the reply is right."""
    question = questions[number % len(questions)]
    if number % 4 == 3:

        def search() -> None:
            reply = client.predict(question, DEFAULT_K, api_name="/search")
            if reply["query"] != question or not reply["passages"]:
                raise AssertionError(f"/search reply for another query or empty: {str(reply)[:200]}")

        return "/search", search

    def ask() -> None:
        reply = client.predict(question, DEFAULT_K, api_name="/ask")
        if reply["question"] != question or "answer" not in reply:
            raise AssertionError(f"/ask reply is not the answer to {question!r}: {str(reply)[:200]}")

    return "/ask", ask


def steady(
    server: Server, clients: list[Any], limit: int, seconds: float, questions: list[str]
) -> list[Call]:
    """Every client asks back to back until `limit` requests are sent or `seconds` pass."""
    calls: list[Call] = []
    tickets = iter(range(limit))
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def run(client: Any) -> None:
        while time.monotonic() < deadline:
            with lock:
                number = next(tickets, None)
            if number is None:
                return
            endpoint, call = request(client, number, questions)
            started, error = time.perf_counter(), None
            try:
                call()
            except Exception as ex:  # an error is a result here, counted and shown
                error = f"{type(ex).__name__}: {ex}"[:300]
            elapsed = time.perf_counter() - started
            with lock:
                calls.append(Call(number, endpoint, elapsed, error, server.rss_mb()))

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return calls


def burst(clients: list[Any], per_client: int, questions: list[str]) -> dict[str, Any]:
    """Every client submits `per_client` /ask at once; all must be answered, each to its question."""
    started = time.perf_counter()
    jobs = [
        (q, c.submit(q, DEFAULT_K, api_name="/ask"))
        for i, c in enumerate(clients)
        for q in [questions[(i * per_client + j) % len(questions)] for j in range(per_client)]
    ]
    errors = []
    for question, job in jobs:
        try:
            if job.result(timeout=300)["question"] != question:
                errors.append(f"reply to another question than {question!r}")
        except Exception as ex:  # counted and shown, as in steady()
            errors.append(f"{type(ex).__name__}: {ex}"[:300])
    return {"sent": len(jobs), "errors": errors, "seconds": time.perf_counter() - started}


def summarise(calls: list[Call], seconds: float, cpu: float) -> dict[str, Any]:
    calls = sorted(calls, key=lambda c: c.number)
    times = [c.seconds for c in calls]
    first, last = [c.rss_mb for c in calls[:100]], [c.rss_mb for c in calls[-100:]]
    return {
        "requests": len(calls),
        "ask": sum(c.endpoint == "/ask" for c in calls),
        "errors": [c.error for c in calls if c.error],
        "p50": statistics.median(times),
        "p95": percentile(times, 95),
        "max": max(times),
        "seconds": seconds,
        "throughput": len(calls) / seconds,
        "cpu_ms": 1000 * cpu / len(calls),
        "rss_first": statistics.median(first),
        "rss_last": statistics.median(last),
        "rss_max": max(c.rss_mb for c in calls),
        "rss_by_100": [
            statistics.median(c.rss_mb for c in calls[i : i + 100]) for i in range(0, len(calls), 100)
        ],
    }


def run(args: Namespace) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    from gradio_client import Client

    from qa import serve

    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines() if line.strip()]
    with Server(seed_index(args.index), log=OUT / "load-server.log") as server:
        clients = [Client(server.url, verbose=False) for _ in range(args.clients)]
        clients[0].predict(questions[0], DEFAULT_K, api_name="/ask")  # waits for the model to load
        rss_start = server.rss_mb()
        warm = steady(server, clients, args.warmup, args.seconds, questions) if args.warmup else []
        cpu_start, started = server.cpu_seconds(), time.perf_counter()
        with QueueWatch(server) as watch:
            calls = steady(server, clients, args.requests, args.seconds, questions)
        elapsed = time.perf_counter() - started
        result = summarise(calls, elapsed, server.cpu_seconds() - cpu_start)
        stopped_by = "count" if len(calls) >= args.requests else "time"
        result.update(rss_start=rss_start, stopped_by=stopped_by, longest_queue=watch.longest)
        result.update(warmup=summarise(warm, 1.0, 0.0) if warm else None, load=bench.load_line())
        with QueueWatch(server) as watch:
            bursts = burst(clients, args.burst, questions)
        bursts["longest_queue"] = watch.longest
    setup = {"clients": args.clients, "workers": serve.WORKERS, "queue_size": serve.QUEUE_SIZE}
    return result, bursts, setup


def all_errors(result: dict[str, Any], bursts: dict[str, Any]) -> list[str]:
    warm = result["warmup"]["errors"] if result["warmup"] else []
    return [*warm, *result["errors"], *bursts["errors"]]


def warmup_rows(warm: dict[str, Any] | None) -> list[tuple[str, str]]:
    if warm is None:
        return []
    return [
        (f"Warm-up ({warm['requests']} requests, not measured): errors", str(len(warm["errors"]))),
        ("Warm-up: server RSS, median of each 100 replies in turn, MB", by_100(warm)),
    ]


def by_100(r: dict[str, Any]) -> str:
    return " ".join(f"{m:.0f}" for m in r["rss_by_100"])


def table(r: dict[str, Any], b: dict[str, Any]) -> list[str]:
    latency = f"{r['p50']:.2f} / {r['p95']:.2f} / {r['max']:.2f}"
    rss = f"{r['rss_first']:.0f} / {r['rss_last']:.0f}"
    answered = f"{b['sent'] - len(b['errors'])} / {len(b['errors'])}"
    rows = [
        ("Measured run: requests answered (3 `/ask` : 1 `/search`)", f"{r['requests']} ({r['ask']} `/ask`)"),
        ("Errors", str(len(r["errors"]))),
        ("Latency p50 / p95 / max, s (client side, queue wait included)", latency),
        (f"Run time, s (stopped by {r['stopped_by']})", f"{r['seconds']:.1f}"),
        ("Throughput, requests/s", f"{r['throughput']:.1f}"),
        ("Longest queue seen (requests waiting for a worker)", str(r["longest_queue"])),
        ("Server CPU per request, ms (user+system)", f"{r['cpu_ms']:.0f}"),
        ("Server RSS, median over the first 100 replies / the last 100, MB", rss),
        ("Server RSS, median of each 100 replies in turn, MB", by_100(r)),
        ("Server RSS, highest seen, MB", f"{r['rss_max']:.0f}"),
        ("Before the run: server RSS once the model loaded, MB", f"{r['rss_start']:.0f}"),
        *warmup_rows(r["warmup"]),
        (f"Burst: {b['sent']} `/ask` submitted at once, answered / errors", answered),
        ("Burst: longest queue seen (requests waiting)", str(b["longest_queue"])),
        ("Burst: all answered after, s", f"{b['seconds']:.1f}"),
    ]
    return bench.md_table(["measure", "value"], rows, "lr")


def section(result: dict[str, Any], bursts: dict[str, Any], setup: dict[str, Any], note: str) -> str:
    lines = [
        HEADING,
        "",
        f"`benchmarks/load.py` on {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}; {note} (load average "
        f"{result['load']} over 1, 5 and 15 minutes at the end of the run). "
        f"Run as `benchmarks/load.py {' '.join(sys.argv[1:])}`. The chat (`python app.py`, its own "
        f"process, 127.0.0.1) served the seed index with the packaged all-MiniLM-L6-v2; "
        f"{setup['clients']} client threads in the benchmark's process, each with its own gradio_client "
        "`Client`, asked the 16 seed questions back to back. Every reply was checked to answer "
        "the question its client sent.",
        "",
        *table(result, bursts),
        "",
        f"The queue (`qa/serve.py`, passed to Gradio's `queue()` by app.py): {setup['workers']} requests "
        f"per endpoint are answered at once and up to {setup['queue_size']} more wait their turn in "
        "order, which is why latency is several times the CPU time of one answer. Past the queue's "
        'size a client is told at once that the queue is full ("Queue is full! Please try again.", '
        "`tests/test_serve.py`) "
        "rather than waiting minutes. Latencies and throughput depend on what else the machine ran; CPU per "
        "request and memory much less so.",
        "",
        "Memory: the server's RSS rises over its first few hundred requests under load and then "
        "levels off (Gradio's worker threads and the C allocator's per-thread arenas being created: "
        "with `MALLOC_ARENA_MAX=2` in the server's environment the rise was much smaller). "
        "So a warm-up is sent first, unmeasured, and the measured run's first and last 100 "
        "replies compare the steady state.",
        "",
        "Test: `tests/test_load.py` (real model, marked `model`) starts the app on the seed index, "
        "has 20 clients submit 40 `/ask` at once, and checks every reply equals the chat's "
        "answer to that question asked alone.",
    ]
    errors = all_errors(result, bursts)
    if errors:
        lines += ["", "Errors seen (first 5):", *[f"- `{e}`" for e in errors[:5]]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = bench.parser(__doc__)
    parser.add_argument("--index", type=Path, help="an existing index (default: the seed index)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=1000, help="stop after this many requests")
    parser.add_argument("--seconds", type=float, default=60, help="... or after this many seconds")
    parser.add_argument("--warmup", type=int, default=500, help="requests sent first, not measured")
    parser.add_argument("--burst", type=int, default=3, help="requests each client submits at once")
    parser.add_argument(
        "--note", default="shared machine: other jobs ran on the same cores", help="for the docs"
    )
    args = parser.parse_args()
    result, bursts, setup = run(args)
    text = section(result, bursts, setup, args.note)
    print(text)
    if args.write_docs:
        bench.write_section(DOC, HEADING, text)
        print(f"wrote {HEADING!r} into {DOC}")
    if all_errors(result, bursts):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
