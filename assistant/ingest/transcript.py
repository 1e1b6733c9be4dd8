"""Subtitle files (.srt, .vtt) → one running text plus a time segment per cue.

Cue texts are joined with a space, so a sentence that a captioner broke
across cues is one sentence to the chunker and to the answerer; every cue
keeps its character range and times as a ``Segment``, so a quote can still
say where in the recording it was said.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from ..core.errors import LoadError
from ..core.records import Segment

# 00:01:02,500 --> 00:01:05.000 [settings]; hours optional (WebVTT), comma or dot before milliseconds
_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_TAG = re.compile(r"<[^>]*>")  # <v Speaker>, <i>, <c.yellow>, <00:00:01.000>
_BLOCK_SPLIT = re.compile(r"\n[ \t]*\n")


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


def parse_cues(text: str) -> list[Cue]:
    """Cues of an SRT or WebVTT file in file order; blocks without a timing line are skipped."""
    cues: list[Cue] = []
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for block in _BLOCK_SPLIT.split(text):
        lines = block.strip("\n").split("\n")
        for i, line in enumerate(lines[:3]):  # [index or id] timing text…  (NOTE/STYLE have none)
            match = _TIMING.match(line)
            if match:
                g = match.groups()
                cue_text = _clean(lines[i + 1 :])
                if cue_text:
                    cues.append(Cue(_seconds(*g[:4]), _seconds(*g[4:]), cue_text))
                break
    return cues


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


def load_transcript(text: str, kind: str) -> tuple[str, tuple[Segment, ...]]:
    """Decoded .srt/.vtt text → (running text, segments); ``LoadError`` if it holds no cue."""
    if kind == "VTT" and not text.lstrip("\ufeff").startswith("WEBVTT"):
        raise LoadError.of("فایل VTT با «WEBVTT» آغاز نمی‌شود", "not a WebVTT file: it must start with WEBVTT")
    cues = parse_cues(text)
    if not cues:
        raise LoadError.of(
            f"در فایل {kind} هیچ زیرنویس زمان‌داری نیست",
            f"no timed cues in this {kind} file (expected lines like 00:00:01,000 --> 00:00:04,000)",
        )
    return join_cues(cues)
