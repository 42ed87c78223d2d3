"""Embedding backends (issue 6): torch fp32 against ONNX Runtime fp32 and int8. A script.

    .venv/bin/python benchmarks/backends.py speed                 # passages/s, 768 passages, ~5 min
    .venv/bin/python benchmarks/backends.py speed --experiments   # also the variants tried on the way
    .venv/bin/python benchmarks/backends.py quality               # nDCG@10, SciFact train, all 809 queries
    .venv/bin/python benchmarks/backends.py docs                  # write the section of docs/benchmarks.md

speed: the same SciFact passages (a fixed random sample of the built index) are embedded
with every variant's `embed_passages`, the call indexing makes (passage and sentence
vectors from one forward pass, tokenising included), on 2 threads. The passages are cut
into chunks and the variants take turns chunk by chunk, in a rotating order, so load from
other processes on the shared cores hits every variant alike. Wall time and CPU time
(time.process_time, all threads of this process) are summed per variant.

quality: the SciFact index under benchmarks/out/scifact/ (public_sets.py builds it; copy
it from another checkout to save the torch embedding) is brought up to date with torch,
the same articles are indexed again with each ONNX backend beside it, and all train
queries are evaluated on each, with the default fusion and dense only.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from argparse import ArgumentParser, RawDescriptionHelpFormatter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bench
import numpy as np

bench.on_path()  # this checkout's qa, not an installed one
from qa import Engine, SearchOptions, index_paths  # noqa: E402
from qa.encode.torch_embed import SentenceTransformerEmbedder  # noqa: E402
from qa.eval.evaluate import evaluate  # noqa: E402
from qa.eval.questions import load_questions  # noqa: E402
from qa.index.passage_index import PassageIndex  # noqa: E402
from qa.index.vectors import sentence_spans_in_input  # noqa: E402
from qa.search.options import EVAL_K  # noqa: E402

SCIFACT = bench.OUT / "scifact"
OUT = bench.OUT / "backends"
DOC = bench.DOCS / "benchmarks.md"
HEADING = "## Embedding backends (issue 6)"
THREADS = 2
log = logging.getLogger("backends")


def onnx_variants(experiments: bool) -> dict[str, Callable[[], Any]]:
    """label -> a function making the embedder: the shipped backends, then the variants tried."""
    from qa.encode.onnx_embed import OnnxEmbedder, new_session
    from qa.encode.onnx_export import export_fp32, model_file, quantize_int8
    from qa.text.tokens import packaged_model_dir

    model_dir = packaged_model_dir()
    fp32, int8 = (model_file(b, model_dir, OUT / "cache") for b in ("onnx-fp32", "onnx-int8"))

    def onnx(
        path: Path, threads: int = 1, workers: int = THREADS, full: bool = True, spin: bool = False
    ) -> Callable[[], Any]:
        return lambda: OnnxEmbedder(session=new_session(path, threads, full, spin), workers=workers)

    made = {"onnx fp32": onnx(fp32), "onnx int8": onnx(int8)}
    if not experiments:
        return made
    tried = OUT / "variants"
    tried.mkdir(parents=True, exist_ok=True)
    if not (tried / "int8-per-tensor.onnx").is_file():
        export_fp32(model_dir, tried / "fp32-unfused.onnx", fuse=False)
        quantize_int8(tried / "fp32-unfused.onnx", tried / "int8-unfused.onnx")
        quantize_int8(fp32, tried / "int8-per-tensor.onnx", per_channel=False)
    return {
        **made,
        "onnx fp32, attention not fused": onnx(tried / "fp32-unfused.onnx"),
        "onnx int8, attention not fused": onnx(tried / "int8-unfused.onnx"),
        "onnx int8, one scale per tensor": onnx(tried / "int8-per-tensor.onnx"),
        "onnx int8, basic graph optimisations": onnx(int8, full=False),
        "onnx int8, one batch at a time on 2 threads": onnx(int8, threads=2, workers=1),
        "onnx int8, one batch at a time on 2 spinning threads": onnx(int8, threads=2, workers=1, spin=True),
        "onnx int8, one batch at a time on 1 thread": onnx(int8, workers=1),
    }


def torch_variant() -> Any:
    import torch

    torch.set_num_threads(THREADS)
    return SentenceTransformerEmbedder()


def sample_passages(count: int) -> tuple[list[str], list[list[tuple[int, int]]]]:
    index = PassageIndex.load(SCIFACT / "index")
    rows = sorted(random.Random(0).sample(range(len(index.passages)), count))
    passages = [index.passages[r] for r in rows]
    return [p.embedding_input() for p in passages], [sentence_spans_in_input(p) for p in passages]


def bench_speed(count: int, chunk: int, experiments: bool) -> dict[str, Any]:
    """Passages/s and CPU s per passage of every variant, chunks interleaved."""
    texts, spans = sample_passages(count)
    makers = {"torch fp32": torch_variant, **onnx_variants(experiments)}
    embedders = {label: make() for label, make in makers.items()}
    for embedder in embedders.values():  # load models and sessions outside the timing
        embedder.embed_passages(texts[:8], spans[:8])
    wall, cpu = dict.fromkeys(embedders, 0.0), dict.fromkeys(embedders, 0.0)
    vectors: dict[str, list[np.ndarray]] = {label: [] for label in embedders}
    sentences: dict[str, list[np.ndarray]] = {label: [] for label in embedders}
    labels = list(embedders)
    for n, begin in enumerate(range(0, count, chunk)):
        for label in labels[n % len(labels) :] + labels[: n % len(labels)]:
            w, c = time.perf_counter(), time.process_time()
            passage_vectors, sentence_vectors = embedders[label].embed_passages(
                texts[begin : begin + chunk], spans[begin : begin + chunk]
            )
            wall[label] += time.perf_counter() - w
            cpu[label] += time.process_time() - c
            vectors[label].append(passage_vectors)
            sentences[label].append(sentence_vectors)
        log.info("chunk %d of %d", n + 1, -(-count // chunk))
    reference = np.concatenate(vectors["torch fp32"]), np.concatenate(sentences["torch fp32"])
    rows = {}
    for label in labels:
        passage_cos = (np.concatenate(vectors[label]) * reference[0]).sum(1)
        sentence_cos = (np.concatenate(sentences[label]) * reference[1]).sum(1)
        rows[label] = {
            "passages_per_s": count / wall[label],
            "cpu_ms_per_passage": 1000 * cpu[label] / count,
            "speed_up": wall["torch fp32"] / wall[label],
            "cpu_speed_up": cpu["torch fp32"] / cpu[label],
            "cosine_passages_mean": float(passage_cos.mean()),
            "cosine_passages_min": float(passage_cos.min()),
            "cosine_sentences_min": float(sentence_cos.min()),
        }
        log.info("%s: %s", label, {k: round(v, 4) for k, v in rows[label].items()})
    from qa.text.tokens import model_token_counter

    tokens = sum(min(n + 2, 256) for n in model_token_counter()(texts))  # [CLS] and [SEP], the window
    return {"passages": count, "chunk": chunk, "mean_tokens": tokens / count, "variants": rows}


def _progress(done: int, total: int) -> None:
    if done == total or done // 128 != (done - 1) // 128:
        log.info("embedded %d of %d", done, total)


def bench_quality(backends: list[str], fusions: list[str]) -> dict[str, Any]:
    """nDCG@10 and friends of every backend's SciFact index, on all train queries.

    Each result is added to quality.json as soon as it is measured (a long run can stop midway).
    """
    questions = load_questions(SCIFACT / "questions.jsonl")
    saved = OUT / "quality.json"
    found = json.loads(saved.read_text(encoding="utf-8")) if saved.is_file() else {"backends": {}}
    for backend in backends:
        folder = SCIFACT / ("index" if backend == "torch" else f"index-{backend}")
        r = index_paths([SCIFACT / "articles.jsonl"], folder, backend=backend, progress=_progress).report
        log.info("%s: %d passages, %d embedded in %.0f s", backend, r.passages, r.embedded, r.seconds)
        engine = Engine.from_index(folder)
        row = found["backends"].setdefault(backend, {})
        row.update(passages=r.passages, questions=len(questions))
        if r.embedded:
            row.update(embedded=r.embedded, build_seconds=r.seconds)
        for fusion in fusions:
            report = evaluate(engine, questions, SearchOptions(k=EVAL_K, fusion=fusion)).report
            row[fusion] = {k: report.metrics.get(k) for k in ("ndcg@10", "mrr@10", "hit@1", "hit@10")}
            row[fusion]["date"] = time.strftime("%Y-%m-%d %H:%M")
            log.info("%s %s: %s", backend, fusion, row[fusion])
            saved.write_text(json.dumps(found, indent=1), encoding="utf-8")
    return found


# --------------------------------------------------------------------------- docs


INTRO = """\
Written by `benchmarks/backends.py docs` from `benchmarks/out/backends/*.json`.
`qa index --backend onnx-int8` runs the same all-MiniLM-L6-v2 weights on ONNX Runtime:
exported once from the packaged model folder (torch.onnx's TorchScript exporter; nothing
downloaded), attention and layer norms fused by onnxruntime's BERT optimizer, the weights
of every MatMul and attention quantised to int8 with one scale per output channel
(dynamic quantisation: activations are quantised per batch at run time), and cached under
`~/.cache/qa/onnx/<weights hash>-r1/` (export and quantisation take about 20 s, once). The
session uses every graph optimisation; batches run two at a time (one per core), each on
one thread. The manifest records the backend; questions on that index are encoded by the
same backend, and an index is never searched with vectors of another.
"""

WHY = """\
What each choice gave (one run, 4 chunks of 128 passages taking turns among 10 variants,
so wall times carry the shared machine's noise; CPU times are steadier): every int8
variant costs 25-28 ms of CPU per passage against about 60 for torch, so the int8
arithmetic is the gain. Fusing attention gave fp32 12% more passages/s at the same CPU;
for int8, fusing, the graph optimisation level, and a batch per core against one batch on
2 threads are within this run's noise (a separate 384-passage run gave a batch per core
2.44x torch's passages/s against 2.11x for one batch on 2 threads, hence the default).
One scale per weight tensor instead of per output channel is no cheaper but its vectors
drift (cosine to torch 0.945 on average, 0.90 at worst, against 0.995): the shipped int8
is per channel. Spinning threads (busy-waiting for work) cost 20-25% more CPU per passage
on the shared cores, so ONNX Runtime's spinning is off.
"""


SPEED_COLUMNS = {  # title: (key of a variant's row, format)
    "passages/s": ("passages_per_s", ".1f"), "x torch (wall)": ("speed_up", ".2f"),
    "CPU ms/passage": ("cpu_ms_per_passage", ".1f"), "x torch (CPU)": ("cpu_speed_up", ".2f"),
    "cos mean": ("cosine_passages_mean", ".4f"), "cos min": ("cosine_passages_min", ".4f"),
    "sentence cos min": ("cosine_sentences_min", ".4f"),
}  # fmt: skip


def speed_table(speed: dict[str, Any]) -> list[str]:
    variants = speed["variants"].items()
    rows = [[label, *(format(r[k], f) for k, f in SPEED_COLUMNS.values())] for label, r in variants]
    return [
        f"{speed['passages']:,} SciFact passages (mean {speed['mean_tokens']:.0f} word pieces), "
        f"`embed_passages` (passage and sentence vectors, tokenising included), chunks of "
        f"{speed['chunk']} passages, variants taking turns in a rotating order. {speed['note']}.",
        "",
        *bench.md_table(["variant", *SPEED_COLUMNS], rows),
        "",
    ]


def section(speed: dict[str, Any], tried: dict[str, Any], quality: dict[str, Any]) -> str:
    lines = [HEADING, "", INTRO, f"> {speed['machine']}", "", "### Speed on 2 cores", "", *speed_table(speed)]
    lines += ["Cosines are against torch fp32: passage vectors, and the sentence vectors pooled from"]
    lines += ["the same forward pass.", ""]
    if tried:
        lines += ["### Variants tried", "", *speed_table(tried), WHY]
    return "\n".join([*lines, *quality_lines(quality), ""])


def quality_lines(quality: dict[str, Any]) -> list[str]:
    if not quality:
        return []
    first = next(iter(quality["backends"].values()))
    rows = []
    for backend, r in quality["backends"].items():
        c, d = r.get("convex", {}), r.get("dense", {})
        build = f"{r['build_seconds']:.0f}" if r.get("build_seconds") else "(built before)"
        values = [c.get("ndcg@10"), c.get("mrr@10"), c.get("hit@10"), d.get("ndcg@10")]
        rows.append([backend, *("not run" if v is None else f"{v:.4f}" for v in values), build])
    head = ["backend", "nDCG@10 (default fusion)", "MRR@10", "Hit@10", "nDCG@10 (dense only)"]
    return [
        f"### Quality: SciFact train, all {first['questions']} queries, {first['passages']:,} passages",
        "",
        "The same articles indexed with each backend (the torch index was built before, the int8 one "
        "by this script); `qa eval`'s code path (k=10), questions encoded by the index's backend. "
        "Goal: int8 within 0.01 nDCG@10 of fp32.",
        "",
        *bench.md_table([*head, "index build s (shared cores)"], rows),
        "",
        quality.get("note", ""),
    ]


def main() -> None:
    parser = ArgumentParser(description=__doc__, formatter_class=RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["speed", "quality", "docs"])
    parser.add_argument("--passages", type=int, default=768)
    # A chunk must hold several batches of 32, or the ONNX backends' batches-per-core never run at once.
    parser.add_argument("--chunk", type=int, default=128)
    parser.add_argument("--experiments", action="store_true", help="also the variants tried on the way")
    parser.add_argument("--backends", nargs="+", default=["torch", "onnx-int8"])
    parser.add_argument("--fusions", nargs="+", default=["convex", "dense"])
    parser.add_argument("--note", default="", help="what else ran on the machine")
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("QA_CACHE_DIR", str(OUT / "cache"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    OUT.mkdir(parents=True, exist_ok=True)
    if args.step == "docs":
        files = [OUT / f"{name}.json" for name in ("speed", "speed-experiments", "quality")]
        text = section(*(json.loads(f.read_text(encoding="utf-8")) if f.is_file() else {} for f in files))
        bench.write_section(DOC, HEADING, text)
        print(text)
        return
    load_before = bench.load_line()
    started = time.perf_counter()
    if args.step == "speed":
        result = bench_speed(args.passages, args.chunk, args.experiments)
    else:
        result = bench_quality(args.backends, args.fusions)
    load = f"load average {load_before} before, {bench.load_line()} after"
    result.update(
        machine=bench.machine_line(),
        note=f"{args.note} ({load}, {time.perf_counter() - started:.0f} s)".strip(),
        date=time.strftime("%Y-%m-%d %H:%M"),
    )
    name = "speed-experiments" if args.step == "speed" and args.experiments else args.step
    (OUT / f"{name}.json").write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
