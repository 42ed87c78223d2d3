"""Answer quality on public question sets, three retrievers side by side (issue 3). A script.

    .venv/bin/python benchmarks/public_sets.py                        # everything, about 1-2 h on 2 cores
    .venv/bin/python benchmarks/public_sets.py --sets squad1 seeds --limit 200   # a quick look

Reads ../shared/data (see its README; nothing is copied into the repo), converts each set
with `qa convert` into benchmarks/out/<set>/ (gitignored), builds one index per set there
(incrementally: a rerun embeds nothing), and runs `qa eval`'s code path with the fusions
bm25, dense and convex (the default) on the same index. Every run leaves its rows and
report under benchmarks/out/<set>/; docs/benchmarks.md (our section only) and the plots
under docs/img/ are then rebuilt from all reports present, so a partial rerun updates its
own tables and keeps the others.

Sets: SQuAD v1.1 dev, SQuAD v2.0 dev (unanswerable questions), SciFact train queries
(graded qrels), COVID-QA (long articles), the seed questions, and "off-corpus": questions
of one set asked against another set's index, which should all be abstained on.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import bench

bench.on_path()
from dev_sets import (  # noqa: E402
    BENCHES,
    DATA,
    LABELS,
    OFF_CORPUS,
    SHARED_TOPICS,
    Bench,
    K,
    off_topic,
    open_engine,
    prepare,
    progress_printer,
    sample,
)

from qa import Engine, SearchOptions  # noqa: E402
from qa.encode.backends import default_embedder  # noqa: E402
from qa.eval.evaluate import EvalReport, evaluate, write_rows  # noqa: E402
from qa.eval.questions import Question, load_questions  # noqa: E402
from qa.eval.report import plot_curves  # noqa: E402

ROOT, OUT = bench.ROOT, bench.OUT  # OUT: converted sets and their indexes
RESULTS = OUT  # rows and reports; --results moves them (e.g. a full run beside quick samples)
RESUME = False
DOC = bench.DOCS / "benchmarks.md"
IMG = bench.DOCS / "img"
HEADING = "## Answer quality on public sets (issue 3)"
FUSIONS = ("bm25", "dense", "convex")
log = logging.getLogger("public_sets")
REPORT_FIELDS = set(EvalReport.__dataclass_fields__)  # reports also carry seconds, commit, date


def run(label: str, engine: Engine, questions: list[Question], columns: Sequence[str]) -> None:
    """Evaluate with every fusion; keep rows and report under RESULTS/<label>/."""
    for fusion in FUSIONS:
        if RESUME and done_before(label, fusion, len(questions)):
            log.info("%s %s: kept the report of this commit (--resume)", label, fusion)
            continue
        started = time.perf_counter()
        options = SearchOptions(k=K, fusion=fusion)
        done = evaluate(engine, questions, options, progress=progress_printer(f"{label} {fusion}: question"))
        write_rows(RESULTS / label / f"results-{fusion}.jsonl", done.rows)
        seconds = round(time.perf_counter() - started, 1)
        record = {
            **asdict(done.report),
            "seconds": seconds,
            "commit": bench.commit(),
            "date": time.strftime("%Y-%m-%d"),
        }
        report_file = RESULTS / label / f"report-{fusion}.json"
        report_file.write_text(json.dumps(record, indent=1), encoding="utf-8")
        log.info("%s %s: %s", label, fusion, {k: done.report.metrics.get(k) for k in columns})


def done_before(label: str, fusion: str, questions: int) -> bool:
    """A report of the same commit and question count exists: a killed run can go on from there."""
    report = load_reports(label).get(fusion) or {}
    return report.get("commit") == bench.commit() and report.get("questions") == questions


def run_set(name: str, limit: int | None, model: Any) -> None:
    index, questions_file = prepare(name)
    questions = sample(load_questions(questions_file), limit)
    run(name, open_engine(index, model), questions, BENCHES[name].columns)


def run_off_corpus(limit: int, model: Any) -> None:
    """Questions of one set against another set's index: every one should be abstained on."""
    for asked, against in OFF_CORPUS:
        index, _ = prepare(against)
        _, questions_file = prepare(asked)
        picked = sample(load_questions(questions_file), limit, seed=1)
        off = [Question(f"{asked}:{q.id}", q.question, unanswerable=True) for q in picked]
        run(f"offcorpus-{asked}-on-{against}", open_engine(index, model), off, ("abstention",))
        apart = [o for q, o in zip(picked, off, strict=True) if not SHARED_TOPICS & set(q.article_ids)]
        run(f"offtopic-{asked}-on-{against}", open_engine(off_topic(against), model), apart, ("abstention",))


# --------------------------------------------------------------------------- docs


def load_reports(label: str) -> dict[str, dict[str, Any]]:
    """fusion -> stored report of benchmarks/out/<label>/ (only the fusions that were run)."""
    found = {}
    for fusion in FUSIONS:
        path = RESULTS / label / f"report-{fusion}.json"
        if path.is_file():
            found[fusion] = json.loads(path.read_text(encoding="utf-8"))
    return found


def cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def fusion_name(fusion: str) -> str:
    return {"bm25": "BM25 only", "dense": "dense only", "convex": "**convex (default)**"}[fusion]


def set_section(dev: Bench, reports: dict[str, dict[str, Any]]) -> list[str]:
    """A set's heading, what it measures, its table and its plot."""
    any_report = next(iter(reports.values()))
    ix, counts = any_report["index"], any_report["counts"]
    head = ["retriever", *(LABELS[c] for c in dev.columns), "p50 ms", "p95 ms"]
    rows = []
    for fusion, report in reports.items():
        m = report["metrics"]
        values = [cell(m.get(c)) for c in dev.columns]
        latency = [f"{m['latency_p50_ms']:.0f}", f"{m['latency_p95_ms']:.0f}"]
        rows.append([fusion_name(fusion), *values, *latency])
    return [
        f"### {dev.title}",
        "",
        f"{dev.note} {any_report['questions']:,} questions ({counts['unanswerable']:,} unanswerable); "
        f"Index: {ix['articles']:,} articles, {ix['passages']:,} passages, "
        f"manifest `{ix['manifest_sha256']}`.",
        "",
        *bench.md_table(head, rows),
        "",
        f"![AnswerRecall@k and Hit@k, {dev.title}](img/{dev.name}.png)",
        "",
    ]


def draw(label: str, title: str, reports: dict[str, dict[str, Any]]) -> None:
    series = {
        fusion: EvalReport(**{k: v for k, v in r.items() if k in REPORT_FIELDS})
        for fusion, r in reports.items()
    }
    plot_curves(series, IMG / f"{label}.png", title=title)


def off_corpus_section() -> list[str]:
    rows = []
    for kind, (asked, against) in itertools.product(("offcorpus", "offtopic"), OFF_CORPUS):
        reports = load_reports(f"{kind}-{asked}-on-{against}")
        if reports:
            n = next(iter(reports.values()))["questions"]
            rates = [cell(reports[f]["metrics"]["abstention"]) if f in reports else "-" for f in FUSIONS]
            backend = next(iter(reports.values()))["index"].get("backend", "backend not recorded")
            where = f"{BENCHES[against].title}{', off-topic' if kind == 'offtopic' else ''} ({backend})"
            rows.append([f"{BENCHES[asked].title} (sample of {n})", where, *rates])
    return [
        "### Off-corpus questions",
        "",
        "Questions of one set asked against another set's index, where no article can answer "
        "them; each one should be abstained on.",
        "",
        *bench.md_table(["questions", "index", *(fusion_name(f) for f in FUSIONS)], rows),
        "",
        "The numbers are the share of questions abstained on. Off-topic: the same samples without "
        "SQuAD's four life-science articles (Immune system, Pharmacy, Chloroplast, Oxygen), left out "
        "of the index and of the questions: SciFact's biomedical abstracts partly answer those.",
        "",
    ]


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


INTRO = """\
Written by `benchmarks/public_sets.py` from the reports it left in `{results}/`
(measured {runs}). The machine was shared with other work while this ran, so latencies are
indicative only:

> {machine}

Every question goes through `qa eval`'s code path, which is the chat's: `Engine.ask` with
k={k} passages per answer, and the same search taken deeper for the ranking metrics. Three
retrievers of qa run on the same index: BM25 only, dense only (all-MiniLM-L6-v2, exact FAISS)
and the default convex fusion of the two (min-max normalised scores, weight 0.5), each
followed by qa's sentence-evidence re-rank.

- Hit@k, MRR@10, nDCG@10: article level (an article's rank is that of its best passage);
  nDCG uses the graded qrels where a set has them.
- AR@k (AnswerRecall@k): a gold answer, normalised the SQuAD way, occurs in the top-k passages.
- cited sentence (answer accuracy): a gold answer occurs in the sentences the answer quotes.
  first sentence: the same test on the first sentence of the top passage, the baseline a
  sentence picker has to beat.
- abstained (unanswerable / answerable): share of those questions on which qa declined to answer.
- p50/p95 ms: wall time of one `Engine.ask`, model loaded.
"""

REFERENCES = """\
### Published reference points

From `../shared/data/README.md`, on the full sets: SciFact **test** queries, nDCG@10:
BM25 0.665-0.679, all-MiniLM-L6-v2 0.645, and a BM25 + dense hybrid with min-max fusion
above both (Pyserini's BEIR fusion experiments). Our SciFact row uses the **train** queries
(the test split is held out), on the same 5,183-abstract corpus, so it is comparable in kind
but not number for number. On SQuAD, questions share many words with their paragraph, so
BM25 is strong and a dense-only retriever loses to it; our SQuAD corpora are the dev
articles only (32 and 21 articles), far smaller than open-domain SQuAD over all of Wikipedia.

### Reproduce

```console
$ .venv/bin/python benchmarks/public_sets.py                          # all sets, all retrievers
$ .venv/bin/python benchmarks/public_sets.py --sets squad1 --limit 300 # a quick sample
$ qa eval benchmarks/out/squad1/questions.jsonl --index benchmarks/out/squad1/index --fusion bm25
```
"""


def section() -> str:
    labels = [*BENCHES, *(f"{kind}-{a}-on-{b}" for kind in ("offcorpus", "offtopic") for a, b in OFF_CORPUS)]
    stamps = {(r.get("date", "?"), r.get("commit", "?")) for n in labels for r in load_reports(n).values()}
    runs = ", ".join(f"{day} at commit `{sha}`" for day, sha in sorted(stamps))
    lines = [HEADING, "", INTRO.format(runs=runs, machine=bench.machine_line(), k=K, results=shown(RESULTS))]
    for dev in BENCHES.values():
        reports = load_reports(dev.name)
        if reports:
            draw(dev.name, dev.title, reports)
            lines += set_section(dev, reports)
    if any(load_reports(f"offcorpus-{a}-on-{b}") for a, b in OFF_CORPUS):
        lines += off_corpus_section()
    return "\n".join(lines) + "\n" + REFERENCES


def summary_table() -> str:
    """The short table for the README: the default retriever on every set."""
    keys = ("hit@1", "ndcg@10", "answer_recall@5", "answer_accuracy", "abstention")
    rows = []
    for dev in BENCHES.values():
        m = load_reports(dev.name).get("convex", {}).get("metrics")
        if m:
            rows.append([dev.title, *(cell(m.get(k)) for k in keys)])
    head = ["set", "Hit@1", "nDCG@10", "AR@5", "cited sentence", "abstained (unanswerable)"]
    return "\n".join(bench.md_table(head, rows))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    names = [*BENCHES, "offcorpus"]
    parser.add_argument("--sets", nargs="+", choices=names, default=names, help="sets to run (default: all)")
    parser.add_argument("--limit", type=int, help="questions per set: a fixed random sample")
    parser.add_argument("--off-corpus", type=int, default=300, help="questions per off-corpus pair")
    parser.add_argument("--docs-only", action="store_true", help="only rebuild the docs from stored reports")
    parser.add_argument("--results", type=Path, default=OUT, help="folder for rows and reports")
    parser.add_argument("--resume", action="store_true", help="skip runs already reported at this commit")
    args = parser.parse_args()
    global RESULTS, RESUME
    RESULTS, RESUME = args.results.resolve(), args.resume
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)  # else a bar per question
    if not args.docs_only:
        if not DATA.is_dir():
            sys.exit(f"{DATA} is missing: the public sets live in ../shared/data")
        model = default_embedder()
        for name in args.sets:
            if name == "offcorpus":
                run_off_corpus(min(args.off_corpus, args.limit or args.off_corpus), model)
            else:
                run_set(name, args.limit, model)
    bench.write_section(DOC, HEADING, section())
    log.info("wrote %r into %s; README table:\n%s", HEADING, DOC, summary_table())


if __name__ == "__main__":
    main()
