"""Hostile and careless use, part 2: the index folder, its sources, the chat, processes (issue 13).

What a careless user does to an index (damage CURRENT or the manifest, index a folder
into itself, keep their own `gen-*` folders, re-index from elsewhere) and the repair
qa prints: each case runs the printed command and checks nothing the user had is gone.
Part 1 (hostile files) is tests/test_hostile.py.
"""

from __future__ import annotations

import errno
import json
import os
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.chat.service import ChatService
from qa.cli.main import cli
from qa.errors import IndexWriteError, QAError
from qa.index import folder as index_folder
from qa.index.build import index_paths
from qa.index.passage_index import PassageIndex

from .conftest import HashEmbedder

NEWS = {
    "seal.txt": "Seal Rescued\n\nA seal was rescued from the harbour.",
    "tram.txt": "Tram Opens\n\nThe tram opened.",
}
SEEDS = {"seed.txt": "Seed Story\n\nThe shipped seed article."}


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.setattr("qa.encode.backends.default_embedder", HashEmbedder)
    return CliRunner()


def folder(path, files):
    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A user's folder holding news/ and a seeds/ that must never stand in for it."""
    folder(tmp_path / "news", NEWS)
    folder(tmp_path / "seeds", SEEDS)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def build(runner, *args):
    result = runner.invoke(cli, ["index", *args])
    assert result.exit_code == 0, result.output
    return result


def titles(index_dir):
    return sorted(a.title for a in PassageIndex.load(index_dir).articles.values())


def run_printed_repair(runner, output):
    """Run the `qa index ...` command an error message printed, as the user would."""
    command = output.split("`qa ")[-1].split("`")[0]
    return runner.invoke(cli, shlex.split(command))


# --- the repair command: the right index, never seeds/ --------------------------------------


def damage(index_dir, how):
    generation = index_folder.live_generation(index_dir)
    manifest = json.loads((generation / "manifest.json").read_text())
    actions = {
        "CURRENT binary": lambda: (index_dir / "CURRENT").write_bytes(b"\x00\xff\xfe" * 10),
        "CURRENT 5,000 characters": lambda: (index_dir / "CURRENT").write_text("gen-" + "x" * 4996),
        "CURRENT ../": lambda: (index_dir / "CURRENT").write_text(f"../../other/{generation.name}\n"),
        "CURRENT absolute": lambda: (index_dir / "CURRENT").write_text(f"{generation}\n"),
        "CURRENT empty": lambda: (index_dir / "CURRENT").write_text(""),
        "manifest not JSON": lambda: (generation / "manifest.json").write_text("{not json"),
        "manifest without settings": lambda: manifest.pop("settings"),
        "manifest without counts": lambda: manifest.pop("counts"),
        "manifest without model": lambda: manifest.pop("model"),
    }
    actions[how]()
    if how.startswith("manifest without"):
        (generation / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    "how",
    [
        "CURRENT binary",
        "CURRENT 5,000 characters",
        "CURRENT ../",
        "CURRENT absolute",
        "CURRENT empty",
        "manifest not JSON",
        "manifest without settings",
        "manifest without counts",
        "manifest without model",
    ],
)
def test_damage_gives_one_line_and_the_printed_repair_restores_the_users_articles(runner, home, how):
    build(runner, "news", "--index", "mynews")
    damage(home / "mynews", how)
    asked = runner.invoke(cli, ["ask", "What was rescued?", "--index", "mynews"])
    assert asked.exit_code == 1 and asked.output.count("\n") == 1 and asked.output.startswith("Error: ")
    assert f"qa index --rebuild --index {home / 'mynews'}" in asked.output
    repaired = run_printed_repair(runner, asked.output)
    assert repaired.exit_code == 0, repaired.output
    assert titles(home / "mynews") == ["Seal Rescued", "Tram Opens"]  # the user's, not seeds/
    assert runner.invoke(cli, ["index", "--verify", "--index", "mynews"]).exit_code == 0


def test_qa_index_elsewhere_and_qa_ask_without_current_use_the_recorded_sources(runner, home, tmp_path):
    build(runner, "news", "--index", str(home / "ix"))
    elsewhere = folder(tmp_path / "other", {})
    folder(elsewhere / "news", {"wrong.txt": "Wrong News\n\nA different folder named news."})
    os.chdir(elsewhere)
    again = build(runner, "--index", str(home / "ix"))
    assert "0 removed" in again.output and titles(home / "ix") == ["Seal Rescued", "Tram Opens"]
    (home / "ix" / "CURRENT").unlink()
    for gen in (home / "ix").glob("gen-*"):
        shutil.rmtree(gen)  # every generation gone: sources.json alone knows what to rebuild from
    asked = runner.invoke(cli, ["ask", "What was rescued?", "--index", str(home / "ix")])
    assert asked.exit_code == 0 and "Seal Rescued" in asked.output and "Wrong" not in asked.output


def test_the_repair_names_the_index_from_the_environment(runner, home, monkeypatch):
    monkeypatch.setenv("QA_INDEX", str(home / "env ix"))
    build(runner, "news")
    damage(home / "env ix", "CURRENT binary")
    asked = runner.invoke(cli, ["ask", "What was rescued?"])
    assert shlex.quote(str(home / "env ix")) in asked.output
    assert run_printed_repair(runner, asked.output).exit_code == 0
    assert titles(home / "env ix") == ["Seal Rescued", "Tram Opens"]


def test_unknown_or_missing_sources_stop_and_delete_nothing(runner, home):
    build(runner, "news", "--index", "ix")
    (home / "ix" / "sources.json").unlink()  # as an older qa left it: sources relative to some folder
    generation = index_folder.live_generation(home / "ix")
    manifest = json.loads((generation / "manifest.json").read_text())
    (generation / "manifest.json").write_text(json.dumps({**manifest, "sources": ["news"]}))
    damage(home / "ix", "CURRENT binary")
    stopped = runner.invoke(cli, ["index", "--rebuild", "--index", "ix"])
    assert stopped.exit_code == 1 and "does not record what it was built from" in stopped.output
    assert generation.is_dir() and not (home / "ix" / "sources.json").exists()
    build(runner, "news", "--index", "ix")  # naming the sources once repairs it
    shutil.move(home / "news", home / "news-moved")
    gone = runner.invoke(cli, ["index", "--index", "ix"])
    assert (
        gone.exit_code == 1
        and "is missing" in gone.output
        and titles(home / "ix") == ["Seal Rescued", "Tram Opens"]
    )
    (home / "ix" / "sources.json").write_bytes(b"\xff\x00garbage")
    damaged = runner.invoke(cli, ["index", "--index", "ix"])
    assert damaged.exit_code == 1 and "sources.json" in damaged.output and "Traceback" not in damaged.output


# --- what the index folder owns, and what is never read ---------------------------------------


def test_only_generations_qa_marked_are_deleted(runner, home):
    index_dir = home / "data"
    folder(index_dir / "gen-ai", {"story.txt": "AI Story\n\nThe user's own article."})
    folder(index_dir / ".building-gen-x", {"keep.txt": "kept"})
    (index_dir / "gen-link").symlink_to(home / "news")
    build(runner, "news", "--index", "data")
    build(runner, "news", "--index", "data", "--rebuild")
    assert (index_dir / "gen-ai" / "story.txt").is_file() and (
        index_dir / ".building-gen-x" / "keep.txt"
    ).is_file()
    assert sorted(p.name for p in (home / "news").iterdir()) == sorted(NEWS)
    assert len([p for p in index_dir.glob("gen-*") if (p / ".qa-generation").is_file()]) == 1


def test_an_index_from_an_older_qa_loads_and_its_generation_goes_once_replaced(runner, home):
    build(runner, "news", "--index", "old")
    legacy = index_folder.live_generation(home / "old")
    (legacy / ".qa-generation").unlink()  # as written before generations were marked
    assert titles(home / "old") == ["Seal Rescued", "Tram Opens"]
    build(runner, "news", "--index", "old", "--rebuild")
    assert not legacy.exists() and titles(home / "old") == ["Seal Rescued", "Tram Opens"]


def test_an_index_folder_is_never_read_as_articles(runner, home):
    build(runner, ".", "--index", "index")  # the index inside the folder it indexes
    again = build(runner, ".", "--index", "index")
    assert "0 added" in again.output and "~2" not in json.dumps(
        list(PassageIndex.load(home / "index").articles)
    )
    (home / "news" / "seal.txt").write_text("Seal Rescued\n\nA seal was rescued again.")
    (home / "news" / "tram.txt").unlink()
    edited = build(runner, ".", "--index", "index")
    assert "1 updated, 1 removed" in edited.output
    build(runner, "news", "--index", "other")  # another index inside the folder: skipped, with a warning
    third = build(runner, ".", "--index", "index")
    assert "other" in third.output and "never read as articles" in third.output and "0 added" in third.output
    into_itself = runner.invoke(cli, ["index", "news", "--index", "news"])
    assert into_itself.exit_code == 1 and "the index folder itself" in into_itself.output
    inside = runner.invoke(cli, ["index", str(index_folder.live_generation(home / "other")), "--index", "x"])
    assert inside.exit_code == 1 and "never read as articles" in inside.output


def test_uploads_stay_a_source_of_every_run(runner, home, embedder, settings):
    build(runner, "news", "--index", "ix")
    service = ChatService(home / "ix", embedder=HashEmbedder())
    up = folder(home / "upload-tmp", {"owl.txt": "Owl Story\n\nAn owl hunted at night."})
    assert service.upload([up / "owl.txt"]).build is not None
    folder(home / "extra", {"bee.txt": "Bee Story\n\nBees swarmed."})
    build(runner, "news", "extra", "--index", "ix")  # new sources named: uploads are kept
    assert titles(home / "ix") == ["Bee Story", "Owl Story", "Seal Rescued", "Tram Opens"]
    build(runner, "--index", "ix", "--rebuild")
    assert "Owl Story" in titles(home / "ix")


# --- a running chat follows the index on disk --------------------------------------------------


def test_a_running_chat_switches_to_a_new_generation_between_questions(home, settings):
    index_paths(["news"], "ix", embedder=HashEmbedder(), settings=settings)
    service = ChatService(home / "ix", embedder=HashEmbedder())
    first = service.engine
    assert service.respond("What was rescued?", [], 0).data["passages"][0]["title"] == "Seal Rescued"
    assert service.current_engine() is first  # nothing changed: one stat, no reload
    (home / "news" / "seal.txt").unlink()
    index_paths([], "ix", embedder=HashEmbedder(), settings=settings)  # as another process would
    reply = service.respond("What was rescued?", [], 1)
    assert service.engine is not first and "Seal Rescued" not in json.dumps(reply.data)
    seen = service.engine
    (home / "ix" / "CURRENT").write_text("gen-does-not-exist\n")  # a broken switch: keep answering
    assert service.respond("What opened?", [], 2).data["passages"] and service.engine is seen


def test_a_chat_upload_with_bombs_indexes_the_good_file_and_names_the_bad(built, embedder, tmp_path):
    from .test_hostile import JSON_BOMB, YAML_BOMB

    files = folder(tmp_path / "picked", {"good.txt": "Good Owl\n\nAn owl was seen.", "bomb.json": JSON_BOMB})
    (files / "alias.md").write_text(YAML_BOMB)
    (files / "deep.jsonl").write_text('{"title": "t", "text": ' + JSON_BOMB + "}\n")
    result = ChatService(built, embedder=embedder).upload(sorted(files.iterdir()))
    assert result.build is not None and result.build.report.added == 1
    summary = result.summary()
    assert all(name in summary for name in ("bomb.json", "alias.md", "deep.jsonl")) and "Good" not in summary
    assert summary.startswith("Indexed 1 file(s)") and [p.name for p in result.saved] == ["good.txt"]
    assert sorted(p.name for p in (built / "uploads").iterdir()) == ["good.txt"]  # not re-reported later


# --- faults of the machine: read-only, disk full, a file for a folder ---------------------------


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_failed_write_is_one_line_leaves_nothing_and_the_index_answers(runner, home, monkeypatch, code):
    build(runner, "news", "--index", "ix")
    before = index_folder.live_generation(home / "ix")
    folder(home / "news", {"new.txt": "New Story\n\nA new one."})

    def full(path, *args, **kwargs):
        Path(path).write_bytes(b"\x93NUMPY partial")
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr("qa.index.update.np.save", full)
    failed = runner.invoke(cli, ["index", "news", "--index", "ix"])
    errors = [line for line in failed.output.splitlines() if line.startswith("Error: ")]
    assert failed.exit_code == 1 and len(errors) == 1 and "Traceback" not in failed.output
    assert ("disk space" if code == errno.ENOSPC else "read-only") in failed.output
    assert not list((home / "ix").glob(".building-*")) and index_folder.live_generation(home / "ix") == before
    assert runner.invoke(cli, ["ask", "What was rescued?", "--index", "ix"]).exit_code == 0


def test_an_unwritable_or_file_index_is_a_clean_error(runner, home, monkeypatch, embedder):
    (home / "afile").write_text("not a folder")
    for args in (["index", "news", "--index", "afile"], ["ask", "What?", "--index", "afile"]):
        result = runner.invoke(cli, args)  # refused by the option's own check (exit 2)
        assert result.exit_code == 2 and "is a file" in result.output and "Traceback" not in result.output
    with pytest.raises(QAError, match="is a file"):
        ChatService.start(home / "afile", seeds=[home / "seeds"], embedder=embedder)

    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr("qa.index.folder.Path.mkdir", refuse)
    with pytest.raises(IndexWriteError, match="read-only"):
        index_paths(["news"], home / "ro", embedder=embedder)


def test_feedback_is_written_whole_or_not_at_all(built, embedder, tmp_path, monkeypatch):
    path = tmp_path / "feedback.jsonl"
    service = ChatService(built, embedder=embedder, feedback_path=path)
    data = service.respond("How many residents signed the library petition?", [], 0).data
    service.record_feedback(data, True)
    path.write_bytes(path.read_bytes() + b'{"id": "torn", "quest')  # a crash mid-write, earlier
    real_write = os.write
    monkeypatch.setattr("qa.jsonl.os.write", lambda fd, data: real_write(fd, data[:7]))  # the disk fills up
    with pytest.raises(QAError, match="disk space"):
        service.record_feedback(data, False)
    monkeypatch.undo()
    assert path.read_text().count("\n") == 1 and path.read_text().endswith("\n")
    service.record_feedback(data, False)
    assert [r["feedback"] for r in map(json.loads, path.read_text().splitlines())] == ["up", "down"]
