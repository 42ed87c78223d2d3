"""The answer-confidence signals and model (qa/search/confidence.py), on hand-made retrievals."""

import json
import math

import numpy as np
import pytest

from qa.search import confidence
from qa.search import engine as qa_engine
from qa.search.confidence import (
    FEATURES,
    MODEL_FILE,
    ConfidenceModel,
    IndexNull,
    Signals,
    index_null,
    load_model,
    model_inputs,
    probe_questions,
    probe_vectors,
    signals,
)
from qa.search.dense_store import FaissStore
from qa.search.engine import Engine
from qa.search.evidence import QueryTerms, SentenceEvidence
from qa.search.options import SearchOptions
from qa.search.retrieve import Hit
from qa.text.articles import Article
from qa.text.passages import Passage


def hit(article_id: str, text: str, score: float, dense: float, lexical: float, row: int) -> Hit:
    article = Article(article_id, article_id.title(), text)
    passage = Passage(f"{article_id}#{row}", article_id, row, 0, len(text), text, ((0, len(text)),))
    return Hit(passage, article, score, dense, lexical, row)


def test_signals_measure_sentences_passages_agreement_and_gap():
    hits = [
        hit("tram", "The tram wifi cost 1.2 million euros.", 0.9, 0.7, 3.0, 0),
        hit("bakery", "The bakery closes shops over butter prices.", 0.5, 0.8, 1.0, 1),
    ]
    terms = QueryTerms({"tram": 2.0, "wifi": 1.0, "cost": 1.0, "lisbon": 4.0}, dict.fromkeys(["tram", "wifi", "cost", "lisbon"], 1.0))
    evidence = [SentenceEvidence(0, (0, 37), 0.6, 0.5, 0.75, 0.55), SentenceEvidence(1, (0, 43), 0.2, 0.0, 0.0, 0.1)]
    found = signals(terms, evidence, hits, 99).as_dict()
    assert found["best_cosine"] == 0.6 and found["best_coverage"] == 0.75
    assert found["best_support"] == pytest.approx(0.5 * 0.6 + 0.5 * 0.75)
    assert found["top_dense"] == 0.8
    assert found["passage_coverage"] == pytest.approx(3 / 4)  # "lisbon" is nowhere
    assert found["passage_idf_coverage"] == pytest.approx(4 / 8)
    assert found["agree"] == 0.0  # BM25 prefers the tram, cosine the bakery
    assert found["gap"] == pytest.approx(0.4) and found["terms"] == pytest.approx(math.log(5))
    assert found["known"] == 1.0 and found["passages"] == pytest.approx(2.0)
    assert found["dense_z"] == pytest.approx(0.8)  # no null given: the plain best cosine of the hits
    assert found["cosine_lift"] == pytest.approx(0.6)
    in_index = signals(terms, evidence, hits, 99, IndexNull(0.5, 0.1), best_dense=0.9).as_dict()
    assert in_index["dense_z"] == pytest.approx(4.0)  # 0.9 is four spreads above the probes' 0.5
    assert in_index["cosine_lift"] == pytest.approx(0.1)  # the best sentence, 0.6, less the probes' 0.5


def test_signals_of_an_empty_retrieval_are_zero_not_an_error():
    found = signals(QueryTerms({}, {}), [], [], 0)
    assert list(found.values) == list(FEATURES) and set(found.values.values()) == {0.0}


def test_only_the_signals_asked_for_are_measured(monkeypatch):
    def fail(measured):  # type: ignore[no-untyped-def]
        raise AssertionError("measured a signal nobody reads")

    monkeypatch.setitem(confidence.MEASURES, "passage_coverage", fail)
    found = signals(QueryTerms({"tram": 1.0}, {"tram": 1.0}), [], [], 9, names=("known", "passages"))
    assert found.as_dict() == {"known": 1.0, "passages": 1.0}
    model = ConfidenceModel(("known*passages", "known"), (0.0, 0.0), (1.0, 1.0), (1.0, 1.0), 0.0, 0.1, 0.5)
    assert model.reads == ("known", "passages")


def test_index_null_is_the_spread_of_the_probes_best_cosines(monkeypatch):
    passages = np.eye(4, dtype=np.float32)  # four orthogonal passages
    probes = np.array([[1, 0, 0, 0], [0.6, 0.8, 0, 0], [0.6, 0, 0.8, 0], [0.5, 0.5, 0.5, 0.5]], np.float32)
    dense = _flat(passages)
    null = index_null(dense, FaissStore(dense), probes)
    assert null.mean == pytest.approx(np.mean([1.0, 0.8, 0.8, 0.5]))
    assert null.std == pytest.approx(np.std([1.0, 0.8, 0.8, 0.5]), abs=1e-6)
    assert null.z(null.mean) == 0.0
    monkeypatch.setattr(confidence, "NULL_CHUNK", 3)  # the matrix product goes in chunks
    assert index_null(dense, FaissStore(dense), probes) == null
    monkeypatch.setattr(confidence, "EXACT_NULL_ROWS", 2)  # a big index: its own search, one per probe
    searched = index_null(dense, FaissStore(dense), probes)
    assert (searched.mean, searched.std) == pytest.approx((null.mean, null.std))
    empty = _flat(passages[:0])
    assert index_null(empty, FaissStore(empty), probes) == IndexNull(0.0, 1.0)  # nothing to find


def _flat(vectors: np.ndarray):  # type: ignore[no-untyped-def]
    import faiss

    index = faiss.IndexFlatIP(4)
    index.add(vectors)
    return index


def test_probe_vectors_are_shipped_for_the_packaged_model_and_none_for_another(embedder):
    shipped = json.loads(MODEL_FILE.read_text())["probes"]
    vectors = np.load(confidence.PROBE_VECTORS, allow_pickle=False)
    assert vectors.shape == (len(probe_questions()), shipped["dim"]) == (shipped["questions"], 384)
    assert np.allclose(np.linalg.norm(vectors.astype(np.float32), axis=1), 1.0, atol=1e-2)
    assert len(set(probe_questions())) == len(probe_questions()) >= 200
    packaged = type("Packaged", (), {"name": shipped["model"], "dim": 384})()
    assert np.array_equal(probe_vectors(packaged), vectors.astype(np.float32))  # type: ignore[arg-type]
    assert probe_vectors(embedder) is None and embedder.texts_embedded == 0  # the fake model: nothing
    assert index_null(None, None, None) == IndexNull(0.0, 1.0)  # type: ignore[arg-type]


def test_engine_null_comes_from_the_probes_and_lifts_a_matching_question(engine, embedder, monkeypatch):
    assert engine.null == IndexNull(0.0, 1.0)  # no probe vectors ship for the fake model
    fresh = Engine(engine.index, embedder, engine.store)
    monkeypatch.setattr(qa_engine, "probe_vectors", lambda model: model.embed(probe_questions()))
    null = fresh.null
    assert -1.0 <= null.mean <= 1.0 and null.std > 0.0 and null != IndexNull(0.0, 1.0)
    assert fresh.null is null  # measured once per engine
    on = fresh.retrieve("How many residents signed the petition for longer library hours?")
    off = fresh.retrieve("What is the offside rule in soccer?")
    assert null.z(on.best_dense) > null.z(off.best_dense)
    assert on.best_dense >= max(h.dense for h in on.hits)


def test_model_probability_thresholds_and_round_trip():
    weights = [0.0] * len(FEATURES)
    weights[FEATURES.index("best_cosine")] = 10.0
    model = ConfidenceModel(FEATURES, (0.5,) * len(FEATURES), (1.0,) * len(FEATURES), tuple(weights), 0.0, 0.2, 0.5)
    high = Signals({f: 0.9 if f == "best_cosine" else 0.0 for f in FEATURES})
    low = Signals({f: 0.1 if f == "best_cosine" else 0.0 for f in FEATURES})
    assert model.probability(high) == pytest.approx(1 / (1 + math.exp(-4)))
    assert model.probability(low) == pytest.approx(1 / (1 + math.exp(4)))
    assert ConfidenceModel.from_json(json.loads(json.dumps(model.to_json()))) == model
    with pytest.raises(ValueError, match="signals"):
        model.probability(Signals({"best_cosine": 1.0}))


def test_the_shipped_model_matches_the_code_and_its_thresholds_are_ordered():
    model = load_model()
    assert len(model.weights) == len(model.features) == len(model.mean) == len(model.scale)
    assert {part for name in model.features for part in name.split("*")} <= set(FEATURES)
    assert 0.0 < model.refuse_below <= model.low_below < 1.0
    assert "model" in json.loads(MODEL_FILE.read_text())


def test_engine_reports_the_probability_and_refuses_below_the_threshold(engine):
    answer = engine.ask("How many residents signed the petition for longer library hours?")
    assert not answer.abstained and 0.0 <= answer.confidence <= 1.0
    strict = engine.ask("How many residents signed the petition for longer library hours?",
                        SearchOptions(min_confidence=1.0))
    assert strict.abstained and strict.citations == () and strict.hits


def test_model_inputs_are_signals_or_products_of_two():
    found = Signals({f: float(i) for i, f in enumerate(FEATURES)})
    cosine, passages = FEATURES.index("best_cosine"), FEATURES.index("passages")
    assert model_inputs(found, ["best_cosine", "best_cosine*passages"]) == [cosine, cosine * passages]


def test_a_model_naming_an_unknown_signal_is_refused(tmp_path):
    data = json.loads(MODEL_FILE.read_text())
    data["model"]["features"] = ["best_cosine*mood", *data["model"]["features"][1:]]
    bad = tmp_path / "confidence.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="mood"):
        load_model(bad)


def test_the_engine_measures_only_what_the_shipped_model_reads(engine, monkeypatch):
    reads = load_model().reads
    assert "cosine_lift" in reads and len(reads) < len(FEATURES)
    for name in set(FEATURES) - set(reads):
        monkeypatch.setitem(confidence.MEASURES, name, lambda m, name=name: pytest.fail(f"measured {name}"))
    answer = engine.ask("How many residents signed the petition for longer library hours?")
    assert 0.0 < answer.confidence < 1.0


def test_the_shipped_model_never_trusts_more_evidence_less():
    """More support, known words or cosine lift never lower the probability, in any index size."""
    model = load_model()
    base = {"best_support": 0.4, "known": 0.8, "passages": 3.0, "cosine_lift": 0.2, "best_cosine": 0.5}
    for size in (0.3, 1.0, 3.0, 6.0):
        for name in ("best_support", "known", "cosine_lift"):
            low, high = {**base, "passages": size}, {**base, "passages": size, name: base[name] + 0.2}
            assert model.probability(Signals(high)) > model.probability(Signals(low)), (name, size)
