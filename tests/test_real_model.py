"""End to end on the real packaged all-MiniLM-L6-v2: no fakes on the core path."""

import json
import re
import string

import numpy as np
import pytest

from qa.encode.torch_embed import SentenceTransformerEmbedder
from qa.index.build import index_paths
from qa.search.engine import Engine
from qa.search.options import SearchOptions

from .conftest import ROOT

pytestmark = pytest.mark.model
QUESTIONS = [json.loads(line) for line in (ROOT / "seeds" / "questions.jsonl").read_text().splitlines()]


def normalise(text: str) -> str:
    """SQuAD-style answer normalisation: lower case, no punctuation, articles or extra spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


@pytest.fixture(scope="module")
def real_engine(tmp_path_factory):
    ix = tmp_path_factory.mktemp("real") / "index"
    embedder = SentenceTransformerEmbedder()
    index_paths([ROOT / "seeds"], ix, embedder=embedder)
    return Engine.from_index(ix, embedder=embedder)


def test_model_gives_unit_vectors_of_384():
    vectors = SentenceTransformerEmbedder().embed(["North Korea", "troops in Russia", ""])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors[:2], axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) > 0.2


def test_pooled_passage_and_sentence_vectors_match_sentence_transformers():
    """embed_passages tokenizes once and runs the model's modules itself: same numbers as encode."""
    embedder = SentenceTransformerEmbedder()
    texts = ["Title\nFirst sentence here. Second one, longer, with U.S. in it.", "Short text. Two."]
    spans = [[(6, 26), (27, 61)], [(0, 11), (12, 16)]]
    passages, sentences = embedder.embed_passages(texts, spans)
    assert np.allclose(passages, embedder.embed(texts), atol=1e-5)
    model = embedder._load()
    tokens = model.encode(texts[0], output_value="token_embeddings").numpy()
    offsets = model.tokenizer(texts[0], return_offsets_mapping=True)["offset_mapping"]
    inside = [i for i, (a, b) in enumerate(offsets) if b > a and a >= 27 and b <= 61]
    expected = tokens[inside].mean(axis=0)
    assert inside and np.allclose(sentences[1], expected / np.linalg.norm(expected), atol=1e-5)
    assert sentences.shape == (4, 384)


def test_seed_set_has_enough_questions():
    assert len(QUESTIONS) >= 12
    assert sum(1 for q in QUESTIONS if q.get("unanswerable")) >= 2


@pytest.mark.parametrize("q", [q for q in QUESTIONS if not q.get("unanswerable")], ids=lambda q: q["id"])
def test_gold_answer_in_top_3_passages(real_engine, q):
    answer = real_engine.ask(q["question"], SearchOptions(k=3))
    passages = " ".join(normalise(h.passage.text) for h in answer.hits)
    assert any(normalise(gold) in passages for gold in q["answers"]), q["question"]


def test_citations_are_exact_for_every_question(real_engine):
    for q in QUESTIONS:
        answer = real_engine.ask(q["question"])
        for c in answer.citations:
            assert real_engine.article(c.article_id).text[c.start : c.end] == c.text
            assert answer.hits[c.number - 1].passage.start <= c.start


def test_repeated_paragraph_is_not_returned_twice(real_engine):
    answer = real_engine.ask("Who confirmed the presence of around 10,000 North Korean troops in Russia?")
    assert len(answer.citations) >= 1
    cited = [c.text for c in answer.citations]
    assert not any("This announcement" in a and "This announcement" in b for a, b in zip(cited, cited[1:]))
    for hit in answer.hits:
        assert hit.passage.text.count("This announcement of the North Korean official") <= 1


CONVERSATIONS = [json.loads(line) for line in (ROOT / "seeds" / "conversations.jsonl").read_text().splitlines()]


def test_conversation_set_is_big_enough():
    assert len(CONVERSATIONS) >= 8


@pytest.mark.parametrize("conv", CONVERSATIONS, ids=lambda c: c["id"])
def test_follow_up_fails_alone_and_succeeds_in_context(real_engine, conv):
    *earlier, follow_up = conv["turns"]
    golds = [normalise(g) for g in conv["answers"]]
    alone = real_engine.ask(follow_up)
    history = []
    for question in earlier:
        history.append(real_engine.ask(question, history=history).turn())
    answer = real_engine.ask(follow_up, history=history)
    assert not answer.abstained and any(g in normalise(answer.text) for g in golds), answer.query
    # alone, the follow-up is refused, misses, is a low-confidence guess, or at least is less sure
    # than in context: the seed index has one article, so "What did he say about the cooperation?"
    # can find that article's answer alone (issue 11's confidence model answers it at p = 0.51)
    right_alone = any(g in normalise(alone.text) for g in golds)
    assert alone.abstained or alone.low_confidence or not right_alone or alone.confidence < answer.confidence
    assert answer.confidence > alone.confidence
    assert answer.query != follow_up  # the reply shows what was searched


def test_unanswerable_seed_questions_abstain_and_show_closest_matches(real_engine):
    for q in (q for q in QUESTIONS if q.get("unanswerable")):
        answer = real_engine.ask(q["question"])
        assert answer.abstained and answer.citations == () and len(answer.hits) > 0
        assert "don't say" in answer.text


def test_numpy_question_encoder_matches_sentence_transformers():
    from qa.encode.minilm import NumpyMiniLM

    texts = ["Who leads the North Korean delegation to Russia?", "x", "U.S. Gen. Tamm said: \"No.\" " * 80,
             "Café 🏗 Ωmega 北朝鮮"]
    ours = NumpyMiniLM().encode(texts)
    theirs = SentenceTransformerEmbedder()._load().encode(texts, normalize_embeddings=True)
    assert ours.shape == (4, 384)
    assert np.all((ours * theirs).sum(axis=1) > 0.9999)


def test_asking_on_a_built_index_never_imports_torch(real_engine):
    import subprocess
    import sys

    code = (
        "import sys; from qa import Engine\n"
        f"e = Engine.from_index({str(real_engine.index.root)!r})\n"
        "a = e.ask('Who leads the North Korean delegation to Russia?')\n"
        "print('Choe Son Hui' in a.text, 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["True", "False", "False"], out.stdout + out.stderr


def test_reused_vectors_equal_freshly_computed_ones(tmp_path):
    from qa.config import IndexSettings
    from qa.index.passage_index import PassageIndex

    embedder, settings = SentenceTransformerEmbedder(), IndexSettings(passage_tokens=40)
    paragraphs = [f"Report {n}. The {w} council met on Monday. It voted on the {w} plan." for n, w in
                  enumerate(["harbour", "river", "school", "tram", "museum"])]
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a.txt").write_text("Council Week\n\n" + "\n\n".join(paragraphs))
    index_paths([folder], tmp_path / "ix", embedder=embedder, settings=settings)
    (folder / "a.txt").write_text("Council Week\n\n" + "\n\n".join(paragraphs).replace("tram", "bus"))
    report = index_paths([folder], tmp_path / "ix", embedder=embedder, settings=settings).report
    index_paths([folder], tmp_path / "fresh", embedder=embedder, settings=settings)
    reused, fresh = PassageIndex.load(tmp_path / "ix"), PassageIndex.load(tmp_path / "fresh")
    assert 0 < report.embedded < report.passages == len(fresh.passages)
    assert [p.text for p in reused.passages] == [p.text for p in fresh.passages]
    assert np.allclose(reused.vectors(), fresh.vectors(), atol=1e-5)
    assert np.allclose(reused.sentence_vectors, fresh.sentence_vectors, atol=2e-3)
