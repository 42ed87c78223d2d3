"""The Article record and the small rules every reader shares: ids, dates, hashes.

An Article's `text` is the body that citations point into; offsets anywhere in
qa are character offsets into exactly this string.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from qa.terminal import escape_controls

_WS = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Article:
    """One news article as stored in the index."""

    id: str
    title: str
    text: str
    date: str | None = None  # ISO YYYY-MM-DD, or None when unknown
    section: str | None = None
    source: str | None = None
    url: str | None = None
    path: str | None = None  # where it was read from ("file" or "file:line")
    also_in: tuple[str, ...] = field(default=())  # other places the same article was found

    @property
    def content_hash(self) -> str:
        """Hash of everything that is stored for the article (not where it came from)."""
        parts = [self.title, self.text, self.date, self.section, self.source, self.url]
        joined = "\x1f".join(p or "" for p in parts)
        return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:32]

    @property
    def identity_hash(self) -> str:
        """Hash of title and text with whitespace folded: equal for copies of one story."""
        folded = _WS.sub(" ", f"{self.title}\n{self.text}").strip().lower()
        return hashlib.sha256(folded.encode("utf-8")).hexdigest()[:32]

    def with_changes(self, **changes: object) -> Article:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one input file or line; `level` is "error" or "warning"."""

    path: str
    message: str
    line: int | None = None
    level: str = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return escape_controls(f"{where}: {self.message}")  # a newline in a file name forges no line


def normalise_date(value: object) -> str | None:
    """Turn a date in any common spelling into ISO YYYY-MM-DD.

    Example: "Oct 29, 2024" -> "2024-10-29"; "" -> None. Raises ValueError when the
    value is not a date (the caller keeps the article and reports the value).
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    from dateutil import parser  # small, but only needed when dates are present

    try:
        # A fixed default stops dateutil from filling missing parts with today's date.
        parsed = parser.parse(text, default=datetime(2000, 1, 1))
    except (ValueError, OverflowError) as ex:
        raise ValueError(f"unparseable date {text!r}") from ex
    return parsed.date().isoformat()


def content_id(title: str, text: str) -> str:
    """A stable id for a record that came without one: derived from its content."""
    digest = hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()
    return f"doc-{digest[:16]}"
