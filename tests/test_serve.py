"""Exposing the chat: loopback by default, an optional password, a warning when exposed without one."""

import json
import logging
import time
import urllib.error
import urllib.request

import pytest

from qa.chat.service import ChatService
from qa.cli.main import cli
from qa.errors import QAError
from qa.serve import is_loopback, parse_auth, warn_if_exposed

from .chat_server import running_chat
from .conftest import HashEmbedder

LOGIN = ("alice", "s3cret:with-colon")


def test_parse_auth():
    assert parse_auth("alice:s3cret:with-colon") == LOGIN
    assert parse_auth(None) is None and parse_auth("  ") is None


@pytest.mark.parametrize("bad", ["alice", ":s3cret", "alice:"])
def test_parse_auth_refuses_a_half_login_without_showing_the_password(bad):
    with pytest.raises(QAError, match="USER:PASSWORD") as info:
        parse_auth(bad)
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_hosts(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "news.example.org"])
def test_exposed_hosts(host):
    assert not is_loopback(host)


def test_warns_only_when_exposed_without_a_password(caplog):
    with caplog.at_level(logging.WARNING, logger="qa.serve"):
        assert not warn_if_exposed("127.0.0.1", None)
        assert not warn_if_exposed("0.0.0.0", LOGIN)
        assert not caplog.records
        assert warn_if_exposed("0.0.0.0", None)
    assert "0.0.0.0 with no password" in caplog.text and "--auth" in caplog.text


def test_app_refuses_a_bad_login_before_starting(tmp_path):
    import app

    with pytest.raises(SystemExit, match="USER:PASSWORD") as info:
        app.main(["--index", str(tmp_path / "none"), "--auth", "alice"])
    assert not (tmp_path / "none").exists()
    assert "alice:***" not in str(info.value)


def test_serve_passes_the_login_from_qa_auth_to_the_app(monkeypatch, tmp_path):
    import socket

    from click.testing import CliRunner

    with socket.socket() as probe:  # a free port: 7860 may be taken by a chat the developer runs
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    seen = []
    monkeypatch.setattr("runpy.run_path", lambda path: {"main": seen.append})
    args = ["serve", "--index", str(tmp_path), "--port", port]
    result = CliRunner().invoke(cli, args, env={"QA_AUTH": "alice:pw"})
    assert result.exit_code == 0, result.output
    assert seen == [["--index", str(tmp_path), "--host", "127.0.0.1", "--port", port, "--auth", "alice:pw"]]


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    from qa.index.build import index_paths

    from .conftest import ARTICLES

    ix = tmp_path_factory.mktemp("auth") / "index"
    index_paths([ARTICLES], ix, embedder=HashEmbedder())
    with running_chat(ChatService(ix, embedder=HashEmbedder()), auth=LOGIN) as (url, _demo):
        yield url


def post_ask(url: str) -> int:
    body = json.dumps({"data": ["cranes", 2]}).encode()
    call = urllib.request.Request(url + "gradio_api/call/ask", body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(call, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as ex:
        return ex.code


def test_api_refuses_a_client_without_the_login(guarded):
    from gradio_client import Client

    assert post_ask(guarded) == 401
    with pytest.raises(Exception):  # noqa: B017  (gradio_client raises ValueError or httpx errors)
        Client(guarded, verbose=False)
    with pytest.raises(Exception):  # noqa: B017
        Client(guarded, auth=("alice", "wrong"), verbose=False)


def test_api_answers_with_the_login(guarded):
    from gradio_client import Client

    reply = Client(guarded, auth=LOGIN, verbose=False).predict(
        "Who supplied the cranes in Tallinn?", 2, api_name="/ask"
    )
    assert "Dockline" in reply["answer"]["text"]


class SlowService(ChatService):
    """Answers take a second, so a burst of requests outlasts the workers and fills the queue."""

    def api_ask(self, question: str, k: int = 5) -> dict:  # type: ignore[override]
        time.sleep(1.0)
        return {"question": question}


def test_requests_past_the_queue_are_refused_with_a_message_the_rest_answered(tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    from qa import serve
    from qa.index.build import index_paths

    from .conftest import ARTICLES

    monkeypatch.setattr(serve, "QUEUE_SIZE", 5)
    index_paths([ARTICLES], tmp_path / "index", embedder=HashEmbedder())
    with running_chat(SlowService(tmp_path / "index", embedder=HashEmbedder())) as (url, _demo):
        with ThreadPoolExecutor(8) as pool:
            clients = list(pool.map(lambda _: Client(url, verbose=False), range(4)))
        jobs = [clients[n % 4].submit(f"q{n}", 2, api_name="/ask") for n in range(20)]
        answered, refused = [], []
        for n, job in enumerate(jobs):
            try:
                answered.append((n, job.result(timeout=60)))
            except Exception as ex:  # gradio_client raises the server's refusal as an exception
                refused.append(str(ex))
    assert refused and all("queue" in r.lower() for r in refused), refused[:3]
    # At least the queue's 5 are answered; how many more the workers took before the burst filled
    # the queue depends on the machine's load (a loaded CI saw 7, an idle one 9), so it is not asserted.
    assert len(answered) >= serve.QUEUE_SIZE and len(answered) + len(refused) == len(jobs)
    assert all(reply == {"question": f"q{n}"} for n, reply in answered)
