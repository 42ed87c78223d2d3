"""Mixed-topic conversations on the real packaged model: every turn from the right article.

tests/data/news holds five small articles on unrelated topics (a tram network, a bakery
chain, a football final, a virus, a wildfire); with the shipped seed article they make an
index where carrying the wrong context shows. Each conversation switches topic, asks short
or referring follow-ups, names new subjects, or has a refused question in between.
"""

import json
import re

import click
import pytest

from qa.cli.answer_text import format_answer
from qa.encode.torch_embed import SentenceTransformerEmbedder
from qa.eval.metrics import normalize_answer
from qa.index.build import index_paths
from qa.search.answer import answer_json
from qa.search.conversation import content_terms
from qa.search.engine import Engine
from qa.search.options import SearchOptions
from qa.views import reply as views_reply

from .conftest import DATA, ROOT

pytestmark = pytest.mark.model
CONVERSATIONS = [json.loads(line) for line in (DATA / "conversations.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def news_engine(tmp_path_factory):
    ix = tmp_path_factory.mktemp("news") / "index"
    embedder = SentenceTransformerEmbedder()
    index_paths([ROOT / "seeds", DATA / "news"], ix, embedder=embedder)
    return Engine.from_index(ix, embedder=embedder)


def test_the_set_mixes_topics_refusals_and_new_subjects():
    assert len(CONVERSATIONS) >= 12
    switches = [c for c in CONVERSATIONS if len({t.get("article") for t in c["turns"] if "article" in t}) > 1]
    assert len(switches) >= 10
    assert sum(any(t.get("refused") for t in c["turns"]) for c in CONVERSATIONS) >= 2


@pytest.fixture(scope="module")
def asked(news_engine):
    """Each conversation's answers (asked once for both tests below), by conversation id."""
    return {}


def ask_all(engine, conv, asked):
    """Each turn's answer, asked with the history of the turns before it."""
    if conv["id"] not in asked:
        history, answers = [], []
        for turn in conv["turns"]:
            answer = engine.ask(turn["q"], SearchOptions(k=3), history=history)
            answers.append(answer)
            history.append(answer.turn())
        asked[conv["id"]] = answers
    return asked[conv["id"]]


@pytest.mark.parametrize("conv", CONVERSATIONS, ids=lambda c: c["id"])
def test_follow_ups_search_the_right_article_and_say_what_they_searched(news_engine, asked, conv):
    answers = ask_all(news_engine, conv, asked)
    for i, (turn, answer) in enumerate(zip(conv["turns"], answers, strict=True)):
        if turn.get("refused"):  # the articles don't say: refused, or answered with a warning and no span
            assert answer.abstained or (answer.low_confidence and answer.span is None), (turn["q"], answer.text)
        else:
            assert answer.hits[0].article.id == turn["article"], (turn["q"], answer.query)
        assert_honest(answer.question, answer.query, [a.turn() for a in answers[:i]])


@pytest.mark.parametrize("conv", CONVERSATIONS, ids=lambda c: c["id"])
def test_every_turn_is_answered_from_the_right_article(news_engine, asked, conv):
    for turn, answer in zip(conv["turns"], ask_all(news_engine, conv, asked), strict=True):
        if turn.get("refused"):
            continue
        assert not answer.abstained, (turn["q"], answer.query)
        assert answer.citations[0].article_id == turn["article"], (turn["q"], answer.query, answer.text)
        golds = [normalize_answer(g) for g in turn["answers"]]
        assert any(g in normalize_answer(answer.text) for g in golds), (turn["q"], answer.query, answer.text)


def assert_honest(question: str, query: str, history: list) -> None:
    """The searched query is the question (less its time words, which steer by date), plus
    only terms of the previous turn, and only when that turn was answered."""
    own = {w.lower() for w in re.findall(r"[\w'-]+", question)}
    added = [w for w in re.findall(r"[\w'-]+", query) if w.lower() not in own]
    if not added:
        return
    assert history and history[-1].answered, (question, query)
    earlier = {t.lower() for t in content_terms(history[-1].query)}
    assert {w.lower() for w in added} <= earlier, (question, query)


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("How much did the Lisbon tram Wi-Fi cost?", "1.2 million euros"),
        ("Who is the mayor of Lisbon?", "Carlos Moedas"),
    ],
)
def test_the_answer_phrase_is_marked_in_json_terminal_and_chat(news_engine, question, phrase):
    answer = news_engine.ask(question, SearchOptions(k=3))
    span = answer_json(answer)["answer"]["span"]
    assert span["text"] == phrase
    body = news_engine.article(span["article_id"]).text
    assert body[span["start"] : span["end"]] == phrase  # exact offsets into the stored article
    assert click.style(phrase, bold=True) in format_answer(answer).splitlines()[0]
    shown = views_reply.answer_html(0, answer_json(answer), {span["article_id"]: body}, "6 articles")
    assert f'<strong class="qa-span">{phrase}</strong>' in shown
