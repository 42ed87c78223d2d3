"""The public dev sets, shared by the benchmarks that ask their questions. A helper, not a script.

Each set of ../shared/data (see its README; nothing is copied into the repo) is converted
with `qa convert` into benchmarks/out/<set>/ (articles.jsonl, questions.jsonl; gitignored)
and indexed there (incrementally: a rerun embeds nothing). `prepare` does both; `sample`
picks the fixed random samples the benchmarks report on; `open_engine` asks an index with
the backend it was built with. Sets: SQuAD v1.1 dev, SQuAD v2.0 dev (unanswerable
questions), SciFact train queries (graded qrels), COVID-QA (long articles) and the seed
questions.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bench
import numpy as np

from qa import Engine, index_paths
from qa.encode.backends import default_embedder
from qa.eval.convert import convert_beir, convert_squad
from qa.eval.questions import Question
from qa.search.options import EVAL_K

DATA = bench.ROOT.parent / "shared" / "data"
OUT = bench.OUT  # each set converted and indexed in OUT/<set>/ (gitignored)
K = EVAL_K  # passages per answer: `qa eval`'s default
OFF_CORPUS = (("scifact", "squad1"), ("squad1", "scifact"))  # (questions of, asked against index of)
# SQuAD v1.1's articles on subjects SciFact's 5,183 biomedical abstracts also cover: their questions
# are partly answerable there ("What does the immune system protect against?") and the claims partly
# answerable by them, so the off-topic rows of the off-corpus check leave them out both ways.
SHARED_TOPICS = frozenset({"immune-system", "pharmacy", "chloroplast", "oxygen"})
SQUAD_FILES = {
    "squad1": "squad-dev/dev-v1.1.json",
    "squad2": "squad-dev/dev-v2.0.json",
    "covid": "covid-qa-dev/covid-qa.json",
}
log = logging.getLogger("dev_sets")


@dataclass(frozen=True)
class Bench:
    """One question set: where it comes from, and which metrics its table shows."""

    name: str
    title: str
    columns: tuple[str, ...]
    note: str


BENCHES = {
    b.name: b
    for b in (
        Bench(
            "squad1",
            "SQuAD v1.1 dev",
            (
                "hit@1",
                "hit@5",
                "mrr@10",
                "answer_recall@1",
                "answer_recall@5",
                "answer_recall@10",
                "answer_accuracy",
                "lead_accuracy",
                "false_abstention",
            ),
            "Crowd questions written while looking at one Wikipedia paragraph; gold is answer text.",
        ),
        Bench(
            "squad2",
            "SQuAD v2.0 dev",
            ("answer_recall@5", "answer_accuracy", "abstention", "false_abstention"),
            "About half the questions are unanswerable (written to look answerable from the article).",
        ),
        Bench(
            "scifact",
            "SciFact (BEIR), train queries",
            ("ndcg@10", "mrr@10", "hit@1", "hit@10"),
            "Scientific claims -> the abstracts that support or refute them; graded qrels.",
        ),
        Bench(
            "covid",
            "COVID-QA",
            (
                "hit@1",
                "answer_recall@1",
                "answer_recall@5",
                "answer_recall@10",
                "answer_accuracy",
                "lead_accuracy",
            ),
            "Long scientific articles (about 23k characters); does the cited sentence hold the answer, "
            "compared with the first sentence of the top passage?",
        ),
        Bench(
            "seeds",
            "Seed questions (seeds/questions.jsonl)",
            (
                "hit@1",
                "answer_recall@1",
                "answer_recall@3",
                "answer_accuracy",
                "abstention",
                "false_abstention",
            ),
            "The project's own news article and questions; the CI gate runs on this set.",
        ),
    )
}
LABELS = {
    "hit@1": "Hit@1",
    "hit@5": "Hit@5",
    "hit@10": "Hit@10",
    "mrr@10": "MRR@10",
    "ndcg@10": "nDCG@10",
    "answer_recall@1": "AR@1",
    "answer_recall@3": "AR@3",
    "answer_recall@5": "AR@5",
    "answer_recall@10": "AR@10",
    "answer_accuracy": "cited sentence",
    "lead_accuracy": "first sentence",
    "abstention": "abstained (unanswerable)",
    "false_abstention": "abstained (answerable)",
}


class LastQueryMemo:
    """Wraps the model so the deeper ranking search reuses the question vector `ask` just made.

    It remembers one text only: every timed `ask` still pays for its own embedding.
    """

    def __init__(self, inner: Any):
        from qa.encode.embedder import backend_of

        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.backend = backend_of(inner)  # what the index's backend is checked against
        self._last: tuple[str, np.ndarray] | None = None

    @property
    def fingerprint(self) -> str:
        return str(self.inner.fingerprint)

    def embed(self, texts: Sequence[str], progress: Any = None) -> np.ndarray:
        if len(texts) != 1:
            return self.inner.embed(texts, progress=progress)
        if self._last is None or self._last[0] != texts[0]:
            self._last = (texts[0], self.inner.embed(texts))
        return self._last[1].copy()


def convert(name: str) -> Path:
    """A public set (not the seeds) converted into benchmarks/out/<name>/ (cheap: rerun each time)."""
    folder = OUT / name
    if name == "scifact":
        convert_beir(DATA / "scifact", folder, split="train")
    else:
        convert_squad(DATA / SQUAD_FILES[name], folder)
    return folder


def prepare(name: str) -> tuple[Path, Path]:
    """Convert the set (cheap) and bring its index up to date (embeds only what is new)."""
    folder = OUT / name
    if name == "seeds":
        articles, questions = [bench.ROOT / "seeds"], bench.ROOT / "seeds" / "questions.jsonl"
    else:
        convert(name)
        articles, questions = [folder / "articles.jsonl"], folder / "questions.jsonl"
    started = time.perf_counter()
    built = index_paths(articles, folder / "index", progress=progress_printer(f"{name}: embedding"))
    r = built.report
    log.info(
        "%s: %d articles, %d passages, %d embedded in %.0fs",
        name,
        r.articles,
        r.passages,
        r.embedded,
        time.perf_counter() - started,
    )
    return folder / "index", questions


def progress_printer(label: str) -> Any:
    last = [0.0]

    def show(done: int, total: int) -> None:
        if time.monotonic() - last[0] > 30 or done == total:
            last[0] = time.monotonic()
            log.info("%s %d/%d", label, done, total)

    return show


def sample(questions: list[Question], limit: int | None, seed: int = 0) -> list[Question]:
    """A fixed random sample (in file order): the first N of SQuAD would all be one article."""
    if limit is None or limit >= len(questions):
        return questions
    keep = set(random.Random(seed).sample(range(len(questions)), limit))
    return [q for i, q in enumerate(questions) if i in keep]


def open_engine(index: Path, model: Any) -> Engine:
    """The index's engine; questions are encoded by the backend the index was built with."""
    from qa.index.build import recorded_backend

    return Engine.from_index(index, embedder=LastQueryMemo(default_embedder(recorded_backend(index))))


def live_copy(source: Path, target: Path) -> None:
    """A copy of the index at `source` holding only its live generation (its owner may write a
    new one meanwhile)."""
    live = (source / "CURRENT").read_text().strip()
    shutil.copytree(source / live, target / live)
    (target / "CURRENT").write_text(live + "\n")


def off_topic(name: str) -> Path:
    """The set's index without SHARED_TOPICS' articles: a copy, brought down to the others (no
    embedding); the set's own index when it has none of them."""
    index, _ = prepare(name)
    lines = (OUT / name / "articles.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if json.loads(line)["id"] not in SHARED_TOPICS]
    if len(kept) == len(lines):
        return index
    folder = OUT / f"{name}-off-topic"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "articles.jsonl").write_text("".join(kept), encoding="utf-8")
    if not (folder / "index" / "CURRENT").exists():
        live_copy(index, folder / "index")
    index_paths([folder / "articles.jsonl"], folder / "index")
    return folder / "index"
