"""The chat service without a browser: replies, follow-ups, citations opened, feedback, filters, start-up."""

import html
import json

import pytest

from qa.chat.feedback import feedback_record
from qa.chat.filters import check_filters, make_filters
from qa.chat.service import ChatService
from qa.chat.state import ChatState
from qa.errors import QAError
from qa.index.library import example_questions
from qa.search.answer import answer_json

from .conftest import ROOT


@pytest.fixture
def service(built, embedder, tmp_path):
    return ChatService(built, embedder=embedder, feedback_path=tmp_path / "fb" / "feedback.jsonl")


def test_reply_quotes_and_cites_like_engine_ask(service, engine):
    reply = service.respond("How many residents signed the library petition?", [], 0)
    assert reply.data == answer_json(engine.ask("How many residents signed the library petition?"))
    assert 'href="#qa-ref-0-1"' in reply.html and 'class="qa-answer"' in reply.html
    assert reply.turn.article_ids and reply.turn.question == reply.data["question"]


def test_user_text_is_escaped_in_the_chat(service):
    state = service.ask(ChatState(), "<img src=x onerror=alert(1)> library petition?")
    page = service.render(state)
    assert "<img" not in page
    assert "You asked: </span>&#60;img src&#61;x" in page


def test_follow_up_uses_history_and_says_what_was_searched(service):
    state = service.ask(ChatState(), "How many residents signed the library petition?")
    state = service.ask(state, "And when did it open?")
    second = state.replies[1]
    assert second["query"] != second["question"]
    page = service.render(state)
    assert "Searched:" in page and "#qa-ref-1-" in page and page.count('class="qa-turn"') == 2


def test_a_question_over_the_limit_is_answered_in_the_conversation(service):
    state = service.ask(ChatState(), "why " * 1000)
    assert state.replies == () and len(state.shown) == 1
    assert "the limit is 2,000" in service.render(state) and 'role="alert"' in service.render(state)


def test_the_first_screen_until_the_first_question(service):
    page = service.render(ChatState(), ["Who supplied the cranes?"])
    assert 'class="qa-welcome"' in page and 'data-qa="ex:Who supplied the cranes?"' in page
    assert page.count('class="qa-entry"') == 6 and 'data-qa="art:harbour"' in page
    assert service.render(ChatState()) != service.render(ChatState())  # stamped: always re-rendered


def test_votes_and_what_was_wrong_go_into_one_feedback_line(service):
    state = service.ask(ChatState(), "How many residents signed the library petition?")
    state = service.vote(state, "0:down")
    assert service.vote(state, "0:up") == state  # one vote per answer
    assert service.vote(state, "7:up") == state and service.explain(state, "7:x") == state  # no such reply
    assert 'data-qa="why:0"' in service.render(state)
    state = service.explain(state, "0:Wanted the date: and the place")
    assert "Wanted the date: and the place" in html.unescape(service.render(state))
    (line,) = service.feedback_path.read_text().splitlines()
    record = json.loads(line)
    assert record["feedback"] == "down" and record["reason"] == "Wanted the date: and the place"


def test_open_an_article_from_the_list(service):
    assert "Port of Tallinn Opens New Container Terminal" in service.open_article("harbour")
    assert "no longer in the index" in service.open_article("<gone>")


def test_refusal_says_how_many_articles_were_searched(service):
    filters = check_filters("2024-03-01", "2024-03-31")[0]
    assert service.scope(None) == "your 6 articles"
    assert service.scope(filters) == "the 2 articles the filters allow"


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
    assert check_filters("2024-01-01", "", keep_undated=True)[0].keep_undated
    assert check_filters("", "", keep_undated=True) == (None, [])


@pytest.mark.parametrize(
    "dates, hints",
    [
        (("last week", ""), ["From date: “last week” is not a date. Write it as YYYY-MM-DD, e.g. 2024-10-29."]),
        (("", "soon"), ["To date: “soon” is not a date. Write it as YYYY-MM-DD, e.g. 2024-10-29."]),
        (("2024-05-01", "2024-04-01"), ["From date 2024-05-01 is after To date 2024-04-01: swap them."]),
    ],
)
def test_a_bad_date_gives_a_hint_for_its_field(dates, hints):
    assert check_filters(*dates) == (None, hints)


def test_filters_restrict_the_answer(service):
    data = service.api_ask("Who won the election?", 3, sections=["Agriculture"])
    assert {p["section"] for p in data["passages"]} == {"Agriculture"}


def test_examples_only_for_articles_in_the_index(service, tmp_path):
    questions = tmp_path / "q.jsonl"
    rows = [{"question": "Q1?", "article_ids": ["harbour"]}, {"question": "Q2?", "article_ids": ["gone"]}]
    questions.write_text("\n".join(json.dumps(r) for r in rows))
    assert example_questions([questions], service.engine.index.articles) == ["Q1?"]
    assert service.examples(tmp_path / "missing.jsonl") == []
    assert service.examples(questions) == ["Q1?"]


def test_upload_says_file_by_file_what_happened(service, tmp_path):
    new = tmp_path / "lighthouse.md"
    new.write_text("---\ntitle: Lighthouse Keeper Retires\n---\nMarta Vell kept the Kallaste lighthouse.")
    bad = tmp_path / "photo.png"
    bad.write_bytes(b"PNG")
    first = html.unescape(service.add_files([new, bad]))
    assert "Added</span> <span class=\"qa-up-file\">lighthouse.md</span> <span class=qa-up-title>Lighthouse" in first
    assert "Rejected</span> <span class=\"qa-up-file\">photo.png" in first and "is not an article file" in first
    assert "1 of 2 files taken; the index now holds 7 articles." in first
    again = html.unescape(service.add_files([new]))
    assert "Already indexed</span> <span class=\"qa-up-file\">lighthouse.md" in again and "0 added" not in again
    new.write_text("---\ntitle: Lighthouse Keeper Retires\n---\nMarta Vell kept the Kallaste lighthouse for 40 years.")
    assert "Updated</span>" in service.add_files([new])


def test_start_builds_the_index_from_seeds_when_missing(embedder, tmp_path):
    service = ChatService.start(tmp_path / "fresh", seeds=[ROOT / "seeds"], embedder=embedder)
    assert service.facets()["articles"] >= 1
    calls = embedder.calls
    ChatService.start(tmp_path / "fresh", seeds=[ROOT / "seeds"], embedder=embedder)
    assert embedder.calls == calls  # an existing index is opened, not embedded again


def test_start_tells_of_the_first_runs_model_export(embedder, tmp_path, monkeypatch, caplog):
    """A fresh machine's first chat start exports the model (about 20 s) before it can answer:
    the log says so, as `qa index` does, instead of a silent wait."""
    import qa.index.build

    real = qa.index.build.index_paths

    def exporting(*args, notify=None, **kwargs):
        notify("Preparing the onnx-int8 model (first run only, about 20 s)...")
        return real(*args, notify=notify, **kwargs)

    monkeypatch.setattr(qa.index.build, "index_paths", exporting)
    with caplog.at_level("WARNING", logger="qa.chat.service"):
        ChatService.start(tmp_path / "fresh", seeds=[ROOT / "seeds"], embedder=embedder)
    assert "Preparing the onnx-int8 model" in caplog.text


def test_warm_up_tells_of_the_model_export_on_an_existing_index(built, embedder, tmp_path, caplog):
    """An index built elsewhere, opened on a machine whose model cache is empty: the warm-up's
    export is logged, not a silent wait before the first answer."""
    told: list[str] = []

    class Exporting(type(embedder)):  # type: ignore[misc]
        def prepare(self, notify=None):
            told.append("prepare")
            notify("Preparing the onnx-int8 model (first run only, about 20 s)...")

    service = ChatService(built, embedder=Exporting(), feedback_path=tmp_path / "fb.jsonl")
    with caplog.at_level("WARNING", logger="qa.chat.service"):
        service.warm_up()
    assert told == ["prepare"] and "Preparing the onnx-int8 model" in caplog.text
    assert service.warmed.is_set()


def test_api_as_of_and_date_filters(service):
    march = service.api_ask("What happened this week?", 2, as_of="2024-03-13")
    assert {p["article_id"] for p in march["passages"]} == {"harbour", "orchard"}
    found = service.api_search("What happened this week?", 2, as_of="2024-03-13")
    assert {p["article_id"] for p in found["passages"]} == {"harbour", "orchard"}
    with pytest.raises(QAError, match="not a date"):
        service.api_ask("What happened this week?", 2, as_of="next Tuesday")


def test_as_of_in_the_chat_reads_this_week_from_that_day(service):
    from qa.chat.filters import as_of_hints
    from qa.chat.state import ChatState

    assert as_of_hints("") == [] and as_of_hints("2024-03-13") == []
    assert "not a date" in as_of_hints("next Tuesday")[0]
    state = service.ask(ChatState(), "What happened this week?", 2, None, "2024-03-13")
    assert {p["article_id"] for p in state.replies[0]["passages"]} == {"harbour", "orchard"}
    bad = service.ask(ChatState(), "What happened this week?", 2, None, "soon")
    assert not bad.replies  # an error turn, not an answer
