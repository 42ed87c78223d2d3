import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from qa.cli.main import cli

from .conftest import ROOT, HashEmbedder


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.setattr("qa.encode.backends.default_embedder", HashEmbedder)
    return CliRunner()


def test_index_ask_info(runner, articles_dir, tmp_path):
    ix = str(tmp_path / "ix")
    result = runner.invoke(cli, ["index", str(articles_dir), "--index", ix])
    assert result.exit_code == 0, result.output
    assert "6 added, 0 updated, 0 removed, 0 unchanged; 6 articles" in result.output

    again = runner.invoke(cli, ["index", "--index", ix])  # sources are remembered
    assert "0 added, 0 updated, 0 removed, 6 unchanged" in again.output

    answer = runner.invoke(cli, ["ask", "How many residents signed the library petition?", "--index", ix])
    assert answer.exit_code == 0, answer.output
    assert "2,400 residents" in answer.output.splitlines()[0] and "[1]" in answer.output.splitlines()[0]
    assert "[1] City Library Extends Opening Hours - 2024-02-20 - Riverside Times" in answer.output

    info = runner.invoke(cli, ["info", "--index", ix])
    assert "6 articles (" in info.output and "test/hash-embedder" in info.output
    assert "dated, 2024-01-16 to 2024-12-07)" in info.output
    as_json = json.loads(runner.invoke(cli, ["info", "--index", ix, "--json"]).output)
    assert as_json["dated_articles"] == 6


def test_info_says_when_no_article_is_dated(runner, tmp_path):
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "a.txt").write_text("Undated Story\n\nA story with no date at all.")
    runner.invoke(cli, ["index", str(tmp_path / "news"), "--index", str(tmp_path / "ix")])
    info = runner.invoke(cli, ["info", "--index", str(tmp_path / "ix")])
    assert "1 article (none dated: time words like 'this week' cannot favour any)" in info.output
    as_json = json.loads(runner.invoke(cli, ["info", "--index", str(tmp_path / "ix"), "--json"]).output)
    assert as_json["dated_articles"] == 0


def test_ask_json_shape(runner, articles_dir, tmp_path):
    ix = str(tmp_path / "ix")
    runner.invoke(cli, ["index", str(articles_dir), "--index", ix])
    result = runner.invoke(
        cli, ["ask", "Who supplied the cranes in Tallinn?", "-k", "2", "--index", ix, "--json"]
    )
    data = json.loads(result.output)
    assert len(data["passages"]) == 2
    assert set(data["passages"][0]) >= {
        "rank",
        "article_id",
        "title",
        "date",
        "section",
        "text",
        "score",
        "start",
        "end",
    }
    sentence = data["answer"]["sentences"][0]
    assert set(sentence) >= {"text", "citation", "article_id", "start", "end"}
    assert sentence["citation"] in data["answer"]["citations"]


def test_ask_without_index_builds_from_seeds(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    ix = str(tmp_path / "fresh")
    result = runner.invoke(cli, ["ask", "Who leads the delegation?", "--index", ix])
    assert result.exit_code == 0, result.output
    assert "Choe Son Hui" in result.output


def test_errors_are_one_clean_line(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        cli, ["ask", "anything", "--index", str(tmp_path / "none")], catch_exceptions=False
    )
    # no index -> builds from seeds/ relative to cwd, which is missing here
    assert result.exit_code == 1 and "Error:" in result.output and "Traceback" not in result.output
    empty = runner.invoke(cli, ["info", "--index", str(tmp_path / "none")])
    assert empty.exit_code == 1 and "no index at" in empty.output


def test_index_env_variable(runner, articles_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("QA_INDEX", str(tmp_path / "from-env"))
    assert runner.invoke(cli, ["index", str(articles_dir)]).exit_code == 0
    assert (tmp_path / "from-env" / "CURRENT").exists()


def test_help_does_not_import_torch():
    code = "import sys; from qa.cli.main import cli; sys.argv=['qa','--help']\ntry: cli()\nexcept SystemExit: pass\nprint(sorted(m for m in ('torch','sentence_transformers','faiss','gradio') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("[]"), out.stdout


def test_ask_filters(runner, articles_dir, tmp_path):
    ix = str(tmp_path / "ix")
    runner.invoke(cli, ["index", str(articles_dir), "--index", ix])
    result = runner.invoke(cli, ["ask", "news", "--index", ix, "--json", "-k", "10", "--section", "Business", "--section", "Weather"])
    assert {p["article_id"] for p in json.loads(result.output)["passages"]} == {"harbour", "wire-1"}
    result = runner.invoke(cli, ["ask", "news", "--index", ix, "--json", "-k", "10", "--since", "March 1, 2024", "--until", "2024-03-31"])
    assert {p["article_id"] for p in json.loads(result.output)["passages"]} == {"harbour", "orchard"}
    bad = runner.invoke(cli, ["ask", "news", "--index", ix, "--since", "someday"])
    assert bad.exit_code == 2 and "'someday' is not a date" in bad.output
    backwards = runner.invoke(cli, ["ask", "news", "--index", ix, "--since", "2024-03-31", "--until", "2024-03-01"])
    assert backwards.exit_code == 2 and "--since 2024-03-31 is after --until 2024-03-01: swap them" in backwards.output


def test_ask_as_of(runner, articles_dir, tmp_path):
    ix = str(tmp_path / "ix")
    runner.invoke(cli, ["index", str(articles_dir), "--index", ix])
    asked = ["ask", "What happened this week?", "--index", ix, "--json", "-k", "2"]
    march = runner.invoke(cli, [*asked, "--as-of", "2024-03-13"])
    assert march.exit_code == 0, march.output
    reply = json.loads(march.output)
    assert {p["article_id"] for p in reply["passages"]} == {"harbour", "orchard"}
    assert any("2024-03-07 to 2024-03-13" in note for note in reply["notes"])
    bad = runner.invoke(cli, [*asked, "--as-of", "yesterday"])
    assert bad.exit_code == 1 and bad.output.count("\n") == 1
    assert "as-of date 'yesterday' is not a date; write it as YYYY-MM-DD" in bad.output
    far = runner.invoke(cli, [*asked, "--as-of", "9999-01-01"])
    assert far.exit_code == 1 and "far outside the articles' dates" in far.output and "Traceback" not in far.output


def test_identical_copies_are_stored_once_and_named(runner, tmp_path):
    story = "Bridge Opens\n\nThe new bridge opened on Monday with a parade.\n"
    for sub, name in (("a", "s.txt"), ("b", "copy.txt")):
        (tmp_path / "news" / sub).mkdir(parents=True)
        (tmp_path / "news" / sub / name).write_text(story)
    ix = str(tmp_path / "ix")
    built = runner.invoke(cli, ["index", str(tmp_path / "news"), "--index", ix])
    assert "1 added" in built.output and "1 article read was an identical copy of another" in built.output
    as_json = json.loads(runner.invoke(cli, ["index", "--index", ix, "--json"]).output)
    assert as_json["copies"] == 1 and as_json["unchanged"] == 1
    asked = runner.invoke(cli, ["ask", "When did the bridge open?", "--index", ix])
    assert "identical copy also at: " in asked.output and "copy.txt" in asked.output
    data = json.loads(runner.invoke(cli, ["ask", "When did the bridge open?", "--index", ix, "--json"]).output)
    assert data["passages"][0]["copies"] == 1 and "copy.txt" not in json.dumps(data)  # no server paths
