import json
from pathlib import Path

import pytest

from qa.errors import NoArticlesError
from qa.text.articles import normalise_date
from qa.text.ingest import load_articles

from .conftest import ARTICLES, ROOT


def by_id(path: Path) -> dict:
    return {a.id: a for a in load_articles([path]).articles}


def test_every_format_is_read_with_metadata():
    arts = by_id(ARTICLES)
    assert set(arts) == {"harbour", "orchard", "nested/library", "wire-1", "beir-7", "election"}
    assert arts["harbour"].title == "Port of Tallinn Opens New Container Terminal"
    assert (arts["harbour"].date, arts["harbour"].section) == ("2024-03-05", "Business")
    assert arts["orchard"].source == "Alpine Herald" and arts["orchard"].date == "2024-03-12"
    assert arts["orchard"].url == "https://example.org/frost"
    assert arts["nested/library"].title == "City Library Extends Opening Hours"
    assert arts["nested/library"].date == "2024-02-20"
    assert arts["nested/library"].text.startswith("The Riverside city library")
    assert "Copyright" not in arts["nested/library"].text  # boilerplate removed
    assert arts["beir-7"].section == "Science" and arts["beir-7"].date == "2024-09-30"
    assert arts["election"].id == "election" and arts["election"].source == "Accra Daily"


def test_seed_article_header_is_parsed():
    [seed] = load_articles([ROOT / "seeds"]).articles
    assert seed.id == "000_e55bf5d3b8499c8c"
    assert seed.date == "2024-10-29" and seed.section == "International"
    assert seed.title.startswith("North Korea Sends Foreign Minister")
    assert seed.text.startswith("This announcement")


def test_txt_without_header_uses_first_line_as_title(tmp_path):
    (tmp_path / "a.txt").write_text("Plain Title\n\nBody sentence one. Body two.\n")
    [a] = load_articles([tmp_path]).articles
    assert (a.title, a.text, a.date) == ("Plain Title", "Body sentence one. Body two.", None)


@pytest.mark.parametrize(
    "raw,iso",
    [
        ("2024-10-29", "2024-10-29"),
        ("Oct 29, 2024", "2024-10-29"),
        ("29 October 2024", "2024-10-29"),
        ("2024/10/29", "2024-10-29"),
        ("", None),
        (None, None),
    ],
)
def test_dates_are_normalised(raw, iso):
    assert normalise_date(raw) == iso


@pytest.mark.parametrize("raw", ["not a date", "2024-02-30"])
def test_bad_date_keeps_article_and_warns(tmp_path, raw):
    (tmp_path / "a.jsonl").write_text(json.dumps({"title": "T", "text": "Body.", "date": raw}) + "\n")
    result = load_articles([tmp_path])
    assert len(result.articles) == 1 and result.articles[0].date is None
    [warning] = result.problems
    assert warning.level == "warning" and raw in warning.message and warning.line == 1


def test_bad_files_are_reported_and_the_rest_indexed(tmp_path):
    (tmp_path / "good.txt").write_text("Good\n\nFine text here.")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02garbage")
    (tmp_path / "empty.md").write_text("---\ntitle: Nothing\n---\n")
    lines = [json.dumps({"title": "A", "text": "One."}), "{not json", json.dumps({"title": "B", "text": ""})]
    (tmp_path / "mixed.jsonl").write_text("\n".join(lines) + "\n")
    result = load_articles([tmp_path])
    assert sorted(a.title for a in result.articles) == ["A", "Good"]
    messages = {(Path(p.path).name, p.line): p.message for p in result.errors}
    assert "binary" in messages[("binary.txt", None)]
    assert "empty text" in messages[("empty.md", None)]
    assert "malformed JSON" in messages[("mixed.jsonl", 2)]
    assert "empty text" in messages[("mixed.jsonl", 3)]


def test_non_utf8_is_read_with_a_warning(tmp_path):
    (tmp_path / "latin.txt").write_bytes("Caf\xe9 News\n\nThe caf\xe9 opened.".encode("latin-1"))
    result = load_articles([tmp_path])
    assert result.articles[0].title == "Café News"
    assert result.problems[0].level == "warning" and "UTF-8" in result.problems[0].message


def test_identical_articles_are_stored_once(tmp_path):
    body = "Title\n\nSame story, same words."
    (tmp_path / "a.txt").write_text(body)
    (tmp_path / "b.txt").write_text(body + "\n")
    [article] = load_articles([tmp_path]).articles
    assert article.id == "a" and article.also_in == (str(tmp_path / "b.txt"),)


def test_same_id_different_content_keeps_both(tmp_path):
    rows = [{"id": "x", "title": "One", "text": "First."}, {"id": "x", "title": "Two", "text": "Second."}]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    result = load_articles([tmp_path])
    assert [a.id for a in result.articles] == ["x", "x~2"]
    assert "already used" in result.problems[0].message


def test_question_sets_beside_articles_are_skipped(tmp_path):
    (tmp_path / "questions.jsonl").write_text(json.dumps({"id": "q1", "question": "Why?"}) + "\n")
    (tmp_path / "a.txt").write_text("T\n\nText.")
    result = load_articles([tmp_path])
    assert [a.id for a in result.articles] == ["a"] and not result.problems


def test_content_id_is_stable_for_records_without_id(tmp_path):
    (tmp_path / "d.jsonl").write_text(json.dumps({"title": "T", "text": "Body."}) + "\n")
    first = load_articles([tmp_path]).articles[0].id
    (tmp_path / "d.jsonl").write_text("\n" + json.dumps({"title": "T", "text": "Body."}) + "\n")
    assert load_articles([tmp_path]).articles[0].id == first and first.startswith("doc-")


def test_a_blank_id_is_no_id(tmp_path):
    """Found by tests/test_properties.py: {"id": " "} became an article with the empty id."""
    (tmp_path / "d.jsonl").write_text(json.dumps({"id": " ", "text": "Body."}) + "\n")
    (tmp_path / "e.jsonl").write_text(json.dumps({"text": "Body."}) + "\n")
    blank, missing = (load_articles([tmp_path / f]).articles[0].id for f in ("d.jsonl", "e.jsonl"))
    assert blank.startswith("doc-") and blank == missing


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(NoArticlesError, match="does not exist"):
        load_articles([tmp_path / "nope"])


def test_a_flood_of_warnings_is_listed_up_to_a_cap_and_counted_beyond(tmp_path):
    from qa.text.ingest import KEEP_PROBLEMS

    n = KEEP_PROBLEMS + 7  # every record after the first reuses the id: one warning each
    lines = [
        json.dumps({"id": "same", "title": f"Story {i}", "text": f"Story number {i} is new."})
        for i in range(n + 1)
    ]
    (tmp_path / "mirror.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = load_articles([tmp_path])
    assert len(loaded.articles) == n + 1  # every story is kept; only the listing is capped
    *listed, more = loaded.problems
    assert len(listed) == KEEP_PROBLEMS and all("already used" in p.message for p in listed)
    assert more.level == "warning" and more.message.startswith("7 more warnings")


def test_an_html_page_without_text_is_one_problem_of_ours(tmp_path, caplog):
    """trafilatura logged a bare "discarding data: None" that named no file (found by a new-user try)."""
    page = tmp_path / "empty.html"
    page.write_text("<html><head><title>x</title></head><body><div></div></body></html>")
    loaded = load_articles([tmp_path])
    assert list(loaded) == []
    assert [str(p) for p in loaded.problems] == [f"{page}: no article text found in the HTML page"]
    assert "discarding data" not in caplog.text
