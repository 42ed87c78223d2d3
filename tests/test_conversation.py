import pytest

from qa.search.conversation import (
    Turn,
    content_terms,
    contextual_query,
    is_follow_up,
    mentioned_in,
    noun_phrase_words,
    own_coverage,
    weaker,
)


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


NK = Turn("Who leads the North Korean delegation to Russia?", "Who leads the North Korean delegation to Russia?")
NK_TEXT = "A delegation led by Foreign Minister Choe Son Hui left for Russia. NATO called it an escalation."


def test_nothing_is_carried_after_a_refusal():
    refused = Turn("How much did the new iPhone cost?", "How much did the new iPhone cost?", (), answered=False)
    assert contextual_query("When?", [NK, refused]) == "When?"


def test_only_the_previous_turn_is_carried():
    history = [NK, Turn("Who won the 2022 World Cup?", "Who won the 2022 World Cup?")]
    carried = set(contextual_query("When?", history).split()[1:])
    assert carried == {"won", "2022", "World", "Cup"}


@pytest.mark.parametrize(
    ("question", "carried"),
    [
        ("What did NATO say about it?", True),  # NATO is in the cited article
        ("And the bakery chain, who runs it now?", False),  # "it" is the bakery chain, a new topic word
        ("Why is the bakery closing its shops?", False),
        ("What about Pyongyang?", True),  # a bare opener ties back
        ("What did they say about Pyongyang?", True),  # a pronoun before the new name
    ],
)
def test_a_question_naming_its_own_subject_starts_over(question, carried):
    query = contextual_query(question, [NK], mentioned_in([NK_TEXT]))
    assert (query != question) is carried, query


FIRE = Turn("Why did the Athens wildfire spread so fast?", "Why did the Athens wildfire spread so fast?")
FIRE_TEXT = "Officials blamed the speed of the fire on gusts. A woman was found dead in a burned factory."


def test_a_common_word_names_a_subject_only_inside_a_noun_phrase():
    assert noun_phrase_words("When was the bakery chain founded?") == {"bakery", "chain", "founded"}
    assert noun_phrase_words("Was anyone killed?") == set()
    # "killed" is not in the cited article, but it is what is asked about the fire, not a new topic
    assert contextual_query("Was anyone killed?", [FIRE], mentioned_in([FIRE_TEXT])) != "Was anyone killed?"
    new_topic = "When was the bakery chain founded?"
    assert contextual_query(new_topic, [FIRE], mentioned_in([FIRE_TEXT])) == new_topic


def test_the_expanded_search_is_dropped_when_weaker():
    assert weaker([0.2, 0.5], [1.0]) and not weaker([1.0], [1.0]) and not weaker([], [])
    assert own_coverage("Who runs the bakery?", ["The bakery is run by Miriam.", "Rain."]) == [1.0, 0.0]


def test_a_refused_answer_is_remembered_as_not_answered(engine):
    from qa.search.options import SearchOptions

    refused = engine.ask("How many residents signed the petition?", SearchOptions(min_confidence=1.01))
    assert refused.abstained and not refused.turn().answered
    assert engine.ask("How many residents signed the petition?").turn().answered


def test_a_follow_ups_sentence_is_chosen_by_its_own_words(engine):
    first = engine.ask("How many residents signed the library petition?")
    found = engine.retrieve("Who is the head librarian there?", history=[first.turn()])
    assert found.query != "Who is the head librarian there?" and found.own_evidence is not None
    said = {e.span: e for e in found.evidence if e.hit == 0}
    petition = next(e for e in found.own_evidence if e.hit == 0 and "petition" in text_of(found, e))
    assert petition.overlap == 0.0 < said[petition.span].overlap  # carried words find the article, not the sentence
    answer = engine.ask("Who is the head librarian there?", history=[first.turn()])
    assert answer.citations[0].text.startswith("Head librarian Tomas Novak")


def test_a_follow_up_without_words_of_its_own_is_chosen_by_the_searched_query(engine):
    first = engine.ask("How many residents signed the library petition?")
    found = engine.retrieve("How many?", history=[first.turn()])
    assert found.query != "How many?" and found.own_evidence is None


def text_of(found, e):
    return found.hits[e.hit].article.text[slice(*e.span)]
