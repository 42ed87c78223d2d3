"""Enter-to-answer time in the browser chat, for two checkouts side by side (issue 14).

    .venv/bin/python benchmarks/chat_answer_time.py --before /tmp/main-checkout            # print
    .venv/bin/python benchmarks/chat_answer_time.py --before /tmp/main-checkout --write-docs

Both apps (`python app.py` of this checkout and of --before, each in its own process, on one
index built here from seeds/ and tests/data/articles/) serve at once. Each round opens a fresh
Chromium page (1280x900) on each app in turn, the order alternating, and asks the seed
questions one after another in that page, so a reply's time includes drawing a conversation
that grows. The time is measured inside the page: from the Enter key to the answer's
sentence being in the document (a MutationObserver), so Playwright's polling adds nothing.
The machine is shared: the load average is printed with the results.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import bench
from app_process import Server

bench.on_path()
ROOT, OUT = bench.ROOT, bench.OUT
INDEX = OUT / "chat-answer-index"
DOC = bench.DOCS / "benchmarks.md"
HEADING = "## Chat answer time in the browser (issue 14)"
CHROMIUM = Path("/usr/bin/chromium")
# An answer's sentence, in either page: the chat of gr.Chatbot (before) or qa's own conversation.
ANSWER = "#qa-chat .qa-reply .qa-answer, #qa-conv .qa-turn:not(.qa-pending) .qa-answer"
TIMER = """sel => {
  window.qaTimes = []; window.qaSeen = document.querySelectorAll(sel).length;
  document.addEventListener('keydown', e => {
    if (e.key === 'Enter' && e.target.closest('#qa-question')) window.qaStart = performance.now();
  }, true);
  new MutationObserver(() => {
    const n = document.querySelectorAll(sel).length;
    if (n > window.qaSeen) { window.qaSeen = n; window.qaTimes.push(performance.now() - window.qaStart); }
  }).observe(document.body, {subtree: true, childList: true});
}"""


def one_page(browser: Any, url: str, questions: list[str]) -> list[float]:
    """Seconds from Enter to the answer on screen, for each question asked in one fresh page."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.wait_for_selector("#qa-question textarea", timeout=60_000)
    page.wait_for_timeout(500)  # the page's own load events settle
    if page.locator("#qa-conv").count():  # issue 14's page renders the conversation anew on load
        page.wait_for_selector("#qa-conv .qa-log:not([data-v='0'])", timeout=60_000)
    page.evaluate(TIMER, ANSWER)
    for n, question in enumerate(questions, start=1):
        page.fill("#qa-question textarea", question)
        page.press("#qa-question textarea", "Enter")
        page.wait_for_function(f"window.qaTimes.length >= {n}", timeout=60_000)
    times = page.evaluate("window.qaTimes")
    page.close()
    return [t / 1000 for t in times]


def measure(checkouts: dict[str, Path], questions: list[str], rounds: int) -> dict[str, list[list[float]]]:
    from playwright.sync_api import sync_playwright

    # `python app.py` of each checkout on the shared index, each serving before anything is timed
    servers = {
        n: Server(INDEX, path, log=OUT / f"chat-answer-{n}.log", limit=180) for n, path in checkouts.items()
    }
    results: dict[str, list[list[float]]] = {name: [] for name in checkouts}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
            )
            for name in checkouts:  # a first page each, not counted: the model's first query
                one_page(browser, servers[name].url, questions[:1])
            for r in range(rounds):
                order = list(checkouts) if r % 2 == 0 else list(reversed(checkouts))
                for name in order:
                    results[name].append(one_page(browser, servers[name].url, questions))
            browser.close()
    finally:
        for server in servers.values():
            server.stop()
    return results


def summary(times: list[list[float]]) -> dict[str, float]:
    flat = sorted(t for page in times for t in page)
    first = [page[0] for page in times]
    last = [page[-1] for page in times]
    return {
        "n": len(flat),
        "median": statistics.median(flat),
        "p90": flat[int(0.9 * (len(flat) - 1))],
        "first": statistics.median(first),
        "last": statistics.median(last),
    }


def section(stats: dict[str, dict[str, float]], questions: int, rounds: int, load: tuple[str, str]) -> str:
    lines = [
        HEADING,
        "",
        f"`benchmarks/chat_answer_time.py` on {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}; load average {load[0]} before and "
        f"{load[1]} after (the machine was shared with other engineers' jobs). Index: the seed "
        "article and the 6 test articles, packaged all-MiniLM-L6-v2. Each round opens a fresh page "
        f"(1280x900) on each app, the order alternating, and asks the {questions} seed questions one "
        f"after another; {rounds} rounds. Time from the Enter key to the answer's sentence in the page, "
        "measured in the page.",
        "",
        *bench.md_table(
            ["app", "answers", "median s", "p90 s", "first question (median) s", "last question (median) s"],
            [
                [name, s["n"], *(f"{s[k]:.3f}" for k in ("median", "p90", "first", "last"))]
                for name, s in stats.items()
            ],
            "lrrrrr",
        ),
        "",
        "`before` is main as it was before issue 14 (gr.Chatbot); `after` is the chat of issue 14, "
        'which also shows the question with "Searching your articles…" at once, before the answer. '
        "Its conversation is one HTML component patched in place, where gr.Chatbot rendered every message "
        "through Markdown; the answer itself takes the same Engine.ask in both.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = bench.parser(__doc__)
    parser.add_argument("--before", type=Path, required=True, help="checkout to compare with (e.g. main)")
    parser.add_argument("--rounds", type=int, default=6, help="pages per app (default 6)")
    args = parser.parse_args()
    rows = (ROOT / "seeds" / "questions.jsonl").read_text().splitlines()
    questions = [json.loads(line)["question"] for line in rows if line.strip()]
    from qa.index.build import ensure_index

    ensure_index(INDEX, [ROOT / "seeds", ROOT / "tests" / "data" / "articles"])
    load_before = bench.load_line()
    results = measure({"before": args.before.resolve(), "after": ROOT}, questions, args.rounds)
    stats = {name: summary(times) for name, times in results.items()}
    text = section(stats, len(questions), args.rounds, (load_before, bench.load_line()))
    print(text)
    print(json.dumps(results))
    if args.write_docs:
        bench.write_section(DOC, HEADING, text)
        print(f"wrote {HEADING!r} into {DOC}")


if __name__ == "__main__":
    main()
