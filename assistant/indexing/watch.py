"""Notice a new ``index/current`` however it was made (the Index tab, the CLI, a deploy)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .layout import current_build

log = logging.getLogger(__name__)

_NOW: Any = object()  # IndexWatcher(current=...) default: whatever is current at start()


class IndexWatcher:
    """Poll ``current_build(index_dir)`` (a readlink and two stats) and report when it moved.

    ``current`` is the build the caller has loaded; by default whatever is
    current when the watcher starts.  A callback that raises is logged and
    not called again for the same build.
    """

    def __init__(
        self,
        index_dir: Path,
        on_change: Callable[[Path], None],
        *,
        interval_s: float = 2.0,
        current: Path | None = _NOW,
    ):
        self.index_dir = index_dir
        self.on_change = on_change
        self.interval_s = interval_s
        self._seen = current
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> IndexWatcher:
        if self._seen is _NOW:
            self._seen = current_build(self.index_dir)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True, name="index-watcher")
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> IndexWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.poll()

    def poll(self) -> Path | None:
        """One look; calls ``on_change`` and returns the new build if ``current`` moved."""
        try:
            build = current_build(self.index_dir)
        except OSError as exc:  # e.g. the folder is on a disk that went away
            log.warning("cannot read %s: %s", self.index_dir, exc)
            return None
        if build is None or build == self._seen:
            return None
        self._seen = build
        log.info("new index build: %s", build)
        try:
            self.on_change(build)
        except Exception:
            log.exception("reloading %s failed; the previous index stays in use", build)
        return build
