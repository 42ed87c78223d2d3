"""How sure an answer is: signals of one retrieval, combined by a small calibrated model.

One sentence's word overlap was the old test, and it refused a third of answerable news
questions, because people paraphrase news (issue 11). The signals here see the whole
retrieval: the best sentence's cosine and coverage, how much of the question the top
passages hold anywhere, whether BM25 and the dense retriever agree on the top article, the
score gap, the share of the question's words the index has ever seen, the index's size, and
how far the best cosine stands above what everyday unrelated questions score in this very
index (IndexNull: probe questions shipped with their vectors, searched once per index).
The model reads a few of them (the engine measures only those). It is a logistic
regression trained by benchmarks/train_confidence.py on the dev sets
(questions asked against their own articles = answerable; against another set's articles,
or SQuAD 2.0's unanswerable ones = not), and its weights ship as qa/models/confidence.json.
The model names the inputs it uses: a signal ("best_cosine") or a product of two
("best_cosine*passages"), because what a cosine of 0.4 means depends on how many passages
competed for it. Two thresholds cut its probability into three verdicts: answer; answer
marked "low confidence"; refuse ("the articles don't say").
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import DenseSettings
from qa.encode.embedder import Embedder
from qa.index.lexical import tokenize

from .dense_store import DenseStore
from .evidence import QueryTerms, SentenceEvidence, term_overlap
from .retrieve import Hit

MODEL_FILE = Path(__file__).parents[1] / "models" / "confidence.json"
PROBE_QUESTIONS = Path(__file__).parents[1] / "models" / "probe-questions.txt"
PROBE_VECTORS = Path(__file__).parents[1] / "models" / "probe-vectors.npy"
EXACT_NULL_ROWS = DenseSettings().exact_limit  # the size up to which the index is searched exactly
NULL_CHUNK = 20_000  # passage vectors per matrix product when the probes are scored exactly
TOP_PASSAGES = 3  # passages whose words count for "does the retrieval hold the question at all"
SIGNAL_HITS = 5  # sentences of the first 5 passages count, so signals do not change with k above 5
FEATURES = (
    "best_cosine",  # highest question-sentence cosine among the top passages
    "best_support",  # highest 0.5 cosine + 0.5 coverage of one sentence (the old test)
    "best_coverage",  # highest plain share of the question's terms in one sentence
    "top_dense",  # highest passage cosine among the top passages
    "passage_coverage",  # share of the question's terms found anywhere in the top passages
    "passage_idf_coverage",  # the same, weighted by IDF
    "agree",  # 1 when the best passage by BM25 and by cosine come from one article
    "gap",  # final score of the first passage minus the second's
    "terms",  # log(1 + number of the question's own terms): short questions cover easily
    "known",  # share of the question's terms that occur anywhere in the index ("IFITM3" in Wikipedia: no)
    "passages",  # log10(1 + passages in the index): the best of many weak matches is less weak
    "dense_z",  # the best passage cosine in standard deviations above the probe questions' (IndexNull)
    "cosine_lift",  # best_cosine minus the probe questions' mean best cosine in this index (IndexNull)
)
NULL_SIGNALS = frozenset({"dense_z", "cosine_lift"})  # the signals that read the index's IndexNull


@dataclass(frozen=True, slots=True)
class IndexNull:
    """What an unrelated question scores in one index: the mean and spread of the best passage
    cosines of the probe questions (qa/models/probe-questions.txt, everyday questions on many
    topics). A best cosine of 0.45 is a strong match among four passages on one subject and a
    weak one among 15,000 abstracts; measured from this null (cosine_lift) it reads the same."""

    mean: float
    std: float

    def z(self, cosine: float) -> float:
        return (cosine - self.mean) / self.std


def index_null(dense: Any, store: DenseStore, probes: np.ndarray | None) -> IndexNull:
    """The probe questions' best cosines in one index, searched once. Up to EXACT_NULL_ROWS
    passages one matrix product over the stored vectors, in chunks (0.1 s of CPU for 15,887
    passages, where 244 single searches take 4 s); above, where the index is a graph, its search."""
    if probes is None:
        return IndexNull(0.0, 1.0)  # no probes for this model: cosines count as they are
    probes = np.asarray(probes, dtype=np.float32)
    if dense.ntotal <= EXACT_NULL_ROWS:
        best = np.full(len(probes), -np.inf, dtype=np.float32)
        for start in range(0, dense.ntotal, NULL_CHUNK):
            rows = min(NULL_CHUNK, dense.ntotal - start)
            vectors = np.asarray(dense.reconstruct_n(start, rows), dtype=np.float32)
            best = np.maximum(best, (vectors @ probes.T).max(axis=0))
        found = best[np.isfinite(best)].astype(np.float64)
    else:
        scores, rows = store.search(probes, 1)
        found = scores[:, 0][rows[:, 0] >= 0].astype(np.float64)
    if len(found) < 2:
        return IndexNull(0.0, 1.0)
    return IndexNull(float(found.mean()), max(float(found.std()), 0.01))


def probe_questions(path: Path = PROBE_QUESTIONS) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def probe_vectors(embedder: Embedder) -> np.ndarray | None:
    """The probes' vectors, shipped for the packaged model, so nothing is embedded at start-up or
    per question. None for another model (a test's fake one): the model was trained on this
    model's cosines, and another's probes would not put its cosines on that scale."""
    shipped = load_model_file().get("probes") or {}
    ours = (shipped.get("model"), shipped.get("dim")) == (embedder.name, embedder.dim)
    if not ours or not PROBE_VECTORS.exists():
        return None
    vectors = np.load(PROBE_VECTORS, allow_pickle=False).astype(np.float32)
    return vectors if vectors.shape == (len(probe_questions()), embedder.dim) else None


@dataclass(frozen=True, slots=True)
class Signals:
    """The measured features of one retrieval, by name (only those asked for)."""

    values: dict[str, float]

    def as_dict(self) -> dict[str, float]:
        return dict(self.values)


@dataclass(frozen=True)
class Measured:
    """What the signals are measured on: one retrieval's top hits, their sentences' evidence, the
    index's size and null, and the best passage cosine of the whole dense search."""

    terms: QueryTerms
    evidence: Sequence[SentenceEvidence]
    hits: Sequence[Hit]
    passages: int
    null: IndexNull
    best_dense: float

    @cached_property
    def own(self) -> dict[str, float]:
        return {t: 1.0 for t, w in self.terms.own.items() if w >= 1.0}

    @cached_property
    def words(self) -> list[str]:
        top = self.hits[:TOP_PASSAGES]
        return list({w for toks in tokenize([h.passage.text for h in top]) for w in toks}) if top else []


def _agree(m: Measured) -> float:
    by_dense = max(m.hits, key=lambda h: h.dense, default=None)
    by_words = max(m.hits, key=lambda h: h.lexical, default=None)
    return float(by_dense is not None and by_words is not None and by_dense.article.id == by_words.article.id)


def _gap(m: Measured) -> float:
    scores = [h.score for h in m.hits[:2]] + [0.0, 0.0]
    return scores[0] - scores[1]


def _known(m: Measured) -> float:
    return 1.0 - len(m.terms.unseen & m.own.keys()) / len(m.own) if m.own else 0.0


MEASURES: dict[str, Callable[[Measured], float]] = {
    "best_cosine": lambda m: max((e.cosine for e in m.evidence), default=0.0),
    "best_support": lambda m: max((e.support for e in m.evidence), default=0.0),
    "best_coverage": lambda m: max((e.coverage for e in m.evidence), default=0.0),
    "top_dense": lambda m: max((h.dense for h in m.hits[:TOP_PASSAGES]), default=0.0),
    "passage_coverage": lambda m: term_overlap(m.own, m.words),
    "passage_idf_coverage": lambda m: term_overlap({t: m.terms.weights[t] for t in m.own}, m.words),
    "agree": _agree,
    "gap": _gap,
    "terms": lambda m: math.log1p(len(m.own)),
    "known": _known,
    "passages": lambda m: math.log10(1 + m.passages),
    "dense_z": lambda m: m.null.z(m.best_dense),
    "cosine_lift": lambda m: max((e.cosine for e in m.evidence), default=0.0) - m.null.mean,
}


def signals(
    terms: QueryTerms,
    evidence: Sequence[SentenceEvidence],
    hits: Sequence[Hit],
    passages: int,
    null: IndexNull = IndexNull(0.0, 1.0),
    best_dense: float | None = None,
    names: Collection[str] = FEATURES,
) -> Signals:
    """Measure one retrieval (its top hits and their sentences' evidence) in an index of
    `passages` passages: an unrelated question's best match is better among 15,000 passages
    than among 4, so the same cosine means less in a larger index. Only `names` are measured
    (the engine asks for the few its model reads). `best_dense`: the best cosine of the whole
    dense search (default: the best of `hits`)."""
    hits = hits[:SIGNAL_HITS]
    top = max((h.dense for h in hits), default=0.0) if best_dense is None else best_dense
    measured = Measured(terms, [e for e in evidence if e.hit < SIGNAL_HITS], hits, passages, null, top)
    return Signals({name: float(MEASURES[name](measured)) for name in names})


def model_inputs(found: Signals, names: Sequence[str]) -> list[float]:
    """The model's inputs by name: a signal, or the product of two ("best_cosine*passages")."""
    return [math.prod(found.values[part] for part in name.split("*")) for name in names]


def signals_read(names: Sequence[str]) -> tuple[str, ...]:
    """The signals that inputs `names` read, each once, in FEATURES order."""
    parts = {part for name in names for part in name.split("*")}
    return tuple(f for f in FEATURES if f in parts)


@dataclass(frozen=True, slots=True)
class ConfidenceModel:
    """p(answerable) = sigmoid(bias + sum(weight * (x - mean) / scale)); thresholds cut it."""

    features: tuple[str, ...]  # its inputs: names of signals, or "a*b" for a product of two
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    refuse_below: float  # under this, "the articles don't say"
    low_below: float  # under this (and not refused), the answer is marked low confidence

    @property
    def reads(self) -> tuple[str, ...]:
        """The signals its inputs read: the only ones the engine measures per question."""
        return signals_read(self.features)

    def probability(self, found: Signals) -> float:
        missing = [name for name in self.reads if name not in found.values]
        if missing:
            raise ValueError(f"the model reads signals {missing}, which were not measured")
        inputs = model_inputs(found, self.features)
        z = self.bias + sum(
            w * (x - m) / s for w, x, m, s in zip(self.weights, inputs, self.mean, self.scale, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ConfidenceModel:
        def floats(key: str) -> tuple[float, ...]:
            return tuple(float(v) for v in data[key])  # type: ignore[attr-defined]

        return cls(
            tuple(str(f) for f in data["features"]),  # type: ignore[attr-defined]
            floats("mean"),
            floats("scale"),
            floats("weights"),
            float(data["bias"]),  # type: ignore[arg-type]
            float(data["refuse_below"]),  # type: ignore[arg-type]
            float(data["low_below"]),  # type: ignore[arg-type]
        )


@lru_cache(maxsize=4)
def load_model_file(path: Path = MODEL_FILE) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_FILE) -> ConfidenceModel:
    """The shipped model (read once per process)."""
    data = load_model_file(path)
    model = ConfidenceModel.from_json(data["model"])
    unknown = [f for name in model.features for f in name.split("*") if f not in FEATURES]
    if unknown:
        raise ValueError(f"{path} uses inputs {unknown} that this code does not measure ({FEATURES})")
    return model
