"""Worker processes that end when the process that started them dies, even by SIGKILL.

A pool worker waits on a pipe for work. When `qa index` is killed with SIGKILL the
pipe never reaches EOF (a spawned worker holds both ends), so without this the workers
would wait for ever. On Linux the kernel sends the worker SIGKILL when its parent dies
(prctl PR_SET_PDEATHSIG); elsewhere a thread polls the parent's pid once a second.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
POLL_SECONDS = 1.0


def die_with_parent(parent_pid: int) -> None:
    """Pool initializer: end this process when `parent_pid` (the one that started it) dies."""
    if not _parent_death_signal():
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="qa-lifeline").start()
    if os.getppid() != parent_pid:  # the parent died before the watch was set up
        os._exit(1)


def _parent_death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; False where that cannot be done."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:  # an orphan is re-parented (to init or a subreaper)
        time.sleep(POLL_SECONDS)
    os._exit(1)
