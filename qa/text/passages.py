"""Split an article into passages of whole sentences, keeping character offsets.

Every sentence and passage is a (start, end) span into Article.text, so a citation
can always be turned back into the exact original characters. Passages are packed
so that heading + passage fit the model window; neighbours share one sentence.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
from collections import deque
from collections.abc import Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from qa.config import IndexSettings
from qa.lifeline import die_with_parent

from .articles import Article
from .sentences import Span, sentence_spans
from .tokens import TokenCounter, model_token_counter

log = logging.getLogger(__name__)


PARALLEL_CHARS = 1_000_000  # new text above which splitting goes to workers: starting them costs ~1 s


MAX_HEADING_TOKENS = 48  # a title longer than this is cut for embedding, not the passage


_WORD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Passage:
    """A run of whole sentences of one article; text == article.text[start:end]."""

    id: str  # f"{article_id}#{ordinal}"
    article_id: str
    ordinal: int
    start: int
    end: int
    text: str
    sentences: tuple[Span, ...]  # absolute spans into the article text
    heading: str = ""  # the title (possibly cut) embedded in front of the text

    def embedding_input(self) -> str:
        return f"{self.heading}\n{self.text}" if self.heading else self.text


def cut_long(text: str, span: Span, tokens: int, budget: int, count: TokenCounter) -> list[Span]:
    """Cut one over-long sentence into word-aligned pieces of at most `budget` tokens."""
    if tokens <= budget:
        return [span]
    words = [(span[0] + m.start(), span[0] + m.end()) for m in _WORD.finditer(text[span[0] : span[1]])]
    sizes = count([text[a:b] for a, b in words])
    pieces: list[Span] = []
    start, total, prev_end = words[0][0], 0, words[0][0]
    for (a, b), size in zip(words, sizes, strict=True):
        if size > budget:  # one "word" longer than the window (a URL, a base64 blob)
            if total:
                pieces.append((start, prev_end))
            pieces.extend((i, min(i + budget, b)) for i in range(a, b, budget))
            start, total = b, 0
        elif total + size > budget:
            pieces.append((start, prev_end))
            start, total = a, size
        else:
            total += size
        prev_end = b
    if total:
        pieces.append((start, prev_end))
    return [p for p in pieces if p[1] > p[0]]


def pack(sizes: list[int], budget: int, overlap: int) -> list[tuple[int, int]]:
    """Group consecutive sentences into runs [i, j] within budget, sharing `overlap` at joins.

    Example: pack([50, 50, 50, 50], 120, 1) -> [(0, 1), (1, 2), (2, 3)]
    """
    runs: list[tuple[int, int]] = []
    i, n = 0, len(sizes)
    while i < n:
        j, total = i, sizes[i]
        while j + 1 < n and total + sizes[j + 1] <= budget:
            j, total = j + 1, total + sizes[j + 1]
        runs.append((i, j))
        if j == n - 1:
            break
        back = min(overlap, j - i)
        # Only carry the overlap if it still leaves room for a new sentence.
        while back and sum(sizes[j - back + 1 : j + 2]) > budget:
            back -= 1
        i = j + 1 - back
    return runs


def split_article(article: Article, settings: IndexSettings, count: TokenCounter) -> list[Passage]:
    """Split one article into passages sized for the embedding model."""
    heading = cut_heading(article.title, count)
    room = settings.max_tokens - 3 - (count([heading])[0] if heading else 0)  # [CLS] \n [SEP]
    budget = max(16, min(settings.passage_tokens, room))
    text = article.text
    spans = sentence_spans(text)
    sizes = count([text[a:b] for a, b in spans])
    pieces: list[Span] = []
    for span, size in zip(spans, sizes, strict=True):
        pieces.extend(cut_long(text, span, size, budget, count))
    piece_sizes = count([text[a:b] for a, b in pieces]) if len(pieces) != len(spans) else sizes
    passages = []
    for ordinal, (i, j) in enumerate(pack(piece_sizes, budget, settings.overlap_sentences)):
        start, end = pieces[i][0], pieces[j][1]
        passages.append(
            Passage(
                f"{article.id}#{ordinal}",
                article.id,
                ordinal,
                start,
                end,
                text[start:end],
                tuple(pieces[i : j + 1]),
                heading,
            )
        )
    return passages


def cut_heading(title: str, count: TokenCounter) -> str:
    """The title, cut at a word boundary to at most MAX_HEADING_TOKENS word pieces."""
    words = title.split()
    while words and count([" ".join(words)])[0] > MAX_HEADING_TOKENS:
        words = words[: max(1, len(words) * 3 // 4)] if len(words) > 1 else []
    return " ".join(words)


def split_articles(
    articles: Sequence[Article],
    settings: IndexSettings,
    count: TokenCounter | None = None,
    workers: int = 1,
    parallel_chars: int = PARALLEL_CHARS,
) -> list[list[Passage]]:
    """split_article for many articles, in input order.

    Splitting (pysbd, pure Python) runs before the model and leaves the other cores idle,
    so with workers > 1 and much text it goes to worker processes: on 2 cores that halves
    the largest cost of a build outside the model. Opt-in, because "spawn" re-runs the
    calling script in each worker (the `qa` command is safe; a bare script may not be).
    A caller's own counter keeps it in-process.
    """
    chunk = max(1, len(articles) // (workers * 4))  # small enough that every worker gets some
    split = split_stream(articles, settings, count, workers, parallel_chars, chunk)
    return [passages for _, passages in split]


def _worker_pool(workers: int) -> ProcessPoolExecutor:
    import multiprocessing

    # spawn, not fork: the parent may already run torch's thread pool, which fork breaks.
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        workers, mp_context=context, initializer=die_with_parent, initargs=(os.getpid(),)
    )


def _split_chunk(articles: list[Article], settings: IndexSettings) -> list[list[Passage]]:
    counter = model_token_counter()
    return [split_article(a, settings, counter) for a in articles]


def split_stream(
    articles: Iterable[Article],
    settings: IndexSettings,
    count: TokenCounter | None = None,
    workers: int = 1,
    parallel_chars: int = PARALLEL_CHARS,
    chunk: int = 32,
) -> Iterator[tuple[Article, list[Passage]]]:
    """split_article over a stream, in input order, holding a few chunks of articles at a time.

    As split_articles: with workers > 1 and more than `parallel_chars` of text (read ahead
    to decide), chunks of `chunk` articles are split in worker processes, 2 per worker ahead.
    """
    stream = iter(articles)
    ahead: list[Article] = []
    chars = 0
    for article in stream:
        ahead.append(article)
        chars += len(article.text)
        if chars >= parallel_chars:
            break
    rest: Iterator[Article] = itertools.chain(ahead, stream)
    if count is None and workers > 1 and chars >= parallel_chars:
        rest = yield from _split_stream_in_workers(rest, settings, workers, chunk)
    counter = count or model_token_counter()
    yield from ((a, split_article(a, settings, counter)) for a in rest)


def _split_stream_in_workers(
    articles: Iterator[Article], settings: IndexSettings, workers: int, chunk: int
) -> Generator[tuple[Article, list[Passage]], None, Iterator[Article]]:
    """Yields what the workers split; returns what is left to split here if a worker died."""
    pending: deque[tuple[list[Article], Future[list[list[Passage]]]]] = deque()
    try:
        with _worker_pool(workers) as pool:
            while True:
                batch = list(itertools.islice(articles, chunk))
                if batch:
                    pending.append((batch, pool.submit(_split_chunk, batch, settings)))
                if pending and (not batch or len(pending) > 2 * workers):
                    split = pending[0][1].result()
                    yield from zip(pending.popleft()[0], split, strict=True)
                elif not batch:
                    return iter(())
    except BrokenProcessPool as ex:  # a worker died (memory, a script without a main guard)
        log.warning("splitting in worker processes failed (%s); splitting here instead", ex)
        return itertools.chain.from_iterable([*(batch for batch, _ in pending), articles])
