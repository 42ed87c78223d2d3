import pytest

from qa.conversation import Turn, content_terms, contextual_query, is_follow_up


@pytest.mark.parametrize("question", ["What did NATO say about it?", "and the foreign minister?", "When?",
                                      "Who said that?", "How many?", "What about Pyongyang?"])
def test_referring_or_short_questions_are_follow_ups(question):
    assert is_follow_up(question)


@pytest.mark.parametrize("question", ["Who leads the North Korean delegation to Russia?",
                                      "How many troops did the Pentagon say were in Russia?"])
def test_self_contained_questions_are_not(question):
    assert not is_follow_up(question)


def test_follow_up_carries_the_previous_topic():
    history = [Turn("Who leads the North Korean delegation to Russia?")]
    query = contextual_query("What did NATO say about it?", history)
    assert query.startswith("What did NATO say about it?")
    assert {"North", "Korean", "delegation", "Russia"} <= set(query.split())


def test_latest_turn_comes_first_and_terms_are_capped():
    history = [Turn("Tell me about the Tallinn harbour terminal"), Turn("Who supplied the cranes to Dockline?")]
    carried = contextual_query("When?", history).split()[1:]
    assert carried[0] == "supplied" and len(carried) <= 8


def test_no_history_or_no_follow_up_leaves_the_question_alone():
    assert contextual_query("When?", []) == "When?"
    q = "Who leads the North Korean delegation to Russia?"
    assert contextual_query(q, [Turn("What did NATO say?")]) == q


def test_content_terms():
    assert content_terms("What did NATO say about it?") == ["NATO"]


def test_engine_follow_up_prefers_cited_articles(engine):
    first = engine.ask("How many residents signed the library petition?")
    follow = engine.ask("Who is the head librarian there?", history=[first.turn()])
    assert follow.hits[0].article.id == "nested/library"
    assert follow.query != follow.question
