"""The on-disk layout of an index folder and its atomic generation switch.

    index/CURRENT          name of the live generation (replaced atomically)
    index/gen-<stamp>/     manifest.json, articles.jsonl, passages.jsonl, dense.faiss, bm25/
    index/.lock            held (flock) by the one writer at a time; readers never take it

A writer builds a complete new generation beside the live one, fsyncs it, then
replaces CURRENT in one rename. Killing it at any moment leaves the old index live.
No pickle anywhere: JSON, JSON lines, numpy/faiss native formats.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import IndexCorruptError, IndexNotFoundError

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
LOCK = ".lock"
log = logging.getLogger(__name__)


def live_generation(root: Path) -> Path:
    """The folder of the live generation, or IndexNotFoundError."""
    pointer = root / CURRENT
    if not pointer.is_file():
        raise IndexNotFoundError(f"no index at {root}; build one with `qa index PATH --index {root}`")
    folder = root / pointer.read_text(encoding="utf-8").strip()
    if not (folder / MANIFEST).is_file():
        raise IndexCorruptError(
            f"{pointer} names {folder.name}, which has no manifest; "
            f"rebuild with `qa index --rebuild --index {root}`"
        )
    return folder


def exists(root: Path) -> bool:
    return (root / CURRENT).is_file()


@contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """Hold INDEX/.lock exclusively: a second writer waits here, so writes never interleave.

    Without it, one writer's publish would delete the other's half-built generation.
    The kernel drops the lock when its holder dies, even by SIGKILL.
    """
    import fcntl

    root.mkdir(parents=True, exist_ok=True)
    with (root / LOCK).open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("waiting for another qa index to finish writing %s (lock %s)", root, root / LOCK)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def new_generation(root: Path) -> Path:
    """An empty folder for a generation that is not live yet."""
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    folder = root / f".building-gen-{stamp}"
    folder.mkdir()
    return folder


def publish(root: Path, building: Path) -> Path:
    """Make a fully written generation live, then remove the ones it replaces."""
    final = root / building.name.removeprefix(".building-")
    _fsync_tree(building)
    os.replace(building, final)
    tmp = root / f".{CURRENT}.tmp-{os.getpid()}"
    tmp.write_text(final.name + "\n", encoding="utf-8")
    _fsync_file(tmp)
    os.replace(tmp, root / CURRENT)  # the one atomic step that switches readers over
    _fsync_dir(root)
    remove_stale(root, keep=final.name)
    return final


def remove_stale(root: Path, keep: str) -> None:
    """Delete old generations and leftovers of killed builds (never the live one)."""
    for child in root.iterdir():
        stale = child.name.startswith(("gen-", ".building-gen-")) and child.name != keep
        if stale and child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        elif child.name.startswith(f".{CURRENT}.tmp-"):
            child.unlink(missing_ok=True)


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def file_checksums(folder: Path) -> dict[str, dict[str, Any]]:
    """sha256 and size of every file in a generation except the manifest."""
    sums = {}
    for file in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
        sums[file.relative_to(folder).as_posix()] = {"size": file.stat().st_size, "sha256": _sha256(file)}
    return sums


def check_files(folder: Path, expected: dict[str, dict[str, Any]], deep: bool) -> list[str]:
    """Names of files that are missing, of the wrong size, or (deep) of the wrong hash."""
    bad = []
    for name, info in expected.items():
        file = folder / name
        wrong_size = not file.is_file() or file.stat().st_size != info["size"]
        if wrong_size or (deep and _sha256(file) != info["sha256"]):
            bad.append(name)
    return bad


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
