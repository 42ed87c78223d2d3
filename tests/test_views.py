"""The chat's HTML: everything from an article is shown as text; citations link back to passages."""

import html
import re

import pytest

from qa.search.answer import answer_json
from qa.text.articles import Article
from qa.views import pieces as views
from qa.views import reply as views_reply

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


def passage(rank, article_id="a", text="Body.", start=0, **more):
    base = {
        "rank": rank, "article_id": article_id, "title": f"Title {article_id}", "date": "2024-10-29",
        "section": None, "source": "Wire", "text": text, "score": 0.5, "start": start,
        "end": start + len(text), "also_in": [],
    }  # fmt: skip
    return {**base, **more}


BODY = "Intro. The minister Choe Son Hui left for Moscow. Later text."
SENTENCE = {"text": "The minister Choe Son Hui left for Moscow.", "citation": 1, "article_id": "a", "start": 7, "end": 49}


def answered(span=None, low=False, notes=(), passages=None, sentences=(SENTENCE,)):
    answer = {
        "text": "...", "citations": sorted({s["citation"] for s in sentences}), "sentences": list(sentences),
        "span": span, "low_confidence": low,
    }  # fmt: skip
    passages = passages or [passage(1, text=BODY)]
    return {"question": "Who left?", "query": "Who left?", "answer": answer, "notes": list(notes), "passages": passages}


def test_answer_comes_first_with_pills_then_one_card_per_article(engine):
    answer = engine.ask("How many residents signed the library petition?")
    data = answer_json(answer)
    out = views_reply.answer_html(4, data, {h.article.id: h.article.text for h in answer.hits}, "your 6 articles")
    cited = sorted({c.number for c in answer.citations})
    for n in cited:
        assert f'href="#qa-ref-4-{n}"' in out and f">{n}</a>" in out
    assert out.count('class="qa-card"') == len({data["passages"][n - 1]["article_id"] for n in cited})
    assert out.index('class="qa-answer"') < out.index('class="qa-card"')
    assert "2,400 residents" in html.unescape(out) and "City Library Extends Opening Hours" in out
    assert "<mark>" in out and "\n" not in out and "relevance" not in out


def test_two_passages_of_one_article_share_one_card():
    second = {**SENTENCE, "text": "Later text.", "citation": 2, "start": 50, "end": 61}
    data = answered(
        passages=[passage(1, text=BODY[:49]), passage(2, text=BODY[50:], start=50), passage(3, "b")],
        sentences=(SENTENCE, second),
    )
    out = views_reply.answer_html(0, data, {"a": BODY, "b": "Body."}, "your 2 articles")
    assert out.count('class="qa-card"') == 1 and out.count("Title a</a></h4>") == 1
    assert out.count('class="qa-excerpt"') == 2 and 'href="#qa-ref-0-2"' in out
    assert "1 more passage</summary>" in out and 'href="#qa-ref-0-3"' in out  # the uncited one, folded


def test_a_card_counts_other_articles_and_copied_files_with_the_same_text():
    plain = views_reply.answer_html(0, answered(), {"a": BODY}, "your 1 article")
    assert "same text in" not in plain
    data = answered(passages=[passage(1, text=BODY, also_in=["b"], copies=2)])
    assert "same text in 3 more" in views_reply.answer_html(0, data, {"a": BODY}, "your 2 articles")


def test_answer_phrase_is_bold_only_when_the_span_is_inside_the_sentence():
    span = {"text": "Choe Son Hui", "article_id": "a", "start": 20, "end": 32, "kind": "person"}
    assert BODY[20:32] == "Choe Son Hui"
    out = views_reply.answer_html(0, answered(span=span), {"a": BODY}, "x")
    assert 'The minister <strong class="qa-span">Choe Son Hui</strong> left for Moscow.' in out
    for wrong in ({**span, "article_id": "b"}, {**span, "start": 0, "end": 12}, {**span, "end": 99}):
        assert "qa-span" not in views_reply.answer_html(0, answered(span=wrong), {"a": BODY}, "x")
    assert "qa-span" not in views_reply.answer_html(0, answered(), {"a": BODY}, "x")


def test_low_confidence_is_marked_and_notes_are_shown():
    note = "Read 'this week' as 2024-10-21 to 2024-10-27; closest evidence is dated 2024-10-29."
    out = views_reply.answer_html(0, answered(low=True, notes=[note]), {"a": BODY}, "x")
    assert '<span class="qa-badge">Low confidence</span>' in out and "check it in the source" in out
    assert html.unescape(out).count(note) == 1
    assert "Low confidence" not in views_reply.answer_html(0, answered(), {"a": BODY}, "x")


def test_follow_up_shows_the_query_and_a_refusal_is_one_line_with_matches_folded():
    hit = passage(1, title="<b>T</b>", text="Body. " * 50)
    data = {
        "question": "and it?", "query": "and it? topic", "answer": None, "passages": [hit],
        "reason": "The articles don't say. No sentence matches the question well enough; the closest passages are below.",
    }  # fmt: skip
    out = views_reply.answer_html(0, data, {"a": hit["text"]}, "your 100 articles")
    assert "Searched: and it? topic" in html.unescape(out)
    assert html.unescape(out.split("</p>")[0]).endswith(
        "Not found in your 100 articles. <span class=qa-why>No sentence matches the question well enough.</span>"
    )
    assert "Closest matches (1)</summary>" in out and "<details" in out and "Closest matches:" not in out
    assert "&#60;b&#62;T&#60;/b&#62;" in out and 'href="#qa-ref-0-1"' in out
    assert "…" in out and 'class="qa-card"' not in out  # title and one line, no card


def test_a_refusal_without_passages_says_why():
    data = {"question": "q", "query": "q", "answer": None, "passages": [], "reason": "No article matches the filters."}
    out = views_reply.answer_html(0, data, {}, "the 0 articles the filters allow")
    assert ">No article matches the filters.</p>" in out and "<details" not in out


@pytest.mark.parametrize(
    "vote, shows",
    [
        (None, ['data-qa="fb:3:up"', 'data-qa="fb:3:down"']),
        ({"feedback": "up"}, ["Thanks, recorded."]),
        ({"feedback": "down"}, ["Thanks, recorded.", '<label for="qa-why-3">', 'data-qa="why:3"']),
        ({"feedback": "down", "reason": "<b>old</b>"}, ["Thanks, recorded, with what was wrong: “&#60;b&#62;old"]),
    ],
)
def test_feedback_bar(vote, shows):
    out = views_reply.feedback_html(3, vote)
    assert all(s in out for s in shows), out


def test_parse_action():
    assert views.parse_action("#qa-ref-3-2") == ("ref", "3-2")
    assert views.parse_action("why:2:it was: wrong") == ("why", "2:it was: wrong")
    assert views.parse_action("art:nested/library") == ("art", "nested/library")
    assert views.parse_action(None) == ("", "")


def test_article_view_escapes_and_links_only_http():
    article = Article("x", "<i>Title</i>", "Before. <script>x()</script> After.", url="javascript:alert(1)")
    start = article.text.index("<script>")
    out = views.article_html(article, (start, len(article.text)), [(start, start + 20)], number=2)
    assert "<script>" not in out and "<i>" not in out and "javascript" not in out
    assert '<mark id="qa-focus">&#60;script&#62;x&#40;&#41;&#60;/script&#62;</mark>' in out
    assert 'data-qa="close"' in out and 'class="qa-pill">2</span>' in out
    linked = views.article_html(Article("y", "T", "B", url="https://example.org/a?b=1&c=2"))
    assert 'href="https&#58;//example.org/a?b&#61;1&#38;c&#61;2"' in linked and "qa-pill" not in linked
