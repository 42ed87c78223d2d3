"""Indexing and query speed of qa (issue 2, "Numbers to report"). A script, not a test.

    .venv/bin/python benchmarks/speed.py                 # measure, print the tables
    .venv/bin/python benchmarks/speed.py --write-docs    # ... and (re)write our section of docs/benchmarks.md

Corpus: seeds/ plus ../shared/data/covid-qa-dev/covid-qa.json (65 long articles, SQuAD JSON,
one paragraph per article whose first line is the title). The JSON is converted here into a
temporary articles.jsonl under benchmarks/out/ (gitignored); nothing is copied into the repo.

Measured:
1. indexing: `qa.index_paths` (fresh folder, rebuild=True, model already loaded) in passages/s,
   against the bare model on the same passage texts (raw `SentenceTransformer.encode(batch_size=32)`,
   `SentenceTransformerEmbedder.embed`, and the build's own `embed_passages`, interleaved chunk by
   chunk), with the build's stages (reading, splitting, embedding, FAISS, BM25, writing) timed by
   wrapping the library functions during the build, in wall and CPU time;
2. warm `Engine.ask` latency (engine loaded once, model warmed) over the seed questions and a
   spread of COVID-QA questions, with the model loaded (the chat) and without torch (NumPy encoder);
3. cold `qa ask` in a new process (wall time, median of 3), the import times of what it could load,
   and a per-stage breakdown inside one cold process, as `qa ask` runs now (questions encoded by the
   NumPy MiniLM, no torch) and with the model loaded through sentence-transformers first;
4. the index's size on disk per file type.

Timings are wall-clock (time.perf_counter) unless marked CPU (time.process_time, all threads, which
other work on shared cores disturbs less). Repeated measurements keep the best run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
COVID_JSON = ROOT.parent / "shared" / "data" / "covid-qa-dev" / "covid-qa.json"
DOC = ROOT / "docs" / "benchmarks.md"
HEADING = "## Indexing and query speed (issue 2)"
PYTHON = ROOT / ".venv" / "bin" / "python"
QA = ROOT / ".venv" / "bin" / "qa"
COLD_QUESTION = "Who leads the North Korean delegation to Russia?"


# --------------------------------------------------------------------------- corpus


def covid_corpus(src: Path, out: Path, limit: int | None = None) -> tuple[Path, list[str]]:
    """Write the COVID-QA articles as qa JSONL records; return the file and all questions."""
    data = json.loads(src.read_text(encoding="utf-8"))
    data["data"] = data["data"][:limit]
    out.mkdir(parents=True, exist_ok=True)
    target = out / "covid-qa.jsonl"
    questions: list[str] = []
    with target.open("w", encoding="utf-8") as fh:
        for item in data["data"]:
            for para in item["paragraphs"]:
                title, _, body = para["context"].partition("\n")
                record = {
                    "id": f"covid-qa-{para['document_id']}",
                    "title": title.strip(),
                    "text": body.strip(),
                    "source": "COVID-QA",
                }
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                questions.extend(q["question"] for q in para["qas"])
    return target, questions


def spread(items: Sequence[str], n: int) -> list[str]:
    """n items evenly spread over the list (so every part of the corpus is asked about)."""
    if len(items) <= n:
        return list(items)
    return [items[i * len(items) // n] for i in range(n)]


def seed_questions() -> list[str]:
    lines = (ROOT / "seeds" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


# --------------------------------------------------------------------------- helpers


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


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


def machine() -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        cpu = found.group(1).strip() if found else cpu
    ram = 0.0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        found = re.search(r"^MemTotal:\s*(\d+) kB", meminfo.read_text(), re.M)
        ram = int(found.group(1)) / 1024**2 if found else 0.0
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(ram, 1),
        "python": platform.python_version(),
        "load": os.getloadavg(),
    }


def versions() -> dict[str, str]:
    from importlib.metadata import version

    names = ["torch", "sentence-transformers", "transformers", "faiss-cpu", "bm25s", "tokenizers"]
    return {n: version(n) for n in names}


# --------------------------------------------------------------------------- 1. indexing


# (label, defining module, attribute): every reference to the attribute in a loaded qa module is timed,
# so the breakdown follows the code wherever a stage function is imported. Missing ones are skipped.
STAGES = [
    ("reading", "qa.text.ingest", "load_articles"),
    ("splitting", "qa.index.update", "write_texts"),  # wall: with much text it runs in worker processes
    ("embedding", "qa.index.vectors", "embed_fresh"),
    ("faiss", "faiss", "write_index"),
    ("bm25", "qa.index.lexical", "tokenize_ids"),
    ("bm25", "qa.index.postings", "PostingsWriter.save"),
    ("writing", "qa.index.segments", "SegmentVectors.close"),
    ("writing", "qa.index.generation", "file_checksums"),
    ("writing", "qa.index.folder", "publish"),
    ("previous index check", "qa.index.previous", "Previous.open"),
]


class StageTimer:
    """Wrap the stage functions of one index build in timers, and undo it afterwards."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.missing: list[str] = []
        self._undo: list[tuple[Any, str, Any]] = []
        self._depth = 0

    def __enter__(self) -> StageTimer:
        import importlib
        import inspect

        for label, module_name, attr in STAGES:
            try:
                owner: Any = importlib.import_module(module_name)
            except ImportError:
                self.missing.append(f"{module_name}.{attr}")
                continue
            *path, name = attr.split(".")
            for part in path:
                owner = getattr(owner, part, None)
            if owner is None or not hasattr(owner, name):
                self.missing.append(f"{module_name}.{attr}")
                continue
            raw = inspect.getattr_static(owner, name)
            self.seconds.setdefault(label, 0.0)
            self.cpu.setdefault(label, 0.0)
            if isinstance(raw, classmethod):
                self._patch(owner, name, raw, classmethod(self._wrap(label, raw.__func__)))
                continue
            wrapped = self._wrap(label, raw)
            self._patch(owner, name, raw, wrapped)
            if not path:  # also where it was imported by name (`from .passages import split_article`)
                for mod_name, mod in list(sys.modules.items()):
                    if mod_name.startswith("qa") and mod is not owner and getattr(mod, name, None) is raw:
                        self._patch(mod, name, raw, wrapped)
        return self

    def _patch(self, owner: Any, name: str, raw: Any, new: Any) -> None:
        setattr(owner, name, new)
        self._undo.append((owner, name, raw))

    def _wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            if self._depth:  # a stage inside another (e.g. np.save inside write_jsonl): count once
                return fn(*args, **kwargs)
            self._depth += 1
            start, start_cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self.cpu[label] += time.process_time() - start_cpu
                self._depth -= 1

        return timed_call

    def __exit__(self, *exc: object) -> None:
        for owner, name, raw in reversed(self._undo):
            setattr(owner, name, raw)


def bench_indexing(paths: list[str], rounds: int, chunk: int = 128) -> dict[str, Any]:
    """Instrumented `index_paths` builds, and the bare model on the same texts.

    The bare-model variants are timed chunk by chunk, interleaved (encode, embed, embed_passages on
    chunk 1, then the next order on chunk 2, ...), so a change in the load from other work hits all
    of them alike instead of whichever ran during it. Chunks follow the length order the embedder
    itself uses, so their batches are the ones a single call would make.
    """
    from qa import index_paths
    from qa.encode.torch_embed import SentenceTransformerEmbedder
    from qa.index.passage_index import PassageIndex

    load_s, embedder = timed(lambda: SentenceTransformerEmbedder())
    load_s += timed(embedder._load)[0]
    embedder.embed(["warm up the model"])
    print(f"model import+load {load_s:.1f}s", flush=True)
    model = embedder._load()
    index_dir = OUT / "speed-index"
    builds: list[dict[str, Any]] = []
    bare_runs: list[dict[str, dict[str, float]]] = []
    texts: list[str] = []
    for r in range(rounds):
        shutil.rmtree(index_dir, ignore_errors=True)
        with StageTimer() as stages:
            start_cpu = time.process_time()
            wall, result = timed(lambda: index_paths(paths, index_dir, embedder=embedder, rebuild=True))
            cpu = time.process_time() - start_cpu
        rest = wall - sum(stages.seconds.values())
        stages.seconds["other (plan, manifest, copies)"] = rest
        stages.cpu["other (plan, manifest, copies)"] = cpu - sum(stages.cpu.values())
        builds.append(
            {
                "wall": wall,
                "cpu": cpu,
                "stages": stages.seconds,
                "stages_cpu": stages.cpu,
                "missing": stages.missing,
            }
        )
        print(f"build {r + 1}: {wall:.1f}s (cpu {cpu:.1f}s); {fmt_stages(stages.seconds)}", flush=True)
        if not texts:
            index = PassageIndex.load(index_dir)
            passages = index.passages
            texts = [p.embedding_input() for p in passages]
            jobs = bare_jobs(embedder, model, passages)
        measured = interleaved(jobs, texts, chunk)
        bare_runs.append({name: {"wall": w, "cpu": c} for name, (w, c) in measured.items()})
        print(
            f"round {r + 1} bare model: "
            + ", ".join(f"{k} {w:.1f}s (cpu {c:.1f}s)" for k, (w, c) in measured.items()),
            flush=True,
        )
    # Best of the rounds, per variant and measure.
    bare = {
        name: {m: min(run[name][m] for run in bare_runs) for m in ("wall", "cpu")} for name in bare_runs[0]
    }
    best = min(builds, key=lambda b: b["wall"])
    return {
        "model_load_s": load_s,
        "passages": len(texts),
        "sentences": len(index.sentence_vectors) if hasattr(index, "sentence_vectors") else None,
        "articles": len(index.articles),
        "builds": builds,
        "best_build": best,
        "bare": bare,
        "bare_runs": bare_runs,
        "torch_threads": torch_threads(),
        "index_dir": str(index_dir),
        "embedder": embedder,
    }


def torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


def bare_jobs(embedder: Any, model: Any, passages: Sequence[Any]) -> dict[str, Callable[[list[int]], Any]]:
    """The model on given passage rows three ways: raw encode, our embed, and the build's own call."""
    texts = [p.embedding_input() for p in passages]
    jobs: dict[str, Callable[[list[int]], Any]] = {
        "encode": lambda rows: model.encode(
            [texts[i] for i in rows], batch_size=32, normalize_embeddings=True, convert_to_numpy=True
        ),
        "embed": lambda rows: embedder.embed([texts[i] for i in rows]),
    }
    try:  # what index_paths calls: passage vectors plus sentence vectors from the same forward pass
        from qa.index.vectors import sentence_spans_in_input

        spans = [sentence_spans_in_input(p) for p in passages]
        if hasattr(embedder, "embed_passages"):
            jobs["embed_passages"] = lambda rows: embedder.embed_passages(
                [texts[i] for i in rows], [spans[i] for i in rows]
            )
    except ImportError:
        pass
    return jobs


def interleaved(
    jobs: dict[str, Callable[[list[int]], Any]], texts: Sequence[str], chunk: int
) -> dict[str, tuple[float, float]]:
    """Summed (wall, cpu) seconds of each job over all rows, chunk by chunk, order rotating."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    totals = {name: [0.0, 0.0] for name in jobs}
    names = list(jobs)
    for k, begin in enumerate(range(0, len(order), chunk)):
        rows = order[begin : begin + chunk]
        for name in names[k % len(names) :] + names[: k % len(names)]:
            start, start_cpu = time.perf_counter(), time.process_time()
            jobs[name](rows)
            totals[name][0] += time.perf_counter() - start
            totals[name][1] += time.process_time() - start_cpu
    return {name: (w, c) for name, (w, c) in totals.items()}


def fmt_stages(seconds: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}s" for k, v in seconds.items())


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


def bench_cold(index_dir: str, runs: int) -> dict[str, Any]:
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
        cmd = [str(PYTHON), str(Path(__file__).resolve()), "--probe", mode, "--index", index_dir]
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
    as `qa index` and the chat do, which is how every cold ask went before qa/minilm.py.
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


def vs(seconds: float, base: float) -> str:
    return f"{(seconds / base - 1) * 100:+.1f} %"


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:.1f} passages/s ({seconds:.1f} s)"


def p50_95(ms: Sequence[float]) -> str:
    return f"p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms"


def report(res: dict[str, Any]) -> str:
    ix, warm, cold, size, env = res["indexing"], res["warm"], res["cold"], res["size"], res["machine"]
    n = ix["passages"]
    build, bare = ix["best_build"], ix["bare"]
    enc, enc_cpu = bare["encode"]["wall"], bare["encode"]["cpu"]
    model_call = bare.get("embed_passages", bare["embed"])
    outside_cpu = build["cpu"] - build["stages_cpu"]["embedding"]
    # On idle cores the model runs on all its threads while the rest of the build is one thread,
    # so the idle wall share of the rest is its CPU time over (encode CPU time / threads).
    idle_rest = outside_cpu / (enc_cpu / ix["torch_threads"])
    idle_call = model_call["cpu"] / enc_cpu - 1
    sets = warm["sets"]
    default, torch_path = cold["probes"]["default"], cold["probes"]["torch"]
    lines = [
        HEADING,
        "",
        f"Measured by `benchmarks/speed.py` on {res['date']}. Corpus: `seeds/` (1 article) plus COVID-QA dev "
        f"({ix['articles'] - 1} long articles) = {ix['articles']} articles, {n} passages, "
        f"{res['chars'] / 1e6:.2f} M characters. Machine: {env['nproc']} cores "
        f"({env['cpu']}), {env['ram_gib']} GiB RAM, Python {env['python']}, "
        + ", ".join(f"{k} {v}" for k, v in res["versions"].items())
        + ". "
        + res["note"],
        "",
        "| measure | result | goal |",
        "|---|---|---|",
        f"| indexing: `index_paths`, fresh build, model loaded (best of {len(ix['builds'])}) | "
        f"{rate(n, build['wall'])}; CPU {build['cpu']:.0f} s | |",
        f"| bare model: `SentenceTransformer.encode`, batch 32, same texts | {rate(n, enc)}; "
        f"CPU {enc_cpu:.0f} s | |",
        f"| bare model via `SentenceTransformerEmbedder.embed` | {rate(n, bare['embed']['wall'])} "
        f"({vs(bare['embed']['wall'], enc)} vs encode) | |",
    ]
    if "embed_passages" in bare:
        lines.append(
            "| the build's model call, `embed_passages` (passage and sentence vectors, one pass) | "
            f"{rate(n, bare['embed_passages']['wall'])} ({vs(bare['embed_passages']['wall'], enc)}; "
            f"CPU {vs(bare['embed_passages']['cpu'], enc_cpu)} vs encode) | |"
        )
    lines += [
        f"| overhead of everything but the model, wall time | {vs(build['wall'], enc)} | ≤ 10 % |",
        f"| the same in CPU time (less sensitive to other work) | {vs(build['cpu'], enc_cpu)} | ≤ 10 % |",
        f"| the same estimated for idle cores: non-model stages ({outside_cpu:.1f} s CPU, one thread) "
        f"over encode CPU / {ix['torch_threads']} threads, plus the model call's extra CPU | "
        f"{idle_rest * 100:+.1f} % {idle_call * 100:+.1f} % = **{(idle_rest + idle_call) * 100:+.1f} %** "
        "| ≤ 10 % |",
        f"| warm `ask` (model loaded, as in the chat), {len(sets['seed'])} seed questions | "
        f"{p50_95(sets['seed'])} | p50 < 50 ms |",
        f"| warm `ask` (model loaded), {len(sets['covid'])} COVID-QA questions | {p50_95(sets['covid'])} "
        "| p50 < 50 ms |",
        f"| warm `ask` (model loaded), all {len(sets['all'])} | **{p50_95(sets['all'])}** | p50 < 50 ms |",
        f"| of which encoding the question (torch, one thread) | {p50_95(warm['encode_ms'])} | |",
        f"| warm `ask` without torch (NumPy question encoder), all {len(warm['numpy'])} | "
        f"{p50_95(warm['numpy'])} (encoding: {p50_95(warm['numpy_encode_ms'])}) | p50 < 50 ms |",
        f"| cold `qa ask` in a new process on a built index (median of {len(cold['ask_runs'])}) | "
        f"**{cold['ask']:.2f} s** (runs {', '.join(f'{w:.2f}' for w in cold['ask_runs'])}) | < 5 s |",
        f"| `qa --help` | {cold['help']:.2f} s | instant |",
        f"| index on disk | {mb(size['total'])} for {size['passages']} passages "
        f"({size['total'] / size['passages'] / 1024:.2f} KiB/passage) | |",
        "",
        "Stages of the best build, timed by wrapping the library's stage functions during the build "
        "(`StageTimer` in the script; model already loaded, its import + load took "
        f"{ix['model_load_s']:.1f} s"
        + (f"; not found: {', '.join(build['missing'])}" if build["missing"] else "")
        + "):",
        "",
        "| stage | wall s | CPU s | share of wall |",
        "|---|---|---|---|",
    ]
    for stage, seconds in build["stages"].items():
        share = seconds / build["wall"] * 100
        lines.append(f"| {stage} | {seconds:.2f} | {build['stages_cpu'][stage]:.2f} | {share:.1f} % |")
    lines += [
        f"| total | {build['wall']:.2f} | {build['cpu']:.2f} | |",
        "",
        "Index size per file:",
        "",
        "| file | size |",
        "|---|---|",
    ]
    for name, nbytes in sorted(size["files"].items(), key=lambda kv: -kv[1]):
        lines.append(f"| {name} | {mb(nbytes)} |")
    lines += [
        "",
        "Cold start, one fresh process per row (median wall of "
        f"{len(cold['ask_runs'])}, interpreter start included):",
        "",
        "| import | seconds |",
        "|---|---|",
    ]
    lines += [f"| `{label}` | {sec:.2f} |" for label, sec in cold["imports"].items()]
    lines += [
        "",
        "Inside one cold process (`speed.py --probe`; the median of "
        f"{len(cold['ask_runs'])} runs by time to the first answer):",
        "",
        "| path | stages (s) | to first answer | torch imported | question encoding after |",
        "|---|---|---|---|---|",
        f"| `qa ask` today (NumPy question encoder) | {fmt_probe(default['stages'])} | "
        f"{default['to_answer']:.2f} s | {'yes' if default['torch_imported'] else 'no'} | "
        f"{default['warm_encode_ms_p50']:.1f} ms |",
        f"| model loaded through sentence-transformers first (the path before `qa/minilm.py`) | "
        f"{fmt_probe(torch_path['stages'])} | {torch_path['to_answer']:.2f} s | "
        f"{'yes' if torch_path['torch_imported'] else 'no'} | {torch_path['warm_encode_ms_p50']:.1f} ms |",
        "",
        f"Lowest cosine between the NumPy and the sentence-transformers vectors of the {len(sets['all'])} "
        f"questions: {res['numpy_cosine_min']:.6f}.",
        "",
        f"Reading: a cold `qa ask` takes {cold['ask']:.1f} s because it never imports torch. Loading the "
        f"model through sentence-transformers first takes {torch_path['to_answer']:.1f} s to the first "
        f"answer, {torch_path['stages']['import sentence_transformers']:.1f} s of it importing "
        "sentence-transformers (which pulls in transformers' model code, torch, scikit-learn and scipy). "
        f"Indexing costs the model's time plus about {(idle_rest + idle_call) * 100:.0f} % on idle cores; "
        f"sentence splitting (pysbd) is {build['stages_cpu']['splitting'] / outside_cpu * 100:.0f} % of "
        "the work outside the model.",
        "",
    ]
    return "\n".join(lines)


def fmt_probe(stages: dict[str, float]) -> str:
    return "; ".join(f"{k} {v:.2f}" for k, v in stages.items())




def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--covid", type=Path, default=COVID_JSON, help="COVID-QA SQuAD JSON")
    parser.add_argument("--rounds", type=int, default=2, help="indexing rounds (best is kept)")
    parser.add_argument("--runs", type=int, default=3, help="runs per cold-process measurement")
    parser.add_argument("--covid-questions", type=int, default=100)
    parser.add_argument("--articles", type=int, help="only the first N COVID-QA articles (a quick check)")
    parser.add_argument("--write-docs", action="store_true", help=f"write '{HEADING}' into {DOC}")
    parser.add_argument("--note", default="", help="free text for the doc (e.g. whether cores were shared)")
    parser.add_argument("--from-json", type=Path, help="re-render a saved speed.json instead of measuring")
    parser.add_argument("--probe", choices=["default", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--index", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        probe(args.probe, args.index)
        return
    if args.from_json:
        res = json.loads(args.from_json.read_text(encoding="utf-8"))
        res["note"] = args.note or res["note"]
        publish(res, args.write_docs)
        return
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import logging

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)

    started = time.perf_counter()
    env_before = machine()
    covid_file, covid_qs = covid_corpus(args.covid, OUT / "corpus", args.articles)
    paths = [str(ROOT / "seeds"), str(covid_file)]
    chars = sum(len(json.loads(line)["text"]) for line in covid_file.read_text(encoding="utf-8").splitlines())
    chars += len((ROOT / "seeds" / "000_e55bf5d3b8499c8c.txt").read_text(encoding="utf-8"))

    indexing = bench_indexing(paths, args.rounds)
    sets = {"seed": seed_questions(), "covid": spread(covid_qs, args.covid_questions)}
    warm = bench_warm(indexing["index_dir"], indexing.pop("embedder"), sets)
    for name in ("seed", "covid", "all"):
        lat = warm["sets"][name]
        print(
            f"warm ask {name}: p50 {percentile(lat, 50):.1f} ms, p95 {percentile(lat, 95):.1f} ms", flush=True
        )
    cold = bench_cold(indexing["index_dir"], args.runs)

    cosine = numpy_vs_torch(seed_questions() + sets["covid"])

    env_after = machine()
    res = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": env_before,
        "load_after": env_after["load"],
        "versions": versions(),
        "chars": chars,
        "indexing": indexing,
        "warm": warm,
        "cold": cold,
        "size": index_size(Path(indexing["index_dir"])),
        "numpy_cosine_min": cosine,
        "seconds": time.perf_counter() - started,
        "note": args.note
        or (
            f"Load average {env_before['load'][0]:.2f} before and {env_after['load'][0]:.2f} after the run "
            "(other work may have been running on the shared cores)."
        ),
    }
    (OUT / "speed.json").write_text(json.dumps(res, indent=1, default=str), encoding="utf-8")
    publish(res, args.write_docs)
    print(f"benchmark took {res['seconds']:.0f}s; raw results in {OUT / 'speed.json'}")


def numpy_vs_torch(questions: list[str]) -> float:
    """Lowest cosine between the engine's NumPy question vectors and sentence-transformers'."""
    from qa.encode.minilm import NumpyMiniLM
    from qa.encode.torch_embed import SentenceTransformerEmbedder

    reference = SentenceTransformerEmbedder().embed(questions)  # > SMALL_BATCH texts: torch
    light = NumpyMiniLM().encode(questions)
    return float((reference * light).sum(1).min())


def publish(res: dict[str, Any], write_docs: bool) -> None:
    section = report(res)
    print("\n" + section)
    if write_docs:
        from benchmarks.doc_sections import write_section  # benchmarks/ is on sys.path as a script
        write_section(DOC, HEADING, section)
        print(f"wrote {HEADING!r} into {DOC}")


if __name__ == "__main__":
    main()
