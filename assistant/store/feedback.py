"""The feedback API the chat used before ``assistant.store``, kept as a thin layer over it.

``FeedbackStore(path_or_url)`` keeps ``record``, ``retract``, ``log_gap``,
``rows``, ``counts`` and ``export_csv`` (``assistant feedback export --csv``):
ratings first (oldest first), then the deduplicated gaps (first seen first),
with the columns ``COLUMNS``; ``count`` is how often a gap was asked.
New code uses ``assistant.store.Store`` directly.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import IO, Any

from . import Store
from .export import BOM, spreadsheet_safe

COLUMNS = ("kind", "created_at", "question", "rating", "answer", "citations", "count", "comment")


def _stamp(value: Any) -> str:
    return value.isoformat(timespec="seconds")


class FeedbackStore:
    """``FeedbackStore(path)`` (a SQLite file, created with its folder) or a database URL."""

    def __init__(self, path: str | Path):
        text = str(path)
        self.store = Store(text if "://" in text else f"sqlite:///{Path(text).expanduser()}")

    def record(
        self,
        question: str,
        answer_dict: dict[str, Any],
        rating: int,
        *,
        vote_key: str | None = None,
        answer_id: int | None = None,
        comment: str | None = None,
    ) -> int:
        """Store a reader's rating (+1 or -1); with ``vote_key`` a second vote replaces the first."""
        return self.store.rate(
            rating, answer_id=answer_id, question=question, answer=answer_dict, vote_key=vote_key,
            comment=comment,
        )  # fmt: skip

    def retract(self, vote_key: str) -> bool:
        return self.store.retract(vote_key)

    def log_gap(self, question: str, answer_dict: dict[str, Any]) -> int:
        """Count a question the assistant abstained on; returns the gap's id."""
        return self.store.log_gap(question, answer_dict)

    def rows(self) -> list[dict[str, Any]]:
        """Every rating, then every gap, with the exported columns."""
        rows = [
            {
                "kind": "rating",
                "created_at": _stamp(r.created_at),
                "question": r.question,
                "rating": r.rating,
                "answer": str(r.answer.get("answer", "")),
                "citations": json.dumps(r.answer.get("citations", []), ensure_ascii=False),
                "count": 1,
                "comment": r.comment,
            }
            for r in self.store.ratings()
        ]
        gaps = sorted(self.store.gaps(), key=lambda g: (g.first_seen, g.id))
        rows += [
            {
                "kind": "gap",
                "created_at": _stamp(g.first_seen),
                "question": g.question,
                "rating": None,
                "answer": g.answer_text,
                "citations": "[]",
                "count": g.count,
                "comment": "",
            }
            for g in gaps
        ]
        return rows

    def counts(self) -> dict[str, int]:
        """``{"rating:1": ups, "rating:-1": downs, "gap:": gap questions}``, zero counts left out."""
        c = self.store.counts()
        found = {"rating:1": c.ups, "rating:-1": c.downs, "gap:": c.gap_questions}
        return {k: v for k, v in found.items() if v}

    def export_csv(self, fileobj: IO[str], *, bom: bool = False) -> int:
        """Write every row as CSV (header first) to a text file object; returns the row count.

        ``bom``: start with UTF-8's byte-order mark, so that Excel reads the Persian as UTF-8.
        """
        if bom:
            fileobj.write(BOM)
        writer = csv.writer(fileobj)
        writer.writerow(COLUMNS)
        rows = self.rows()
        for r in rows:
            writer.writerow(
                [
                    r["kind"],
                    r["created_at"],
                    spreadsheet_safe(r["question"]),
                    "" if r["rating"] is None else str(r["rating"]),
                    spreadsheet_safe(r["answer"]),
                    r["citations"],
                    r["count"],
                    spreadsheet_safe(r["comment"]),
                ]
            )
        return len(rows)
