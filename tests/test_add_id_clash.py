"""`qa index --add` of a folder whose file names another indexed folder also uses (daily folders
with s1.txt in each): each article keeps its own id, as in one run that reads both folders,
instead of the new one replacing the indexed one (found by a new-user try)."""

from __future__ import annotations

import json

from qa.index.build import index_paths
from qa.index.passage_index import PassageIndex


def folder(tmp_path, name, files):
    root = tmp_path / name
    root.mkdir()
    for file, body in files.items():
        (root / file).write_text(body)
    return root


def titles(index_dir):
    return {aid: a.title for aid, a in PassageIndex.load(index_dir).articles.items()}


def test_an_add_with_a_file_name_already_indexed_keeps_both(tmp_path, embedder, settings):
    index = tmp_path / "index"
    monday = folder(
        tmp_path, "monday", {"s1.txt": "Harbour opens\n\nThe harbour opened.", "s2.txt": "Rain\n\nIt rained."}
    )
    tuesday = folder(tmp_path, "tuesday", {"s1.txt": "Bridge closes\n\nThe bridge closed."})
    index_paths([monday], index, embedder=embedder, settings=settings)
    report = index_paths([tuesday], index, embedder=embedder, settings=settings, keep_others=True).report
    assert titles(index) == {"s1": "Harbour opens", "s2": "Rain", "s1~2": "Bridge closes"}
    assert (report.added, report.updated) == (1, 0)
    (tuesday / "s1.txt").write_text("Bridge closes\n\nThe bridge closed for repairs.")
    report = index_paths([tuesday], index, embedder=embedder, settings=settings, keep_others=True).report
    assert titles(index) == {"s1": "Harbour opens", "s2": "Rain", "s1~2": "Bridge closes"}
    assert (report.added, report.updated) == (0, 1)
    index_paths([monday, tuesday], index, embedder=embedder, settings=settings)  # one run, both folders
    assert titles(index) == {"s1": "Harbour opens", "s2": "Rain", "s1~2": "Bridge closes"}


def test_one_add_of_two_folders_that_clash_with_the_index_keeps_all_three(
    tmp_path, embedder, settings, caplog
):
    index = tmp_path / "index"
    days = [
        folder(tmp_path, day, {"s1.txt": f"{day.title()} story\n\nNews of {day}."})
        for day in ("mon", "tue", "wed")
    ]
    index_paths([days[0]], index, embedder=embedder, settings=settings)
    index_paths(days[1:], index, embedder=embedder, settings=settings, keep_others=True)
    assert titles(index) == {"s1": "Mon story", "s1~2": "Tue story", "s1~3": "Wed story"}
    assert "stored this one as 's1~2'" in caplog.text
    caplog.clear()
    index_paths(days[1:], index, embedder=embedder, settings=settings, keep_others=True)  # again: nothing new
    assert titles(index) == {"s1": "Mon story", "s1~2": "Tue story", "s1~3": "Wed story"}
    assert "stored this one" not in caplog.text
    index_paths(days, index, embedder=embedder, settings=settings)  # one run of all three: the same ids
    assert titles(index) == {"s1": "Mon story", "s1~2": "Tue story", "s1~3": "Wed story"}


def test_an_add_of_the_same_file_or_a_given_id_still_updates(tmp_path, embedder, settings):
    index = tmp_path / "index"
    monday = folder(tmp_path, "monday", {"s1.txt": "Harbour opens\n\nThe harbour opened."})
    record = {"id": "s1", "title": "Harbour opens late", "text": "The harbour opened at noon."}
    feed = folder(tmp_path, "feed", {"today.jsonl": json.dumps(record) + "\n"})
    index_paths([monday], index, embedder=embedder, settings=settings)
    (monday / "s1.txt").write_text("Harbour opens\n\nThe harbour opened at dawn.")
    report = index_paths([monday], index, embedder=embedder, settings=settings, keep_others=True).report
    assert (report.added, report.updated, set(titles(index))) == (0, 1, {"s1"})
    report = index_paths([feed], index, embedder=embedder, settings=settings, keep_others=True).report
    assert (report.added, report.updated) == (0, 1)  # an id the feed gives is the article's own
    assert titles(index) == {"s1": "Harbour opens late"}
