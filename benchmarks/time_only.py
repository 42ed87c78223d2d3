"""Questions of only time words ("What happened this week?") on a dated archive.

    .venv/bin/python benchmarks/news_checks.py    # makes the dated indexes, once
    .venv/bin/python benchmarks/time_only.py --label after --write-docs

Such a question has no topic, so the date decides the ranking (search/engine.py gives it the
whole lift). News checks (news_checks.py) ask topical questions with time words; this asks
none but time words on the dated archives news_checks.py makes (each set's articles dated
over 2020-2025 by a hash of their id: SciFact about 2.4 a day, a dense archive; COVID-QA 65
and SQuAD 48 articles in six years, sparse ones, like a reader's own folder). Each question
is asked as of a day 0-3 days after a sampled article's date (so the window holds at least
that one), and of each top 10 (one passage per article) it counts: is the first inside the
window the words name, what share lies inside it, and what share is dated after the as-of
day (stories not yet written on the day asked: they should never rank above the window's).
Results are kept per --label; run from another checkout (its own benchmarks/out a link to
this one's) to get "before".
"""

from __future__ import annotations

import json
import random
import statistics
from datetime import date, timedelta

import bench

bench.on_path()
import dev_sets  # noqa: E402

from qa import Engine, SearchOptions  # noqa: E402
from qa.search.dates import date_intent  # noqa: E402

HEADING = "## Questions of only time words"
QUESTIONS = ("What happened this week?", "What is the latest news?", "What happened recently?")
SETS = ("scifact", "covid", "squad1")
K = 10
RESULTS = dev_sets.OUT / "time-only.json"


def as_of_days(engine: Engine, count: int, seed: int = 0) -> list[date]:
    rng = random.Random(seed)
    dated = sorted(a.date for a in engine.index.articles.values() if a.date)
    picked = rng.sample(dated, min(count, len(dated)))
    return [date.fromisoformat(d) + timedelta(days=rng.randint(0, 3)) for d in picked]


def top_dates(engine: Engine, question: str, as_of: date) -> list[date]:
    """The dates of the distinct articles of the top K, best first (a sparse window fills
    the K with more passages of its few articles)."""
    hits = engine.search(question, SearchOptions(k=K, as_of=as_of.isoformat(), per_article=1))
    firsts = {h.article.id: h.article.date for h in reversed(hits)}  # reversed: the best hit's order wins
    order = list(dict.fromkeys(h.article.id for h in hits))
    return [date.fromisoformat(d) for i in order if (d := firsts[i])]


def measure(engine: Engine, days: list[date]) -> dict[str, dict[str, float]]:
    rows = {}
    for question in QUESTIONS:
        first_in, inside, after = [], [], []
        for as_of in days:
            intent = date_intent(question, as_of)
            first, last = date.fromisoformat(intent.date_from), date.fromisoformat(intent.date_to)
            found = top_dates(engine, question, as_of)
            first_in.append(bool(found) and first <= found[0] <= last)
            inside.append(sum(first <= d <= last for d in found) / max(len(found), 1))
            after.append(sum(d > as_of for d in found) / max(len(found), 1))
        rows[question] = {
            "first": statistics.fmean(first_in),
            "inside": statistics.fmean(inside),
            "after": statistics.fmean(after),
        }
    return rows


def table(saved: dict) -> str:
    labels = sorted(saved, reverse=True)  # "before" first
    metrics = (("first", "top 1 in window"), ("inside", "in window"), ("after", "after as-of"))
    head = ["Archive", "Question", *(f"{title} ({lb})" for _, title in metrics for lb in labels)]
    rows = [
        [name, q, *(f"{saved[lb]['sets'][name][q][key]:.3f}" for key, _ in metrics for lb in labels)]
        for name in SETS
        if all(name in saved[lb]["sets"] for lb in labels)
        for q in QUESTIONS
    ]
    runs = "; ".join(f"{lb}: commit {saved[lb]['commit']}" for lb in labels)
    return "\n".join(
        [
            HEADING,
            "",
            "A question of nothing but time words, asked 0-3 days after a sampled article's date",
            f"({saved[labels[0]]['days']} per archive): is the first of the top 10's articles dated inside",
            "the window the words name, what share of its distinct articles is, and what share is dated",
            "after the as-of day (benchmarks/time_only.py on news_checks.py's dated archives, onnx-int8;",
            f"{runs}; {bench.machine_line()}).",
            "",
            *bench.md_table(head, rows, "ll" + "r" * (len(head) - 2)),
            "",
            "Where a window holds fewer than 10 articles (COVID-QA and SQuAD: about one a month), the",
            "rest of the 10 is whatever the few words match, dated anywhere, so a share after the as-of",
            "day stays: such articles get no lift now and rank by their words alone. A top 1 outside the",
            "window is an article dated a day or two before it, which the decay keeps nearly as good.",
        ]
    )


def main() -> None:
    parser = bench.parser(__doc__)
    parser.add_argument("--label", default="now", help="name of this run in the saved results")
    parser.add_argument("--days", type=int, default=60, help="as-of days asked per archive, a fixed sample")
    args = parser.parse_args()
    measured = {}
    for name in SETS:
        index = dev_sets.OUT / f"dated-{name}" / "index"
        if not index.is_dir():
            raise SystemExit(f"{index} is missing: run benchmarks/news_checks.py first")
        engine = Engine.from_index(index)
        measured[name] = measure(engine, as_of_days(engine, args.days))
    saved = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.is_file() else {}
    saved[args.label] = {"commit": bench.commit(), "days": args.days, "sets": measured}
    RESULTS.write_text(json.dumps(saved, indent=1), encoding="utf-8")
    print(table(saved))
    if args.write_docs:
        bench.write_section(bench.DOCS / "benchmarks.md", HEADING, table(saved))


if __name__ == "__main__":
    main()
