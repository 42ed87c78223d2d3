"""Sentence and paragraph spans of an article's text, with character offsets.

Owns where sentences end: paragraphs split on blank lines, pysbd inside them (in pieces of at
most MAX_SEGMENT_CHARS), each span trimmed of whitespace. passages.py packs these spans into
passages; every span indexes Article.text, so a citation maps back to the exact characters.
"""

from __future__ import annotations

import re
from functools import lru_cache

Span = tuple[int, int]


MAX_SEGMENT_CHARS = 10_000  # longest text given to pysbd at once (see sentence_ends)


_PLAIN_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s)")  # where pysbd cannot read a text: ". " and the like
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")


@lru_cache(maxsize=1)
def _segmenter():  # type: ignore[no-untyped-def]
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def paragraph_spans(text: str) -> list[Span]:
    """Spans of blank-line separated blocks, whitespace trimmed."""
    spans, start = [], 0
    for brk in _PARAGRAPH_BREAK.finditer(text):
        spans.append((start, brk.start()))
        start = brk.end()
    spans.append((start, len(text)))
    return [s for s in (_trim(text, a, b) for a, b in spans) if s[1] > s[0]]


def sentence_spans(text: str) -> list[Span]:
    """Sentence spans covering every non-space character of `text` exactly once.

    pysbd knows news abbreviations ("U.S.", "Gen.", "p.m.") and quotations; we only
    take its sentence *ends*, so text it would normalise is never lost or moved.
    """
    spans: list[Span] = []
    for para_start, para_end in paragraph_spans(text):
        para = text[para_start:para_end]
        ends = sentence_ends(para)
        begin = 0
        for end in ends:
            span = _trim(para, begin, end)
            if span[1] > span[0]:
                spans.append((para_start + span[0], para_start + span[1]))
            begin = max(begin, end)
    return spans


def sentence_ends(para: str, limit: int = MAX_SEGMENT_CHARS) -> list[int]:
    """Where pysbd ends the sentences of a paragraph (the last end is len(para)).

    pysbd takes time quadratic in its input (a 200 KB paragraph took 50 s), so it reads
    at most `limit` characters at once; the last, maybe cut, sentence of each window
    is read again at the start of the next one.
    """
    ends: list[int] = []
    start = 0
    while len(para) - start > limit:
        window = [start + end for end in _piece_ends(para[start : start + limit])]
        confirmed = [end for end in window[:-1] if end > start]
        if not confirmed:  # no sentence end in the whole window: cut at a space (or anywhere)
            space = para.rfind(" ", start + 1, start + limit)
            confirmed = [space + 1 if space > start else start + limit]
        ends.extend(confirmed)
        start = confirmed[-1]
    ends.extend(start + end for end in _piece_ends(para[start:]))
    ends.append(len(para))
    return ends


def _piece_ends(text: str) -> list[int]:
    """Ends of pysbd's sentences in `text`, found in the original characters."""
    try:
        pieces = _pysbd_sentences(text)
    except (ValueError, IndexError):  # pysbd's own bug: int("\x1f0") on "\x1f0. " (a control character)
        return [m.end() for m in _PLAIN_END.finditer(text)]
    cursor, ends = 0, []
    for piece in pieces:
        found = text.find(piece.strip(), cursor) if piece.strip() else -1
        if found >= 0:
            cursor = found + len(piece.strip())
            ends.append(cursor)
    return ends


def _pysbd_sentences(text: str) -> list[str]:
    """pysbd's sentences, without its own search for where they are in `text`.

    Segmenter.segment() locates every sentence with a regex compiled from the sentence
    itself, over the whole text: half of all splitting time, and quadratic in the text.
    We locate the pieces ourselves (above), so only its processor is needed.
    """
    segmenter = _segmenter()
    processor = getattr(segmenter, "processor", None)
    if processor is None:  # a pysbd without the split: fall back to the public call
        return list(segmenter.segment(text))
    return list(processor(text).process()) if text else []


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
