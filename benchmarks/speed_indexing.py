"""The indexing part of benchmarks/speed.py (issue 2): its corpus, and timed index builds.

`bench_indexing` runs instrumented `index_paths` builds (each stage function wrapped in a timer by
`StageTimer`) and the bare model on the same passage texts, interleaved chunk by chunk.
The corpus: seeds/ plus the COVID-QA dev articles, converted to qa JSONL by `covid_corpus`.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import OUT, ROOT, timed

COVID_JSON = ROOT.parent / "shared" / "data" / "covid-qa-dev" / "covid-qa.json"


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
