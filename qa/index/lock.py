"""The one writer of an index folder at a time: INDEX/.lock, held with flock.

Readers never take it: they keep reading the live generation while a writer builds the
next one beside it (index/folder.py switches over). Before a writer takes it, the folder
is checked to be one qa may write in (check_ours, called by index/build.index_paths
before the model loads), so a refused run leaves nothing of its own in a user's folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qa.errors import IndexWriteError, QAError
from qa.index import folder as index_folder
from qa.index import sources
from qa.layout import CURRENT, LOCK, SOURCES

log = logging.getLogger(__name__)


@contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """Hold INDEX/.lock exclusively: a second writer waits here, so writes never interleave.

    Without it, one writer's publish would delete the other's half-built generation.
    The kernel drops the lock when its holder dies, even by SIGKILL.
    """
    import fcntl

    index_folder.check_folder(root)  # check_ours ran before: index_paths asks it before the model loads
    new = [p for p in (root, *root.parents) if not p.exists()]  # folders this run makes
    try:
        root.mkdir(parents=True, exist_ok=True)
        fh = (root / LOCK).open("a")
    except OSError as ex:
        raise index_folder.write_failure(root, ex) from None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("waiting for another qa index to finish writing %s (lock %s)", root, root / LOCK)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        except QAError:  # a run refused before it wrote anything (no articles there, say):
            _unmake(new)  # the folders it made for the index go again
            raise
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _unmake(folders: list[Path]) -> None:
    """Remove the folders a failed first run made, deepest first, if they hold only its lock."""
    for folder in folders:
        with contextlib.suppress(OSError):
            if [c.name for c in folder.iterdir()] == [LOCK]:
                (folder / LOCK).unlink()
            folder.rmdir()


def check_ours(root: Path) -> None:
    """Refuse to write an index where CURRENT or sources.json are the user's own files.

    qa replaces both whole, so it must know they are its own: they are when a generation
    of qa's is beside them (so a damaged index is still repaired); else CURRENT when it
    names a generation by qa's naming, and sources.json when it is a plain file of the
    shape qa writes (every generation deleted by hand).
    """
    try:
        if not root.is_dir() or index_folder.holds_generation(root):
            return
    except OSError as ex:
        raise index_folder.write_failure(root, ex) from None
    # No generation beside them (checked above), so only what the files themselves say is left.
    ours = {CURRENT: index_folder.names_qa_generation, SOURCES: sources.recorded_by_qa}
    theirs = [name for name, check in ours.items() if os.path.lexists(root / name) and not check(root)]
    if theirs:
        raise IndexWriteError(
            f"{root} holds {' and '.join(theirs)}, which qa did not write, and no index of qa's; "
            "qa never replaces files it did not write: choose another folder with --index "
            "(or $QA_INDEX), or move those files away"
        )
