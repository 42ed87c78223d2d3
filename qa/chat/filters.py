"""The chat's filter fields checked: dates, sections, sources and the as-of day."""

from __future__ import annotations

from collections.abc import Sequence

from qa.errors import QAError
from qa.search.options import check_as_of
from qa.search.retrieve import Filters
from qa.text.articles import normalise_date


def check_filters(
    date_from: str | None = None,
    date_to: str | None = None,
    sections: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    keep_undated: bool = False,
) -> tuple[Filters | None, list[str]]:
    """Filters from form values (blank means "any"), or None and what is wrong, one hint a field."""
    dates, hints = [], []
    for label, value in (("From date", date_from), ("To date", date_to)):
        shown = (value or "").strip()
        try:
            if len(shown) > 40:  # no date is that long; spare the parser a pasted page
                raise ValueError(shown)
            dates.append(normalise_date(shown))
        except ValueError:
            dates.append(None)
            hints.append(f"{label}: “{shown[:60]}” is not a date. Write it as YYYY-MM-DD, e.g. 2024-10-29.")
    if not hints and dates[0] and dates[1] and dates[0] > dates[1]:
        hints.append(f"From date {dates[0]} is after To date {dates[1]}: swap them.")
    if hints:
        return None, hints
    filters = Filters(dates[0], dates[1], tuple(sections or ()), tuple(sources or ()), bool(keep_undated))
    return (filters if filters.active() else None), []


def as_of_hints(value: str | None) -> list[str]:
    """What is wrong with an "As of" value, as a hint for under the field (none when blank or fine)."""
    shown = (value or "").strip()
    if not shown:
        return []
    try:
        check_as_of(shown[:40])
    except QAError:
        return [f"As of: “{shown[:60]}” is not a date. Write it as YYYY-MM-DD, e.g. 2024-10-29."]
    return []


def make_filters(
    date_from: str | None = None,
    date_to: str | None = None,
    sections: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
) -> Filters | None:
    """Filters from API values; blank values mean "any". Raises QAError on a bad date."""
    filters, hints = check_filters(date_from, date_to, sections, sources)
    if hints:
        raise QAError(" ".join(hints))
    return filters
