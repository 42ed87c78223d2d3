"""The chat as a person uses it, in headless Chromium at a desktop (1280x900) and a phone
(390x844) size, on the real model and nine small articles (two of them undated).

One server for the module, never changed by a test; each step saves a screenshot to
test-artifacts/ and each screen a person reads is scanned by axe-core.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import replace

import pytest

from qa.chat.service import ChatService
from qa.index.build import index_paths
from qa.search.answer import AnswerSpan

from .chat_browser import (
    BROWSER_TESTS,
    SIZES,
    WAIT,
    answered,
    ask,
    axe_problems,
    box,
    browser,
    open_chat,
    shot,
)
from .chat_server import running_chat
from .conftest import ARTICLES, DATA, ROOT

pytestmark = BROWSER_TESTS
__all__ = ["browser"]  # the module-scoped fixture, used by the tests below
UNDATED = {
    "ferry.md": "# Night Ferry Returns to Saaremaa\n\nThe night ferry to Saaremaa resumed service after repairs to its engines.",
    "bakery.md": "# Village Bakery Wins Bread Prize\n\nA village bakery in Otepää won the national rye bread prize.",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app on the test articles, the seed article and two undated ones, with the real model."""
    root = tmp_path_factory.mktemp("browser")
    news = root / "news"
    shutil.copytree(ARTICLES, news)
    shutil.copy(DATA / "questions.jsonl", news / "questions.jsonl")  # example questions
    for name, body in UNDATED.items():
        (news / name).write_text(body)
    index_paths([news, ROOT / "seeds"], root / "index")
    service = ChatService(root / "index", feedback_path=root / "feedback.jsonl")
    with running_chat(service) as (url, _demo):
        yield url, service


@pytest.fixture(params=list(SIZES))
def page(request, browser, served):
    yield from open_chat(browser, served[0], request.param)


def no_axe_problems(page, where: str) -> None:
    problems = axe_problems(page)
    assert problems == [], f"{where} at {page.size}: {problems}"


def test_first_screen_says_what_is_indexed_and_offers_examples_and_articles(page):
    from playwright.sync_api import expect

    expect(page.locator("#qa-header")).to_contain_text(
        "9 articles · 4 sources · 7 of 9 dated, 2024-01-16 to 2024-12-07"
    )
    welcome = page.locator("#qa-conv .qa-welcome")
    expect(welcome).to_contain_text("Ask about your 9 articles")
    expect(welcome).to_contain_text("12 passages")
    examples = welcome.locator("button.qa-example")
    texts = examples.all_inner_texts()
    # from several articles: the first three examples come from three different articles
    assert texts[:3] == [
        "How many residents signed the library petition?",
        "Who supplied the cranes for the Tallinn terminal?",
        "What share of the apple blossoms did the frost destroy in Styria?",
    ]
    border = examples.first.evaluate("e => getComputedStyle(e).borderTopWidth")
    assert border != "0px"  # they look like buttons, not text
    question = box(page.locator("#qa-question textarea"))
    assert question["y"] + question["height"] <= SIZES[page.size][1]  # the question box is above the fold
    shot(page, "01-first-screen")
    no_axe_problems(page, "the first screen")

    welcome.locator("summary", has_text="Browse the 9 articles").click()
    entries = welcome.locator(".qa-entries li")
    expect(entries).to_have_count(9)
    expect(entries.first).to_contain_text("Ghana Holds Presidential Election")  # newest first
    expect(entries.first).to_contain_text("2024-12-07 · Accra Daily")
    welcome.locator(".qa-lib-filter").fill("ferry")
    expect(welcome.locator(".qa-entries li:visible")).to_have_count(1)
    welcome.locator("button.qa-entry", has_text="Night Ferry Returns to Saaremaa").click()
    expect(page.locator("#qa-article h2")).to_have_text("Night Ferry Returns to Saaremaa")
    shot(page, "02-article-from-the-list")

    page.locator("#qa-article .qa-close").click()
    expect(page.locator("#qa-article .qa-article")).to_have_count(0)
    examples.nth(1).click()
    turn = answered(page).first
    expect(turn.locator(".qa-answer")).to_contain_text("Dockline Inc.", timeout=WAIT)


def test_answer_comes_first_with_citation_pills_then_one_card_per_article(page):
    from playwright.sync_api import expect

    turn = ask(page, "Who supplied the cranes for the Tallinn terminal?")
    answer = turn.locator(".qa-answer")
    expect(answer).to_contain_text("Officials said the U.S. firm Dockline Inc. supplied the cranes.")
    pill = answer.locator("a.qa-cite").first
    expect(pill).to_have_text("1")
    expect(pill).to_have_attribute("aria-label", "Source 1: Port of Tallinn Opens New Container Terminal")
    assert pill.evaluate("e => getComputedStyle(e).borderRadius") != "0px"
    cards = turn.locator(".qa-card")
    expect(cards).to_have_count(1)  # the quoted sentences come from one article: one card
    expect(cards.first.locator(".qa-card-title")).to_have_text("Port of Tallinn Opens New Container Terminal")
    expect(cards.first.locator("mark")).to_have_count(answer.locator("a.qa-cite").count())  # each one marked
    assert "relevance" not in turn.inner_text()
    assert box(answer)["y"] < box(cards.first)["y"]  # the answer first, its sources after
    shot(page, "03-answer")
    no_axe_problems(page, "an answer")


def test_a_new_question_lands_at_the_top_of_the_chat(page):
    from playwright.sync_api import expect

    ask(page, "Who supplied the cranes for the Tallinn terminal?")
    ask(page, "How many residents signed the library petition?")
    page.locator("#qa-conv").evaluate("e => e.scrollTop = 0")  # read back up, then open a citation
    answered(page).first.locator("a.qa-cite").first.click()
    expect(page.locator("#qa-article h2")).to_be_visible()
    page.locator("#qa-article .qa-close").click()
    turn = ask(page, "Who won the presidential election in Ghana?")
    conv, asked = box(page.locator("#qa-conv")), box(turn.locator(".qa-q"))
    assert conv["y"] <= asked["y"] <= conv["y"] + 40  # the question sits at the top of the chat
    expect(turn.locator(".qa-answer")).to_be_in_viewport()  # and its answer under it
    shot(page, "04-new-answer-at-top")


def test_the_question_shows_at_once_and_its_answer_grows_under_it(page, served, monkeypatch):
    """A slowed engine leaves time to see the question at the top with "Searching…" under it."""
    from playwright.sync_api import expect

    ask(page, "Who supplied the cranes for the Tallinn terminal?")
    real_ask = served[1].engine.ask
    monkeypatch.setattr(served[1].engine, "ask", lambda *a, **k: (time.sleep(1.5), real_ask(*a, **k))[1])
    page.fill("#qa-question textarea", "Who won the presidential election in Ghana?")
    page.press("#qa-question textarea", "Enter")
    pending = page.locator("#qa-conv .qa-pending")
    expect(pending.locator(".qa-q")).to_have_text("Who won the presidential election in Ghana?")
    expect(pending.locator(".qa-wait")).to_have_text("Searching your articles…")
    conv, asked = box(page.locator("#qa-conv")), box(pending.locator(".qa-q"))
    assert conv["y"] <= asked["y"] <= conv["y"] + 40
    shot(page, "05-searching")
    turn = answered(page).nth(1)
    expect(turn.locator(".qa-answer")).to_contain_text("Mahama", timeout=WAIT)
    assert abs(box(turn.locator(".qa-q"))["y"] - asked["y"]) < 5  # the answer grew below; nothing jumped


def test_refusal_is_one_line_with_the_closest_matches_folded(page):
    from playwright.sync_api import expect

    turn = ask(page, "What was the score of the Champions League final?")
    answer = turn.locator(".qa-answer")
    expect(answer).to_contain_text(re.compile(r"^Not found in your 9 articles\. \S"))  # and the engine's why
    assert "closest passages are below" not in answer.inner_text() and "don't say" not in answer.inner_text()
    closest = turn.locator("details.qa-closest")
    expect(closest.locator("summary")).to_have_text("Closest matches (5)")
    expect(closest.locator(".qa-row").first).not_to_be_visible()
    assert "Closest matches:" not in turn.inner_text()
    shot(page, "06-refusal")
    no_axe_problems(page, "a refusal")
    closest.locator("summary").click()
    rows = closest.locator(".qa-row")
    expect(rows).to_have_count(5)
    line = rows.first.locator(".qa-line")
    assert line.evaluate("e => e.getBoundingClientRect().height") < 30  # title and one line each
    shot(page, "06-refusal-expanded")
    rows.first.click()
    expect(page.locator("#qa-article h2")).to_be_visible()


def test_a_citation_opens_the_article_with_a_sticky_title_and_a_way_back(page):
    from playwright.sync_api import expect

    turn = ask(page, "How many residents signed the library petition?")
    turn.locator(".qa-answer a.qa-cite").first.click()
    pane = page.locator("#qa-article")
    expect(pane.locator("h2")).to_have_text("City Library Extends Opening Hours")
    expect(pane.locator(".qa-art-ref")).to_have_text("Source 1 of the answer")
    expect(pane.locator("mark#qa-focus")).to_be_in_viewport()
    assert page.evaluate("location.hash") == ""  # handled, not followed
    width, height = SIZES[page.size]
    side = box(page.locator("#qa-side"))
    if page.size == "phone":  # a full-screen sheet over the chat
        assert side["x"] == 0 and side["width"] == width and side["height"] >= height - 1
    else:  # beside the chat, which stays readable
        assert side["x"] > width / 2 and box(page.locator("#qa-conv"))["width"] > 500
    pane.evaluate("e => e.scrollTop = e.scrollHeight")
    expect(pane.locator("h2")).to_be_in_viewport()  # the title stays
    expect(pane.locator(".qa-close")).to_be_in_viewport()
    shot(page, "07-article")
    no_axe_problems(page, "an open article")
    page.keyboard.press("Escape")
    expect(pane.locator(".qa-article")).to_have_count(0)
    turn.locator(".qa-answer a.qa-cite").first.click()
    pane.locator(".qa-close").click()
    expect(page.locator("#qa-side")).to_be_hidden()
    expect(turn.locator(".qa-answer")).to_be_visible()
    turn.locator(".qa-answer a.qa-cite").first.click()
    expect(pane.locator("h2")).to_be_visible()
    ask(page, "Who won the presidential election in Ghana?")
    expect(page.locator("#qa-side")).to_be_hidden()  # a new answer does not keep the old article open


def test_keyboard_enter_asks_and_tab_reaches_the_citations(page):
    from playwright.sync_api import expect

    page.focus("#qa-question textarea")
    page.keyboard.type("Who supplied the cranes for the Tallinn terminal?")
    page.keyboard.press("Enter")
    expect(answered(page)).to_have_count(1, timeout=WAIT)
    page.focus("#qa-new-topic")
    for _ in range(12):  # from the button above the chat, Tab walks into the answer
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('qa-cite')"):
            break
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith("Source 1")
    page.keyboard.press("Enter")
    expect(page.locator("#qa-article h2")).to_be_focused()
    shot(page, "08-keyboard")


def test_a_mistyped_date_is_hinted_under_the_field_and_blanks_nothing(page, served, caplog):
    from playwright.sync_api import expect

    ask(page, "Who supplied the cranes for the Tallinn terminal?")
    page.locator("#qa-filters").get_by_text("Filters").click()
    expect(page.locator("#qa-dated")).to_contain_text("7 of 9 articles dated (2024-01-16 to 2024-12-07)")
    page.fill("#qa-from textarea, #qa-from input", "last week")
    page.fill("#qa-question textarea", "Who won the presidential election in Ghana?")
    page.press("#qa-question textarea", "Enter")
    hint = page.locator("#qa-filter-hint .qa-hint")
    expect(hint).to_contain_text("From date: “last week” is not a date. Write it as YYYY-MM-DD")
    expect(page.locator("#qa-question textarea")).to_have_value("Who won the presidential election in Ghana?")
    expect(answered(page)).to_have_count(1)  # the conversation is as it was
    expect(page.locator("#qa-conv .qa-pending")).to_have_count(0)
    expect(page.locator(".toast-body, .error")).to_have_count(0)  # no error overlay
    assert box(hint)["y"] > box(page.locator("#qa-from"))["y"]  # under the field
    shot(page, "09-date-hint")
    assert not [r for r in caplog.records if r.exc_info]  # no traceback for a typo

    page.fill("#qa-from textarea, #qa-from input", "2024-12-01")
    turn = ask(page, "Which ferry resumed service?")
    expect(turn.locator(".qa-answer")).to_contain_text("Not found in the 1 article the filters allow")
    page.locator("#qa-undated label").click()  # include the 2 undated ones
    turn = ask(page, "Which ferry resumed service?")
    expect(turn.locator(".qa-answer")).to_contain_text("night ferry to Saaremaa")

    page.fill("#qa-from textarea, #qa-from input", "")
    page.fill("#qa-as-of textarea, #qa-as-of input", "soon")
    page.fill("#qa-question textarea", "What happened this week?")
    page.press("#qa-question textarea", "Enter")
    expect(hint).to_contain_text("As of: “soon” is not a date. Write it as YYYY-MM-DD")
    page.fill("#qa-as-of textarea, #qa-as-of input", "2024-03-13")
    turn = ask(page, "What happened this week?")
    expect(turn).to_contain_text("2024-03-07 to 2024-03-13")  # how the time words were read


def test_section_chips_stay_on_one_line(page):
    from playwright.sync_api import expect

    page.locator("#qa-filters").get_by_text("Filters").click()
    sections = page.locator("#qa-filters").get_by_label("Sections")
    for name in ("Agriculture", "International"):
        sections.click()
        page.get_by_role("option", name=name).click()
    page.keyboard.press("Escape")
    chips = page.locator("#qa-filters .token span")
    expect(chips).to_have_count(2)
    for chip in chips.all():
        assert chip.evaluate("e => e.getBoundingClientRect().height < 2 * parseFloat(getComputedStyle(e).fontSize)")
    shot(page, "12-section-chips")
    turn = ask(page, "What share of the apple blossoms did the frost destroy in Styria?")
    expect(turn.locator(".qa-card .qa-meta").first).to_contain_text("Agriculture")


def test_low_confidence_answer_span_and_notes_are_shown(page, served, monkeypatch):
    """The engine does not mark these yet: a wrapped Engine.ask adds them to a real answer."""
    from playwright.sync_api import expect

    engine = served[1].engine
    real_ask = engine.ask

    def marked_ask(*args, **kwargs):
        answer = real_ask(*args, **kwargs)
        c = answer.citations[0]
        at = c.start + c.text.index("Dockline Inc.")
        span = AnswerSpan(c.article_id, at, at + len("Dockline Inc."), "Dockline Inc.", "organisation")
        note = "Read 'this week' as 2024-03-04 to 2024-03-10; closest evidence is dated 2024-03-05."
        return replace(answer, span=span, low_confidence=True, notes=(note,))

    monkeypatch.setattr(engine, "ask", marked_ask)
    turn = ask(page, "Who supplied the cranes for the Tallinn terminal?")
    expect(turn.locator(".qa-answer strong.qa-span")).to_have_text("Dockline Inc.")
    expect(turn.locator(".qa-low .qa-badge")).to_have_text("Low confidence")
    expect(turn.locator(".qa-low")).to_contain_text("check it in the source")
    expect(turn.locator(".qa-read")).to_contain_text("Read 'this week' as 2024-03-04 to 2024-03-10")
    shot(page, "10-low-confidence")
    no_axe_problems(page, "a low-confidence answer")


def test_feedback_thanks_and_asks_what_was_wrong(page, served):
    from playwright.sync_api import expect

    turn = ask(page, "Who supplied the cranes for the Tallinn terminal?")
    turn.get_by_role("button", name="Useful", exact=True).click()
    expect(turn.locator(".qa-thanks")).to_have_text("Thanks, recorded.")
    turn = ask(page, "How many residents signed the library petition?")
    turn.get_by_role("button", name="Not useful").click()
    field = turn.get_by_label("What was wrong? (optional)")
    field.fill(f"Wanted the date too ({page.size})")
    turn.get_by_role("button", name="Send").click()
    expect(turn.locator(".qa-thanks")).to_contain_text(f"Wanted the date too ({page.size})")
    assert str(served[1].feedback_path) not in page.content()  # no server path on the page
    shot(page, "11-feedback")
    lines = [json.loads(line) for line in served[1].feedback_path.read_text().splitlines()]
    mine = [r for r in lines if r.get("reason") == f"Wanted the date too ({page.size})"]
    assert len(mine) == 1 and mine[0]["feedback"] == "down" and "petition" in mine[0]["question"]


def test_follow_up_uses_the_conversation_and_new_topic_clears_it(page):
    from playwright.sync_api import expect

    ask(page, "Who supplied the cranes for the Tallinn terminal?")
    turn = ask(page, "How many people does it employ?", enter=False)
    expect(turn.locator(".qa-read")).to_contain_text("Searched: How many people does it employ?")
    expect(turn.locator(".qa-answer")).to_contain_text("340 people")
    page.click("#qa-new-topic")
    expect(page.locator("#qa-conv .qa-welcome")).to_be_visible()
    turn = ask(page, "How many people does it employ?")
    expect(turn.locator(".qa-read")).to_have_count(0)  # no earlier turn to lean on


def test_the_page_fits_the_screen_and_only_the_chat_scrolls(page):
    for question in (
        "Who supplied the cranes for the Tallinn terminal?",
        "Who won the presidential election in Ghana?",
    ):
        ask(page, question)
    height = SIZES[page.size][1]
    assert page.evaluate("document.scrollingElement.scrollHeight") <= height
    conv = page.locator("#qa-conv")
    assert conv.evaluate("e => e.scrollHeight > e.clientHeight")  # the chat scrolls inside
    question = box(page.locator("#qa-question textarea"))
    assert height - 90 < question["y"] + question["height"] <= height  # the question box at the bottom
    if page.size == "phone":
        reply = box(answered(page).last.locator(".qa-card").first)
        assert reply["width"] > 320  # cards use the phone's width
