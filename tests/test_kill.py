"""SIGKILL `qa index` at each stage of a run: the previous index stays live and whole.

The child pauses at a named point (hooks set up by the child script, not the library),
says so on stdout, and is killed there; no timing is involved.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from qa.index import folder as index_folder
from qa.index.build import index_paths
from qa.index.passage_index import PassageIndex

from .conftest import ROOT, HashEmbedder

CHILD = r"""
import os, sys, time
import qa.index.build, qa.index.update, qa.index.folder
from qa.config import IndexSettings
from tests.conftest import HashEmbedder

point, articles, index_dir = sys.argv[1:4]

def pause(name):
    if name == point:
        print(name, flush=True)
        time.sleep(600)  # killed here

real_load, real_publish, real_write = qa.index.build.load_articles, qa.index.folder.publish, qa.index.update.write_generation
real_replace = os.replace

def load_articles(paths, **options):
    loaded = real_load(paths, **options)
    pause("read")
    return loaded

def publish(root, building):
    pause("written")
    return real_publish(root, building)

def replace(src, dst):
    real_replace(src, dst)
    if os.path.basename(str(src)).startswith(".building-"):
        pause("renamed")  # gen-* exists, CURRENT still names the old one

def write_generation(*args):
    folder = real_write(*args)
    pause("published")
    return folder

class Embedder(HashEmbedder):
    def embed(self, texts, progress=None):
        pause("embedding")
        return super().embed(texts, progress)

qa.index.build.load_articles, qa.index.folder.publish, qa.index.update.write_generation = load_articles, publish, write_generation
os.replace = replace
settings = IndexSettings(model=HashEmbedder.name, dim=HashEmbedder.dim)
qa.index.build.index_paths([articles], index_dir, embedder=Embedder(), settings=settings)
print("finished", flush=True)
"""

WORDS = "harbour council budget river bridge school election market storm festival museum tram".split()


def add_articles(folder, n=40):
    for i in range(n):
        sentences = [
            f"The {WORDS[(i + j) % len(WORDS)]} report number {i}.{j} was read by {100 + i * j} people."
            for j in range(12)
        ]
        (folder / f"gen{i:03d}.txt").write_text(
            f" date 2024-05-{1 + i % 28:02d} Local\n\nGenerated story {i}\n\n" + " ".join(sentences)
        )


def content(index):
    return sorted(index.articles), [p.text for p in index.passages]


def kill_at(point, articles_dir, index_dir):
    log = index_dir.parent / f"child-{point}.log"  # a file, so a chatty child never blocks on a pipe
    with log.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, point, str(articles_dir), str(index_dir)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        try:
            said = child.stdout.readline().strip()  # blocks until the child reaches the point
            child.send_signal(signal.SIGKILL)
            child.wait(60)
        finally:
            if child.poll() is None:
                child.kill()
            child.stdout.close()
    assert said == point, log.read_text()
    assert child.returncode == -signal.SIGKILL


@pytest.mark.parametrize("point", ["read", "embedding", "written", "renamed", "published"])
def test_sigkill_leaves_a_whole_index_and_the_next_run_finishes(point, built, articles_dir, settings):
    old = content(PassageIndex.load(built))
    add_articles(articles_dir)
    kill_at(point, articles_dir, built)

    after = PassageIndex.load(built, verify=True)  # every checksum still matches
    if point == "published":
        assert len(after.articles) == 46  # the switch happened before the kill
    else:
        assert content(after) == old

    report = index_paths([articles_dir], built, embedder=HashEmbedder(), settings=settings).report
    assert report.articles == 46
    fresh = PassageIndex.load(built, verify=True)
    names = [p.name for p in built.iterdir()]
    assert len([n for n in names if n.startswith("gen-")]) == 1, names
    assert not [n for n in names if n.startswith((".building", ".CURRENT"))], names
    assert index_folder.live_generation(built) == fresh.folder
    assert content(fresh)[0] == sorted([*old[0], *(f"gen{i:03d}" for i in range(40))])


def test_leftovers_of_a_killed_run_go_even_when_nothing_changed(built, articles_dir, settings):
    old = content(PassageIndex.load(built))
    add_articles(articles_dir)
    kill_at("renamed", articles_dir, built)
    for file in articles_dir.glob("gen*.txt"):
        file.unlink()  # back to what the live index holds
    report = index_paths([articles_dir], built, embedder=HashEmbedder(), settings=settings).report
    assert report.unchanged == 6 and content(PassageIndex.load(built)) == old
    assert [p.name for p in built.iterdir() if p.name.startswith(("gen-", ".building"))] == [
        index_folder.live_generation(built).name
    ]
