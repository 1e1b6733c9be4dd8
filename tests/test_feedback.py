"""Feedback store: ratings and gaps into SQLite, out as CSV for trainers."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest

from assistant.store.feedback import COLUMNS, FeedbackStore

ANSWER = {
    "question": "شفافیت به چه معناست؟",
    "answer": "شفافیت: به معنای آشکارسازی اطلاعات و عدم پنهانکاری است. [1]",
    "abstained": False,
    "sentences": [{"text": "شفافیت: به معنای آشکارسازی اطلاعات و عدم پنهانکاری است.", "citations": [1]}],
    "citations": [
        {
            "n": 1,
            "doc_id": "000_trust_building_webinar.md",
            "title": "مهارت‌های اعتمادسازی در روابط عمومی",
            "start": 1270,
            "end": 1325,
            "text": "شفافیت: به معنای آشکارسازی اطلاعات و عدم پنهانکاری است.",
            "score": 0.99,
        }
    ],
    "related": [],
}
GAP = {
    "question": "قیمت بیت کوین چند است؟",
    "answer": "منابع موجود پاسخ این پرسش را ندارند.",
    "abstained": True,
    "sentences": [],
    "citations": [],
    "related": [{"n": 1, "doc_id": "000_trust_building_webinar.md", "text": "…"}],
}


def _export(store: FeedbackStore) -> list[dict[str, str]]:
    out = io.StringIO()
    store.export_csv(out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_record_gap_export_round_trip(tmp_path):
    path = tmp_path / "nested" / "feedback.sqlite"
    store = FeedbackStore(path)
    store.record(ANSWER["question"], ANSWER, +1)
    store.record(ANSWER["question"], ANSWER, -1)
    store.log_gap(GAP["question"], GAP)

    out = io.StringIO()
    assert store.export_csv(out) == 3
    text = out.getvalue()
    assert text.splitlines()[0] == ",".join(COLUMNS)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["kind"] for r in rows] == ["rating", "rating", "gap"]
    assert [r["rating"] for r in rows] == ["1", "-1", ""]
    assert rows[0]["question"] == ANSWER["question"]
    assert rows[0]["answer"] == ANSWER["answer"]
    assert json.loads(rows[0]["citations"]) == ANSWER["citations"]
    assert rows[2]["question"] == GAP["question"]
    assert rows[2]["answer"] == GAP["answer"]
    assert json.loads(rows[2]["citations"]) == []
    assert all(r["created_at"].endswith("+00:00") for r in rows)

    # A second store on the same file (the CLI after the server) sees the same rows.
    assert _export(FeedbackStore(path)) == rows
    # The gap keeps the passages offered as related, for trainers to see what came close.
    assert FeedbackStore(path).store.gaps()[0].related == GAP["related"]


def test_gaps_are_counted_once_per_normalized_question(tmp_path):
    """Asking again (other spacing, Arabic ي/ك, Latin digits) bumps a count instead of adding 9 KB rows."""
    store = FeedbackStore(tmp_path / "f.sqlite")
    store.log_gap("قیمت بیت کوین در ۲۰۲۴ چند است؟", GAP)
    store.log_gap("  قيمت   بيت كوين در 2024 چند است؟", GAP)
    store.log_gap("هوای تهران چطور است؟", GAP)
    gaps = [r for r in _export(store) if r["kind"] == "gap"]
    assert [(r["question"].strip(), r["count"]) for r in gaps] == [
        ("قيمت   بيت كوين در 2024 چند است؟", "2"),
        ("هوای تهران چطور است؟", "1"),
    ]
    assert store.counts() == {"gap:": 2}


def test_vote_key_replaces_and_retracts(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite")
    store.record("q", ANSWER, +1, vote_key="session:1")
    store.record("q", ANSWER, -1, vote_key="session:1")  # changed their mind
    store.record("q", ANSWER, +1, vote_key="session:3")
    assert [r["rating"] for r in _export(store)] == ["-1", "1"]
    assert store.retract("session:1") is True
    assert store.retract("session:1") is False
    assert [r["rating"] for r in _export(store)] == ["1"]
    assert store.counts() == {"rating:1": 1}
    # The key (session and message) is kept only as a hash.
    with sqlite3.connect(tmp_path / "f.sqlite") as db:
        kept = [k for (k,) in db.execute("SELECT vote_key FROM ratings")]
    assert kept and all(len(k) == 64 and "session" not in k for k in kept)


@pytest.mark.parametrize("rating", [0, 2, -2, True, "1", None])
def test_rating_must_be_plus_or_minus_one(tmp_path, rating):
    store = FeedbackStore(tmp_path / "f.sqlite")
    with pytest.raises(ValueError):
        store.record("q", ANSWER, rating)
    assert store.rows() == []


def test_spreadsheet_formulas_are_neutralised(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite")
    store.log_gap('=HYPERLINK("http://x","y")', {"answer": "@SUM(A1)", "citations": []})
    row = _export(store)[0]
    assert row["question"] == '\'=HYPERLINK("http://x","y")'
    assert row["answer"] == "'@SUM(A1)"
    # ...but the database keeps what the reader typed
    assert store.rows()[0]["question"].startswith("=HYPERLINK")


def test_export_of_empty_store_has_header_only(tmp_path):
    out = io.StringIO()
    assert FeedbackStore(tmp_path / "f.sqlite").export_csv(out) == 0
    assert out.getvalue().strip() == ",".join(COLUMNS)


def test_concurrent_writers(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite")

    def work(n: int) -> None:
        for i in range(10):
            store.record(f"q{n}-{i}", ANSWER, 1 if i % 2 else -1)
            store.log_gap(f"g{n}-{i}", GAP)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(_export(store)) == 80


def test_cli_exports_ratings_and_gaps_as_csv(home):
    """`assistant feedback export --csv` reads the store in ASSISTANT_HOME (a tmp dir in tests)."""
    from click.testing import CliRunner

    from assistant.cli import main
    from assistant.core.settings import Settings

    store = FeedbackStore(Settings.from_env().feedback_db)
    store.record(ANSWER["question"], ANSWER, +1)
    store.log_gap(GAP["question"], GAP)
    result = CliRunner().invoke(main, ["feedback", "export", "--csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"\xef\xbb\xbf")  # UTF-8's BOM, for Excel
    rows = list(csv.DictReader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
    kinds = {(r["kind"], r["question"]) for r in rows}
    assert ("rating", ANSWER["question"]) in kinds and ("gap", GAP["question"]) in kinds


# The previous release's schema, as its feedback.sqlite files were written.
LEGACY_SCHEMA = """
CREATE TABLE feedback (
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
"""


def test_previous_release_file_is_imported_once(tmp_path):
    path = tmp_path / "feedback.sqlite"
    day = [(datetime.now(UTC) - timedelta(days=d)).isoformat(timespec="seconds") for d in (3, 2, 1, 200)]
    with sqlite3.connect(path) as db:
        db.executescript(LEGACY_SCHEMA)
        rows = [
            ("rating", day[0], ANSWER["question"], 1, json.dumps(ANSWER), "sess:1"),
            ("gap", day[1], GAP["question"], None, json.dumps(GAP), None),
            ("gap", day[2], GAP["question"] + " ", None, json.dumps(GAP), None),
            ("gap", day[3], "older than the retention period", None, json.dumps(GAP), None),
        ]
        db.executemany(
            "INSERT INTO feedback (kind, created_at, question, rating, answer_json, vote_key)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
    db.close()
    store = FeedbackStore(path)
    exported = _export(store)
    assert [(r["kind"], r["created_at"], r["count"]) for r in exported] == [
        ("rating", day[0], "1"),
        ("gap", day[1], "2"),
    ]
    assert json.loads(exported[0]["citations"]) == ANSWER["citations"]
    assert store.store.gaps()[0].last_seen.isoformat() == day[2]
    with sqlite3.connect(path) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()
    assert "feedback" not in tables  # gone with its vote keys in clear
    assert _export(FeedbackStore(path)) == exported  # opening again imports nothing twice
    assert store.retract("sess:1") is True  # the old key still takes the vote back
