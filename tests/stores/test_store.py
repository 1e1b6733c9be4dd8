"""The store on SQLite and on a real PostgreSQL server: question log, thumbs, gaps, retention."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from assistant.core.settings import Settings
from assistant.store import LoggedAnswer, Store, StoreError


def test_log_answer_round_trip(store, answer_of):
    answer = answer_of("شفافیت چیست؟", ("a.md", "b.md"))
    before = datetime.now(UTC)
    answer_id = store.log_answer(
        "و شفافیت؟", answer, resolved_question="شفافیت چیست؟", build_id="b-1", timings={"total": 42.5}
    )
    assert isinstance(answer_id, int)
    logged = store.get_answer(answer_id)
    assert isinstance(logged, LoggedAnswer)
    assert (logged.question, logged.resolved_question, logged.build_id) == (
        "و شفافیت؟",
        "شفافیت چیست؟",
        "b-1",
    )
    assert logged.answer == answer and logged.timings == {"total": 42.5} and logged.abstained is False
    assert logged.created_at.tzinfo is not None and before - timedelta(seconds=1) <= logged.created_at
    # timings default to the answer's own
    second = store.log_answer("q2", answer_of("q2"))
    assert store.get_answer(second).timings == {"retrieve": 12.5, "answer": 30.0}
    assert [a.id for a in store.answers()] == [second, answer_id]
    assert store.get_answer(second + 1000) is None
    # a second store on the same database (the CLI beside the server) sees the same rows
    other = Store(store.url)
    try:
        assert other.get_answer(answer_id) == logged
    finally:
        other.close()


def test_logging_off_keeps_no_question_but_still_counts_gaps(database_url, answer_of):
    store = Store(database_url, log_questions=False)
    try:
        assert store.log_answer("سوال", answer_of("سوال")) is None
        assert store.log_answer("بیت کوین؟", answer_of("بیت کوین؟", abstained=True)) is None
        assert store.answers() == []
        assert [(g.question, g.count, g.last_answer_id) for g in store.gaps()] == [("بیت کوین؟", 1, None)]
        # thumbs still work without an answer id: the rated answer is kept with the vote
        store.rate(-1, question="سوال", answer=answer_of("سوال"), vote_key="s:1")
        assert [(r.answer_id, r.answer["answer"]) for r in store.ratings()] == [(None, "پاسخ به سوال [1]")]
    finally:
        store.close()


def test_ratings_link_to_the_logged_answer(store, answer_of):
    answer_id = store.log_answer("شفافیت چیست؟", answer_of("شفافیت چیست؟"))
    store.rate(+1, answer_id=answer_id, vote_key="session-a:1")
    store.rate(-1, answer_id=answer_id, vote_key="session-a:1")  # changed their mind
    store.rate(+1, answer_id=answer_id, vote_key="session-b:1")
    found = store.ratings()
    assert [(r.rating, r.answer_id, r.question) for r in found] == [
        (-1, answer_id, "شفافیت چیست؟"),
        (1, answer_id, "شفافیت چیست؟"),
    ]
    assert found[0].answer["citations"][0]["doc_id"] == "000_trust.md"
    assert store.retract("session-a:1") is True
    assert store.retract("session-a:1") is False
    assert (store.counts().ups, store.counts().downs) == (1, 0)
    with pytest.raises(StoreError, match="No logged answer"):
        store.rate(1, answer_id=answer_id + 99)
    for bad in (0, 2, True, "1"):
        with pytest.raises(ValueError):
            store.rate(bad, answer_id=answer_id)
    assert len(store.ratings()) == 1


def test_gaps_are_deduplicated_by_normalized_question(store, answer_of):
    first = store.log_answer("قیمت بیت کوین در ۲۰۲۴؟", answer_of("x", ("crypto.md",), abstained=True))
    store.log_gap("  قيمت بيت  كوين در 2024؟", answer_of("x", ("other.md",), abstained=True))
    follow_up = store.log_answer(
        "و امروز؟", answer_of("x", abstained=True), resolved_question="هوای تهران امروز چطور است؟"
    )
    gaps = store.gaps()
    assert [(g.count, g.question) for g in gaps] == [
        (2, "  قيمت بيت  كوين در 2024؟"),
        (1, "هوای تهران امروز چطور است؟"),  # a follow-up counts under what it resolved to
    ]
    top = gaps[0]
    assert top.normalized == "قیمت بیت کوین در ۲۰۲۴؟"
    assert [p["doc_id"] for p in top.related] == ["other.md"]  # the last answer's related passages
    assert top.first_seen <= top.last_seen and top.last_answer_id is None
    assert gaps[1].last_answer_id == follow_up and first != follow_up
    assert (store.counts().gaps, store.counts().gap_questions) == (3, 2)


def test_purge_drops_what_is_older_than_retention_except_reviewed_answers(database_url, answer_of):
    store = Store(database_url, retention_days=90)
    try:
        kept = store.log_answer("reviewed", answer_of("reviewed"))
        store.set_verdict(kept, 1, "supports")
        gone = store.log_answer("old", answer_of("old"))
        store.rate(1, answer_id=gone, vote_key="k1")
        store.rate(-1, question="unlinked", answer=answer_of("unlinked"))
        store.log_answer("gap", answer_of("gap", abstained=True))
        assert store.purge() == store.purge(datetime.now(UTC) + timedelta(days=89))
        report = store.purge(datetime.now(UTC) + timedelta(days=91))
        assert (report.answers, report.ratings, report.gaps) == (2, 2, 1)
        assert [a.id for a in store.answers()] == [kept]
        assert store.ratings() == [] and store.gaps() == []
        assert len(store.verdicts()) == 1
        assert Store(database_url, retention_days=0).purge(datetime(2100, 1, 1, tzinfo=UTC)).answers == 0
    finally:
        store.close()


def test_concurrent_writers_lose_nothing(store, answer_of):
    """200 threads rating at once give 200 rows; 200 askings of one gap give a count of 200."""
    answer_id = store.log_answer("q", answer_of("q"))
    gap = answer_of("g", abstained=True)
    errors: list[BaseException] = []
    start = threading.Barrier(200)

    def work(i: int) -> None:
        try:
            start.wait()
            store.rate(1 if i % 2 else -1, answer_id=answer_id, vote_key=f"session-{i}:1")
            store.log_gap("همان پرسش بی‌پاسخ", gap)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store.ratings()) == 200
    assert (store.counts().ups, store.counts().downs) == (100, 100)
    assert [g.count for g in store.gaps()] == [200]


def test_unusable_urls_give_a_bilingual_error(tmp_path):
    with pytest.raises(StoreError, match="Only SQLite and PostgreSQL"):
        Store("mysql://u@localhost/db")
    with pytest.raises(StoreError, match="Invalid database URL"):
        Store("not a url")
    with pytest.raises(StoreError, match="Cannot open") as failed:
        Store("postgresql://someone:secret@127.0.0.1:9/nothing")  # nothing listens on port 9
    assert "secret" not in str(failed.value) and " / " in str(failed.value)


def test_settings_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path))
    for name in ("ASSISTANT_DATABASE_URL", "ASSISTANT_LOG_QUESTIONS", "ASSISTANT_RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    default = Settings.from_env()
    assert (default.log_questions, default.retention_days) == (True, 90)
    assert default.store_url == f"sqlite:///{tmp_path / 'feedback.sqlite'}"
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", "postgresql+psycopg://u@db/x")
    monkeypatch.setenv("ASSISTANT_RETENTION_DAYS", "30")
    for off in ("0", "false", "OFF", "no"):
        monkeypatch.setenv("ASSISTANT_LOG_QUESTIONS", off)
        assert Settings.from_env().log_questions is False
    monkeypatch.setenv("ASSISTANT_LOG_QUESTIONS", "1")
    chosen = Settings.from_env()
    assert (chosen.store_url, chosen.log_questions, chosen.retention_days) == (
        "postgresql+psycopg://u@db/x",
        True,
        30,
    )
    store = Store.from_settings(Settings.from_env(database_url=f"sqlite:///{tmp_path / 'x.sqlite'}"))
    assert (store.log_questions, store.retention_days) == (True, 30)
    store.close()


def test_sqlite_readers_do_not_wait_for_a_writer(tmp_path, answer_of):
    """A trainer's queue or an export reads while a chat answer is being written (WAL, deferred reads)."""
    import sqlite3
    import time

    from assistant.store import ReviewQuery

    path = tmp_path / "s.sqlite"
    store = Store(f"sqlite:///{path}")
    store.log_answer("q", answer_of("q"))
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # holds the one write lock
    try:
        start = time.perf_counter()
        assert store.review_queue(ReviewQuery()).total == 1 and len(store.answers()) == 1
        assert store.counts().answers == 1
        assert time.perf_counter() - start < 5  # the busy timeout is 30 s
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        store.close()


def test_a_thumbs_down_keeps_its_comment_and_the_export_shows_it(database_url, answer_of):
    """Issue 17: a student's few words on a thumbs-down, stored on both backends and in the feedback CSV."""
    import csv
    import io

    from assistant.store.feedback import FeedbackStore

    feedback = FeedbackStore(database_url)
    store = feedback.store
    try:
        answer_id = store.log_answer("شفافیت چیست؟", answer_of("شفافیت چیست؟"))
        store.rate(-1, answer_id=answer_id, vote_key="s:1")
        store.rate(-1, answer_id=answer_id, vote_key="s:1", comment="  منبع [2] ربطی به پرسش نداشت  ")
        store.rate(+1, answer_id=answer_id, vote_key="s:3", comment="a thumbs-up keeps no comment")
        assert [(r.rating, r.comment) for r in store.ratings()] == [
            (-1, "منبع [2] ربطی به پرسش نداشت"),
            (1, ""),
        ]
        out = io.StringIO()
        feedback.export_csv(out)
        rows = list(csv.DictReader(io.StringIO(out.getvalue())))
        assert [r["comment"] for r in rows if r["kind"] == "rating"] == ["منبع [2] ربطی به پرسش نداشت", ""]
        store.rate(-1, answer_id=answer_id, vote_key="s:1", comment="x" * 2000)
        assert len(store.ratings()[0].comment) == 500  # short, as the box says
    finally:
        store.close()
