"""Subtitle files (.srt, .vtt) → one running text plus a time segment per cue.

Cue texts are joined with a space, so a sentence that a captioner broke
across cues is one sentence to the chunker and to the answerer; every cue
keeps its character range and times as a ``Segment``, so a quote can still
say where in the recording it was said.  A cue that cannot be read (a
timing line that is not one, text with no timing) is left out and a cue
that ends before it starts is kept with its end set to its start; each is
counted and named (:class:`CueProblem`) in the build report.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..core.errors import LoadError
from ..core.records import Segment

# 00:01:02,500 --> 00:01:05.000 [settings]; hours optional (WebVTT), comma or dot before milliseconds
_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_TAG = re.compile(r"<[^>]*>")  # <v Speaker>, <i>, <c.yellow>, <00:00:01.000>
_BLOCK_SPLIT = re.compile(r"\n[ \t]*\n")
_VTT_BLOCKS = ("WEBVTT", "NOTE", "STYLE", "REGION")  # blocks of a WebVTT file that are not cues
_TIMING_LIKE = re.compile(r"->|^\s*\d{1,2}:\d{2}")  # meant as a timing line, but not one
MAX_NAMED = 10  # problems named one by one in the report; the rest are counted


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    text: str


def _seconds(h: str | None, m: str, s: str, ms: str | None) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + (int(ms.ljust(3, "0")) / 1000 if ms else 0.0)


def _clean(lines: list[str]) -> str:
    text = " ".join(_TAG.sub("", line).strip() for line in lines)
    return " ".join(html.unescape(text).replace("\u200e", "").replace("\u200f", "").split())


@dataclass(frozen=True)
class CueProblem:
    """A cue that could not be read as it was written: where it is and what is wrong."""

    number: int  # the cue's own number (an SRT's index line); 0 when it has none
    line: int  # the line it starts on, from 1
    reason: str

    def __str__(self) -> str:
        where = f"cue {self.number} (line {self.line})" if self.number else f"line {self.line}"
        return f"{where}: {self.reason}"


def parse_cues(text: str) -> list[Cue]:
    """Cues of an SRT or WebVTT file in file order (:func:`read_cues` also says what it left out)."""
    return read_cues(text)[0]


def read_cues(text: str) -> tuple[list[Cue], list[CueProblem]]:
    """Cues in file order, and the problems: unreadable timings, text without one, ends before starts."""
    cues: list[Cue] = []
    problems: list[CueProblem] = []
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for line, rows in _blocks(text):
        cue, problem = _read_block(rows, line)
        if cue is not None:
            cues.append(cue)
        if problem is not None:
            problems.append(problem)
    return cues, problems


def _blocks(text: str) -> Iterator[tuple[int, list[str]]]:
    """Runs of non-blank lines (a line of spaces and tabs is blank), with the line each starts on."""
    rows: list[str] = []
    first = 0
    for n, row in enumerate(text.split("\n"), 1):
        if not row.strip(" \t"):
            if rows:
                yield first, rows
                rows = []
            continue
        if not rows:
            first = n
        rows.append(row)
    if rows:
        yield first, rows


def _read_block(lines: list[str], line: int) -> tuple[Cue | None, CueProblem | None]:
    if lines[0].lstrip("\ufeff").startswith(_VTT_BLOCKS):
        return None, None
    number = int(lines[0].strip()) if lines[0].strip().isdigit() and len(lines[0].strip()) < 9 else 0
    for i, row in enumerate(lines[:3]):  # [index or id] timing text…
        match = _TIMING.match(row)
        if match is None:
            if _TIMING_LIKE.search(row):
                return None, CueProblem(number, line + i, f"unreadable timing «{row.strip()[:60]}»")
            continue
        g = match.groups()
        if any(int(v) >= 60 for v in (g[1], g[2], g[5], g[6])):
            return None, CueProblem(number, line + i, f"unreadable timing «{row.strip()[:60]}»")
        cue_text = _clean(lines[i + 1 :])
        start, end = _seconds(*g[:4]), _seconds(*g[4:])
        if not cue_text:
            return None, None
        if end < start:
            problem = CueProblem(number, line + i, f"ends before it starts «{row.strip()[:60]}»")
            return Cue(start, start, cue_text), problem
        return Cue(start, end, cue_text), None
    shown = " ".join(" ".join(lines).split())[:60]
    return None, CueProblem(number, line, f"no timing line «{shown}»")


def describe(problems: list[CueProblem], cues: int, kind: str) -> str:
    """One line for the build report: how many cues had problems, the first few named."""
    named = "; ".join(str(p) for p in problems[:MAX_NAMED])
    more = f"; and {len(problems) - MAX_NAMED} more" if len(problems) > MAX_NAMED else ""
    left_out = sum(1 for p in problems if not p.reason.startswith("ends before"))
    return f"{len(problems)} {kind} cues with problems ({left_out} left out, {cues} read): {named}{more}"


def join_cues(cues: list[Cue]) -> tuple[str, tuple[Segment, ...]]:
    """One text, a cue's words once; a cue repeating the previous one (rolling captions) extends it."""
    parts: list[str] = []
    segments: list[Segment] = []
    pos = 0
    for cue in cues:
        if segments and parts[-1] == cue.text:
            last = segments[-1]
            segments[-1] = Segment(last.start, last.end, last.start_s, max(cue.end_s, last.end_s or 0.0))
            continue
        if parts:
            pos += 1  # the joining space
        parts.append(cue.text)
        segments.append(Segment(pos, pos + len(cue.text), cue.start_s, cue.end_s))
        pos += len(cue.text)
    return " ".join(parts), tuple(segments)


def load_transcript(text: str, kind: str) -> tuple[str, tuple[Segment, ...], tuple[str, ...]]:
    """Decoded .srt/.vtt text → (running text, segments, warnings); ``LoadError`` if it holds no cue."""
    if kind == "VTT" and not text.lstrip("\ufeff").startswith("WEBVTT"):
        raise LoadError.of("فایل VTT با «WEBVTT» آغاز نمی‌شود", "not a WebVTT file: it must start with WEBVTT")
    cues, problems = read_cues(text)
    if not cues:
        raise LoadError.of(
            f"در فایل {kind} هیچ زیرنویس زمان‌داری نیست",
            f"no timed cues in this {kind} file (expected lines like 00:00:01,000 --> 00:00:04,000)",
        )
    joined, segments = join_cues(cues)
    warnings = (describe(problems, len(cues), kind),) if problems else ()
    return joined, segments, warnings
