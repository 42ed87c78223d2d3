"""The chat as the benchmarks start it: `python app.py` in a child process on a free loopback port.

`Server(index)` returns once GET / answers 200 (`ready_s`: seconds from launch to then), and reads
the child's resident memory and CPU time from /proc (Linux only). The child's QA_* environment
is dropped, so only the arguments choose the index; its output goes to a log file, not a pipe (a
full pipe would stall the server). `QueueWatch(server)` polls the length of Gradio's queue.
Used by app_startup.py, chat_answer_time.py and load.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from bench import OUT, ROOT, free_port

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


class Server:
    """`python app.py --index INDEX --port P` of `checkout`, serving on 127.0.0.1."""

    def __init__(
        self, index: Path, checkout: Path = ROOT, *, log: Path | None = None, limit: float = 120.0
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
        argv = [sys.executable, str(checkout / "app.py"), "--index", str(index), "--port", str(self.port)]
        OUT.mkdir(parents=True, exist_ok=True)
        self.log = log or OUT / "app-server.log"
        started = time.perf_counter()
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(argv, cwd=checkout, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.wait_ready(limit)
        self.ready_s = time.perf_counter() - started

    def wait_ready(self, limit: float) -> None:
        deadline = time.monotonic() + limit
        while self.proc.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        code = self.proc.poll()
        self.stop()
        tail = self.log.read_text(errors="replace")[-2000:]
        why = f"exited with {code}" if code is not None else f"did not serve {self.url} within {limit:.0f}s"
        raise SystemExit(f"app.py {why}: {tail}")

    def rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE / 2**20

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime

    def queue_size(self) -> int:
        with urllib.request.urlopen(self.url + "gradio_api/queue/status", timeout=5) as response:
            return int(json.load(response)["queue_size"])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class QueueWatch:
    """Polls Gradio's queue length in the background; `longest` is the most requests seen waiting."""

    def __init__(self, server: Server):
        self.server, self.longest, self.done = server, 0, threading.Event()
        self.thread = threading.Thread(target=self.watch)

    def watch(self) -> None:
        while not self.done.is_set():
            self.longest = max(self.longest, self.server.queue_size())
            time.sleep(0.02)

    def __enter__(self) -> QueueWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()
