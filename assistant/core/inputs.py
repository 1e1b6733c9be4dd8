"""What a person types, checked once where it enters: the CLI, ``/ask`` and the chat.

A question must be text; NUL and other control characters are dropped (a NUL
once made PostgreSQL refuse the log row), bidi overrides that would reorder
what a trainer later reads are removed, and the length is capped.  A history
is a list of earlier questions (strings) or ``{"question", "answer"}``
objects, oldest first; only its last :data:`MAX_HISTORY_TURNS` turns and
:data:`MAX_HISTORY_CHARS` characters are read, so a client that sends ten
thousand turns costs microseconds, not seconds.  Everything past this module
receives a :class:`Query` and trusts it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import QuestionError
from .records import Answer, Turn

#: Turns of a conversation read from a history (older ones cannot be leaned on anyway).
MAX_HISTORY_TURNS = 20
#: Characters of question and answer text read from a history, newest turns first.
MAX_HISTORY_CHARS = 20_000

# C0/C1 controls (tab and newline become spaces), bidi embeddings, overrides and isolates,
# and other invisibles; ZWNJ/ZWJ stay: they are part of Persian spelling.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\ufeff\ufff9-\ufffb]"
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
    turns: list[Turn] = []
    budget = MAX_HISTORY_CHARS
    for item in reversed(value[-MAX_HISTORY_TURNS:]):
        turn = _turn(item)
        budget -= len(turn.question) + (len(turn.answer.text) if turn.answer else 0)
        if budget < 0:
            break
        turns.append(turn)
    return tuple(reversed(turns))


def _turn(item: object) -> Turn:
    """One history item: a Turn, a question string, or {"question", "answer"} (answer text or dict)."""
    if isinstance(item, Turn):
        return item
    if isinstance(item, str):
        return Turn(clean_text(item))
    if isinstance(item, dict) and isinstance(item.get("question"), str):
        question = clean_text(item["question"])
        answer = item.get("answer")
        if isinstance(answer, str):
            return Turn(question, Answer(question, clean_text(answer), abstained=False))
        if isinstance(answer, dict):
            try:
                return Turn(question, Answer.from_dict({"question": question, **answer}))
            except (TypeError, ValueError) as exc:
                raise _bad_item(item) from exc
        if answer is None:
            return Turn(question)
    raise _bad_item(item)


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
