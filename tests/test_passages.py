import re

import pytest

from qa.config import IndexSettings
from qa.text.articles import Article
from qa.text.ingest import load_articles
from qa.text.passages import pack, split_article, split_articles
from qa.text.sentences import sentence_spans
from qa.text.tokens import model_token_counter, whitespace_token_counter

from .conftest import ARTICLES, ROOT

COUNT = model_token_counter()
FIXTURES = list(load_articles([ARTICLES, ROOT / "seeds"]).articles)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("article", FIXTURES, ids=lambda a: a.id)
def test_offsets_map_back_to_the_original_text(article):
    for p in split_article(article, IndexSettings(), COUNT):
        assert article.text[p.start : p.end] == p.text
        for start, end in p.sentences:
            sentence = article.text[start:end]
            assert sentence and sentence == sentence.strip()
            assert p.start <= start < end <= p.end


@pytest.mark.parametrize("article", FIXTURES, ids=lambda a: a.id)
def test_sentences_cover_the_text_once(article):
    spans = sentence_spans(article.text)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))  # ordered, no overlap
    assert "".join(squeeze(article.text[a:b]) for a, b in spans) == squeeze(article.text)


@pytest.mark.parametrize("article", FIXTURES, ids=lambda a: a.id)
def test_passages_cover_every_sentence(article):
    # A small budget forces long sentences to be cut: the pieces must still tile the text.
    passages = split_article(article, IndexSettings(passage_tokens=40), COUNT)
    pieces = sorted({s for p in passages for s in p.sentences})
    assert all(a[1] <= b[0] for a, b in zip(pieces, pieces[1:]))
    assert "".join(squeeze(article.text[a:b]) for a, b in pieces) == squeeze(article.text)


def test_news_abbreviations_do_not_end_sentences():
    text = 'Officials said the U.S. firm supplied cranes. Gen. Manager Tamm said: "Traffic will double." It opens at 9 a.m. on Jan. 5 at 3.5 percent.'
    sentences = [text[a:b] for a, b in sentence_spans(text)]
    assert sentences == [
        "Officials said the U.S. firm supplied cranes.",
        'Gen. Manager Tamm said: "Traffic will double."',
        "It opens at 9 a.m. on Jan. 5 at 3.5 percent.",
    ]


def test_title_and_passage_fit_the_model_window():
    long_text = " ".join(
        f"Sentence number {i} talks about the harbour and its {i} cranes." for i in range(300)
    )
    article = Article("long", "A headline " * 40, long_text)
    settings = IndexSettings()
    passages = split_article(article, settings, COUNT)
    assert len(passages) > 10
    for p in passages:
        assert COUNT([p.embedding_input()])[0] + 2 <= settings.max_tokens


def test_one_sentence_longer_than_the_window_is_cut_at_words():
    words = " ".join(f"word{i}" for i in range(2000))
    article = Article("run-on", "Run-on", words + ".")
    passages = split_article(article, IndexSettings(), COUNT)
    assert len(passages) > 5
    assert squeeze("".join(article.text[a:b] for p in passages for a, b in p.sentences)) == squeeze(
        article.text
    )
    assert all(COUNT([p.embedding_input()])[0] + 2 <= 256 for p in passages)


def test_neighbours_share_one_sentence():
    text = " ".join(f"This is sentence {i} of the story." for i in range(12))
    passages = split_article(
        Article("a", "T", text), IndexSettings(passage_tokens=40), whitespace_token_counter
    )
    for left, right in zip(passages, passages[1:]):
        assert left.sentences[-1] == right.sentences[0]


@pytest.mark.parametrize(
    "sizes,budget,runs",
    [
        ([50, 50, 50, 50], 120, [(0, 1), (1, 2), (2, 3)]),
        ([100, 100, 100], 150, [(0, 0), (1, 1), (2, 2)]),  # no room to overlap
        ([10], 100, [(0, 0)]),
        ([], 100, []),
    ],
)
def test_pack(sizes, budget, runs):
    assert pack(sizes, budget, 1) == runs


def test_empty_and_whitespace_text_gives_no_passages():
    assert split_article(Article("e", "T", "   \n\n  "), IndexSettings(), COUNT) == []


def test_splitting_in_worker_processes_gives_the_same_passages_in_order():
    many = FIXTURES * 3  # more articles than workers, so chunks and their order matter
    serial = [split_article(a, IndexSettings(), COUNT) for a in many]
    assert split_articles(many, IndexSettings(), workers=2, parallel_chars=0) == serial
    assert split_articles(many, IndexSettings()) == serial  # one worker: in-process
    # a caller's own counter cannot cross to another process: it stays in-process
    words = split_articles(FIXTURES, IndexSettings(), whitespace_token_counter, workers=2, parallel_chars=0)
    assert words == [split_article(a, IndexSettings(), whitespace_token_counter) for a in FIXTURES]
