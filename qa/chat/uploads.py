"""Files uploaded in the chat: checked, copied under a safe name, then indexed.

Only article types are taken, each under a size limit; a file name is reduced to
plain characters so that no upload can land outside the upload folder. Indexing
adds to the existing index (nothing else is dropped) and embeds only the new text.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.encode.embedder import Embedder, Progress
from qa.errors import QAError
from qa.index.build import BuildResult, index_paths
from qa.index.generation import article_places
from qa.text.articles import Problem
from qa.text.ingest import load_articles
from qa.text.readers import SUPPORTED

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_FILES = 50
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# What _put sets aside, by process: .NAME.previous-PID, .NAME.part-PID
_ASIDE = re.compile(r"\.(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\.(?P<kind>previous|part)-(?P<pid>\d{1,10})")


@dataclass(frozen=True, slots=True)
class UploadResult:
    """What an upload did: the files kept, the files refused (with reasons), the index report."""

    saved: tuple[Path, ...]
    problems: tuple[Problem, ...]
    build: BuildResult | None = None

    def summary(self) -> str:
        """One paragraph for the person who uploaded."""
        lines = []
        if self.build:
            r = self.build.report
            lines.append(
                f"Indexed {len(self.saved)} file(s): {r.added} added, {r.updated} updated, "
                f"{r.unchanged} unchanged ({r.embedded} passage{'' if r.embedded == 1 else 's'} embedded). "
                f"The index now holds {r.articles:,} articles, {r.passages:,} passages."
            )
        problems = [*self.problems, *(self.build.problems if self.build else ())]
        lines += [f"{'Rejected' if p.level == 'error' else 'Note'}: {p}" for p in problems]
        return "\n".join(lines) or "Nothing was uploaded."


def safe_name(name: str) -> str:
    """A file name that is only letters, digits, '.', '_' and '-', and never hidden.

    Example: "../../etc/passwd.txt" -> "passwd.txt"; "Été 2024.md" -> "Ete_2024.md"
    """
    base = re.split(r"[\\/]", str(name))[-1]
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE.sub("_", ascii_name).strip("._-") or "upload"
    stem, dot, ext = cleaned.rpartition(".")
    if not dot:
        return cleaned[:100]
    return f"{stem[: 99 - len(ext)] or 'upload'}.{ext}"  # 100 characters at most


def check_upload(name: str, size: int) -> str | None:
    """Why a file cannot be taken, or None when it can."""
    ext = os.path.splitext(name)[1].lower()
    if ext not in SUPPORTED:
        return f"type {ext or '(none)'} is not an article file; use {' '.join(SUPPORTED)}"
    if size > MAX_UPLOAD_BYTES:
        return f"{size:,} bytes is over the {MAX_UPLOAD_BYTES:,}-byte upload limit; split it"
    if size == 0:
        return "the file is empty"
    return None


def save_uploads(files: Sequence[Path | str], folder: Path) -> tuple[list[Path], list[Problem]]:
    """Copy acceptable files into `folder` under safe names; refuse the rest with a reason.

    A file keeps its (cleaned) name, so uploading a file again replaces the earlier copy
    and re-indexing updates that article instead of adding a second one. A file replaces
    nothing until it is known to hold an article (an unreadable re-upload must not take
    the earlier one's article with it), and the earlier copy waits aside (`.NAME.previous-PID`)
    until the new one is indexed: see add_uploads.
    """
    folder.mkdir(parents=True, exist_ok=True)
    root = folder.resolve()
    _sweep(root)
    saved: list[Path] = []
    problems: list[Problem] = []
    for i, source in enumerate(map(Path, files)):
        shown = safe_name(source.name)
        reason = _refusal(i, source, shown, root, saved) or unreadable(source, shown)
        if reason is None:
            reason = _put(source, root / shown)
        if reason:
            problems.append(Problem(shown, reason))
        else:
            saved.append(root / shown)
    return saved, problems


def _refusal(i: int, source: Path, shown: str, root: Path, saved: list[Path]) -> str | None:
    if i >= MAX_UPLOAD_FILES:
        return f"over the limit of {MAX_UPLOAD_FILES} files per upload"
    reason = check_upload(source.name, source.stat().st_size if source.is_file() else 0)
    if reason is None and (root / shown).resolve().parent != root:
        reason = "the file name is not allowed"
    # "a b.txt" and "a_b.txt" both clean to a_b.txt; Fest.md and fest.md are one file on macOS
    if reason is None and shown.casefold() in {p.name.casefold() for p in saved}:
        reason = f"another file of this upload is also saved as {shown}; rename one of them"
    return reason


def unreadable(source: Path, shown: str) -> str | None:
    """Why the file yields no article, read on its own as indexing would read it; None if it does."""
    try:
        with tempfile.TemporaryDirectory(prefix="qa-upload-") as private:
            copy = Path(private) / shown
            shutil.copyfile(source, copy)
            loaded = load_articles([copy])
            if any(True for _ in loaded):
                return None
            return "; ".join(p.message for p in loaded.problems) or "no article in it"
    except OSError as ex:  # the upload vanished, or no room to read it
        return f"could not be read ({ex.strerror})"


def _put(source: Path, target: Path) -> str | None:
    """Copy `source` to `target` whole, an earlier `target` kept aside too (a second link to
    it, so that `target` is never missing); a reason on failure."""
    partial, aside = target.with_name(f".{target.name}.part-{os.getpid()}"), previous(target)
    try:
        shutil.copyfile(source, partial)
        if target.is_file():
            aside.unlink(missing_ok=True)
            _link_or_copy(target, aside)
        os.replace(partial, target)
    except OSError as ex:  # this file is not kept, the earlier one stays; the others still are
        partial.unlink(missing_ok=True)
        aside.unlink(missing_ok=True)
        fix = "; free some disk space" if ex.errno in (errno.ENOSPC, errno.EDQUOT) else ""
        return f"could not be saved ({ex.strerror}){fix}"
    return None


def _link_or_copy(path: Path, to: Path) -> None:
    try:
        os.link(path, to)
    except OSError:  # a file system without hard links
        shutil.copy2(path, to)


def _sweep(root: Path) -> None:
    """Leftovers of an upload whose process died part-way: an earlier file kept aside goes
    back if its name is empty, else goes (the new file was read before it was put there).
    Only qa's own names, and only of dead processes: another app may be uploading now."""
    for child in root.iterdir():
        found = _ASIDE.fullmatch(child.name)
        if not found or child.is_symlink() or not child.is_file() or _alive(int(found["pid"])):
            continue
        target = root / found["name"]
        if found["kind"] == "previous" and not target.exists():
            os.replace(child, target)
        else:
            child.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process
    return True


def add_uploads(
    files: Sequence[Path | str],
    folder: Path,
    index_dir: Path,
    *,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> UploadResult:
    """Save the uploaded files and add their articles to the index at `index_dir`."""
    saved, problems = save_uploads(files, folder)
    if not saved:
        return UploadResult((), tuple(problems))
    try:
        build = index_paths(saved, index_dir, embedder=embedder, keep_others=True, progress=progress)
    except QAError as ex:
        for path in saved:  # nothing from them was indexed: do not keep them around
            give_back(path)
        names = ", ".join(p.name for p in saved)
        return UploadResult((), (*problems, Problem(names, str(ex).replace(str(folder), "uploads"))))
    unused = unread(saved, index_dir)
    for path in saved:
        if path in unused:  # no article came from it: keeping it would report it on every run
            give_back(path)
        else:
            previous(path).unlink(missing_ok=True)
    # Name files as the person knows them, not by where the server keeps them.
    read = tuple(Problem(Path(p.path).name, p.message, p.line, p.level) for p in build.problems)
    kept = tuple(p for p in saved if p not in unused)
    return UploadResult(kept, tuple(problems), BuildResult(build.report, read))


def previous(path: Path) -> Path:
    """Where an upload's earlier file of the same name waits while the new one is indexed."""
    return path.with_name(f".{path.name}.previous-{os.getpid()}")


def give_back(path: Path) -> None:
    """Drop a refused upload, and put back the earlier file of its name: a re-upload that
    cannot be read must not take the article it replaced with it."""
    if previous(path).is_file():
        os.replace(previous(path), path)
    else:
        path.unlink(missing_ok=True)


def unread(saved: Sequence[Path], index_dir: Path) -> list[Path]:
    """The saved files that no article of the live index was read from."""
    places = article_places(index_dir)
    return [p for p in saved if not any(w == str(p) or w.startswith(f"{p}:") for w in places)]
