"""Row writers shared by the store and the one-time import of the old feedback table."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from ..text.normalize import normalize
from .engine import storable, upsert
from .records import now_utc
from .tables import gaps, ratings

COMMENT_MAX_CHARS = 500  # a short comment on a thumbs-down, not an essay


def gap_text(question: str) -> str:
    """The wording two askings of one gap share: normalized, whitespace collapsed, case folded."""
    return " ".join(normalize(question).split()).casefold()


def sha256(text: str) -> str:
    return hashlib.sha256(storable(text).encode("utf-8")).hexdigest()


def insert_rating(
    conn: Connection,
    rating: int,
    answer_id: int | None,
    question: str,
    answer: Mapping[str, Any] | None,
    vote_key: str | None,
    created_at: datetime | None = None,
    comment: str | None = None,
) -> int:
    row = {
        "answer_id": answer_id,
        "created_at": created_at or now_utc(),
        "question": question or str((answer or {}).get("question", "")),
        "rating": rating,
        "answer_json": None if answer_id is not None else dict(answer or {}),
        "vote_key": None if vote_key is None else sha256(vote_key),
    }
    if comment is not None:  # None: no say (the import of the old table runs before the column exists)
        row["comment"] = (comment.strip()[:COMMENT_MAX_CHARS] or None) if rating == -1 else None
    stmt = upsert(conn.engine, ratings).values(**row)
    replaced = [k for k in row if k != "vote_key"]
    stmt = stmt.on_conflict_do_update(
        index_elements=[ratings.c.vote_key], set_={k: stmt.excluded[k] for k in replaced}
    )
    return int(conn.execute(stmt.returning(ratings.c.id)).scalar_one())


def upsert_gap(
    conn: Connection,
    question: str,
    answer: Mapping[str, Any],
    answer_id: int | None,
    seen: datetime | None = None,
) -> int:
    text = gap_text(question)
    seen = seen or now_utc()
    stmt = upsert(conn.engine, gaps).values(
        key=sha256(text),
        normalized=text,
        question=question,
        count=1,
        first_seen=seen,
        last_seen=seen,
        answer_text=str(answer.get("answer", "")),
        related=list(answer.get("related") or []),
        last_answer_id=answer_id,
    )
    latest = ("question", "last_seen", "answer_text", "related", "last_answer_id")
    stmt = stmt.on_conflict_do_update(
        index_elements=[gaps.c.key],
        set_={"count": gaps.c.count + 1, **{k: stmt.excluded[k] for k in latest}},
    )
    return int(conn.execute(stmt.returning(gaps.c.id)).scalar_one())
