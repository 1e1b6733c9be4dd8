"""The trainers' desk over the store, on both backends: the dashboard's figures against the raw rows,
"lowest rated" with verdicts, the queue's next unreviewed answer, gap topics from resolved questions,
and the exports a spreadsheet opens (CSV with UTF-8's BOM)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy import select, update

from assistant.core.settings import Settings
from assistant.pipeline import Assistant
from assistant.store import GAP_COLUMNS, RATING_COLUMNS, ReviewQuery
from assistant.store.tables import answer_docs, answers, ratings
from assistant.store.topics import cluster_counts
from assistant.web.dashboard import frames
from assistant.web.desk import Picture, has_subject
from assistant.web.service import Service

DAY1 = datetime(2026, 3, 1, 9, tzinfo=UTC)
DAY2 = datetime(2026, 3, 2, 23, 59, tzinfo=UTC)  # late and early: the UTC day, whatever the server's zone
DAY4 = datetime(2026, 3, 4, 0, 1, tzinfo=UTC)


def _at(store, table, row_id: int, when: datetime) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == row_id).values(created_at=when))


def _class(store, answer_of) -> dict[str, int]:
    """Four days of a class (the third without a question): answers, abstentions, thumbs."""
    plan = [
        ("trust", ("a.md", "b.md"), False, DAY1, [1, -1]),
        ("crisis", ("b.md",), False, DAY1, [-1]),
        ("bitcoin", ("c.md",), True, DAY1, []),
        ("ethics", ("a.md",), False, DAY2, [1]),
        ("bitcoin", ("c.md",), True, DAY2, [-1]),
        ("salary", ("c.md",), True, DAY4, []),
        ("media", ("b.md",), False, DAY4, [-1, -1]),
    ]
    ids, key = {}, 0
    for question, docs, abstained, when, thumbs in plan:
        answer_id = store.log_answer(question, answer_of(question, docs, abstained=abstained))
        _at(store, answers, answer_id, when)
        ids[f"{question}@{when.day}"] = answer_id
        for thumb in thumbs:
            key += 1
            rating_id = store.rate(thumb, answer_id=answer_id, vote_key=str(key))
            _at(store, ratings, rating_id, when)
    return ids


def _expected(store, start: date | None, end: date | None) -> dict[str, Counter]:
    """What the charts must show, counted here from the raw rows in Python."""
    with store.engine.connect() as conn:
        asked = conn.execute(select(answers.c.id, answers.c.created_at, answers.c.abstained)).all()
        rated = conn.execute(select(ratings.c.created_at, ratings.c.rating)).all()
        cites = conn.execute(select(answer_docs.c.answer_id, answer_docs.c.doc_id)).all()

    def day(value: datetime) -> date:
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).date()

    def inside(value: datetime) -> bool:
        return (start is None or day(value) >= start) and (end is None or day(value) <= end)

    out = {k: Counter() for k in ("questions", "answered", "abstained", "thumbs_down", "cited")}
    kept = set()
    for answer_id, created, abstained in asked:
        if inside(created):
            kept.add(answer_id)
            out["questions"][day(created).isoformat()] += 1
            out["abstained" if abstained else "answered"][day(created).isoformat()] += 1
    for created, rating in rated:
        if inside(created) and rating < 0:
            out["thumbs_down"][day(created).isoformat()] += 1
    for answer_id, doc_id in cites:
        if answer_id in kept:
            out["cited"][doc_id] += 1
    return out


def _words(texts) -> np.ndarray:
    """Each distinct wording its own direction: the test checks counts, not clustering."""
    distinct = {text: i for i, text in enumerate(dict.fromkeys(texts))}
    vectors = np.zeros((len(texts), max(len(distinct), 1)), np.float32)
    for i, text in enumerate(texts):
        vectors[i, distinct[text]] = 1.0
    return vectors


def _shown(store, start, end) -> dict:
    numbers = store.class_picture(start, end)
    topics = cluster_counts(numbers.unanswered, _words, threshold=0.99, keep=has_subject)
    return frames(Picture(numbers, topics, {"a.md": "Trust", "b.md": "Crisis"}))


def test_dashboard_figures_match_the_rows(store, answer_of):
    _class(store, answer_of)
    for start, end in [
        (None, None),
        (date(2026, 3, 2), date(2026, 3, 4)),
        (date(2026, 3, 1), date(2026, 3, 1)),
    ]:
        shown, want = _shown(store, start, end), _expected(store, start, end)
        per_day = dict(
            zip(shown["per_day"]["روز / day"], shown["per_day"]["پرسش‌ها / questions"], strict=True)
        )
        assert {d: n for d, n in per_day.items() if n} == dict(want["questions"])
        outcomes = shown["outcomes"]
        for kind, label in [("answered", "پاسخ‌داده / answered"), ("abstained", "بی‌پاسخ / abstained"),
                            ("thumbs_down", "نپسندیده / thumbs down")]:  # fmt: skip
            rows = outcomes[outcomes["نوع / kind"] == label]
            got = {d: n for d, n in zip(rows["روز / day"], rows["شمار / count"], strict=True) if n}
            assert got == dict(want[kind]), (kind, start, end)
        titles = {"a.md": "Trust", "b.md": "Crisis", "c.md": "c.md"}
        cited = dict(zip(shown["cited"]["سند / document"], shown["cited"]["پاسخ‌ها / answers"], strict=True))
        assert cited == {titles[d]: n for d, n in want["cited"].items()}
        assert sum(shown["topics"]["پرسش‌ها / asked"]) == sum(want["abstained"].values())
    whole = _shown(store, None, None)
    assert list(whole["per_day"]["روز / day"]) == ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]
    assert list(whole["per_day"]["پرسش‌ها / questions"]) == [3, 2, 0, 2]  # a quiet day is drawn as zero
    topics = dict(zip(whole["topics"]["موضوع / topic"], whole["topics"]["پرسش‌ها / asked"], strict=True))
    assert topics == {"bitcoin": 2, "salary": 1}


def test_unanswered_topics_use_the_resolved_question(store, answer_of):
    """«چرا؟» after a question counts as what it was read as; alone (nothing to lean on) it is no topic."""
    resolved = "چرا قیمت بیت کوین مهم است؟"
    for typed in ("چرا؟", "چرا؟"):
        store.log_answer(typed, answer_of(typed, ("c.md",), abstained=True), resolved_question=resolved)
    store.log_answer("چرا؟", answer_of("چرا؟", ("c.md",), abstained=True))  # first in a conversation
    numbers = store.class_picture()
    assert numbers.unanswered == [(resolved, 2), ("چرا؟", 1)]
    topics = cluster_counts(numbers.unanswered, _words, keep=has_subject)
    assert [(t.label, t.total) for t in topics] == [(resolved, 2)]
    # the review tab's topics come from the gaps table, which keeps the resolved wording too
    gap_topics = store.gap_clusters(_words, keep=has_subject)
    assert [(t.label, t.total) for t in gap_topics] == [(resolved, 2)]
    assert not has_subject("چرا؟") and has_subject(resolved) and Assistant.question_subject("یعنی چه؟") == ""


def test_lowest_rated_counts_verdicts_and_the_queue_moves_on(store, answer_of):
    liked = store.log_answer("liked", answer_of("liked", ("a.md", "b.md")))
    wrong = store.log_answer("wrong", answer_of("wrong", ("a.md", "b.md")))
    plain = store.log_answer("plain", answer_of("plain", ("a.md",)))
    gap = store.log_answer("gap", answer_of("gap", ("c.md",), abstained=True))
    store.rate(1, answer_id=wrong, vote_key="w")  # a student liked it ...
    store.set_verdict(wrong, 1, "wrong_passage")  # ... a trainer found both citations wrong
    store.set_verdict(wrong, 2, "does_not_support")
    store.rate(-1, answer_id=liked, vote_key="l1")
    store.set_verdict(liked, 1, "supports")
    store.set_verdict(liked, 2, "supports")
    rows = store.review_queue(ReviewQuery(order="lowest_rated")).rows
    assert [r.logged.question for r in rows] == ["wrong", "gap", "plain", "liked"]
    assert [(r.rating_sum, r.verdict_score, r.score) for r in rows[:1]] == [(1, -2, -1)]
    # the desk's next answer: unreviewed, with citations to judge, not one skipped
    query = ReviewQuery(verdict="unreviewed", answered=True, limit=5)
    assert [r.logged.id for r in store.review_queue(query).rows] == [plain]
    assert store.review_queue(ReviewQuery(verdict="unreviewed", answered=True, exclude=(plain,))).rows == []
    assert [r.logged.id for r in store.review_queue(ReviewQuery(answered=False)).rows] == [gap]


def test_exports_open_as_csv_with_a_bom(database_url, answer_of, tmp_path, home):
    settings = Settings(home=home, corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index",
                        database_url=database_url)  # fmt: skip
    service = Service(settings, say=lambda _: None)
    store = service.store()
    answered = store.log_answer("اعتماد چیست؟", answer_of("اعتماد چیست؟", ("a.md",)))
    store.rate(-1, answer_id=answered, vote_key="k")
    store.set_verdict(answered, 1, "partly", note="=SUM(A1)")
    for _ in range(2):
        store.log_answer("=قیمت بیت کوین؟", answer_of("=قیمت بیت کوین؟", ("c.md",), abstained=True))
    read = {}
    for kind in ("verdicts", "unanswered", "ratings"):
        raw = service.export(kind, tmp_path).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), kind
        read[kind] = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert read["verdicts"][0]["verdict"] == "partly" and read["verdicts"][0]["note"] == "'=SUM(A1)"
    assert read["verdicts"][0]["verdict_fa"] == "تا حدی"  # the key for scripts, the name for people
    assert list(read["unanswered"][0]) == list(GAP_COLUMNS)
    assert [(r["question"], r["count"]) for r in read["unanswered"]] == [("'=قیمت بیت کوین؟", "2")]
    assert list(read["ratings"][0]) == list(RATING_COLUMNS)
    assert [(r["question"], r["rating"], r["cited_titles"]) for r in read["ratings"]] == [
        ("اعتماد چیست؟", "-1", "عنوان a.md")
    ]
    assert service.export("verdicts_json", tmp_path).read_bytes().startswith(b"[")  # JSON: no BOM
    store.close()
