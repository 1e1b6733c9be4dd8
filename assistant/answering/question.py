"""What a question asks for: one fact or several, of which type, and which of parallel items.

The answer's shape follows from it: a single-fact question gets one unit, a
question for several things a list; a who/when/how-many question expects a
name, a date or a number inside the leading sentence (its absence is
evidence for abstaining); «کارگاه دوم» picks the second of parallel lines.
Pure rules over the normalized question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text.tokens import ZWNJ
from .answerable import expected_type

#: a question for several things: «چه عواملی», «کدام‌اند», «چه چیزهایی», a plural noun after «چه»
_PLURAL = re.compile(
    r"کدام ?اند|کدامند|کدوما|چیا\b|عبارتند|نام ببر|فهرست|"
    r"چه (?:عوامل|موارد|عناصر|ارکان|اصول|راه|روش|ابزار|نکات|ویژگی|مراحل|اقدامات|دلایل|عواملی|مواردی)|"
    r"چه \S+(?:ها|های|هایی|ان|انی)\b|"
    r"\b(?:عوامل|موارد|عناصر|ارکان|اصول|مراحل|دلایل)\b"
)
_DEFINITION = re.compile(r"یعنی چه|یعنی چی|به چه معنا|چه معنایی|معنی|تعریف|منظور از|چیست\s*$|چیه\s*$")
#: a question about what someone said or did: a bio or title line does not answer it
_CONTENT = re.compile(r"گفت|گفته|صحبت|درباره|دربارهٔ|نظر|توصیه|پیشنهاد|تاکید|توضیح داد|اشاره")

ORDINALS = {
    "اول": 1,
    "نخست": 1,
    "یکم": 1,
    "دوم": 2,
    "سوم": 3,
    "چهارم": 4,
    "پنجم": 5,
    "ششم": 6,
    "هفتم": 7,
    "هشتم": 8,
    "نهم": 9,
    "دهم": 10,
    "آخر": -1,
    "آخرین": -1,
}
_ORDINAL_WORDS = "|".join(sorted(ORDINALS, key=len, reverse=True))
_ORDINAL = re.compile(r"\b(?P<o>" + _ORDINAL_WORDS + r")(?:ین|ی)?\b")
#: the noun an ordinal counts: «کارگاه دوم» → کارگاه
ORDINAL_NOUN = re.compile(r"(?P<noun>[^\s\d]{2,})\s+(?:" + _ORDINAL_WORDS + r")(?:ین|ی)?\b")


@dataclass(frozen=True)
class QuestionKind:
    """``expected``: person, date, number, place, reason, definition or ''; ``ordinal``: 1.., -1 last."""

    expected: str = ""
    plural: bool = False
    ordinal: int | None = None
    content: bool = False  # asks what was said or done, not who someone is


def read_question(normalized_question: str) -> QuestionKind:
    text = normalized_question.replace(ZWNJ, " ")
    expected = expected_type(normalized_question)
    if not expected and _DEFINITION.search(text):
        expected = "definition"
    found = _ORDINAL.search(text)
    ordinal = ORDINALS[found.group("o")] if found else None
    plural = bool(_PLURAL.search(text)) and expected not in ("person", "date", "number", "place")
    plural = plural and "یکی از" not in text  # «یکی از عناصر» asks for one
    return QuestionKind(expected, plural, ordinal, bool(_CONTENT.search(text)))
