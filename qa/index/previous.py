"""What a `qa index` run starts from and what it does to each article (update.py runs it).

Previous opens the live generation for writing: its segments, their deletions, and a
catalog of where each live article is (segment, content hash, rows), read from the
segments' small catalog files, never from their texts or vectors. Plan sorts the incoming
stream: an unchanged article stays where it is, a new or changed one is written anew, and
the rows of changed and removed ones are marked deleted in the linked segments (an --add's id
clash: id_clash.py). A segment with a file changed since it was written (damage.py) is not
linked: its articles are written anew, so no run publishes a damaged file again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa import jsonl
from qa.config import IndexSettings
from qa.encode.embedder import Embedder
from qa.errors import IndexCorruptError, IndexMismatchError
from qa.layout import ALSO_IN_FILE, ARTICLES_FILE, DELETED_FILE
from qa.text.articles import Article

from . import dense as dense_index
from . import folder as index_folder
from .damage import Damage
from .generation import check_model, read_manifest
from .id_clash import Paths, own_id
from .maintenance import Part
from .passage_index import PassageIndex
from .records import article_from_row
from .segments import KeyTable, Segment, link, read_deleted
from .vectors import key_bytes

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IndexReport:
    """What one `qa index` run did."""

    path: str
    added: int
    updated: int
    removed: int
    unchanged: int
    articles: int
    passages: int
    embedded: int
    seconds: float


class Previous:
    """The live generation as a writer needs it: its segments and which article lives where.

    A segment with a damaged file (damage.py) is not kept: its articles are written anew (from
    the run's stream, or from its own articles.jsonl when the run keeps the others), its vectors
    copied while its vector files are intact, else embedded again.
    """

    def __init__(
        self,
        folder: Path,
        manifest: dict[str, Any],
        segments: list[Segment],
        legacy: Any = None,
        damage: Damage | None = None,
    ):
        self.folder, self.manifest, self.segments, self.legacy = folder, manifest, segments, legacy
        self.damage = damage or Damage((), frozenset())
        self.broken = [s for s in segments if s.name in self.damage.segments]  # rewritten, not linked
        self.catalog: dict[str, tuple[int, str, int, int]] = {}  # id -> (segment, hash, first row, rows)
        self.hashes: dict[str, str] = {}
        for k, segment in enumerate(segments):
            if not self.damage.knows_articles(segment.name):
                continue  # which articles it held is lost: a stream that has them adds them anew
            for aid, digest, first, count in live_articles(segment):
                self.hashes[aid] = digest
                if segment not in self.broken:
                    self.catalog[aid] = (k, digest, first, count)
        self.passages = int(manifest["counts"]["passages"])
        self.sources: list[Any] = [s for s in segments if self.damage.keeps_vectors(s.name)]
        if legacy is not None:  # an index from before segments: rewritten, its vectors reused
            self.hashes = {a.id: a.content_hash for a in legacy.articles.values()}
            self.sources = [LegacySource(legacy)]

    @classmethod
    def open(
        cls, root: Path, embedder: Embedder, settings: IndexSettings, strict: bool = False
    ) -> Previous | None:
        """The previous index if its vectors can be reused as they are, else None.

        strict (an --add, --remove or upload, which keep the other articles): an index that
        exists but cannot be reused raises instead, since rebuilding from only the new articles
        would silently drop every other article from the index.
        """
        if not index_folder.exists(root):
            return None
        try:
            return cls._read(root, embedder, settings, strict)
        except (IndexMismatchError, IndexCorruptError) as ex:
            if strict:
                raise
            log.warning("re-embedding everything: %s", ex)
            return None

    @classmethod
    def _read(cls, root: Path, embedder: Embedder, settings: IndexSettings, strict: bool) -> Previous:
        folder = index_folder.live_generation(root)
        manifest = read_manifest(folder, root)
        check_model(manifest, embedder, root)
        try:
            check_settings(manifest, settings, root)
            if "segments" not in manifest:
                return cls(folder, manifest, [], legacy=PassageIndex.load(root))
            names = [str(s["name"]) for s in manifest["segments"]]
            damage = Damage.of_generation(folder, manifest, names)
            damage.check(root, strict)
            # a damaged deleted.json cannot be trusted: that segment's articles are then not read
            segments = [
                Segment(folder / n, read_deleted(folder / n) if damage.knows_articles(n) else None)
                for n in names
            ]
            return cls(folder, manifest, segments, damage=damage)
        except (OSError, ValueError, KeyError, TypeError) as ex:  # a manifest or catalog changed in place
            raise IndexCorruptError(
                f"index at {root} is damaged ({type(ex).__name__}: {str(ex)[:200]}); "
                f"{index_folder.repair_hint(root)}"
            ) from None

    def rewritten(self) -> Iterator[Article]:
        """The indexed articles whose segment is not kept as it is: every article of an index
        from before segments, and the live articles of each damaged segment."""
        if self.legacy is not None:
            yield from self.legacy.articles.values()
        for segment in self.broken:
            dead = set(segment.deleted["articles"])
            for row in jsonl.read(segment.folder / ARTICLES_FILE):
                if row["id"] not in dead:
                    yield article_from_row(row)


def live_articles(segment: Segment) -> Iterator[tuple[str, str, int, int]]:
    """(id, content hash, first row, rows) of each article of a segment not deleted since."""
    dead, c = set(segment.deleted["articles"]), segment.catalog
    for aid, digest, (first, count) in zip(c["ids"], c["hashes"], c["rows"], strict=True):
        if aid not in dead:
            yield aid, digest, first, count


def check_settings(manifest: dict[str, Any], settings: IndexSettings, root: Path) -> None:
    """Refuse to reuse passages split otherwise: their vectors are of other texts."""
    before = IndexSettings.from_dict(manifest["settings"]).to_dict()
    now = settings.to_dict()
    changed = [key for key in now if before.get(key) != now[key]]
    if changed:
        raise IndexMismatchError(
            f"index at {root} was split with {_pairs(before, changed)}, but this run splits with "
            f"{_pairs(now, changed)}; rebuild it with "
            f"`qa index --rebuild --index {index_folder.shell_path(root)}`"
        )


def _pairs(values: dict[str, Any], keys: Sequence[str]) -> str:
    return ", ".join(f"{key}={values.get(key)}" for key in keys)


class LegacySource:
    """Vectors of an index written before segments, found by embedding key."""

    def __init__(self, index: PassageIndex):
        self.index = index
        self.table = KeyTable(np.array([key_bytes(p) for p in index.passages], dtype="S16"))

    def find(self, keys: np.ndarray) -> np.ndarray:
        return self.table.find(keys)

    def vectors(self, rows: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        sentences = [self.index.sentence_vectors_of(int(r)) for r in rows]
        return self.index.dense.reconstruct_batch(rows), sentences


class Plan:
    """Sorts the incoming articles: unchanged ones stay where they are, the rest are written anew."""

    def __init__(self, previous: Previous | None, keep_others: bool, remove: Sequence[str]):
        self.previous, self.keep_others, self.remove = previous, keep_others, set(remove)
        self.catalog = previous.catalog if previous else {}
        self.hashes = previous.hashes if previous else {}
        self.seen: set[str] = set()
        self.paths: Paths = {}  # id_clash.py's reads
        self.dead: dict[int, set[str]] = {}  # segment -> ids of its articles deleted
        self.added = self.updated = self.unchanged = self.removed = self.read = 0

    def fresh(self, articles: Iterable[Article]) -> Iterator[Article]:
        """The articles to write: new and changed ones (and a legacy index's others)."""
        for article in articles:
            if self.keep_others and self.previous:
                article = own_id(article, self.previous, self.paths, self.seen)
            if article.id in self.remove or article.id in self.seen:
                continue
            self.seen.add(article.id)
            before = self.hashes.get(article.id)
            same = before == article.content_hash
            self.added += before is None
            self.updated += before is not None and not same
            self.unchanged += same
            old = self.catalog.get(article.id)
            if old is not None and same:
                continue
            if old is not None:
                self.dead.setdefault(old[0], set()).add(article.id)
            yield article
        if self.keep_others and self.previous is not None:
            for article in self.previous.rewritten():
                if article.id not in self.seen and article.id not in self.remove:
                    self.seen.add(article.id)
                    yield article

    def finish(self) -> None:
        """After the stream: the indexed articles that were not in it (or asked to go) are deleted."""
        gone = set(self.hashes) & self.remove if self.keep_others else set(self.hashes) - self.seen
        for aid in sorted(self.remove - set(self.hashes)):
            log.warning("--remove %s: no indexed article has that id; nothing removed for it", aid)
        self.removed, self.read = len(gone), len(self.seen)
        self.seen = set()  # not needed any more: let a million ids go before the vectors are written
        for aid in gone & set(self.catalog):
            self.dead.setdefault(self.catalog[aid][0], set()).add(aid)

    @property
    def articles(self) -> int:
        kept = len(self.hashes) - self.removed if self.keep_others else 0
        return kept + (self.added if self.keep_others else self.read)

    def kept_parts(self, building: Path) -> list[Part]:
        """The previous segments, linked into the new generation with this run's deletions."""
        parts = []
        entries = self.previous.manifest.get("segments", []) if self.previous else []
        for k, (segment, entry) in enumerate(zip(self.previous.segments if self.previous else [], entries)):
            if self.previous and segment in self.previous.broken:
                continue  # its articles are in new segments
            now_dead = sorted(self.dead.get(k, ()))
            rows = [r for aid in now_dead for r in range(self.catalog[aid][2], sum(self.catalog[aid][2:]))]
            dead = {
                "articles": [*segment.deleted["articles"], *now_dead],
                "rows": sorted([*segment.deleted["rows"], *rows]),
            }
            folder = building / segment.name
            link(segment.folder, folder, skip=(DELETED_FILE,))
            if dead["articles"]:
                (folder / DELETED_FILE).write_text(json.dumps(dead), encoding="utf-8")
            unchanged = entry if not now_dead and "dates" in entry else None  # its counts still hold
            part = Part(Segment(folder, dead), new=False, kind=entry["dense"], entry=unchanged)
            parts.append(part)
        return parts

    def nothing_changed(self, sources: Sequence[str], choice: dict[str, Any], parts: list[Part]) -> bool:
        assert self.previous is not None
        manifest = self.previous.manifest
        same_dense = manifest.get("dense", dense_index.FLAT) == choice
        fresh = any(p.new for p in parts) or self.dead or self.previous.legacy is not None
        fresh = fresh or bool(self.previous.damage.files) or self.previous.damage.retimed
        return not fresh and same_dense and list(sources) == manifest.get("sources")

    def also_in(self, found: dict[str, Any], building: Path) -> str | None:
        """Write the places where copies of articles were found (a stream learns them last)."""
        if self.keep_others and self.previous is not None:
            path = self.previous.folder / str(self.previous.manifest.get("also_in") or "")
            if path.is_file():
                older = json.loads(path.read_text(encoding="utf-8"))
                found = {**{k: v for k, v in older.items() if k not in self.remove}, **found}
        if not found:
            return None
        (building / ALSO_IN_FILE).write_text(json.dumps(found, ensure_ascii=False), encoding="utf-8")
        return ALSO_IN_FILE

    def report(self, root: Path, passages: int, embedded: int, started: float) -> IndexReport:
        seconds = round(time.perf_counter() - started, 3)
        return IndexReport(
            str(root),
            self.added,
            self.updated,
            self.removed,
            self.unchanged,
            self.articles,
            passages,
            embedded,
            seconds,
        )

