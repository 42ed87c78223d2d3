"""Metric functions against hand-computed examples and against ir-measures (trec_eval)."""

import math

import ir_measures
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ir_measures import RR, Qrel, ScoredDoc, nDCG

from qa.eval import metrics


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The Eiffel Tower", "eiffel tower"),
        ("  a  cat, an owl & THE dog!  ", "cat owl dog"),
        ("U.S.-led", "usled"),
        ("10,000", "10000"),
        ("", ""),
        ("theatre", "theatre"),  # an article only as a whole word
    ],
)
def test_normalize_answer_the_squad_way(text, expected):
    assert metrics.normalize_answer(text) == expected


def test_contains_answer_matches_whole_words_after_normalising():
    assert metrics.contains_answer("About 10,000 North Korean troops.", ["10,000"])
    assert metrics.contains_answer("Foreign Minister Choe Son Hui left.", ["choe son hui"])
    assert metrics.contains_answer("the U.S. firm", ["US"])
    assert not metrics.contains_answer("It cost 100 euros.", ["10"])
    assert not metrics.contains_answer("It cost 10,000 euros.", ["10"])
    # a Wikipedia reference mark glued on by punctuation removal does not hide the answer
    assert metrics.contains_answer("a math teacher Martin Sekulić.:32 The", ["Martin Sekulić"])
    assert metrics.contains_answer("the F-16 jet", ["F16"]) and metrics.contains_answer("the F-16", ["F-16"])
    assert not metrics.contains_answer("anything", [])
    assert not metrics.contains_answer("anything", ["", "the"])  # empty after normalising


def test_answer_rank_and_article_rank():
    texts = ["Nothing here.", "Paris is the capital.", "Paris again."]
    assert metrics.answer_rank(texts, ["paris"]) == 2
    assert metrics.answer_rank(texts, ["Berlin"]) is None
    assert metrics.answer_rank(texts, []) is None
    ranking = metrics.unique(["b", "b", "a", "c", "a"])
    assert ranking == ["b", "a", "c"]
    assert metrics.first_relevant(ranking, {"c", "x"}) == 3
    assert metrics.first_relevant(ranking, set()) is None


def test_hit_and_reciprocal_rank_by_hand():
    assert [metrics.within(3, k) for k in (1, 3, 5)] == [0.0, 1.0, 1.0]
    assert metrics.within(None, 10) == 0.0
    assert metrics.reciprocal_rank(4) == 0.25
    assert metrics.reciprocal_rank(11, k=10) == 0.0
    assert metrics.reciprocal_rank(None) == 0.0


def test_ndcg_by_hand():
    # ranking b, a, c with grades a=1, c=2: DCG = 1/log2(3) + 2/log2(4); ideal = 2 + 1/log2(3)
    expected = (1 / math.log2(3) + 2 / math.log2(4)) / (2 + 1 / math.log2(3))
    assert metrics.ndcg(["b", "a", "c"], {"a": 1, "c": 2}) == pytest.approx(expected)
    assert metrics.ndcg(["a"], {"a": 3}) == 1.0
    assert metrics.ndcg(["x", "y"], {"a": 1}) == 0.0
    assert metrics.ndcg(["a"], {"a": 0}) == 0.0  # nothing relevant: 0, not a division by zero
    assert metrics.ndcg(["z"] * 10 + ["a"], {"a": 1}, k=10) == 0.0  # cut at k


def test_mean_percentile_and_curve():
    assert metrics.mean([1.0, None, 0.0]) == 0.5
    assert metrics.mean([]) is None
    values = [12.0, 3.0, 7.5, 40.0, 1.0, 9.0]
    for q in (0, 50, 95, 100):
        assert metrics.percentile(values, q) == pytest.approx(np.percentile(values, q))
    assert metrics.percentile([], 50) is None
    assert metrics.curve([1, 3, None], 3) == pytest.approx([1 / 3, 1 / 3, 2 / 3])
    assert metrics.curve([], 2) == [None, None]


def trec(ranking, grades, k=10):
    """MRR@k and nDCG@k of one ranking as ir-measures (pytrec_eval) computes them."""
    qrels = [Qrel("q", doc, grade) for doc, grade in grades.items()]
    run = [ScoredDoc("q", doc, float(len(ranking) - i)) for i, doc in enumerate(ranking)]
    found = {m.measure: m.value for m in ir_measures.iter_calc([RR @ k, nDCG @ k], qrels, run)}
    return found.get(RR @ k, 0.0), found.get(nDCG @ k, 0.0)


DOCS = [f"d{i}" for i in range(15)]


@settings(max_examples=150, deadline=None)
@given(
    ranking=st.lists(st.sampled_from(DOCS), min_size=1, max_size=14, unique=True),
    grades=st.dictionaries(st.sampled_from(DOCS), st.integers(0, 3), min_size=1, max_size=6),
)
def test_mrr_and_ndcg_agree_with_ir_measures(ranking, grades):
    relevant = {d for d, g in grades.items() if g > 0}
    mrr, ndcg = trec(ranking, grades)
    assert metrics.reciprocal_rank(metrics.first_relevant(ranking, relevant), 10) == pytest.approx(mrr)
    if relevant:  # trec_eval leaves a query without relevant documents out
        assert metrics.ndcg(ranking, grades, 10) == pytest.approx(ndcg)


def test_ir_measures_example_with_graded_qrels():
    ranking = ["d3", "d1", "d7", "d2"]
    grades = {"d1": 2, "d2": 1, "d9": 1, "d3": 0}
    mrr, ndcg = trec(ranking, grades)
    assert mrr == 0.5
    assert metrics.ndcg(ranking, grades) == pytest.approx(ndcg)
