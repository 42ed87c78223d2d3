"""Adding articles in the browser, and what the filters offer as the index grows: headless
Chromium at a desktop and a phone size, real model, a server on the seed article alone.

The uploads change this module's index, so every test here says only what holds whatever
was uploaded before it (an article uploaded twice is "Already indexed").
"""

from __future__ import annotations

import re

import pytest

from qa.chat.service import ChatService
from qa.index.build import index_paths

from .chat_browser import BROWSER_TESTS, SIZES, WAIT, ask, axe_problems, browser, open_chat, shot
from .chat_server import running_chat
from .conftest import DATA, ROOT

pytestmark = BROWSER_TESTS
__all__ = ["browser"]
LIGHTHOUSE = (
    " date 2024-12-01 Local\n\nLighthouse Keeper Retires After 40 Years\n\n"
    "Marta Vell, the keeper of the Kallaste lighthouse, retired on Sunday after 40 years.\n"
)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    ix = tmp_path_factory.mktemp("uploads") / "index"
    index_paths([ROOT / "seeds"], ix)
    with running_chat(ChatService(ix, feedback_path=ix.parent / "feedback.jsonl")) as (url, _demo):
        yield url


@pytest.fixture(params=list(SIZES))
def page(request, browser, served):
    yield from open_chat(browser, served, request.param)


@pytest.fixture
def desktop(browser, served):
    yield from open_chat(browser, served, "desktop")


@pytest.fixture
def phone(browser, served):
    yield from open_chat(browser, served, "phone")


def upload(page, *paths) -> None:
    status = page.locator("#qa-upload-status")
    if not page.locator("#qa-upload").is_visible():
        page.locator("#qa-add").get_by_text("Add articles").click()
    status.evaluate("e => e.setAttribute('data-before', e.textContent)")
    page.set_input_files("#qa-upload input[type=file]", [str(p) for p in paths])
    page.wait_for_function(  # a new report: the old one may say the same words
        "() => { const e = document.querySelector('#qa-upload-status');"
        " return e.querySelector('.qa-upload-report') && !e.querySelector('.pending') &&"
        " e.textContent !== e.getAttribute('data-before') }",
        timeout=WAIT,
    )


def test_filters_with_nothing_to_choose_are_hidden(page):
    from playwright.sync_api import expect

    if "1 article" not in page.locator("#qa-header").inner_text():
        pytest.skip("an earlier test added articles")  # only the seed article offers nothing to choose
    page.locator("#qa-filters").get_by_text("Filters").click()
    expect(page.locator("#qa-dated")).to_contain_text("1 article, all dated: 2024-10-29.")
    expect(page.locator("#qa-filters").get_by_label("Sections")).to_be_hidden()  # one section only
    expect(page.locator("#qa-filters").get_by_label("Sources")).to_be_hidden()  # none at all
    expect(page.locator("#qa-undated")).to_be_hidden()
    expect(page.locator("#qa-from")).to_be_visible()
    shot(page, "20-filters-one-article")


def test_upload_reports_each_file_and_a_repeat_is_already_indexed(desktop, tmp_path):
    from playwright.sync_api import expect

    page = desktop
    new = tmp_path / "lighthouse.txt"
    new.write_text(LIGHTHOUSE)
    long = tmp_path / "council.txt"  # long enough that embedding shows progress for a while
    long.write_text(
        "City Council Minutes\n\n"
        + "\n\n".join(
            f"Item {i}: the council discussed road {i} repairs, "
            "budgets for parks, and the schedule of the winter ferry." * 3
            for i in range(40)
        )
    )
    bad = tmp_path / "<img src=x onerror=alert(1)>.exe"
    bad.write_bytes(b"MZ")
    trackers = """() => [...document.querySelectorAll('[data-testid=status-tracker]')]
        .filter(e => !e.classList.contains('hide') && e.offsetParent && e.getBoundingClientRect().height > 0)
        .map(e => e.closest('[id^=qa-]')?.id || 'elsewhere')"""
    page.locator("#qa-add").get_by_text("Add articles").click()
    page.set_input_files("#qa-upload input[type=file]", [str(new), str(long), str(bad)])
    seen = set()
    while not page.locator("#qa-upload-status .qa-upload-report").count():
        seen.update(page.evaluate(trackers))
        page.wait_for_timeout(30)
    # progress shows in one place, the upload report (and Gradio's own upload bar on the file box)
    assert "qa-upload-status" in seen and seen <= {"qa-upload-status", "qa-upload"}, seen
    report = page.locator("#qa-upload-status .qa-upload-report")
    rows = report.locator("li")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_have_text(
        re.compile(r"^Added lighthouse\.txt Lighthouse Keeper Retires After 40 Years")
    )
    expect(rows.nth(2)).to_have_text(
        re.compile(r"^Rejected img_src_x_onerror_alert_1_\.exe type \.exe is not an article file")
    )
    expect(rows.nth(2)).to_have_class(re.compile("qa-up-bad"))
    expect(report).to_contain_text("2 of 3 files taken; the index now holds")
    expect(page.locator("#qa-header")).to_contain_text("3 articles")
    shot(page, "21-upload")
    assert axe_problems(page) == []

    upload(page, new)
    expect(report.locator("li")).to_have_text(
        re.compile(r"^Already indexed lighthouse\.txt Lighthouse Keeper")
    )
    page.locator("#qa-filters").get_by_text("Filters").click()
    expect(page.locator("#qa-filters").get_by_label("Sections")).to_be_visible()  # International, Local now
    turn = ask(page, "Who kept the Kallaste lighthouse?")
    expect(turn.locator(".qa-answer")).to_contain_text("Marta Vell")
    shot(page, "22-upload-answer")


def test_html_and_markdown_in_an_article_show_as_text_and_run_nothing(page):
    from playwright.sync_api import expect

    upload(page, DATA / "hostile" / "zorblax.txt")  # added, or already indexed by the other size
    expect(page.locator("#qa-upload-status li").first).to_contain_text(
        "zorblax.txt Zorblax Festival <script>"
    )
    turn = ask(page, "When did the Zorblax festival open in Tartu?")
    card = turn.locator(".qa-card").first
    expect(card).to_contain_text('<script>window.__qaPwned = 1; alert("title")</script>')
    expect(card).to_contain_text('<img src=x onerror="window.__qaPwned = 2; alert(2)">')
    card.locator(".qa-card-title a").click()
    article = page.locator("#qa-article")
    expect(article).to_contain_text("[this link](javascript:window.__qaPwned=3) and **bold claims**")
    expect(article).to_contain_text("<style>body { display: none }</style>")
    expect(article).to_contain_text("${window.__qaPwned = 4} {{constructor}}")
    expect(article).to_contain_text('<a href="javascript:alert(5)">click</a>')
    shot(page, "23-hostile-article")

    assert page.evaluate("window.__qaPwned") is None
    assert page.dialogs == []
    assert page.locator("img[src='x'], a[href^='javascript']").count() == 0
    injected = "[...document.querySelectorAll('script, style')].map(e => e.textContent).join()"
    assert not re.search(r"__qaPwned|body \{ display: none \}", page.evaluate(injected))
    expect(page.locator("body")).to_be_visible()


def test_an_unusable_file_is_refused_by_name_on_a_phone(phone, tmp_path):
    from playwright.sync_api import expect

    empty = tmp_path / "notes.md"
    empty.write_text("")
    upload(phone, empty)
    expect(phone.locator("#qa-upload-status li")).to_have_text("Rejected notes.md the file is empty")
    expect(phone.locator("#qa-upload-status")).to_contain_text("0 of 1 file taken.")
    shot(phone, "24-upload-refused")
    assert axe_problems(phone) == []
