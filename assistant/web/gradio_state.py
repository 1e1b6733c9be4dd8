"""Gradio's per-session state made cheap and finite: built lazily, dropped when idle.

Gradio keeps one ``SessionState`` per session id, and makes one for every
``/ask`` call and every new session id a client sends.  Each computed every
component's config up front (~160 KB and 40-160 ms on the event loop, for a
deep-link feature this app does not use) and stayed until 10,000 of them
existed: a script sending fresh session ids slowed everyone and grew the
process without end.

- :func:`lazy_session_configs` computes a component's config only when it
  is asked for (an update, or a deep link): the same configs, a new session
  for ~7 KB and well under a millisecond;
- :class:`StateExpiry` drops sessions idle longer than ``idle_s`` once a
  minute and hands the memory back to the system.

Both touch Gradio 6's ``SessionState`` and ``StateHolder`` (``session_data``,
``time_last_used``, ``lock``) as the pinned version has them; the patch is
applied only to that version (a test compares its configs with Gradio's own).
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import gc
import logging
import os
import threading
import weakref
from copy import copy
from typing import Any

import gradio
from gradio.state_holder import SessionState

log = logging.getLogger(__name__)

#: the Gradio whose SessionState the lazy configs were written against (pyproject pins it)
PATCHED_GRADIO = "6.31.0"
_original_init = SessionState.__init__
_original_components = SessionState.components


def _lazy_init(self: Any, blocks: Any) -> None:
    """``SessionState.__init__`` without computing every component's config up front."""
    self.blocks_config = copy(blocks.default_config)
    self._lazy_ids = [k for k in self.blocks_config.blocks if k in blocks.blocks]
    self.config_values = {}
    self.state_data = {}
    self._state_ttl = {}
    self.is_closed = False
    self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600


def _lazy_components(self: Any):
    """``SessionState.components``: the configs not computed yet are computed now, as Gradio would have."""
    for key in getattr(self, "_lazy_ids", ()):
        if key not in self.config_values and key in self.blocks_config.blocks:
            block = self.blocks_config.blocks[key]
            self.config_values[key] = self.blocks_config.config_for_block(key, [], block)
    for config in self.config_values.values():
        if config:
            yield config


def lazy_session_configs() -> bool:
    """Make new sessions cheap (once per process); False, and Gradio's own behaviour, on another version."""
    if SessionState.__init__ is _lazy_init:
        return True
    if gradio.__version__ != PATCHED_GRADIO:
        log.warning(
            "Gradio %s, not %s: sessions keep Gradio's own eager configs", gradio.__version__, PATCHED_GRADIO
        )
        return False
    SessionState.__init__ = _lazy_init  # type: ignore[method-assign]
    SessionState.components = property(_lazy_components)  # type: ignore[method-assign, assignment]
    return True


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
