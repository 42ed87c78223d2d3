"""The query part of benchmarks/speed.py (issue 2): warm `Engine.ask`, cold `qa ask` in new
processes (with the import times and a per-stage probe inside one cold process), index size."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import ROOT, timed
from speed_indexing import seed_questions

PYTHON = ROOT / ".venv" / "bin" / "python"
QA = ROOT / ".venv" / "bin" / "qa"
COLD_QUESTION = "Who leads the North Korean delegation to Russia?"


def run_wall(cmd: Sequence[str], runs: int) -> tuple[float, list[float], str]:
    """Median wall time of `runs` runs of a fresh process; also its last stdout."""
    walls, out = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        walls.append(time.perf_counter() - start)
        if proc.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
        out = proc.stdout
    return statistics.median(walls), walls, out


# --------------------------------------------------------------------------- 2. warm ask


def bench_warm(index_dir: str, embedder: Any, sets: dict[str, list[str]]) -> dict[str, Any]:
    from qa import Engine

    load_s, engine = timed(lambda: Engine.from_index(index_dir, embedder=embedder))
    engine.ask("How long does the warm-up question take?")
    result: dict[str, Any] = {"load_s": load_s, "sets": {}}
    everything: list[float] = []
    encode: list[float] = []
    for name, questions in sets.items():
        lat = [timed(lambda q=q: engine.ask(q))[0] * 1000 for q in questions]
        encode += [timed(lambda q=q: embedder.embed([q]))[0] * 1000 for q in questions]
        everything += lat
        result["sets"][name] = lat
    result["sets"]["all"] = everything
    result["encode_ms"] = encode
    # The same questions in a process that has not loaded torch (a CLI `qa ask`): NumPy MiniLM.
    from qa.encode.torch_embed import SentenceTransformerEmbedder

    light = Engine.from_index(index_dir, embedder=SentenceTransformerEmbedder())
    light.ask("How long does the warm-up question take?")
    questions = [q for qs in sets.values() for q in qs]
    result["numpy"] = [timed(lambda q=q: light.ask(q))[0] * 1000 for q in questions]
    result["numpy_encode_ms"] = [timed(lambda q=q: light.embedder.embed([q]))[0] * 1000 for q in questions]
    import torch

    threads = torch.get_num_threads()
    result["torch_threads"] = threads
    return result


# --------------------------------------------------------------------------- 3. cold start

IMPORTS = {
    "python -c pass": "pass",
    "qa.search.engine": "import qa.search.engine",
    "qa.search.engine + qa.encode.minilm (NumPy question encoder)": (
        "import qa.search.engine, qa.encode.minilm"
    ),
    "faiss + bm25s": "import faiss, bm25s",
    "torch": "import torch",
    "transformers.BertModel": "from transformers import BertModel",
    "sentence_transformers": "import sentence_transformers",
}


def bench_cold(index_dir: str, runs: int, script: Path) -> dict[str, Any]:
    """Cold `qa ask` and `qa --help`, import times, and `script --probe` (default, torch) runs."""
    ask = [str(QA), "ask", COLD_QUESTION, "--index", index_dir]
    median, walls, _ = run_wall(ask, runs)
    print(f"cold qa ask: {median:.2f}s ({', '.join(f'{w:.2f}' for w in walls)})", flush=True)
    help_median, _, _ = run_wall([str(QA), "--help"], runs)
    imports = {}
    for label, code in IMPORTS.items():
        imports[label] = run_wall([str(PYTHON), "-c", code], runs)[0]
        print(f"import {label}: {imports[label]:.2f}s", flush=True)
    probes = {}
    for mode in ("default", "torch"):
        cmd = [str(PYTHON), str(script), "--probe", mode, "--index", index_dir]
        found = []
        for _ in range(runs):
            found.append(json.loads(run_wall(cmd, 1)[2].strip().splitlines()[-1]))
        found.sort(key=lambda r: r["to_answer"])
        probes[mode] = found[len(found) // 2]  # the run with the median time to the first answer
        print(f"probe {mode}: {probes[mode]['to_answer']:.2f}s {probes[mode]['stages']}", flush=True)
    return {"ask": median, "ask_runs": walls, "help": help_median, "imports": imports, "probes": probes}


def probe(mode: str, index_dir: str) -> None:
    """Run inside a fresh process: time each stage of a cold `ask`; print one JSON line.

    mode "default" does what `qa ask` does (the engine's default embedder: questions go through
    the NumPy MiniLM while torch is not loaded); mode "torch" loads sentence-transformers first,
    as `qa index` and the chat do, which is how every cold ask went before qa/encode/minilm.py.
    """
    t0 = time.perf_counter()
    stages: dict[str, float] = {}
    mark = t0

    def step(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        stages[name] = round(now - mark, 3)
        mark = now

    from qa import Engine

    step("import qa")
    embedder: Any = None
    if mode == "torch":
        from qa.encode.torch_embed import SentenceTransformerEmbedder

        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
            os.environ.setdefault(name, "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import sentence_transformers  # noqa: F401

        step("import sentence_transformers")
        embedder = SentenceTransformerEmbedder()
        embedder._load()
        step("model load")
    engine = Engine.from_index(index_dir, embedder=embedder)
    step("index load + weights hash")
    answer = engine.ask(COLD_QUESTION)
    step("first ask")
    to_answer = time.perf_counter() - t0
    torch_loaded = "torch" in sys.modules
    encode_ms = [timed(lambda q=q: engine.embedder.embed([q]))[0] * 1000 for q in seed_questions()]
    print(
        json.dumps(
            {
                "stages": stages,
                "to_answer": round(to_answer, 3),
                "torch_imported": torch_loaded,
                "answer": answer.text,
                "warm_encode_ms_p50": statistics.median(encode_ms),
            }
        )
    )


# --------------------------------------------------------------------------- 4. size


def index_size(index_dir: Path) -> dict[str, Any]:
    from qa import layout
    from qa.index import folder

    gen = folder.live_generation(index_dir)
    sizes: dict[str, int] = {}
    for file in sorted(p for p in gen.rglob("*") if p.is_file()):
        rel = file.relative_to(gen).as_posix()
        key = "bm25/" if rel.startswith("bm25/") else rel
        sizes[key] = sizes.get(key, 0) + file.stat().st_size
    manifest = json.loads((gen / layout.MANIFEST).read_text(encoding="utf-8"))
    return {"files": sizes, "total": sum(sizes.values()), "passages": manifest["counts"]["passages"]}


# --------------------------------------------------------------------------- report


def mb(n: float) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def numpy_vs_torch(questions: list[str]) -> float:
    """Lowest cosine between the engine's NumPy question vectors and sentence-transformers'."""
    from qa.encode.minilm import NumpyMiniLM
    from qa.encode.torch_embed import SentenceTransformerEmbedder

    reference = SentenceTransformerEmbedder().embed(questions)  # > SMALL_BATCH texts: torch
    light = NumpyMiniLM().encode(questions)
    return float((reference * light).sum(1).min())


def versions() -> dict[str, str]:
    from importlib.metadata import version

    names = ["torch", "sentence-transformers", "transformers", "faiss-cpu", "bm25s", "tokenizers"]
    return {n: version(n) for n in names}
