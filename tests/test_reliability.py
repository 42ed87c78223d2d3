"""Faults and bad input: a damaged index is found, writers queue, kills lose nothing."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from qa import store
from qa.cli import cli

from .conftest import HashEmbedder


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.setattr("qa.embed.default_embedder", HashEmbedder)
    return CliRunner()


def flip_byte(file, offset=-1):
    data = bytearray(file.read_bytes())
    data[offset] ^= 0xFF
    file.write_bytes(bytes(data))


def test_verify_reports_ok_then_a_corrupted_byte_and_rebuild_repairs_it(runner, articles_dir, tmp_path):
    ix = str(tmp_path / "ix")
    assert runner.invoke(cli, ["index", str(articles_dir), "--index", ix]).exit_code == 0
    ok = runner.invoke(cli, ["index", "--verify", "--index", ix])
    assert ok.exit_code == 0 and ok.output.startswith("OK: ")

    flip_byte(store.live_generation(tmp_path / "ix") / "dense.faiss")  # same size: only the hash sees it
    damaged = runner.invoke(cli, ["index", "--verify", "--index", ix])
    assert damaged.exit_code == 1
    assert "dense.faiss" in damaged.output and f"qa index --rebuild --index {ix}" in damaged.output
    assert "passages.jsonl" not in damaged.output

    repaired = runner.invoke(cli, ["index", "--rebuild", "--index", ix])
    assert repaired.exit_code == 0, repaired.output
    assert runner.invoke(cli, ["index", "--verify", "--index", ix]).exit_code == 0


def test_verify_of_missing_file_missing_index_and_bad_manifest(runner, built, tmp_path):
    folder = store.live_generation(built)
    (folder / "sentences.npy").unlink()
    missing = runner.invoke(cli, ["index", "--verify", "--index", str(built)])
    assert missing.exit_code == 1 and "sentences.npy" in missing.output

    none = runner.invoke(cli, ["index", "--verify", "--index", str(tmp_path / "none")])
    assert none.exit_code == 1 and "no index at" in none.output and "Traceback" not in none.output

    (folder / "manifest.json").write_text("{not json")
    bad = runner.invoke(cli, ["index", "--verify", "--index", str(built)])
    assert bad.exit_code == 1 and "manifest" in bad.output and "qa index --rebuild" in bad.output
    assert not isinstance(bad.exception, ValueError)


def test_verify_takes_no_paths(runner, built, articles_dir):
    result = runner.invoke(cli, ["index", str(articles_dir), "--verify", "--index", str(built)])
    assert result.exit_code == 2 and "--verify" in result.output


@pytest.mark.parametrize("name", ["dense.faiss", "passages.jsonl", "articles.jsonl", "sentences.npy"])
def test_rebuild_repairs_a_file_damaged_at_its_start(runner, built, articles_dir, name):
    flip_byte(store.live_generation(built) / name, offset=0)
    asked = runner.invoke(cli, ["ask", "Who supplied the cranes?", "--index", str(built)])
    assert asked.exit_code in (0, 1) and "Traceback" not in asked.output
    assert not isinstance(asked.exception, Exception) or isinstance(asked.exception, SystemExit)
    repaired = runner.invoke(cli, ["index", "--rebuild", "--index", str(built)])  # from the recorded sources
    assert repaired.exit_code == 0, repaired.output
    assert "6 articles" in repaired.output
    assert runner.invoke(cli, ["index", "--verify", "--index", str(built)]).exit_code == 0
