"""Time words in questions: "in October 2024", "since March", "this week", "latest".

A question's time words are a *preference*, never a filter: they name a window of days
(relative ones counted back from an as-of date, by default the newest article's), and
articles near that window get a small lift in the ranking (rank.prefer_time), so strong
evidence from another week still wins. Only the filters a user sets (--since/--until,
the chat's date fields, the API's date_from/date_to) remove articles.

Measured on dev sets with dates spread over six years (benchmarks/news_checks.py):
filtering by a question's "this week" hid the answer whenever the quiz's week and the
article's differed, which is most of the time in a real archive.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_YEAR = r"((?:19|20)\d\d)(?!-[A-Za-z])"  # "2019-nCoV" names a virus, not a year
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
RECENT_DAYS = 30  # "latest", "recently", "now": the month up to the as-of date
RECENT = re.compile(
    r"\b(?:the\s+)?(latest|newest|most recent|recent(?:ly)?|current(?:ly)?|right now|now|nowadays"
    r"|today's|these days|upcoming|so far)\b",
    re.I,
)
# "What's the latest on NATO?", "Latest news about the strike:": the whole lead-in is time words.
# Taking out "the latest" alone would leave "What is on NATO?" to be searched, and a question
# put after a colon ("What is the latest: who won?") would lose its own wh-word's weight.
_LEAD_IN = re.compile(
    r"^\s*(?:what(?:'s|\s+is|\s+are)\s+)?(?:the\s+)?(latest|newest|most recent)"
    r"(?:\s+(?:news|updates?|developments?|word))?\s*(?::|\s(?:on|about|regarding|with|from)\b)\s*",
    re.I,
)
# (days back to the window's first day, days back to its last day) from the as-of date
RELATIVE = {
    "today": (0, 0),
    "yesterday": (1, 1),
    "this week": (6, 0),
    "last week": (13, 7),
    "past week": (7, 0),
    "this weekend": (3, 0),
    "last weekend": (9, 6),
    "this month": (30, 0),
    "last month": (60, 30),
    "past month": (30, 0),
    "past few days": (5, 0),
    "past few weeks": (28, 0),
    "this year": (365, 0),
    "last year": (730, 365),
    "past year": (365, 0),
}
_RELATIVE = re.compile(
    r"\b(?:(?:in|during|over|from)\s+)?(?:the\s+)?("
    + "|".join(sorted(RELATIVE, key=len, reverse=True))
    + r")\b(?!')",
    re.I,
)
_ISO = re.compile(r"\b" + _YEAR + r"-(\d\d)-(\d\d)\b")
_DAY_MONTH_YEAR = re.compile(r"\b" + _DAY + r"\s+" + _MONTH + r",?\s+" + _YEAR + r"\b", re.I)
_MONTH_DAY_YEAR = re.compile(r"\b" + _MONTH + r"\.?\s+" + _DAY + r",?\s+" + _YEAR + r"\b", re.I)
_MONTH_YEAR = re.compile(r"\b" + _MONTH + r"\.?,?\s+(?:of\s+)?" + _YEAR + r"\b", re.I)
# A bare month must not be the start of a longer word or name ("Mar-a-Lago", "May's"),
# and bare "may" is too often the verb or the politician to read as a month.
_MONTH_ONLY = re.compile(
    r"\b(?:in|since|during|before|after|until|from)\s+(?!may\b)" + _MONTH + r"(?![\w'-])", re.I
)
_YEAR_ONLY = re.compile(r"\b(?:in|since|during|before|after|until|from|of)\s+" + _YEAR + r"\b", re.I)
_SINCE = re.compile(r"\b(since|after|from)\s+$", re.I)
_BEFORE = re.compile(r"\b(before|until|prior to)\s+$", re.I)
_LEAD_WORD = re.compile(r"\b(?:in|on|during|since|after|from|before|until|of|prior to)\s+$", re.I)


@dataclass(frozen=True, slots=True)
class DateIntent:
    """The window of days a question's time words point at; empty when it names none."""

    date_from: str | None = None  # ISO, inclusive; None: open
    date_to: str | None = None
    prefer_recent: bool = False  # "latest", "recently": the window is the last RECENT_DAYS days
    phrase: str = ""  # the words that set it, for showing the user
    span: tuple[int, int] = (0, 0)  # where `phrase` stands in the question
    as_of: str | None = None  # ISO: set for windows that run to the day asked on; later fits nothing

    def __bool__(self) -> bool:
        return bool(self.date_from or self.date_to or self.prefer_recent)


def shift(day: date, days: int) -> date:
    """`day` moved by `days`, held at the calendar's ends instead of overflowing.

    Example: shift(date(1, 1, 3), -730) -> date(1, 1, 1)
    """
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.min if days < 0 else date.max


def _month_range(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _explicit(question: str, as_of: date) -> tuple[date, date, re.Match[str]] | None:
    """The first explicit date or period in the question, as a (first, last) day range."""
    for pattern in (_ISO, _DAY_MONTH_YEAR, _MONTH_DAY_YEAR, _MONTH_YEAR, _MONTH_ONLY, _YEAR_ONLY):
        m = pattern.search(question)
        if not m:
            continue
        try:
            return (*_resolve(pattern, m.groups(), as_of), m)
        except ValueError:  # "February 30, 2024": not a date, ignore it
            continue
    return None


def _resolve(pattern: re.Pattern[str], g: tuple[str, ...], as_of: date) -> tuple[date, date]:
    if pattern is _ISO:
        day = date(int(g[0]), int(g[1]), int(g[2]))
        return day, day
    if pattern is _DAY_MONTH_YEAR:
        day = date(int(g[2]), MONTHS[g[1].lower()[:3]], int(g[0]))
        return day, day
    if pattern is _MONTH_DAY_YEAR:
        day = date(int(g[2]), MONTHS[g[0].lower()[:3]], int(g[1]))
        return day, day
    if pattern is _MONTH_YEAR:
        return _month_range(int(g[1]), MONTHS[g[0].lower()[:3]])
    if pattern is _MONTH_ONLY:
        month = MONTHS[g[0].lower()[:3]]
        year = as_of.year if month <= as_of.month else as_of.year - 1  # the latest such month
        return _month_range(max(year, 1), month)
    year = int(g[0])
    return date(year, 1, 1), date(year, 12, 31)


def _explicit_intent(question: str, found: tuple[date, date, re.Match[str]], as_of: date) -> DateIntent:
    first, last, m = found
    word, prefix = m.group(0).split()[0].lower(), question[: m.start()]
    lead = _LEAD_WORD.search(prefix)
    start = lead.start() if lead else m.start()
    phrase, span = question[start : m.end()], (start, m.end())
    if word in {"since", "after", "from"} or _SINCE.search(prefix):
        after = word == "after" or prefix.rstrip().lower().endswith("after")
        begin = shift(last, 1) if after else first  # "after 2020" starts in 2021
        return DateIntent(begin.isoformat(), max(as_of, begin).isoformat(), False, phrase, span)
    if word in {"before", "until"} or _BEFORE.search(prefix):
        return DateIntent(None, shift(first, -1).isoformat(), False, phrase, span)
    return DateIntent(first.isoformat(), last.isoformat(), False, phrase, span)


def date_intent(question: str, as_of: date | None = None) -> DateIntent:
    """Read the time words of a question as a window of days.

    Example: date_intent("What happened in October 2024?") -> 2024-10-01 .. 2024-10-31
    """
    as_of = as_of or date.today()
    found = _explicit(question, as_of)
    if found:
        named = _explicit_intent(question, found, as_of)
        # A month or year named is asked about whole; an open end ("since March") runs to the as-of day.
        runs_to_as_of = named.date_to in (None, as_of.isoformat())
        return replace(named, as_of=as_of.isoformat()) if runs_to_as_of else named
    counted = _counted_back(question, as_of)
    return replace(counted, as_of=as_of.isoformat()) if counted else counted


def _counted_back(question: str, as_of: date) -> DateIntent:
    """A window counted back from the as-of day: "this week", "last month", "latest"."""
    rel = _RELATIVE.search(question)
    if rel:
        back, upto = RELATIVE[rel.group(1).lower()]
        first, last = shift(as_of, -back), shift(as_of, -upto)
        return DateIntent(first.isoformat(), last.isoformat(), False, rel.group(0), rel.span())
    lead = _LEAD_IN.match(question)
    recent = lead or RECENT.search(question)
    if recent:
        since = shift(as_of, -RECENT_DAYS).isoformat()
        phrase = recent.group(1) if lead else recent.group(0)
        return DateIntent(since, as_of.isoformat(), True, phrase, recent.span())
    return DateIntent()


def without_phrase(question: str, intent: DateIntent) -> str:
    """The question with its time words taken out, for searching by topic alone.

    Example: "Which automaker recalled cars this week?" -> "Which automaker recalled cars?"
    A question that is nothing but time words ("What happened this week?") keeps them.
    """
    start, end = intent.span
    if end <= start:
        return question
    rest = re.sub(r"\s+([?.!,;:])", r"\1", f"{question[:start]} {question[end:]}")
    rest = re.sub(r"\s{2,}", " ", rest).strip()
    return rest if re.search(r"\w", rest) else question


_GENERIC = set(
    "what which who whom whose when where why how is are was were be been do does did has have had the a an "
    "of in on at to for about from with and or any some all there it its me us tell show give find "
    "happen happens happened happening going news new stories story events event headlines headline "
    "updates update developments say said".split()
)


def only_time(topic: str) -> bool:
    """True when a question asks about a time and nothing else ("What happened this week?"):
    then the time decides the ranking, not the few words left.

    Example: only_time("What happened?") -> True; only_time("Who won the election?") -> False
    """
    return not set(re.findall(r"[a-z]+", topic.lower())) - _GENERIC


def time_fits(days: np.ndarray, intent: DateIntent) -> np.ndarray:
    """How well each day (date.toordinal(); 0: undated) fits the window, in [0, 1]: 1 inside
    it, then decaying with the distance in days (half-life: a quarter of the window, at least
    a week; a week before "in March" is half as good, a month before is nearly nothing).
    Undated: 0. For a window counted back from the as-of day ("this week", "latest", "since
    March": intent.as_of), a day after it: 0, however near, because asked on that day "this
    week" cannot mean a story not written yet. A month or year named keeps its decay on both
    sides (a story can report on it late or preview it early), also past the as-of day.
    """
    days = np.asarray(days, dtype=np.int64)
    if not intent:
        return np.zeros(days.shape)
    first = date.fromisoformat(intent.date_from).toordinal() if intent.date_from else 1
    last = date.fromisoformat(intent.date_to).toordinal() if intent.date_to else date.max.toordinal()
    distance = np.maximum(first - days, 0) + np.maximum(days - last, 0)
    length = last - first + 1 if intent.date_from and intent.date_to else 365
    fits = np.exp(-math.log(2) * distance / max(length / 4, 7))
    after = date.fromisoformat(intent.as_of).toordinal() if intent.as_of else date.max.toordinal()
    return np.where((days > 0) & (days <= after), fits, 0.0)


def time_fit(day: str | None, intent: DateIntent) -> float:
    """time_fits for one ISO date. Example: a window of 2024-10-23..29 gives 2024-10-25 -> 1.0
    and 2024-10-16 -> 0.5"""
    if not day or not intent:
        return 0.0
    return float(time_fits(np.array([date.fromisoformat(day).toordinal()]), intent)[0])


# The share of the archive below which a window keeps its full lift: a month of a six-year
# archive is 0.014, a year of it 0.17 plus its tails.
FULL_LIFT_SHARE = 0.05


def time_lift(weight: float, intent: DateIntent, days: np.ndarray, counts: np.ndarray) -> float:
    """The lift of a perfect date fit: `weight`, less for a window that fits much of the
    archive (`days`, `counts`: see window_share).

    Why it shrinks: when the time words are wrong (the answer is from another week), every
    in-window passage that scores a little below the answer can jump it, and how many there
    are grows with the window's share. Shrinking the lift in proportion holds that harm to
    what a window of FULL_LIFT_SHARE does at full weight: "this week" in a long archive keeps
    the whole lift; "in 2023" in a six-year archive says little, and is lifted little.

    Example: a window that fits 1% of the passages -> weight; 25% of them -> weight / 5
    """
    share = window_share(days, counts, intent)
    return weight * min(1.0, FULL_LIFT_SHARE / share) if share > 0 else weight


def window_share(days: np.ndarray, counts: np.ndarray, intent: DateIntent) -> float:
    """The share of the archive's passages the window fits (partly fitting ones count partly):
    `days` are distinct day numbers (0: undated), `counts` how many passages each has."""
    total = counts.sum()
    return float((time_fits(days, intent) * counts).sum() / total) if total else 0.0


def describe(intent: DateIntent) -> str:
    """How the time words were read, for the reply's notes."""
    if intent.date_from == intent.date_to:
        span = str(intent.date_from)
    elif intent.date_from and intent.date_to:
        span = f"{intent.date_from} to {intent.date_to}"
    elif intent.date_from:
        span = f"from {intent.date_from}"
    else:
        span = f"up to {intent.date_to}"
    return f"Read '{intent.phrase.strip()}' as {span}: articles from then are preferred, not required."
