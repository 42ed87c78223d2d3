"""Find the phrases of one answer kind in a sentence: numbers, dates, names, causes.

Small regular recognisers, no model: an amount ("1.2 million euros", "60 percent",
"around 10,000" -> "10,000"), a date ("Tuesday", "October 29, 2024", "the 1990s"), a run of
capitalised words ("Foreign Minister Choe Son Hui", "Bank of England") and the clause after
a cause word ("because of ...", "due to ..."). They over-generate on purpose: the chooser
(qa/search/choose.py) scores each candidate and marks one only when it stands out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .answer_type import names_kind

MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan\.|Feb\.|Mar\.|Apr\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
)
WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
YEAR = r"(?:1[0-9]{3}|20[0-9]{2})"
DAY = r"(?:[0-3]?[0-9](?:st|nd|rd|th)?)"
_DATE = re.compile(
    rf"\b(?:{WEEKDAY},? )?(?:{MONTH} {DAY}(?:,? {YEAR})?|{DAY} {MONTH}(?:,? {YEAR})?|{MONTH},? {YEAR})\b"
    rf"|\b(?:{WEEKDAY}|{MONTH}(?! \d)(?!\w))"
    rf"|\b(?:the )?(?:early |late |mid-)?{YEAR}s?(?:\s?(?:-|–|to|and) {YEAR})?(?: (?:BC|BCE|AD|CE))?\b"
    r"|\b(?:the )?(?:\d{1,2}(?:st|nd|rd|th)|[a-z]+(?:-[a-z]+)?th) centur(?:y|ies)\b"
)
WORD_NUMBER = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    r"hundred|thousand|million|billion|dozen|dozens|hundreds|thousands|millions|half)"
)
UNIT = (
    r"(?:%|percent|per cent|percentage points?|hundred|thousand|million|billion|trillion|"
    r"euros?|dollars?|pounds?|yen|yuan|rupees?|francs?|years?|months?|weeks?|days?|hours?|minutes?|"
    r"seconds?|km|kilometres?|kilometers?|miles?|metres?|meters?|m|feet|foot|inches|kg|kilograms?|"
    r"tonnes?|tons?|acres?|hectares?|degrees?|times|mph|km/h|square (?:miles|kilometres|kilometers))"
)
_NUMBER = re.compile(
    rf"(?:[$£€¥]\s?)?(?:\d+(?:[.,]\d+)*|\b{WORD_NUMBER}(?:[- ]{WORD_NUMBER})*\b)(?:\s?{UNIT}\b)*",
    re.IGNORECASE,
)
_BARE_YEAR = re.compile(rf"^{YEAR}s?$")
CONNECTORS = r"(?:of|the|de|del|da|di|van|von|der|den|du|la|le|al|bin|ibn|&|for|on)"
_CAP = r"(?:[A-Z][\w'’.-]*|\d+(?:st|nd|rd|th)?)"
_NAME = re.compile(rf"\b[A-Z][\w'’.-]*(?:[ -](?:{CONNECTORS} )*{_CAP})*")
# Capitalised only because a sentence starts with them, or words that are never names.
NOT_NAMES = frozenset(
    "a an the in on at it its he she they we i you this that these those however but and as after before "
    "when while during for from with by since although though despite following according if their his "
    "her our there here what which who why how also both some many most all each one two three another "
    "other such so yet then thus still only even later earlier today yesterday now meanwhile instead "
    "amid among under over into about against between within without until unless whether where".split()
)
TITLES = frozenset(
    "mr mr. mrs mrs. ms ms. dr dr. prof prof. gen. gen general president minister prime foreign defence "
    "defense secretary secretary-general chancellor senator governor mayor king queen prince princess "
    "pope saint st. sir lord lady judge justice chief ceo chairman pm former dutch state-run".split()
)
SKIP_NAME = NOT_NAMES | {"the"}
# A name opened by one of these ("Foreign Minister Choe Son Hui", "Duke William II") is a person's.
PERSON_TITLES = frozenset(
    "mr mr. mrs mrs. ms ms. dr dr. prof prof. president minister secretary secretary-general chancellor "
    "senator governor mayor king queen prince princess pope sir lord lady judge chairman ceo general gen. "
    "duke duchess earl emperor empress archbishop bishop sultan tsar czar shah emir caliph".split()
)
SKIP_PERSON = SKIP_NAME | TITLES
_MONTH_OR_DAY = re.compile(rf"^(?:{MONTH}|{WEEKDAY})$")
_CONNECTOR = re.compile(CONNECTORS)
_NON_SPACE = re.compile(r"\S+")
_CAUSE = re.compile(
    r"\b(?:because(?: of)?|due to|owing to|as a result of|thanks to|caused by|blamed (?:on|for)|"
    r"in order to|so that|on account of)\s+([^,;:.!?]+)",
    re.IGNORECASE,
)
# "Officials blamed the speed of the fire on gusts ...": the cause follows "on".
_BLAMED = re.compile(r"\bblamed\b[^,;:.!?]{1,60}?\bon\s+([^,;:.!?]+)", re.IGNORECASE)


_DETAIL = {
    "percent": re.compile(r"%|\bper ?cent\b", re.I),
    "money": re.compile(r"[$£€¥]|\b(euros?|dollars?|pounds|yen|yuan|rupees?|francs?)\b", re.I),
    "duration": re.compile(r"\b(years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?)\b", re.I),
    "year": re.compile(rf"\b{YEAR}s?\b"),
    "century": re.compile(r"\bcentur", re.I),
}


@dataclass(frozen=True, slots=True)
class Phrase:
    """A candidate answer phrase: text[start:end] of the sentence it was found in."""

    start: int
    end: int
    kind: str


def find_phrases(text: str, kind: str) -> list[Phrase]:
    """Every phrase of `kind` in `text`, in reading order (none for an unknown kind)."""
    if kind == "date":
        return [Phrase(m.start(), m.end(), kind) for m in _DATE.finditer(text)]
    if kind == "number":
        return numbers(text)
    if kind == "cause":
        found = [*_CAUSE.finditer(text), *_BLAMED.finditer(text)]
        phrases = [Phrase(m.start(1), m.end(1), kind) for m in found if " " in m.group(1).strip()]
        return sorted(phrases, key=lambda p: p.start)
    if names_kind(kind) or kind == "place":
        return names(text, kind)
    return []


def has_detail(phrase: str, detail: str) -> bool:
    """Is the phrase of the finer kind asked for ("percent": "60 percent"; "year": "1991")?
    A count is checked by the chooser, which knows the counted noun."""
    pattern = _DETAIL.get(detail)
    return bool(pattern and pattern.search(phrase))


def named_as_agent(text: str, phrase: Phrase) -> bool:
    """Is the name introduced as the one who acts: right after a title ("Mayor Carlos
    Moedas"), or after "by" and at most three lower-case words or titles ("led by Foreign
    Minister Choe Son Hui", "founded in 1968 by the baker Josef Hartmann")? A "who"
    question's answer is usually such a name."""
    tail = text[: phrase.start].split()[-4:]
    if tail and tail[-1].lower() in TITLES:
        return True
    by = [i for i, word in enumerate(tail) if word.lower() == "by"]
    return bool(by) and all(w.islower() or w.lower() in TITLES for w in tail[by[-1] + 1 :])


def numbers(text: str) -> list[Phrase]:
    """Amounts and counts, leaving out years and the day or year of a date."""
    dates = [(m.start(), m.end()) for m in _DATE.finditer(text)]
    found = []
    for m in _NUMBER.finditer(text):
        start, end = m.start(), len(text[: m.end()].rstrip())
        inside_date = any(a <= start and end <= b for a, b in dates)
        if end > start and not inside_date and not _BARE_YEAR.match(text[start:end]):
            found.append(Phrase(start, end, "number"))
    return found


def names(text: str, kind: str) -> list[Phrase]:
    """Runs of capitalised words, without a leading sentence word, title, month or weekday."""
    skip = SKIP_PERSON if kind == "person" else SKIP_NAME
    found = []
    for m in _NAME.finditer(text):
        words = [(w.start() + m.start(), w.end() + m.start()) for w in _NON_SPACE.finditer(m.group())]
        while words and (
            text[slice(*words[0])].lower() in skip or _MONTH_OR_DAY.match(text[slice(*words[0])])
        ):
            words.pop(0)
        while words and _CONNECTOR.fullmatch(text[slice(*words[-1])]):
            words.pop()
        if words and text[words[0][0]].isupper() and not _MODIFIER.search(text[slice(*words[-1])]):
            found.append(Phrase(words[0][0], name_end(text, words[-1][0], words[-1][1]), kind))
    return found


# A name ending in a lower-case hyphenated word ("the Kim Jong Un-led country", "a Lyon-based
# firm") describes the noun after it: the answer to "Who leads ...?" is not "Kim Jong Un-led".
_MODIFIER = re.compile(r"\w-[a-z]+$")


def titled(phrase: str) -> bool:
    """Is the name opened by a person's title ("Foreign Minister Choe Son Hui", "Duke William
    II")? Then it is a person's, not the agency or place a question may ask for."""
    return bool({w.lower() for w in phrase.split()[:2]} & PERSON_TITLES)


def name_end(text: str, word_start: int, end: int) -> int:
    """Where a name ends: before a possessive 's, closing quotes, or a sentence's full stop
    (an abbreviation keeps its stop: "Inc.", "U.S.")."""
    end -= 2 if text[end - 2 : end] in ("'s", "’s") else 0
    while end > word_start + 1 and text[end - 1] in "'’-":
        end -= 1
    word = text[word_start:end]
    if word.endswith(".") and len(word) > 4 and "." not in word[:-1]:
        end -= 1
    return end
