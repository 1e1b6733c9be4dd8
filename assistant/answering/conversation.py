"""Follow-up questions: resolve what a short question leans on before retrieval.

A student who asked «ارکان اعتماد کدام‌اند؟» and read «شفافیت، پاسخگویی،
صداقت و مسئولیتپذیری…» goes on with «دومی یعنی چه؟», «چرا مهم است؟» or
«صداقت چطور؟».  Retrieval alone cannot answer those: they name nothing.
This module rewrites such a question into a self-contained one from the
previous (resolved) question and the list items of the previous answer:

- an ordinal («دومی», «مورد آخر», «سومین رکن») → that item of the previous answer;
- a pronoun («این», «آن», «این مورد») → the previous question's topic;
- «X چطور؟» / «و X؟» → the previous question with X in place of its topic;
- a question of only generic words («چرا؟», «بیشتر توضیح بده») → about the topic.

A self-contained question is returned unchanged.  Pure rules over strings:
what it cannot resolve it leaves alone, and abstention then does its job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..core.records import Answer, Turn
from ..text.normalize import normalize
from ..text.tokens import ZWNJ
from .question import ORDINALS

_MARKER = re.compile(r"\s*\[\d+\]")
_LABEL = re.compile(r"^\s*([^:،.؟?\-–]{2,60}?)\s*(?::| - | – )")
_EDGE_PUNCT = "،,.:؛؟?!«»\"' "


def answer_sentences(answer: Answer) -> list[str]:
    """The answer's sentences as text, markers removed (from ``sentences`` or else ``text``)."""
    if answer.sentences:
        return [s.text for s in answer.sentences if s.supported]
    return [p for p in (_MARKER.sub("", s).strip() for s in re.split(r"(?<=\])\s+|\n+", answer.text)) if p]


def _label(sentence: str) -> str:
    match = _LABEL.match(sentence)
    return match.group(1).strip() if match and len(match.group(1).split()) <= 5 else ""


def _inline_list(sentence: str) -> list[str]:
    """«…گفت: شفافیت، پاسخگویی، صداقت و مسئولیتپذیری از…» → the four items."""
    segs = [s.strip() for s in sentence.split("،")]
    if len(segs) < 3:
        return []
    short = [len(s.split()) <= 3 for s in segs]
    best, run = (0, 0), 0
    for i in range(1, len(segs) - 1):
        run = run + 1 if short[i] else 0
        if run > best[1] - best[0]:
            best = (i - run + 1, i + 1)
    start, end = best
    if end == start:
        return []
    middle = segs[start:end]
    width = max(len(m.split()) for m in middle)
    colon, _, after_colon = segs[start - 1].rpartition(":")
    before = after_colon.split()
    narrow = min(len(m.split()) for m in middle)
    first = " ".join(before if colon and len(before) <= 3 else before[-narrow:])
    head, _, tail = segs[end].partition(" و ")
    last = [head] if not tail else [head, " ".join(tail.split()[:width])]
    if tail and len(head.split()) > 3:
        last = [" ".join(head.split()[:width])]
    return [item.strip(_EDGE_PUNCT) for item in [first, *middle, *last] if item.strip(_EDGE_PUNCT)]


def list_items(sentences: list[str]) -> list[str]:
    """The enumerated items of an answer: labelled lines («همدلی: …»), else an inline list."""
    labels = [_label(s) for s in sentences]
    if len(sentences) >= 2 and all(labels):
        return labels
    for sentence in sentences:
        items = _inline_list(sentence)
        if len(items) >= 3:
            return items
    labelled = [label for label in labels if label]
    return labelled if len(labelled) >= 2 else []


def listed(answer: Answer) -> list[str]:
    """The items of a list answer: its «- …» lines, each by its term when it has one."""
    lines = [_MARKER.sub("", line[2:]).strip() for line in answer.text.split("\n") if line.startswith("- ")]
    return [_label(line) or line for line in lines] if len(lines) >= 2 else []


@dataclass
class Context:
    """What a follow-up can lean on: the previous question (resolved), its answer, and the turn before.

    ``rerun`` answers a question afresh; it is called only when a follow-up needs
    the previous answer's items and the history carried no answer (or only text
    without them).  An answer without a list defers to the turn before it, so
    «سومی چطور؟» after «اولی یعنی چه؟» still counts in the list asked about first.
    """

    question: str
    answer: Answer | None = None
    rerun: Callable[[str], Answer] | None = None
    previous: Context | None = None

    def answered(self) -> Answer | None:
        """The previous answer; re-run when the history carried only its question."""
        if self.answer is None and self.rerun is not None:
            self.answer = self.rerun(self.question)
        return self.answer

    def items(self) -> list[str]:
        found = (listed(self.answer) or list_items(answer_sentences(self.answer))) if self.answer else []
        if not found and self.rerun and (self.answer is None or not self.answer.citations):
            self.answer = self.rerun(self.question)
            found = listed(self.answer) or list_items(answer_sentences(self.answer))
        if not found and self.previous is not None:
            return self.previous.items()
        return found

    def topic(self) -> str:
        return topic(self.question)


def last_context(
    history: Sequence[Turn],
    read: Callable[[str], str] = lambda q: q,
    rerun: Callable[[str], Answer] | None = None,
) -> Context | None:
    """Walk the history oldest first, resolving each question against the one before."""
    context = None
    for turn in history:
        known = turn.answer.resolved_question if turn.answer else ""
        resolved = known if known and known != turn.answer.question else resolve(read(turn.question), context)
        context = Context(resolved, turn.answer, rerun, context)
    return context


#: Words that frame a question rather than name its subject.
FRAME_WORDS = frozenset(
    """کداماند کدام‌اند یعنی چه چی چیه چیست چیستند کدام کدامند کدوم کدومن اند است هست
    هستند بود بودند را رو به معنای معنی معناست تعریف کن کنید بده بدهید بگو بگویید
    توضیح چرا چطور چطوره چگونه آیا مهم مهمه بیشتر مثال بزن بزنید لطفا لطفاً دارد دارند کجاست کیست کی کجا درباره
    دربارهٔ دربارهی در مورد از نظر شما می‌شود میشود شود هم و یک یه""".replace(ZWNJ, "").split()
)


def _frame(word: str) -> bool:
    return word.replace(ZWNJ, "") in FRAME_WORDS


_NOUN = r"(?:مورد|گزینه|عنصر|رکن|عامل|ویژگی|اصل|بخش)"
_STEM = "|".join(ORDINALS)  # the questions' own list («مورد نهم» too)
_ORDINAL = re.compile(
    rf"(?:{_NOUN}\s+(?P<a>{_STEM})(?:ی|ین)?\b)|(?:\b(?P<b>{_STEM})ین\s+{_NOUN})|(?:\b(?P<c>{_STEM})ی\b)"
)
_PRONOUN = re.compile(
    r"\b(?:این|آن|اون|همین|همان)(?:\s+(?:مورد|موضوع|مفهوم|ویژگی|اصل|رکن|عامل)\b"
    r"|(?=\s*(?:را|رو|است|هست|هستند|بود|یعنی|چیست|چیه|چه|چی|چند|چقدر|کی|کجا|مهم|به|در|چطور|چگونه)\b|\s*[؟?.!]|\s*$))"
)
_HOW_ABOUT = re.compile(r"^(?:و\s+)?(?:درباره[ٔی]?\s+)?(?P<x>.+?)\s*(?:چطور|چطوره|چی|چه|هم|چه طور)?\s*[؟?]?$")


def _words(text: str) -> list[str]:
    return [w.strip(_EDGE_PUNCT) for w in text.split() if w.strip(_EDGE_PUNCT)]


def topic(question: str) -> str:
    """The subject of a question: its words between the leading and trailing frame words."""
    ws = _words(normalize(question))
    while ws and _frame(ws[0]):
        ws.pop(0)
    while ws and _frame(ws[-1]):
        ws.pop()
    return " ".join(ws)


def _ordinal(question: str, context: Context) -> str | None:
    match = _ORDINAL.search(question)
    if not match:
        return None
    items = context.items()
    n = ORDINALS[match.group("a") or match.group("b") or match.group("c")]
    if not items or n > len(items):
        return None
    return question[: match.start()] + items[n - 1 if n > 0 else -1] + question[match.end() :]


def _generic(question: str, subject: str) -> str | None:
    ws = _words(question)
    if not ws or not all(_frame(w) for w in ws):
        return None
    if ws[0] == "چرا":
        rest = " ".join(ws[1:]) or "مهم است"
        return f"چرا {subject} {rest}؟"
    if ws[0] in {"یعنی", "مهم", "چیست", "چیه", "است"}:
        return f"{subject} {question}"
    return f"دربارهٔ {subject} {question}"


def _how_about(question: str, context: Context) -> str | None:
    """«صداقت چطور؟» after «شفافیت یعنی چه؟» → «صداقت یعنی چه؟».

    X takes the place of what the previous answer was about when the previous
    question names it (a labelled line such as «مدیریت ضعیف بحران - …»), else
    of the previous question's topic.
    """
    if not re.search(r"(?:چطور|چطوره|چه طور|\bهم)\s*[؟?]?\s*$|^و\s", question):
        return None
    match = _HOW_ABOUT.match(question.strip())
    if not match:
        return None
    x = " ".join(w for w in _words(match.group("x")) if not _frame(w))
    previous = normalize(context.question)
    labels = [_label(s) for s in answer_sentences(context.answer)] if context.answer else []
    named = sorted((lb for lb in labels if lb and lb in previous), key=len, reverse=True)
    subject = named[0] if named else topic(context.question)
    if not x or not subject or len(x.split()) > 4:
        return None
    resolved = previous.replace(subject, x, 1)
    return resolved if resolved != previous else None


_PERSON_PRONOUN = re.compile(r"(?<!\S)(?:ایشان|او|وی)(?!\S)")
_NAME = re.compile(r"(?:دکتر|مهندس|استاد|آقای|خانم)\s+\S+(?:\s+(?!در|از|به|با|که|و|را|گفت|مدرس)\S+){0,2}")
_THAT = re.compile(r"(?<!\S)(?:آن|همان|این|اون|همین)\s+(?P<noun>[^\s؟?،.]{2,})")
_LINK_WORDS = frozenset(
    ["در", "را", "به", "از", "چه", "که", "و", "با", "برای", "توسط", "کی", "کجا", "چند", "بود", "است", "شد"]
)


def _person(question: str, context: Context) -> str | None:
    """«ایشان / او / وی» → the person the previous answer (else question) names."""
    if not _PERSON_PRONOUN.search(question):
        return None
    answer = context.answered()
    texts = [answer.text] if answer and not answer.abstained else []
    for text in [*texts, context.question]:
        names = [" ".join(n.split()) for n in _NAME.findall(normalize(text).replace(ZWNJ, " "))]
        if names:
            return _PERSON_PRONOUN.sub(names[0], question, count=1)
    return None


def _that_noun(question: str, context: Context) -> str | None:
    """«آن کارگاه» → «کارگاه دوم»: the noun as the previous question qualified it."""
    match = _THAT.search(question)
    if not match:
        return None
    noun = match.group("noun")
    previous = normalize(context.question).split()
    for i, word in enumerate(previous):
        if word.strip(_EDGE_PUNCT).replace(ZWNJ, "") == noun.replace(ZWNJ, ""):
            following = previous[i + 1].strip(_EDGE_PUNCT) if i + 1 < len(previous) else ""
            phrase = noun if not following or following in _LINK_WORDS else f"{noun} {following}"
            return question[: match.start()] + phrase + question[match.end() :]
    return None


def resolve(question: str, context: Context | None) -> str:
    """The question to retrieve with: self-contained ones come back unchanged."""
    if context is None:
        return question
    typed, question = question, normalize(question)
    subject = context.topic()
    for step in (
        lambda q: _ordinal(q, context),
        lambda q: _person(q, context),
        lambda q: _that_noun(q, context),
        lambda q: _how_about(q, context),
        lambda q: _generic(q, subject) if subject else None,
        lambda q: _PRONOUN.sub(subject, q, count=1) if subject and _PRONOUN.search(q) else None,
    ):
        resolved = step(question)
        if resolved:
            return " ".join(resolved.split())
    return typed
