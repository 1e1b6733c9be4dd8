"""Feedback from readers: thumbs up/down on answers, and the questions we could not answer.

A small SQLite file (``settings.feedback_db``) holds two kinds of rows:

* ``rating`` — a reader's +1 / -1 on an answer (``FeedbackStore.record``);
* ``gap`` — a question the assistant abstained on (``FeedbackStore.log_gap``),
  logged automatically so that trainers see what the corpus is missing.

``export_csv`` writes both kinds for trainers (``assistant feedback export --csv``)
with the columns ``kind, created_at, question, rating, answer, citations``.
Each call opens its own connection, so the store is safe to share between the
threads of the web server.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

COLUMNS = ("kind", "created_at", "question", "rating", "answer", "citations")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL CHECK (kind IN ('rating', 'gap')),
    created_at  TEXT NOT NULL,
    question    TEXT NOT NULL,
    rating      INTEGER CHECK (rating IN (-1, 1)),
    answer      TEXT NOT NULL DEFAULT '',
    citations   TEXT NOT NULL DEFAULT '[]',
    answer_json TEXT NOT NULL DEFAULT '{}',
    vote_key    TEXT UNIQUE
);
CREATE INDEX IF NOT EXISTS feedback_kind ON feedback (kind, created_at);
"""

# A cell starting with one of these is run as a formula by spreadsheet programs
# (CSV injection); trainers open the export in one, so such text cells get a quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _spreadsheet_safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


class FeedbackStore:
    """``FeedbackStore(path)``; the file and its folder are created on first use."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=10)) as db, db:  # `with db` commits
            yield db

    @staticmethod
    def _answer_fields(answer_dict: dict[str, Any]) -> tuple[str, str, str]:
        answer = answer_dict or {}
        return (
            str(answer.get("answer", "")),
            json.dumps(answer.get("citations", []), ensure_ascii=False),
            json.dumps(answer, ensure_ascii=False),
        )

    def record(
        self, question: str, answer_dict: dict[str, Any], rating: int, *, vote_key: str | None = None
    ) -> int:
        """Store a reader's rating (+1 or -1) of an answer; returns the row id.

        With ``vote_key`` (e.g. session and message), a second vote on the same
        answer replaces the first instead of being counted twice.
        """
        if rating not in (1, -1) or isinstance(rating, bool):
            raise ValueError(f"rating must be +1 or -1, not {rating!r}")
        answer, citations, full = self._answer_fields(answer_dict)
        with self._connect() as db:
            if vote_key is not None:
                row = db.execute("SELECT id FROM feedback WHERE vote_key = ?", (vote_key,)).fetchone()
                if row:
                    db.execute(
                        "UPDATE feedback SET rating = ?, created_at = ? WHERE id = ?",
                        (rating, _now(), row[0]),
                    )
                    return int(row[0])
            cur = db.execute(
                "INSERT INTO feedback"
                " (kind, created_at, question, rating, answer, citations, answer_json, vote_key)"
                " VALUES ('rating', ?, ?, ?, ?, ?, ?, ?)",
                (_now(), question, rating, answer, citations, full, vote_key),
            )
            return int(cur.lastrowid or 0)

    def retract(self, vote_key: str) -> bool:
        """Remove a vote the reader took back (clicked the same thumb again)."""
        with self._connect() as db:
            cur = db.execute("DELETE FROM feedback WHERE kind = 'rating' AND vote_key = ?", (vote_key,))
            return cur.rowcount > 0

    def log_gap(self, question: str, answer_dict: dict[str, Any]) -> int:
        """Log a question the assistant abstained on; returns the row id."""
        answer, citations, full = self._answer_fields(answer_dict)
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO feedback (kind, created_at, question, rating, answer, citations, answer_json)"
                " VALUES ('gap', ?, ?, NULL, ?, ?, ?)",
                (_now(), question, answer, citations, full),
            )
            return int(cur.lastrowid or 0)

    def rows(self) -> list[dict[str, Any]]:
        """Every row, oldest first, with the exported columns."""
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            found = db.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id").fetchall()
        return [dict(r) for r in found]

    def counts(self) -> dict[str, int]:
        with self._connect() as db:
            found = db.execute(
                "SELECT kind || ':' || COALESCE(rating, ''), COUNT(*) FROM feedback GROUP BY 1"
            ).fetchall()
        return {key: int(n) for key, n in found}

    def export_csv(self, fileobj: IO[str]) -> int:
        """Write every row as CSV (header first) to a text file object; returns the row count."""
        writer = csv.writer(fileobj)
        writer.writerow(COLUMNS)
        rows = self.rows()
        for r in rows:
            writer.writerow(
                [
                    r["kind"],
                    r["created_at"],
                    _spreadsheet_safe(r["question"]),
                    "" if r["rating"] is None else str(r["rating"]),
                    _spreadsheet_safe(r["answer"]),
                    r["citations"],
                ]
            )
        return len(rows)
