"""What the trainers' desk asks of the service beyond single verdicts: the queue's next answer, a whole
answer judged at once, the class in numbers, exports for a spreadsheet, documents added and removed.

A mixin of :class:`~assistant.web.service.Service` (which supplies ``store()``
and ``assistant()``), kept apart so that module stays about serving questions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ..pipeline import Assistant
from ..store import (
    ClassPicture,
    ReviewQuery,
    Store,
    Verdict,
    write_gaps_csv,
    write_ratings_csv,
    write_verdicts_csv,
    write_verdicts_json,
)
from ..store.topics import Topic

#: export name → its file name
EXPORTS = {
    "verdicts": "verdicts.csv",
    "verdicts_json": "verdicts.jsonl",
    "unanswered": "unanswered.csv",
    "ratings": "ratings.csv",
}


def has_subject(question: str) -> bool:
    """Whether a (resolved) question names what it is about: «چرا؟» alone does not, and is no topic."""
    return bool(Assistant.question_subject(question))


@dataclass(frozen=True)
class Picture:
    """The dashboard's numbers and the unanswered questions grouped into topics."""

    numbers: ClassPicture
    topics: list[Topic]
    titles: dict[str, str]  # doc_id → title, for the most-cited chart


class DeskService:
    """Mixed into ``Service``; every method is for a signed-in trainer or admin (the tabs check the role)."""

    def store(self) -> Store:  # supplied by Service
        raise NotImplementedError

    def assistant(self) -> Assistant:  # supplied by Service
        raise NotImplementedError

    # ------------------------------------------------------------------ the review queue

    def next_unreviewed(self, query: ReviewQuery, skip: tuple[int, ...] = ()) -> int | None:
        """The first answer with citations and no verdict (queue order and filters), not in ``skip``."""
        wanted = ReviewQuery(
            order=query.order, doc_id=query.doc_id, thumbs=query.thumbs, verdict="unreviewed",
            limit=1, exclude=tuple(skip), answered=True,
        )  # fmt: skip
        page = self.store().review_queue(wanted)
        return page.rows[0].logged.id if page.rows else None

    def support_all(
        self, answer_id: int, citations: list[int], reviewer: str = "", note: str = ""
    ) -> list[Verdict]:
        """The (rest of the) citations support their sentences, in one action: a citation already
        judged keeps its verdict, every other one gets "supports"."""
        store = self.store()
        judged = {v.n for v in store.verdicts(answer_id)}
        return [
            store.set_verdict(answer_id, n, "supports", note=note, reviewer=reviewer)
            for n in citations
            if n not in judged
        ]

    # ------------------------------------------------------------------ the class in numbers

    def class_picture(self, start: date | None, end: date | None, top: int = 10) -> Picture:
        numbers = self.store().class_picture(start, end)
        from ..store.topics import cluster_counts

        topics = cluster_counts(numbers.unanswered, self.assistant().embed_questions, keep=has_subject)
        titles = {d.doc_id: d.title or d.doc_id for d in self.assistant().documents()}
        return Picture(numbers, topics[:top], titles)

    def export(self, kind: str, folder: Path) -> Path:
        """Write one export into ``folder`` for a download: CSV with UTF-8's BOM (Excel reads it as UTF-8)."""
        name = EXPORTS[kind]
        path = folder / name
        store = self.store()
        writers: dict[str, Any] = {
            "verdicts": lambda fh: write_verdicts_csv(store.verdict_exports(), fh),
            "verdicts_json": lambda fh: write_verdicts_json(store.verdict_exports(), fh),
            "unanswered": lambda fh: write_gaps_csv(store.gaps(), fh),
            "ratings": lambda fh: write_ratings_csv(store.ratings(), fh),
        }
        encoding = "utf-8-sig" if name.endswith(".csv") else "utf-8"
        with path.open("w", encoding=encoding, newline="") as fh:
            writers[kind](fh)
        return path

    # ------------------------------------------------------------------ documents

    def supported_sidecars(self) -> tuple[str, ...]:
        return Assistant.supported_sidecars

    def add_uploads(
        self, files: list[tuple[Path, str]], on_conflict: str, meta: dict[str, str]
    ) -> tuple[list[tuple[str, str | Exception]], list[str]]:
        """Save uploaded documents with their metadata (an uploaded .yaml of their name, then ``meta``),
        written as each one's sidecar: (name, what happened or the error) each, and the stray .yaml names."""
        helper = self.assistant()
        docs, orphans = helper.pair_uploads(files)
        done: list[tuple[str, str | Exception]] = []
        for doc in docs:
            try:
                done.append((doc.name, helper.add_file(doc.path, doc.name, on_conflict, meta, doc.sidecar)))
            except Exception as exc:
                done.append((doc.name, exc))
        return done, orphans

    def remove_document(self, doc_id: str) -> list[str]:
        return self.assistant().remove_file(doc_id)
