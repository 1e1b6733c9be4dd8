"""Index builds out of the server process, and hot reload when ``index/current`` moves.

The chat must keep answering while a maintainer rebuilds, so the build runs as
a child ``python -m assistant index update --progress json --nice 10``, the
very code path of the CLI, and its JSON lines become typed events.  The index
build lock lets one build run at a time; a second child reports its message.
``IndexWatcher`` notices a new ``current`` however it was made (this page, the
CLI, a deploy) and hands it to the server's reload.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.settings import Settings
from .layout import current_build

log = logging.getLogger(__name__)

BUILD_NICE = 10  # the chat's requests get the CPU first
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class BuildProgress:
    stage: str  # "chunk" (documents), "embed" (new chunks), "write"
    done: int
    total: int


@dataclass(frozen=True)
class BuildDone:
    report: dict  # BuildReport.to_dict(): documents, chunks, embedded, reused, skipped, seconds, index_path


@dataclass(frozen=True)
class BuildError:
    message: str  # "Persian / English", e.g. the build lock's "another build is running"


BuildEvent = BuildProgress | BuildDone | BuildError

CANCELLED = (
    "ساخت نمایه لغو شد؛ نمایهٔ قبلی همچنان استفاده می‌شود. / "
    "The build was cancelled; the previous index is still in use."
)


def build_command(settings: Settings, full: bool = False, nice: int = BUILD_NICE) -> list[str]:
    """The CLI call a build runs: ``index build`` (full) or ``index update``, with these settings."""
    return [
        sys.executable,
        "-m",
        "assistant",
        "index",
        "build" if full else "update",
        "--progress",
        "json",
        "--nice",
        str(nice),
        "--corpus",
        str(settings.corpus_dir),
        "--index",
        str(settings.index_dir),
        "--embed-model",
        settings.embed_model,
    ]


def start_build(settings: Settings, full: bool = False, *, nice: int = BUILD_NICE) -> BuildJob:
    """Start a build in a child process at lower CPU priority; read it with ``events()``."""
    env = dict(os.environ)
    env["ASSISTANT_HOME"] = str(settings.home)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("HF_HUB_OFFLINE", "1")
    # the child imports this very package, wherever it was imported from
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p)
    process = subprocess.Popen(
        build_command(settings, full, nice),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env,
    )
    log.info("index %s started (pid %d)", "build" if full else "update", process.pid)
    return BuildJob(process)


def parse_event(line: str) -> BuildEvent | None:
    """One line of ``--progress json`` output → an event; anything else → None."""
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if "error" in data:
        return BuildError(str(data["error"]))
    if data.get("done") is True and isinstance(data.get("report"), dict):
        return BuildDone(data["report"])
    if {"stage", "done", "total"} <= data.keys():
        return BuildProgress(str(data["stage"]), int(data["done"]), int(data["total"]))
    return None


class BuildJob:
    """A running build.  ``events()`` is for one reader; ``last`` and ``cancel()`` for anyone.

    Threads drain the child's stdout and stderr as they come, so a reader who
    goes away (a closed browser tab) never stalls the build on a full pipe.
    """

    def __init__(self, process: subprocess.Popen[str]):
        self.process = process
        self.last: BuildEvent | None = None  # the latest event, for a status line
        self._events: queue.Queue[BuildEvent] = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=20)
        self._cancelled = False
        self._threads = [
            threading.Thread(target=self._read_stderr, daemon=True, name="build-stderr"),
            threading.Thread(target=self._read_stdout, daemon=True, name="build-stdout"),
        ]
        for thread in self._threads:
            thread.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr.append(line.rstrip())

    def _read_stdout(self) -> None:
        """Parse every JSON line; end with exactly one BuildDone or BuildError."""
        assert self.process.stdout is not None
        final: BuildEvent | None = None
        for line in self.process.stdout:
            event = parse_event(line)
            if event is None:
                log.debug("build output: %s", line.rstrip())
            elif isinstance(event, BuildProgress):
                self._put(event)
            else:
                final = event
        code = self.process.wait()
        self._threads[0].join(timeout=5)  # stderr's tail, for the crash message
        if final is None:
            final = BuildError(CANCELLED if self._cancelled else self._crash_message(code))
        self._put(final)

    def _put(self, event: BuildEvent) -> None:
        self.last = event
        self._events.put(event)

    def _crash_message(self, code: int) -> str:
        tail = next((line for line in reversed(self._stderr) if line.strip()), "")
        return f"ساخت نمایه ناموفق بود. / The index build failed (exit {code}): {tail}".rstrip(": ")

    def events(self) -> Iterator[BuildEvent]:
        """Progress events as they come, then exactly one BuildDone or BuildError."""
        while True:
            event = self._events.get()
            yield event
            if not isinstance(event, BuildProgress):
                return

    def wait(self) -> BuildDone | BuildError:
        """Read to the end; the final event."""
        for event in self.events():
            if not isinstance(event, BuildProgress):
                return event
        raise AssertionError("events() always ends with BuildDone or BuildError")

    def cancel(self, timeout: float = 10.0) -> None:
        """Stop the child; its half-written build is discarded and ``current`` is untouched."""
        if not self.running:
            return
        self._cancelled = True
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        log.info("index build %d cancelled", self.pid)


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
