"""Links that open an article's original page at the quoted sentence (URL text fragments).

A citation is a verbatim sentence, so its words can be found on the publisher's page too:
`https://example.com/story#:~:text=first%20words,last%20words` makes the browser scroll to
the sentence and highlight it (text fragments: Chrome, Edge, Safari 16.1+, Firefox 131+;
other browsers open the page at its top). Only http(s) addresses get a link.

Why a start and an end rather than the whole sentence: the stored text is what qa read
(trafilatura's extraction, a feed's copy), and the page may differ inside a long sentence
(a link's text, a hyphen, a changed word in an updated story). The first and last words
match more often, and the browser highlights everything between them.
"""

from __future__ import annotations

import re
from urllib.parse import quote

WHOLE_WORDS = 10  # a sentence of at most this many words goes whole
EDGE_WORDS = 4  # else its first and last this many words
MAX_LINK = 4000  # characters; a longer address is not offered (browsers and terminals choke)

_WEB = re.compile(r"https?://[^\s/?#]+[^\s]*", re.I)
_CUTTERS = str.maketrans({'"': "%22", "<": "%3C", ">": "%3E", "`": "%60"})
_MD_IMAGE = re.compile(r"!\[[^\]\n]*\]\((?:[^()\s]|\([^()\s]*\))*\)")  # a page shows no alt text
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*\)")  # [text](address) -> text
# **bold**, __bold__, *em*, _em_, `code`: marks at a word's edge only ("2**10", "snake_case" stay)
_MARKS = re.compile(
    r"(?<!\w)(?:\*\*|__)(?=\S)|(?<=\S)(?:\*\*|__)(?!\w)|`"
    r"|(?<![\w*_])[*_](?=\w)|(?<=\w)[*_](?![\w*_])"
)


def text_fragment(url: str | None, sentence: str) -> str | None:
    """`url` opening at `sentence`, or None for a missing or non-web address.

    Example: text_fragment("https://ex.com/a#top", "Choe left for Russia.")
        -> "https://ex.com/a#:~:text=Choe%20left%20for%20Russia."
    """
    if url is None or not web_address(url):
        return None
    words = as_rendered(sentence).split()
    if not words:
        return None
    if len(words) <= WHOLE_WORDS:
        directive = _term(" ".join(words))
    else:
        directive = f"{_term(' '.join(words[:EDGE_WORDS]))},{_term(' '.join(words[-EDGE_WORDS:]))}"
    # '"', '<', '>' and '`' end a clickable link in most terminals: encoded, they do not.
    base = url.split("#", 1)[0].translate(_CUTTERS)
    link = f"{base}#:~:text={directive}"
    return link if len(link) <= MAX_LINK else None


def web_address(url: str | None) -> bool:
    """True for an http(s) address with a host and no space or control character: the only
    addresses qa links to (a stored url is the article's, so hostile until checked)."""
    if not url or _WEB.fullmatch(url) is None:
        return False
    return not any(ord(ch) < 32 or ord(ch) == 127 for ch in url)


def as_rendered(sentence: str) -> str:
    """The sentence as a page shows it: a Markdown article keeps its marks in the stored
    text (`**mayor**`, `[free buses](https://...)`), which the publisher's page never shows.

    Example: as_rendered("The **mayor** promised [free buses](https://x.org).")
        -> "The mayor promised free buses."
    """
    return _MARKS.sub("", _MD_LINK.sub(r"\1", _MD_IMAGE.sub("", sentence)))


def _term(words: str) -> str:
    """One term of a text directive: percent-encoded, with the directive's own marks
    ('-' for a prefix or suffix, ',' between start and end, '&' between directives) too."""
    return quote(words, safe="").replace("-", "%2D")
