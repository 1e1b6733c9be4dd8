"""What retrieval hands an answerer, and what an answerer promises.

Every answerer quotes or cites only what :class:`Evidence` holds.  The
extractive answerer answers at once; a chat model's answerer also streams
its text as it is written (:class:`StreamingAnswerer`), and the facade
checks for that interface instead of guessing from attributes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ..core.records import Answer, Hit
from ..indexing.layout import Index
from .retrieve import Scores


@dataclass
class Evidence:
    """One question's retrieval: the ranked passages, every passage's scores, the build they came from."""

    question: str
    hits: list[Hit]
    scores: Scores
    index: Index
    timings_ms: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class Answerer(Protocol):
    """Evidence → a cited answer, or an abstention that says the sources do not hold one."""

    def answer(self, evidence: Evidence) -> Answer: ...


@runtime_checkable
class StreamingAnswerer(Answerer, Protocol):
    """An answerer that can show its text while writing it: str deltas, then the checked Answer last."""

    def stream(self, evidence: Evidence) -> Iterator[str | Answer]: ...
