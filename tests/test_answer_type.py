"""What a question asks for, the phrases of that kind in a sentence, and how the span is shown."""

import click
import pytest

from qa.cli.answer_text import styled
from qa.index.lexical import tokenize
from qa.search.answer import AnswerSpan
from qa.search.answer_type import OTHER, QuestionView, expected_kind, stemmed_terms
from qa.search.choose import focus_overlap, local_overlap, local_weights, title_terms
from qa.search.phrases import find_phrases
from qa.terminal import one_line


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who leads the North Korean delegation to Russia?", "person"),
        ("Whose idea was it?", "person"),
        ("How many North Korean troops are in Russia?", "number"),
        ("How much did the Lisbon tram Wi-Fi cost?", "number"),
        ("What percentage of the blossoms was lost?", "number"),
        ("What is the population of Warsaw?", "number"),
        ("When did the National Intelligence Service brief lawmakers?", "date"),
        ("In what year was the bakery founded?", "date"),
        ("Where are the troops likely to fight?", "place"),
        ("Which city hosted the final?", "place"),
        ("Why is the bakery closing shops?", "cause"),
        ("What was the main reason for the closures?", "cause"),
        ("Which agency reported the trip?", "organisation"),
        ("Which NFL team represented the AFC?", "organisation"),
        ("What is the name of the trophy?", "name"),
        ("What did NATO say?", OTHER),
        ("What did the team win?", OTHER),
        # the first wh-word decides: "who" here opens a relative clause
        ("What does someone who completes the programme get?", OTHER),
    ],
)
def test_expected_kind(question, kind):
    assert expected_kind(question) == kind


def phrases(text, kind):
    return [text[p.start : p.end] for p in find_phrases(text, kind)]


def test_numbers_keep_scale_and_unit_but_not_years_or_dates():
    text = "The network cost 1.2 million euros in 2022; 60 percent of $3 billion on March 4, 2024, for nine hours."
    assert phrases(text, "number") == ["1.2 million euros", "60 percent", "$3 billion", "nine hours"]


def test_dates_join_weekday_month_day_and_year():
    text = "It opened on Monday, March 4, 2024, after talks in the 1990s and in the 19th century; on Tuesday."
    assert phrases(text, "date") == ["Monday, March 4, 2024", "the 1990s", "the 19th century", "Tuesday"]


def test_names_drop_sentence_words_titles_and_possessives():
    text = "As reported by state-run agency KCNA, a delegation led by Foreign Minister Choe Son Hui left for Russia."
    assert phrases(text, "person") == ["KCNA", "Choe Son Hui", "Russia"]
    assert phrases(text, "organisation") == ["KCNA", "Foreign Minister Choe Son Hui", "Russia"]


def test_a_name_ending_in_a_hyphenated_modifier_is_no_name():
    text = "The Kim Jong Un-led country and a Lyon-based firm sent Hewlett-Packard staff."
    assert phrases(text, "person") == ["Hewlett-Packard"]


def test_a_titled_name_is_no_agency_or_place_span():
    from qa.search.span import phrase_candidates

    text = "As reported by state-run agency KCNA, a delegation led by Foreign Minister Choe Son Hui left."
    view = QuestionView.of("Which agency reported that the delegation left?", "organisation")
    assert [text[p.start : p.end] for p in phrase_candidates(view, text)] == ["KCNA"]
    text = "Harold died fighting Duke William II of Normandy at Saint Albans."
    view = QuestionView.of("Where did Harold die?", "place")
    assert [text[p.start : p.end] for p in phrase_candidates(view, text)] == ["Saint Albans"]
    assert phrases("The U.S. firm Dockline Inc. and the Bank of England's staff.", "name") == [
        "U.S.",
        "Dockline Inc.",
        "Bank of England",
    ]


def test_causes_are_the_clause_after_a_cause_word():
    text = "The owners are closing shops because of soaring butter and energy prices, they said."
    assert phrases(text, "cause") == ["soaring butter and energy prices"]
    assert phrases(text, "other") == []


def test_stemmed_terms_are_bm25s_terms():
    texts = [
        "Who leads the North Korean delegation to Russia?",
        "The $1.2 billion stadium opened in 2014.",
        "",
    ]
    assert stemmed_terms(texts) == tokenize(texts)


def test_irregular_past_forms_join_their_verb():
    # BM25 keeps "led" apart from "lead"; the chooser's terms join them (and keep "found" alone:
    # "When was it founded?" must not match "found dead")
    assert stemmed_terms(["Who leads it?", "a delegation led by", "he was found"]) == [
        ["lead"], ["deleg", "lead"], ["found"]
    ]
    assert tokenize(["a delegation led by"]) == [["deleg", "led"]]


def test_focus_overlap_skips_the_words_of_the_article_title():
    view = QuestionView.of("When was the bakery chain founded?", "date")
    local = local_weights(view, [{"bakeri", "chain"}, {"found"}, {"bakeri"}])
    title = title_terms("Bakery Chain to Close Shops")
    lead, founded = stemmed_terms(["The bakery chain will close shops.", "It was founded in 1968."])
    assert local_overlap(local, lead) > local_overlap(local, founded)  # the lead restates the topic
    assert focus_overlap(local, title, lead) == 0.0 < focus_overlap(local, title, founded) == 1.0


def test_a_phrase_the_question_already_holds_is_not_new():
    from qa.search.answer_type import echoed

    view = QuestionView.of("Who leads the North Korean delegation to Russia?", "person")
    assert echoed(view, "Russia") and echoed(view, "North Korean")
    assert not echoed(view, "Choe Son Hui")


def test_the_span_is_bold_inside_its_sentence():
    text = "A delegation led by Choe Son Hui left."
    span = AnswerSpan("a", 120, 132, "Choe Son Hui", "person")
    shown = styled(text, 100, span, one_line, underline=True)
    assert click.unstyle(shown) == text
    assert click.style("Choe Son Hui", underline=True, bold=True) in shown
    assert styled(text, 0, span, one_line) == text  # a span outside the sentence is not drawn


def test_the_span_survives_escaping_of_the_text_around_it():
    text = "A \x1b[31mdelegation led by Choe Son Hui left."
    span = AnswerSpan("a", text.index("Choe"), text.index(" left"), "Choe Son Hui", "person")
    shown = styled(text, 0, span, one_line)
    assert "\x1b[31m" not in shown and click.style("Choe Son Hui", bold=True) in shown
