"""Bulk embedding on a local Ray against the single-process path: same vectors? how fast? A script.

    .venv/bin/python benchmarks/ray_embed_speed.py --passages 400 --actors 2

Takes the first N passages of a built dev index (benchmarks/out/covid/index, read-only) and
embeds them with qa.index.vectors.embed_fresh twice over, in turns: the packaged model in this
process (torch on all cores), then RayEmbedder on a local Ray with one single-CPU actor per
core. Reports the largest difference between the two results and wall-clock passages/s of each
turn; the Ray turn includes starting its actors and loading the model in each, which a long run
pays once.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import bench
import numpy as np
from bench import timed

bench.on_path()
from qa.encode.ray_embed import RayEmbedder  # noqa: E402
from qa.encode.torch_embed import SentenceTransformerEmbedder  # noqa: E402
from qa.index.passage_index import PassageIndex  # noqa: E402
from qa.index.vectors import embed_fresh  # noqa: E402


def index_dir(name: str) -> Path:
    return bench.OUT / name / "index"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="covid")
    parser.add_argument("--passages", type=int, default=400)
    parser.add_argument("--actors", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    import ray

    passages = PassageIndex.load(index_dir(args.corpus)).passages[: args.passages]
    embedder = SentenceTransformerEmbedder()
    embedder.embed(["warm up the model"] * 8)
    init_s, _ = timed(lambda: ray.init(num_cpus=args.actors, include_dashboard=False, log_to_driver=False))
    ray_embedder = RayEmbedder(embedder, actors=args.actors)
    row: dict[str, object] = {"corpus": args.corpus, "passages": len(passages), "actors": args.actors}
    row["ray_init_s"] = round(init_s, 1)
    for turn in range(args.rounds):
        single_s, single = timed(lambda: embed_fresh(passages, embedder, None))
        ray_s, spread = timed(lambda: embed_fresh(passages, ray_embedder, None))
        row[f"single_per_s_{turn}"] = round(len(passages) / single_s, 1)
        row[f"ray_per_s_{turn}"] = round(len(passages) / ray_s, 1)
        row["max_abs_diff_passages"] = float(np.abs(single[0] - spread[0]).max())
        row["max_abs_diff_sentences"] = float(np.abs(single[1] - spread[1]).max())
    ray.shutdown()
    print(json.dumps(row))


if __name__ == "__main__":
    main()
