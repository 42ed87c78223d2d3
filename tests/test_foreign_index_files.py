"""A folder given as --index that holds the user's own CURRENT or sources.json.

qa replaces both files whole, so it writes them only where they are its own: a user's
folder that happens to hold files of those names is refused, untouched, with the fix.
A damaged index of qa's (its generation still beside them) is still repaired.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import threading

import pytest
from click.testing import CliRunner

from qa.chat.service import ChatService
from qa.cli.main import cli
from qa.errors import IndexCorruptError, IndexWriteError
from qa.index import folder as index_folder
from qa.index import lock
from qa.index.build import index_paths
from qa.index.passage_index import PassageIndex

from .conftest import HashEmbedder

STORY = "Seal Rescued\n\nA seal was rescued from the harbour."
USERS = {"CURRENT": "my current reading list\n", "sources.json": '{"papers": ["a.pdf"]}\n'}


@pytest.fixture
def runner(monkeypatch, tmp_path):
    monkeypatch.setattr("qa.encode.backends.default_embedder", HashEmbedder)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "seal.txt").write_text(STORY)
    return CliRunner()


def users_folder(path, names):
    path.mkdir()
    for name in names:
        (path / name).write_text(USERS[name])
    return path


@pytest.mark.parametrize("names", [["CURRENT"], ["sources.json"], ["CURRENT", "sources.json"]])
@pytest.mark.parametrize("rebuild", [[], ["--rebuild"]])
def test_a_users_files_named_like_an_index_are_never_replaced(runner, tmp_path, names, rebuild):
    mine = users_folder(tmp_path / "mine", names)
    result = runner.invoke(cli, ["index", "news", "--index", "mine", *rebuild])
    assert result.exit_code == 1, result.output
    assert "qa did not write" in result.output and "--index" in result.output
    assert all(name in result.output for name in names)
    assert sorted(p.name for p in mine.iterdir()) == sorted(names)  # no .lock, no generation
    assert all((mine / name).read_text() == USERS[name] for name in names)


def test_asking_a_folder_with_a_users_current_says_it_is_no_index(runner, tmp_path):
    mine = users_folder(tmp_path / "mine", ["CURRENT"])
    result = runner.invoke(cli, ["ask", "What was rescued?", "--index", "mine"])
    assert result.exit_code == 1 and "not one qa wrote" in result.output
    assert "--rebuild" not in result.output  # a repair would be refused: it is not qa's index
    assert [p.name for p in mine.iterdir()] == ["CURRENT"]


def test_a_damaged_index_of_qas_is_still_repaired(runner, tmp_path, settings):
    index_paths([tmp_path / "news"], tmp_path / "ix", embedder=HashEmbedder(), settings=settings)
    (tmp_path / "ix" / "CURRENT").write_text("garbage\n")
    (tmp_path / "ix" / "sources.json").write_text("{not json")
    index_paths(
        [tmp_path / "news"], tmp_path / "ix", embedder=HashEmbedder(), settings=settings, rebuild=True
    )
    assert list(PassageIndex.load(tmp_path / "ix").articles) == ["seal"]


def test_the_library_refuses_too_before_anything_is_written(tmp_path, settings):
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "seal.txt").write_text(STORY)
    mine = users_folder(tmp_path / "mine", ["CURRENT"])
    with pytest.raises(IndexWriteError, match="CURRENT, which qa did not write"):
        index_paths([tmp_path / "news"], mine, embedder=HashEmbedder(), settings=settings)
    assert [p.name for p in mine.iterdir()] == ["CURRENT"]


def test_the_chat_and_qa_ask_on_a_users_sources_json_build_nothing(runner, tmp_path):
    mine = users_folder(tmp_path / "mine", ["sources.json"])
    result = runner.invoke(cli, ["ask", "What was rescued?", "--index", "mine"])
    assert result.exit_code == 1 and "qa did not write" in result.output
    assert "building" not in result.output
    with pytest.raises(IndexWriteError, match="sources.json, which qa did not write"):
        ChatService.start(mine, seeds=[tmp_path / "news"], embedder=HashEmbedder())
    assert [p.name for p in mine.iterdir()] == ["sources.json"]


@pytest.mark.parametrize(
    "record",
    ['{"sources": ["refs.bib"]}', '{"sources": [1]}', '{"sources": ["/abs"], "mine": true}', "[]"],
)
def test_a_sources_json_of_another_shape_is_the_users(tmp_path, settings, record):
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "seal.txt").write_text(STORY)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "sources.json").write_text(record)
    with pytest.raises(IndexWriteError, match="sources.json, which qa did not write"):
        index_paths([tmp_path / "news"], tmp_path / "mine", embedder=HashEmbedder(), settings=settings)
    assert (tmp_path / "mine" / "sources.json").read_text() == record


def test_a_pipe_named_sources_json_is_refused_without_waiting_on_it(tmp_path):
    (tmp_path / "mine").mkdir()
    os.mkfifo(tmp_path / "mine" / "sources.json")
    outcome: list = []

    def check():
        try:
            lock.check_ours(tmp_path / "mine")
        except IndexWriteError as ex:
            outcome.append(ex)

    worker = threading.Thread(target=check, daemon=True)
    worker.start()
    worker.join(30)  # a guard, not a measurement: reading a pipe with no writer blocks for ever
    assert not worker.is_alive() and len(outcome) == 1


def test_a_link_to_another_index_s_generation_does_not_make_the_folder_qas(tmp_path, settings):
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "seal.txt").write_text(STORY)
    index_paths([tmp_path / "news"], tmp_path / "ix", embedder=HashEmbedder(), settings=settings)
    mine = users_folder(tmp_path / "mine", ["CURRENT"])
    (mine / "gen-link").symlink_to(index_folder.live_generation(tmp_path / "ix"))
    with pytest.raises(IndexWriteError, match="CURRENT, which qa did not write"):
        index_paths([tmp_path / "news"], mine, embedder=HashEmbedder(), settings=settings)
    assert (mine / "CURRENT").read_text() == USERS["CURRENT"]


def test_an_older_qas_unmarked_index_with_a_damaged_current_is_repaired(tmp_path, settings):
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "seal.txt").write_text(STORY)
    index_paths([tmp_path / "news"], tmp_path / "ix", embedder=HashEmbedder(), settings=settings)
    (index_folder.live_generation(tmp_path / "ix") / ".qa-generation").unlink()  # as an older qa wrote it
    (tmp_path / "ix" / "CURRENT").write_text("garbage!!\n")
    with pytest.raises(IndexCorruptError, match="is damaged"):
        PassageIndex.load(tmp_path / "ix")
    index_paths(
        [tmp_path / "news"], tmp_path / "ix", embedder=HashEmbedder(), settings=settings, rebuild=True
    )
    assert list(PassageIndex.load(tmp_path / "ix").articles) == ["seal"]


def test_an_index_whose_generations_were_deleted_is_rebuilt_by_the_printed_command(runner, tmp_path):
    assert runner.invoke(cli, ["index", "news", "--index", "ix"]).exit_code == 0
    for gen in (tmp_path / "ix").glob("gen-*"):
        shutil.rmtree(gen)  # CURRENT still names one, by qa's naming; sources.json stays
    asked = runner.invoke(cli, ["ask", "What was rescued?", "--index", "ix"])
    assert asked.exit_code == 1 and "qa index --rebuild --index" in asked.output
    command = re.search(r"`(qa index --rebuild --index [^`]+)`", asked.output).group(1)
    assert runner.invoke(cli, shlex.split(command)[1:]).exit_code == 0
    assert list(PassageIndex.load(tmp_path / "ix").articles) == ["seal"]


def test_a_current_naming_the_users_own_folder_is_not_offered_a_repair(runner, tmp_path):
    mine = users_folder(tmp_path / "mine", [])
    (mine / "gen-mine").mkdir()
    (mine / "CURRENT").write_text("gen-mine\n")
    asked = runner.invoke(cli, ["ask", "What was rescued?", "--index", "mine"])
    assert asked.exit_code == 1 and "not one qa wrote" in asked.output and "--rebuild" not in asked.output
    refused = runner.invoke(cli, ["index", "news", "--index", "mine", "--rebuild"])
    assert refused.exit_code == 1 and "CURRENT, which qa did not write" in refused.output
    assert (mine / "CURRENT").read_text() == "gen-mine\n" and sorted(p.name for p in mine.iterdir()) == [
        "CURRENT",
        "gen-mine",
    ]


def test_a_folder_of_articles_holding_a_sources_json_is_read_as_articles(runner, tmp_path):
    (tmp_path / "news" / "sources.json").write_text(USERS["sources.json"])  # the user's own notes
    built = runner.invoke(cli, ["index", "news", "--index", "ix"])
    assert built.exit_code == 0 and "1 added" in built.output, built.output
    assert list(PassageIndex.load(tmp_path / "ix").articles) == ["seal"]


def test_an_index_inside_the_folder_is_still_skipped(runner, tmp_path):
    assert runner.invoke(cli, ["index", "news", "--index", "news/ix"]).exit_code == 0
    again = runner.invoke(cli, ["index", "news", "--index", "news/ix"])
    assert again.exit_code == 0 and "never read" not in again.output  # its own sources.json is no article
    (tmp_path / "more").mkdir()
    assert runner.invoke(cli, ["index", "news", "--index", "more/ix"]).exit_code == 0
    assert list(PassageIndex.load(tmp_path / "more" / "ix").articles) == ["seal"]  # news/ix's files unread
    for gen in (tmp_path / "news" / "ix").glob("gen-*"):
        shutil.rmtree(gen)  # what is left of it is still qa's, not articles
    third = runner.invoke(cli, ["index", "news", "--index", "more/ix"])
    assert third.exit_code == 0 and "0 added" in third.output and "empty text" not in third.output


def test_a_web_export_with_sources_json_and_uploads_is_read_as_articles(runner, tmp_path):
    (tmp_path / "news" / "sources.json").write_text(USERS["sources.json"])
    (tmp_path / "news" / "uploads").mkdir()
    built = runner.invoke(cli, ["index", "news", "--index", "ix"])
    assert built.exit_code == 0 and "1 added" in built.output, built.output


def test_only_qas_own_temporary_files_are_swept(runner, tmp_path):
    assert runner.invoke(cli, ["index", "news", "--index", "ix"]).exit_code == 0
    (tmp_path / "ix" / ".CURRENT.tmp-my-notes").write_text("mine")
    (tmp_path / "ix" / ".CURRENT.tmp-4242").write_text("gen-left-by-a-killed-run\n")
    assert runner.invoke(cli, ["index", "--index", "ix"]).exit_code == 0
    assert (tmp_path / "ix" / ".CURRENT.tmp-my-notes").read_text() == "mine"
    assert not (tmp_path / "ix" / ".CURRENT.tmp-4242").exists()


def test_an_index_folder_inside_the_articles_says_its_own_article_files_go_unread(runner, tmp_path):
    (tmp_path / "news" / "sub").mkdir()
    (tmp_path / "news" / "sub" / "keeper.txt").write_text("Keeper Retires\n\nThe lighthouse keeper retired.")
    built = runner.invoke(cli, ["index", "news", "--index", "news/sub"])
    assert built.exit_code == 0 and "its article files are never read" in built.output
    assert (tmp_path / "news" / "sub" / "keeper.txt").exists()


def test_an_older_qas_unmarked_generation_goes_once_repaired(tmp_path, settings):
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "seal.txt").write_text(STORY)
    index_paths([tmp_path / "news"], tmp_path / "ix", embedder=HashEmbedder(), settings=settings)
    old = index_folder.live_generation(tmp_path / "ix")
    (old / ".qa-generation").unlink()  # as an older qa wrote it
    (tmp_path / "ix" / "CURRENT").unlink()  # and CURRENT lost: nothing names it any more
    (tmp_path / "ix" / "gen-mine").mkdir()  # a user's folder of that pattern, no manifest
    index_paths([tmp_path / "news"], tmp_path / "ix", embedder=HashEmbedder(), settings=settings, rebuild=True)
    assert not old.exists() and (tmp_path / "ix" / "gen-mine").is_dir()
    assert len(list((tmp_path / "ix").glob("gen-2*"))) == 1


def test_an_index_recording_no_folder_names_the_fix(runner, tmp_path):
    assert runner.invoke(cli, ["index", "news", "--index", "ix"]).exit_code == 0
    (tmp_path / "ix" / "sources.json").write_text('{"sources": []}\n')
    again = runner.invoke(cli, ["index", "--index", "ix"])
    assert again.exit_code == 1 and "records no folder to read" in again.output and "qa index PATH" in again.output
