from datetime import date

import pytest

from qa.dates import date_intent
from qa.engine import SearchOptions

AS_OF = date(2024, 10, 29)


@pytest.mark.parametrize("question,start,end", [
    ("What happened in October 2024?", "2024-10-01", "2024-10-31"),
    ("Who spoke on 29 October 2024?", "2024-10-29", "2024-10-29"),
    ("What was said on Oct. 5, 2024?", "2024-10-05", "2024-10-05"),
    ("Reports from 2024-10-29 about NATO", "2024-10-29", "2024-10-29"),
    ("News since March", "2024-03-01", "2024-10-29"),
    ("What happened after September 2024?", "2024-10-01", "2024-10-29"),
    ("What was decided before 2023?", None, "2022-12-31"),
    ("What happened in 2023?", "2023-01-01", "2023-12-31"),
    ("What happened last week?", "2024-10-16", "2024-10-22"),
    ("What happened yesterday?", "2024-10-28", "2024-10-28"),
    ("in December", "2023-12-01", "2023-12-31"),  # the latest December before the as-of date
])
def test_dates_in_questions_become_ranges(question, start, end):
    intent = date_intent(question, AS_OF)
    assert (intent.date_from, intent.date_to) == (start, end) and not intent.prefer_recent


@pytest.mark.parametrize("question", ["What is the latest on NATO?", "Most recent troop numbers", "current situation"])
def test_recency_words_prefer_newer_articles(question):
    intent = date_intent(question, AS_OF)
    assert intent.prefer_recent and intent.date_from is None


@pytest.mark.parametrize("question", ["Who leads the delegation?", "How many troops? 10,000?", "February 30, 2024 plans", "May I ask who?"])
def test_questions_without_dates_say_nothing(question):
    assert not date_intent(question, AS_OF)


def test_engine_filters_by_a_date_in_the_question(engine):
    answer = engine.ask("What happened in March 2024?", SearchOptions(k=5))
    assert {h.article.id for h in answer.hits} <= {"harbour", "orchard"}
    assert any("2024-03-01 to 2024-03-31" in note for note in answer.notes)


def test_a_date_matching_nothing_is_ignored(engine):
    answer = engine.ask("What happened to the harbour in 1990?", SearchOptions(k=3))
    assert answer.hits and answer.notes == ()


def test_latest_prefers_the_newest_article(engine):
    plain = engine.search("news from the council and the voters", SearchOptions(k=6))
    recent = engine.search("latest news from the council and the voters", SearchOptions(k=6))
    rank = lambda hits: [h.article.id for h in hits].index("election")  # noqa: E731
    assert rank(recent) <= rank(plain)


def test_dates_can_be_switched_off(engine):
    answer = engine.ask("What happened in March 2024?", SearchOptions(k=6, dates=False))
    assert answer.notes == () and len({h.article.id for h in answer.hits}) > 2


@pytest.mark.parametrize("question", ["What happened in Mar-a-Lago?", "What did we hear from May about Brexit?",
                                      "What was in May's Brexit deal?"])
def test_names_that_look_like_months_are_not_dates(question):
    assert not date_intent(question, AS_OF)


def test_after_starts_the_day_after_and_todays_means_recent():
    assert date_intent("What happened after 2020?", AS_OF).date_from == "2021-01-01"
    assert date_intent("What happened after September 2024?", AS_OF).date_from == "2024-10-01"
    assert date_intent("What is today's news?", AS_OF).prefer_recent
