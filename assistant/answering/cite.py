"""Citations: exact character spans of source documents, numbered for the reader.

A citation also says where the quote sits in its source: the slide of a deck,
or the times in a recording (from the transcript's cue segments), with a
link that opens the recording at that moment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..core.records import Answer, Citation, Document, Hit
from ..indexing.layout import Index


@dataclass(frozen=True)
class Location:
    """Where ``doc.text[start:end]`` is in the source beyond characters: times, slide, link."""

    start_s: float | None = None
    end_s: float | None = None
    slide: int | None = None
    url: str = ""


def locate(doc: Document, start: int, end: int) -> Location:
    """Times and slide of the segments that ``[start, end)`` overlaps, and a link to open there.

    A transcript quote links to ``recording_url#t=<whole seconds>`` (a W3C
    media fragment); anything else to the document's own url, if it has one.
    """
    end = max(end, start + 1)  # an empty span still sits somewhere
    hit = [s for s in doc.segments if s.start < end and s.end > start]
    starts = [s.start_s for s in hit if s.start_s is not None]
    ends = [s.end_s for s in hit if s.end_s is not None]
    slides = [s.slide for s in hit if s.slide is not None]
    start_s = min(starts) if starts else None
    url = doc.url or doc.recording_url
    if start_s is not None and doc.recording_url:
        url = f"{doc.recording_url.split('#', 1)[0]}#t={int(start_s)}"
    return Location(start_s, max(ends) if ends else None, slides[0] if slides else None, url)


def _clock(seconds: float) -> str:
    whole = int(seconds)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def format_time_range(start_s: float | None, end_s: float | None) -> str:
    """``"01:05–01:12"`` (``"1:01:05–1:01:12"`` past an hour) for display; "" without times."""
    if start_s is None:
        return ""
    if end_s is None or int(end_s) == int(start_s):
        return _clock(start_s)
    if end_s >= 3600 > start_s:
        return f"0:{_clock(start_s)}–{_clock(end_s)}"
    return f"{_clock(start_s)}–{_clock(end_s)}"


def citation(
    index: Index, n: int, doc_id: str, start: int, end: int, score: float, chunk_id: str = ""
) -> Citation:
    """Quote ``document.text[start:end]`` verbatim, with what a reader needs to find it."""
    doc = index.documents[doc_id]
    where = locate(doc, start, end)
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
        start_s=where.start_s,
        end_s=where.end_s,
        slide=where.slide,
        url=where.url,
    )


def passage_citations(index: Index, hits: Iterable[Hit], first: int = 1) -> list[Citation]:
    """Whole passages as numbered quotes (used for 'related' and for LLM answers)."""
    return [
        citation(index, n, h.chunk.doc_id, h.chunk.start, h.chunk.end, h.score, h.chunk.chunk_id)
        for n, h in enumerate(hits, first)
    ]


def _where_plain(c: Citation) -> str:
    """Characters always; the slide or the time range when the source has them."""
    parts = [f"نویسه‌های {c.start}–{c.end}"]
    if c.slide is not None:
        parts.append(f"اسلاید {c.slide}")
    if c.start_s is not None:
        parts.append(f"زمان {format_time_range(c.start_s, c.end_s)}")
    if c.url:
        parts.append(c.url)
    return "، ".join(parts)


def render_plain(answer: Answer) -> str:
    """Readable Persian for a terminal: the answer, then the numbered sources."""
    lines = [answer.text, ""]
    span = answer.span_dict()
    if span:
        lines[1:1] = [f"پاسخ: «{span['text']}»", ""]
    if answer.citations:
        lines.append("منابع:")
        for c in answer.citations:
            who = f" — {c.speaker}" if c.speaker else ""
            lines.append(f"[{c.n}] {c.title}{who} ({c.source}، {_where_plain(c)})")
            lines.append(f"    «{' '.join(c.text.split())}»")
    if answer.abstained and not answer.related:
        lines.append("در منابع بخشی نزدیک به این پرسش هم نیست.")
    if answer.related:
        lines.append("بخش‌های مرتبط (نه به عنوان استناد):")
        for c in answer.related:
            lines.append(f"- {c.title} ({c.source}): «{' '.join(c.text.split())[:200]}…»")
    return "\n".join(lines).rstrip()
