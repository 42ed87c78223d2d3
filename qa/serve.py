"""How the chat is exposed: the address it binds, an optional password, and how many
requests it answers at once and holds waiting.

Plain Python with no Gradio import: app.py hands these values to Gradio's queue() and
launch(). How the chat behaves under load with these values is in docs/reliability.md
("Many users at once"; `benchmarks/load.py`).
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from .config import DEFAULT_INDEX_DIR, INDEX_ENV
from .errors import QAError

log = logging.getLogger(__name__)

AUTH_ENV = "QA_AUTH"
# Answers computed at once per API endpoint. Each answer is mostly one query embedding and
# a FAISS/BM25 search, CPU-bound, so more workers than cores only lengthens every answer.
WORKERS = 4
# Requests held waiting beyond the workers. With answers taking tens of milliseconds this is
# seconds of work: a burst of users waits its turn, and past it a client is told at once that
# the queue is full instead of waiting minutes.
QUEUE_SIZE = 64


@dataclass(frozen=True, slots=True)
class ServeOption:
    """One option of `qa serve` and `python app.py`: both parsers are built from OPTIONS."""

    name: str  # the parsed value's name (click parameter, argparse dest)
    flag: str
    env: str
    default: str | int | None
    help: str
    kind: str = "text"  # "text", "folder", "file" or "port": how each parser checks the value
    metavar: str | None = None


OPTIONS = (
    ServeOption(
        "index_dir", "--index", INDEX_ENV, str(DEFAULT_INDEX_DIR), f"Index folder (${INDEX_ENV})", "folder"
    ),
    ServeOption("host", "--host", "QA_HOST", "127.0.0.1", "Address ($QA_HOST)"),
    ServeOption("port", "--port", "QA_PORT", 7860, "Port ($QA_PORT)", "port"),
    ServeOption(
        "feedback",
        "--feedback",
        "QA_FEEDBACK",
        None,
        "JSONL file for thumbs up/down (default: INDEX/feedback/feedback.jsonl; $QA_FEEDBACK)",
        "file",
    ),
    ServeOption(
        "auth",
        "--auth",
        AUTH_ENV,
        None,
        f"Ask for this login on every page and API call (${AUTH_ENV}; the variable keeps it out of `ps`)",
        metavar="USER:PASSWORD",
    ),
)


def to_argv(values: Mapping[str, object]) -> list[str]:
    """The options' `values` (by name) as app.py's command line, in OPTIONS order; None is left out."""
    argv: list[str] = []
    for option in OPTIONS:
        value = values.get(option.name)
        if value is not None:
            argv += [option.flag, str(value)]
    return argv


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """ "user:password" (from --auth or $QA_AUTH) as Gradio's auth pair; blank or None: no password.

    The password may contain colons (only the first one separates); neither part may be empty.
    """
    if value is None or not value.strip():
        return None
    user, colon, password = value.partition(":")
    if not colon or not user.strip() or not password:
        shown = f"{user}:***" if colon else "a value without a colon"
        raise QAError(
            f"the chat password must be USER:PASSWORD with neither part empty; got {shown} "
            f"(set --auth or ${AUTH_ENV} like alice:correct-horse)"
        )
    return user.strip(), password


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[] ")).is_loopback
    except ValueError:  # a host name: it may resolve to anything, so treat it as exposed
        return False


def warn_if_exposed(host: str, auth: tuple[str, str] | None) -> bool:
    """Log a warning when the chat binds an address other machines can reach with no password.

    Returns whether it warned. The password itself is never logged.
    """
    if is_loopback(host) or auth is not None:
        return False
    log.warning(
        "the chat binds %s with no password: anyone who can reach this machine can read the "
        "articles and add to the index; set --auth USER:PASSWORD (or $%s), or bind 127.0.0.1",
        host,
        AUTH_ENV,
    )
    return True


def server_name(host: str) -> str:
    """The host as Gradio wants it: an IPv6 address in brackets ("::" -> "[::]"), so that
    the URL it builds and checks (http://[::]:7860/) is a valid one."""
    bare = host.strip().strip("[]")
    try:
        return f"[{bare}]" if ipaddress.ip_address(bare).version == 6 else bare
    except ValueError:
        return bare  # a host name


def check_address(host: str, port: int) -> None:
    """Refuse, with the fix, an address the chat cannot bind: a port out of range or in
    use, or a host that is not this machine's. Called before the server starts."""
    if not 1 <= port <= 65535:
        raise QAError(f"port {port} is out of range; give --port a number from 1 to 65535 (default 7860)")
    bare = host.strip().strip("[]")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(bare, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as ex:
        raise QAError(
            f"host {host!r} is not an address ({ex}); give --host an address like 127.0.0.1 or ::1"
        ) from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind(address)
        except OSError as ex:
            raise QAError(_bind_failure(host, port, ex)) from None


def _bind_failure(host: str, port: int, ex: OSError) -> str:
    if ex.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use (another qa serve?); stop it, or give another --port"
    if ex.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine; give --host 127.0.0.1 (only here) or 0.0.0.0 (all)"
    if ex.errno in (errno.EACCES, errno.EPERM):
        return (
            f"port {port} needs administrator rights (ports below 1024 do); choose one above 1023 with --port"
        )
    return f"cannot serve on {host}:{port} ({ex.strerror}); choose another --host or --port"
