"""Indexing overhead over the bare model, measured by alternating the two (issue 2).

    python benchmarks/overhead.py [--articles 24] [--rounds 3]

speed.py times a build and the bare model in separate phases; on a machine whose speed
drifts by 10-15% between minutes (shared cores), that cannot resolve a 10% goal. Here each
round runs, back to back in one process with the model loaded: a fresh `index_paths` build
of the seed article plus the first N COVID-QA articles, then `SentenceTransformer.encode`
(batch 32, normalised) on exactly the passage texts that build embedded. Order alternates
by round. The ratio of the two per round is the overhead of everything that is not the model.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import bench

bench.on_path()
from speed_indexing import COVID_JSON, covid_corpus  # noqa: E402

ROOT = bench.ROOT
OUT = bench.OUT / "overhead"


def corpus(articles: int) -> list[Path]:
    """The seed article plus the first N COVID-QA articles (JSONL under benchmarks/out, gitignored)."""
    covid, _ = covid_corpus(COVID_JSON, OUT, limit=articles)
    return [*sorted((ROOT / "seeds").glob("*.txt")), covid]


def build(source: list[Path], embedder: Any, times: dict[str, float]) -> None:
    from qa.index.build import index_paths

    shutil.rmtree(OUT / "index", ignore_errors=True)
    t = time.perf_counter()
    index_paths(source, OUT / "index", embedder=embedder, rebuild=True, split_workers=2)  # as `qa index`
    times["build"] = time.perf_counter() - t


def bare(model: Any, times: dict[str, float]) -> None:
    from qa.index.passage_index import PassageIndex

    texts = [p.embedding_input() for p in PassageIndex.load(OUT / "index").passages]
    t = time.perf_counter()
    model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    times["encode"] = time.perf_counter() - t
    times["passages"] = len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from qa.encode.torch_embed import SentenceTransformerEmbedder

    source = corpus(args.articles)
    embedder = SentenceTransformerEmbedder()
    model = embedder._load()
    model.encode(["warm up"] * 64, batch_size=32)
    ratios = []
    for r in range(args.rounds):
        times: dict[str, float] = {}
        if r % 2 == 0:
            build(source, embedder, times)
            bare(model, times)
        else:  # encode first, on the passages the previous round's build wrote
            bare(model, times)
            build(source, embedder, times)
        ratios.append(times["build"] / times["encode"] - 1)
        print(
            f"round {r + 1}: build {times['build']:.1f} s, encode {times['encode']:.1f} s "
            f"({int(times['passages'])} passages): overhead {ratios[-1] * 100:+.1f} %",
            flush=True,
        )
    print(
        f"overhead: median {statistics.median(ratios) * 100:+.1f} %, "
        f"best {min(ratios) * 100:+.1f} %, worst {max(ratios) * 100:+.1f} %"
    )


if __name__ == "__main__":
    main()
