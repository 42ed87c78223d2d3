"""Which files `qa index` reads: the walk over the folders it is given, and its border.

Reads only inside the folders it is given. Skipped, each with a warning naming it:
links that lead out of the folder (unless the caller allows it), devices, FIFOs and
sockets (opening a FIFO would wait for ever), the kernel's /proc, /sys and /dev, and
any qa index folder (its own generations would come back as articles, `seal~2`).
Hidden files and folders and files of other types are passed over in silence.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from qa.errors import NoArticlesError
from qa.layout import CURRENT, SOURCES, UPLOADS, enclosing_index, is_index_folder

from .articles import Problem
from .readers import READERS

KERNEL_FOLDERS = tuple(Path(p) for p in ("/proc", "/sys", "/dev"))
Found = tuple[Path, Path] | Problem  # (file, the folder it was found under), or why not


def find_files(
    paths: Iterable[Path], index_root: Path | None = None, follow_outside_links: bool = False
) -> Iterator[Found]:
    """(file, root) for every readable article file under the given files and folders,
    and a warning Problem for each one skipped at the border."""
    own = index_root.resolve() if index_root else None
    for given in paths:
        if not given.exists():
            raise NoArticlesError(f"{given} does not exist; give a file or folder of articles")
        why = refused(given, own)
        if why:
            yield _skip(given, why)
        elif given.is_dir():
            yield from walk(given, own, follow_outside_links)
        elif given.is_file():
            yield given, given.parent
        else:
            yield _skip(given, _not_a_file(given))


def refused(path: Path, own_index: Path | None) -> str | None:
    """Why a path named to `qa index` is not read, or None. Only the index's own
    uploads/ may be read from inside an index folder."""
    real = path.resolve()
    if any(real == k or k in real.parents for k in KERNEL_FOLDERS):
        return "a file of the operating system's kernel, not an article; skipped"
    uploads = own_index / UPLOADS if own_index else None
    if uploads and (real == uploads or uploads in real.parents):
        return None
    if own_index and (real == own_index or own_index in real.parents):
        return "the index folder itself, never read as articles; keep the index elsewhere (--index)"
    index = enclosing_index(real)
    if index is not None:
        return f"inside the qa index folder {index}, which is never read as articles; skipped"
    return None


def walk(root: Path, own_index: Path | None, follow: bool, seen: set[Path] | None = None) -> Iterator[Found]:
    """The files under `root` in sorted path order (the order decides which copy of a story is kept)."""
    real_root = root.resolve()
    seen = seen if seen is not None else {real_root}
    found: list[Found] = []
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        dirs[:] = [d for d in sorted(dirs) if not d.startswith(".") and _enter(base / d, own_index, found)]
        for d in [d for d in dirs if (base / d).is_symlink()]:
            dirs.remove(d)  # os.walk does not follow them anyway; decide here, with a reason
            found.extend(_linked_folder(base / d, real_root, own_index, follow, seen))
        for name in files:
            if not name.startswith(".") and Path(name).suffix.lower() in READERS:
                found.append(_check_file(base / name, root, real_root, own_index, follow))
    yield from sorted(found, key=lambda f: f.path if isinstance(f, Problem) else str(f[0]))


def _enter(folder: Path, own_index: Path | None, found: list[Found]) -> bool:
    """Whether to walk into a sub-folder: never into an index folder (a warning unless it is the own one)."""
    if folder.is_symlink():
        return True  # decided by _linked_folder
    if own_index is not None and folder.resolve() == own_index:
        if _article_files(folder):  # --index pointed at a folder of articles: say they go unread
            found.append(_skip(folder, f"the index folder itself: {_OWN_FILES}"))
        return False  # its uploads/ are read as a source of their own
    if is_index_folder(folder):
        found.append(_skip(folder, "a qa index folder, never read as articles; skipped"))
        return False
    return True


def _linked_folder(
    link: Path, real_root: Path, own_index: Path | None, follow: bool, seen: set[Path]
) -> list[Found]:
    real = link.resolve()
    if real == real_root or real_root in real.parents:
        return []  # its files are read where they really are
    if not follow:
        return [
            _skip(link, f"a link to {real}, outside {real_root}; skipped (--follow-outside-links reads it)")
        ]
    why = refused(link, own_index)
    if why or real in seen or not real.is_dir():
        return [_skip(link, why)] if why else []
    seen.add(real)
    return list(walk(link, own_index, follow, seen))


def _check_file(file: Path, root: Path, real_root: Path, own_index: Path | None, follow: bool) -> Found:
    """(file, root) when the file may be read, else a warning saying why not."""
    if file.is_symlink():
        real = file.resolve()
        if not real.exists():
            return _skip(file, "a broken link; skipped")
        if real != real_root and real_root not in real.parents and not follow:
            return _skip(
                file, f"a link to {real}, outside {real_root}; skipped (--follow-outside-links reads it)"
            )
        why = refused(real, own_index)
        if why:
            return _skip(file, f"a link to {real}: {why}")
    return (file, root) if file.is_file() else _skip(file, _not_a_file(file))


def _not_a_file(path: Path) -> str:
    try:
        mode = path.stat().st_mode
    except OSError as ex:
        return f"cannot read it ({ex.strerror}); skipped"
    kind = "FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else "device"
    return f"a {kind}, not a regular file; skipped"


_OWN_FILES = "its article files are never read; keep the index in a folder of its own (--index)"


def _article_files(folder: Path) -> bool:
    try:
        files = [
            c
            for c in folder.iterdir()
            if not c.name.startswith(".") and c.name not in (CURRENT, SOURCES) and c.suffix.lower() in READERS
        ]
        return any(c.is_file() for c in files)
    except OSError:
        return False


def _skip(path: Path, why: str) -> Problem:
    return Problem(str(path), why, level="warning")
