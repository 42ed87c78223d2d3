"""What the chat's first screen and filters say about an index, and the feedback file."""

import html
import json

import pytest

from qa.chat.feedback import FeedbackLog, feedback_record
from qa.index import library
from qa.index.library import Overview
from qa.text.articles import Article
from qa.views import page as views_page


def overview(**changes):
    base = dict(
        articles=100, passages=412, dated=3, date_from="2024-10-29", date_to="2024-11-05",
        sections=("World",), sources=("AP", "BBC", "DW", "NPR"), model="m",
    )  # fmt: skip
    return Overview(**{**base, **changes})


def test_overview_counts_dated_articles(engine):
    ov = library.overview(engine.index)
    assert (ov.articles, ov.dated, ov.undated) == (6, 6, 0)
    assert ov.date_from <= ov.date_to and "Agriculture" in ov.sections and ov.model == "test/hash-embedder"


def test_header_and_first_screen_say_how_many_articles_carry_a_date():
    ov = overview()
    assert "100 articles · 4 sources · 3 of 100 dated, 2024-10-29 to 2024-11-05" in views_page.header_html(ov)
    welcome = views_page.welcome_html(ov, ["Q <1>?"], [])
    assert (
        "4 sources: AP, BBC, DW and 1 more" in html.unescape(welcome)
        and 'data-qa="ex:Q &#60;1&#62;?"' in welcome
    )
    dated = views_page.dated_html(ov)
    assert "3 of 100 articles dated (2024-10-29 to 2024-11-05)" in dated and "the 97 undated" in dated
    assert views_page.undated_label(ov) == "Include the 97 undated articles"
    assert (
        views_page.dates_phrase(overview(dated=0)) == "no dates"
        and views_page.dated_html(overview(dated=0)) == ""
    )
    assert views_page.dates_phrase(overview(dated=100, date_to="2024-10-29")) == "2024-10-29"


@pytest.mark.parametrize(
    "changes, shown",
    [
        ({}, {"dates": True, "undated": True, "sections": False, "sources": True}),
        (
            {"dated": 0, "sources": ()},
            {"dates": False, "undated": False, "sections": False, "sources": False},
        ),
        (
            {"dated": 100, "sections": ("A", "B")},
            {"dates": True, "undated": False, "sections": True, "sources": True},
        ),
    ],
)
def test_a_filter_with_nothing_to_choose_is_hidden(changes, shown):
    assert views_page.shown_filters(overview(**changes)) == shown


def test_articles_are_listed_newest_first_and_undated_last():
    arts = {
        a.id: a
        for a in [
            Article("old", "Old", "t", date="2023-01-02"),
            Article("none", "<b>No date</b>", "t", source="Wire"),
            Article("new", "New", "t", date="2024-05-06"),
        ]
    }
    assert [e.id for e in library.entries(arts)] == ["new", "old", "none"]
    assert [e.id for e in library.entries(arts, limit=1)] == ["new"]
    listed = views_page.library_html(overview(articles=3), library.entries(arts))
    assert 'data-qa="art:none"' in listed and "&#60;b&#62;No date" in listed and "Wire" in listed
    assert "The newest 1 of 3" in views_page.library_html(overview(articles=3), library.entries(arts, 1))


def test_examples_come_from_several_articles(tmp_path):
    rows = [{"question": f"A{i}?", "article_ids": ["a"]} for i in range(4)]
    rows += [{"question": "B?", "article_ids": ["b"]}, {"question": "C?", "article_ids": ["c"]}]
    rows += [{"question": "X?", "unanswerable": True}, {"question": "Gone?", "article_ids": ["gone"]}]
    (tmp_path / "q.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n[1, 2]\n")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json")
    found = library.example_questions([bad, tmp_path / "q.jsonl"], {"a", "b", "c"}, limit=4)
    assert found == ["A0?", "B?", "C?", "A1?"]


def test_question_files_are_the_users_first(tmp_path):
    (tmp_path / "news").mkdir()
    extra = tmp_path / "seeds.jsonl"
    assert library.question_files([str(tmp_path / "news"), "missing"], [extra]) == [
        tmp_path / "news" / "questions.jsonl",
        extra,
    ]


def test_upload_report_names_every_file():
    rows = [
        views_page.UploadRow("a.txt", True, "Added", "Title <A>"),
        views_page.UploadRow("b.exe", False, "Rejected", reason="type .exe is not an article file"),
    ]
    out = html.unescape(views_page.uploads_html(rows, 12))
    assert "1 of 2 files taken; the index now holds 12 articles." in out
    assert 'qa-up-bad"><span class="qa-up-status">Rejected</span> <span class="qa-up-file">b.exe' in out
    assert "Title <A>" in out and "<A>" not in views_page.uploads_html(rows, 12)


def test_a_reason_is_written_into_its_own_feedback_line(tmp_path):
    log = FeedbackLog(tmp_path / "fb" / "feedback.jsonl")
    data = {"question": "q", "query": "q", "answer": None, "passages": []}
    first, second = feedback_record(data, "down"), feedback_record({**data, "question": "r"}, "down")
    log.append(first)
    log.append(second)
    (tmp_path / "fb" / "feedback.jsonl").open("a").write("not json\n")
    assert log.add_reason(first, "  wrong\n  article ")["reason"] == "wrong article"
    lines = (tmp_path / "fb" / "feedback.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["reason"] == "wrong article" and "reason" not in json.loads(lines[1])
    assert lines[2] == "not json"  # what it did not write, it leaves alone
    assert log.add_reason(first, "   ") is None
    assert log.add_reason({**first, "at": "never"}, "x") is None
