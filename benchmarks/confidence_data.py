"""The answer-confidence model's training data (used by train_confidence.py). A helper.

Answerable examples: questions of SQuAD v1.1/v2.0 dev, COVID-QA and SciFact asked against their own
articles. Not answerable: one set's questions against another set's articles (off-corpus) and SQuAD
v2.0's unanswerable questions. The questions that public_sets.py and news_checks.py report on (their
fixed samples, `held_out`) are left out, so the reported rates are measured on questions the model
never saw; `collect_held_out` collects theirs apart. A row: group, question id, label, index, the
signals (COLUMNS: qa's FEATURES, then the answer step's ANSWER_SIGNALS) and the ten best cosines.
"""

from __future__ import annotations

import json
import logging
import random
import re
import shutil
from pathlib import Path

import numpy as np
from dev_sets import OFF_CORPUS, OUT, open_engine, prepare, sample

from qa import SearchOptions, index_paths
from qa.encode.backends import default_embedder
from qa.eval.questions import Question, load_questions
from qa.search.answer_type import OTHER, read_question
from qa.search.choose import SENTENCE_FEATURES, candidates, score
from qa.search.choose import load_model as chooser_model
from qa.search.confidence import (
    FEATURES,
    MODEL_FILE,
    PROBE_VECTORS,
    Signals,
    load_model_file,
    probe_questions,
    signals,
)
from qa.search.dates import without_phrase
from qa.search.options import EVAL_K
from qa.search.retrieval import Retrieval
from qa.search.span import phrase_candidates, phrase_features
from qa.search.span import probabilities as span_probabilities

SEED = 11
PER_SET = 700  # training questions per (set, index) pair
REFUSE_AT_MOST = 0.03  # of any answerable training group, leaving room under the 5% target
INPUTS = ("best_support*passages", "known*passages", "passages", "cosine_lift")
# Signals of the answer step (qa/search/choose.py, span.py), measured on the sentence the answer
# quotes; tried as inputs (train_confidence.py's ALTERNATIVES) and kept out of the model: see its docstring.
ANSWER_SIGNALS = (
    "wh",  # 1 when the question is a question (a wh-word or "?"); SciFact's claims are not
    "asks_kind",  # 1 when it asks for a kind of answer (who -> name, how many -> number, ...)
    "typed_found",  # 0 when it asks for a kind and the quoted sentence holds no phrase of it, else 1
    "chosen_p",  # the chooser's probability for the quoted sentence (softmax over the candidates)
    "chosen_logit",  # the chooser's raw score of the quoted sentence
    "chosen_margin",  # that score minus the next candidate's
    "span_p",  # the span model's best phrase in the quoted sentence (1 when no kind is asked)
    "focus",  # the quoted sentence's IDF share of the question's words outside the article's title
    "typed_focus",  # the same, 0 when the sentence lacks a phrase of the asked kind
)
COLUMNS = (*FEATURES, *ANSWER_SIGNALS)
ANSWER_TRIED = {  # the shipped inputs plus answer-step ones ("a*wh": only for questions)
    "+ typed_found": ("typed_found",),
    "+ chosen_logit": ("chosen_logit",),
    "+ chosen_logit*passages": ("chosen_logit*passages",),
    "+ chosen_margin": ("chosen_margin",),
    "+ span_p": ("span_p",),
    "+ focus": ("focus",),
    "+ wh, typed_found*wh": ("wh", "typed_found*wh"),
    "+ wh, chosen_logit*wh": ("wh", "chosen_logit*wh"),
    "+ wh, typed_focus*wh": ("wh", "typed_focus*wh"),
    "+ wh, focus*wh, chosen_logit*wh": ("wh", "focus*wh", "chosen_logit*wh"),
    "+ wh, passages*wh": ("wh", "passages*wh"),
    "+ wh, passages*wh, typed_found*wh": ("wh", "passages*wh", "typed_found*wh"),
    "+ wh, every input*wh, typed_found*wh": ("wh", *(f"{name}*wh" for name in INPUTS), "typed_found*wh"),
}
QUESTION_WORD = re.compile(r"\b(?:who|whom|whose|what|which|when|where|why|how)\b", re.IGNORECASE)
OWN = ("squad1", "squad2", "covid", "scifact")
OFF = (
    ("scifact", "squad1"),
    ("squad1", "scifact"),
    ("covid", "squad1"),
    ("squad1", "covid"),
    ("scifact", "squad2"),
    ("squad2", "covid"),
)
SMALL_INDEXES, SMALL_QUESTIONS = 12, 20  # per set: indexes of 1-4 articles, questions each way
SIGNALS = OUT / "confidence-signals.jsonl"
HELD_OUT = OUT / "confidence-heldout.jsonl"
CONFOUNDS = OUT / "confidence-confounds.jsonl"  # --confounds: extra training groups, see there
CHECKS = Path(__file__).parent / "checks"
log = logging.getLogger("confidence_data")


def held_out(name: str, questions: list[Question]) -> set[str]:
    """Ids the benchmarks report on: public_sets' sample (seed 0), its off-corpus one (seed 1)
    and news_checks' sample of questions with gold articles."""
    gold = [q for q in questions if q.article_ids and not q.unanswerable]
    samples = [sample(questions, 300, seed=0), sample(questions, 300, seed=1), sample(gold, 300)]
    return {q.id for picked in samples for q in picked}


def training_questions(name: str, answerable: bool | None, limit: int | None = PER_SET) -> list[Question]:
    _, path = prepare(name)
    questions = load_questions(path)
    skip = held_out(name, questions)
    picked = [
        q for q in questions if q.id not in skip and (answerable is None or q.unanswerable != answerable)
    ]
    random.Random(SEED).shuffle(picked)
    return picked[:limit]


def collect_group(group: str, index: Path, questions: list[Question], label: int) -> list[dict]:
    """Every signal of every question, and the index's ten best cosines (the question's vector is
    the one the retrieval made: LastQueryMemo keeps it)."""
    engine = open_engine(index, None)
    rows = []
    for q in questions:
        found = engine.retrieve(q.question, SearchOptions(k=EVAL_K))
        assert found.terms is not None
        measured = signals(
            found.terms, found.evidence, found.hits, len(engine.index.passages), engine.null, found.best_dense
        )
        values = [measured.values[f] for f in FEATURES] + answer_step(q.question, found)
        best, _ = engine.store.search(engine.embedder.embed([found.query]), 10)
        dense = [round(float(s), 6) for s in best[0]]
        where = str(index.relative_to(OUT))
        rows.append({"group": group, "id": q.id, "label": label, "index": where, "x": values, "dense": dense})
    log.info("%s: %d questions", group, len(rows))
    return rows


def answer_step(question: str, found: Retrieval) -> list[float]:
    """ANSWER_SIGNALS of one retrieval: the sentence the answer would quote (qa/search/answer.py's
    choose_sentences takes the chooser's first) and what the chooser and span model make of it."""
    view = read_question(without_phrase(question, found.intent), found.query)
    ranked = score(candidates(view, found.evidence, found.hits))
    wh = float(bool(QUESTION_WORD.search(question)) or question.rstrip().endswith("?"))
    asks = float(view.kind != OTHER)
    if not ranked:
        return [wh, asks, 1.0 - asks, 0.0, 0.0, 0.0, 1.0 - asks, 0.0, 0.0]
    weights = chooser_model()["sentence"]
    x = (np.array([c.features for c in ranked[:2]]) - weights["mean"]) / weights["scale"]
    logits = (x @ np.asarray(weights["weights"])).tolist() + [0.0]
    top = dict(zip(SENTENCE_FEATURES, ranked[0].features, strict=True))
    phrases = phrase_candidates(view, ranked[0].text)
    rows = phrase_features(view, ranked[0].text, phrases, ranked[0].probability)
    span = float(span_probabilities(rows, chooser_model()["span"]).max()) if phrases else 0.0
    return [
        wh, asks, 1.0 - asks * top["typed_missing"], ranked[0].probability, logits[0],
        logits[0] - logits[1], span if asks else 1.0, top["focus_overlap"], top["typed_focus"],
    ]  # fmt: skip


def small_corpora() -> list[dict]:
    """Indexes of 1 to 4 articles (a user's first folder, the shipped seed): the best cosine of an
    unrelated question is lower there than among thousands of passages, so the model must see them.
    Answerable: questions of those articles; not: other sets' questions asked of them."""
    rows: list[dict] = []
    rng = random.Random(SEED)
    for name in ("squad1", "covid"):
        questions = training_questions(name, True, limit=None)
        articles = [json.loads(x) for x in (OUT / name / "articles.jsonl").read_text().split("\n") if x]
        strangers = training_questions("scifact" if name == "squad1" else "squad1", True)
        for n in range(SMALL_INDEXES):
            picked = rng.sample(articles, 1 + n % 4)
            folder = OUT / "small" / f"{name}-{n}"
            folder.mkdir(parents=True, exist_ok=True)
            lines = "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in picked)
            (folder / "articles.jsonl").write_text(lines, encoding="utf-8")
            index_paths([folder / "articles.jsonl"], folder / "index")
            ids = {a["id"] for a in picked}
            own = [q for q in questions if set(q.article_ids) <= ids][:SMALL_QUESTIONS]
            rows += collect_group(f"small-{name}", folder / "index", own, 1)
            rows += collect_group(
                f"small-{name}-off", folder / "index", rng.sample(strangers, SMALL_QUESTIONS), 0
            )
    return rows


def collect_confounds() -> list[dict]:
    """Training groups that the dev sets lack, for a study (--confounds; not in the shipped
    model's training): in them an index's size and a query's form give its data set away. The
    one large index holds only claims, and every claim asked of a small index is off-corpus.
    Here: SciFact claims asked of small indexes of their own abstracts (answerable) and SQuAD
    questions asked of those (not), and both sets' training questions asked of the mixed index
    (answerable among 18,073 passages)."""
    rows: list[dict] = []
    rng = random.Random(SEED)
    claims = [q for q in training_questions("scifact", True, limit=None) if q.article_ids]
    lines = (OUT / "scifact" / "articles.jsonl").read_text(encoding="utf-8").split("\n")
    articles = {json.loads(line)["id"]: line for line in lines if line}
    strangers = training_questions("squad1", True)
    for n in range(SMALL_INDEXES):
        picked = {a for q in rng.sample(claims, 1 + n % 4) for a in q.article_ids if a in articles}
        folder = OUT / "small" / f"scifact-{n}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "articles.jsonl").write_text("".join(articles[a] + "\n" for a in sorted(picked)), "utf-8")
        index_paths([folder / "articles.jsonl"], folder / "index")
        own = [q for q in claims if set(q.article_ids) <= picked]
        rows += collect_group("small-scifact", folder / "index", own, 1)
        strange = rng.sample(strangers, SMALL_QUESTIONS)
        rows += collect_group("small-scifact-off", folder / "index", strange, 0)
    for name in MIXED_SETS:
        rows += collect_group(f"{name}-in-mixed", mixed_index(), training_questions(name, True, 400), 1)
    CONFOUNDS.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return rows


def embed_probes() -> None:
    """The probe questions' vectors (qa/search/confidence.py: IndexNull), shipped so that nothing is
    embedded at start-up or per question. Embedded with the torch backend, the dev indexes'
    backend; onnx-fp32 gives the same vectors."""
    embedder = default_embedder("torch")
    vectors = embedder.embed(probe_questions())
    np.save(PROBE_VECTORS, vectors.astype(np.float16), allow_pickle=False)  # half the size, ~1e-3 off
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    data["probes"] = {"model": embedder.name, "dim": embedder.dim, "questions": len(vectors)}
    MODEL_FILE.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    load_model_file.cache_clear()


def collect() -> list[dict]:
    embed_probes()
    rows: list[dict] = small_corpora()
    for name in OWN:
        index, _ = prepare(name)
        rows += collect_group(f"{name}", index, training_questions(name, True), 1)
    index, _ = prepare("squad2")
    rows += collect_group("squad2-unanswerable", index, training_questions("squad2", False), 0)
    for asked, against in OFF:
        index, _ = prepare(against)
        rows += collect_group(f"{asked}-on-{against}", index, training_questions(asked, True), 0)
    SIGNALS.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return rows


def collect_held_out() -> list[dict]:
    """The questions the benchmarks report on (never trained on): public_sets.py's samples of
    300 (seed 0) and its off-corpus samples (seed 1), the hand-written paraphrases and the rest
    of SciFact's claims (news_checks.py asks all 809); and the SQuAD v1.1 and SciFact samples
    again, asked of SciFact's and SQuAD's articles in one index (mixed_index)."""
    rows: list[dict] = []
    for name in OWN:
        index, path = prepare(name)
        questions = load_questions(path)
        picked = sample(questions, 300, seed=0)
        rows += collect_group(f"held-{name}", index, [q for q in picked if not q.unanswerable], 1)
        if name == "squad2":
            gone = [q for q in picked if q.unanswerable]
            rows += collect_group("held-squad2-unanswerable", index, gone, 0)
        if name == "scifact":
            seen = {q.id for q in picked}
            rest = [q for q in questions if q.id not in seen]
            rows += collect_group("held-scifact-claims-rest", index, rest, 1)
    for name in ("seeds", "squad1", "covid"):
        index, _ = prepare(name)
        written = load_questions(CHECKS / f"paraphrase-{name}.jsonl")
        rows += collect_group(f"held-paraphrase-{name}", index, written, 1)
    for asked, against in OFF_CORPUS:
        index, _ = prepare(against)
        _, path = prepare(asked)
        picked = sample(load_questions(path), 300, seed=1)
        rows += collect_group(f"held-{asked}-on-{against}", index, picked, 0)
    mixed = mixed_index()
    for name in MIXED_SETS:
        _, path = prepare(name)
        picked = [q for q in sample(load_questions(path), 300, seed=0) if not q.unanswerable]
        rows += collect_group(f"held-{name}-in-mixed", mixed, picked, 1)
    HELD_OUT.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return rows


def mixed_index() -> Path:
    """SciFact's abstracts and SQuAD v1.1's articles in one index (18,073 passages). The dev sets
    tie an index's size to its data set (the one large index holds only claims, answerable or
    not), so a model can learn "a question in a large index is off-corpus"; here questions are
    answerable among many passages. It starts as a copy of SciFact's index: only SQuAD's
    passages are embedded (5 minutes on 2 cores)."""
    folder = OUT / "mixed"
    sources = [prepare(name)[1].parent / "articles.jsonl" for name in MIXED_SETS]
    if not (folder / "index").exists():
        shutil.copytree(sources[0].parent / "index", folder / "index")
    text = "".join(path.read_text(encoding="utf-8") for path in sources)
    (folder / "articles.jsonl").write_text(text, encoding="utf-8")
    index_paths([folder / "articles.jsonl"], folder / "index")
    return folder / "index"


MIXED_SETS = ("scifact", "squad1")  # the first one's index is copied



def measured(row: dict) -> Signals:
    """A row's signals by name: FEATURES, then ANSWER_SIGNALS where the file has them."""
    return Signals(dict(zip(COLUMNS[: len(row["x"])], row["x"], strict=True)))

