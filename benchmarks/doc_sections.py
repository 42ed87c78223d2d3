"""One benchmark's section of a docs page, replaced in place (the other sections are left alone)."""

from __future__ import annotations

import re
from pathlib import Path


def write_section(doc: Path, heading: str, text: str, title: str = "# Benchmarks") -> None:
    """Replace the section that starts at `heading` (up to the next `## `), or add it at the end."""
    current = doc.read_text(encoding="utf-8") if doc.exists() else title + "\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.M | re.S)
    body = text.rstrip("\n") + "\n\n"
    if pattern.search(current):
        current = pattern.sub(lambda _: body, current, count=1)
    else:
        current = current.rstrip("\n") + "\n\n" + body
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(current.rstrip("\n") + "\n", encoding="utf-8")
