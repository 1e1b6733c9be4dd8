"""The class in numbers for the trainers' dashboard: questions a day, answered / abstained / rated down,
the most-cited documents and what the corpus could not answer, over a date range.

Functions of an open connection (``Store.class_picture`` calls them in one
read transaction).  Rows are filtered in SQL and counted per UTC day here,
so SQLite and PostgreSQL give the same days whatever the server's time zone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from .records import as_utc
from .tables import answer_docs, answers, gaps, ratings
from .writes import gap_text

MAX_DAYS = 3660  # at most ten years of days are drawn


@dataclass(frozen=True)
class DayCounts:
    """One UTC day of the class."""

    day: date
    questions: int = 0
    answered: int = 0
    abstained: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0


@dataclass(frozen=True)
class ClassPicture:
    """What the dashboard draws; ``unanswered`` is (wording, times asked), most asked first."""

    start: date | None
    end: date | None
    days: list[DayCounts] = field(default_factory=list)
    cited: list[tuple[str, int]] = field(default_factory=list)  # doc_id, answers citing it
    unanswered: list[tuple[str, int]] = field(default_factory=list)

    @property
    def totals(self) -> DayCounts:
        return DayCounts(
            day=self.end or date.today(),
            questions=sum(d.questions for d in self.days),
            answered=sum(d.answered for d in self.days),
            abstained=sum(d.abstained for d in self.days),
            thumbs_up=sum(d.thumbs_up for d in self.days),
            thumbs_down=sum(d.thumbs_down for d in self.days),
        )


def bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """[start 00:00 UTC, the day after end 00:00 UTC): both days included."""
    low = datetime.combine(start, time(), UTC) if start else None
    high = datetime.combine(end + timedelta(days=1), time(), UTC) if end else None
    return low, high


def _between(column: Any, low: datetime | None, high: datetime | None) -> list[Any]:
    where = []
    if low is not None:
        where.append(column >= low)
    if high is not None:
        where.append(column < high)
    return where


def picture(
    conn: Connection, start: date | None, end: date | None, *, logged: bool = True, top: int = 10
) -> ClassPicture:
    """Counts per day (every day of the range, quiet ones as zero; without bounds, from the first day
    with a row to the last), the ``top`` cited documents,
    and the unanswered questions: from the logged answers under their resolved wording, or from the
    deduplicated gaps last asked in the range when questions are not logged (``logged=False``)."""
    low, high = bounds(start, end)
    per_day: dict[date, Counter[str]] = {}
    asked = select(answers.c.created_at, answers.c.abstained).where(
        *_between(answers.c.created_at, low, high)
    )
    for created, abstained in conn.execute(asked):
        c = per_day.setdefault(as_utc(created).date(), Counter())
        c["questions"] += 1
        c["abstained" if abstained else "answered"] += 1
    rated = select(ratings.c.created_at, ratings.c.rating).where(*_between(ratings.c.created_at, low, high))
    for created, rating in conn.execute(rated):
        c = per_day.setdefault(as_utc(created).date(), Counter())
        c["thumbs_up" if rating > 0 else "thumbs_down"] += 1
    days = []
    first = start or (min(per_day) if per_day else None)
    last = end or (max(per_day) if per_day else None)
    if first and last:
        day = max(first, last - timedelta(days=MAX_DAYS - 1))
        while day <= last:
            days.append(DayCounts(day, **per_day.get(day, {})))
            day += timedelta(days=1)
    n = func.count().label("n")
    cited_q = (
        select(answer_docs.c.doc_id, n)
        .select_from(answer_docs.join(answers, answers.c.id == answer_docs.c.answer_id))
        .where(*_between(answers.c.created_at, low, high))
        .group_by(answer_docs.c.doc_id)
        .order_by(n.desc(), answer_docs.c.doc_id)
        .limit(top)
    )
    cited = [(str(doc), int(count)) for doc, count in conn.execute(cited_q)]
    unanswered = _unanswered(conn, low, high) if logged else _gaps(conn, low, high)
    return ClassPicture(start, end, days, cited, unanswered)


def _unanswered(conn: Connection, low: datetime | None, high: datetime | None) -> list[tuple[str, int]]:
    """Abstentions counted under their resolved question (a follow-up as it was understood)."""
    query = (
        select(answers.c.question, answers.c.resolved_question)
        .where(answers.c.abstained.is_(True), *_between(answers.c.created_at, low, high))
        .order_by(answers.c.id)
    )
    counts: Counter[str] = Counter()
    wording: dict[str, str] = {}
    for question, resolved in conn.execute(query):
        text = resolved or question
        key = gap_text(text)
        counts[key] += 1
        wording[key] = text  # the latest wording, as the gaps table keeps it
    return sorted(((wording[k], c) for k, c in counts.items()), key=lambda item: (-item[1], item[0]))


def _gaps(conn: Connection, low: datetime | None, high: datetime | None) -> list[tuple[str, int]]:
    query = select(gaps.c.question, gaps.c.count).where(*_between(gaps.c.last_seen, low, high))
    rows = [(str(q), int(c)) for q, c in conn.execute(query)]
    return sorted(rows, key=lambda item: (-item[1], item[0]))
