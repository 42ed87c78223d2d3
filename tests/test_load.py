"""Many users at once: 20 clients ask the real chat together, on the real model and the seed index.

Forty /ask requests are submitted at once, far more than the server answers at a time
(qa.serve.WORKERS): the rest must wait in Gradio's queue and every one must come back as
the same answer the chat gives to that question alone. `benchmarks/load.py` measures the
longer run (latency, throughput, memory) for docs/reliability.md.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from qa.chat.service import ChatService
from qa.index.build import index_paths
from qa.serve import QUEUE_SIZE, WORKERS

from .chat_server import running_chat
from .conftest import ROOT

CLIENTS, EACH = 20, 2
pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    ix = tmp_path_factory.mktemp("load") / "index"
    index_paths([ROOT / "seeds"], ix)
    service = ChatService(ix)
    with running_chat(service) as (url, _demo):
        assert service.warmed.wait(120)
        yield url, service


def test_twenty_clients_at_once_are_queued_and_all_answered(served):
    from gradio_client import Client

    url, service = served
    lines = (ROOT / "seeds" / "questions.jsonl").read_text().splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    expected = {q: service.api_ask(q, 5) for q in questions}
    assert WORKERS < CLIENTS * EACH <= QUEUE_SIZE  # more than run at once, fewer than the queue holds
    with ThreadPoolExecutor(CLIENTS) as pool:
        clients = list(pool.map(lambda _: Client(url, verbose=False), range(CLIENTS)))
    asked = [questions[(i * EACH + j) % len(questions)] for i in range(CLIENTS) for j in range(EACH)]
    jobs = [clients[n // EACH].submit(q, 5, api_name="/ask") for n, q in enumerate(asked)]
    replies = [job.result(timeout=120) for job in jobs]
    assert len(replies) == CLIENTS * EACH
    for question, reply in zip(asked, replies):
        assert reply == expected[question], question
