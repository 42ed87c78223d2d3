"""Is onnx-int8 good enough to be the default backend? torch and int8 indexes of every dev set (issue 16).

    .venv/bin/python benchmarks/default_backend.py build               # int8 index of each set
    .venv/bin/python benchmarks/default_backend.py crowded             # seed + every dev article
    .venv/bin/python benchmarks/default_backend.py eval [--limit 300]  # the same questions on both
    .venv/bin/python benchmarks/default_backend.py docs                # our section of docs/benchmarks.md

The bar: on every set the int8 index stays within 0.005 of the torch index on the set's
headline metric (nDCG@10 for SciFact, AnswerRecall@5 for the SQuAD sets and COVID-QA) and
on answer sentence choice ("the cited sentence holds the answer", `answer_accuracy`).

build: each set is converted as benchmarks/dev_sets.py does into benchmarks/out/<set>/ and
indexed with `--backend onnx-int8` into benchmarks/out/<set>/index-onnx-int8. The torch index
of each set is another checkout's (default /work/main/benchmarks/out/<set>/index, --torch-root)
built from byte-identical articles.jsonl (checked), copied to benchmarks/out/<set>/index-torch.
eval: `qa eval`'s code path (k=10, default fusion) on a fixed sample of each set's questions
(dev_sets.sample, seed 0), the same questions for both indexes, each encoded by the index's backend.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import bench

bench.on_path()
import dev_sets  # noqa: E402
from dev_sets import live_copy, open_engine, progress_printer, sample  # noqa: E402

from qa import SearchOptions  # noqa: E402
from qa.eval.evaluate import evaluate  # noqa: E402
from qa.eval.metrics import within  # noqa: E402
from qa.eval.questions import load_questions  # noqa: E402
from qa.index.generation import manifest_backend  # noqa: E402
from qa.index.passage_index import PassageIndex  # noqa: E402
from qa.search.options import EVAL_K  # noqa: E402

ROOT, OUT, DOC = bench.ROOT, bench.OUT, bench.DOCS / "benchmarks.md"
RESULT = OUT / "default-backend" / "quality.json"
BUILDS = OUT / "default-backend" / "builds.json"
HEADING = "## The default backend: onnx-int8 against torch on every dev set (issue 16)"
SETS = {  # set -> (title, headline metric)
    "seeds": ("Seed questions", "answer_recall@1"),
    "squad1": ("SQuAD v1.1 dev", "answer_recall@5"),
    "squad2": ("SQuAD v2.0 dev", "answer_recall@5"),
    "covid": ("COVID-QA", "answer_recall@5"),
    "scifact": ("SciFact train", "ndcg@10"),
    "seeds-crowded": ("Seed questions among every dev article", "answer_recall@1"),
}
BAR = 0.005
HISTORY = """\
**How int8 became the default.** A 1,000-question SQuAD v1.1 sample (2026-11-28, `7ee325b`) put
int8's AnswerRecall@5 at -0.006, 0.001 beyond the bar (6 questions lost, none gained), so
onnx-fp32 (torch's vectors at 1.26x its speed) stayed the default while int8 was studied
(branches issue-16c and issue-16d, not merged): a second recipe keeping layer 0's attention and
feed-forward outputs in fp32 came closer to torch's vectors (mean cosine 0.9958 against 0.9929)
and passed the whole sets too, but changed which sentence one seed question (seed-09) cites
through a 0.007 near-tie of passage scores in the 4-passage seed index; questions encoded in
fp32 against int8 passages, and int8 with every attention and feed-forward output in fp32
(1.69x torch's CPU, short of the 2x), did no better. Asked every question of every set, the
shipped recipe (the rows above: `qa/encode/onnx_export.py` quantize_int8, weights int8 per channel)
stays within the bar everywhere and cites the same answer for every seed question alone and
among every dev article (*seeds-crowded*: the 14 answerable seed questions in an index of the
seed plus SQuAD v1.1, SQuAD v2.0, COVID-QA and SciFact, 21,806 passages, built from the SciFact
int8 index as answer_choice.py builds its torch one: answer accuracy 1.000 for both, AnswerRecall@1
0.929 for both). The samples overstated a small real loss; the whole sets are the measurement.
The commit column is the checkout's HEAD when a run ended: the runs of 2026-11-29 used its qa/
with the default switched to onnx-int8, committed as `cea6028`. SciFact's build (15,887
passages, the largest set) peaked at 521 MB, over the 500 MB goal set on SQuAD-sized builds
(recipe 2 on branch issue-16d: 514 MB; torch's and fp32's peak on SciFact not measured)."""
log = logging.getLogger("default_backend")


def convert(name: str) -> Path:
    if name != "seeds":
        return dev_sets.convert(name)
    (OUT / name).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "seeds" / "questions.jsonl", OUT / name / "questions.jsonl")
    return OUT / name


def build(names: list[str], torch_root: Path) -> None:
    """`qa index --rebuild` of each set by the CLI with its default backend, in a child process
    under GNU time (its peak resident set, %M, is the largest of the command and its workers)."""
    found = json.loads(BUILDS.read_text()) if BUILDS.is_file() else {}
    for name in names:
        folder = convert(name)
        source = ROOT / "seeds" if name == "seeds" else folder / "articles.jsonl"
        theirs = torch_root / name / "articles.jsonl"
        if name != "seeds" and theirs.is_file() and theirs.read_bytes() != source.read_bytes():
            raise SystemExit(f"{theirs} differs from {source}: not the same corpus")
        index, load, before = folder / "index-onnx-int8", os.getloadavg()[0], os.times()
        started = time.perf_counter()
        peak = OUT / "default-backend" / "peak-kb.txt"
        peak.parent.mkdir(parents=True, exist_ok=True)
        command = ["/usr/bin/time", "-f", "%M", "-o", str(peak), sys.executable, "-m", "qa", "index"]
        command += [str(source), "--index", str(index), "--rebuild", "--json"]
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)
        after, report = os.times(), json.loads(done.stdout.strip().splitlines()[-1])
        backend = manifest_backend(PassageIndex.load(index).manifest)
        if backend != "onnx-int8":
            raise SystemExit(f"{index}: built with {backend}, not the default onnx-int8")
        cpu = after.children_user + after.children_system - before.children_user - before.children_system
        row = {
            "passages": report["passages"],
            "wall_s": round(time.perf_counter() - started, 1),
            "cpu_s": round(cpu, 1),
            "peak_rss_mb": round(int(peak.read_text().split()[-1]) / 1024),
            "load": f"{load:.1f} before, {os.getloadavg()[0]:.1f} after",
            "commit": bench.commit(),
        }
        found[name] = row
        BUILDS.write_text(json.dumps(found, indent=1))  # apart from RESULT: eval may run meanwhile
        log.info("%s: %s", name, row)


def crowded(torch_crowded: Path) -> None:
    """The seed questions in a crowded index (issue 12's check: IDF and neighbours change, the
    answer must not): an int8 index of the seed plus every dev set's articles, built from a copy
    of the SciFact int8 index as answer_choice.py builds its torch one (torch_crowded, copied), so
    that `eval --sets seeds-crowded` asks both."""
    folder = OUT / "seeds-crowded"
    folder.mkdir(parents=True, exist_ok=True)
    rows = (ROOT / "seeds" / "questions.jsonl").read_text().splitlines()
    answerable = [line for line in rows if line.strip() and not json.loads(line).get("unanswerable")]
    (folder / "questions.jsonl").write_text("\n".join(answerable) + "\n")
    if not (folder / "index-torch" / "CURRENT").is_file():
        live_copy(torch_crowded, folder / "index-torch")
    index = folder / "index-onnx-int8"
    if not (index / "CURRENT").is_file():
        # Built beside and renamed when done: a killed or failed build never passes for the
        # crowded index on a rerun (a copy of the SciFact index alone also has a CURRENT).
        building = folder / "index-onnx-int8.building"
        shutil.rmtree(building, ignore_errors=True)
        live_copy(OUT / "scifact" / "index-onnx-int8", building)
        dev = ("squad1", "squad2", "covid", "scifact")
        sources = [ROOT / "seeds", *(OUT / name / "articles.jsonl" for name in dev)]
        command = [sys.executable, "-m", "qa", "index", *map(str, sources), "--index", str(building)]
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        if done.returncode:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
        building.rename(index)


def torch_index(name: str, torch_root: Path) -> Path:
    """A copy, under benchmarks/out/<set>/index-torch, of the torch index's live generation at
    torch_root (another checkout rewrites its own while this runs)."""
    copy = OUT / name / "index-torch"
    if not (copy / "CURRENT").is_file():
        live_copy(torch_root / name / "index", copy)
    return copy


def measure(index: Path, questions: list[Any]) -> dict[str, Any]:
    engine = open_engine(index, None)  # questions encoded by the index's own backend
    options, progress = SearchOptions(k=EVAL_K), progress_printer(f"{index}: question")
    done = evaluate(engine, questions, options, progress=progress)
    flags = {  # per question, to count the questions that changed either way
        "answer_accuracy": [bool(r.get("correct")) for r in done.rows],
        "answer_recall@5": [bool(within(r.get("answer_rank"), 5)) for r in done.rows],
    }
    found = {"metrics": done.report.metrics, "index": done.report.index, "commit": bench.commit()}
    return {"backend": manifest_backend(engine.index.manifest), **found, "flags": flags}


def run_eval(names: list[str], torch_root: Path, limit: int | None) -> None:
    found = json.loads(RESULT.read_text()) if RESULT.is_file() else {"sets": {}}
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    for name in names:
        questions = sample(load_questions(OUT / name / "questions.jsonl"), limit)
        load = os.getloadavg()[0]
        row = found["sets"].setdefault(name, {})
        indexes = {"torch": torch_index(name, torch_root), "onnx-int8": OUT / name / "index-onnx-int8"}
        for backend, index in indexes.items():
            if row.get(backend, {}).get("questions") == len(questions):
                continue  # measured before on the same sample (a killed run goes on from here)
            row[backend] = {**measure(index, questions), "questions": len(questions)}
            RESULT.write_text(json.dumps(found, indent=1))
        row.setdefault("load", f"{load:.1f} before, {os.getloadavg()[0]:.1f} after")
        row.update(questions=len(questions), date=row.get("date") or time.strftime("%Y-%m-%d %H:%M"))
        row["commit"] = row["torch"].get("commit") or row.get("commit")
        found["machine"] = bench.machine_line()
        RESULT.write_text(json.dumps(found, indent=1))
        log.info("%s: %s", name, verdict(name, row))


def verdict(name: str, row: dict[str, Any]) -> dict[str, float]:
    t, q = row["torch"]["metrics"], row["onnx-int8"]["metrics"]
    return {m: round(q[m] - t[m], 4) for m in (SETS[name][1], "answer_accuracy") if t.get(m) is not None}


def changed(row: dict[str, Any], metric: str) -> str:
    """Questions int8 got right and torch wrong / the other way round (when flags were kept)."""
    t, q = (row[b].get("flags", {}).get(metric) for b in ("torch", "onnx-int8"))
    if not t or not q:
        return ""
    pairs = list(zip(t, q, strict=True))
    return f"{sum(b and not a for a, b in pairs)} / {sum(a and not b for a, b in pairs)}"


def results() -> list[tuple[str, dict[str, Any]]]:
    """(set, row) of RESULT and of every other quality-*.json beside it (larger samples)."""
    files = [RESULT, *sorted(p for p in RESULT.parent.glob("quality-*.json") if p != RESULT)]
    found = [json.loads(f.read_text()) for f in files if f.is_file() and "-old" not in f.name]
    return [(name, row) for one in found for name, row in one["sets"].items() if "onnx-int8" in row]


def section() -> str:
    machine_of = json.loads(RESULT.read_text())["machine"]
    lines = [
        HEADING,
        "",
        "Written by `benchmarks/default_backend.py` from `benchmarks/out/default-backend/quality*.json`. "
        "The same questions (all of a set's, or a fixed sample, seed 0, where the count is smaller) asked, "
        "through `qa eval`'s code path (k=10, default fusion), of a torch index (the dev index of main, "
        "format 2) and of an onnx-int8 index of the same articles built by the default `qa index` "
        "(onnx-int8 since this measurement); each index encodes questions with its own backend. "
        f"The bar for int8 to be the default: within {BAR} of torch on the set's headline metric and on "
        '"the cited sentence holds the answer". "changed" counts the questions int8 got right and '
        "torch wrong, then the other way round.",
        "",
        f"> {machine_of}",
        "",
        "| set | questions | metric | torch | onnx-int8 | int8 - torch | changed (int8 / torch) "
        "| within 0.005 | load (1 min) | date, commit |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    misses = []
    for name, row in results():
        title = SETS[name][0]
        for metric, diff in verdict(name, row).items():
            label = {"answer_accuracy": "cited sentence holds the answer"}.get(metric, metric)
            t, q = row["torch"]["metrics"][metric], row["onnx-int8"]["metrics"][metric]
            ok = "yes" if diff >= -BAR else f"**no** (short by {-diff - BAR:.4f})"
            if diff < -BAR:
                misses.append(f"{title} ({row['questions']} questions) {label}")
            when = f"{row['date']}, `{row['commit']}`"
            lines.append(f"| {title} | {row['questions']} | {label} | {t:.4f} | {q:.4f} | {diff:+.4f} | "
                         f"{changed(row, metric)} | {ok} | {row['load']} | {when} |")
    if misses:
        lines += ["", f"Beyond the bar: {'; '.join(misses)}."]
    return "\n".join(lines + build_lines() + ["", HISTORY]) + "\n"


def build_lines() -> list[str]:
    """The default builds' cost: `qa index --rebuild` of each set, peak memory of all its processes."""
    builds = json.loads(BUILDS.read_text()) if BUILDS.is_file() else {}
    if not builds:
        return []
    rows = [
        [SETS[name][0], f"{b['passages']:,}", f"{b['wall_s']:.0f} s", f"{b['cpu_s']:.0f} s"]
        + [f"{b['peak_rss_mb']} MB", b["load"], f"`{b['commit']}`"]
        for name, b in builds.items()
    ]
    return [
        "",
        "The onnx-int8 indexes were built by `qa index --rebuild` with no `--backend` (the default), "
        "each in a child process under GNU time (peak RSS: the largest of the command and its "
        "splitting workers; goal under 500 MB):",
        "",
        *bench.md_table(["set", "passages", "wall", "CPU", "peak RSS", "load (1 min)", "commit"], rows),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=["build", "crowded", "eval", "docs"])
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--torch-root", type=Path, default=Path("/work/main/benchmarks/out"))
    parser.add_argument("--limit", type=int, default=300, help="questions per set (0: all)")
    parser.add_argument("--result", type=Path, help=f"results file (default {RESULT})")
    parser.add_argument("--torch-crowded", type=Path, help="answer_choice.py's crowded torch index")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.result:
        globals()["RESULT"] = args.result  # read by run_eval and section
    if args.step == "build":
        build(args.sets, args.torch_root)
    elif args.step == "crowded":
        crowded(args.torch_crowded or args.torch_root / "crowded" / "index")
    elif args.step == "eval":
        run_eval(args.sets, args.torch_root, args.limit or None)
    else:
        text = section()
        bench.write_section(DOC, HEADING, text)
        print(text)


if __name__ == "__main__":
    main()
