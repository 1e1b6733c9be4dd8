"""Forget browser tabs that left: Gradio's per-session state, dropped after it has been idle a while.

Gradio keeps one ``SessionState`` per session id (about 130 KB: a copy of
every component's config, plus the tab's ``gr.State`` values) until 10,000
of them exist; nothing frees the state of a tab that was closed, and a
client can make a new session id with every request.  :class:`StateExpiry`
drops those idle longer than ``idle_s`` once a minute and hands the memory
back to the system.  It reads ``blocks.state_holder`` (Gradio 6's
``StateHolder``: ``session_data``, ``time_last_used``, ``lock``), which the
pinned Gradio version keeps.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import gc
import logging
import threading
import weakref
from typing import Any

log = logging.getLogger(__name__)


def drop_idle_sessions(blocks: Any, idle_s: float, now: datetime.datetime | None = None) -> int:
    """Remove the state of every session not used for ``idle_s`` seconds; returns how many went."""
    holder = getattr(blocks, "state_holder", None)
    if holder is None:
        return 0
    now = now or datetime.datetime.now()  # Gradio stamps sessions with naive local time
    with holder.lock:
        idle = [
            sid for sid, used in list(holder.time_last_used.items()) if (now - used).total_seconds() > idle_s
        ]
        for sid in idle:
            holder.session_data.pop(sid, None)
            holder.time_last_used.pop(sid, None)
    return len(idle)


def give_back_memory() -> None:
    """Collect cycles and return freed heap pages to the system (glibc), so the process shrinks again."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: the next sessions reuse the memory
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class StateExpiry:
    """A daemon thread that runs :func:`drop_idle_sessions` every ``every_s`` until the app is gone."""

    def __init__(self, blocks: Any, idle_s: float, every_s: float | None = None):
        self._blocks = weakref.ref(blocks)
        self.idle_s = idle_s
        self.every_s = every_s or min(60.0, max(1.0, idle_s / 4))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="state-expiry", daemon=True)

    def start(self) -> StateExpiry:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            blocks = self._blocks()
            if blocks is None:
                return
            dropped = drop_idle_sessions(blocks, self.idle_s)
            del blocks
            if dropped:
                give_back_memory()
                log.info("dropped the state of %d idle browser sessions", dropped)
