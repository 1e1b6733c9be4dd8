"""The phrase that answers: a short span inside the leading sentence, by the expected type.

who → the titled name, when → the date, how many → the number with what it
counts, «X یعنی چه» → the definition part, why → the reason clause.  The
sentence stays quoted whole as the proof; the span is only offsets into it,
so a reader's eye lands on the answer.  Regular expressions only: fast, and
a type that is not found marks nothing (and tells abstention so).
"""

from __future__ import annotations

import re

from .lexicon import MONTHS, NUMBER_WORDS

_D = r"[0-9۰-۹]"
_WEEKDAY = r"(?:(?:یک|دو|سه|چهار|پنج) ?\u200c?شنبه|شنبه|جمعه)"
_MONTH = "(?:" + "|".join(sorted(set(MONTHS), key=len, reverse=True)) + ")"
_DATE = re.compile(
    rf"(?:{_WEEKDAY}\s+)?(?:{_D}{{1,2}}\s+)?\b{_MONTH}\b(?:\s+(?:ماه\s+)?(?:سال\s+)?{_D}{{2,4}})?"
    rf"|(?:سال|دهه|قرن)\s+{_D}{{2,4}}(?:\s+(?:میلادی|شمسی|هجری(?: قمری| شمسی)?))?"
    rf"|{_D}{{1,4}}[/-]{_D}{{1,2}}[/-]{_D}{{1,4}}"
    rf"|{_D}{{3,4}}(?:\s+(?:میلادی|شمسی|هجری(?: قمری| شمسی)?|م\.|ه\.ش|ق\.م))?"
    rf"|{_WEEKDAY}\s+\S+\s+\b{_MONTH}\b"
)
_NUMBER_WORD = "(?:" + "|".join(w for w in NUMBER_WORDS if w not in ("اول", "دوم", "سوم", "نه")) + ")"
_SCALE = r"(?:\s+(?:هزار|میلیون|میلیارد|درصد|برابر))*"
_NUMBER = re.compile(
    rf"(?:{_D}[0-9۰-۹,٬.]*|\b{_NUMBER_WORD}\b(?:\s+و\s+{_NUMBER_WORD}\b)*){_SCALE}(?:\s+(?!و\b|از\b|در\b|به\b)[^\s،.؛:]+)?"
)
_TITLE = r"(?:دکتر|مهندس|استاد|آقای|خانم|آیت ?الله|حجت ?الاسلام|سید|پروفسور)"
_PERSON = re.compile(rf"{_TITLE}[^\S\n]+[^\s،.؛:()]+(?:[^\S\n]+[^\s،.؛:()]+){{0,2}}")  # within one line
_PERSON_STOP = re.compile(r"\s+(?:در|از|به|با|که|و|را|برای|گفت|است|بود)(?:\s|$).*$")
_REASON = re.compile(r"(?:زیرا|چون(?:که)?|چرا که|به دلیل|به علت|به خاطر|برای اینکه|به سبب)\s+(?P<r>[^.؛!؟]+)")
_TAIL = r"(?P<d>[^.؛!؟]+?)(?:\s+(?:است|می ?باشد))?(?=[.؛!؟]|$)"  # the clause, without a final «است»
_DEFINE = re.compile(r"(?:به معنای|به معنی|یعنی|عبارت (?:است|اند) از|عبارتست از)\s+" + _TAIL)
_TERM = re.compile(r"^[^:\-–—]{1,60}?\s*(?::|\s[\-–—])\s*" + _TAIL)
_PLACE = re.compile(r"(?:شهر|کشور|استان|منطقه|روستای|جزیره|کوه|رود|دریای)\s+[^\s،.؛:]+(?:\s+[^\s،.؛:]+)?")


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start] in ' \t\n«"':
        start += 1
    while end > start and text[end - 1] in ' \t\n،,:؛»"':
        end -= 1
    return (start, end) if end > start else None


def _group(match: re.Match[str] | None, name: str) -> tuple[int, int] | None:
    return _trimmed(match.string, match.start(name), match.end(name)) if match else None


def _person(text: str) -> tuple[int, int] | None:
    match = _PERSON.search(text)
    if not match:
        return None
    body = _PERSON_STOP.sub("", match.group(0))
    return _trimmed(text, match.start(), match.start() + len(body))


def find_span(kind: str, sentence: str) -> tuple[int, int] | None:
    """``(start, end)`` of the answering phrase in ``sentence``, or None when none is found."""
    if kind == "date":
        match = _DATE.search(sentence)
        return _trimmed(sentence, match.start(), match.end()) if match else None
    if kind == "number":  # a count, not the day or year of a date
        dates = [(m.start(), m.end()) for m in _DATE.finditer(sentence)]
        for match in _NUMBER.finditer(sentence):
            if not any(a <= match.start() < b for a, b in dates):
                return _trimmed(sentence, match.start(), match.end())
        return None
    if kind == "person":
        return _person(sentence)
    if kind == "place":
        match = _PLACE.search(sentence)
        return _trimmed(sentence, match.start(), match.end()) if match else None
    if kind == "reason":
        return _group(_REASON.search(sentence), "r")
    if kind == "definition":
        return _group(_DEFINE.search(sentence), "d") or _group(_TERM.search(sentence), "d")
    return None


def has_span(kind: str, text: str) -> bool:
    """Whether ``text`` holds a phrase of the expected type at all."""
    return find_span(kind, text) is not None
