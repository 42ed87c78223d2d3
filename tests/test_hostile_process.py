"""Hostile and careless use, part 3: processes and addresses (issue 13).

Split workers that outlive a `qa index` killed with SIGKILL, and the chat started
on a file, an address in use or out of range, or IPv6. Parts 1 and 2 are
tests/test_hostile.py and tests/test_hostile_index.py.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa import serve
from qa.chat.service import ChatService
from qa.cli.main import cli
from qa.errors import QAError

from .chat_server import free_port
from .conftest import ROOT

# Runs as the main script and again (as __mp_main__) in every spawned worker, so the
# patches below are in place there: each worker writes its pid and hangs in the split.
SPLITTER = r"""
import os, sys, time
from pathlib import Path
import qa.lifeline, qa.text.passages

def hang(article, settings, count):
    Path(sys.argv[1], f"worker-{os.getpid()}").write_text("")
    time.sleep(600)

qa.text.passages.split_article = hang
qa.text.passages.model_token_counter = lambda: None
if sys.argv[2] == "poll":  # the portable fallback: a thread watching the parent's pid
    qa.lifeline._parent_death_signal = lambda: False

if __name__ == "__main__":
    from qa.text.articles import Article
    from qa.config import IndexSettings
    articles = [Article(id=str(i), title="t", text="words " * 10) for i in range(4)]
    qa.text.passages.split_articles(articles, IndexSettings(), workers=2, parallel_chars=0)
"""


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting for a reaper (a container's init may never reap)."""
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state


def wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads process states from /proc")
@pytest.mark.parametrize("watch", ["pdeathsig", "poll"])
def test_split_workers_die_with_a_parent_killed_by_sigkill(tmp_path, watch):
    script = tmp_path / "splitter.py"
    script.write_text(SPLITTER)
    parent = subprocess.Popen([sys.executable, str(script), str(tmp_path), watch], cwd=ROOT)
    try:
        assert wait_for(lambda: len(list(tmp_path.glob("worker-*"))) == 2, 120), "the workers never started"
        workers = [int(p.name.split("-")[1]) for p in tmp_path.glob("worker-*")]
        assert all(alive(pid) for pid in workers)
        parent.send_signal(signal.SIGKILL)
        parent.wait(30)
        assert wait_for(lambda: not any(alive(pid) for pid in workers), 30), "workers outlived their parent"
    finally:
        parent.kill()
        for pid_file in tmp_path.glob("worker-*"):
            subprocess.run(["kill", "-9", pid_file.name.split("-")[1]], capture_output=True)


# --- the chat's address ----------------------------------------------------------------------


def test_a_port_in_use_or_out_of_range_is_one_clean_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(QAError, match="already in use"):
            serve.check_address("127.0.0.1", port)
        result = CliRunner().invoke(cli, ["serve", "--port", str(port)])
        assert (
            result.exit_code == 1 and "already in use" in result.output and "Traceback" not in result.output
        )
    for port in ("70000", "0", "-1"):
        result = CliRunner().invoke(cli, ["serve", "--port", port])
        assert result.exit_code == 2 and "1<=x<=65535" in result.output
    with pytest.raises(QAError, match="out of range"):
        serve.check_address("127.0.0.1", 65536)


@pytest.mark.parametrize("host", ["no such host.invalid", "203.0.113.7"])
def test_a_host_that_is_not_this_machine_is_one_clean_line(host):
    with pytest.raises(QAError, match="--host"):
        serve.check_address(host, 7860)


def test_the_chat_serves_on_ipv6(built, embedder):
    assert [serve.server_name(h) for h in ("::", "[::1]", "127.0.0.1", "localhost")] == [
        "[::]",
        "[::1]",
        "127.0.0.1",
        "localhost",
    ]
    try:
        serve.check_address("::1", free_port())
    except QAError as ex:  # no IPv6 in this container: then it is one clean line
        assert "\n" not in str(ex)
        pytest.skip(f"no IPv6 here: {ex}")
    import app

    demo = app.launch(ChatService(built, embedder=embedder), "::", free_port(), block=False)
    try:
        with urllib.request.urlopen(f"http://[::1]:{demo.server_port}/", timeout=30) as page:
            assert page.status == 200
    finally:
        demo.close()


def test_app_on_a_file_for_an_index_says_so_in_one_line(tmp_path):
    import app

    (tmp_path / "afile").write_text("not an index")
    for port, says in ((0, "port 0 is out of range"), (free_port(), "is a file, not an index folder")):
        with pytest.raises(SystemExit) as stopped:
            app.main(["--index", str(tmp_path / "afile"), "--port", str(port)])
        message = str(stopped.value.code)
        assert message.startswith("Error: ") and says in message and "\n" not in message
