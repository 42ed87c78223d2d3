"""The app's API endpoints through gradio_client, against a server started here on loopback."""

import json

import pytest
from click.testing import CliRunner

from qa.chat.service import ChatService
from qa.cli.main import cli

from .chat_server import running_chat
from .conftest import HashEmbedder


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from qa.index.build import index_paths

    from .conftest import ARTICLES

    ix = tmp_path_factory.mktemp("app") / "index"
    index_paths([ARTICLES], ix, embedder=HashEmbedder())
    with running_chat(ChatService(ix, embedder=HashEmbedder())) as (url, demo):
        yield url, ix


@pytest.fixture(scope="module")
def client(served):
    from gradio_client import Client

    return Client(served[0], verbose=False)


def test_ask_endpoint_returns_the_json_of_qa_ask(client, served, monkeypatch):
    question = "Who supplied the cranes in Tallinn?"
    via_api = client.predict(question, 2, api_name="/ask")
    monkeypatch.setattr("qa.encode.backends.default_embedder", HashEmbedder)
    result = CliRunner().invoke(cli, ["ask", question, "-k", "2", "--index", str(served[1]), "--json"])
    assert result.exit_code == 0, result.output
    assert via_api == json.loads(result.output)
    assert "Dockline" in via_api["answer"]["text"]


def test_ask_endpoint_with_filters(client):
    data = client.predict("Who won the election?", 3, "2024-03-01", "", ["Agriculture"], [], api_name="/ask")
    assert {p["section"] for p in data["passages"]} == {"Agriculture"}


def test_search_endpoint(client):
    data = client.predict("container terminal cranes", 3, api_name="/search")
    assert data["query"] == "container terminal cranes"
    assert [p["rank"] for p in data["passages"]] == [1, 2, 3]
    assert data["passages"][0]["article_id"] == "harbour"


def test_errors_come_back_as_messages(client):
    with pytest.raises(Exception, match="empty"):
        client.predict("   ", 3, api_name="/ask")
    with pytest.raises(Exception, match="YYYY-MM-DD"):
        client.predict("cranes", 3, "someday", api_name="/ask")


def test_only_ask_and_search_are_public(client):
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {"/ask", "/search"}


def test_serve_binds_loopback_by_default():
    serve = cli.commands["serve"]
    defaults = {p.name: p.default for p in serve.params}
    assert defaults["host"] == "127.0.0.1" and defaults["port"] == 7860
    assert {p.name: p.envvar for p in serve.params}["host"] == "QA_HOST"
