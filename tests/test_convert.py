"""`qa convert` on tiny SQuAD, COVID-QA and BEIR fixtures, and their output through `qa eval`."""

import json
import shutil

import pytest
from click.testing import CliRunner

from qa import Engine, SearchOptions, index_paths
from qa.cli.main import cli
from qa.config import IndexSettings
from qa.errors import DatasetError
from qa.eval.convert import convert_beir, convert_squad, slug
from qa.eval.evaluate import evaluate
from qa.eval.questions import load_questions

from .conftest import DATA, HashEmbedder


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize(
    "title, expected",
    [("Super_Bowl_50", "super-bowl-50"), ("Éire & the U.K.", "eire-the-u-k"), ("???", "article")],
)
def test_slug(title, expected):
    assert slug(title) == expected


def test_slug_is_cut_at_a_word():
    assert slug("word " * 30) == "-".join(["word"] * 12)


def test_squad_v2_one_article_per_title(tmp_path):
    done = convert_squad(DATA / "squad.json", tmp_path)
    assert (done.articles, done.questions, done.unanswerable) == (2, 4, 1)
    bowl, khan = lines(tmp_path / "articles.jsonl")
    assert bowl["id"] == "super-bowl-50" and bowl["title"] == "Super Bowl 50"
    assert bowl["text"].count("\n\n") == 1 and bowl["text"].endswith("Santa Clara.")
    questions = {q["id"]: q for q in lines(tmp_path / "questions.jsonl")}
    assert questions["sb1"]["answers"] == ["Denver Broncos", "The Denver Broncos"]  # repeats dropped
    assert questions["sb1"]["article_ids"] == ["super-bowl-50"]
    assert questions["sb2"] == {
        "id": "sb2",
        "question": "Who lost Super Bowl 49?",
        "answers": [],
        "article_ids": [],
        "unanswerable": True,
    }
    assert questions["gk1"]["article_ids"] == [khan["id"]]


def test_covid_qa_title_is_the_first_line(tmp_path):
    done = convert_squad(DATA / "covid-qa.json", tmp_path)
    assert (done.articles, done.questions) == (2, 2)
    first, second = lines(tmp_path / "articles.jsonl")
    assert first["title"] == "Role of Masks in Viral Spread" and first["text"].startswith("https://")
    assert second["id"] == "role-of-masks-in-viral-spread-2"  # same title, own id
    assert lines(tmp_path / "questions.jsonl")[0] == {
        "id": "568",
        "question": "By how much did masks reduce transmission?",
        "answers": ["70 percent"],
        "article_ids": ["role-of-masks-in-viral-spread"],
    }


def test_beir_graded_qrels_and_split(tmp_path):
    done = convert_beir(DATA / "beir", tmp_path)  # "test" when there is one
    assert (done.articles, done.questions) == (3, 2)  # the empty abstract and unjudged query left out
    articles = lines(tmp_path / "articles.jsonl")
    assert [a["id"] for a in articles] == ["d1", "d2", "d4"] and articles[1][
        "url"
    ] == "https://example.org/d2"
    first = lines(tmp_path / "questions.jsonl")[0]
    assert first == {
        "id": "1",
        "question": "Vitamin D improves bone density.",
        "article_ids": ["d1"],
        "qrels": {"d1": 2, "d4": 0},
    }
    train = convert_beir(DATA / "beir", tmp_path / "train", split="train")
    assert train.questions == 1 and lines(tmp_path / "train" / "questions.jsonl")[0]["qrels"] == {"d1": 1}


def test_bad_inputs_name_the_problem(tmp_path):
    with pytest.raises(DatasetError, match="choose one of: test, train"):
        convert_beir(DATA / "beir", tmp_path, split="dev")
    with pytest.raises(DatasetError, match="no qrels"):
        convert_beir(tmp_path, tmp_path / "out")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(DatasetError, match="no top-level 'data' list"):
        convert_squad(tmp_path / "list.json", tmp_path / "out")
    (tmp_path / "odd.json").write_text('{"data": [{"title": "T", "paragraphs": [{"qas": []}]}]}')
    with pytest.raises(DatasetError, match="entry 1 is not SQuAD-shaped"):
        convert_squad(tmp_path / "odd.json", tmp_path / "out")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(DatasetError, match="is not JSON"):
        convert_squad(tmp_path / "broken.json", tmp_path / "out")


def test_converted_set_indexes_and_evaluates(tmp_path):
    embedder = HashEmbedder()
    convert_squad(DATA / "squad.json", tmp_path / "squad")
    settings = IndexSettings(model=embedder.name, dim=embedder.dim)
    built = index_paths([tmp_path / "squad"], tmp_path / "ix", embedder=embedder, settings=settings)
    assert built.report.articles == 2  # questions.jsonl beside the articles is skipped
    engine = Engine.from_index(tmp_path / "ix", embedder=embedder)
    run = evaluate(engine, load_questions(tmp_path / "squad" / "questions.jsonl"), SearchOptions(k=2))
    assert run.report.counts == {"answerable": 3, "unanswerable": 1, "with_answers": 3, "with_articles": 3}
    assert run.report.metrics["hit@1"] == 1.0 and run.report.metrics["answer_recall@1"] == 1.0


def test_cli_convert(tmp_path):
    runner = CliRunner()
    squad = runner.invoke(cli, ["convert", "squad", str(DATA / "squad.json"), "--out", str(tmp_path / "s")])
    assert squad.exit_code == 0, squad.output
    assert "2 articles, 4 questions (1 unanswerable) ->" in squad.output
    beir = runner.invoke(cli, ["convert", "beir", str(DATA / "beir"), "--out", str(tmp_path / "b")])
    assert beir.exit_code == 0 and "3 articles, 2 questions (0 unanswerable)" in beir.output
    bad = runner.invoke(cli, ["convert", "beir", str(DATA / "beir"), "--out", str(tmp_path), "--split", "x"])
    assert bad.exit_code == 1 and "Error: " in bad.output and "Traceback" not in bad.output


@pytest.mark.parametrize("end", ["", "\n"])  # a torn last line stops a conversion too
def test_a_bad_beir_line_names_the_file_and_line(tmp_path, end):
    shutil.copytree(DATA / "beir", tmp_path / "beir")
    corpus = tmp_path / "beir" / "corpus.jsonl"
    good = corpus.read_text().count("\n")
    corpus.write_text(corpus.read_text() + '\n{"_id": "d9", "text": ' + end)  # a blank line, then the bad one
    with pytest.raises(DatasetError, match=rf"corpus\.jsonl:{good + 2}: malformed JSON"):
        convert_beir(tmp_path / "beir", tmp_path / "out")


def test_convert_replaces_only_its_own_earlier_output(tmp_path):
    """A rerun into the same folder writes the same bytes; a user's other file there is kept."""
    first = convert_squad(DATA / "squad.json", tmp_path)
    assert convert_squad(DATA / "squad.json", tmp_path) == first
    mine = tmp_path / "articles.jsonl"
    mine.write_text('{"id": "mine", "title": "Mine", "text": "My own notes."}\n')
    with pytest.raises(DatasetError, match="articles.jsonl already exist with other content; give another --out"):
        convert_squad(DATA / "squad.json", tmp_path)
    assert mine.read_text().startswith('{"id": "mine"')
