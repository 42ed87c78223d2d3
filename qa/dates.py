"""Dates in questions: "in October 2024", "since March", "last week", "latest".

Explicit dates and ranges become a date filter; relative ones are resolved against
an as-of date (default: the newest article, so an archive is read as of its own
time, not today's). "latest"/"recent" become a preference for newer articles.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_YEAR = r"((?:19|20)\d\d)"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
RECENT = re.compile(r"\b(latest|newest|most recent|recent(?:ly)?|current(?:ly)?|now|today's)\b", re.I)
RELATIVE = {
    "today": (0, 0),
    "yesterday": (1, 1),
    "this week": (6, 0),
    "last week": (13, 7),
    "past week": (7, 0),
    "this month": (30, 0),
    "last month": (60, 30),
    "past month": (30, 0),
    "this year": (365, 0),
    "last year": (730, 365),
    "past year": (365, 0),
}
_RELATIVE = re.compile(r"\b(" + "|".join(sorted(RELATIVE, key=len, reverse=True)) + r")\b(?!')", re.I)
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


@dataclass(frozen=True, slots=True)
class DateIntent:
    """What a question says about time; empty when it says nothing."""

    date_from: str | None = None
    date_to: str | None = None
    prefer_recent: bool = False
    phrase: str = ""  # the words that set it, for showing the user

    def __bool__(self) -> bool:
        return bool(self.date_from or self.date_to or self.prefer_recent)


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
        return _month_range(year, month)
    year = int(g[0])
    return date(year, 1, 1), date(year, 12, 31)


def date_intent(question: str, as_of: date | None = None) -> DateIntent:
    """Read the time constraint of a question.

    Example: date_intent("What happened in October 2024?") -> 2024-10-01 .. 2024-10-31
    """
    as_of = as_of or date.today()
    found = _explicit(question, as_of)
    if found:
        first, last, m = found
        word, prefix = m.group(0).split()[0].lower(), question[: m.start()]
        if word in {"since", "after", "from"} or _SINCE.search(prefix):
            after = word == "after" or prefix.rstrip().lower().endswith("after")
            start = last + timedelta(days=1) if after else first  # "after 2020" starts in 2021
            return DateIntent(start.isoformat(), as_of.isoformat(), False, m.group(0))
        if word in {"before", "until"} or _BEFORE.search(prefix):
            return DateIntent(None, (first - timedelta(days=1)).isoformat(), False, m.group(0))
        return DateIntent(first.isoformat(), last.isoformat(), False, m.group(0))
    rel = _RELATIVE.search(question)
    if rel:
        back, upto = RELATIVE[rel.group(1).lower()]
        return DateIntent(
            (as_of - timedelta(days=back)).isoformat(),
            (as_of - timedelta(days=upto)).isoformat(),
            False,
            rel.group(0),
        )
    recent = RECENT.search(question)
    return DateIntent(prefer_recent=True, phrase=recent.group(0)) if recent else DateIntent()
