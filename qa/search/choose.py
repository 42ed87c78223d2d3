"""Choose the sentence that states the fact asked for, with a small trained model.

Cosine and word overlap find sentences that *restate* a question; the answer is usually
in one that also adds what was asked ("Who leads ...?" -> a sentence with a name the
question lacks). Each candidate sentence gets a few cheap features (cosine, IDF overlap
and their gaps to the best candidate, words it adds beyond the question, whether it holds
a phrase of the expected kind, whether it holds the question's word that is rarest among
the candidates (the word that tells them apart: "founded" in "When was the bakery chain
founded?" when every sentence is about the chain), the same overlap over the question's
words outside the article's title, its passage's score and rank, its neighbours' overlap), and
a linear model trained on dev sets (benchmarks/train_chooser.py) scores them; a softmax
over one question's candidates says how likely each is the one holding the answer.
The weights ship as qa/models/chooser.json.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import QAError

from .answer_type import KINDS, OTHER, QuestionView, Term, echoed, stemmed_terms, terms_at
from .evidence import SentenceEvidence
from .phrases import Phrase, find_phrases, has_detail, named_as_agent
from .retrieve import Hit

MODEL_FILE = Path(__file__).parents[1] / "models" / "chooser.json"
SENTENCE_FEATURES = (
    "cosine", "cosine_gap", "overlap", "overlap_gap", "coverage", "score_gap", "passage", "passage_rank",
    "dense", "dense_gap", "bm25", "best_in_passage", "local_overlap", "holds_rarest", "typed_local",
    "new_terms", "echo", "length", "bigrams", "window",
    "question_mark", "context_overlap", "focus_overlap", "typed_focus",
    "article_start", "place_in_passage", "typed_missing", "typed_near", "typed_count", "typed_detail",
    *(f"typed_{kind}" for kind in KINDS),
)  # fmt: skip


LOCAL, TYPED_MISSING = SENTENCE_FEATURES.index("local_overlap"), SENTENCE_FEATURES.index("typed_missing")
FOCUS = SENTENCE_FEATURES.index("focus_overlap")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One distinct sentence of the retrieved passages, with what the model saw of it."""

    evidence: SentenceEvidence  # .hit: the best-ranked passage holding the sentence
    text: str
    features: tuple[float, ...]
    probability: float = 0.0  # share of the softmax over the question's candidates


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_FILE) -> dict[str, Any]:
    """The shipped weights (read once per process), checked against the features computed here."""
    model = json.loads(path.read_text(encoding="utf-8"))
    if tuple(model["sentence"]["features"]) != SENTENCE_FEATURES:
        raise QAError(
            f"{path} was trained on other features than qa/search/choose.py computes; "
            "retrain it with benchmarks/train_chooser.py --write"
        )
    return model


def distinct(evidence: Sequence[SentenceEvidence], hits: Sequence[Hit]) -> list[SentenceEvidence]:
    """One evidence per sentence: neighbouring passages share a sentence; keep the better-ranked one."""
    best: dict[tuple[str, int, int], SentenceEvidence] = {}
    for e in evidence:
        key = (hits[e.hit].article.id, *e.span)
        if key not in best or e.hit < best[key].hit:
            best[key] = e
    return sorted(best.values(), key=lambda e: (e.hit, e.span))


def candidates(
    view: QuestionView, evidence: Sequence[SentenceEvidence], hits: Sequence[Hit]
) -> list[Candidate]:
    """Every distinct sentence with its features (unscored)."""
    kept = distinct(evidence, hits)
    if not kept:
        return []
    texts = [hits[e.hit].article.text[e.span[0] : e.span[1]] for e in kept]
    best = {name: max(getattr(e, name) for e in kept) for name in ("cosine", "overlap", "score")}
    top = max(h.score for h in hits) or 1.0
    dense, bm25 = max(h.dense for h in hits), max(h.lexical for h in hits) or 1.0
    overlaps = {(hits[e.hit].article.id, e.span): e.overlap for e in evidence}
    best_in: dict[int, float] = {}
    for x in evidence:
        best_in[x.hit] = max(best_in.get(x.hit, x.score), x.score)
    all_terms = [terms_at(text) for text in texts]
    local = local_weights(view, [{stem for _, _, stem in terms} for terms in all_terms])
    rarest = {t for t, w in local.items() if w >= max(local.values(), default=0.0) - 1e-9}
    out = []
    for e, text, terms in zip(kept, texts, all_terms, strict=True):
        hit, words = hits[e.hit], [stem for _, _, stem in terms]
        near = context_overlap(hit, e.span, overlaps)
        values = [
            e.cosine, e.cosine - best["cosine"], e.overlap, e.overlap - best["overlap"], e.coverage,
            e.score - best["score"], hit.score / top, math.log1p(e.hit), hit.dense, hit.dense - dense,
            hit.lexical / bm25, float(e.score >= best_in[e.hit]), local_overlap(local, words),
            float(bool(rarest & set(words))), 0.0,
            *term_features(view, words), float(text.rstrip().endswith("?")), near,
            focus_overlap(local, title_terms(hit.article.title), words), 0.0,
            *place_features(hit, e.span), *typed_features(view, text, terms),
        ]  # fmt: skip
        # typed_local: a phrase of the asked-for kind *and* the question's locally rare words
        values[SENTENCE_FEATURES.index("typed_local")] = (1 - values[TYPED_MISSING]) * values[LOCAL]
        values[SENTENCE_FEATURES.index("typed_focus")] = (1 - values[TYPED_MISSING]) * values[FOCUS]
        out.append(Candidate(e, text, tuple(values)))
    return out


def local_weights(view: QuestionView, bags: Sequence[set[str]]) -> dict[str, float]:
    """IDF of the question's terms among the candidate sentences themselves: a word every
    candidate holds (the article's topic) cannot tell them apart, however rare in the index."""
    n = len(bags)
    return {t: math.log((n + 1) / (sum(t in bag for bag in bags) + 0.5)) for t in view.terms}


def local_overlap(weights: dict[str, float], words: Sequence[str]) -> float:
    total = sum(weights.values())
    return sum(weights[t] for t in set(words) if t in weights) / total if total > 0 else 0.0


def focus_overlap(weights: dict[str, float], title: frozenset[str], words: Sequence[str]) -> float:
    """`local_overlap` over the question's words that are not in the sentence's article title.
    The title's words name the article's topic, and its lead sentence restates them; the
    question's other words ("founded" in "When was the bakery chain founded?") say which fact
    of that topic is asked for."""
    focus = {t: w for t, w in weights.items() if t not in title}
    return local_overlap(focus, words)


@lru_cache(maxsize=4096)
def title_terms(title: str) -> frozenset[str]:
    return frozenset(stemmed_terms([title])[0])


def term_features(view: QuestionView, words: Sequence[str]) -> tuple[float, ...]:
    """Words the sentence adds (log count), its share of echoed words, its length, the share
    of the question's word pairs it keeps in order, and how tightly it holds the question's words."""
    new = [w for w in words if w not in view.terms]
    echo = (len(words) - len(new)) / len(words) if words else 0.0
    pairs = set(zip(words, words[1:]))
    bigrams = len(view.bigrams & pairs) / len(view.bigrams) if view.bigrams else 0.0
    where = [i for i, w in enumerate(words) if w in view.terms]
    matched = len({words[i] for i in where})
    window = matched / (where[-1] - where[0] + 1) if where else 0.0
    return math.log1p(len(new)), echo, math.log1p(len(words)), bigrams, window


def context_overlap(hit: Hit, span: tuple[int, int], overlaps: dict[Any, float]) -> float:
    """The better overlap of the sentences just before and after (an answer often follows
    the sentence that names the topic)."""
    sentences = hit.passage.sentences
    i = sentences.index(span)
    near = [sentences[j] for j in (i - 1, i + 1) if 0 <= j < len(sentences)]
    return max((overlaps.get((hit.article.id, s), 0.0) for s in near), default=0.0)


def place_features(hit: Hit, span: tuple[int, int]) -> tuple[float, float]:
    """Is it the article's first sentence (news puts the key fact first), and where in its passage."""
    sentences = hit.passage.sentences
    first = float(hit.passage.ordinal == 0 and sentences[0] == span)
    return first, sentences.index(span) / max(len(sentences) - 1, 1)


def typed_features(view: QuestionView, text: str, terms: Sequence[Term]) -> tuple[float, ...]:
    """Does the sentence hold a phrase of the asked-for kind that the question lacks (none:
    `typed_missing`), how close the closest such phrase sits to the question's own words
    (1 / (1 + words between)), how many there are, whether one is of the finer kind asked
    for (a sum of money for "How much did it cost?", "10 times" for "How many times?"),
    and, per kind, whether any is there."""
    if view.kind == OTHER:
        return (0.0,) * (4 + len(KINDS))
    phrases = [p for p in find_phrases(text, view.kind) if not echoed(view, text[p.start : p.end])]
    matched = [i for i, (_, _, stem) in enumerate(terms) if stem in view.terms]
    near = max((closeness(p, terms, matched) for p in phrases), default=0.0)
    detail = float(any(of_detail(view, text, p, terms) for p in phrases))
    found = float(bool(phrases))
    kinds = (found if kind == view.kind else 0.0 for kind in KINDS)
    return (1 - found, near, math.log1p(len(phrases)), detail, *kinds)


def of_detail(view: QuestionView, text: str, phrase: Phrase, terms: Sequence[Term]) -> bool:
    """Is the phrase of the question's finer kind; for a count, is the counted noun right after it."""
    if view.kind in ("person", "organisation"):
        return named_as_agent(text, phrase)
    if view.detail != "count":
        return has_detail(text[phrase.start : phrase.end], view.detail)
    after = [stem for start, _, stem in terms if start >= phrase.start][:5]  # "10 times", "10,000 troops"
    return view.counted in after


def closeness(phrase: Phrase, terms: Sequence[Term], matched: Sequence[int]) -> float:
    """1 / (1 + the number of words between the phrase and the nearest matched question word)."""
    inside = [i for i, (start, _, _) in enumerate(terms) if phrase.start <= start < phrase.end]
    if not inside or not matched:
        return 0.0
    gap = min(inside[0] - m if m < inside[0] else max(m - inside[-1], 0) for m in matched)
    return 1.0 / (1.0 + gap)


def score(found: Sequence[Candidate], model: dict[str, Any] | None = None) -> list[Candidate]:
    """The candidates with their probabilities, most likely first."""
    if not found:
        return []
    weights = (model or load_model())["sentence"]
    x = (np.array([c.features for c in found]) - weights["mean"]) / weights["scale"]
    logits = x @ np.asarray(weights["weights"])
    p = np.exp(logits - logits.max())
    p /= p.sum()
    ranked = sorted(zip(found, p.tolist(), strict=True), key=lambda pair: -pair[1])
    return [Candidate(c.evidence, c.text, c.features, prob) for c, prob in ranked]
