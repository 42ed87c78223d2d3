"""Start the real chat app (app.py) in this process on a free loopback port, for API and browser tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qa.chat.service import ChatService


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_chat(service: ChatService, auth: tuple[str, str] | None = None) -> Iterator[tuple[str, Any]]:
    """Yield (url, demo) for the app serving `service`; the server is closed afterwards."""
    import app

    demo = app.launch(service, "127.0.0.1", free_port(), block=False, auth=auth)
    try:
        yield f"http://127.0.0.1:{demo.server_port}/", demo
    finally:
        demo.close()


def hostile_and_seeds(root: Path) -> list[Path]:
    return [root / "seeds", root / "tests" / "data" / "hostile"]
