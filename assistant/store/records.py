"""Typed rows in and out of the store; only the stored answer JSON stays a dict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Order = Literal["newest", "lowest_rated"]
Thumbs = Literal["up", "down", "none"]


def now_utc() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands times back without their offset; every stored time is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class LoggedAnswer:
    """One question as asked and the answer given (``Answer.to_dict()``)."""

    id: int
    created_at: datetime
    question: str
    resolved_question: str
    answer: dict[str, Any]
    build_id: str
    timings: dict[str, float]
    abstained: bool

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> LoggedAnswer:
        """A row of the ``answers`` table (or a query selecting all its columns)."""
        return cls(
            id=row["id"],
            created_at=as_utc(row["created_at"]),
            question=row["question"],
            resolved_question=row["resolved_question"],
            answer=dict(row["answer_json"]),
            build_id=row["build_id"],
            timings=dict(row["timings"]),
            abstained=bool(row["abstained"]),
        )


@dataclass(frozen=True)
class Rating:
    """A reader's thumb; ``answer`` is the logged answer's dict, or the one sent with the vote."""

    id: int
    created_at: datetime
    question: str
    rating: int
    answer_id: int | None
    answer: dict[str, Any]
    comment: str = ""  # what the student wrote with a thumbs-down


@dataclass(frozen=True)
class Gap:
    """A question the corpus could not answer, counted once per normalized wording."""

    id: int
    question: str
    normalized: str
    count: int
    first_seen: datetime
    last_seen: datetime
    answer_text: str
    related: list[dict[str, Any]]
    last_answer_id: int | None


@dataclass(frozen=True)
class Verdict:
    """A trainer's judgement of citation ``n`` of a logged answer."""

    answer_id: int
    n: int
    verdict: str
    note: str
    reviewer: str
    build_id: str
    doc_id: str
    doc_sha256: str
    created_at: datetime


@dataclass(frozen=True)
class ReviewQuery:
    """Which answers the review queue shows: ``verdict`` is one of VERDICTS or "unreviewed"."""

    order: Order = "newest"
    doc_id: str | None = None
    verdict: str | None = None
    thumbs: Thumbs | None = None
    limit: int = 20
    offset: int = 0
    exclude: tuple[int, ...] = ()  # answers left out (the desk's skipped ones)
    answered: bool | None = None  # True: only answers with citations; False: only abstentions


@dataclass(frozen=True)
class ReviewRow:
    """A logged answer in the review queue, with its thumbs and the verdicts given so far."""

    logged: LoggedAnswer
    rating_sum: int
    ups: int
    downs: int
    verdict_counts: dict[str, int]
    verdict_score: int = 0  # the verdicts' part of "lowest rated" (``review.VERDICT_SCORES``)

    @property
    def score(self) -> int:
        """What "lowest rated" sorts by: thumbs up minus down, plus the verdicts' scores."""
        return self.rating_sum + self.verdict_score


@dataclass(frozen=True)
class ReviewPage:
    """One page of the queue and how many answers match in all."""

    rows: list[ReviewRow]
    total: int
    query: ReviewQuery


@dataclass(frozen=True)
class VerdictExport:
    """One verdict with its answer and the citation judged, as trainers download it."""

    answer_id: int
    answer_created_at: datetime
    question: str
    resolved_question: str
    answer_text: str
    verdict: Verdict
    citation: dict[str, Any]


@dataclass(frozen=True)
class PurgeReport:
    """What ``Store.purge`` removed (rows older than the retention period)."""

    answers: int = 0
    ratings: int = 0
    gaps: int = 0


@dataclass(frozen=True)
class StoreCounts:
    answers: int = 0
    ups: int = 0
    downs: int = 0
    gaps: int = 0
    gap_questions: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
