"""Answer units: the pieces of a passage an extractive answer may quote.

Webinar notes carry their meaning in line structure, not only in sentences:
a line ending in ':' leads into a list of items on the following lines, a
``term: definition`` or ``term - explanation`` line is one unit whose term is
what a question names, and a bare title, name or date line says nothing on
its own.  This module finds those units on the original text, so every unit
is ``text[start:end]`` exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..text.chunk import Span, sentence_spans

SENTENCE, DEFINITION, LEAD_IN, BARE, BLOCK = "sentence", "definition", "lead_in", "bare", "block"

_DEFINITION = re.compile(
    r"^(?P<term>[^:\n\-–—]{1,60}?)[ \t]*(?::(?=[ \t])|[ \t][\-–—](?=[ \t]))[ \t]*(?P<rest>\S.*)$"
)
_LEAD_CUES = re.compile(r"(?:مانند|عبارتند از|عبارت‌اند از|عبارت اند از|به شرح زیر|از جمله)\s*:?\s*$")
_BULLET = re.compile(r"^\s*(?:[-•*▪●]|\d+[.)\-]|\d\ufe0f?\u20e3?)\s*")
_SENTENCE_END = re.compile(r"[.!?؟…]\s*$")
_MAX_TERM_WORDS = 7
_MAX_DEFINITION_WORDS = 70
_BARE_WORDS = 10
_MAX_ITEMS = 12


@dataclass(frozen=True)
class Unit:
    """One quotable piece; ``term`` is a definition's term span, ``items`` a lead-in's list."""

    kind: str
    start: int
    end: int
    term: tuple[int, int] | None = None
    items: tuple[Span, ...] = field(default=())


def _lines(text: str, start: int, end: int) -> list[Span]:
    """Non-blank lines of ``text[start:end]``, trimmed."""
    out, cursor = [], start
    while cursor < end:
        stop = text.find("\n", cursor, end)
        stop = end if stop < 0 else stop
        a, b = cursor, stop
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append(Span(a, b))
        cursor = stop + 1
    return out


def definition_term(line: str) -> tuple[int, int] | None:
    """Offsets of the term in a ``term: definition`` / ``term - explanation`` line, if it is one."""
    if len(line.split()) > _MAX_DEFINITION_WORDS:
        return None
    match = _DEFINITION.match(line)
    if not match or _LEAD_CUES.search(line):
        return None
    term = match.group("term").strip()
    bullet = _BULLET.match(term)
    lead = bullet.end() if bullet and bullet.end() < len(term) else 0
    if not term or len(term.split()) > _MAX_TERM_WORDS or not any(ch.isalpha() for ch in term):
        return None
    offset = line.find(term) + lead
    return offset, line.find(term) + len(term)


def is_lead_in(line: str) -> bool:
    return line.rstrip().endswith(":") or bool(_LEAD_CUES.search(line))


def is_bare(line: str) -> bool:
    """A title, name or date line: short, no sentence ending, no definition."""
    return len(line.split()) <= _BARE_WORDS and not _SENTENCE_END.search(line) and not is_lead_in(line)


def _item_style(text: str, line: Span) -> str:
    """'definition', 'bullet' or 'short' (a line of up to 12 words); '' if it is no list item."""
    body = text[line.start : line.end]
    if definition_term(body) is not None:
        return "definition"
    if _BULLET.match(body):
        return "bullet"
    return "short" if len(body.split()) <= 12 and not is_lead_in(body) else ""


def list_items(text: str, lead_end: int, limit: int | None = None) -> tuple[Span, ...]:
    """The item lines after a lead-in (blank lines allowed between), all of the first item's style."""
    items: list[Span] = []
    style = ""
    for line in _lines(text, lead_end, limit or len(text)):
        current = _item_style(text, line)
        if not current or (style and current != style) or len(items) >= _MAX_ITEMS:
            break
        style = style or current
        items.append(line)
    return tuple(items)


def _line_units(text: str, line: Span) -> list[Unit]:
    body = text[line.start : line.end]
    term = definition_term(body)
    if term is not None:
        return [Unit(DEFINITION, line.start, line.end, (line.start + term[0], line.start + term[1]))]
    if is_lead_in(body):
        spans = sentence_spans(text, line.start, line.end)
        head = [Unit(SENTENCE, s.start, s.end) for s in spans[:-1]]
        last = spans[-1] if spans else line
        return [*head, Unit(LEAD_IN, last.start, last.end, items=list_items(text, line.end))]
    if is_bare(body):
        return [Unit(BARE, line.start, line.end)]
    return [Unit(SENTENCE, s.start, s.end) for s in sentence_spans(text, line.start, line.end)]


def passage_units(text: str, start: int, end: int) -> list[Unit]:
    """Units of ``text[start:end]``; consecutive bare lines (no blank between) form one block.

    A block of two or more bare lines (a title, "by Dr X", a date) is a record
    that can answer who and when; a single bare line cannot.
    """
    units: list[Unit] = []
    for line in _lines(text, start, end):
        for unit in _line_units(text, line):
            prev = units[-1] if units else None
            joined = prev is not None and prev.kind in (BARE, BLOCK) and unit.kind == BARE
            if joined and text.count("\n", prev.end, unit.start) == 1:
                units[-1] = Unit(BLOCK, prev.start, unit.end)
            else:
                units.append(unit)
    return units


def heads(units: list[Unit], i: int) -> int | None:
    """The unit a bare line at ``i`` heads (the next non-bare unit), if any."""
    for j in range(i + 1, min(i + 3, len(units))):
        if units[j].kind != BARE:
            return j
    return None
