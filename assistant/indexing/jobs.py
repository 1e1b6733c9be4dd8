"""Index builds out of the server process, as typed progress events.

The chat must keep answering while a maintainer rebuilds, so the build runs as
a child ``python -m assistant.indexing update --nice 10`` whose JSON lines
(``progress``) become typed events here.  The index build lock lets one build
run at a time; a second child reports its message.  ``run_child_build`` is the
child's side, shared with ``assistant index update --progress json``.
"""

from __future__ import annotations

import logging
import os
import queue
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ..core.errors import AssistantError
from ..core.settings import Settings
from .build import build_index
from .progress import BuildDone, BuildError, BuildEvent, BuildProgress, json_writer, parse_line, to_line

log = logging.getLogger(__name__)

BUILD_NICE = 10  # the chat's requests get the CPU first
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


CANCELLED = (
    "ساخت نمایه لغو شد؛ نمایهٔ قبلی همچنان استفاده می‌شود. / "
    "The build was cancelled; the previous index is still in use."
)


def build_command(settings: Settings, full: bool = False, nice: int = BUILD_NICE) -> list[str]:
    """The child a build runs: ``python -m assistant.indexing build|update`` with these settings."""
    return [
        sys.executable,
        "-m",
        "assistant.indexing",
        "build" if full else "update",
        "--nice",
        str(nice),
        "--corpus",
        str(settings.corpus_dir),
        "--index",
        str(settings.index_dir),
        "--embed-model",
        settings.embed_model,
    ]


def run_child_build(settings: Settings, full: bool = False, out: IO[str] | None = None) -> int:
    """The child's side: build, writing each step and then the result as JSON lines; the exit code."""
    out = out or sys.stdout
    try:
        report = build_index(settings, use_cache=not full, progress=json_writer(out))
    except AssistantError as exc:
        out.write(to_line(BuildError(str(exc))) + "\n")
        return 1
    out.write(to_line(BuildDone(report)) + "\n")
    out.flush()
    return 0


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
            event = parse_line(line)
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
