"""Daily additions to a large index (1M passages by default) cost what they add (issue 16).

    python benchmarks/daily_additions.py [--index benchmarks/out/index-memory/index-1000000] [--rounds 3]

The index is the 1M-passage one benchmarks/index_memory.py builds with the stand-in model
(--keep). Every step is the real `qa index` command in a child process (stand_in.py); the
figure compared is the time inside the command (`seconds`: reading, splitting, embedding
with the stand-in, writing, publishing), since starting Python and importing qa is the
same for all; the child's wall and CPU time are kept too. Rounds rotate the order of:

- alone:  `qa index NEW100 --index FRESH`: the 100 new articles into an empty index;
- add:    `qa index --add NEW100 --index BIG`: the same 100 articles added to the 1M index;
- remove: `qa index --remove ID x100 --index BIG`: the 100 taken out again.

Then, once: 5 additions in a row (small segments pile up and merge, maintenance.TIER), the
removal of 100 articles of the archive itself (rows deleted in old segments), their
re-addition (their vectors are found by key in the deleted rows: nothing embedded), and a
`qa index` of the whole archive with nothing changed (it reads every article).
"""

from __future__ import annotations

import json
import random
import shutil
import time
from pathlib import Path
from typing import Any

import bench
import stand_in

bench.on_path()
OUT = bench.OUT / "daily-additions"
BIG = bench.OUT / "index-memory" / "index-1000000"
DOC = bench.DOCS / "scaling.md"
HEADING = "## Daily additions and removals in a large index (issue 16)"


def new_articles(folder: Path, tag: str, count: int = 100, seed: int = 0) -> list[str]:
    """`count` SciFact abstracts as new articles (new ids and titles: nothing to reuse)."""
    rows = [json.loads(line) for line in stand_in.SCIFACT.open(encoding="utf-8")]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    picked = random.Random(seed).sample(rows, count)
    with (folder / "new.jsonl").open("w", encoding="utf-8") as fh:
        for row in picked:
            record = {**row, "id": f"{tag}-{row['id']}", "title": f"{row['title']} ({tag})"}
            fh.write(json.dumps(record) + "\n")
    return [f"{tag}-{row['id']}" for row in picked]


def step(label: str, args: list[str]) -> dict[str, Any]:
    before = bench.load_line()
    found = stand_in.run_qa_index(args)
    row = {"step": label, **found, "load": before}
    print(
        f"{label}: {found['seconds']:.2f} s in the command ({found['wall_s']:.1f} s wall, load {before})",
        flush=True,
    )
    return row


def removing(ids: list[str]) -> list[str]:
    return [arg for i in ids for arg in ("--remove", i)]


def rounds(big: Path, count: int) -> list[dict[str, Any]]:
    ids = new_articles(OUT / "new", "new")
    fresh = OUT / "fresh"

    def alone() -> dict[str, Any]:
        shutil.rmtree(fresh, ignore_errors=True)
        return step("alone", [str(OUT / "new"), "--index", str(fresh)])

    steps = {
        "alone": alone,
        "add": lambda: step("add", ["--add", str(OUT / "new"), "--index", str(big)]),
        "remove": lambda: step("remove", [*removing(ids), "--index", str(big)]),
    }
    rows = []
    for r in range(count):
        order = ["alone", "add", "remove"] if r % 2 == 0 else ["add", "remove", "alone"]
        rows += [{**steps[name](), "round": r + 1} for name in order]
    return rows


def once(big: Path, source: Path | None) -> list[dict[str, Any]]:
    """The steps run once; without `source` (a synthesized index has no corpus to read again)
    the re-addition and the whole-archive run are left out."""
    rows = []
    days = [new_articles(OUT / f"day{d}", f"day{d}", seed=d + 1) for d in range(5)]
    for d in range(5):
        rows.append(
            step(f"addition {d + 1} of 5 in a row", ["--add", str(OUT / f"day{d}"), "--index", str(big)])
        )
    removed = [i for day in days for i in day]
    rows.append(step("removal of those 500", [*removing(removed), "--index", str(big)]))
    if source is None:
        from qa.index.passage_index import PassageIndex

        present = sorted(a for a in PassageIndex.load(big).articles if "~" in a)
        old = random.Random(9).sample(present, 100)
        rows.append(step("removal of 100 archive articles", [*removing(old), "--index", str(big)]))
        return rows
    present = [
        json.loads(line)["id"] for shard in sorted(source.glob("*.jsonl"))[-2:] for line in shard.open()
    ]
    old = random.Random(9).sample(present, 100)  # spread over the last segments
    rows.append(step("removal of 100 archive articles", [*removing(old), "--index", str(big)]))
    keep = OUT / "readd"
    shutil.rmtree(keep, ignore_errors=True)
    keep.mkdir()
    wanted = set(old)
    with (keep / "back.jsonl").open("w", encoding="utf-8") as fh:
        for shard in sorted(source.glob("*.jsonl")):
            fh.writelines(line for line in shard.open(encoding="utf-8") if json.loads(line)["id"] in wanted)
    rows.append(
        step("re-addition of those 100 (vectors found by key)", ["--add", str(keep), "--index", str(big)])
    )
    rows.append(step("whole archive again, nothing changed", [str(source), "--index", str(big)]))
    return rows


def section(found: dict[str, Any]) -> str:
    by: dict[str, list[float]] = {}
    for row in found["rounds"]:
        by.setdefault(row["step"], []).append(row["seconds"])
    alone = sorted(by["alone"])[len(by["alone"]) // 2]
    lines = [
        HEADING,
        "",
        f"`benchmarks/daily_additions.py` on {found['machine']}, {found['date']}, "
        f"commit `{found['commit']}`: the "
        "real `qa index` with the stand-in model on "
        + (
            "an index tiled from a built SciFact index by stand_in.synthesize "
            "(its texts and vectors repeated, no splitting) "
            if found.get("synthesized")
            else "the 1M-passage index of benchmarks/index_memory.py "
        )
        + f"({found['passages']:,} passages, {found['segments']} segments). Seconds inside the command "
        "(median of the rounds; every round's figures in benchmarks/out/daily-additions/results.json).",
        "",
    ]
    per_round = []
    for name, goal in (("alone", ""), ("add", "<= 3x"), ("remove", "<= 3x")):
        median = sorted(by[name])[len(by[name]) // 2]
        each = ", ".join(f"{v:.2f}" for v in by[name])
        per_round.append([name, f"{median:.2f}", each, f"{median / alone:.2f}x", goal])
    once_rows = [
        [r["step"], f"{r['seconds']:.2f}", f"{r['seconds'] / alone:.2f}x", r["report"]["embedded"], r["load"]]
        for r in found["once"]
    ]
    lines += [
        *bench.md_table(
            ["step", "seconds (median)", "each round", "x indexing the 100 alone", "goal"], per_round
        ),
        "",
        "Once each, in this order:",
        "",
        *bench.md_table(["step", "seconds", "x alone", "embedded", "load"], once_rows),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = bench.parser(__doc__)
    parser.add_argument("--index", type=Path, default=BIG)
    parser.add_argument(
        "--corpus", type=Path, default=BIG.parent / "corpus-1000000", help="what --index holds"
    )
    parser.add_argument(
        "--synthesize",
        type=Path,
        metavar="BASE",
        help="a missing --index is tiled to --size passages from the built index BASE (stand_in.synthesize: "
        "no splitting; the re-addition and whole-archive steps are left out)",
    )
    parser.add_argument("--size", type=int, default=1_000_000, help="passages of a --synthesize index")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from qa import layout

    OUT.mkdir(parents=True, exist_ok=True)
    saved = OUT / "results.json"
    if not args.write_docs or not saved.is_file():
        if args.synthesize and not (args.index / layout.CURRENT).is_file():
            print(
                # the stand-in's fingerprint and backend: the index it may add to (a base index of
                # another backend would otherwise be recorded, and every --add refused)
                stand_in.synthesize(
                    args.size,
                    args.synthesize,
                    args.index,
                    fingerprint="stand-in",
                    backend=stand_in.StandIn.backend,
                ),
                flush=True,
            )
        live = args.index / (args.index / layout.CURRENT).read_text().strip()
        manifest = json.loads((live / layout.MANIFEST).read_text())
        found = {
            "machine": bench.machine_line(),
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "commit": bench.commit(),
            "passages": manifest["counts"]["passages"],
            "segments": len(manifest["segments"]),
            "rounds": rounds(args.index, args.rounds),
            "once": once(args.index, None if args.synthesize else args.corpus),
            "synthesized": bool(args.synthesize),
        }
        saved.write_text(json.dumps(found, indent=1))
    text = section(json.loads(saved.read_text()))
    print(text)
    if args.write_docs:
        bench.write_section(DOC, HEADING, text, title="# Scaling")


if __name__ == "__main__":
    main()
