"""Indexing throughput: the default `qa index` against today's and against the bare model (issue 16).

    python benchmarks/throughput.py [--sets squad2 squad1 covid scifact] [--base d70e930] [--write-docs]

For each shared dev set (converted by benchmarks/public_sets.py into benchmarks/out/<set>/),
four runs in a rotating order, each in its own process so that none inherits another's
warm caches or threads:

- today:   `qa index --rebuild` of the set by the code before issue 16 (git commit --base,
           exported to a temporary folder; its default backend is torch);
- default: `qa index --rebuild` of the set by this checkout (its default, onnx-int8);
- bare torch: `SentenceTransformer.encode(batch_size=32, normalize_embeddings=True)` on the
           passage texts the default build embedded (title + passage), model loaded first;
- bare onnx:  the cached int8 model in a plain onnxruntime session (default threads),
           tokenizer and mean pooling, batches of 32 sorted by length, on the same texts.

The `qa index` runs are timed whole (process start to exit: what a user waits for), with
their CPU time (all processes); the bare runs time the encoding only. Tokens are the model's
word pieces per text, [CLS] and [SEP] included, cut at its 256-token window.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

import bench

bench.on_path()
ROOT = bench.ROOT
OUT = bench.OUT / "throughput"
DOC = bench.DOCS / "benchmarks.md"
HEADING = "## Indexing throughput: the default against today's and the bare model (issue 16)"
ORDERS = (  # rotating; a build comes first, since the bare runs encode its passages
    ("today", "default", "bare torch", "bare onnx"),
    ("default", "today", "bare onnx", "bare torch"),
    ("default", "bare torch", "bare onnx", "today"),
    ("today", "bare onnx", "bare torch", "default"),
)


def export(commit: str) -> Path:
    """The package `qa/` of an older commit, in a temporary folder (its PYTHONPATH)."""
    folder = Path(tempfile.mkdtemp(prefix=f"qa-{commit}-"))
    archive = subprocess.run(
        ["git", "archive", commit, "qa"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def timed(command: list[str], cwd: Path = ROOT) -> dict[str, Any]:
    before, started = os.times(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    after = os.times()
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    cpu = after.children_user + after.children_system - before.children_user - before.children_system
    return {"wall_s": time.perf_counter() - started, "cpu_s": cpu, "stdout": done.stdout}


def build(name: str, which: str, base: Path) -> dict[str, Any]:
    articles, index = bench.OUT / name / "articles.jsonl", OUT / name / which
    command = [
        sys.executable,
        "-m",
        "qa",
        "index",
        str(articles),
        "--index",
        str(index),
        "--rebuild",
        "--json",
    ]
    found = timed(command, base if which == "today" else ROOT)  # `-m qa` runs the qa/ of its folder
    report = json.loads(found.pop("stdout").strip().splitlines()[-1])
    return {**found, "passages": report["passages"], "embedded": report["embedded"]}


def bare(name: str, which: str) -> dict[str, Any]:
    texts = OUT / name / "texts.json"
    found = timed([sys.executable, __file__, "--bare", which, str(texts)])
    return {**found, **json.loads(found.pop("stdout").strip().splitlines()[-1])}


def _bare_child(which: str, texts_file: str) -> None:
    """In a fresh process: load the model, then time encoding the texts only."""
    texts = json.loads(Path(texts_file).read_text())
    if which == "bare torch":
        from sentence_transformers import SentenceTransformer

        from qa.text.tokens import packaged_model_dir

        model = SentenceTransformer(str(packaged_model_dir()), device="cpu")
        model.encode(texts[:64], batch_size=32)
        cpu, started = time.process_time(), time.perf_counter()
        model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    else:
        import numpy as np
        import onnxruntime as ort

        from qa.config import default_cache_dir
        from qa.encode.onnx_embed import mean_pool, padded_tokenizer
        from qa.encode.onnx_export import model_file
        from qa.text.tokens import packaged_model_dir

        session = ort.InferenceSession(
            str(model_file("onnx-int8", packaged_model_dir(), default_cache_dir()))
        )
        tokenizer = padded_tokenizer(str(packaged_model_dir()))
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        cpu, started = time.process_time(), time.perf_counter()
        for begin in range(0, len(order), 32):
            encodings = tokenizer.encode_batch([texts[i] for i in order[begin : begin + 32]])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            (hidden,) = session.run(None, {"input_ids": ids, "attention_mask": mask})
            mean_pool(hidden, mask)
    print(
        json.dumps(
            {
                "encode_s": time.perf_counter() - started,
                "encode_cpu_s": time.process_time() - cpu,
                "passages": len(texts),
            }
        )
    )


def texts_of(name: str, which: str) -> int:
    """A build's embedding inputs (both builds split alike), for the bare runs; returns their tokens."""
    from qa.index.passage_index import PassageIndex
    from qa.text.tokens import model_token_counter

    texts = [p.embedding_input() for p in PassageIndex.load(OUT / name / which).passages]
    (OUT / name / "texts.json").write_text(json.dumps(texts))
    return sum(min(n + 2, 256) for n in model_token_counter()(texts))


def run_set(name: str, base: Path, turn: int) -> dict[str, Any]:
    order = ORDERS[turn % len(ORDERS)]
    row: dict[str, Any] = {"order": order, "load": bench.load_line(), "date": time.strftime("%Y-%m-%d %H:%M")}
    for which in order:
        row[which] = build(name, which, base) if which in ("today", "default") else bare(name, which)
        if which == order[0]:
            row["tokens"] = texts_of(name, which)
        print(name, which, {k: v for k, v in row[which].items() if k != "stdout"}, flush=True)
    row["load"] += f" before, {bench.load_line()} after"
    return row


HEAD = [
    "set", "passages", "tokens", "today (torch)", "default (onnx-int8)", "x today", "bare torch", "bare onnx",
    "default / bare onnx", "CPU s: today, default", "load (before, after)",
]  # fmt: skip


def section(found: dict[str, Any]) -> str:
    lines = [
        HEADING,
        "",
        f"`benchmarks/throughput.py` on {found['machine']}, commit `{found['commit']}` against "
        f"`{found['base']}` (before issue 16). Passages/s of a whole `qa index --rebuild` (process start "
        "to exit) and of the bare model's encoding alone; CPU time covers all processes of a run.",
        "",
    ]
    rows = []
    total = {k: 0.0 for k in ("p", "today", "default", "bt", "bo")}
    for name, r in found["sets"].items():
        p = r["default"]["passages"]
        rate = {k: p / r[k]["wall_s"] for k in ("today", "default")}
        bt, bo = p / r["bare torch"]["encode_s"], p / r["bare onnx"]["encode_s"]
        tok = r["tokens"] / r["default"]["wall_s"]
        rows.append(
            [
                name, f"{p:,}", f"{r['tokens']:,}", f"{rate['today']:.1f}",
                f"{rate['default']:.1f} ({tok:,.0f} tokens/s)", f"{rate['default'] / rate['today']:.2f}x",
                f"{bt:.1f}", f"{bo:.1f}", f"{rate['default'] / bo:.0%}",
                f"{r['today']['cpu_s']:.0f}, {r['default']['cpu_s']:.0f}", r["load"],
            ]
        )  # fmt: skip
        for k, run in (("today", "today"), ("default", "default")):
            total[k] += r[run]["wall_s"]
        total["p"] += p
        total["bt"] += r["bare torch"]["encode_s"]
        total["bo"] += r["bare onnx"]["encode_s"]
    n = total["p"]
    lines += [
        *bench.md_table(HEAD, rows),
        "",
        f"All sets: today {n / total['today']:.1f} passages/s, default {n / total['default']:.1f} "
        f"({total['today'] / total['default']:.2f}x; goal 2x), bare torch {n / total['bt']:.1f}, "
        f"bare onnx {n / total['bo']:.1f}.",
    ]
    if found.get("note"):  # what the rows cannot say (other runs, what ran alongside), kept in results.json
        lines += ["", found["note"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    if sys.argv[1:2] == ["--bare"]:
        _bare_child(sys.argv[2], sys.argv[3])
        return
    parser = bench.parser(__doc__)
    parser.add_argument("--sets", nargs="+", default=["squad2", "squad1", "covid", "scifact"])
    parser.add_argument("--base", default="d70e930", help="the commit that is 'today'")
    args = parser.parse_args()
    saved = OUT / "results.json"
    if not args.write_docs:
        base = export(args.base)
        found = {
            "machine": bench.machine_line(),
            "commit": bench.commit(),
            "base": args.base,
            "sets": {},
        }
        for turn, name in enumerate(args.sets):
            (OUT / name).mkdir(parents=True, exist_ok=True)
            found["sets"][name] = run_set(name, base, turn)
            saved.write_text(json.dumps(found, indent=1))
    text = section(json.loads(saved.read_text()))
    print(text)
    if args.write_docs:
        bench.write_section(DOC, HEADING, text)


if __name__ == "__main__":
    main()
