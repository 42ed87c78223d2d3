"""Bad questions through `qa ask`: a clean error line or a normal reply, never a traceback."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qa.cli.main import cli

from .conftest import HashEmbedder

EMPTY = "the question is empty"
TOO_LONG = "the limit is 2,000"
ANSWERED = None  # a normal reply (an answer or an abstention), exit code 0

CASES = {
    "empty": ("", EMPTY),
    "blank": (" \t\n  \u3000 ", EMPTY),
    "only punctuation": ("?!... --- ;;; ¿¡ «»", EMPTY),
    "only emoji": ("\U0001f600\U0001f44d\U0001f1fa\U0001f1e6", EMPTY),
    "only control characters": ("\x00\x01\x1b\x7f\x07\x08", EMPTY),
    "terminal escape sequence": ("\x1b[31m\x1b[0m", ANSWERED),  # "[31m" is a word to search for
    "100,000 characters": ("Who supplied the cranes? " * 4000, TOO_LONG),
    "100,000 letters in one word": ("a" * 100_000, TOO_LONG),
    "mixed scripts and emoji": ("Who supplied the cranes in Tallinn \U0001f3d7 Таллин 塔林 تالين?", ANSWERED),
    "control characters inside": ("Who\x00 supplied\x1b the\r cranes\x07 in Tallinn?", ANSWERED),
    "right-to-left marks": ("\u202eWho supplied the cranes?\u202c", ANSWERED),
    "combining characters": ("Whó suppliéd the cránes?", ANSWERED),
    "surrogate escape": ("Who supplied the \udcff cranes?", ANSWERED),
}


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    from .conftest import ARTICLES

    folder = tmp_path_factory.mktemp("bad-questions") / "ix"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("qa.encode.backends.default_embedder", HashEmbedder)
        result = CliRunner().invoke(cli, ["index", str(ARTICLES), "--index", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("name", list(CASES))
def test_bad_question_gives_a_clean_line(name, as_json, index_dir, monkeypatch):
    monkeypatch.setattr("qa.encode.backends.default_embedder", HashEmbedder)
    question, error = CASES[name]
    args = ["ask", question, "--index", str(index_dir)] + (["--json"] if as_json else [])
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    if error is None:
        assert result.exit_code == 0, result.output
        if as_json:
            assert "answer" in json.loads(result.output)
    else:
        assert result.exit_code == 1
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and error in lines[0]
        assert len(lines[0]) < 300  # the error never echoes a 100,000-character question


@pytest.fixture(scope="module")
def service(index_dir):
    from qa.chat.service import ChatService

    return ChatService(index_dir, embedder=HashEmbedder())


@pytest.mark.parametrize("name", list(CASES))
def test_bad_question_in_the_chat_is_a_message_or_a_reply(name, service):
    """The chat and its API raise only QAError (shown as a message), also as a follow-up."""
    from qa.errors import QAError

    question, error = CASES[name]
    first = service.respond("Who supplied the cranes in Tallinn?", [], 0)
    calls = {
        "chat": lambda: service.respond(question, [], 1),
        "follow-up": lambda: service.respond(question, [first.turn], 1),
        "api /ask": lambda: service.api_ask(question, 3),
        "api /search": lambda: service.api_search(question, 3),
    }
    for call in calls.values():
        if error is None:
            call()
        else:
            with pytest.raises(QAError, match=error):  # every entry point refuses it the same way
                call()
