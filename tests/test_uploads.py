"""Uploads: only article files under the size limit, never outside the upload folder, indexed at once."""

import subprocess
import sys

import pytest

from qa.chat import uploads
from qa.search.engine import Engine


@pytest.mark.parametrize(
    "name, safe",
    [
        ("report.txt", "report.txt"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\evil.md", "evil.md"),
        (".hidden.json", "hidden.json"),
        ("Été 2024 (final).md", "Ete_2024_final_.md"),
        ('<img src=x onerror="alert(1)">.html', "img_src_x_onerror_alert_1_.html"),
        ("...", "upload"),
        ("", "upload"),
        ("x" * 300 + ".jsonl", "x" * 94 + ".jsonl"),
    ],
)
def test_safe_name(name, safe):
    assert uploads.safe_name(name) == safe


@pytest.mark.parametrize(
    "name, size, reason",
    [
        ("a.txt", 10, None),
        ("a.HTM", 10, None),
        ("a.markdown", 10, None),  # indexing reads it, so uploads take it (issue 15)
        ("a.exe", 10, "type .exe is not an article file"),
        ("noext", 10, "type (none)"),
        ("a.md", uploads.MAX_UPLOAD_BYTES + 1, "upload limit"),
        ("a.md", 0, "empty"),
    ],
)
def test_check_upload(name, size, reason):
    got = uploads.check_upload(name, size)
    assert got is None if reason is None else reason in got


def test_save_uploads_keeps_files_inside_the_folder(tmp_path):
    incoming = tmp_path / "incoming"
    (incoming / "sub").mkdir(parents=True)
    good = incoming / "sub" / "..note.txt"
    good.write_text("Title\n\nBody text.")
    bad = incoming / "tool.exe"
    bad.write_bytes(b"MZ")
    folder = tmp_path / "uploads"
    saved, problems = uploads.save_uploads([good, bad], folder)
    assert saved == [(folder / "note.txt").resolve()]
    assert [p.path for p in problems] == ["tool.exe"] and "not an article file" in problems[0].message
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["..note.txt", "note.txt", "tool.exe"]


def test_add_uploads_indexes_new_articles_and_names_rejected_files(built, embedder, tmp_path):
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "lighthouse.txt").write_text(
        "Lighthouse Keeper Retires\n\nMarta Vell kept the Kallaste lighthouse for forty years."
    )
    (incoming / "broken.json").write_text("{not json")
    (incoming / "virus.exe").write_bytes(b"MZ")
    before = embedder.texts_embedded
    result = uploads.add_uploads(
        sorted(incoming.iterdir()), tmp_path / "up", built, embedder=embedder, progress=None
    )
    assert result.build is not None and result.build.report.added == 1
    assert embedder.texts_embedded - before == result.build.report.embedded  # only the new text
    summary = result.summary()
    assert "1 added" in summary and "7 articles" in summary
    assert "Rejected: virus.exe: type .exe" in summary and "Rejected: broken.json" in summary
    assert str(tmp_path) not in summary  # names as uploaded, not server paths
    engine = Engine.from_index(built, embedder=embedder)
    assert "lighthouse" in engine.index.articles
    assert "Marta Vell" in engine.ask("Who kept the Kallaste lighthouse?").text


def test_uploads_take_every_type_indexing_reads(built, embedder, tmp_path):
    from qa.text.readers import SUPPORTED

    assert [ext for ext in SUPPORTED if uploads.check_upload(f"a{ext}", 10)] == []
    note = tmp_path / "incoming" / "harbour-notes.markdown"
    note.parent.mkdir()
    note.write_text("---\ntitle: Harbour Notes\n---\nThe Kallaste ferry now sails twice a day.")
    result = uploads.add_uploads([note], tmp_path / "up", built, embedder=embedder)
    assert result.build is not None and result.build.report.added == 1, result.summary()
    assert [p.name for p in result.saved] == ["harbour-notes.markdown"]


def test_add_uploads_with_nothing_readable_keeps_the_index(built, embedder, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    result = uploads.add_uploads([empty], tmp_path / "up", built, embedder=embedder)
    assert result.build is None and "Rejected: empty.txt" in result.summary()
    assert not (tmp_path / "up" / "empty.txt").exists()
    assert len(Engine.from_index(built, embedder=embedder).index.articles) == 6


@pytest.mark.parametrize("bad", ["---\ntitle: Festival\n---\n", "   \n"])
def test_a_refused_reupload_keeps_the_article_it_would_have_replaced(built, embedder, tmp_path, bad):
    good = "---\ntitle: Harbour Festival\n---\nThe harbour festival opens on Friday with fireworks."
    first, second = tmp_path / "a" / "fest.md", tmp_path / "b" / "fest.md"
    for path, text in ((first, good), (second, bad)):
        path.parent.mkdir()
        path.write_text(text)
    assert uploads.add_uploads([first], tmp_path / "up", built, embedder=embedder).build.report.added == 1
    again = uploads.add_uploads([second], tmp_path / "up", built, embedder=embedder)
    assert "Rejected: fest.md" in again.summary()
    assert sorted(p.name for p in (tmp_path / "up").iterdir()) == ["fest.md"]  # nothing left aside
    assert (tmp_path / "up" / "fest.md").read_text() == good
    engine = Engine.from_index(built, embedder=embedder)
    assert "fireworks" in engine.ask("When does the harbour festival open?").text


def test_a_good_reupload_replaces_the_earlier_file(built, embedder, tmp_path):
    for n, text in enumerate(("Opens on Friday.", "Opens on Saturday instead.")):
        path = tmp_path / f"in{n}" / "fest.md"
        path.parent.mkdir()
        path.write_text(f"---\ntitle: Harbour Festival\n---\nThe harbour festival {text}")
        uploads.add_uploads([path], tmp_path / "up", built, embedder=embedder)
    assert sorted(p.name for p in (tmp_path / "up").iterdir()) == ["fest.md"]
    assert "Saturday" in (tmp_path / "up" / "fest.md").read_text()


GOOD = "---\ntitle: Harbour Festival\n---\nThe harbour festival opens on Friday with fireworks."


def _file(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)
    return path


def test_a_refused_reupload_sent_with_a_good_file_keeps_the_earlier_one(built, embedder, tmp_path):
    uploads.add_uploads([_file(tmp_path / "a" / "fest.md", GOOD)], tmp_path / "up", built, embedder=embedder)
    binary = _file(tmp_path / "b" / "fest.md", b"\x00\x01\x02\xff" * 100)
    other = _file(tmp_path / "b" / "ferry.txt", "Ferry Returns\n\nThe night ferry sails again.")
    result = uploads.add_uploads([binary, other], tmp_path / "up", built, embedder=embedder)
    assert "Rejected: fest.md" in result.summary() and [p.name for p in result.saved] == ["ferry.txt"]
    assert (tmp_path / "up" / "fest.md").read_text() == GOOD
    assert sorted(p.name for p in (tmp_path / "up").iterdir()) == ["ferry.txt", "fest.md"]


@pytest.mark.parametrize("second", ["good", "bad"])
def test_the_same_name_twice_in_one_upload_keeps_the_first(built, embedder, tmp_path, second):
    uploads.add_uploads([_file(tmp_path / "a" / "fest.md", GOOD)], tmp_path / "up", built, embedder=embedder)
    v2 = _file(tmp_path / "b" / "fest.md", GOOD.replace("Friday", "Saturday"))
    v3 = _file(tmp_path / "c" / "fest.md", GOOD.replace("Friday", "Sunday") if second == "good" else b"\x00" * 50)
    result = uploads.add_uploads([v2, v3], tmp_path / "up", built, embedder=embedder)
    assert "Saturday" in (tmp_path / "up" / "fest.md").read_text()
    assert "Rejected: fest.md" in result.summary()
    assert sorted(p.name for p in (tmp_path / "up").iterdir()) == ["fest.md"]


def test_names_that_clean_to_the_same_name_are_not_both_taken(built, embedder, tmp_path):
    alpha = _file(tmp_path / "in" / "a b.txt", "Alpha Story\n\nAlpha text.")
    beta = _file(tmp_path / "in" / "a_b.txt", "Beta Story\n\nBeta text.")
    result = uploads.add_uploads([alpha, beta], tmp_path / "up", built, embedder=embedder)
    assert "also saved as a_b.txt" in result.summary() and len(result.saved) == 1
    assert "Alpha" in (tmp_path / "up" / "a_b.txt").read_text()


def test_leftovers_of_a_killed_upload_are_put_back_or_go_at_the_next(built, embedder, tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)  # a process that has ended: its leftovers are nobody's
    up = tmp_path / "up"
    _file(up / f".fest.md.previous-{pid}", GOOD)  # killed between setting it aside and putting the new one
    _file(up / f".news.md.part-{pid}", "half a file")
    _file(up / ".fest.md.previous-1", GOOD)  # pid 1 lives: another app's upload under way
    _file(up / ".notes.part", "the user's own")
    uploads.add_uploads([_file(tmp_path / "a" / "other.txt", "Other\n\nText.")], up, built, embedder=embedder)
    assert sorted(p.name for p in up.iterdir()) == [".fest.md.previous-1", ".notes.part", "fest.md", "other.txt"]
    assert (up / "fest.md").read_text() == GOOD
