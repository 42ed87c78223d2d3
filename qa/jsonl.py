"""JSON and JSON lines as qa reads and writes them: bounded, and split on "\\n" only.

- Depth: a 400-byte `[[[[...` would end a parse in RecursionError; anything nested
  deeper than MAX_DEPTH is refused as malformed JSON (json.JSONDecodeError) first.
- Lines: a record is one line ending in "\\n". qa writes U+2028, U+0085 and other
  characters that str.splitlines() also breaks on, so nothing here uses splitlines().
- Appends: a record goes in one write(); a write cut short (disk full) is undone,
  and a torn last line left by a crash is skipped on read and dropped on the next append.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
MAX_DEPTH = 64  # a news record needs 3 or 4 levels; BEIR metadata a few more


def depth(value: Any) -> int:
    """How deeply lists and objects nest in a parsed value (a scalar: 0); no recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in children)
    return deepest


def loads(text: str) -> Any:
    """json.loads that refuses nesting deeper than MAX_DEPTH (as json.JSONDecodeError)."""
    too_deep = json.JSONDecodeError(f"nested deeper than {MAX_DEPTH} levels", text, 0)
    try:
        value = json.loads(text)
    except RecursionError:  # the C parser gives up near 1,000 levels; say so as bad JSON
        raise too_deep from None
    except json.JSONDecodeError:
        raise
    except ValueError as ex:  # an integer of over 4,300 digits
        raise json.JSONDecodeError(str(ex)[:120], text, 0) from None
    if text.count("[") + text.count("{") > MAX_DEPTH and depth(value) > MAX_DEPTH:
        raise too_deep
    return value


def lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of JSON lines text, split on "\\n" only (a "\\r\\n" ending is dropped)."""
    for number, line in enumerate(text.split("\n"), start=1):
        yield number, line.removesuffix("\r")


def dumps_line(record: Any) -> str:
    """One record as one line: json.dumps escapes "\\n" and "\\r", so it holds neither."""
    return json.dumps(record, ensure_ascii=False) + "\n"


class BadLine(json.JSONDecodeError):
    """A line of a JSON lines file that is not JSON; `.number` is its line number (from 1).

    A json.JSONDecodeError, so handlers of that keep working; `.msg` is the parser's reason.
    """

    def __init__(self, msg: str, doc: str, pos: int, number: int) -> None:
        super().__init__(msg, doc, pos)
        self.number = number

    def __reduce__(self) -> tuple[type[BadLine], tuple[str, str, int, int]]:  # pickles whole
        return type(self), (self.msg, self.doc, self.pos, self.number)


def read(path: Path, *, skip_torn_tail: bool = True) -> Iterator[Any]:
    """The records of a JSON lines file; blank lines are skipped.

    A torn last line (no "\\n", not JSON: a write cut short) is skipped with a warning,
    unless skip_torn_tail is False. Raises BadLine for any other line that is not JSON,
    OSError when the file is unreadable.
    """
    with path.open(encoding="utf-8", newline="\n") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield loads(line)
            except json.JSONDecodeError as ex:
                if line.endswith("\n") or not skip_torn_tail:
                    raise BadLine(ex.msg, ex.doc, ex.pos, number) from None
                log.warning("%s ends in a torn line (a write cut short); skipped it", path)


def write(path: Path, records: Iterable[Any]) -> None:
    """Write a JSON lines file whole or not at all (a temporary file, then a rename)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("w", encoding="utf-8", newline="\n") as fh:
            for record in records:
                fh.write(dumps_line(record))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def append(path: Path, record: Any) -> None:
    """Add one record to a JSON lines file in a single write; undo a write cut short."""
    data = dumps_line(record).encode("utf-8")
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        size = _drop_torn_tail(fd, path)
        try:
            written = os.write(fd, data)
        except OSError:
            os.ftruncate(fd, size)
            raise
        if written != len(data):
            os.ftruncate(fd, size)
            raise OSError(28, "No space left on device (write cut short)", str(path))
    finally:
        os.close(fd)


def _drop_torn_tail(fd: int, path: Path) -> int:
    """Cut a last line that has no "\\n" (a crash mid-write) off the file; returns the size."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return size
    start = max(0, size - (1 << 20))
    tail = os.pread(fd, size - start, start)
    keep = start + tail.rfind(b"\n") + 1 if b"\n" in tail else 0
    log.warning("%s ended in a torn line of %d bytes (a write cut short); dropped it", path, size - keep)
    os.ftruncate(fd, keep)
    return keep
