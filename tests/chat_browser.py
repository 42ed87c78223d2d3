"""Driving the chat in headless Chromium for the browser tests: pages at a desktop and a phone
size, asking, screenshots in test-artifacts/, and an axe-core accessibility scan.

Needs Debian's chromium at /usr/bin/chromium (`.ci/run` installs it); tests using it are skipped
when it is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
WAIT = 60_000  # ms; generous for a loaded CI machine, never a speed assertion
LOCAL = re.compile(r"^(https?://127\.0\.0\.1[:/]|data:|blob:)")
BROWSER_TESTS = [
    pytest.mark.browser,
    pytest.mark.model,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_chat(browser: Any, url: str, size: str) -> Iterator[Any]:
    """A fresh session on the chat at `size`; JavaScript dialogs and requests leaving the
    machine are recorded, and a test fails when it made any."""
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.size, page.dialogs, page.elsewhere = size, [], []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: None if LOCAL.match(r.url) else page.elsewhere.append(r.url))
    page.goto(url)
    page.wait_for_selector("#qa-question textarea", timeout=WAIT)
    page.wait_for_selector("#qa-conv .qa-log:not([data-v='0'])", timeout=WAIT)  # the load event is done
    yield page
    context.close()
    assert page.elsewhere == [], "the page loaded something from outside the machine"


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{page.size}.png"))


def answered(page: Any) -> Any:
    return page.locator("#qa-conv .qa-turn:not(.qa-pending)")


def ask(page: Any, question: str, enter: bool = True) -> Any:
    """Type a question, send it with Enter (or the Ask button), and return the new turn."""
    before = answered(page).count()
    page.fill("#qa-question textarea", question)
    if enter:
        page.press("#qa-question textarea", "Enter")
    else:
        page.click("#qa-ask")
    turn = answered(page).nth(before)
    turn.wait_for(timeout=WAIT)
    page.locator("#qa-conv .qa-pending").wait_for(state="detached", timeout=WAIT)
    return turn


def box(locator: Any) -> dict[str, float]:
    found = locator.bounding_box()
    assert found, f"{locator} is not on screen"
    return dict(found)


def axe_problems(page: Any) -> list[str]:
    """Serious and critical WCAG 2.1 A/AA violations axe-core finds on the page as it is."""
    from axe_playwright_python.sync_playwright import Axe

    options = {
        "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}
    }
    results = Axe().run(page, options=options).response
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]} {v['help']}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
