"""Checks that dev sets hide: dated archives with time words, and paraphrased questions (issue 11).

    .venv/bin/python benchmarks/news_checks.py                   # both checks, all sets
    .venv/bin/python benchmarks/news_checks.py --sets covid --limit 100

Date robustness: none of the dev sets has dates, so each set's articles get dates spread
over 2020-2025 (fixed by a hash of the id), and its questions are asked again with time
words ("this week", "recently", "in 2023", "latest") and an as-of date that does NOT fit
the gold article (the quiz's week is rarely the article's week) and one that does. Targets:
nDCG@10 and AnswerRecall@5 with time words within 0.01 of the same questions without them;
with a matching as-of date the gold article ranks at least as high as without time words.
"Gold ranked as high or higher" follows the best-ranked gold article, "the dated gold" the
one whose date the as-of fits; they differ only where a question has several gold articles
(15 of SciFact's 150 claims), dated years apart, so an as-of can fit only one of them.

Paraphrase: questions written by hand in other words than the article's
(benchmarks/checks/paraphrase-*.jsonl) and SciFact's claims; target: at most 5% wrongly refused.

The dated index starts as a copy of the set's own index (benchmarks/public_sets.py), so its
vectors are reused and nothing is embedded again. Results go to benchmarks/out/news-checks.json
and docs/benchmarks.md; a run of some sets keeps the others' saved results (marked with their
commit and backend), and leaves the docs alone rather than drop a table it has no results for.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import shutil
import statistics
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import bench

bench.on_path()
import dev_sets  # noqa: E402
from bench import write_section  # noqa: E402

from qa import Engine, SearchOptions, index_paths  # noqa: E402
from qa.eval.evaluate import evaluate  # noqa: E402
from qa.eval.questions import Question, load_questions  # noqa: E402
from qa.index.generation import manifest_backend  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ROOT / "benchmarks" / "checks"
DOC = bench.DOCS / "benchmarks.md"
HEADING = "## News checks: time words and paraphrase (issue 11)"
FIRST, DAYS = date(2020, 1, 1), 6 * 365  # articles are dated 2020-01-01 .. 2025-12-29
PHRASES = ("this week", "recently", "in YEAR", "latest")
SETS = ("squad1", "squad2", "covid", "scifact")
PARAPHRASED = ("seeds", "squad1", "covid", "scifact")  # seeds' 14 run with every set
log = logging.getLogger("news_checks")


def article_date(article_id: str) -> date:
    digest = hashlib.sha256(article_id.encode()).digest()
    return FIRST + timedelta(days=int.from_bytes(digest[:4], "big") % DAYS)


def dated_index(name: str) -> tuple[Path, Path, dict[str, date]]:
    """The set's articles with dates, indexed from a copy of its undated index (no embedding)."""
    index, questions = dev_sets.prepare(name)
    folder = dev_sets.OUT / f"dated-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    dates, lines = {}, []
    for line in (dev_sets.OUT / name / "articles.jsonl").read_text(encoding="utf-8").split("\n"):
        if line.strip():
            record = json.loads(line)
            dates[record["id"]] = article_date(record["id"])
            lines.append(json.dumps({**record, "date": dates[record["id"]].isoformat()}, ensure_ascii=False))
    (folder / "articles.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if not (folder / "index").exists():
        shutil.copytree(index, folder / "index")
    built = index_paths([folder / "articles.jsonl"], folder / "index")
    log.info("%s: dated index, %d passages, %d embedded", name, built.report.passages, built.report.embedded)
    return folder / "index", questions, dates


def with_phrase(text: str, phrase: str, year: int) -> str:
    """The question with time words added where people put them."""
    body = text.rstrip().rstrip("?").rstrip()
    end = "?" if text.rstrip().endswith("?") else ""
    if phrase == "latest":
        return f"What is the latest: {body}{end}"
    return f"{body} {phrase.replace('YEAR', str(year))}{end}"


def variant(q: Question, phrase: str, gold: date, matching: bool, rng: random.Random) -> Question:
    """q with time words; as-of (and the year named) fit the gold article's date or clearly don't."""
    if matching:
        back = {"this week": 6, "recently": 29, "latest": 29}.get(phrase, 0)
        as_of, year = gold + timedelta(days=rng.randint(0, back)), gold.year
    else:
        far = rng.choice((-1, 1)) * rng.randint(90, 700)
        as_of, year = gold + timedelta(days=far), gold.year + (1 if far > 0 else -1) * rng.randint(1, 2)
    text = with_phrase(q.question, phrase, year)
    return replace(q, id=f"{q.id}|{phrase}|{matching}", question=text, as_of=as_of.isoformat())


def gold_ranks(rows: list[dict]) -> list[int]:
    return [r["article_rank"] or 101 for r in rows]


def dated_gold_ranks(rows: list[dict], questions: list[Question]) -> list[int]:
    """Rank of the gold article whose date the as-of fits (the first): a SciFact claim may have
    golds from other years, which a matching as-of does not fit."""
    return [
        r["articles"].index(q.article_ids[0]) + 1 if q.article_ids[0] in r["articles"] else 101
        for r, q in zip(rows, questions, strict=True)
    ]


def share_not_lower(before: list[int], after: list[int]) -> float:
    return sum(a <= b for b, a in zip(before, after, strict=True)) / len(before)


def stamp(engine: Engine) -> dict:
    """Where a result was measured: commit, the index's backend, the 1-minute load average."""
    return {
        "commit": bench.commit(),
        "backend": manifest_backend(engine.index.manifest),
        "load": os.getloadavg()[0],
    }


def date_check(name: str, limit: int) -> dict:
    index, questions_file, dates = dated_index(name)
    asked = [q for q in load_questions(questions_file) if q.article_ids and not q.unanswerable]
    asked = dev_sets.sample(asked, limit)
    engine = Engine.from_index(index)
    options, stamped = SearchOptions(k=dev_sets.K), stamp(engine)
    plain = evaluate(engine, asked, options)
    out = {**stamped, "questions": len(asked), "plain": plain.report.metrics, "variants": {}}
    rng = random.Random(11)
    for phrase in PHRASES:
        for matching in (False, True):
            timed = [variant(q, phrase, dates[q.article_ids[0]], matching, rng) for q in asked]
            done = evaluate(engine, timed, options)
            before, after = gold_ranks(list(plain.rows)), gold_ranks(list(done.rows))
            out["variants"][f"{phrase}|{'match' if matching else 'other'}"] = {
                **{k: done.report.metrics.get(k) for k in ("ndcg@10", "answer_recall@5", "false_abstention")},
                "not_lower": share_not_lower(before, after),
                "dated_not_lower": share_not_lower(
                    dated_gold_ranks(list(plain.rows), asked), dated_gold_ranks(list(done.rows), timed)
                ),
                "median_rank": statistics.median(after),
                "example": timed[0].question,
            }
            log.info(
                "%s %s %s: %s",
                name,
                phrase,
                matching,
                out["variants"][f"{phrase}|{'match' if matching else 'other'}"],
            )
    return out


def paraphrase_check(name: str) -> dict | None:
    """Hand-written paraphrases of a set (or its own questions for SciFact, whose claims paraphrase)."""
    path = CHECKS / f"paraphrase-{name}.jsonl"
    if name == "scifact":
        index, path = dev_sets.prepare(name)
    elif path.exists():
        index, _ = dev_sets.prepare(name)
    else:
        return None
    questions, engine = load_questions(path), Engine.from_index(index)
    metrics = evaluate(engine, questions, SearchOptions(k=dev_sets.K)).report.metrics
    return {
        **stamp(engine),
        "questions": len(questions),
        **{k: metrics.get(k) for k in ("false_abstention", "hit@5", "answer_recall@5", "answer_accuracy")},
    }


def cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def measured(result: dict, now: dict) -> str:
    """Why a result kept from an earlier run differs from the header: " (measured at `c` on B)"."""
    at, backend = result.get("commit"), result.get("backend")
    if (at, backend) == (now["commit"], now["backend"]):
        return ""
    where = f"`{at}`" if at else "an earlier commit"  # results saved before they carried one
    return f" (measured at {where}" + (f" on {backend})" if backend else ")")


def date_table(name: str, result: dict, now: dict) -> list[str]:
    plain = result["plain"]
    lines = [
        f"**{dev_sets.BENCHES[name].title}**, {result['questions']} questions; without time words: "
        f"nDCG@10 {cell(plain.get('ndcg@10'))}, AR@5 {cell(plain.get('answer_recall@5'))}, "
        f"refused {cell(plain.get('false_abstention'))}{measured(result, now)}.",
        "",
        "| time words | as-of date fits gold? | nDCG@10 (Δ) | AR@5 (Δ) | refused "
        "| gold ranked as high or higher | the dated gold as high or higher | example |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, v in result["variants"].items():
        phrase, fit = key.split("|")
        deltas = []
        for metric in ("ndcg@10", "answer_recall@5"):
            got, base = v.get(metric), plain.get(metric)
            deltas.append("-" if got is None else f"{got:.3f} ({got - base:+.3f})")
        lines.append(
            f"| {phrase} | {'yes' if fit == 'match' else 'no'} | {deltas[0]} | {deltas[1]} | "
            f"{cell(v['false_abstention'])} | {v['not_lower']:.3f} | {v['dated_not_lower']:.3f} "
            f"| {v['example'][:70]} |"
        )
    return lines + [""]


def write_docs(results: dict[str, dict[str, dict]], now: dict) -> None:
    loads = [r["load"] for c in results.values() for r in c.values() if not measured(r, now) and "load" in r]
    load = f"{min(loads, default=0):.1f}-{max(loads, default=0):.1f}"
    text = [
        HEADING,
        "",
        f"`benchmarks/news_checks.py` at commit `{now['commit']}` on {now['backend']} indexes, "
        f"{bench.machine_line()}; 1-minute load average {load} as each check began.",
        "",
    ]
    parts = __doc__.split("\n\n")
    text += [parts[1], ""]  # the commands, kept as a code block
    for paragraph in parts[2:4]:  # what each check measures
        text += [" ".join(paragraph.split()), ""]
    for name, result in results["dated"].items():
        text += date_table(name, result, now)
    text += [
        'Paraphrased questions (wrongly refused: answerable questions answered "the articles don\'t say"):',
        "",
        "| questions | count | wrongly refused | Hit@5 | AR@5 | quoted sentence holds the answer |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results["paraphrase"].items():
        text.append(
            f"| {name}{measured(r, now)} | {r['questions']} | {cell(r['false_abstention'])} | "
            f"{cell(r['hit@5'])} | {cell(r['answer_recall@5'])} | {cell(r['answer_accuracy'])} |"
        )
    write_section(DOC, HEADING, "\n".join(text))


def para_label(name: str) -> str:
    return "SciFact claims" if name == "scifact" else f"paraphrase-{name}"


def merged(saved: dict, ran: dict) -> dict[str, dict[str, dict]]:
    """This run's results over the saved ones, set by set, in a fixed order: a run of some sets
    keeps the other sets' last results (each carries its commit and backend)."""
    order = {"dated": SETS, "paraphrase": tuple(para_label(n) for n in PARAPHRASED)}
    out = {}
    for check, keys in order.items():
        both = {**saved.get(check, {}), **ran.get(check, {})}
        out[check] = {key: both[key] for key in keys if key in both}
    return out


def lost(section: str, results: dict[str, dict[str, dict]]) -> list[str]:
    """Sets whose tables `section` shows but `results` lacks (a partial run without saved results)."""
    gone = [n for n in SETS if f"**{dev_sets.BENCHES[n].title}**" in section and n not in results["dated"]]
    return gone + [
        k for k in map(para_label, PARAPHRASED) if f"| {k}" in section and k not in results["paraphrase"]
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--limit", type=int, default=300, help="questions per set (a fixed sample)")
    parser.add_argument(
        "--out", type=Path, default=dev_sets.OUT / "news-checks.json", help="results, kept and merged"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    saved = json.loads(args.out.read_text(encoding="utf-8")) if args.out.is_file() else {}
    ran: dict[str, dict] = {"dated": {n: date_check(n, args.limit) for n in args.sets}, "paraphrase": {}}
    for name in PARAPHRASED:
        if (name == "seeds" or name in args.sets) and (r := paraphrase_check(name)):
            ran["paraphrase"][para_label(name)] = r
    results = merged(saved, ran)
    args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    now = {"commit": bench.commit(), "backend": next(iter(ran["paraphrase"].values()))["backend"]}
    doc = DOC.read_text(encoding="utf-8") if DOC.is_file() else ""
    if gone := lost(doc.partition(HEADING)[2].split("\n## ")[0], results):
        log.error("%s not rewritten: it shows %s, not run now nor saved in %s", DOC, gone, args.out)
        raise SystemExit(1)
    write_docs(results, now)


if __name__ == "__main__":
    main()
