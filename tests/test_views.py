"""The chat's HTML: everything from an article is shown as text; citations link back to passages."""

import html
import re

import pytest

from qa import views
from qa.answer import answer_json
from qa.articles import Article

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "**bold** _it_ `code` # heading | table |",
    "${alert(1)} {{constructor}} $$x^2$$",
    "&lt;already escaped&gt; \"quotes\" 'single'",
]


@pytest.mark.parametrize("raw", HOSTILE)
def test_text_shows_every_character_and_leaves_no_markup(raw):
    out = views.text(raw)
    assert html.unescape(out) == raw
    bare = re.sub(r"&#\d+;", "", out)  # what is left besides numeric entities
    assert not re.search(r"[<>\"'`\[\]()*_{}$#|&]", bare), out


def test_inline_keeps_one_line():
    assert views.inline("a\n\nb\r\nc") == "a<br><br>b<br>c"


@pytest.mark.parametrize(
    "ref, parsed",
    [("#qa-ref-3-2", (3, 2)), ("0-1", (0, 1)), ("#qa-ref-x-1", None), ("", None), ("1-2-3", None)],
)
def test_parse_ref(ref, parsed):
    assert views.parse_ref(ref) == parsed


def test_marked_wraps_only_the_marks_and_focuses_the_first():
    body = "One. Two <b>. Three."
    out = views.marked(body, 0, len(body), [(5, 13)], passage=True)
    assert out == '<span class="qa-passage">One. <mark id="qa-focus">Two &#60;b&#62;.</mark> Three.</span>'
    bare = views.marked(body, 0, len(body), [], passage=True)
    assert bare.startswith('<span class="qa-passage" id="qa-focus">')


def test_excerpt_cuts_long_passages_around_the_quote():
    body = "word " * 200 + "The quoted sentence." + " tail" * 200
    start = body.index("The quoted")
    out = views.excerpt(body, 0, len(body), [(start, start + 20)])
    assert out.startswith("… ") and out.endswith(" …") and "<mark>The quoted sentence.</mark>" in out
    assert len(out) < 2 * views.EXCERPT_CHARS + 60


def test_reply_has_cited_sentences_links_and_one_card_per_cited_passage(engine):
    answer = engine.ask("How many residents signed the library petition?")
    data = answer_json(answer)
    out = views.reply_html(4, data, {h.article.id: h.article.text for h in answer.hits})
    cited = sorted({c.number for c in answer.citations})
    assert out.count('class="qa-card"') == len(cited)
    for n in cited:
        assert f'href="#qa-ref-4-{n}"' in out
    assert "2,400 residents" in html.unescape(out) and "City Library Extends Opening Hours" in out
    assert "<mark>" in out and "\n" not in out


def test_reply_for_a_follow_up_shows_the_query_and_abstention_shows_closest_matches():
    passage = {
        "rank": 1, "article_id": "a", "title": "<b>T</b>", "date": None, "section": None, "source": "S",
        "text": "Body.", "score": 0.5, "start": 0, "end": 5, "also_in": [],
    }  # fmt: skip
    data = {"question": "and it?", "query": "and it? topic", "answer": None, "reason": "", "passages": [passage]}
    out = views.reply_html(0, data, {"a": "Body."})
    assert "searched: and it? topic" in html.unescape(out)
    assert "The articles don&#39;t say. Closest matches:" in out
    assert "&#60;b&#62;T&#60;/b&#62;" in out and 'href="#qa-ref-0-1"' in out


def test_article_view_escapes_and_links_only_http():
    article = Article("x", "<i>Title</i>", "Before. <script>x()</script> After.", url="javascript:alert(1)")
    start = article.text.index("<script>")
    out = views.article_html(article, (start, len(article.text)), [(start, start + 20)])
    assert "<script>" not in out and "<i>" not in out and "javascript" not in out
    assert '<mark id="qa-focus">&#60;script&#62;x&#40;&#41;&#60;/script&#62;</mark>' in out
    linked = views.article_html(Article("y", "T", "B", url="https://example.org/a?b=1&c=2"))
    assert 'href="https&#58;//example.org/a?b&#61;1&#38;c&#61;2"' in linked


def test_header_line(engine):
    out = views.header_html(engine.facets())
    assert "6 articles" in out and "passages" in out and "test/hash-embedder" in out
    assert "2024-" in out
