"""Move the rows of the previous release's ``feedback`` table into the store, once.

That release kept ratings and every abstention (one 9.6 KB row per asking)
in one SQLite table ``feedback`` of the same file, with vote keys in clear.
On first open its ratings become ratings (keys hashed), its gap rows are
counted into deduplicated gaps, and the old table is dropped.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from .records import as_utc, now_utc
from .writes import insert_rating, upsert_gap

log = logging.getLogger(__name__)


def _time(value: str) -> datetime:
    try:
        return as_utc(datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return now_utc()


def _answer(value: str) -> dict[str, Any]:
    try:
        found = json.loads(value or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def import_feedback_table(conn: Connection) -> int:
    """Import and drop a legacy ``feedback`` table if the file has one; returns the rows moved."""
    exists = conn.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'feedback'")
    ).first()
    if exists is None:
        return 0
    rows = conn.execute(
        text("SELECT kind, created_at, question, rating, answer_json, vote_key FROM feedback ORDER BY id")
    ).mappings()
    moved = 0
    for row in rows.all():
        answer = _answer(row["answer_json"])
        if row["kind"] == "gap":
            upsert_gap(conn, row["question"], answer, None, seen=_time(row["created_at"]))
        elif row["rating"] in (1, -1):
            created = _time(row["created_at"])
            insert_rating(conn, row["rating"], None, row["question"], answer, row["vote_key"], created)
        moved += 1
    conn.execute(text("DROP TABLE feedback"))
    log.info("moved %d rows of the old feedback table into the store", moved)
    return moved
