"""Which units an answer quotes, and in what order: the best first, and only what answers.

A single-fact question gets one unit — plus a second when the two best are
too close to tell apart (a *hedge*: measured on the public sets, one unit
alone lost a fifth of the answers the second sentence held).  A question for
several things gets the units close to the best, or the whole list when the
best is a list's lead-in or one of its items.  A bare title line rides along
with the unit it heads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .question import QuestionKind
from .units import BARE, BLOCK, LEAD_IN, Unit, definition_term

#: a second unit rides along with a single-fact answer when its score is this close to the best's
#: (measured over the candidates before abstention: ParsiNLU train 1.54 units an answer, the gold
#: in one of them 69.3% against 59.2% with one unit; PersianQA ~1.45 and ~74% against 63.3%; 0.03
#: made ParsiNLU train answers 1.64 units long with abstention, over the 1.6 target)
HEDGE = 0.025
_ITEM_WORDS = 12


@dataclass(frozen=True)
class Candidate:
    doc_id: str
    chunk_id: str
    unit: Unit
    text: str
    rank: int
    dense: float  # the passage's cosine
    next: int | None = None  # the following unit of the same passage

    @property
    def start(self) -> int:
        return self.unit.start

    @property
    def end(self) -> int:
        return self.unit.end


@dataclass(frozen=True)
class Quote:
    """One cited span of the answer; ``item`` marks a list item (shown on its own line)."""

    doc_id: str
    chunk_id: str
    start: int
    end: int
    score: float
    item: bool = False


def _quote(c: Candidate, score: float, end: int | None = None) -> Quote:
    return Quote(c.doc_id, c.chunk_id, c.start, c.end if end is None else end, score)


def list_quotes(text: str, lead: Candidate, score: float) -> list[Quote]:
    """The lead-in, then each item at its own offsets (a long item by its term only)."""
    quotes = [_quote(lead, score)]
    for item in lead.unit.items:
        start, end = item.start, item.end
        term = definition_term(text[start:end])
        if term is not None and len(text[start:end].split()) > _ITEM_WORDS:
            start, end = start + term[0], start + term[1]
        quotes.append(Quote(lead.doc_id, lead.chunk_id, start, end, score, item=True))
    return quotes


def list_of(cands: list[Candidate], order: list[int]) -> int | None:
    """The lead-in whose list holds the best unit, or that directly follows it and ranks next
    («… اعتماد مردم را از دست بدهد. برخی از مهمترین عوامل … عبارتند از:»), if any."""
    best = order[0]
    following = cands[best].next
    lead = following is not None and cands[following].unit.kind == LEAD_IN and cands[following].unit.items
    if lead and len(order) > 1 and order[1] == following:
        return following
    unit = cands[best].unit
    for i, c in enumerate(cands):
        same = c.unit.kind == LEAD_IN and c.doc_id == cands[best].doc_id
        if same and any(item.start <= unit.start < item.end for item in c.unit.items):
            return i
    return None


def prose(
    cands: list[Candidate],
    scores: np.ndarray,
    order: list[int],
    kind: QuestionKind,
    margin: float,
    most: int,
    alone: bool = False,
) -> list[Quote]:
    """The best unit first; then, for a question for several things, the units within ``margin``
    of it (reading order), or for one fact a second unit within :data:`HEDGE`.  ``alone``: a
    definition whose term the question names answers by itself."""
    best = order[0]
    if cands[best].unit.kind == BARE and cands[best].next is not None:
        head, body = cands[best], cands[cands[best].next]
        return [_quote(head, float(scores[best]), body.end)]
    top = float(scores[best])
    usable = [i for i in order if cands[i].unit.kind not in (BARE, LEAD_IN)]
    if alone or cands[best].unit.kind == LEAD_IN:
        rest: list[int] = []
    elif kind.plural:
        rest = [i for i in usable[: most + 1] if i != best and scores[i] >= top - margin][: most - 1]
        rest.sort(key=lambda i: (cands[i].rank, cands[i].doc_id, cands[i].start))
    else:
        close = [i for i in usable[:2] if i != best and scores[i] >= top - HEDGE]
        rest = [i for i in close if cands[i].unit.kind != BLOCK][:1]
    return [_quote(cands[i], float(scores[i])) for i in [best, *rest]]
