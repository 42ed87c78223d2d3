"""Hostile and careless input, part 1: the files qa is given (issue 13).

Every class of the issue with its example and cases of our own: links and special
files at the ingest border, YAML alias bombs, JSON nesting bombs, oversized metadata,
UTF-16/32, JSONL line separators, one bad file in a batch, control characters in
everything printed. Part 2 (the index folder, sources, the chat, processes) is
tests/test_hostile_index.py. Fake embedder throughout; the suite runs in seconds.
"""

from __future__ import annotations

import json
import logging
import os

import pytest
from click.testing import CliRunner

from qa import jsonl, terminal
from qa.cli.main import cli
from qa.eval.questions import load_questions
from qa.text.articles import Problem
from qa.text.ingest import load_articles
from qa.text.readers import MAX_YAML_ALIASES

from .conftest import HashEmbedder

# under 400 bytes that expand to 9^9 strings when walked: the YAML alias bomb
YAML_BOMB = (
    "---\na: &a [x,x,x,x,x,x,x,x,x]\n"
    + "".join(f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi"))
    + "title: *i\n---\nBody.\n"
)
JSON_BOMB = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.setattr("qa.encode.backends.default_embedder", HashEmbedder)
    return CliRunner()


@pytest.fixture
def news(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "seal.txt").write_text("Seal Rescued\n\nA seal was rescued from the harbour on Monday.")
    (folder / "tram.txt").write_text("Tram Line Opens\n\nThe new tram line opened with free rides.")
    return folder


def titles(paths, **options):
    loaded = load_articles(paths, **options)
    return sorted(a.title for a in loaded.articles), loaded.problems


def only(problems, level=None):
    return [p for p in problems if level is None or p.level == level]


# --- links, devices, FIFOs, /proc -------------------------------------------------------


@pytest.mark.parametrize("target", ["/etc/passwd", "/proc/self/status", "outside.txt"])
def test_a_link_out_of_the_folder_is_skipped_with_a_warning(news, tmp_path, target):
    (tmp_path / "outside.txt").write_text("Secret\n\nThe outside secret.")
    (news / "leak.txt").symlink_to(target if target.startswith("/") else tmp_path / target)
    found, problems = titles([news])
    assert found == ["Seal Rescued", "Tram Line Opens"]
    [warning] = problems
    assert warning.path.endswith("leak.txt") and "outside" in warning.message and warning.level == "warning"


def test_follow_outside_links_reads_a_linked_file_but_never_the_kernel(news, tmp_path):
    (tmp_path / "outside.txt").write_text("Outside Story\n\nA story kept elsewhere.")
    (news / "link.txt").symlink_to(tmp_path / "outside.txt")
    (news / "status.txt").symlink_to("/proc/self/status")
    found, problems = titles([news], follow_outside_links=True)
    assert "Outside Story" in found and len(found) == 3
    assert [p.path.endswith("status.txt") and "kernel" in p.message for p in problems] == [True]


def test_links_inside_the_folder_are_read_and_a_folder_link_out_is_skipped(news, tmp_path):
    (news / "again.txt").symlink_to(news / "seal.txt")  # inside: read (stored once, as a copy)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.txt").write_text("Elsewhere\n\nNot in the folder.")
    (news / "more").symlink_to(tmp_path / "elsewhere")
    (news / "broken.txt").symlink_to(tmp_path / "missing.txt")
    found, problems = titles([news])
    assert found == ["Seal Rescued", "Tram Line Opens"]
    messages = sorted(p.message for p in problems)
    assert any("broken link" in m for m in messages) and any("outside" in m for m in messages)


def test_a_fifo_and_devices_are_skipped_without_waiting(news, tmp_path):
    os.mkfifo(news / "pipe.txt")  # opening it for reading would wait for a writer for ever
    found, problems = titles([news, "/dev/null", "/proc/self/status"])
    assert found == ["Seal Rescued", "Tram Line Opens"]
    reasons = sorted(p.message for p in problems)
    assert len(reasons) == 3 and any("FIFO" in r for r in reasons) and any("kernel" in r for r in reasons)


def test_the_cli_prints_the_skipped_link_and_indexes_the_rest(runner, news, tmp_path):
    (news / "leak.txt").symlink_to("/etc/passwd")
    result = runner.invoke(cli, ["index", str(news), "--index", str(tmp_path / "ix")])
    assert result.exit_code == 0 and "2 articles" in result.output
    assert "warning:" in result.output and "leak.txt" in result.output and "root:" not in result.output


# --- YAML front matter --------------------------------------------------------------


def test_a_yaml_alias_bomb_is_refused_quickly(news):
    assert len(YAML_BOMB) < 400
    (news / "bomb.md").write_text(YAML_BOMB)
    found, problems = titles([news])
    assert found == ["Seal Rescued", "Tram Line Opens"]
    [error] = only(problems, "error")
    assert error.path.endswith("bomb.md") and "aliases" in error.message


@pytest.mark.parametrize(
    "front, reason",
    [
        ("title: " + "[" * 40 + "x" + "]" * 40, "deeper"),  # a nesting bomb in YAML
        ("title: &t Big\n" + "\n".join(f"k{i}: *t" for i in range(MAX_YAML_ALIASES + 1)), "aliases"),
        ("title: Long\nnote: " + "x" * 20_000, "16,384"),
        ("title: [unclosed", "not valid YAML"),
    ],
)
def test_front_matter_that_could_blow_up_is_refused(news, front, reason):
    (news / "bad.md").write_text(f"---\n{front}\n---\nThe body.\n")
    found, problems = titles([news])
    assert len(found) == 2
    [error] = only(problems, "error")
    assert reason in error.message and error.path.endswith("bad.md")


def test_front_matter_with_a_few_aliases_still_reads(news):
    (news / "ok.md").write_text("---\nsection: &s World\nsource: *s\ntitle: Fine\n---\nA fine body.\n")
    [article] = [a for a in load_articles([news]).articles if a.title == "Fine"]
    assert (article.section, article.source) == ("World", "World")


# --- JSON depth ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, content",
    [
        ("bomb.json", JSON_BOMB),
        ("bomb.jsonl", '{"title": "t", "text": ' + JSON_BOMB + "}\n"),
        ("deep.json", '{"title": "t", "text": "x", "m": ' + "[" * 70 + "]" * 70 + "}"),
        ("huge-int.json", '{"title": "t", "text": "x", "date": ' + "9" * 5000 + "}"),
    ],
)
def test_a_json_bomb_is_one_bad_file_and_the_rest_is_read(news, name, content):
    (news / name).write_text(content)
    found, problems = titles([news])
    assert found == ["Seal Rescued", "Tram Line Opens"]
    [error] = only(problems, "error")
    assert error.path.endswith(name)


def test_qa_eval_and_convert_refuse_a_nesting_bomb_in_one_line(runner, built, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": "q1", "question": ' + JSON_BOMB + "}\n")
    result = runner.invoke(cli, ["eval", str(questions), "--index", str(built)])
    assert result.exit_code == 1 and "nested deeper" in result.output and "Traceback" not in result.output
    squad = tmp_path / "squad.json"
    squad.write_text('{"data": ' + JSON_BOMB + "}")
    result = runner.invoke(cli, ["convert", "squad", str(squad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "nested deeper" in result.output
    assert not isinstance(result.exception, RecursionError)


# --- metadata size --------------------------------------------------------------------


@pytest.mark.parametrize(
    "record, field, kept",
    [
        ({"title": "T" * 5_000, "text": "Body."}, "title", 1_000),
        ({"title": "T", "text": "Body.", "url": "https://ex.com/" + "u" * 10_000}, "url", None),
        ({"title": "T", "text": "Body.", "section": "s" * 300}, "section", 200),
        ({"id": "i" * 9_000, "title": "T", "text": "Body."}, "id", 500),
    ],
)
def test_every_metadata_field_is_capped(tmp_path, record, field, kept):
    (tmp_path / "a.json").write_text(json.dumps(record))
    loaded = load_articles([tmp_path])
    [article] = loaded.articles
    assert (getattr(article, field) is None) if kept is None else len(getattr(article, field)) == kept
    assert any(field in p.message and p.level == "warning" for p in loaded.problems)


def test_a_list_or_object_where_text_belongs_is_refused_or_ignored(tmp_path):
    lines = [{"title": ["a", "list"], "text": "Body one."}, {"title": "T", "text": {"an": "object"}}]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    loaded = load_articles([tmp_path])
    [article] = loaded.articles
    assert article.title == "Body one."  # the list title is dropped, the first words stand in
    assert [p.line for p in loaded.problems] == [1, 2]


# --- encodings and JSON lines -----------------------------------------------------------


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_utf16_and_utf32_with_a_bom_read_as_text(tmp_path, codec):
    text = "Café Opens\n\nThe café opened on the square. Prices are low."
    bom = {"utf-16-be": b"\xfe\xff", "utf-32-be": b"\x00\x00\xfe\xff"}.get(codec, b"")
    (tmp_path / "a.txt").write_bytes(bom + text.encode(codec))
    [article] = load_articles([tmp_path]).articles
    assert article.title == "Café Opens" and "café opened" in article.text


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0b", "\x1c"])
def test_jsonl_records_holding_line_separators_round_trip(tmp_path, separator):
    text = f"First line{separator}second line of the story."
    (tmp_path / "a.jsonl").write_text(jsonl.dumps_line({"title": "Sep", "text": text}), encoding="utf-8")
    [article] = load_articles([tmp_path]).articles
    assert article.text == text
    rows = tmp_path / "rows.jsonl"
    jsonl.write(rows, [{"q": text}, {"q": "two"}])
    assert list(jsonl.read(rows)) == [{"q": text}, {"q": "two"}]


def test_qa_eval_reads_questions_holding_u2028_and_a_torn_last_line(tmp_path):
    path = tmp_path / "feedback.jsonl"
    good = {"id": "fb-1", "question": "What\u2028happened\x85here?", "answers": []}
    path.write_text(jsonl.dumps_line(good) + '{"id": "fb-2", "quest', encoding="utf-8")
    [question] = load_questions(path)
    assert question.question == good["question"]


# --- control characters in what qa prints -------------------------------------------------


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("title\x1b]0;pwned\x07", "title\\x1b]0;pwned\\x07"),
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("csi\x9b31m", "csi\\x9b31m"),
        ("bidi\u202eevil", "bidi\\u202eevil"),
        ("line\rover", "line\\x0dover"),
    ],
)
def test_control_characters_are_escaped(raw, shown):
    assert terminal.escape_controls(raw) == shown
    shown_json = terminal.json_text({"t": raw})
    assert not terminal._CONTROLS.search(shown_json) and json.loads(shown_json) == {"t": raw}


def test_a_control_character_before_a_numbered_item_is_indexed_not_a_traceback(tmp_path, monkeypatch):
    # pysbd's list reader took "\x1f0" for a number and raised ValueError: qa index died on it.
    monkeypatch.setattr("qa.encode.backends.default_embedder", HashEmbedder)
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "a.txt").write_text("Title Here\n\nThe list:\x1f0. First item. Then more text here.")
    result = CliRunner().invoke(cli, ["index", str(tmp_path / "news"), "--index", str(tmp_path / "ix")])
    assert result.exit_code == 0 and "1 added" in result.output, result.output


def test_a_newline_in_a_file_name_cannot_forge_a_line(tmp_path):
    problem = Problem(str(tmp_path / "x\nerror: forged.txt"), "empty text: the article has no body")
    assert "\n" not in str(problem) and "\\x0a" in str(problem)
    record = logging.LogRecord("qa", logging.WARNING, __file__, 1, "%s", ("bad\nWARNING: fake",), None)
    assert "\n" not in terminal.EscapingFormatter("%(levelname)s: %(message)s").format(record)


def test_qa_ask_and_index_print_article_escapes_as_text(runner, tmp_path):
    news = tmp_path / "news"
    news.mkdir()
    (news / "evil.txt").write_text(
        "Harbour \x1b]0;owned\x07News\n\nThe harbour crane \x1b[8mhidden\x1b[0m lifted boats."
    )
    (news / "bad\nERROR: forged.txt").write_text("")
    ix = str(tmp_path / "ix")
    indexed = runner.invoke(cli, ["index", str(news), "--index", ix])
    assert indexed.exit_code == 0 and "\x1b" not in indexed.output
    assert not [line for line in indexed.output.splitlines() if line.startswith("ERROR: forged")]
    for args, escaped in (
        (["ask", "What did the harbour crane lift?"], "\\x1b"),
        (["ask", "crane", "--json"], "\\u001b"),
    ):
        asked = runner.invoke(cli, [*args, "--index", ix])
        assert asked.exit_code == 0 and "\x1b" not in asked.output and escaped in asked.output
