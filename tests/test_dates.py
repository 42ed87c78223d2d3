from datetime import date, timedelta

import numpy as np
import pytest

from qa.errors import QuestionError
from qa.search.dates import (
    date_intent,
    describe,
    shift,
    time_fit,
    time_fits,
    time_lift,
    window_share,
    without_phrase,
)
from qa.search.options import SearchOptions
from qa.search.retrieve import Filters, search

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


@pytest.mark.parametrize("question", ["What is the latest on NATO?", "Most recent troop numbers", "current situation",
                                      "What happened recently?", "upcoming elections"])
def test_recency_words_prefer_the_last_month(question):
    intent = date_intent(question, AS_OF)
    assert intent.prefer_recent and (intent.date_from, intent.date_to) == ("2024-09-29", "2024-10-29")


@pytest.mark.parametrize("question", ["Who leads the delegation?", "How many troops? 10,000?", "February 30, 2024 plans", "May I ask who?"])
def test_questions_without_dates_say_nothing(question):
    assert not date_intent(question, AS_OF)


def test_a_date_in_the_question_is_preferred_not_required(engine):
    answer = engine.ask("What happened in March 2024?", SearchOptions(k=5))
    assert {h.article.id for h in answer.hits[:2]} == {"harbour", "orchard"}
    assert len({h.article.id for h in answer.hits}) > 2  # the rest of the archive is still there
    assert any("'in March 2024' as 2024-03-01 to 2024-03-31" in note for note in answer.notes)


def test_strong_evidence_from_another_time_wins_and_is_named(engine):
    answer = engine.ask("Heavy snow closed the Brenner pass: how long did trucks wait in March 2024?", SearchOptions(k=3))
    assert not answer.abstained and answer.citations[0].article_id == "wire-1"
    assert "Closest evidence is dated 2024-01-16." in answer.notes


def test_time_words_do_not_count_as_words_of_the_question(engine):
    plain = engine.ask("How long did trucks wait at the Brenner pass?", SearchOptions(k=3))
    timed = engine.ask("How long did trucks wait at the Brenner pass this week?", SearchOptions(k=3))
    assert timed.confidence == plain.confidence
    # the same sentences (a citation's score is the chooser's probability, which also reads
    # the passage scores that the date lift moves)
    assert [(c.article_id, c.start, c.end) for c in timed.citations] == [
        (c.article_id, c.start, c.end) for c in plain.citations
    ]


def test_as_of_moves_this_week(engine):
    newest = engine.search("What happened this week?", SearchOptions(k=2))
    march = engine.search("What happened this week?", SearchOptions(k=2, as_of="2024-03-13"))
    assert newest[0].article.id == "election" and {h.article.id for h in march} == {"harbour", "orchard"}


def test_user_filters_still_remove_articles(engine):
    march = Filters(date_from="2024-03-01", date_to="2024-03-31")
    answer = engine.ask("How long did trucks wait at the Brenner pass?", SearchOptions(k=5), march)
    assert {h.article.id for h in answer.hits} <= {"harbour", "orchard"}


@pytest.mark.parametrize("as_of", ["last week", "2024-13-01", "", "29/10/2024"])
def test_an_as_of_that_is_not_a_date_is_refused(as_of):
    with pytest.raises(QuestionError, match="not a date; write it as YYYY-MM-DD"):
        SearchOptions(as_of=as_of)


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31"])
def test_an_as_of_far_outside_the_archive_is_refused(engine, as_of):
    with pytest.raises(QuestionError, match=f"as-of date {as_of} is far outside the articles' dates"):
        engine.ask("What happened last week?", SearchOptions(as_of=as_of))


@pytest.mark.parametrize("question", ["What happened last year?", "news from the past few weeks", "the latest"])
def test_time_words_at_the_ends_of_the_calendar_do_not_overflow(question):
    early, late = date_intent(question, date(1, 1, 3)), date_intent(question, date(9999, 12, 30))
    assert early.date_from == "0001-01-01" and late.date_to is not None
    assert shift(date(9999, 12, 30), 5) == date.max and shift(date(1, 1, 3), -5) == date.min


@pytest.mark.parametrize("question,topic", [
    ("Which automaker recalled cars this week?", "Which automaker recalled cars?"),
    ("What did NATO say in October 2024 about troops?", "What did NATO say about troops?"),
    ("What is the latest on NATO?", "NATO?"),  # the whole lead-in is time words
    ("What's the latest news about the strike?", "the strike?"),
    ("What is the latest: who leads the delegation?", "who leads the delegation?"),
    ("What is the latest version of the plan?", "What is version of the plan?"),  # no lead-in: the words alone
    ("What happened this week?", "What happened?"),
    ("this week", "this week"),  # nothing left but time words
    ("Who won?", "Who won?"),
])
def test_time_words_are_taken_out_of_the_searched_text(question, topic):
    assert without_phrase(question, date_intent(question, AS_OF)) == topic


@pytest.mark.parametrize("question", [
    "How does the genome of 2019-nCoV compare with SARS?",  # a virus, not the year 2019
    "What is the R0 of 2019-nCoV in Wuhan?",
])
def test_a_year_glued_to_a_name_is_not_a_date(question):
    assert not date_intent(question, AS_OF)


def test_an_undated_archive_ignores_time_words_and_says_so(tmp_path):
    from qa import Engine, index_paths

    from .conftest import HashEmbedder

    (tmp_path / "a.md").write_text("# Ferry\n\nThe night ferry resumed service in November 2002.")
    index_paths([tmp_path / "a.md"], tmp_path / "index", embedder=HashEmbedder())
    engine = Engine.from_index(tmp_path / "index", embedder=HashEmbedder())
    found = engine.retrieve("Which ferry resumed service this week?")
    assert not found.intent and found.query == "Which ferry resumed service this week?"
    assert found.notes == ("No article is dated, so “this week” cannot favour any.",)
    named = engine.retrieve("Which ferry resumed service in November 2002?")
    assert named.query == "Which ferry resumed service in November 2002?"  # the date is the topic here


def test_time_fit_is_one_inside_and_decays_outside():
    week = date_intent("this week", AS_OF)
    assert time_fit("2024-10-25", week) == 1.0
    assert time_fit("2024-10-16", week) == pytest.approx(0.5)
    assert time_fit("2023-10-25", week) < 0.01 and time_fit(None, week) == 0.0
    assert time_fit("2024-10-25", date_intent("Who won?", AS_OF)) == 0.0


def test_a_story_dated_after_the_as_of_day_fits_no_window():
    # Asked on AS_OF, "this week" cannot mean a story not yet written: the day after gets
    # nothing (it got 0.9 of a perfect fit), while the week before the window still decays.
    after = (AS_OF + timedelta(days=1)).isoformat()
    for question in ("What happened this week?", "What is the latest?", "What happened since September 2024?"):
        intent = date_intent(question, AS_OF)
        assert time_fit(after, intent) == 0.0 and time_fit(AS_OF.isoformat(), intent) == 1.0, question
    assert time_fit("2024-10-16", date_intent("this week", AS_OF)) == pytest.approx(0.5)
    # A month named is asked about whole: its last days fit though they lie after the as-of day,
    # as the note that reads the words says.
    named = date_intent("What happened in October 2024?", date(2024, 10, 24))
    assert time_fit("2024-10-28", named) == 1.0 and "as 2024-10-01 to 2024-10-31:" in describe(named)
    days = np.array([date(2024, 10, 25).toordinal(), (AS_OF + timedelta(days=1)).toordinal()])
    assert window_share(days, np.array([1, 1]), date_intent("this week", AS_OF)) == 0.5


def test_latest_prefers_the_newest_article(engine):
    plain = engine.search("news from the council and the voters", SearchOptions(k=6))
    recent = engine.search("latest news from the council and the voters", SearchOptions(k=6))
    rank = lambda hits: [h.article.id for h in hits].index("election")  # noqa: E731
    assert rank(recent) <= rank(plain)


def test_dates_can_be_switched_off(engine):
    answer = engine.ask("What happened in March 2024?", SearchOptions(k=6, dates=False))
    assert answer.notes == () and answer.query == "What happened in March 2024?"


@pytest.mark.parametrize("question", ["What happened in Mar-a-Lago?", "What did we hear from May about Brexit?",
                                      "What was in May's Brexit deal?"])
def test_names_that_look_like_months_are_not_dates(question):
    assert not date_intent(question, AS_OF)


def test_after_starts_the_day_after_and_todays_means_recent():
    assert date_intent("What happened after 2020?", AS_OF).date_from == "2021-01-01"
    assert date_intent("What happened after September 2024?", AS_OF).date_from == "2024-10-01"
    assert date_intent("What is today's news?", AS_OF).prefer_recent


def test_time_fits_is_time_fit_for_many_days_and_zero_for_undated():
    week = date_intent("this week", AS_OF)
    days = ["2024-10-25", "2024-10-16", "2023-10-25", "2024-11-04"]
    got = time_fits(np.array([date.fromisoformat(d).toordinal() for d in days] + [0]), week)
    assert list(got) == pytest.approx([time_fit(d, week) for d in days] + [0.0])
    assert got[0] == 1.0 and got[1] == pytest.approx(0.5) and got[-1] == 0.0


def test_window_share_counts_passages_and_partly_fitting_days():
    week = date_intent("this week", AS_OF)
    days = np.array([0, date(2024, 10, 25).toordinal(), date(2024, 10, 16).toordinal(), date(2020, 1, 1).toordinal()])
    counts = np.array([2, 3, 2, 3])  # 2 undated passages, 3 in the week, 2 a week early, 3 far away
    assert window_share(days, counts, week) == pytest.approx((3 + 2 * 0.5) / 10)
    assert window_share(days[:0], counts[:0], week) == 0.0


def test_the_lift_shrinks_with_the_share_of_the_archive_the_window_fits():
    as_of = date(2025, 12, 31)
    six_years = np.arange(date(2020, 1, 1).toordinal(), as_of.toordinal() + 1)  # one passage a day
    counts = np.ones_like(six_years)
    lifts = {q: time_lift(0.1, date_intent(q, as_of), six_years, counts)
             for q in ("this week", "recently", "in 2023", "since 2021")}
    assert lifts["this week"] == lifts["recently"] == 0.1  # a week or a month of six years: the full lift
    assert 0.01 < lifts["in 2023"] < 0.04  # a sixth of the archive, plus its tails
    assert lifts["since 2021"] < lifts["in 2023"]  # five years of six: nearly nothing
    assert time_lift(0.1, date_intent("in 2023", as_of), six_years[:0], counts[:0]) == 0.1  # nothing dated


def test_candidates_added_from_the_window_leave_every_other_score_as_it_was(engine):
    """The in-window extras are scored on the overall top's scale: before they were, they
    stretched the min-max range and moved every other candidate (1-2% of SciFact questions
    ranked their answer lower with a matching as-of date)."""
    query = "trucks waited at the pass"
    qvec = engine.embedder.embed([query])[0]
    plain = {h.row: h.score for h in search(engine.index, qvec, query, depth=2)}
    window = Filters("2024-03-10", "2024-03-31")  # the orchard, not in the overall top 2
    timed = {h.row: h.score for h in search(engine.index, qvec, query, depth=2, prefer=window)}
    assert set(timed) > set(plain) and all(timed[r] == pytest.approx(s) for r, s in plain.items())
    assert all(timed[r] <= min(plain.values()) for r in set(timed) - set(plain))


def test_questions_without_time_words_rank_exactly_as_with_dates_off(engine):
    for question in ("How long did trucks wait at the Brenner pass?", "Who won the election in Ghana?"):
        on, off = (engine.search(question, SearchOptions(k=6, dates=d)) for d in (True, False))
        assert [(h.row, h.score) for h in on] == [(h.row, h.score) for h in off]
