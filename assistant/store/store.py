"""``Store``: the question log, thumbs, corpus gaps and trainers' verdicts in one database.

Every method opens its own short transaction, so one ``Store`` is shared by
all threads of the web server; a CLI on the same database sees the same rows.
What a student typed is kept as typed, with nothing that identifies them: a
vote key (session and message) is stored only as its sha256.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import OperationalError

from . import dashboard, review, throttle
from .engine import READ_ONLY, StoreError, open_engine, safe_url, upsert
from .migrate import upgrade
from .records import (
    Gap,
    LoggedAnswer,
    PurgeReport,
    Rating,
    ReviewPage,
    ReviewQuery,
    StoreCounts,
    Verdict,
    VerdictExport,
    as_utc,
    now_utc,
)
from .tables import VERDICTS, answer_docs, answers, gaps, ratings, verdicts
from .writes import insert_rating, sha256, upsert_gap

if TYPE_CHECKING:
    from ..core.settings import Settings
    from .topics import Topic

PURGE_EVERY_S = 3600.0


def _cited_docs(answer: Mapping[str, Any]) -> set[str]:
    return {str(c["doc_id"]) for c in answer.get("citations") or [] if c.get("doc_id")}


class Store:
    """``Store(url)`` or ``Store.from_settings(settings)``; the schema is migrated to the head on open."""

    def __init__(self, url: str, *, log_questions: bool = True, retention_days: int = 90):
        self.url = url
        self.log_questions = log_questions
        self.retention_days = retention_days
        self.engine = open_engine(url)
        try:
            upgrade(self.engine)  # one transaction: a second process waits, then finds nothing to do
        except OperationalError as exc:
            self.engine.dispose()
            raise StoreError(f"پایگاه داده باز نشد. / Cannot open {safe_url(url)}: {exc.orig}") from exc
        self._purge_lock = threading.Lock()
        self._last_purge = 0.0
        # SQLite has one write lock and waits for it by sleeping and retrying (up to 100 ms a try):
        # with 50 threads writing at once some waited seconds.  Queue this process's writers here.
        self._writers = threading.RLock() if self.engine.dialect.name == "sqlite" else nullcontext()
        self.purge_if_due()

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        return cls(
            settings.store_url, log_questions=settings.log_questions, retention_days=settings.retention_days
        )

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """A write transaction."""
        with self._writers, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A read-only transaction: on SQLite it does not wait for (or hold up) writers."""
        with self.engine.connect() as conn:
            conn.execution_options(**{READ_ONLY: True})
            with conn.begin():
                yield conn

    def throttle(self, keys: Sequence[str]):
        """Failed-login records of ``keys``, held in one transaction and written back (``store.throttle``)."""
        return throttle.hold(self._tx, keys, time.time)

    # ---------------------------------------------------------------- question log

    def log_answer(
        self,
        question: str,
        answer: Mapping[str, Any],
        *,
        resolved_question: str = "",
        build_id: str = "",
        timings: Mapping[str, float] | None = None,
    ) -> int | None:
        """Log one answer (``Answer.to_dict()``); returns its id, or None when logging is off.

        An abstention also counts as a gap (under the resolved question when
        there is one), whether or not questions are logged.
        """
        self.purge_if_due()
        abstained = bool(answer.get("abstained"))
        if not self.log_questions:
            if abstained:
                self.log_gap(resolved_question or question, answer)
            return None
        row = {
            "created_at": now_utc(),
            "question": question,
            "resolved_question": resolved_question,
            "answer_json": dict(answer),
            "build_id": build_id,
            "timings": dict(timings if timings is not None else answer.get("timings_ms") or {}),
            "abstained": abstained,
        }
        with self._tx() as conn:
            answer_id = int(conn.execute(insert(answers).values(**row)).inserted_primary_key[0])
            docs = [{"answer_id": answer_id, "doc_id": d} for d in sorted(_cited_docs(answer))]
            if docs:
                conn.execute(insert(answer_docs), docs)
            if abstained:
                upsert_gap(conn, resolved_question or question, answer, answer_id)
        return answer_id

    def get_answer(self, answer_id: int) -> LoggedAnswer | None:
        with self._read() as conn:
            row = conn.execute(select(answers).where(answers.c.id == answer_id)).mappings().first()
        return None if row is None else LoggedAnswer.from_row(row)

    def answers(self, limit: int = 100, offset: int = 0) -> list[LoggedAnswer]:
        """Logged answers, newest first."""
        query = select(answers).order_by(answers.c.id.desc()).limit(limit).offset(offset)
        with self._read() as conn:
            return [LoggedAnswer.from_row(r) for r in conn.execute(query).mappings()]

    # ---------------------------------------------------------------- ratings

    def rate(
        self,
        rating: int,
        *,
        answer_id: int | None = None,
        question: str = "",
        answer: Mapping[str, Any] | None = None,
        vote_key: str | None = None,
        comment: str | None = None,
    ) -> int:
        """Store a thumb (+1 / -1); returns the rating's id.

        Give ``answer_id`` for a logged answer, or the ``question`` and
        ``answer`` dict when logging is off.  With ``vote_key`` a second vote
        replaces the first.  A thumbs-down may carry a short ``comment``.
        """
        if rating not in (1, -1) or isinstance(rating, bool):
            raise ValueError(f"rating must be +1 or -1, not {rating!r}")
        with self._tx() as conn:
            if answer_id is not None:
                found = conn.execute(select(answers.c.question).where(answers.c.id == answer_id)).first()
                if found is None:
                    raise StoreError(f"این پاسخ ثبت نشده است. / No logged answer {answer_id}.")
                question = question or found[0]
            return insert_rating(conn, rating, answer_id, question, answer, vote_key, comment=comment)

    def retract(self, vote_key: str) -> bool:
        """Remove a vote the reader took back (clicked the same thumb again)."""
        with self._tx() as conn:
            return conn.execute(delete(ratings).where(ratings.c.vote_key == sha256(vote_key))).rowcount > 0

    def ratings(self) -> list[Rating]:
        """Every rating, oldest first, with the answer it rates."""
        query = (
            select(ratings, answers.c.answer_json.label("logged_json"))
            .select_from(ratings.outerjoin(answers, ratings.c.answer_id == answers.c.id))
            .order_by(ratings.c.id)
        )
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            Rating(
                id=r["id"],
                created_at=as_utc(r["created_at"]),
                question=r["question"],
                rating=r["rating"],
                answer_id=r["answer_id"],
                answer=dict(r["logged_json"] or r["answer_json"] or {}),
                comment=r["comment"] or "",
            )
            for r in rows
        ]

    # ---------------------------------------------------------------- gaps

    def log_gap(self, question: str, answer: Mapping[str, Any], *, answer_id: int | None = None) -> int:
        """Count a question the corpus could not answer; returns the gap's id."""
        with self._tx() as conn:
            return upsert_gap(conn, question, answer, answer_id)

    def gaps(self, limit: int | None = None) -> list[Gap]:
        """Gaps, most asked first."""
        query = select(gaps).order_by(gaps.c.count.desc(), gaps.c.last_seen.desc(), gaps.c.id).limit(limit)
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return [_gap(r) for r in rows]

    def gap_clusters(
        self,
        vectors_fn: Callable[[Sequence[str]], np.ndarray],
        *,
        threshold: float | None = None,
        limit: int = 2000,
        keep: Callable[[str], bool] | None = None,
    ) -> list[Topic]:
        """The gaps grouped into topics; ``vectors_fn`` maps normalized texts to L2-normalized rows.

        ``keep`` drops wordings that name no subject (a follow-up such as «چرا؟» that was
        asked with nothing to lean on): they say nothing about what the corpus lacks.
        """
        from .topics import cluster_counts

        found = [(g.question, g.count) for g in self.gaps(limit)]
        return cluster_counts(found, vectors_fn, threshold=threshold, keep=keep)

    def class_picture(self, start: date | None = None, end: date | None = None) -> dashboard.ClassPicture:
        """The trainers' dashboard over ``start``..``end`` (UTC days, both included; None: unbounded)."""
        with self._read() as conn:
            return dashboard.picture(conn, start, end, logged=self.log_questions)

    # ---------------------------------------------------------------- retention

    def purge(self, now: datetime | None = None) -> PurgeReport:
        """Delete what is older than ``retention_days`` (0 keeps everything).

        Gaps not asked since the cutoff go; so do logged answers and their
        ratings, except answers a trainer gave a verdict on (that review is
        the trainers' work and stays until they delete it).
        """
        if self.retention_days <= 0:
            return PurgeReport()
        cutoff = as_utc(now or now_utc()) - timedelta(days=self.retention_days)
        old = select(answers.c.id).where(
            answers.c.created_at < cutoff, answers.c.id.not_in(select(verdicts.c.answer_id))
        )
        with self._tx() as conn:
            gone_gaps = conn.execute(delete(gaps).where(gaps.c.last_seen < cutoff)).rowcount
            conn.execute(update(gaps).where(gaps.c.last_answer_id.in_(old)).values(last_answer_id=None))
            orphan = and_(ratings.c.answer_id.is_(None), ratings.c.created_at < cutoff)
            gone_ratings = conn.execute(
                delete(ratings).where(or_(ratings.c.answer_id.in_(old), orphan))
            ).rowcount
            conn.execute(delete(answer_docs).where(answer_docs.c.answer_id.in_(old)))
            gone_answers = conn.execute(delete(answers).where(answers.c.id.in_(old))).rowcount
        return PurgeReport(answers=gone_answers, ratings=gone_ratings, gaps=gone_gaps)

    def purge_if_due(self) -> PurgeReport | None:
        """Purge at most once an hour (on open, then from the writes that call this)."""
        if time.monotonic() - self._last_purge < PURGE_EVERY_S and self._last_purge:
            return None
        if not self._purge_lock.acquire(blocking=False):
            return None
        try:
            self._last_purge = time.monotonic()
            with self._tx() as conn:
                throttle.purge_stale(conn)
            return self.purge()
        finally:
            self._purge_lock.release()

    # ---------------------------------------------------------------- verdicts and review

    def set_verdict(
        self,
        answer_id: int,
        n: int,
        verdict: str,
        *,
        note: str = "",
        reviewer: str = "",
        doc_sha256: str = "",
    ) -> Verdict:
        """Record (or replace) a trainer's verdict on citation ``n`` of a logged answer.

        ``doc_sha256`` (the cited file's ``Document.content_hash``) defaults
        to the one in the stored citation, if any.
        """
        if verdict not in VERDICTS:
            raise StoreError(
                f"داوری نامعتبر است. / Unknown verdict {verdict!r}; use one of {', '.join(VERDICTS)}."
            )
        with self._tx() as conn:
            return review.upsert_verdict(
                conn, upsert(self.engine, verdicts), answer_id, n, verdict, note, reviewer, doc_sha256
            )

    def clear_verdict(self, answer_id: int, n: int) -> bool:
        with self._tx() as conn:
            gone = delete(verdicts).where(verdicts.c.answer_id == answer_id, verdicts.c.n == n)
            return conn.execute(gone).rowcount > 0

    def verdicts(self, answer_id: int | None = None) -> list[Verdict]:
        with self._read() as conn:
            return review.list_verdicts(conn, answer_id)

    def review_queue(self, query: ReviewQuery | None = None) -> ReviewPage:
        """Logged answers for trainers, filtered and paged (see ``ReviewQuery``)."""
        with self._read() as conn:
            return review.queue(conn, query or ReviewQuery())

    def verdict_exports(self) -> list[VerdictExport]:
        """Every verdict with its answer and citation, oldest first (``assistant review export``)."""
        with self._read() as conn:
            return review.exports(conn)

    def counts(self) -> StoreCounts:
        with self._read() as conn:
            n_answers = conn.execute(select(func.count()).select_from(answers)).scalar_one()
            thumbs = dict(
                conn.execute(select(ratings.c.rating, func.count()).group_by(ratings.c.rating)).all()
            )
            gap_rows, gap_total = conn.execute(select(func.count(), func.sum(gaps.c.count))).one()
            kinds = conn.execute(select(verdicts.c.verdict, func.count()).group_by(verdicts.c.verdict)).all()
        return StoreCounts(
            answers=n_answers,
            ups=thumbs.get(1, 0),
            downs=thumbs.get(-1, 0),
            gaps=int(gap_total or 0),
            gap_questions=gap_rows,
            verdicts={k: int(v) for k, v in kinds},
        )


def _gap(row: Mapping[str, Any]) -> Gap:
    return Gap(
        id=row["id"],
        question=row["question"],
        normalized=row["normalized"],
        count=row["count"],
        first_seen=as_utc(row["first_seen"]),
        last_seen=as_utc(row["last_seen"]),
        answer_text=row["answer_text"],
        related=list(row["related"]),
        last_answer_id=row["last_answer_id"],
    )
