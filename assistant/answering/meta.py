"""Questions about a document's own record: who spoke, in what role, and when.

The front matter (``Document.speaker``, ``speaker_role``, ``date_jalali``)
says what the answer is; the body line that states it is what gets cited,
so the reader still sees the source's own words.  With no such line, the
front-matter line itself (also part of ``Document.text``) is cited.
"""

from __future__ import annotations

import re

from ..core.records import Document
from ..text.normalize import normalize
from ..text.tokens import ZWNJ
from .lexicon import JALALI_MONTHS
from .units import BARE, BLOCK, passage_units

_MONTHS = JALALI_MONTHS
_EVENT = re.compile(r"وبینار|کارگاه|جلسه|همایش|نشست|سمینار|دوره|برنامه|سخنرانی")
_SPEAKER = re.compile(r"سخنران|ارائه ?دهنده|مدرس (?:این|وبینار|کارگاه)")
_ROLE = re.compile(r"زمینه|تخصص|سمت|شغل|حرفه|چه کاره|فعالیت|سوابق|کیست")
_DATE = re.compile(r"چه (?:تاریخ|روز|زمان|وقت|ماه|سال)|\bکی\b|تاریخ")


def _fold(text: str) -> str:
    """Normalized, with spaces and ZWNJ removed: «شبکه‌های» and «شبکه های» meet."""
    return re.sub(r"[\s\u200c]+", "", normalize(text))


def jalali_words(date_jalali: str) -> str:
    """'1403/02/29' → '29 اردیبهشت 1403' (how a Persian text writes the date)."""
    parts = re.findall(r"\d+", normalize(date_jalali).translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")))
    if len(parts) != 3 or not 1 <= int(parts[1]) <= 12:
        return ""
    year, month, day = parts
    return f"{int(day)} {_MONTHS[int(month) - 1]} {year}"


def intent(question: str, doc: Document) -> tuple[str, str]:
    """('speaker' | 'role' | 'date', the front-matter value) or ('', '')."""
    q = normalize(question).replace(ZWNJ, " ")
    surname = doc.speaker.split()[-1] if doc.speaker else ""
    about_speaker = bool(surname) and _fold(surname) in _fold(q)
    if doc.speaker_role and about_speaker and _ROLE.search(q):
        return "role", doc.speaker_role
    if doc.speaker and _SPEAKER.search(q) and not _DATE.search(q):
        return "speaker", doc.speaker
    if doc.date_jalali and _DATE.search(q) and _EVENT.search(q):  # the event's date, not a birth year
        return "date", jalali_words(doc.date_jalali)
    return "", ""


def _front_matter_line(doc: Document, key: str) -> tuple[int, int] | None:
    match = re.search(rf"^{key}:[^\n]*$", doc.text[: doc.body_start], re.MULTILINE)
    return (match.start(), match.end()) if match else None


def record_span(question: str, doc: Document) -> tuple[int, int] | None:
    """The span of ``doc.text`` that answers a speaker/role/date question, if it is one."""
    kind, value = intent(question, doc)
    if not kind or not value:
        return None
    units = passage_units(doc.text, doc.body_start, len(doc.text))
    wanted = _fold(value)
    for i, unit in enumerate(units):
        if wanted not in _fold(doc.text[unit.start : unit.end]):
            continue
        start, end = unit.start, unit.end
        if unit.kind == BARE and i + 1 < len(units):  # a name line rides along with the line it heads
            end = units[i + 1].end
        heading = doc.text[units[i - 1].start : units[i - 1].end] if i else ""
        if kind == "role" and units[i - 1].kind in (BARE, BLOCK) and _fold(doc.speaker) in _fold(heading):
            start = units[i - 1].start  # the name line heading the role line
        return start, end
    key = {"speaker": "speaker", "role": "speaker_role", "date": "date_jalali"}[kind]
    return _front_matter_line(doc, key)
