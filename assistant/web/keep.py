"""A conversation kept in the student's own browser, read back, and written out as Markdown.

Pure: no gradio.  What the browser keeps (``gr.BrowserState``, i.e. its
localStorage) is the questions and the answers as ``Answer.to_dict()``; the
server keeps nothing of it.  What comes back is untrusted input: it is checked
field by field and every message is rendered anew (escaped), never shown as sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..core.records import Answer, Citation
from . import render

TITLE = "دستیار پرسش و پاسخ روابط عمومی"
SAVED_VERSION = 1
MAX_SAVED_TURNS = 100  # the chat window a page sends back is cut to its last 200 messages anyway


@dataclass(frozen=True)
class KeptTurn:
    """One question and its answer, as the browser keeps them."""

    question: str
    answer: Answer
    log_id: int | None


def chat_message(answer: Answer) -> str:
    """The finished chat message for an answer, escaped; the page's script turns each ``[n]`` into a link."""
    return render.answer_markdown(answer)


# --------------------------------------------------------------------------- kept in the browser


def to_saved(turns: list[KeptTurn]) -> dict[str, Any]:
    """What the browser stores: the last ``MAX_SAVED_TURNS`` turns, JSON only."""
    kept = turns[-MAX_SAVED_TURNS:]
    return {
        "v": SAVED_VERSION,
        "turns": [{"question": t.question, "answer": t.answer.to_dict(), "log_id": t.log_id} for t in kept],
    }


def from_saved(data: object) -> list[KeptTurn]:
    """The turns a browser sent back; anything malformed is dropped, not trusted."""
    if not isinstance(data, Mapping) or data.get("v") != SAVED_VERSION:
        return []
    raw = data.get("turns")
    turns: list[KeptTurn] = []
    for item in raw[-MAX_SAVED_TURNS:] if isinstance(raw, list) else []:
        try:
            answer = Answer.from_dict(dict(item["answer"]))
            if not _well_typed(answer):
                continue
            log_id = item.get("log_id")
            turns.append(
                KeptTurn(
                    question=str(item["question"])[:2000],
                    answer=answer,
                    log_id=log_id if isinstance(log_id, int) and not isinstance(log_id, bool) else None,
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return turns


def _well_typed(answer: Answer) -> bool:
    """Numbers where numbers belong and text where text does: a citation's ``n`` goes into the page."""
    texts = (answer.question, answer.text, answer.resolved_question)
    if not all(isinstance(t, str) for t in texts) or not isinstance(answer.abstained, bool):
        return False
    for c in (*answer.citations, *answer.related):
        ints = (c.n, c.start, c.end)
        strs = (c.doc_id, c.title, c.text, c.speaker, c.date, c.doc_sha256, c.url)
        if not all(type(v) is int for v in ints) or not all(isinstance(v, str) for v in strs):
            return False
    return True


def chat_history(turns: list[KeptTurn]) -> list[dict[str, str]]:
    """The chat's messages for kept turns, rendered anew: question at ``2i``, answer at ``2i + 1``."""
    history: list[dict[str, str]] = []
    for t in turns:
        history.append({"role": "user", "content": render.md_escape(t.question)})
        history.append({"role": "assistant", "content": chat_message(t.answer)})
    return history


# --------------------------------------------------------------------------- Markdown export


def _by_document(citations: tuple[Citation, ...] | list[Citation]) -> dict[str, list[Citation]]:
    groups: dict[str, list[Citation]] = {}
    for c in citations:
        groups.setdefault(c.doc_id, []).append(c)
    return groups


def _sources(answer: Answer) -> list[str]:
    lines = ["", "**منابع / sources**", ""]
    for doc_id, cited in _by_document(answer.citations).items():
        first = cited[0]
        head = " — ".join(b for b in (f"**{first.title or doc_id}**", first.speaker, first.date) if b)
        lines.append(f"- {head} (`{doc_id}`)")
        for c in cited:
            where = render.location_label(c)
            link = f" {c.url}" if c.url.startswith(("http://", "https://")) else ""
            where = f" ({where}{link})" if where else ""
            lines.append(f"  - [{c.n}]{where} «{' '.join(c.text.split())}»")
    return lines


def conversation_markdown(turns: list[KeptTurn], when: datetime | None = None) -> str:
    """The conversation as a Markdown file a student keeps: each question, its answer, its sources quoted."""
    stamp = (when or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# گفت‌وگو — {TITLE}", "", f"<!-- {stamp} -->", ""]
    for i, t in enumerate(turns, 1):
        lines += [f"## {i}. {t.question}", ""]
        resolved = render.reading_shown(t.answer.understood_as, t.answer.resolved_question, t.question)
        if resolved and resolved != t.question:
            lines += [f"*پرسش شما به این شکل خوانده شد: «{resolved}»*", ""]
        lines.append(t.answer.text)
        if not t.answer.abstained and t.answer.citations:
            lines += _sources(t.answer)
        elif t.answer.related:
            lines += ["", "**مطالب مرتبط (استناد نیستند) / related passages, not citations**", ""]
            lines += [f"- {r.title or r.doc_id}: «{' '.join(r.text.split())}»" for r in t.answer.related]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
