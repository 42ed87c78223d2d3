"""What the benchmark scripts share: paths, the machine and load lines, timing, a free port,
Markdown tables, a docs section written in place, and the common command-line options.

A script runs as `python benchmarks/X.py`, so benchmarks/ is first on sys.path and
`import bench` works; `bench.on_path()` then puts this checkout first too (its qa and app.py,
not an installed copy). Nothing heavy is imported here: the standard library only.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[1]  # the checkout
OUT = ROOT / "benchmarks" / "out"  # converted sets, indexes, results (gitignored)
DOCS = ROOT / "docs"


def on_path() -> None:
    """Put the checkout (qa, app.py) and benchmarks/ (the helpers) first on sys.path."""
    for folder in (str(ROOT / "benchmarks"), str(ROOT)):
        while folder in sys.path:
            sys.path.remove(folder)
        sys.path.insert(0, folder)


# --------------------------------------------------------------------------- the machine


def _first(path: str, pattern: str) -> str | None:
    file = Path(path)
    if not file.exists():
        return None
    found = re.search(pattern, file.read_text(), re.M)
    return found.group(1).strip() if found else None


def _cpu() -> str:
    return _first("/proc/cpuinfo", r"^model name\s*:\s*(.+)$") or "unknown CPU"


def _ram_gib() -> float:
    kb = _first("/proc/meminfo", r"^MemTotal:\s*(\d+) kB")
    return int(kb) / 2**20 if kb else 0.0


def machine() -> dict[str, Any]:
    """The machine as data: cores, CPU model, RAM (GiB), Python and the load averages."""
    return {
        "nproc": os.cpu_count(),
        "cpu": _cpu(),
        "ram_gib": round(_ram_gib(), 1),
        "python": platform.python_version(),
        "load": os.getloadavg(),
    }


def machine_line() -> str:
    """The machine in one line, for a docs page."""
    return (
        f"{_cpu()}, {os.cpu_count()} cores (`nproc`), {_ram_gib():.0f} GB RAM, no GPU; "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def load_line() -> str:
    """The 1-, 5- and 15-minute load averages, as /proc/loadavg shows them ("0.52 0.61 0.70")."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def commit() -> str:
    """The measured commit: $QA_COMMIT (for a run from an exported tree), else git's HEAD."""
    found = (
        os.environ.get("QA_COMMIT")
        or subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout
    )
    return found.strip() or "unknown"


# --------------------------------------------------------------------------- measuring


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Wall seconds (time.perf_counter) of one call, and its result."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- docs


ALIGN = {"r": "---:", "c": ":---:"}  # anything else is "---" (left, as GitHub shows it)


def md_table(head: Sequence[Any], rows: Sequence[Sequence[Any]], align: str = "") -> list[str]:
    """A Markdown table as lines: `head`, then one line per row. `align` has one letter per
    column ("r" right, "c" centre, anything else or missing: left), e.g. "lrr"."""
    marks = [ALIGN.get(align[i] if i < len(align) else "", "---") for i in range(len(head))]
    return [_row(head), "|" + "|".join(marks) + "|", *(_row(row) for row in rows)]


def _row(cells: Sequence[Any]) -> str:
    """`| a | b |`; an empty cell is `| |`."""
    return "|" + "|".join(f" {c} " if str(c) else " " for c in cells) + "|"


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


def parser(doc: str | None, *, note: bool = False) -> argparse.ArgumentParser:
    """The script's parser: its docstring as the description, --write-docs, and --note if asked."""
    made = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    made.add_argument("--write-docs", action="store_true", help="(re)write this script's section of the docs")
    if note:
        made.add_argument("--note", default="", help="free text for the docs (what else ran)")
    return made
