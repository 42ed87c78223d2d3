"""An index folder's atomic generation switch, whose files it holds, and its errors' wording.

The folder is drawn, and its files named, in qa/layout.py: CURRENT names the live
generation, gen-<stamp>/ are generations (index/lock.py holds the one writer's .lock).
A writer builds a complete new generation beside the live one, fsyncs it, then
replaces CURRENT in one rename. Killing it at any moment leaves the old index live.
Only folders holding qa's generation mark are ever deleted (qa/layout.py), and CURRENT
is trusted only to name such a folder directly inside the index folder. CURRENT and
sources.json are replaced whole, so they are written only beside a generation of qa's
(holds_generation; index/lock.py checks before a write).
No pickle anywhere: JSON, JSON lines, numpy/faiss native formats.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shlex
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qa import jsonl
from qa.errors import IndexCorruptError, IndexNotFoundError, IndexWriteError
from qa.layout import CURRENT, GENERATION_MARK, MANIFEST, MARK_TEXT, SOURCES, generations_in, is_generation

log = logging.getLogger(__name__)


MAX_CURRENT_BYTES = 200
MAX_MANIFEST_PEEK = 64 << 20  # a manifest lists every file of a generation: a few MB at most


_GENERATION_NAME = re.compile(r"gen-[A-Za-z0-9_-]{1,150}")
_OWN_TEMPORARY = re.compile(rf"\.(?:{re.escape(CURRENT)}|{re.escape(SOURCES)})\.tmp-\d+")  # write_atomic's
_QA_NAME = re.compile(r"gen-\d{8}-\d{6}-\d+-\d+")  # what new_generation names (time, pid, number)


def shell_path(root: Path) -> str:
    """The index folder as a command line should name it: absolute, quoted for the shell."""
    return shlex.quote(os.path.abspath(root))


def repair_hint(root: Path) -> str:
    return f"repair it with `qa index --rebuild --index {shell_path(root)}`"


def live_generation(root: Path) -> Path:
    """The folder of the live generation, or IndexNotFoundError / IndexCorruptError."""
    check_folder(root)
    name = read_current(root)
    folder = root / name
    whole = not folder.is_symlink() and folder.is_dir() and (folder / MANIFEST).is_file()
    if not whole and not current_is_qas(root):
        raise _not_qas(root)
    if folder.is_symlink() or not folder.is_dir():
        raise IndexCorruptError(f"{root / CURRENT} names {name}, which is not in {root}; {repair_hint(root)}")
    if not (folder / MANIFEST).is_file():
        raise IndexCorruptError(f"{root / CURRENT} names {name}, which has no manifest; {repair_hint(root)}")
    return folder


def read_current(root: Path) -> str:
    """The generation CURRENT names: a plain `gen-...` name of at most MAX_CURRENT_BYTES."""
    pointer = root / CURRENT
    if not pointer.is_file():
        raise IndexNotFoundError(
            f"no index at {root}; build one with `qa index PATH --index {shell_path(root)}`"
        )
    try:
        raw = _pointer(root)
    except OSError as ex:
        raise IndexCorruptError(f"cannot read {pointer} ({ex.strerror}); {repair_hint(root)}") from None
    name = raw.decode("ascii", errors="replace").strip()
    if len(raw) <= MAX_CURRENT_BYTES and _GENERATION_NAME.fullmatch(name):
        return name
    if not _may_hold_generation(root):
        raise _not_qas(root)
    held = (
        f"over {MAX_CURRENT_BYTES} bytes"
        if len(raw) > MAX_CURRENT_BYTES
        else f"{name[:60]!r}"
        if name.isprintable()
        else "binary data"
    )
    raise IndexCorruptError(
        f"{pointer} is damaged: it must name a generation folder (gen-...) inside {root}, "
        f"but holds {held}; {repair_hint(root)}"
    )


def exists(root: Path) -> bool:
    return (root / CURRENT).is_file()


def check_folder(root: Path) -> None:
    """Refuse a file given where an index folder is expected."""
    if root.exists() and not root.is_dir():
        raise IndexNotFoundError(
            f"{root} is a file, not an index folder; give a folder with --index (or $QA_INDEX)"
        )


def write_failure(root: Path, ex: Exception) -> IndexWriteError:
    """One clean error for a write that failed (OSError, or faiss's RuntimeError), with the fix."""
    code = getattr(ex, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT) or (code is None and _nearly_full(root)):
        fix = "free some disk space and run it again"
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "the folder is read-only: make it writable, or choose another with --index"
    else:
        fix = "check the folder and run it again"
    reason = getattr(ex, "strerror", None) or (str(ex).strip().splitlines() or [type(ex).__name__])[-1][:200]
    return IndexWriteError(
        f"cannot write the index at {root} ({reason}); {fix}. The index there is unchanged"
    )


def _nearly_full(root: Path) -> bool:
    try:
        info = os.statvfs(root)
    except OSError:
        return False
    return info.f_bavail * info.f_frsize < 16 << 20


def new_generation(root: Path) -> Path:
    """An empty folder for a generation that is not live yet, marked as qa's own."""
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
    # A counter, not the clock, keeps names apart: two builds in one second by one process
    # (a retry after a failed write) once got the same clock reading, and publishing onto
    # the live generation of that name failed with "Directory not empty".
    for n in range(10_000):
        name = f"gen-{stamp}-{n}"
        folder = root / f".building-{name}"
        if os.path.lexists(root / name) or os.path.lexists(folder):  # a dangling link too
            continue
        folder.mkdir()
        (folder / GENERATION_MARK).write_text(MARK_TEXT, encoding="utf-8")
        return folder
    raise OSError(errno.EEXIST, "no free generation name", str(root))


@contextmanager
def building(root: Path) -> Iterator[Path]:
    """A new generation to write into; on any failure it is removed, and OSError made clean."""
    try:
        folder = new_generation(root)
    except OSError as ex:
        raise write_failure(root, ex) from None
    try:
        yield folder
    except (OSError, RuntimeError) as ex:  # faiss reports a failed write as RuntimeError
        shutil.rmtree(folder, ignore_errors=True)
        raise write_failure(root, ex) from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def publish(root: Path, building: Path) -> Path:
    """Make a fully written generation live, then remove the ones it replaces."""
    final = root / building.name.removeprefix(".building-")
    _fsync_tree(building)
    os.replace(building, final)
    adopt_legacy(root)  # an older qa's unmarked generations go with the stale ones below
    try:
        write_atomic(root / CURRENT, final.name + "\n")  # the one step that switches readers over
    except OSError:
        shutil.rmtree(final, ignore_errors=True)
        raise
    remove_stale(root, keep=final.name)
    return final


def write_atomic(path: Path, text: str) -> None:
    """Replace a small file whole: a temporary file, fsync, one rename, fsync of the folder."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        _fsync_file(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def remove_stale(root: Path, keep: str) -> None:
    """Delete generations qa wrote and no longer needs (never the live one, never a
    folder without qa's mark), and temporary files of killed runs."""
    for child in root.iterdir():
        if child.name != keep and not child.is_symlink() and child.is_dir() and is_generation(child):
            shutil.rmtree(child, ignore_errors=True)
        elif _OWN_TEMPORARY.fullmatch(child.name) and child.is_file() and not child.is_symlink():
            child.unlink(missing_ok=True)


def adopt_legacy(root: Path) -> None:
    """Mark the generations an older qa wrote without a mark, so they go once replaced: a
    gen-* folder holding qa's manifest is qa's (also when CURRENT no longer names it)."""
    unmarked = [c for c in generations_in(root) if not is_generation(c)]
    for folder in unmarked:
        if _GENERATION_NAME.fullmatch(folder.name) and _qa_manifest(folder):
            (folder / GENERATION_MARK).write_text(MARK_TEXT, encoding="utf-8")


def holds_generation(root: Path) -> bool:
    """True when a generation qa wrote is in `root`: a folder (not a link) with qa's mark, or
    a gen-* folder holding qa's manifest (an older qa's, unmarked). Raises OSError when
    `root` cannot be listed. What makes CURRENT and sources.json beside it qa's own."""
    return any(
        is_generation(c) or (_GENERATION_NAME.fullmatch(c.name) is not None and _qa_manifest(c))
        for c in generations_in(root)
    )


def current_is_qas(root: Path) -> bool:
    """True when INDEX/CURRENT is qa's to replace: a generation qa wrote is beside it, or it
    names one by the name qa gives (names_qa_generation)."""
    return _may_hold_generation(root) or names_qa_generation(root)


def names_qa_generation(root: Path) -> bool:
    """INDEX/CURRENT, a plain file, names a generation by qa's naming (its generations
    deleted by hand: the repair rebuilds)."""
    pointer = root / CURRENT
    if pointer.is_symlink() or not pointer.is_file():
        return False
    try:
        return _QA_NAME.fullmatch(_pointer(root).decode("ascii").strip()) is not None
    except (OSError, UnicodeDecodeError):
        return False


def _pointer(root: Path) -> bytes:
    """CURRENT's bytes, one more than MAX_CURRENT_BYTES at most (more says it is no pointer)."""
    with (root / CURRENT).open("rb") as fh:
        return fh.read(MAX_CURRENT_BYTES + 1)


def _not_qas(root: Path) -> IndexNotFoundError:
    return IndexNotFoundError(
        f"no index at {root}: its {CURRENT} file is not one qa wrote; give an index folder "
        f"with --index, or build one elsewhere with `qa index PATH --index NEW_FOLDER`"
    )


def _may_hold_generation(root: Path) -> bool:
    try:
        return holds_generation(root)
    except OSError:
        return True  # unlistable: say it is damaged, as before, rather than guess it is not qa's


def _qa_manifest(folder: Path) -> bool:
    try:
        with (folder / MANIFEST).open("rb") as fh:
            manifest = jsonl.loads(fh.read(MAX_MANIFEST_PEEK).decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(manifest, dict) and {"format_version", "model_fingerprint", "files"} <= set(manifest)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    _fsync_file(path)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        _fsync_file(path)
    _fsync_dir(folder)
