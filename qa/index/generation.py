"""The one owner of a generation's format: its manifest, file checksums, and checks on open.

write_generation checksums a built generation's files, writes manifest.json and publishes
it (folder.publish); read_manifest, check_format, check_model and verify_index are what a
reader trusts before it opens one (passage_index.py). The file names are qa/layout.py's.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa import jsonl
from qa.config import FORMAT_VERSION, TORCH, IndexSettings
from qa.encode.embedder import Embedder, backend_of
from qa.errors import IndexCorruptError, IndexMismatchError
from qa.layout import CATALOG_FILE, GENERATION_MARK, MANIFEST

from . import folder as index_folder
from .maintenance import Part, segment_entries


def build_manifest(
    parts: list[Part],
    embedder: Embedder,
    settings: IndexSettings,
    sources: Sequence[str],
    choice: dict[str, Any],
    started: float,
) -> dict[str, Any]:
    """Everything a reader needs to trust an index: format, model, settings, segments, counts."""
    entries, counts, dates = segment_entries(parts)
    return {
        "format_version": FORMAT_VERSION,
        "model": embedder.name,
        "model_fingerprint": embedder.fingerprint,
        "dim": embedder.dim,
        "backend": backend_of(embedder),
        "device": device_entry(embedder),
        "settings": settings.to_dict(),
        "sources": list(sources),
        "counts": counts,
        "date_range": dates,
        "dense": choice,
        "segments": entries,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": round(time.perf_counter() - started, 3),
    }


def device_entry(embedder: Embedder) -> dict[str, Any]:
    """Where the passages were embedded: the device, and on a GPU how close its probe
    vectors came to the CPU's (encode/devices.py)."""
    device = str(getattr(embedder, "embedded_on", None) or getattr(embedder, "device", "cpu"))
    agreement = getattr(embedder, "agreement", None)
    return {"name": device} if agreement is None else {"name": device, "min_cosine_to_cpu": agreement}


def write_generation(root: Path, building: Path, manifest: dict[str, Any], previous: Path | None) -> Path:
    """Checksum the new generation's files (a file hard-linked from the previous generation keeps
    its checksum), write its manifest and switch to it atomically."""
    known = {}
    if previous is not None:
        known = json.loads((previous / MANIFEST).read_text(encoding="utf-8")).get("files", {})
    manifest["files"] = file_checksums(building, unchanged_from=previous, known=known)
    (building / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return index_folder.publish(root, building)


MAX_MANIFEST_BYTES = 1 << 30  # about 2,000 bytes per article: room for 500k articles


# What every reader of a manifest relies on, with its JSON type (bool is refused as a number).
MANIFEST_KEYS: dict[str, type | tuple[type, ...]] = {
    "model": str,
    "model_fingerprint": str,
    "dim": int,
    "settings": dict,
    "counts": dict,
    "files": dict,
    "sources": list,
}


READABLE_VERSIONS = (2, FORMAT_VERSION)  # 2: one generation of files, before segments (issue 16)


def read_manifest(folder: Path, root: Path) -> dict[str, Any]:
    """The manifest of a generation, checked for this qa's format version."""
    try:
        with (folder / MANIFEST).open("rb") as fh:
            manifest = jsonl.loads(fh.read(MAX_MANIFEST_BYTES).decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as ex:
        raise IndexCorruptError(
            f"the manifest of the index at {root} is unreadable ({str(ex)[:200]}); "
            f"{index_folder.repair_hint(root)}"
        ) from None
    if not isinstance(manifest, dict):
        raise IndexCorruptError(
            f"the manifest of the index at {root} is not a JSON object; {index_folder.repair_hint(root)}"
        )
    check_format(manifest, root)
    wrong = [key for key, kind in MANIFEST_KEYS.items() if not isinstance(manifest.get(key), kind)]
    if wrong:
        raise IndexCorruptError(
            f"the manifest of the index at {root} lacks {', '.join(wrong)} (or holds the wrong type); "
            f"{index_folder.repair_hint(root)}"
        )
    return manifest


def verify_index(root: Path | str) -> tuple[Path, list[str], list[str]]:
    """Hash every file of the live generation: (folder, files checked, files missing or changed)."""
    root = Path(root)
    folder = index_folder.live_generation(root)
    expected = read_manifest(folder, root).get("files") or {}
    return folder, sorted(expected), check_files(folder, expected, deep=True)


def check_format(manifest: dict[str, Any], root: Path) -> None:
    found = manifest.get("format_version")
    if found not in READABLE_VERSIONS:
        raise IndexMismatchError(
            f"index at {root} has format version {found}, this qa reads version "
            f"{FORMAT_VERSION}; rebuild it with `qa index --rebuild --index {index_folder.shell_path(root)}`"
        )


def check_model(manifest: dict[str, Any], embedder: Embedder, root: Path) -> None:
    """Refuse to mix vectors of two models (or two dimensions) in one search."""
    built = (manifest.get("model"), manifest.get("model_fingerprint"), manifest.get("dim"))
    wanted = (embedder.name, embedder.fingerprint, embedder.dim)
    if built != wanted:
        raise IndexMismatchError(
            f"index at {root} was built with model {built[0]} (weights {built[1]}, dim {built[2]}), "
            f"but the model here is {wanted[0]} (weights {wanted[1]}, dim {wanted[2]}); "
            f"rebuild it with `qa index --rebuild --index {index_folder.shell_path(root)}`"
        )
    built_with, here = manifest_backend(manifest), backend_of(embedder)
    if built_with != here:
        raise IndexMismatchError(
            f"index at {root} was built with backend {built_with}, but questions here are encoded "
            f"with {here}; their vectors differ slightly and must not be mixed. Search it with "
            f"backend {built_with}, or rebuild it with "
            f"`qa index --rebuild --backend {here} --index {index_folder.shell_path(root)}`"
        )


def article_places(root: Path) -> list[str]:
    """Where the live index's articles were read from ("file" or "file:line"), from the small
    catalogs of its segments (or the manifest of an index from before segments)."""
    from .segments import read_deleted

    folder = index_folder.live_generation(root)
    manifest = read_manifest(folder, root)
    if "segments" not in manifest:
        articles = manifest.get("articles") or {}
        return [str(a.get("path") or "") for a in articles.values() if isinstance(a, dict)]
    places = []
    for entry in manifest["segments"]:
        catalog = json.loads((folder / entry["name"] / CATALOG_FILE).read_text(encoding="utf-8"))
        dead = set(read_deleted(folder / entry["name"])["articles"])
        found = zip(catalog["ids"], catalog.get("paths", []), strict=False)
        places += [str(path or "") for aid, path in found if aid not in dead]
    return places


def manifest_backend(manifest: dict[str, Any]) -> str:
    """The backend an index was built with (indexes from before backends existed: torch)."""
    return str(manifest.get("backend") or TORCH)


def file_checksums(
    folder: Path, unchanged_from: Path | None = None, known: dict[str, dict[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """sha256, size and modification time of every file in a generation except the manifest and
    qa's mark.

    A file that is the very file (same inode: a hard link) of the same name in the generation
    `unchanged_from` keeps its entry in `known`, that generation's checksums, unread: the writer
    checked it on opening that generation (check_files, by_time), so only its time is taken anew.
    """
    sums = {}
    skip = (MANIFEST, GENERATION_MARK)
    for file in sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in skip):
        name, stat = file.relative_to(folder).as_posix(), file.stat()
        before = unchanged_from / name if unchanged_from is not None else None
        if known and name in known and before is not None and before.exists() and before.samefile(file):
            sums[name] = {**known[name], "mtime_ns": stat.st_mtime_ns}
        else:
            sums[name] = {"size": stat.st_size, "sha256": _sha256(file), "mtime_ns": stat.st_mtime_ns}
    return sums


def check_files(
    folder: Path, expected: dict[str, dict[str, Any]], deep: bool, by_time: bool = False
) -> list[str]:
    """Names of files that are missing, of the wrong size, or of the wrong hash.

    deep hashes every file (`qa index --verify`); by_time hashes only a file whose modification
    time is not the one recorded (a writer's check: a stat per file while nothing was written,
    which finds an overwrite of the same size that the size check of `qa ask` cannot).
    """
    bad = []
    for name, info in expected.items():
        file = folder / name
        stat = file.stat() if file.is_file() else None
        if stat is None or stat.st_size != info["size"]:
            bad.append(name)
            continue
        moved = info.get("mtime_ns", stat.st_mtime_ns) != stat.st_mtime_ns
        if (deep or (by_time and moved)) and _sha256(file) != info["sha256"]:
            bad.append(name)
    return bad


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
