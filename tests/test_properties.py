"""Property-based tests: any text either reads as articles or gives Problems, and the
splitter's spans always map back to exactly the original characters."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from qa.config import IndexSettings
from qa.text.articles import Article, Problem
from qa.text.ingest import read_file
from qa.text.passages import split_article
from qa.text.readers import READERS
from qa.text.sentences import sentence_ends, sentence_spans
from qa.text.tokens import model_token_counter, whitespace_token_counter

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SETTINGS = IndexSettings(model="test/hash-embedder", dim=64)

# Text with the characters that trouble readers and splitters: line breaks of every
# kind, abbreviations, quotes, non-Latin scripts, emoji, control characters.
PIECES = st.sampled_from(
    [
        " ",
        "\n",
        "\n\n",
        "\r\n",
        "\t",
        "\u2028",
        "\x0b",
        "\x0c",
        "\x85",
        "\u00a0",
        "\u3000",
        ". ",
        "? ",
        "!",
        '"',
        "U.S.",
        "Gen.",
        "p.m.",
        "---",
        "# ",
        "date 2024-10-29 ",
        "{",
        "}",
        ":",
        "...",
        "Mr. ",
        "\u0644\u063a\u0629",
        "\u65e5\u672c\u8a9e\u3002",
        "\U0001f600",
        "e\u0301",
        "\ufeff",
        "\x00",
        "\x1b",
    ]
)
TEXTS = st.lists(
    st.one_of(st.text(max_size=30), PIECES, st.from_regex(r"[A-Z][a-z]{1,8}", fullmatch=True)), max_size=40
).map("".join)


def non_space(text: str, start: int = 0, end: int | None = None) -> list[int]:
    return [i for i in range(start, len(text) if end is None else end) if not text[i].isspace()]


def check_spans(text: str, spans: list[tuple[int, int]]) -> None:
    """In order, not overlapping, trimmed, and together every non-space character once."""
    covered: list[int] = []
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        assert not text[start].isspace() and not text[end - 1].isspace()
        covered.extend(non_space(text, start, end))
        previous_end = end
    assert covered == non_space(text)


@FAST
@given(TEXTS)
@example('U.S. troops arrived at 5 p.m. Gen. Smith said: "We\'re ready." Then\n\nnothing.')
@example("\u2028\u2028a\x85b")
def test_sentence_spans_cover_every_character_once(text):
    check_spans(text, sentence_spans(text))


def check_passages(article: Article, count) -> None:  # type: ignore[no-untyped-def]
    passages = split_article(article, SETTINGS, count)
    pieces: list[tuple[int, int]] = []
    for ordinal, p in enumerate(passages):
        assert p.ordinal == ordinal and p.id == f"{article.id}#{ordinal}"
        assert article.text[p.start : p.end] == p.text and p.sentences
        assert p.sentences[0][0] == p.start and p.sentences[-1][1] == p.end
        for span in p.sentences:
            if not pieces or span[0] >= pieces[-1][1]:
                pieces.append(span)
            else:
                assert span in pieces  # only the shared overlap sentence repeats
    for before, after in zip(passages, passages[1:]):
        assert before.start <= after.start and before.end < after.end
    check_spans(article.text, pieces)


@FAST
@given(TEXTS, st.text(max_size=40))
def test_passages_map_back_exactly(text, title):
    check_passages(Article(id="a", title=title, text=text), whitespace_token_counter)


@settings(max_examples=15, deadline=None)
@given(TEXTS, st.text(max_size=40))
@example("word " * 400 + "x" * 3000 + ". " + "\U0001f600" * 600, "A title")
@example("\u65e5\u672c\u8a9e\u3002" * 300, "\u65e5\u672c" * 100)
def test_passages_map_back_exactly_with_the_model_tokenizer(text, title):
    count = model_token_counter()
    article = Article(id="a", title=title, text=text)
    check_passages(article, count)
    passages = split_article(article, SETTINGS, count)
    sizes = count([p.embedding_input() for p in passages])
    assert all(size + 2 <= SETTINGS.max_tokens for size in sizes)  # [CLS] and [SEP]: nothing truncated


def check_read(path: Path, root: Path) -> None:
    items = list(read_file(path, root))
    for item in items:
        assert isinstance(item, Article | Problem)
        if isinstance(item, Article):
            assert item.text.strip() and item.id
            assert str(path) in (item.path or "")
        else:
            assert item.message and item.path == str(path)


@FAST
@given(text=TEXTS, suffix=st.sampled_from([".txt", ".md", ".jsonl", ".json"]))
def test_any_text_file_reads_as_articles_or_problems(tmp_path, text, suffix):
    path = tmp_path / f"story{suffix}"
    path.write_text(text, encoding="utf-8")
    check_read(path, tmp_path)
    if suffix in (".txt", ".md"):  # their body is a piece of the file, never rewritten
        decoded = text.removeprefix("\ufeff")
        for item in READERS[suffix](decoded, "f", "f"):
            assert isinstance(item, Problem) or item.text in decoded


@FAST
@given(st.binary(max_size=300))
def test_any_bytes_read_as_articles_or_problems(tmp_path, data):
    for suffix in (".txt", ".md", ".jsonl"):
        path = tmp_path / f"blob{suffix}"
        path.write_bytes(data)
        check_read(path, tmp_path)


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    TEXTS,
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)
RECORDS = st.one_of(
    st.dictionaries(
        st.sampled_from(["id", "_id", "title", "text", "date", "section", "source", "url", "metadata"]),
        VALUES,
    ),
    VALUES,
)


@FAST
@given(st.lists(RECORDS, max_size=6))
def test_any_json_records_read_as_articles_or_problems(tmp_path, records):
    (tmp_path / "lines.jsonl").write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    (tmp_path / "list.json").write_text(json.dumps(records), encoding="utf-8")
    check_read(tmp_path / "lines.jsonl", tmp_path)
    check_read(tmp_path / "list.json", tmp_path)


@FAST
@given(TEXTS, st.integers(min_value=1, max_value=60))
@example("\x1f0. ", 4)  # pysbd raised ValueError on it (found by this test in CI)
@example("Intro.\x1c12. Next one. \x1d3. Last.", 60)
def test_sentence_ends_in_windows_stay_in_order(text, limit):
    ends = sentence_ends(text, limit)
    assert ends == sorted(ends) and ends[-1] == len(text) and all(0 <= end <= len(text) for end in ends)


def test_a_long_paragraph_splits_as_if_read_whole():
    """pysbd reads long paragraphs in windows; the windows change no sentence."""
    sentences = [
        f"Gen. Smith of the U.S. Army said at {i} p.m. that the harbour had {i * 7} cranes."
        for i in range(40)
    ]
    para = " ".join(sentences)
    assert sentence_ends(para, limit=300) == sentence_ends(para, limit=10**9)
    ends = sentence_ends(para, limit=300)
    assert [para[a:b].strip() for a, b in zip([0, *ends], ends) if para[a:b].strip()] == sentences


def test_a_paragraph_without_sentence_ends_is_cut_at_spaces():
    para = "word " * 100 + "x" * 250
    ends = sentence_ends(para, limit=120)
    assert ends[-1] == len(para) and all(para[end - 1] == " " for end in ends[:3])
    assert sentence_ends("x" * 250, limit=100)[:2] == [100, 200]
