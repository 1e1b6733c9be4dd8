"""How well each unit answers *this* question, beyond being close to it.

The cosine and the question's own words (``ExtractiveAnswerer.score``) find
units on the subject; these adjustments find the one that answers: a unit
holding the expected type (a date for a when-question) gains, a profile or
title line loses for a question about what was said, and an ordinal picks
among parallel numbered lines («کارگاه دوم»).
"""

from __future__ import annotations

import re

from ..core.records import Document
from ..text.normalize import normalize
from .question import QuestionKind
from .span import has_span

#: a bonus for a unit that holds the expected type (measured with bench/answers.py)
TYPE_BONUS = 0.015
#: what a profile line loses for a content question: it never answers one
PROFILE_PENALTY = 1.0
_NUMBERED = re.compile(r"^\s*(?P<n>[0-9۰-۹]{1,2})(?:\ufe0f\u20e3?|\u20e3|[.)\-]\s)")
_DECOR = re.compile(r"^\s*[0-9۰-۹]{1,2}(?:\ufe0f\u20e3?|\u20e3)\s*")
_PERSIAN_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")


def _fold(text: str) -> str:
    return re.sub(r"[\s\u200c]+", "", normalize(text))


def is_profile(doc: Document, text: str, title: bool = True) -> bool:
    """A name, title or bio line: the speaker, the speaker's role or the title, and little else."""
    folded = _fold(text)
    if not folded:
        return False
    marks = [_fold(v) for v in (doc.speaker, doc.speaker_role, doc.title if title else "") if v]
    return any(m and (folded == m or (m in folded and len(folded) <= len(m) + 12)) for m in marks)


_TITLED = re.compile(r"موضوع|عنوان|نام|اسم|محور")


def record_penalty(kind: QuestionKind, question: str) -> float:
    """What a record block (a title, «by Dr X», a date) loses for a question it cannot answer:
    one that asks neither who, when, nor a title or topic."""
    if kind.expected in ("person", "date") or kind.ordinal is not None or _TITLED.search(question):
        return 0.0
    return PROFILE_PENALTY


def type_bonus(kind: QuestionKind, text: str) -> float:
    typed = kind.expected in ("date", "number", "person") and has_span(kind.expected, text)
    return TYPE_BONUS if typed else 0.0


def number_of(text: str) -> int | None:
    """The item number a line starts with («2️ …», «3. …»), if any."""
    match = _NUMBERED.match(text)
    return int(match.group("n").translate(_PERSIAN_DIGITS)) if match else None


def decoration_end(text: str) -> int:
    """How many leading characters are decoration (a keycap digit «1️»): dropped from a quote."""
    match = _DECOR.match(text)
    return match.end() if match else 0


def pick_ordinal(ordinal: int, numbers: dict[int, int]) -> int | None:
    """The candidate numbered ``ordinal`` (-1: the highest number); None when there is none."""
    if ordinal == -1:
        return numbers[max(numbers)]
    return numbers.get(ordinal)


#: a life event of a person: a line that does not name the event does not date or place it
_LIFE = r"متولد|تولد|به دنیا|زاده|درگذشت(?!ه)|فوت|وفات|ازدواج|تحصیل|درس ?خوانده|فارغ ?التحصیل"
_LIFE_ASKED = re.compile(_LIFE)
#: … or a lifespan in brackets: «(۴ آبان ۱۲۹۸ در تهران – ۵ مرداد ۱۳۵۹ در قاهره)»
_LIFE_SAID = re.compile(
    _LIFE + r"|دانشگاه|دانش ?آموخته|\([^)]{0,40}[0-9۰-۹]{3,4}[^)]{0,40}[–-][^)]{0,40}[0-9۰-۹]{3,4}"
)


def life_event_unsaid(question: str, answer: str) -> bool:
    """«… متولد چه سالی است؟» answered by a line without a birth: the talk's date is not his birth year."""
    asked = _LIFE_ASKED.search(question.replace("\u200c", " "))
    return bool(asked) and not _LIFE_SAID.search(answer.replace("\u200c", " "))
