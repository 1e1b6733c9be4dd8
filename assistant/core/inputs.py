"""What a person types, checked once where it enters: the CLI, ``/ask`` and the chat.

A question must be text; NUL and other control characters are dropped (a NUL
once made PostgreSQL refuse the log row), lone surrogates (JSON's ``"\ud800"``)
too, bidi overrides that would reorder what a trainer later reads are
removed, and the length is capped.  A history is a list of earlier questions
(strings) or ``{"question", "answer"}`` objects, oldest first; only its last
:data:`MAX_HISTORY_TURNS` turns and :data:`MAX_HISTORY_CHARS` characters are
read, and an answer object only in the fields and types an answer has, so a
client that sends ten thousand turns costs microseconds, not seconds.  The
chat window a browser sends back is cut to its last :data:`MAX_CHAT_MESSAGES`
messages (:func:`keep_recent`).  Everything past this module receives a
:class:`Query` and trusts it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from .errors import QuestionError
from .records import Answer, AnswerSentence, Citation, Turn

T = TypeVar("T")

#: Turns of a conversation read from a history (older ones cannot be leaned on anyway).
MAX_HISTORY_TURNS = 20
#: Characters of question and answer text read from a history, newest turns first.
MAX_HISTORY_CHARS = 20_000
#: A history longer than this is refused, not trimmed: no honest client sends ten times what is read.
MAX_HISTORY_ITEMS = 10 * MAX_HISTORY_TURNS
#: Sentences, citations or related passages read from one earlier answer.
MAX_ANSWER_PARTS = 50
#: Chat messages (questions and answers) a browser's chat window carries back; older ones are dropped.
MAX_CHAT_MESSAGES = 200

# C0/C1 controls (tab and newline become spaces), bidi embeddings, overrides and isolates,
# and other invisibles; ZWNJ/ZWJ stay: they are part of Persian spelling.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
_SPACE = re.compile(r"[\t\n\r\f\v]+")


@dataclass(frozen=True)
class Query:
    """A checked question and the conversation it follows (oldest turn first)."""

    question: str
    history: tuple[Turn, ...] = ()


def clean_text(text: str) -> str:
    """Control characters and bidi overrides removed, line breaks as spaces, ends stripped."""
    return _CONTROL.sub("", _SPACE.sub(" ", text)).strip()


def read_question(value: object, max_chars: int) -> str:
    """The question as text we will run, or a clear bilingual :class:`QuestionError`."""
    if not isinstance(value, str):
        raise QuestionError(
            "پرسش باید متن باشد. / The question must be text, not "
            f"{'nothing' if value is None else type(value).__name__}."
        )
    if len(value) > 4 * max_chars:  # refuse before cleaning a huge input
        raise _too_long(max_chars)
    question = clean_text(value)
    if not question:
        raise QuestionError("پرسش خالی است. / The question is empty.")
    if len(question) > max_chars:
        raise _too_long(max_chars)
    return question


def _too_long(max_chars: int) -> QuestionError:
    return QuestionError(
        f"پرسش بیش از {max_chars} نویسه است؛ کوتاه‌ترش کنید. / "
        f"The question is longer than {max_chars} characters; please shorten it."
    )


def read_history(value: object) -> tuple[Turn, ...]:
    """Earlier turns, oldest first: the newest :data:`MAX_HISTORY_TURNS` that fit the size cap."""
    if value is None:
        return ()
    if isinstance(value, str | bytes | dict) or not isinstance(value, Sequence):
        raise QuestionError(
            "تاریخچه باید فهرستی از پرسش‌های پیشین باشد. / "
            f"The history must be a list of earlier questions, not {type(value).__name__}."
        )
    if len(value) > MAX_HISTORY_ITEMS:
        raise QuestionError(
            f"تاریخچه {len(value):,} مورد دارد؛ حداکثر {MAX_HISTORY_ITEMS} مورد بفرستید "
            f"(فقط {MAX_HISTORY_TURNS} نوبت آخر خوانده می‌شود). / "
            f"The history has {len(value):,} items; send at most {MAX_HISTORY_ITEMS} "
            f"(only the last {MAX_HISTORY_TURNS} turns are read)."
        )
    turns: list[Turn] = []
    budget = MAX_HISTORY_CHARS
    for item in reversed(value[-MAX_HISTORY_TURNS:]):
        turn = _turn(item)
        budget -= _size(turn)
        if budget < 0:
            break
        turns.append(turn)
    return tuple(reversed(turns))


def _size(turn: Turn) -> int:
    answer = turn.answer
    if answer is None:
        return len(turn.question)
    parts = [answer.text, *(s.text for s in answer.sentences), *(c.text for c in answer.citations)]
    return len(turn.question) + sum(len(p) for p in parts) + sum(len(c.text) for c in answer.related)


def _turn(item: object) -> Turn:
    """One history item: a Turn, a question string, or {"question", "answer"} (answer text or dict)."""
    if isinstance(item, Turn):
        return item
    if isinstance(item, str):
        return Turn(clean_text(item))
    if not isinstance(item, dict) or not isinstance(item.get("question"), str):
        raise _bad_item(item)
    question = clean_text(item["question"])
    answer = item.get("answer")
    if answer is None:
        return Turn(question)
    try:
        return Turn(question, _answer(question, answer))
    except (TypeError, ValueError) as exc:
        raise _bad_item(item) from exc


def _answer(question: str, data: object) -> Answer:
    """An earlier answer as a client sent it: text, or the fields of ``Answer.to_dict()`` with their types."""
    if isinstance(data, str):
        return Answer(question, clean_text(data), abstained=False)
    if not isinstance(data, Mapping):
        raise TypeError("an answer is text or an object")
    text = data.get("answer", data.get("text", ""))
    if not isinstance(text, str):
        raise TypeError("the answer's text must be text")
    sentences = [
        AnswerSentence(**_typed(AnswerSentence, s), citations=tuple(_parts(s.get("citations"), int)))
        for s in _parts(data.get("sentences"), Mapping)
    ]
    return Answer(
        question,
        clean_text(text),
        abstained=bool(data.get("abstained")),
        sentences=sentences,
        citations=[Citation(**_typed(Citation, c)) for c in _parts(data.get("citations"), Mapping)],
        related=[Citation(**_typed(Citation, c)) for c in _parts(data.get("related"), Mapping)],
    )


def _parts(value: object, kind: type) -> list[Any]:
    """A list of ``kind`` items (None: none), at most :data:`MAX_ANSWER_PARTS` of them."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, kind) for v in value[:MAX_ANSWER_PARTS]):
        raise TypeError(f"expected a list of {kind.__name__}")
    return value[:MAX_ANSWER_PARTS]


_SCALARS: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "float | None": (int, float, type(None)),
    "int | None": (int, type(None)),
}


def _typed(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """The scalar fields of dataclass ``cls`` found in ``data``, each of its declared type (text cleaned)."""
    out: dict[str, Any] = {}
    for f in fields(cls):
        kinds = _SCALARS.get(str(f.type))
        if kinds is None or f.name not in data:
            continue
        value = data[f.name]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise TypeError(f"{f.name} must be {f.type}")
        out[f.name] = clean_text(value) if isinstance(value, str) else value
    return out


def keep_recent(messages: object, by_index: Mapping[int, T] | None, limit: int = MAX_CHAT_MESSAGES):
    """A chat window's last ``limit`` messages, and records keyed by message index shifted to match.

    Why: a browser sends its whole chat window back with every question; a
    window of ten thousand messages must not be rendered forty times over.
    """
    kept = list(messages) if isinstance(messages, list) else []
    cut = max(0, len(kept) - limit)
    records = dict(by_index or {})
    if not cut:
        return kept, records
    return kept[cut:], {i - cut: v for i, v in records.items() if isinstance(i, int) and i >= cut}


def _bad_item(item: object) -> QuestionError:
    shown = repr(item)[:80]
    return QuestionError(
        "هر مورد تاریخچه باید پرسش یا {question, answer} باشد. / "
        f"Each history item must be a question string or {{question, answer}}, not {shown}."
    )


def read_query(question: object, history: object, max_chars: int) -> Query:
    """The one entry check: a question and its history as typed (JSON, a form, a command line)."""
    return Query(read_question(question, max_chars), read_history(history))


def read_query_line(line: str, max_chars: int) -> Query:
    """One line of ``assistant ask --file``: a plain question, or JSON ``{"question", "history"}``."""
    if not line.lstrip().startswith("{"):
        return read_query(line.rstrip("\n"), None, max_chars)
    try:
        data = json.loads(line)
    except ValueError:
        data = None
    if not isinstance(data, dict) or "question" not in data:
        raise QuestionError("سطر JSON نامعتبر است. / Not a valid JSON question line.")
    return read_query(data["question"], data.get("history"), max_chars)


def shown_question(line: str) -> str:
    """What to name a refused ``--file`` line by: its JSON question when it has one, else the line."""
    try:
        data = json.loads(line)
        if isinstance(data, dict) and isinstance(data.get("question"), str):
            return data["question"]
    except ValueError:
        pass
    return line.rstrip("\n")
