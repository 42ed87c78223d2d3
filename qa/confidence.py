"""How sure an answer is: signals of one retrieval, combined by a small calibrated model.

One sentence's word overlap was the old test, and it refused a third of answerable news
questions, because people paraphrase news (issue 11). The model here sees the whole
retrieval: the best sentence's cosine and coverage, how much of the question the top
passages hold anywhere, whether BM25 and the dense retriever agree on the top article, and
the score gap, the share of the question's words the index has ever seen, and the index's
size. It is a logistic regression trained by benchmarks/train_confidence.py on the dev sets
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
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .evidence import QueryTerms, SentenceEvidence, term_overlap
from .lexical import tokenize
from .retrieve import Hit

MODEL_FILE = Path(__file__).parent / "models" / "confidence.json"
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
)


@dataclass(frozen=True, slots=True)
class Signals:
    """The features of one retrieval, in FEATURES order."""

    values: tuple[float, ...]

    def as_dict(self) -> dict[str, float]:
        return dict(zip(FEATURES, self.values, strict=True))


def signals(
    terms: QueryTerms, evidence: Sequence[SentenceEvidence], hits: Sequence[Hit], passages: int
) -> Signals:
    """Measure one retrieval (its top hits and their sentences' evidence) in an index of
    `passages` passages: an unrelated question's best match is better among 15,000 passages
    than among 4, so the same cosine means less in a larger index."""
    evidence = [e for e in evidence if e.hit < SIGNAL_HITS]
    hits = hits[:SIGNAL_HITS]
    top = hits[:TOP_PASSAGES]
    words = {w for toks in tokenize([h.passage.text for h in top]) for w in toks} if top else set()
    own = {t: 1.0 for t, w in terms.own.items() if w >= 1.0}
    by_dense = max(hits, key=lambda h: h.dense, default=None)
    by_words = max(hits, key=lambda h: h.lexical, default=None)
    agree = float(
        by_dense is not None and by_words is not None and by_dense.article.id == by_words.article.id
    )
    scores = [h.score for h in hits[:2]] + [0.0, 0.0]
    values = (
        max((e.cosine for e in evidence), default=0.0),
        max((e.support for e in evidence), default=0.0),
        max((e.coverage for e in evidence), default=0.0),
        max((h.dense for h in top), default=0.0),
        term_overlap(own, list(words)),
        term_overlap({t: terms.weights[t] for t in own}, list(words)),
        agree,
        scores[0] - scores[1],
        math.log1p(len(own)),
        1.0 - len(terms.unseen & own.keys()) / len(own) if own else 0.0,
        math.log10(1 + passages),
    )
    return Signals(tuple(float(v) for v in values))


def model_inputs(found: Signals, names: Sequence[str]) -> list[float]:
    """The model's inputs by name: a signal, or the product of two ("best_cosine*passages")."""
    values = found.as_dict()
    return [math.prod(values[part] for part in name.split("*")) for name in names]


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

    def probability(self, found: Signals) -> float:
        if len(found.values) != len(FEATURES):
            raise ValueError(f"the model reads {len(FEATURES)} signals, got {len(found.values)}")
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
def load_model(path: Path = MODEL_FILE) -> ConfidenceModel:
    """The shipped model (read once per process)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    model = ConfidenceModel.from_json(data["model"])
    unknown = [f for name in model.features for f in name.split("*") if f not in FEATURES]
    if unknown:
        raise ValueError(f"{path} uses inputs {unknown} that this code does not measure ({FEATURES})")
    return model
