"""The trainers' side of the store: verdicts on citations, the review queue, the export rows.

Functions of an open connection, called by ``Store`` inside its transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, case, exists, func, select

from .engine import StoreError
from .records import LoggedAnswer, ReviewPage, ReviewQuery, ReviewRow, Verdict, VerdictExport, as_utc, now_utc
from .tables import VERDICTS, answer_docs, answers, ratings, verdicts

MAX_PAGE = 200
#: What a verdict adds to an answer's "lowest rated" score (a thumb is ±1): a bad citation is a thumbs-down.
VERDICT_SCORES = {"supports": 1, "partly": 0, "does_not_support": -1, "wrong_passage": -1}
_VERDICT_FIELDS = ("verdict", "note", "reviewer", "build_id", "doc_id", "doc_sha256", "created_at")


def find_citation(answer: Mapping[str, Any], n: int) -> dict[str, Any] | None:
    """Citation ``n`` of a stored answer; an abstention's numbered related passages count too."""
    for key in ("citations", "related"):
        for citation in answer.get(key) or []:
            if citation.get("n") == n:
                return dict(citation)
    return None


def upsert_verdict(
    conn: Connection,
    insert_stmt: Any,
    answer_id: int,
    n: int,
    verdict: str,
    note: str,
    reviewer: str,
    doc_sha256: str,
) -> Verdict:
    found = conn.execute(
        select(answers.c.answer_json, answers.c.build_id).where(answers.c.id == answer_id)
    ).first()
    if found is None:
        raise StoreError(f"این پاسخ ثبت نشده است. / No logged answer {answer_id}.")
    citation = find_citation(found.answer_json, n)
    if citation is None:
        raise StoreError(f"این پاسخ استناد [{n}] ندارد. / Answer {answer_id} has no citation [{n}].")
    values = {
        "answer_id": answer_id,
        "n": n,
        "verdict": verdict,
        "note": note.strip(),
        "reviewer": reviewer.strip(),
        "build_id": found.build_id,
        "doc_id": str(citation.get("doc_id", "")),
        "doc_sha256": doc_sha256 or str(citation.get("doc_sha256", "")),
        "created_at": now_utc(),
    }
    stmt = insert_stmt.values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[verdicts.c.answer_id, verdicts.c.n],
        set_={k: stmt.excluded[k] for k in _VERDICT_FIELDS},
    )
    conn.execute(stmt)
    return Verdict(**values)


def _verdict(row: Mapping[str, Any]) -> Verdict:
    return Verdict(
        answer_id=row["answer_id"],
        n=row["n"],
        **{k: row[k] for k in _VERDICT_FIELDS if k != "created_at"},
        created_at=as_utc(row["created_at"]),
    )


def list_verdicts(conn: Connection, answer_id: int | None) -> list[Verdict]:
    query = select(verdicts).order_by(verdicts.c.answer_id, verdicts.c.n)
    if answer_id is not None:
        query = query.where(verdicts.c.answer_id == answer_id)
    return [_verdict(r) for r in conn.execute(query).mappings()]


def _rating_totals() -> Any:
    return (
        select(
            ratings.c.answer_id,
            func.sum(ratings.c.rating).label("rating_sum"),
            func.sum(case((ratings.c.rating == 1, 1), else_=0)).label("ups"),
            func.sum(case((ratings.c.rating == -1, 1), else_=0)).label("downs"),
        )
        .where(ratings.c.answer_id.is_not(None))
        .group_by(ratings.c.answer_id)
        .subquery("totals")
    )


def _verdict_totals() -> Any:
    score = case(*((verdicts.c.verdict == k, v) for k, v in VERDICT_SCORES.items() if v), else_=0)
    return (
        select(verdicts.c.answer_id, func.sum(score).label("verdict_score"))
        .group_by(verdicts.c.answer_id)
        .subquery("judged")
    )


def _filters(query: ReviewQuery, totals: Any) -> list[Any]:
    """The WHERE clauses for the queue's document, verdict and thumbs filters."""
    where: list[Any] = [answers.c.id.not_in(query.exclude)] if query.exclude else []
    if query.answered is not None:
        where.append(answers.c.abstained.is_(not query.answered))
    if query.doc_id:
        where.append(
            exists().where(answer_docs.c.answer_id == answers.c.id, answer_docs.c.doc_id == query.doc_id)
        )
    reviewed = exists().where(verdicts.c.answer_id == answers.c.id)
    if query.verdict == "unreviewed":
        where.append(~reviewed)
    elif query.verdict in VERDICTS:
        where.append(reviewed.where(verdicts.c.verdict == query.verdict))
    elif query.verdict:
        raise StoreError(f"فیلتر داوری نامعتبر است. / Unknown verdict filter {query.verdict!r}.")
    thumbs = {
        "up": func.coalesce(totals.c.ups, 0) > 0,
        "down": func.coalesce(totals.c.downs, 0) > 0,
        "none": totals.c.answer_id.is_(None),
    }
    if query.thumbs in thumbs:
        where.append(thumbs[query.thumbs])
    elif query.thumbs:
        raise StoreError(f"فیلتر رأی نامعتبر است. / Unknown thumbs filter {query.thumbs!r}.")
    return where


def queue(conn: Connection, query: ReviewQuery) -> ReviewPage:
    """Newest first, or lowest score first (thumbs plus ``VERDICT_SCORES``; newest first among equals)."""
    if query.order not in ("newest", "lowest_rated"):
        raise StoreError(f"ترتیب نامعتبر است. / Unknown order {query.order!r}.")
    totals, judged = _rating_totals(), _verdict_totals()
    joined = answers.outerjoin(totals, totals.c.answer_id == answers.c.id).outerjoin(
        judged, judged.c.answer_id == answers.c.id
    )
    where = _filters(query, totals)
    total = conn.execute(select(func.count()).select_from(joined).where(*where)).scalar_one()
    rating_sum = func.coalesce(totals.c.rating_sum, 0)
    verdict_score = func.coalesce(judged.c.verdict_score, 0)
    score = rating_sum + verdict_score
    order = [answers.c.id.desc()] if query.order == "newest" else [score.asc(), answers.c.id.desc()]
    page = (
        select(
            answers,
            rating_sum.label("rating_sum"),
            verdict_score.label("verdict_score"),
            func.coalesce(totals.c.ups, 0).label("ups"),
            func.coalesce(totals.c.downs, 0).label("downs"),
        )
        .select_from(joined)
        .where(*where)
        .order_by(*order)
        .limit(max(1, min(query.limit, MAX_PAGE)))
        .offset(max(0, query.offset))
    )
    rows = conn.execute(page).mappings().all()
    counts = _verdict_counts(conn, [r["id"] for r in rows])
    return ReviewPage(rows=[_review_row(r, counts.get(r["id"], {})) for r in rows], total=total, query=query)


def _verdict_counts(conn: Connection, ids: list[int]) -> dict[int, dict[str, int]]:
    if not ids:
        return {}
    found = conn.execute(
        select(verdicts.c.answer_id, verdicts.c.verdict, func.count())
        .where(verdicts.c.answer_id.in_(ids))
        .group_by(verdicts.c.answer_id, verdicts.c.verdict)
    ).all()
    counts: dict[int, dict[str, int]] = {}
    for answer_id, verdict, n in found:
        counts.setdefault(answer_id, {})[verdict] = int(n)
    return counts


def _review_row(row: Mapping[str, Any], verdict_counts: dict[str, int]) -> ReviewRow:
    return ReviewRow(
        logged=LoggedAnswer.from_row(row),
        rating_sum=int(row["rating_sum"]),
        ups=int(row["ups"]),
        downs=int(row["downs"]),
        verdict_counts=verdict_counts,
        verdict_score=int(row["verdict_score"]),
    )


def exports(conn: Connection) -> list[VerdictExport]:
    query = (
        select(
            verdicts,
            answers.c.created_at.label("answer_created_at"),
            answers.c.question,
            answers.c.resolved_question,
            answers.c.answer_json,
        )
        .select_from(verdicts.join(answers, verdicts.c.answer_id == answers.c.id))
        .order_by(verdicts.c.created_at, verdicts.c.id)
    )
    out = []
    for row in conn.execute(query).mappings():
        answer = row["answer_json"]
        out.append(
            VerdictExport(
                answer_id=row["answer_id"],
                answer_created_at=as_utc(row["answer_created_at"]),
                question=row["question"],
                resolved_question=row["resolved_question"],
                answer_text=str(answer.get("answer", "")),
                verdict=_verdict(row),
                citation=find_citation(answer, row["n"]) or {},
            )
        )
    return out
