"""Links to the original page at the quoted sentence (search/deep_link.py), in every face."""

from __future__ import annotations

import functools
import html
import json
import threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from qa.cli.main import cli
from qa.search.answer import answer_json
from qa.search.deep_link import as_rendered, text_fragment
from qa.views import reply as views_reply

from .chat_browser import CHROMIUM, browser
from .conftest import HashEmbedder

__all__ = ["browser"]  # the module-scoped fixture

QUESTION = "How much emergency aid did the regional government promise?"


@pytest.mark.parametrize(
    "url, sentence, link",
    [
        # a short sentence goes whole, and the address's own fragment goes
        ("https://ex.com/a?b=1#top", "Choe left for Russia.", "https://ex.com/a?b=1#:~:text=Choe%20left%20for%20Russia."),
        # a long one gives its first and last words
        ("http://ex.com/s", "The regional government promised emergency aid of 5 million euros on Tuesday, officials said.",
         "http://ex.com/s#:~:text=The%20regional%20government%20promised,on%20Tuesday%2C%20officials%20said."),
        # characters that end a link in a terminal are encoded
        ('https://ex.com/a?q="x"<b>`', "Seal rescued.", "https://ex.com/a?q=%22x%22%3Cb%3E%60#:~:text=Seal%20rescued."),
        # Markdown's marks are not on the page, so not in the words
        ("https://ex.com/s", "The **mayor** promised [free buses](https://example.com/buses) for _all_ pupils.",
         "https://ex.com/s#:~:text=The%20mayor%20promised%20free%20buses%20for%20all%20pupils."),
    ],
)  # fmt: skip
def test_the_link_opens_the_page_at_the_sentence(url, sentence, link):
    assert text_fragment(url, sentence) == link


def test_markdown_marks_go_only_at_a_words_edge():
    assert as_rendered("snake_case and 5 * 3 and 2**10 stay") == "snake_case and 5 * 3 and 2**10 stay"
    assert as_rendered("see [the map](https://x.org/a_(b)) now") == "see the map now"
    assert as_rendered("A ![chart of votes](img.png) shows it.") == "A  shows it."


def test_the_directives_own_marks_are_encoded_inside_a_term():
    link = text_fragment("https://ex.com/s", "A well-known firm, Smith & Sons, won.")
    assert link is not None
    fragment = link.split("#:~:text=", 1)[1]
    assert "-" not in fragment and "," not in fragment and "&" not in fragment
    assert "well%2Dknown" in fragment and "%26" in fragment and "%2C" in fragment


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "javascript:alert(1)",
        "ftp://ex.com/a",
        "/local/path",
        "https://ex.com/a b",
        "https://ex.com/\x1b[2J",
        "data:text/html,<b>x</b>",
        "https://",
    ],
)
def test_only_a_web_address_gets_a_link(url):
    assert text_fragment(url, "Choe left for Russia.") is None


def test_no_words_or_a_huge_address_gets_no_link():
    assert text_fragment("https://ex.com/a", "   ") is None
    assert text_fragment("https://ex.com/" + "a" * 5000, "Choe left.") is None


def test_every_face_offers_the_original_at_the_quote(engine, built):
    answer = engine.ask(QUESTION)
    data = answer_json(answer)
    [first] = [s for s in data["answer"]["sentences"] if s["article_id"] == "orchard"][:1]
    assert first["link"].startswith("https://example.org/frost#:~:text=")
    assert all(s["link"] is None for s in data["answer"]["sentences"] if s["article_id"] != "orchard")
    bodies = {h.article.id: h.article.text for h in answer.hits}
    page = views_reply.answer_html(0, data, bodies, "your 6 articles")
    assert f'href="{first["link"]}"' in html.unescape(page) and "original, at the quote<span aria-hidden=\"true\"> ↗</span>" in page
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("qa.encode.backends.default_embedder", HashEmbedder)
        out = CliRunner().invoke(cli, ["ask", QUESTION, "--index", str(built)]).output
        as_json = json.loads(
            CliRunner().invoke(cli, ["ask", QUESTION, "--index", str(built), "--json"]).output
        )
    assert f"original at the quote: {first['link']}" in out
    assert as_json["answer"]["sentences"][0]["link"] == data["answer"]["sentences"][0]["link"]


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_chromium_opens_the_page_at_the_quoted_sentence(browser, tmp_path):
    """The link is the one a reader clicks: a real browser scrolls to the sentence."""
    sentence = "The regional government promised emergency aid of 5 million euros on Tuesday, officials said."
    filler = "".join(f"<p>Paragraph {i} says nothing in particular.</p>" for i in range(300))
    (tmp_path / "story.html").write_text(f"<html><body>{filler}<p>{sentence}</p>{filler}</body></html>")
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}/story.html"
        page = browser.new_page()
        try:
            page.goto(base)
            assert page.evaluate("window.scrollY") == 0
            page.goto(text_fragment(base, sentence))
            page.wait_for_function("window.scrollY > 0", timeout=30_000)
            assert page.evaluate("window.scrollY") > page.evaluate("document.body.scrollHeight") / 3
        finally:
            page.close()
            server.shutdown()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass


def test_a_hostile_address_stays_inside_the_cards_href():
    url = 'https://ex.com/"onmouseover="alert(1)"<b>'
    sentence = {"text": "Seal rescued.", "citation": 1, "article_id": "a", "start": 0, "end": 13}
    sentence["link"] = text_fragment(url, sentence["text"])
    passage = {
        "rank": 1,
        "article_id": "a",
        "title": "T",
        "date": None,
        "section": None,
        "source": None,
        "text": "Seal rescued.",
        "score": 0.5,
        "start": 0,
        "end": 13,
        "also_in": [],
        "copies": 0,
    }
    data = {
        "question": "q",
        "query": "q",
        "notes": [],
        "passages": [passage],
        "answer": {
            "text": "",
            "citations": [1],
            "sentences": [sentence],
            "span": None,
            "low_confidence": False,
        },
    }
    page = views_reply.answer_html(0, data, {"a": "Seal rescued."}, "your 1 article")
    assert "onmouseover=" not in page.replace("onmouseover=&#34;", "") and "<b>" not in page
    hrefs = [
        value for tag, attrs in Anchors.read(page) if tag == "a" for name, value in attrs if name == "href"
    ]
    assert sentence["link"] in hrefs  # the whole address, quotes and all, is one attribute's value


class Anchors(HTMLParser):
    @classmethod
    def read(cls, page: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
        parser = cls()
        parser.found = []
        parser.feed(page)
        return parser.found

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))
