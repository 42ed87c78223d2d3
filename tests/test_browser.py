"""End to end in headless Chromium: the chat as a person uses it, on the real model and the seed article.

Each step saves a screenshot to test-artifacts/. Needs Debian's chromium at /usr/bin/chromium
(`.ci/run` installs it); skipped when it is missing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qa.chat import ChatService
from qa.engine import index_paths

from .chat_server import running_chat
from .conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
WAIT = 60_000  # ms; generous for a loaded CI machine, never a speed assertion
pytestmark = [
    pytest.mark.browser,
    pytest.mark.model,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


def serve(tmp_path_factory, folders):
    ix = tmp_path_factory.mktemp("browser") / "index"
    index_paths(folders, ix)
    service = ChatService(ix, feedback_path=ix.parent / "feedback.jsonl")
    with running_chat(service) as (url, _demo):
        yield url, service


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app on the shipped seed article, with the real packaged model; never changed by a test."""
    yield from serve(tmp_path_factory, [ROOT / "seeds"])


@pytest.fixture(scope="module")
def served_mixed(tmp_path_factory):
    """The app on the seed article plus one hostile article; uploads go here."""
    yield from serve(tmp_path_factory, [ROOT / "seeds", ROOT / "tests" / "data" / "hostile"])


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_chat(browser, url):
    """A fresh session on the chat; any JavaScript dialog is recorded (and fails the XSS test)."""
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    page = context.new_page()
    page.dialogs, page.elsewhere = [], []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    local = re.compile(r"^(https?://127\.0\.0\.1[:/]|data:|blob:)")
    page.on("request", lambda r: None if local.match(r.url) else page.elsewhere.append(r.url))
    page.goto(url)
    page.wait_for_selector("#qa-question textarea", timeout=WAIT)
    yield page
    context.close()


@pytest.fixture
def page(browser, served):
    yield from open_chat(browser, served[0])


@pytest.fixture
def mixed_page(browser, served_mixed):
    yield from open_chat(browser, served_mixed[0])


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def ask(page, question: str, replies_before: int = 0):
    """Type a question, press Ask, and return the locator of the new reply."""
    page.fill("#qa-question textarea", question)
    page.click("#qa-ask")
    reply = page.locator("#qa-chat .qa-reply").nth(replies_before)
    reply.wait_for(timeout=WAIT)
    return reply


def test_seed_question_gets_a_cited_answer_and_source_card(page, served):
    from playwright.sync_api import expect

    expect(page.locator("#qa-header")).to_contain_text("1 article · 4 passages", timeout=WAIT)
    reply = ask(page, "Who leads the North Korean delegation to Russia?")
    expect(reply.locator(".qa-answer")).to_contain_text("Choe Son Hui")
    expect(reply.locator("a.qa-cite").first).to_have_text("[1]")
    card = reply.locator("a.qa-card").first
    expect(card).to_contain_text("[1] North Korea Sends Foreign Minister To Russia")
    expect(card).to_contain_text("2024-10-29 · International · relevance")
    expect(card.locator("mark", has_text="Choe Son Hui")).to_have_count(1)
    shot(page, "1-answer")
    assert page.elsewhere == []  # no web fonts, analytics or CDN: nothing leaves the machine

    page.locator("#qa-chat button[aria-label='Like']").last.click()
    expect(page.get_by_text("Feedback saved")).to_be_visible(timeout=WAIT)
    saved = [json.loads(line) for line in served[1].feedback_path.read_text().splitlines()]
    assert saved[-1]["feedback"] == "up" and "Choe Son Hui" in " ".join(saved[-1]["answers"])


def test_citation_opens_the_article_with_the_passage_highlighted(page):
    from playwright.sync_api import expect

    reply = ask(page, "Who leads the North Korean delegation to Russia?")
    quoted = reply.locator(".qa-answer").inner_text()
    reply.locator("a.qa-cite").first.click()
    article = page.locator("#qa-article")
    expect(article.locator("h3")).to_contain_text("North Korea Sends Foreign Minister To Russia")
    focus = article.locator("mark#qa-focus")
    expect(focus).to_be_in_viewport()
    assert focus.inner_text().strip() in quoted
    expect(article.locator(".qa-passage")).to_have_count(1)
    assert page.evaluate("location.hash") == ""  # the link was handled, not followed
    shot(page, "2-article")


def test_follow_up_uses_the_conversation_and_new_topic_clears_it(page):
    from playwright.sync_api import expect

    ask(page, "Who leads the North Korean delegation to Russia?")
    reply = ask(page, "What did NATO say about it?", replies_before=1)
    expect(reply.locator(".qa-searched")).to_contain_text("searched: What did NATO say about it?")
    expect(reply.locator(".qa-answer")).to_contain_text("NATO")
    shot(page, "3-follow-up")

    page.click("#qa-new-topic")
    expect(page.locator("#qa-chat .qa-reply")).to_have_count(0)
    reply = ask(page, "What did NATO say about it?")
    expect(reply.locator(".qa-searched")).to_have_count(0)  # no earlier turn to lean on


def test_first_screen_example_questions_ask_with_one_click(page):
    from playwright.sync_api import expect

    example = page.locator("#qa-chat button", has_text="Which agency reported that the delegation left for Russia?")
    shot(page, "0-first-screen")
    example.click()
    reply = page.locator("#qa-chat .qa-reply").first
    expect(reply.locator("a.qa-cite").first).to_be_visible(timeout=WAIT)
    expect(page.locator("#qa-chat")).to_contain_text("Which agency reported that the delegation left for Russia?")


def test_upload_an_article_and_ask_about_it(mixed_page, tmp_path):
    from playwright.sync_api import expect

    page = mixed_page
    new = tmp_path / "lighthouse.txt"
    new.write_text(
        " date 2024-12-01 Local\n\nLighthouse Keeper Retires After 40 Years\n\n"
        "Marta Vell, the keeper of the Kallaste lighthouse, retired on Sunday after 40 years.\n"
    )
    bad = tmp_path / "<img src=x onerror=alert(1)>.exe"
    bad.write_bytes(b"MZ")
    page.get_by_text("Add articles").click()
    page.set_input_files("#qa-upload input[type=file]", [str(new), str(bad)])
    status = page.locator("#qa-upload-status")
    expect(status).to_contain_text("Indexed 1 file(s): 1 added", timeout=WAIT)
    expect(status).to_contain_text("Rejected: img_src_x_onerror_alert_1_.exe: type .exe is not an article file")
    expect(page.locator("#qa-header")).to_contain_text("3 articles")  # seed, hostile, upload
    status.scroll_into_view_if_needed()
    shot(page, "4-upload")

    reply = ask(page, "Who kept the Kallaste lighthouse?")
    expect(reply.locator(".qa-answer")).to_contain_text("Marta Vell")
    expect(reply.locator("a.qa-card").first).to_contain_text("Lighthouse Keeper Retires After 40 Years")
    shot(page, "5-upload-answer")


def test_html_and_markdown_in_an_article_show_as_text_and_run_nothing(mixed_page):
    from playwright.sync_api import expect

    page = mixed_page
    reply = ask(page, "When did the Zorblax festival open in Tartu?")
    card = reply.locator("a.qa-card").first
    expect(card).to_contain_text('<script>window.__qaPwned = 1; alert("title")</script>')
    expect(reply).to_contain_text('<img src=x onerror="window.__qaPwned = 2; alert(2)">')
    card.click()
    article = page.locator("#qa-article")
    expect(article).to_contain_text("[this link](javascript:window.__qaPwned=3) and **bold claims**")
    expect(article).to_contain_text("<style>body { display: none }</style>")
    expect(article).to_contain_text("${window.__qaPwned = 4} {{constructor}}")
    expect(article).to_contain_text('<a href="javascript:alert(5)">click</a>')
    shot(page, "6-hostile-article")

    assert page.evaluate("window.__qaPwned") is None
    assert page.dialogs == []
    assert page.locator("img[src='x'], a[href^='javascript']").count() == 0
    injected = "[...document.querySelectorAll('script, style')].map(e => e.textContent).join()"
    assert not re.search(r"__qaPwned|body \{ display: none \}", page.evaluate(injected))
    expect(page.locator("body")).to_be_visible()
