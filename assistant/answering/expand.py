"""«بیشتر توضیح بده», «مثال بزن»: go on from where the previous answer quoted.

Asked right after an answer, these say "go on from *there*", not "search
again": retrieval with the topic's words lands on the same sentence or on
another section.  So the answer continues the previous answer's first quote
in its document: the sentences of its lines and block not shown yet, past a
lead-in («… در زیر می خوانید:») into what it announces; a list shown by its
items' terms goes on with each item's whole line; a sentence that gives an
example comes first when one is asked for.  When the quote was all there is,
the answer says so.  Offsets come from the document, so every sentence is
cited as exactly as any other.
"""

from __future__ import annotations

import re

from ..core.records import Answer
from ..indexing.layout import Index
from ..text.chunk import sentence_spans
from ..text.normalize import normalize
from ..text.tokens import ZWNJ
from .choose import Quote
from .cite import citation
from .conversation import FRAME_WORDS
from .extractive import ExtractiveAnswerer

#: what asks to go on: «بیشتر توضیح بده», «ادامه بده», «مثال بزن», «یک نمونه بگو»
_MORE = re.compile(r"بیشتر|توضیح|ادامه|مثال|نمونه|بازش کن")
_EXAMPLE_ASKED = re.compile(r"مثال|نمونه")
_EXAMPLE = re.compile(r"مثال|نمونه|مثلا|مثلاً|برای مثال|فرض کنید")
_ASKING = frozenset(
    {"ادامه", "نمونه", "یک", "یه", "بگو", "بزن", "بده", "بیاور", "بازش", "کن", "بیشتری", "تر"}
)
_KNOWN = FRAME_WORDS | _ASKING
MOST = 3
NOTHING_MORE = "منابع بیش از آنچه آمد در این باره چیزی ندارند."
_LABELLED = re.compile(r"^[^:،.؟?]{2,60}:\s")


def asks_more(question: str) -> bool:
    """A question of frame words only that asks to go on («بیشتر توضیح بده», «مثال بزن»)."""
    words = [w.strip("،,.:؛؟?!«»\"' ").replace(ZWNJ, "") for w in normalize(question).split()]
    words = [w for w in words if w]
    return bool(words) and bool(_MORE.search(" ".join(words))) and all(w in _KNOWN for w in words)


def _lines(text: str, start: int, end: int) -> tuple[int, int]:
    """The whole lines ``[start, end)`` lies on."""
    last = text.find("\n", end)
    return text.rfind("\n", 0, start) + 1, len(text) if last < 0 else last


def _block_after(text: str, end: int, labelled: bool) -> list[tuple[int, int]]:
    """The lines that follow in the same block (up to a blank line or a heading); a labelled line
    («پاسخگویی: …») after a labelled quote is the next item of a list, not more of this one."""
    out = []
    while end < len(text) and len(out) < MOST:
        start, end = _lines(text, end + 1, end + 1)
        line = text[start:end].strip()
        if not line or line.startswith("#") or (labelled and _LABELLED.match(line)):
            break
        out.append((start, end))
    return out


def shown_spans(previous: Answer) -> tuple[tuple[str, int, int], ...]:
    """What the previous answer quoted: not quoted again when asked for more."""
    return tuple((c.doc_id, c.start, c.end) for c in previous.citations)


def continuable(index: Index, previous: Answer) -> bool:
    """An answer whose first quote can be read on from: not an abstention, and quoting a document
    that has not changed since."""
    if previous.abstained or not previous.citations:
        return False
    first = previous.citations[0]
    doc = index.documents.get(first.doc_id)
    return doc is not None and doc.text[first.start : first.end] == first.text


def continuation(index: Index, previous: Answer, question: str) -> list[Quote]:
    """The sentences after the previous answer's first quote: on its lines, in its block, and past a
    lead-in that ends the block («… در زیر می خوانید:») into the next; [] when there are none."""
    first = previous.citations[0]
    doc = index.documents[first.doc_id]
    text = doc.text
    if "\n- " in previous.text:
        return _whole_items(index, previous)
    shown = [(a, b) for d, a, b in shown_spans(previous) if d == first.doc_id]
    start, end = _lines(text, first.start, first.end)
    labelled = bool(_LABELLED.match(text[start:end].strip()))
    lines = [(start, end), *_block_after(text, end, labelled)]
    if text[: lines[-1][1]].rstrip().endswith(":"):  # a lead-in: what it announces follows
        after = len(text) - len(text[lines[-1][1] :].lstrip())
        following = _lines(text, after, after)
        lines += [following, *_block_after(text, following[1], labelled)]
    spans = []
    for a, b in lines:
        fresh = [s for s in sentence_spans(text, a, b) if s.start >= first.start]
        spans += [s for s in fresh if all(s.end <= x or s.start >= y for x, y in shown)]
    if _EXAMPLE_ASKED.search(normalize(question)):
        spans.sort(key=lambda s: not _EXAMPLE.search(text[s.start : s.end]))
    return [
        Quote(doc.doc_id, _chunk_of(index, doc.doc_id, s.start), s.start, s.end, first.score)
        for s in spans[:MOST]
    ]


def _whole_items(index: Index, previous: Answer) -> list[Quote]:
    """A list shown by its items' terms («فقدان شفافیت و انصاف») goes on with each item's whole line."""
    lead, items = previous.citations[0], previous.citations[1:]
    text = index.documents[lead.doc_id].text
    lines = [_lines(text, c.start, c.end) for c in items]
    if all(text[a:b].strip() == c.text.strip() for (a, b), c in zip(lines, items, strict=True)):
        return []
    quotes = [Quote(lead.doc_id, lead.chunk_id, lead.start, lead.end, lead.score)]
    for (a, b), c in zip(lines, items, strict=True):
        a, b = a + len(text[a:b]) - len(text[a:b].lstrip()), a + len(text[a:b].rstrip())
        quotes.append(Quote(c.doc_id, _chunk_of(index, c.doc_id, a), a, b, c.score, item=True))
    return quotes


def more_of(index: Index, previous: Answer, question: str, typed: str) -> Answer | None:
    """The continuation as a cited answer (``typed``: the question as the student wrote it); when
    the sources say no more there, an abstention that says so, with the quote it would go on from.
    None when the previous answer cannot be read on from."""
    if not continuable(index, previous):
        return None
    quotes = continuation(index, previous, question)
    if quotes:
        return ExtractiveAnswerer.quote(typed, index, quotes)
    c = previous.citations[0]
    again = citation(index, 1, c.doc_id, c.start, c.end, c.score, c.chunk_id)
    return Answer(question=typed, text=NOTHING_MORE, abstained=True, related=[again])


def _chunk_of(index: Index, doc_id: str, at: int) -> str:
    return next((c.chunk_id for c in index.chunks if c.doc_id == doc_id and c.start <= at < c.end), "")
