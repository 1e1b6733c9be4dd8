"""A build's progress as typed records, and their one-line JSON form.

A build run in a child process (``python -m assistant.indexing … --progress
json``) writes one JSON object a line; the parent (``jobs.BuildJob``) reads
them back into these records.  Both sides use this module, so the format is
written in one place.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from ..core.records import BuildReport


@dataclass(frozen=True)
class BuildProgress:
    stage: str  # "chunk" (documents), "embed" (new chunks), "write"
    done: int
    total: int


@dataclass(frozen=True)
class BuildDone:
    report: BuildReport


@dataclass(frozen=True)
class BuildError:
    message: str  # "Persian / English", e.g. the build lock's "another build is running"


BuildEvent = BuildProgress | BuildDone | BuildError


def to_line(event: BuildEvent) -> str:
    """One JSON line: ``{"stage", "done", "total"}``, ``{"done": true, "report"}`` or ``{"error"}``."""
    if isinstance(event, BuildProgress):
        data: dict = {"stage": event.stage, "done": event.done, "total": event.total}
    elif isinstance(event, BuildDone):
        data = {"done": True, "report": event.report.to_dict()}
    else:
        data = {"error": event.message}
    return json.dumps(data, ensure_ascii=False)


def parse_line(line: str) -> BuildEvent | None:
    """One line of a child's output → an event; anything else (a library's chatter) → None."""
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if "error" in data:
        return BuildError(str(data["error"]))
    if data.get("done") is True and isinstance(data.get("report"), dict):
        return BuildDone(BuildReport.from_dict(data["report"]))
    if {"stage", "done", "total"} <= data.keys():
        return BuildProgress(str(data["stage"]), int(data["done"]), int(data["total"]))
    return None


def json_writer(out: IO[str]) -> Callable[[str, int, int], None]:
    """A ``build_index`` progress callback that writes each step as a JSON line to ``out``."""

    def write(stage: str, done: int, total: int) -> None:
        out.write(to_line(BuildProgress(stage, done, total)) + "\n")
        out.flush()

    return write


def bar_writer() -> Callable[[str, int, int], None]:
    """A ``build_index`` progress callback drawing a tqdm bar per stage on stderr (for people)."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def update(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(
                total=total,
                desc=stage,
                unit={"chunk": "doc", "embed": "chunk"}.get(stage, "step"),
                file=sys.stderr,
                dynamic_ncols=True,
            )
        bar.total = total
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update
