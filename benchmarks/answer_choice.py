"""Answer choice, answer span and the crowded index (issue 12): run, then write the docs. A script.

    .venv/bin/python benchmarks/answer_choice.py run --label after --sets ../main/benchmarks/out
    PYTHONPATH=/tmp/base .venv/bin/python benchmarks/answer_choice.py run --label before --sets ...
    .venv/bin/python benchmarks/answer_choice.py docs      # docs/benchmarks.md section

`run` asks, through `qa eval`'s code path (`Engine.ask`, k=10), (1) the questions of the
dev articles the chooser was never trained on (the held-out articles listed in
qa/models/chooser.json; SQuAD's a fixed sample of 1,000), (2) the 300-question samples of
benchmarks/public_sets.py (whose articles the chooser partly trained on: these are for the
retrieval metrics, which must not move), and (3) the seed questions in the seed-only index
and in a crowded index of the seed plus every dev article. `--sets` is the folder holding
the built sets (<set>/questions.jsonl, articles.jsonl, index/); it is only read. Rows and
reports go to benchmarks/out/choice/<label>/, the crowded index to benchmarks/out/crowded/.
Run it once with PYTHONPATH at a checkout of the commit before the change and once after;
`docs` compares the two.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from doc_sections import write_section
from public_sets import DOC, OUT, ROOT, machine, open_engine, sample

from qa import SearchOptions, index_paths
from qa.evaluate import Question, evaluate, load_questions, write_rows
from qa.metrics import contains_answer, normalize_answer

RESULTS = OUT / "choice"
MODEL = ROOT / "qa" / "models" / "chooser.json"
CROWDED = OUT / "crowded" / "index"
DEV_ARTICLES = ("squad1", "squad2", "covid", "scifact")
HEADING = "## Answer choice and answer span (issue 12)"
log = logging.getLogger("answer_choice")


def held_out(sets: Path, name: str) -> list[Question]:
    """The set's questions whose article the shipped chooser never trained on."""
    articles = json.loads(MODEL.read_text())["trained"]["held_out_articles"][name]
    keep = {a.split(":", 1)[1] for a in articles}
    return [q for q in load_questions(sets / name / "questions.jsonl") if set(q.article_ids) & keep]


def build_crowded(sets: Path) -> Path:
    """Seed + every dev article, starting from a copy of the SciFact index so its 15,887
    passages are not embedded again (an unchanged passage's vectors are reused)."""
    if not (CROWDED / "CURRENT").exists():
        shutil.copytree(sets / "scifact" / "index", CROWDED)
        index_paths([ROOT / "seeds", *(sets / name / "articles.jsonl" for name in DEV_ARTICLES)], CROWDED)
    return CROWDED


def runs(sets: Path) -> list[tuple[str, Path, list[Question]]]:
    seeds = [q for q in load_questions(ROOT / "seeds" / "questions.jsonl") if not q.unanswerable]
    squad, covid = (load_questions(sets / name / "questions.jsonl") for name in ("squad1", "covid"))
    return [
        ("squad1-held-out", sets / "squad1" / "index", sample(held_out(sets, "squad1"), 1000)),
        ("covid-held-out", sets / "covid" / "index", held_out(sets, "covid")),
        ("squad1-sample", sets / "squad1" / "index", sample(squad, 300)),
        ("covid-sample", sets / "covid" / "index", sample(covid, 300)),
        ("seeds", sets / "seeds" / "index", seeds),
        ("seeds-crowded", build_crowded(sets), seeds),
    ]


def run(label: str, sets: Path, only: list[str] | None = None) -> None:
    (RESULTS / label).mkdir(parents=True, exist_ok=True)
    for name, index, questions in runs(sets):
        if only and name not in only:
            continue
        started = time.perf_counter()
        done = evaluate(open_engine(index, None), questions, SearchOptions(k=10))  # the index's own backend
        write_rows(RESULTS / label / f"{name}.jsonl", done.rows)
        extra = {"spans": span_metrics(done.rows), "first": first_metrics(done.rows)}
        record = {**asdict(done.report), **extra, "seconds": time.perf_counter() - started}
        (RESULTS / label / f"{name}.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
        log.info("%s %s: %s", label, name, {k: done.report.metrics[k] for k in ("answer_accuracy", "hit@1")})


def first_metrics(rows: list[dict[str, Any]]) -> dict[str, float]:
    """The first quoted sentence alone holds a gold answer; share of answers quoting two."""
    scored = [r for r in rows if r["gold"]["answers"]]
    said = [r["answer"]["sentences"] if r["answer"] else [] for r in scored]
    first = [bool(s) and contains_answer(s[0]["text"], r["gold"]["answers"]) for r, s in zip(scored, said)]
    return {
        "first_holds": sum(first) / len(scored) if scored else 0.0,
        "two_quoted": sum(len(s) == 2 for s in said) / len(scored) if scored else 0.0,
    }


def span_metrics(rows: list[dict[str, Any]]) -> dict[str, float | int]:
    """answer.span against the gold answers: given, precision (given and sharing a word with
    a gold answer), exact match and token F1 (over the questions given a span, and over all)."""
    scored = [r for r in rows if r["gold"]["answers"]]
    pairs = [(r["gold"]["answers"], (r["answer"] or {}).get("span")) for r in scored]
    given = [(golds, s["text"]) for golds, s in pairs if s]
    if not given:
        return {"questions": len(scored), "given": 0}
    from qa.metrics import token_f1  # added with the span (issue 12)

    f1 = [max(token_f1(text, g) for g in golds) for golds, text in given]
    exact = [any(normalize_answer(text) == normalize_answer(g) for g in golds) for golds, text in given]
    n = len(scored)
    return {
        "questions": n,
        "given": len(given),
        "precision": sum(f > 0 for f in f1) / len(given),
        "exact_given": sum(exact) / len(given),
        "f1_given": sum(f1) / len(given),
        "exact_all": sum(exact) / n,
        "f1_all": sum(f1) / n,
    }


def load(label: str, name: str) -> dict[str, Any]:
    return json.loads((RESULTS / label / f"{name}.json").read_text(encoding="utf-8"))


def docs() -> None:
    """The issue-12 section of docs/benchmarks.md from the before and after reports."""
    lines = [HEADING, "", f"Written by `benchmarks/answer_choice.py docs`; {machine()}.", "", DOC_INTRO, ""]
    lines += [
        "| questions | n | quoted holds gold | first sentence holds | two quoted | p50 ms |",
        "|---|---|---|---|---|---|",
    ]
    names = ("squad1-held-out", "covid-held-out", "squad1-sample", "covid-sample", "seeds", "seeds-crowded")
    for name in names:
        b, a = load("before", name), load("after", name)
        cells = [arrow(b["metrics"]["answer_accuracy"], a["metrics"]["answer_accuracy"])]
        cells += [arrow(b["first"]["first_holds"], a["first"]["first_holds"])]
        cells += [arrow(b["first"]["two_quoted"], a["first"]["two_quoted"])]
        cells += [f"{b['metrics']['latency_p50_ms']:.0f} -> {a['metrics']['latency_p50_ms']:.0f}"]
        lines.append(f"| {name} | {a['questions']} | " + " | ".join(cells) + " |")
    lines += ["", "Retrieval metrics (must not move; single questions search exactly as before):", ""]
    keys = ("hit@1", "mrr@10", "answer_recall@1", "answer_recall@5", "answer_recall@10")
    lines += ["| questions | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for name in ("squad1-sample", "covid-sample"):
        b, a = load("before", name)["metrics"], load("after", name)["metrics"]
        lines.append(f"| {name} | " + " | ".join(arrow(b[k], a[k]) for k in keys) + " |")
    lines += ["", "Answer span (`answer.span`) against the gold answers, after the change:", ""]
    lines += [
        "| questions | given | precision | EM (given) | F1 (given) | EM (all) | F1 (all) |",
        "|---" * 7 + "|",
    ]
    for name in names:
        s = load("after", name)["spans"]
        if s.get("given"):
            share = s["given"] / s["questions"]
            values = [s[k] for k in ("precision", "exact_given", "f1_given", "exact_all", "f1_all")]
            lines.append(f"| {name} | {share:.3f} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
    write_section(DOC, HEADING, "\n".join([*lines, "", DOC_OUTRO]))


DOC_INTRO = """\
Before: main at the commit this branch is based on (best evidence score plus 0.2 of the
passage score, a second sentence at 0.9 of the first). After: qa/choose.py's trained
chooser (qa/models/chooser.json, `benchmarks/train_chooser.py --cached --write`, seed 12;
a second sentence only at probability >= the model's `second` bar) and qa/span.py's span.
*held-out*: questions on the 30% of SQuAD v1.1 dev / COVID-QA dev articles the chooser never
saw (SQuAD: a fixed sample of 1,000). *sample*: public_sets.py's 300-question samples (partly
trained on; shown for the retrieval metrics). *seeds-crowded*: the seed questions in an index
of the seed plus every dev article (SQuAD v1.1 and v2.0, COVID-QA, SciFact). k=10,
`qa eval`'s code path. quoted holds gold = `answer_accuracy`."""


DOC_OUTRO = """\
Against the issue's targets: the quoted sentence holds the gold answer for 0.817 of the SQuAD
v1.1 sample and 0.808 of the held-out SQuAD articles (target 0.88 not reached; the oracle, any
candidate sentence of the top 10 passages, is 0.965), and for 0.513 / 0.566 of COVID-QA
(target 0.62 not reached; on the held-out COVID-QA articles the old rule's 0.573 is not
beaten: it quoted two sentences for 49% of questions, the chooser for 38%). The first quoted
sentence alone improves on every set. Seeds: 14 of 14 in the seed-only index, 13 of 14 in the
crowded one ("Who leads the North Korean delegation to Russia?" quotes the NATO sentence
there; the sentence naming Choe Son Hui ranks 5th). Span precision on SQuAD is 0.81 with a
span on 16% of questions (EM 0.67, F1 0.75 where given); no span on a low-confidence answer.
Retrieval metrics are unchanged by this work (a single question searches exactly as before;
only follow-ups search differently); both columns differ from the issue-3 table above by
main's own changes since (issue 11). The p50 column is not comparable: the runs shared the 2
cores with each other, the test suite and other engineers' benchmarks (load average 10-12).
Measured instead by CPU time, alternating processes, 100 COVID-QA questions, one thread:
`Engine.ask` p50 51.0 ms before, 57.2 ms after (+6 ms: features of every distinct sentence
of the 10 passages; sentence terms are cached across questions).

Follow-ups: tests/test_follow_ups.py asks 14 mixed-topic conversations (40 turns: topic
switches, refusals in between, follow-ups naming a new subject) over the seed plus five small
news articles (tests/data/news/) with the packaged model. Every turn searches the right
article and its `searched:` query holds only the question and terms of the previous answered
turn (all 14 pass); the quoted sentence holds the answer in 9 of 14 conversations (the other 5
are strict xfails naming the miss: 4 sentence choices, 1 paraphrase refused).

Reproduce (the sets built by benchmarks/public_sets.py; here read from the lead's checkout):

```
.venv/bin/python benchmarks/train_chooser.py --write    # sets copied into benchmarks/out/; seed 12
git archive <base> | tar -x -C /tmp/base
SETS=../main/benchmarks/out
PYTHONPATH=/tmp/base .venv/bin/python benchmarks/answer_choice.py run --label before --sets $SETS
.venv/bin/python benchmarks/answer_choice.py run --label after --sets $SETS
.venv/bin/python benchmarks/answer_choice.py docs
```"""


def arrow(before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return "-"
    return f"{before:.3f} -> **{after:.3f}**" if abs(after - before) >= 0.0005 else f"{after:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["run", "docs"])
    parser.add_argument("--label", default="after")
    parser.add_argument("--sets", type=Path, default=OUT, help="folder of the built sets (read only)")
    parser.add_argument("--only", nargs="+", help="run only these (e.g. seeds-crowded)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if args.action == "run":
        run(args.label, args.sets.resolve(), args.only)
    else:
        docs()


if __name__ == "__main__":
    main()
