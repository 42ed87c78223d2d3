"""Text that reaches a terminal or a log: control characters shown, never obeyed.

An article title, a file name or a question may hold ANSI escape sequences (which
can retitle a terminal or hide text), carriage returns or newlines (which forge
extra lines in a report or a log). Everything qa prints goes through here.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

# C0 and C1 controls, DEL, line/paragraph separators, and the bidi overrides that
# reorder what a reader sees (the "Trojan Source" characters).
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: object, keep: str = "") -> str:
    """`text` with every control character written as an escape (ESC -> "\\x1b").

    Characters in `keep` (say "\\n" for multi-line output) are left as they are.
    Example: escape_controls("a\\x1b[31mb\\nc") -> "a\\\\x1b[31mb\\\\nc"
    """
    return _CONTROLS.sub(lambda m: m.group() if m.group() in keep else _escape(m), str(text))


def one_line(text: object) -> str:
    """A piece of running text (answer, title) on one line: line breaks become spaces."""
    return escape_controls(re.sub(r"\s*(\r\n|\r|\n)\s*", " ", str(text)))


def text_block(text: object) -> str:
    """Running text over several lines: line breaks and tabs kept, other controls escaped."""
    return escape_controls(str(text).replace("\r\n", "\n"), keep="\n\t")


class EscapingFormatter(logging.Formatter):
    """Log lines with control characters escaped: one record is always one line."""

    def format(self, record: logging.LogRecord) -> str:
        return escape_controls(super().format(record))


def json_text(value: Any, indent: int | None = None) -> str:
    """JSON for a terminal: non-ASCII text kept readable, every control character as \\uXXXX.

    json.dumps escapes C0 controls itself; C1 controls (U+009B is a one-byte CSI) and
    bidi overrides would go out raw with ensure_ascii=False. The result is still valid JSON.
    """
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}" if m.group() != "\n" else "\n", text)
