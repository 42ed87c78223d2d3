"""What an index is built from: its sources, recorded where damage cannot reach them.

INDEX/sources.json holds the folders and files last named to `qa index`, resolved to
absolute paths, so `qa index --index /abs/ix` from any folder re-reads the same ones.
It sits at the index root, written atomically, outside every generation: a damaged
generation (or CURRENT) cannot take it along, so a rebuild repairs from the right
articles. INDEX/uploads/ is always a source. When the sources cannot be known, qa says
so and stops: it never falls back to seeds/ for an index that had other sources.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from qa import jsonl
from qa.config import DEFAULT_SOURCES
from qa.errors import QAError, SourcesError
from qa.layout import CURRENT, SOURCES, UPLOADS

from . import folder
from .generation import read_manifest

MAX_SOURCES_BYTES = 1 << 20


def uploads_dir(root: Path) -> Path:
    return root.resolve() / UPLOADS


def resolve(paths: Sequence[Path | str]) -> list[str]:
    """Absolute, resolved paths without repeats, in the order given."""
    return list(dict.fromkeys(str(Path(p).resolve()) for p in paths))


def with_uploads(root: Path, sources: Sequence[str]) -> list[str]:
    """The sources plus INDEX/uploads/: what a run reads and the manifest lists."""
    return list(dict.fromkeys([*sources, str(uploads_dir(root))]))


def read_sources(root: Path) -> list[str] | None:
    """The recorded sources (without uploads/), or None when the index never recorded any."""
    file = root / SOURCES
    if not file.is_file():
        return _from_manifest(root)
    try:
        with file.open("rb") as fh:
            data = jsonl.loads(fh.read(MAX_SOURCES_BYTES).decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as ex:
        raise SourcesError(f"{file} is unreadable ({ex}); {_name_them(root)}") from None
    # Exactly what write_sources writes: a file of any other shape is not qa's record.
    listed = data.get("sources") if isinstance(data, dict) and list(data) == ["sources"] else None
    if not isinstance(listed, list) or not all(isinstance(s, str) and os.path.isabs(s) for s in listed):
        raise SourcesError(f'{file} does not hold {{"sources": [absolute paths]}}; {_name_them(root)}')
    return [s for s in listed if s != str(uploads_dir(root))]


def recorded_by_qa(root: Path) -> bool:
    """True when INDEX/sources.json is a plain file of the one shape qa writes (a list of
    absolute paths): only then may a write replace it (index/lock.check_ours)."""
    file = root / SOURCES
    if file.is_symlink() or not file.is_file():  # not a link, a pipe or a device of the user's
        return False
    try:
        read_sources(root)
    except SourcesError:
        return False
    return True


def write_sources(root: Path, sources: Sequence[str]) -> None:
    text = jsonl.dumps_line({"sources": [s for s in sources if s != str(uploads_dir(root))]})
    try:
        folder.write_atomic(root / SOURCES, text)
    except OSError as ex:
        raise folder.write_failure(root, ex) from None


def sources_to_read(root: Path, given: Sequence[Path | str]) -> list[str]:
    """The sources of a `qa index` run: the paths given, else the recorded ones, else
    seeds/ for a new index. Raises SourcesError when they cannot be known or are gone."""
    if given:
        return resolve(given)
    recorded = read_sources(root)
    if recorded is None and has_index(root):
        raise SourcesError(f"the index at {root} does not record what it was built from; {_name_them(root)}")
    if recorded is None:
        return resolve(DEFAULT_SOURCES)
    missing = [s for s in recorded if not os.path.exists(s)]
    if missing:
        raise SourcesError(
            f"{', '.join(missing)}, a source of the index at {root}, is missing; reconnect it, "
            f"or {_name_them(root)}; the index there is unchanged"
        )
    return recorded


def has_index(root: Path) -> bool:
    """True when `root` holds an index or what is left of one (not just an uploads/ folder)."""
    if not root.is_dir():
        return False
    return (
        (root / CURRENT).exists()
        or (root / SOURCES).exists()
        or folder.holds_generation(root)
    )


def _from_manifest(root: Path) -> list[str] | None:
    """Sources an older qa kept only in the live manifest: usable when absolute."""
    try:
        listed = read_manifest(folder.live_generation(root), root).get("sources")
    except QAError:
        return None
    if not isinstance(listed, list) or not all(isinstance(s, str) for s in listed) or not listed:
        return None
    if not all(os.path.isabs(s) for s in listed):
        return None  # relative to a folder that was never recorded: unknown, not guessed
    return [s for s in listed if s != str(uploads_dir(root))]


def _name_them(root: Path) -> str:
    return f"name the folders to index once: `qa index PATH ... --index {folder.shell_path(root)}`"
