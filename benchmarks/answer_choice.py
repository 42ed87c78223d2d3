"""Answer choice, answer span and the crowded index (issue 12): run, then write the docs. A script.

    .venv/bin/python benchmarks/answer_choice.py run --label after      # this checkout
    PYTHONPATH=/tmp/base .venv/bin/python benchmarks/answer_choice.py run --label before
    .venv/bin/python benchmarks/answer_choice.py docs                   # docs/benchmarks.md section

`run` asks, through `qa eval`'s code path (`Engine.ask`, k=10), (1) the questions of the
dev articles the chooser was never trained on (the held-out articles listed in
qa/models/chooser.json), (2) the 300-question samples of benchmarks/public_sets.py (whose
articles the chooser partly trained on: for the retrieval metrics, which must not move),
and (3) the seed questions in the seed-only index and in a crowded index of the seed plus
every dev article of ../shared/data. Rows and reports go to benchmarks/out/choice/<label>/.
Run it once at the commit before the change (PYTHONPATH pointing at that checkout) and once
after; `docs` compares the two.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from public_sets import OUT, ROOT, LastQueryMemo, machine, sample

from qa import Engine, SearchOptions, index_paths
from qa.embed import default_embedder
from qa.evaluate import Question, evaluate, load_questions, write_rows
from qa.metrics import normalize_answer, token_f1

RESULTS = OUT / "choice"
MODEL = ROOT / "qa" / "models" / "chooser.json"
CROWDED = OUT / "crowded" / "index"
DEV_ARTICLES = ("squad1", "squad2", "covid", "scifact")
log = logging.getLogger("answer_choice")


def held_out(name: str) -> list[Question]:
    """The set's questions whose article the shipped chooser never trained on."""
    articles = json.loads(MODEL.read_text())["trained"]["held_out_articles"][name]
    keep = {a.split(":", 1)[1] for a in articles}
    return [q for q in load_questions(OUT / name / "questions.jsonl") if set(q.article_ids) & keep]


def build_crowded() -> Path:
    """Seed + every dev article, starting from a copy of the SciFact index so its 15,887
    passages are not embedded again (an unchanged passage's vectors are reused)."""
    if not (CROWDED / "CURRENT").exists():
        shutil.copytree(OUT / "scifact" / "index", CROWDED)
    paths = [ROOT / "seeds", *(OUT / name / "articles.jsonl" for name in DEV_ARTICLES)]
    index_paths(paths, CROWDED)
    return CROWDED


def runs() -> list[tuple[str, Path, list[Question]]]:
    seeds = load_questions(ROOT / "seeds" / "questions.jsonl")
    return [
        ("squad1-held-out", OUT / "squad1" / "index", held_out("squad1")),
        ("covid-held-out", OUT / "covid" / "index", held_out("covid")),
        ("squad1-sample", OUT / "squad1" / "index", sample(load_questions(OUT / "squad1" / "questions.jsonl"), 300)),
        ("covid-sample", OUT / "covid" / "index", sample(load_questions(OUT / "covid" / "questions.jsonl"), 300)),
        ("seeds", OUT / "seeds" / "index", seeds),
        ("seeds-crowded", build_crowded(), seeds),
    ]


def run(label: str) -> None:
    model = default_embedder()
    for name, index, questions in runs():
        started = time.perf_counter()
        done = evaluate(Engine.from_index(index, embedder=LastQueryMemo(model)), questions, SearchOptions(k=10))
        write_rows(RESULTS / label / f"{name}.jsonl", done.rows)
        record = {**asdict(done.report), "spans": span_metrics(done.rows), "seconds": time.perf_counter() - started}
        (RESULTS / label / f"{name}.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
        log.info("%s %s: %s", label, name, {k: done.report.metrics[k] for k in ("answer_accuracy", "hit@1")})


def span_metrics(rows: list[dict[str, Any]]) -> dict[str, float | int]:
    """answer.span against the gold answers: given, precision (given and sharing a word with
    a gold answer), exact match and token F1 (over the questions given a span, and over all)."""
    scored = [r for r in rows if r["gold"]["answers"]]
    spans = [(r["answer"] or {}).get("span") for r in scored]
    f1 = [max(token_f1(s["text"], g) for g in r["gold"]["answers"]) for r, s in zip(scored, spans) if s]
    exact = [
        any(normalize_answer(s["text"]) == normalize_answer(g) for g in r["gold"]["answers"])
        for r, s in zip(scored, spans)
        if s
    ]
    n, given = len(scored), len(f1)
    return {
        "questions": n,
        "given": given,
        "precision": sum(f > 0 for f in f1) / given if given else 0.0,
        "exact_given": sum(exact) / given if given else 0.0,
        "f1_given": sum(f1) / given if given else 0.0,
        "exact_all": sum(exact) / n if n else 0.0,
        "f1_all": sum(f1) / n if n else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["run", "docs"])
    parser.add_argument("--label", default="after")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if args.action == "run":
        run(args.label)
    else:
        from choice_docs import write_docs  # benchmarks/ is on sys.path as a script

        write_docs(RESULTS, machine())
    sys.exit(0)


if __name__ == "__main__":
    main()
