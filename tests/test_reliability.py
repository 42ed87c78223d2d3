"""Faults and bad input: a damaged index is found, writers queue, kills lose nothing."""

from __future__ import annotations

import logging
import threading

import pytest
from click.testing import CliRunner

from qa.cli.main import cli
from qa.index import folder as index_folder
from qa.index import lock
from qa.index.build import index_paths
from qa.index.passage_index import PassageIndex

from .conftest import HashEmbedder, segment_file


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.setattr("qa.encode.backends.default_embedder", HashEmbedder)
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

    flip_byte(segment_file(tmp_path / "ix", "dense.faiss"))  # same size: only the hash sees it
    damaged = runner.invoke(cli, ["index", "--verify", "--index", ix])
    assert damaged.exit_code == 1
    assert "dense.faiss" in damaged.output and f"qa index --rebuild --index {ix}" in damaged.output
    assert "passages.jsonl" not in damaged.output

    repaired = runner.invoke(cli, ["index", "--rebuild", "--index", ix])
    assert repaired.exit_code == 0, repaired.output
    assert runner.invoke(cli, ["index", "--verify", "--index", ix]).exit_code == 0


def test_verify_of_missing_file_missing_index_and_bad_manifest(runner, built, tmp_path):
    folder = index_folder.live_generation(built)
    segment_file(built, "sentences.npy").unlink()
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
    flip_byte(segment_file(built, name), offset=0)
    asked = runner.invoke(cli, ["ask", "Who supplied the cranes?", "--index", str(built)])
    assert asked.exit_code in (0, 1) and "Traceback" not in asked.output
    assert not isinstance(asked.exception, Exception) or isinstance(asked.exception, SystemExit)
    repaired = runner.invoke(cli, ["index", "--rebuild", "--index", str(built)])  # from the recorded sources
    assert repaired.exit_code == 0, repaired.output
    assert "6 articles" in repaired.output
    assert runner.invoke(cli, ["index", "--verify", "--index", str(built)]).exit_code == 0


class Waiting(logging.Handler):
    """Sets an event when a writer says it is waiting for the lock."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "waiting for another qa index" in record.getMessage():
            self.seen.set()


def test_a_second_writer_waits_for_the_lock_and_readers_do_not(built, articles_dir, settings):
    before = PassageIndex.load(built)
    (articles_dir / "new.txt").write_text("Brand New\n\nA fresh article about bridges.")
    waiting = Waiting()
    logging.getLogger("qa.index.lock").addHandler(waiting)
    results: list = []
    try:
        with lock.writer_lock(built):  # stands in for a first `qa index` still writing
            second = threading.Thread(
                target=lambda: results.append(
                    index_paths([articles_dir], built, embedder=HashEmbedder(), settings=settings)
                )
            )
            second.start()
            assert waiting.seen.wait(60), "the second writer did not report waiting"
            assert second.is_alive() and results == []
            during = PassageIndex.load(built)  # a reader is not blocked by the writer lock
            assert during.folder == before.folder and "new" not in during.articles
        second.join(120)
    finally:
        logging.getLogger("qa.index.lock").removeHandler(waiting)
    assert not second.is_alive() and results[0].report.added == 1
    assert "new" in PassageIndex.load(built).articles


def test_two_writers_at_once_both_finish_and_leave_one_generation(tmp_path, articles_dir, settings):
    other = tmp_path / "other"
    other.mkdir()
    (other / "owls.txt").write_text("Owls\n\nAn uploaded story about owls. They hunt at night.")
    index_dir = tmp_path / "ix"
    errors: list = []

    def run(folder):
        try:
            index_paths([folder], index_dir, embedder=HashEmbedder(), settings=settings)
        except Exception as ex:  # pragma: no cover - reported below
            errors.append(ex)

    writers = [threading.Thread(target=run, args=(f,)) for f in (articles_dir, other, articles_dir, other)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(120)
    assert errors == [] and not any(w.is_alive() for w in writers)
    index = PassageIndex.load(index_dir, verify=True)
    assert sorted(index.articles) == ["owls"] or (len(index.articles) == 6 and "owls" not in index.articles)
    names = [p.name for p in index_dir.iterdir()]
    assert len([n for n in names if n.startswith("gen-")]) == 1
    assert not [n for n in names if n.startswith(".building")]


def test_a_file_over_the_size_limit_is_reported_and_the_rest_indexed(tmp_path, monkeypatch):
    from qa.text.ingest import load_articles

    monkeypatch.setattr("qa.text.ingest.MAX_FILE_BYTES", 100)
    (tmp_path / "big.txt").write_text("Big\n\n" + "A sentence of the big story. " * 10)
    (tmp_path / "small.txt").write_text("Small\n\nA small story.")
    result = load_articles([tmp_path])
    assert [a.title for a in result.articles] == ["Small"]
    [problem] = result.errors
    assert problem.path.endswith("big.txt") and "100-byte limit" in problem.message


def test_a_binary_file_without_nul_bytes_renamed_txt_is_skipped(tmp_path):
    from qa.text.ingest import load_articles

    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes((i * 37 + 11) % 255 + 1 for i in range(5000))
    assert b"\x00" not in pdf
    (tmp_path / "report.txt").write_bytes(pdf)
    (tmp_path / "latin.txt").write_bytes("Caf\xe9 News\n\nThe caf\xe9 opened.".encode("latin-1"))
    result = load_articles([tmp_path])
    assert [a.title for a in result.articles] == ["Café News"]
    [error] = result.errors
    assert error.path.endswith("report.txt") and "binary file" in error.message
