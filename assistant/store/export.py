"""Verdicts, unanswered questions and ratings out as CSV (or verdicts as JSON) for trainers.

One row per verdict: the answer (question, text), the citation judged (with
any media or slide position the stored citation carries) and the verdict.
Text cells that a spreadsheet would run as a formula get a leading quote.
Files meant for a spreadsheet start with ``BOM`` (UTF-8's byte-order mark):
without it Excel reads UTF-8 as the local code page and Persian comes out garbled.
"""

from __future__ import annotations

import csv
import json
from typing import IO, Any

from .records import Gap, Rating, VerdictExport

#: Each verdict's Persian name, beside its key in the export (a trainer reads the one, a script the other).
VERDICT_FA = {
    "supports": "پشتیبانی می‌کند",
    "partly": "تا حدی",
    "does_not_support": "پشتیبانی نمی‌کند",
    "wrong_passage": "بند نادرست",
}
#: Written first to a CSV file (or opened with ``encoding="utf-8-sig"``): Excel then reads it as UTF-8.
BOM = "\ufeff"
GAP_COLUMNS = ("question", "count", "first_seen", "last_seen", "answer_text", "related_titles")
RATING_COLUMNS = ("created_at", "rating", "comment", "question", "answer_id", "answer_text", "cited_titles")

#: Citation fields copied only when the stored citation has them (media and slide sources).
OPTIONAL_CITATION_FIELDS = ("start_s", "end_s", "slide", "url")
VERDICT_COLUMNS = (
    "answer_id",
    "answer_created_at",
    "question",
    "resolved_question",
    "answer_text",
    "n",
    "doc_id",
    "title",
    "citation_text",
    "start",
    "end",
    "doc_sha256",
    *OPTIONAL_CITATION_FIELDS,
    "verdict",
    "verdict_fa",
    "note",
    "reviewer",
    "build_id",
    "verdict_created_at",
)
_TEXT_COLUMNS = ("question", "resolved_question", "answer_text", "title", "citation_text", "note", "reviewer")

# A cell starting with one of these is run as a formula by spreadsheet programs
# (CSV injection); trainers open the export in one, so such text cells get a quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_record(item: VerdictExport) -> dict[str, Any]:
    """The flat JSON object of one verdict; optional citation fields only when present."""
    citation, verdict = item.citation, item.verdict
    record: dict[str, Any] = {
        "answer_id": item.answer_id,
        "answer_created_at": item.answer_created_at.isoformat(timespec="seconds"),
        "question": item.question,
        "resolved_question": item.resolved_question,
        "answer_text": item.answer_text,
        "n": verdict.n,
        "doc_id": verdict.doc_id,
        "title": citation.get("title", ""),
        "citation_text": citation.get("text", ""),
        "start": citation.get("start"),
        "end": citation.get("end"),
        "doc_sha256": verdict.doc_sha256,
    }
    record.update({k: citation[k] for k in OPTIONAL_CITATION_FIELDS if k in citation})
    record.update(
        verdict=verdict.verdict,
        verdict_fa=VERDICT_FA.get(verdict.verdict, verdict.verdict),
        note=verdict.note,
        reviewer=verdict.reviewer,
        build_id=verdict.build_id,
        verdict_created_at=verdict.created_at.isoformat(timespec="seconds"),
    )
    return record


def write_verdicts_json(items: list[VerdictExport], fileobj: IO[str]) -> int:
    """A JSON array, one object per verdict; returns how many."""
    json.dump([export_record(i) for i in items], fileobj, ensure_ascii=False, indent=1)
    fileobj.write("\n")
    return len(items)


def write_verdicts_csv(items: list[VerdictExport], fileobj: IO[str]) -> int:
    """CSV with ``VERDICT_COLUMNS`` (header first); returns the row count."""
    writer = csv.writer(fileobj)
    writer.writerow(VERDICT_COLUMNS)
    for item in items:
        record = export_record(item)
        for key in _TEXT_COLUMNS:
            record[key] = spreadsheet_safe(str(record[key]))
        writer.writerow(["" if record.get(c) is None else record.get(c) for c in VERDICT_COLUMNS])
    return len(items)


def _stamp(value: Any) -> str:
    return value.isoformat(timespec="seconds")


def _titles(passages: list[dict[str, Any]] | None) -> str:
    return " | ".join(dict.fromkeys(str(p.get("title") or p.get("doc_id") or "") for p in passages or []))


def write_gaps_csv(items: list[Gap], fileobj: IO[str]) -> int:
    """The questions the corpus could not answer, each once with how often it was asked (most first)."""
    writer = csv.writer(fileobj)
    writer.writerow(GAP_COLUMNS)
    for g in items:
        writer.writerow(
            [spreadsheet_safe(g.question), g.count, _stamp(g.first_seen), _stamp(g.last_seen),
             spreadsheet_safe(g.answer_text), spreadsheet_safe(_titles(g.related))]
        )  # fmt: skip
    return len(items)


def write_ratings_csv(items: list[Rating], fileobj: IO[str]) -> int:
    """Every thumb (+1 / -1), oldest first, with the answer it rated and the documents that answer cited;
    ``comment`` is a thumbs-down's comment where the store keeps one (the student half of issue 17)."""
    writer = csv.writer(fileobj)
    writer.writerow(RATING_COLUMNS)
    for r in items:
        writer.writerow(
            [_stamp(r.created_at), r.rating, spreadsheet_safe(str(getattr(r, "comment", "") or "")),
             spreadsheet_safe(r.question),
             "" if r.answer_id is None else r.answer_id,
             spreadsheet_safe(str(r.answer.get("answer", ""))),
             spreadsheet_safe(_titles(r.answer.get("citations")))]
        )  # fmt: skip
    return len(items)
