"""Keeping an index's segments few and clean, at a cost that follows what changed.

Every `qa index` that adds articles adds a segment, and every one that removes or edits
articles marks rows deleted. Before a new generation is published:

- a segment with COMPACT_DEAD of its rows deleted is rewritten without them (vectors,
  sentence vectors and postings copied, nothing embedded or tokenized again);
- segments under the size cap are grouped in tiers of similar size (powers of TIER), and
  when TIER of them share a tier they are merged into one, so a daily addition touches
  ever larger segments ever more rarely (as in Lucene's tiered merging);
- each segment gets the FAISS kind the index size calls for (dense.segment_kind): only a
  segment whose kind changes has its graph built, never the whole index's.
"""

from __future__ import annotations

import json
import math
import shutil
import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

from qa.layout import CATALOG_FILE, DENSE_FILE, SENTENCE_ROWS_FILE

from . import dense as dense_index
from .segments import Segment, rewrite

COMPACT_DEAD = 0.25
TIER = 4


@dataclass
class Part:
    """A segment of the generation being built (its folder there) and what this run did to it."""

    segment: Segment
    new: bool  # written by this run (else hard-linked from the previous generation)
    to_embed: int = 0
    kind: str = "flat"  # the FAISS index written for it
    entry: dict[str, Any] | None = None  # its manifest entry, while nothing of it changed
    _rows: int | None = None

    @property
    def rows(self) -> int:
        if self._rows is None:
            self._rows = self.segment.rows
        return self._rows

    @property
    def live(self) -> int:
        return self.rows - len(self.segment.deleted["rows"])


def maintain(parts: list[Part], choice: dict[str, Any], dim: int, segment_rows: int) -> list[Part]:
    """The parts to publish: emptied segments dropped, sparse ones compacted, small ones
    merged, and each one's FAISS index of the kind `choice` calls for at its size."""
    emptied = [p for p in parts if p.live == 0]
    parts = [p for p in parts if p.live > 0]
    for part in emptied:
        shutil.rmtree(part.segment.folder)
    parts = [_rewritten([p], dim) if p.rows - p.live >= COMPACT_DEAD * p.rows else p for p in parts]
    parts = _merge_tiers(parts, dim, segment_rows)
    for part in parts:
        wanted = dense_index.segment_kind(part.live, choice)
        if wanted != part.kind:
            kind = dense_index.FLAT if wanted == "flat" else choice
            dense_index.convert(part.segment.folder / DENSE_FILE, kind)
            part.kind = wanted
    return parts


def _merge_tiers(parts: list[Part], dim: int, segment_rows: int) -> list[Part]:
    while True:
        tiers: dict[int, list[int]] = {}
        for i, part in enumerate(parts):
            if part.live < segment_rows:
                tiers.setdefault(int(math.log(max(part.live, 1), TIER)), []).append(i)
        group = next((g for g in tiers.values() if len(g) >= TIER), None)
        if group is None:
            return parts
        take: list[int] = []
        for i in sorted(group, key=lambda i: parts[i].live):
            if sum(parts[j].live for j in take) + parts[i].live <= segment_rows:
                take.append(i)
        if len(take) < 2:
            return parts
        take.sort()
        merged = _rewritten([parts[i] for i in take], dim)
        parts = [merged if i == take[0] else p for i, p in enumerate(parts) if i not in take[1:]]


def _rewritten(parts: list[Part], dim: int) -> Part:
    """One new segment holding the live rows of `parts`, whose folders leave the generation."""
    folder = parts[0].segment.folder.parent / new_segment_name()
    rewrite([p.segment for p in parts], folder, dim)
    for part in parts:
        shutil.rmtree(part.segment.folder)
    return Part(Segment(folder), new=True)


def new_segment_name() -> str:
    return f"seg-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"


def segment_entries(parts: list[Part]) -> tuple[list[dict[str, Any]], dict[str, int], list[str] | None]:
    """(the manifest's segment list, live counts, date range of the live articles)."""
    entries = [{**(part.entry or _entry(part)), "dense": part.kind} for part in parts]
    counts = {key: sum(e[key] for e in entries) for key in ("articles", "passages", "sentences")}
    dates = [d for e in entries for d in e["dates"] or ()]
    return entries, counts, [min(dates), max(dates)] if dates else None


def _entry(part: Part) -> dict[str, Any]:
    """A segment's manifest entry, counted from its catalog and sentence rows."""
    segment, dead = part.segment, set(part.segment.deleted["articles"])
    catalog = json.loads((segment.folder / CATALOG_FILE).read_text(encoding="utf-8"))  # not kept
    starts = np.load(segment.folder / SENTENCE_ROWS_FILE)
    live = segment.live_rows()
    dates = [d for a, d in zip(catalog["ids"], catalog["dates"], strict=True) if d and a not in dead]
    return {
        "name": segment.name,
        "rows": part.rows,
        "deleted": part.rows - part.live,
        "articles": len(catalog["ids"]) - len(dead),
        "passages": part.live,
        "sentences": int((starts[live + 1] - starts[live]).sum()),
        "dates": [min(dates), max(dates)] if dates else None,
    }
