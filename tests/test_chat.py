"""The chat service without a browser: replies, follow-ups, citations opened, feedback, filters, start-up."""

import html
import json

import pytest

from qa.answer import answer_json
from qa.chat import ChatService, example_questions, feedback_record, make_filters
from qa.errors import QAError

from .conftest import ROOT


@pytest.fixture
def service(built, embedder, tmp_path):
    return ChatService(built, embedder=embedder, feedback_path=tmp_path / "fb" / "feedback.jsonl")


def test_reply_quotes_and_cites_like_engine_ask(service, engine):
    reply = service.respond("How many residents signed the library petition?", [], 0)
    assert reply.data == answer_json(engine.ask("How many residents signed the library petition?"))
    user, assistant = reply.messages
    assert user == {"role": "user", "content": "How many residents signed the library petition?"}
    assert assistant["role"] == "assistant" and 'href="#qa-ref-0-1"' in assistant["content"]
    assert reply.turn.article_ids and reply.turn.question == reply.data["question"]


def test_user_text_is_escaped_in_the_chat(service):
    reply = service.respond("<img src=x onerror=alert(1)> library petition?", [], 0)
    assert "<img" not in reply.messages[0]["content"]
    assert html.unescape(reply.messages[0]["content"]).startswith("<img src=x")


def test_follow_up_uses_history_and_says_what_was_searched(service):
    first = service.respond("How many residents signed the library petition?", [], 0)
    second = service.respond("And when did it open?", [first.turn], 1)
    assert second.data["query"] != second.data["question"]
    assert "searched:" in second.messages[1]["content"] and "#qa-ref-1-" in second.messages[1]["content"]


def test_open_reference_marks_the_quoted_sentence(service):
    reply = service.respond("Who supplied the cranes in Tallinn?", [], 0)
    n = reply.data["answer"]["sentences"][0]["citation"]
    page = service.open_reference(f"#qa-ref-0-{n}", [reply.data])
    assert "Port of Tallinn Opens New Container Terminal" in page
    marked = html.unescape(page.split('<mark id="qa-focus">')[1].split("</mark>")[0])
    assert marked == reply.data["answer"]["sentences"][0]["text"]
    for bad in ("#qa-ref-1-1", "#qa-ref-0-99", "junk"):
        assert "no longer" in service.open_reference(bad, [reply.data])


def test_open_reference_after_the_article_changed(service, articles_dir, embedder, built):
    reply = service.respond("Who supplied the cranes in Tallinn?", [], 0)
    harbour = articles_dir / "harbour.txt"
    harbour.write_text(harbour.read_text().replace("Monday", "Tuesday, after a long delay,"))
    service.upload([harbour])
    page = service.open_reference("#qa-ref-0-1", [reply.data])
    assert "has changed since this answer" in page and "<mark" not in page


def test_upload_is_searchable_at_once(service, tmp_path):
    new = tmp_path / "lighthouse.md"
    new.write_text("---\ntitle: Lighthouse Keeper Retires\nsection: Local\n---\nMarta Vell kept the Kallaste lighthouse.")
    result = service.upload([new])
    assert result.build and result.build.report.added == 1
    assert "Local" in service.facets()["sections"]
    assert "Marta Vell" in service.respond("Who kept the Kallaste lighthouse?", [], 0).data["answer"]["text"]


def test_feedback_is_saved_in_the_eval_question_format(service):
    reply = service.respond("How many residents signed the library petition?", [], 0)
    service.record_feedback(reply.data, True)
    service.record_feedback(reply.data, False)
    up, down = [json.loads(line) for line in service.feedback_path.read_text().splitlines()]
    assert up["id"] == down["id"] and up["id"].startswith("fb-")
    assert up["question"] == reply.data["question"] and up["feedback"] == "up"
    assert up["answers"] == [s["text"] for s in reply.data["answer"]["sentences"]]
    assert up["article_ids"] == [reply.data["answer"]["sentences"][0]["article_id"]]
    assert down["feedback"] == "down" and down["answers"] == [] and down["shown"]["answer"]


def test_feedback_on_a_reply_that_said_the_articles_dont_say():
    data = {"question": "Who won the 1950 World Cup?", "query": "q", "answer": None, "passages": []}
    assert feedback_record(data, "up")["unanswerable"] is True
    assert "unanswerable" not in feedback_record(data, "down")


def test_filters_from_the_form():
    assert make_filters("", "", [], []) is None
    f = make_filters("March 1, 2024", "2024-12-31", ["Politics"], None)
    assert (f.date_from, f.date_to, f.sections, f.sources) == ("2024-03-01", "2024-12-31", ("Politics",), ())
    with pytest.raises(QAError, match="YYYY-MM-DD"):
        make_filters("soon", "", [], [])


def test_filters_restrict_the_answer(service):
    data = service.api_ask("Who won the election?", 3, sections=["Agriculture"])
    assert {p["section"] for p in data["passages"]} == {"Agriculture"}


def test_examples_only_for_articles_in_the_index(service, tmp_path):
    questions = tmp_path / "q.jsonl"
    rows = [{"question": "Q1?", "article_ids": ["harbour"]}, {"question": "Q2?", "article_ids": ["gone"]}]
    questions.write_text("\n".join(json.dumps(r) for r in rows))
    assert example_questions(questions, service.engine.index.articles) == ["Q1?"]
    assert service.examples(tmp_path / "missing.jsonl") == []


def test_start_builds_the_index_from_seeds_when_missing(embedder, tmp_path):
    service = ChatService.start(tmp_path / "fresh", seeds=[ROOT / "seeds"], embedder=embedder)
    assert service.facets()["articles"] >= 1
    calls = embedder.calls
    ChatService.start(tmp_path / "fresh", seeds=[ROOT / "seeds"], embedder=embedder)
    assert embedder.calls == calls  # an existing index is opened, not embedded again


def test_api_as_of_and_date_filters(service):
    march = service.api_ask("What happened this week?", 2, as_of="2024-03-13")
    assert {p["article_id"] for p in march["passages"]} == {"harbour", "orchard"}
    found = service.api_search("What happened this week?", 2, as_of="2024-03-13")
    assert {p["article_id"] for p in found["passages"]} == {"harbour", "orchard"}
    with pytest.raises(QAError, match="not a date"):
        service.api_ask("What happened this week?", 2, as_of="next Tuesday")
