"""Document → sentence-aware chunks with character offsets into the source.

Sentences are found on the *original* text (so offsets stay exact) with
shekar's list of sentence-ending punctuation plus line breaks, which carry
most of the structure in webinar notes and lists.  Chunks pack whole
sentences up to a token budget measured with the embedding tokenizer, and
overlap by whole trailing sentences.  A sentence longer than the budget is
cut at word boundaries.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from shekar import data as shekar_data

from ..core.records import Chunk, Document
from .normalize import normalize

_END = re.escape(shekar_data.end_sentence_punctuations + "…")
# a run of enders (plus closing quotes/brackets) followed by space, or a line break
_BOUNDARY = re.compile(rf"[{_END}]+[»”\")\]]*(?=\s|$)|\n")
_ENDERS = set(shekar_data.end_sentence_punctuations + "…:؛;")
_FRAGMENT_WORDS = 4
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)

TokenCounter = Callable[[Sequence[str]], list[int]]


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentences of ``text[start:end]`` as trimmed, non-empty spans.

    Short lines directly above or below an unpunctuated line (a caption,
    "by Dr X", a date) are joined to it: alone they would be fragments.
    """
    end = len(text) if end is None else end
    spans: list[Span] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        spans.extend(_trimmed(text, cursor, match.end()))
        cursor = match.end()
    spans.extend(_trimmed(text, cursor, end))
    return _join_fragments(text, spans)


def _join_fragments(text: str, spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for span in spans:
        if out:
            prev = out[-1]
            gap = text[prev.end : span.start]
            last_line = text[prev.start : prev.end].rsplit("\n", 1)[-1]
            short = len(last_line.split()) <= _FRAGMENT_WORDS or len(text[span.start : span.end].split()) <= 5
            fragment = text[prev.end - 1] not in _ENDERS and short
            if fragment and gap.count("\n") == 1 and len(text[prev.start : span.end].split()) <= 40:
                out[-1] = Span(prev.start, span.end)
                continue
        out.append(span)
    return out


def _trimmed(text: str, start: int, end: int) -> Iterator[Span]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start and any(ch.isalnum() for ch in text[start:end]):
        yield Span(start, end)


def _word_pieces(text: str, span: Span, budget: int, count: TokenCounter) -> list[tuple[Span, int]]:
    """Cut an over-long sentence at spaces so each piece fits ``budget`` tokens.

    Words are counted once each (the tokenizer splits on whitespace first, so
    a piece's count is the sum of its words'); a run with no space at all is
    cut every ``budget - 4`` characters, since a token covers at least one.
    """
    words = [
        (span.start + m.start(), span.start + m.end())
        for m in re.finditer(r"\S+", text[span.start : span.end])
    ]
    sizes = [n - 2 for n in count([normalize(text[a:b]) for a, b in words])]  # minus <s> and </s>
    pieces: list[tuple[Span, int]] = []
    begin, end, used = -1, -1, 2

    def flush() -> None:
        nonlocal begin, used
        if begin >= 0:
            pieces.append((Span(begin, end), used))
        begin, used = -1, 2

    for (a, b), size in zip(words, sizes, strict=True):
        if size + 2 > budget:
            flush()
            step = max(1, budget - 4)
            cut = [Span(i, min(i + step, b)) for i in range(a, b, step)]
            pieces.extend(zip(cut, count([normalize(text[s.start : s.end]) for s in cut]), strict=True))
            continue
        if begin >= 0 and used + size > budget:
            flush()
        if begin < 0:
            begin = a
        end, used = b, used + size
    flush()
    return pieces


def _headings(doc: Document) -> list[tuple[int, str]]:
    return [(m.start(), m.group(1).strip()) for m in _HEADING.finditer(doc.text, doc.body_start)]


def text_hash(text: str) -> str:
    """Key of the embedding cache: what is embedded is the normalized text."""
    return hashlib.sha256(normalize(text).encode()).hexdigest()


def chunk_document(
    doc: Document, count: TokenCounter, max_tokens: int = 256, overlap_tokens: int = 48
) -> list[Chunk]:
    """Split one document; every chunk's text is ``doc.text[start:end]``."""
    sentences = sentence_spans(doc.text, doc.body_start)
    if not sentences:
        return []
    sizes = count([normalize(doc.text[s.start : s.end]) for s in sentences])
    units: list[tuple[Span, int]] = []
    for span, size in zip(sentences, sizes, strict=True):
        if size <= max_tokens:
            units.append((span, size))
        else:
            units.extend(_word_pieces(doc.text, span, max_tokens, count))

    headings = _headings(doc)
    groups: list[list[tuple[Span, int]]] = []
    current: list[tuple[Span, int]] = []
    total = 0
    for unit in units:
        if current and total + unit[1] > max_tokens:
            groups.append(current)
            carry: list[tuple[Span, int]] = []
            carried = 0
            for prev in reversed(current):
                if carried + prev[1] > overlap_tokens or carried + prev[1] + unit[1] > max_tokens:
                    break
                carry.insert(0, prev)
                carried += prev[1]
            current, total = carry, carried
        current.append(unit)
        total += unit[1]
    if current:
        groups.append(current)

    chunks = []
    for group in groups:
        start, end = group[0][0].start, group[-1][0].end
        heading = next((h for pos, h in reversed(headings) if pos <= start), "")
        text = doc.text[start:end]
        chunks.append(
            Chunk(
                chunk_id=f"{doc.doc_id}#{start}-{end}",
                doc_id=doc.doc_id,
                start=start,
                end=end,
                text=text,
                heading=heading,
                tokens=sum(size for _, size in group),
                text_hash=text_hash(text),
            )
        )
    return chunks
