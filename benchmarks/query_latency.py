"""Warm query latency on the largest dev index, by question encoder, interleaved (issue 11).

    python benchmarks/query_latency.py [--set scifact] [--questions 300] [--int8] [--write-docs]

The engine is loaded once and warmed, as in the chat. The index's backend (torch for the
dev indexes) encodes a question without loading torch, by NumPy or, when an earlier run
cached it, by the fp32 ONNX file (embed._question_encoder). Questions go to the two
encoders in turn, each asked once (never twice: see measure), so drift of the shared cores
hits both alike; encoding alone is timed for every question with both. Reported: p50/p95
of the whole `Engine.ask`, its CPU time (the process's, all threads: FAISS and ONNX Runtime
may use more than one, so it can exceed the wall time), and the time of encoding alone.

--int8 adds a third arm: the same questions asked of an onnx-int8 index of the same articles
(benchmarks/out/<set>/index-onnx-int8, built by default_backend.py build), whose questions are
encoded by its own int8 session, as a new default index's are; its encoding is timed alike.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

import bench

bench.on_path()
HEADING = "## Warm query latency by question encoder (issue 11)"
DOC = bench.DOCS / "benchmarks.md"


def encoders(model_dir: Path) -> dict[str, Any]:
    from qa.config import default_cache_dir
    from qa.encode.minilm import NumpyMiniLM
    from qa.encode.onnx_embed import cached_question_encoder
    from qa.encode.onnx_export import model_file

    model_file("onnx-fp32", model_dir, default_cache_dir())  # cached once, as a default build does
    return {"numpy": NumpyMiniLM(model_dir), "onnx-fp32": cached_question_encoder(model_dir)}


def int8_arm(folder: Path) -> tuple[Any, Any]:
    """The int8 index's engine and its question encoder (the engine's own embedder)."""
    from qa.encode.backends import default_embedder
    from qa.search.engine import Engine

    embedder = default_embedder("onnx-int8")

    class Encoder:  # the other arms' shape: encode(texts)
        encode = staticmethod(embedder.embed)

    return Engine.from_index(folder / "index-onnx-int8", embedder=embedder), Encoder()


def measure(set_name: str, limit: int, int8: bool = False) -> dict[str, Any]:
    from qa.encode.embedder import one_blas_thread
    from qa.search.engine import Engine

    folder = bench.OUT / set_name
    questions = [json.loads(line)["question"] for line in (folder / "questions.jsonl").open()][:limit]
    engine = Engine.from_index(folder / "index")
    few = encoders(engine.embedder.model_dir)  # type: ignore[attr-defined]
    engines = {name: engine for name in few}
    if int8:
        engines["onnx-int8 index"], few["onnx-int8 index"] = int8_arm(folder)
    for name in few:  # every arm warmed alike, as the chat is, by a question not measured
        if engines[name] is engine:
            engine.embedder._few_model = few[name]  # type: ignore[attr-defined]
        engines[name].ask("What does this collection say about warming up?")
    ask: dict[str, list[float]] = {name: [] for name in few}
    cpu: dict[str, list[float]] = {name: [] for name in few}
    encode: dict[str, list[float]] = {name: [] for name in few}
    load_before = bench.load_line()
    names = list(few)
    for i, question in enumerate(questions):
        for name in names:  # encoding alone: nothing is cached, so every encoder sees every question
            with one_blas_thread():
                started = time.perf_counter()
                few[name].encode([question])
                encode[name].append((time.perf_counter() - started) * 1000)
        # A question is asked once, by one encoder, alternating: a second ask of the same question
        # would find its sentences' terms cached (answer_type.terms_at) and take a third less.
        name = names[i % len(names)]
        if engines[name] is engine:
            engine.embedder._few_model = few[name]  # type: ignore[attr-defined]
        started, started_cpu = time.perf_counter(), time.process_time()
        engines[name].ask(question)
        ask[name].append((time.perf_counter() - started) * 1000)
        cpu[name].append((time.process_time() - started_cpu) * 1000)
    return {
        "set": set_name,
        "passages": len(engine.index.passages),
        "questions": len(questions),
        "ask": ask,
        "cpu": cpu,
        "encode": encode,
        "load": f"{load_before} before, {bench.load_line()} after",
        "machine": bench.machine_line(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "commit": bench.commit(),
    }


def section(result: dict[str, Any]) -> str:
    lines = [
        HEADING,
        "",
        f"`benchmarks/query_latency.py` on {result['machine']}, {result['date']}, commit "
        f"`{result['commit']}`, load {result['load']}. Warm `Engine.ask` (k=10) on the "
        f"{result['set']} index ({result['passages']:,} passages, torch backend), "
        f"{result['questions']} questions, each asked once, by the {len(result['ask'])} arms in turn"
        + (
            "; *onnx-int8 index*: the same articles indexed by the default backend, questions "
            "encoded by its int8 session."
            if "onnx-int8 index" in result["ask"]
            else "."
        ),
        "",
    ]
    rows = [
        [
            name,
            f"{statistics.median(times):.1f} ms",
            f"{statistics.quantiles(times, n=20)[-1]:.1f} ms",
            f"{statistics.median(result['cpu'][name]):.1f} ms",
            f"{statistics.median(result['encode'][name]):.1f} ms",
            "p50 < 50 ms",
        ]
        for name, times in result["ask"].items()
    ]
    head = ["question encoder", "ask p50", "ask p95", "CPU time of ask, p50", "encoding p50", "goal"]
    lines += bench.md_table(head, rows)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = bench.parser(__doc__)
    parser.add_argument("--set", default="scifact")
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--int8", action="store_true", help="add the onnx-int8 index's arm")
    args = parser.parse_args()
    result = measure(args.set, args.questions, args.int8)
    out = bench.OUT / "query-latency.json"
    out.write_text(json.dumps(result))
    text = section(result)
    print(text)
    if args.write_docs:
        bench.write_section(DOC, HEADING, text)


if __name__ == "__main__":
    main()
