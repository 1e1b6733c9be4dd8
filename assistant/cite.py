"""Citations: exact character spans of source documents, numbered for the reader."""

from __future__ import annotations

from collections.abc import Iterable

from .index import Index
from .schema import Answer, Citation, Hit


def citation(
    index: Index, n: int, doc_id: str, start: int, end: int, score: float, chunk_id: str = ""
) -> Citation:
    """Quote ``document.text[start:end]`` verbatim, with what a reader needs to find it."""
    doc = index.documents[doc_id]
    return Citation(
        n=n,
        doc_id=doc_id,
        title=doc.title,
        source=doc.source,
        start=start,
        end=end,
        text=doc.text[start:end],
        score=round(float(score), 4),
        chunk_id=chunk_id,
        speaker=doc.speaker,
        date=doc.date_jalali or doc.date,
        doc_sha256=doc.content_hash,
    )


def passage_citations(index: Index, hits: Iterable[Hit], first: int = 1) -> list[Citation]:
    """Whole passages as numbered quotes (used for 'related' and for LLM answers)."""
    return [
        citation(index, n, h.chunk.doc_id, h.chunk.start, h.chunk.end, h.score, h.chunk.chunk_id)
        for n, h in enumerate(hits, first)
    ]


def render_plain(answer: Answer) -> str:
    """Readable Persian for a terminal: the answer, then the numbered sources."""
    lines = [answer.text, ""]
    if answer.citations:
        lines.append("منابع:")
        for c in answer.citations:
            who = f" — {c.speaker}" if c.speaker else ""
            lines.append(f"[{c.n}] {c.title}{who} ({c.source}، نویسه‌های {c.start}–{c.end})")
            lines.append(f"    «{' '.join(c.text.split())}»")
    if answer.related:
        lines.append("بخش‌های مرتبط (نه به عنوان استناد):")
        for c in answer.related:
            lines.append(f"- {c.title} ({c.source}): «{' '.join(c.text.split())[:200]}…»")
    return "\n".join(lines).rstrip()
