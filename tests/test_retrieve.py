import pytest

from qa.errors import QAError, QuestionError
from qa.search.answer import answer_json
from qa.search.options import SearchOptions
from qa.search.rank import same_text, words
from qa.search.retrieve import Filters, convex, minmax, rrf


def test_minmax_and_convex_by_hand():
    assert minmax({1: 2.0, 2: 4.0, 3: 3.0}) == {1: 0.0, 2: 1.0, 3: 0.5}
    assert minmax({7: 5.0}) == {7: 1.0}
    assert minmax({1: 2.0, 2: 4.0, 3: 3.5}, scale={2: 4.0, 3: 3.0}) == {1: 0.0, 2: 1.0, 3: 0.5}  # 1: below it
    fused = convex({1: 0.9, 2: 0.5}, {2: 12.0, 3: 4.0}, weight=0.25)
    assert fused == pytest.approx({1: 0.25, 2: 0.75, 3: 0.0})


def test_rrf_by_hand():
    fused = rrf([10, 20, 30], [20, 10], k=60)
    assert fused[10] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[20] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[30] == pytest.approx(1 / 63)


def test_search_returns_k_passages_with_metadata(engine):
    hits = engine.search("container terminal Tallinn cranes", SearchOptions(k=3))
    assert len(hits) == 3
    assert hits[0].article.id == "harbour" and hits[0].article.date == "2024-03-05"
    assert hits[0].score >= hits[1].score >= hits[2].score


@pytest.mark.parametrize("fusion", ["dense", "bm25", "rrf", "convex"])
def test_every_fusion_finds_the_obvious_article(engine, fusion):
    hits = engine.search("frost apple orchards Styria blossoms", SearchOptions(k=2, fusion=fusion))
    assert hits[0].article.id == "orchard"


def test_filters_by_date_section_and_source(engine):
    q = "news"
    only_2024_q1 = engine.search(
        q, SearchOptions(k=10), Filters(date_from="2024-01-01", date_to="2024-03-31")
    )
    assert {h.article.id for h in only_2024_q1} <= {"wire-1", "nested/library", "harbour", "orchard"}
    assert (
        engine.search("terminal", SearchOptions(k=10), Filters(sections=("business",)))[0].article.id
        == "harbour"
    )
    by_source = engine.search("anything at all", SearchOptions(k=10), Filters(sources=("Alpine Herald",)))
    assert {h.article.id for h in by_source} == {"orchard"}
    assert engine.search("terminal", SearchOptions(k=5), Filters(sections=("Nope",))) == []


def test_answer_quotes_a_sentence_with_exact_offsets(engine):
    answer = engine.ask("How many residents signed the petition for the library?")
    c = answer.citations[0]
    article = engine.article(c.article_id)
    assert article.text[c.start : c.end] == c.text
    assert "2,400 residents" in c.text and answer.hits[c.number - 1].article.id == c.article_id
    data = answer_json(answer)
    assert data["answer"]["citations"] == [c.number] or c.number in data["answer"]["citations"]
    assert data["passages"][0]["rank"] == 1 and {"title", "date", "section", "start", "end"} <= set(
        data["passages"][0]
    )


def test_near_duplicate_passages_are_collapsed(tmp_path, embedder, settings):
    from qa.index.build import index_paths
    from qa.search.engine import Engine

    story = "The bridge over the Vltava reopened on Friday after repairs. Traffic returned at noon."
    (tmp_path / "a.txt").write_text(f"Bridge Reopens\n\n{story}")
    (tmp_path / "b.txt").write_text(f"Vltava Bridge Open Again\n\n{story}")
    (tmp_path / "c.txt").write_text("Other\n\nA story about bakeries in Brno.")
    index_paths([tmp_path], tmp_path / "ix", embedder=embedder, settings=settings)
    hits = Engine.from_index(tmp_path / "ix", embedder=embedder).search(
        "bridge Vltava reopened", SearchOptions(k=3)
    )
    texts = [h.passage.text for h in hits]
    assert texts.count(story) == 1
    assert hits[0].also_in == ("b",) or hits[0].also_in == ("a",)


def test_same_text_threshold():
    assert same_text(words("The cat sat on the mat."), words("the cat sat on the mat"))
    assert not same_text(words("The cat sat on the mat."), words("A dog ran in the park."))


@pytest.mark.parametrize("question", ["", "   ", "?!?", "\x00\x01"])
def test_empty_questions_are_refused(engine, question):
    with pytest.raises(QuestionError, match="empty"):
        engine.ask(question)


def test_overlong_question_is_refused_with_the_limit(engine):
    with pytest.raises(QuestionError, match="100,000 characters; the limit is 2,000"):
        engine.ask("w" * 100_000)


def test_bad_options_name_the_choices():
    with pytest.raises(QAError, match="convex"):
        SearchOptions(fusion="magic")
    with pytest.raises(QAError, match="k=0"):
        SearchOptions(k=0)


def test_questions_from_many_threads_leave_thread_settings_alone(engine):
    from concurrent.futures import ThreadPoolExecutor

    from qa.encode.embedder import _blas_controller
    from qa.encode.torch_embed import SentenceTransformerEmbedder

    before = [p["num_threads"] for p in _blas_controller().info()]
    real = SentenceTransformerEmbedder()
    with ThreadPoolExecutor(8) as pool:
        vectors = list(pool.map(lambda q: real.embed([q])[0], [f"question {i}" for i in range(16)]))
    assert len(vectors) == 16 and all(v.shape == (384,) for v in vectors)
    assert [p["num_threads"] for p in _blas_controller().info()] == before
