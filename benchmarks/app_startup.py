"""Start-up of the browser chat on an existing index, and answer latency once warm (issue 5).

    .venv/bin/python benchmarks/app_startup.py                # measure, print the table
    .venv/bin/python benchmarks/app_startup.py --write-docs   # ... and (re)write our docs section

Goals: ready in under 10 s on an existing index, which must not be re-embedded; the first
answer on the seed index in under 1 s once warm.

Measured:
1. start-up: `python app.py --index DIR --port P` in a fresh process, wall time until GET /
   answers 200 (median of --runs). The index's live generation must be the same afterwards.
2. in one process, where that time goes: importing gradio and app.py, opening the index,
   building the page, starting the server; then how long the background warm-up (loading the
   model, one query embedded) takes after the server is up.
3. warm answers: the first /ask through gradio_client once the model is loaded, then every seed
   question (median, max); and, when /usr/bin/chromium exists, the first answer in a fresh chat
   page, from the click on Ask to the reply on screen.

The index is built from seeds/ into benchmarks/out/app-index (gitignored) before anything is timed.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import bench
from app_process import Server
from bench import free_port, timed

bench.on_path()  # app.py lives at the root of the checkout
ROOT, OUT = bench.ROOT, bench.OUT
INDEX = OUT / "app-index"
DOC = bench.DOCS / "benchmarks.md"
HEADING = "## Chat start-up and first answer (issue 5)"
QUESTIONS = ROOT / "seeds" / "questions.jsonl"
CHROMIUM = Path("/usr/bin/chromium")


def live_generation() -> str:
    from qa import layout

    return (INDEX / layout.CURRENT).read_text().strip()


def cold_start() -> float:
    """Seconds from launching `python app.py` on the existing index to the page being served."""
    with Server(INDEX, log=OUT / "app-startup-server.log") as server:
        return server.ready_s


def in_process(questions: list[str]) -> dict[str, Any]:
    """Start-up stages, warm-up, and warm answer latency, all in this process."""
    t_import, app = timed(lambda: __import__("app"))
    from gradio_client import Client

    from qa.chat.service import ChatService
    from qa.search.options import DEFAULT_K

    t_open, service = timed(lambda: ChatService(INDEX))
    t_build, _ = timed(lambda: app.build(service))
    t_launch, demo = timed(lambda: app.launch(service, "127.0.0.1", free_port(), block=False))
    t_warm, _ = timed(service.warmed.wait)
    url = f"http://127.0.0.1:{demo.server_port}/"
    # The chat page first: its click is the first event the server ever handles.
    first_chat = chat_click_to_reply(url, questions[0]) if CHROMIUM.exists() else None
    client = Client(url, verbose=False)

    def ask(question: str) -> Any:
        return client.predict(question, DEFAULT_K, api_name="/ask")

    t_first, first = timed(lambda: ask(questions[1]))
    assert first["answer"], first
    times = []
    for question in questions:
        started = time.perf_counter()
        ask(question)
        times.append(time.perf_counter() - started)
    result = {
        "import": t_import,
        "open": t_open,
        "build": t_build,
        "launch": t_launch - t_build,
        "warm_up": t_warm,
        "first_api": t_first,
        "api_median": statistics.median(times),
        "api_max": max(times),
        "questions": len(times),
        "first_chat": first_chat,
    }
    demo.close()
    return result


def chat_click_to_reply(url: str, question: str) -> float:
    """Seconds from clicking Ask in a fresh chat page to the reply with its card on screen."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("#qa-conv .qa-log:not([data-v='0'])", timeout=60_000)  # load event done
        page.fill("#qa-question textarea", question)
        started = time.perf_counter()
        page.click("#qa-ask")
        page.wait_for_selector("#qa-conv .qa-turn:not(.qa-pending) .qa-card", timeout=60_000)
        elapsed = time.perf_counter() - started
        browser.close()
    return elapsed


def section(starts: list[float], stages: dict[str, Any], unchanged: bool) -> str:
    spread = f"median of {len(starts)}; fastest {min(starts):.2f}, slowest {max(starts):.2f}"
    rows = [
        (f"Start-up, `python app.py` to page served ({spread})", statistics.median(starts), "< 10 s"),
        ("... import gradio + app.py (in one process)", stages["import"], ""),
        ("... open the index (no embedding)", stages["open"], ""),
        ("... build the page", stages["build"], ""),
        ("... start the server", stages["launch"], ""),
        ("Background warm-up after start (gradio's lazy imports, model, 1 query)", stages["warm_up"], ""),
        ("First answer in a fresh chat page once warm, click to reply shown", stages["first_chat"], "< 1 s"),
        ("First `/ask` via gradio_client (new client)", stages["first_api"], "< 1 s"),
        (f"Warm `/ask`, median of the {stages['questions']} seed questions", stages["api_median"], "< 1 s"),
        ("Warm `/ask`, slowest seed question", stages["api_max"], ""),
    ]
    lines = [
        HEADING,
        "",
        f"`benchmarks/app_startup.py` on {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}. Index: the seed article (1 article, "
        "4 passages) with the packaged all-MiniLM-L6-v2. Start-up is measured in a fresh process on "
        "an existing index; the index's live generation was "
        + ("unchanged afterwards (nothing re-embedded)." if unchanged else "**changed** (re-built!)."),
        "",
        *bench.md_table(
            ["measure", "seconds", "goal"],
            [(label, "n/a (no chromium)" if v is None else f"{v:.2f}", goal) for label, v, goal in rows],
            "lrl",
        ),
        "",
        "The page is served before the model is loaded: the model (and the modules Gradio imports on "
        "its first event) load in a background thread right after start-up, so only a question asked "
        "during that warm-up waits for it. Start-up time is mostly importing gradio; opening the index "
        "reads JSON, FAISS and BM25 files and embeds nothing.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = bench.parser(__doc__)
    parser.add_argument("--runs", type=int, default=3, help="fresh-process start-ups (median is reported)")
    parser.add_argument("--probe", action="store_true", help="(internal) the in-process part; prints JSON")
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines() if line.strip()]
    if args.probe:
        print(json.dumps(in_process(questions)))
        return
    from qa.index.build import ensure_index

    ensure_index(INDEX, [ROOT / "seeds"])
    before = live_generation()
    starts = [cold_start() for _ in range(args.runs)]
    # A fresh process, so that the model is not already loaded by ensure_index().
    probe = subprocess.run(
        [sys.executable, __file__, "--probe"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    stages = json.loads(probe.stdout.strip().splitlines()[-1])
    text = section(starts, stages, live_generation() == before)
    print(text)
    if args.write_docs:
        bench.write_section(DOC, HEADING, text)
        print(f"wrote {HEADING!r} into {DOC}")


if __name__ == "__main__":
    main()
