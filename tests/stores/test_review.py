"""Trainers' side on both backends: verdicts per citation, the review queue, exports."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.store import VERDICT_COLUMNS, ReviewQuery, Store, StoreError, Verdict


def test_verdicts_upsert_per_citation(store, answer_of):
    answer_id = store.log_answer("q", answer_of("q", ("a.md", "b.md")), build_id="build-7")
    first = store.set_verdict(answer_id, 2, "partly", note=" half ", reviewer="مربی", doc_sha256="f" * 64)
    assert isinstance(first, Verdict)
    assert (first.doc_id, first.build_id, first.note, first.reviewer) == ("b.md", "build-7", "half", "مربی")
    store.set_verdict(answer_id, 2, "wrong_passage")  # the trainer changed their mind: replaced, not added
    store.set_verdict(answer_id, 1, "supports")
    found = store.verdicts(answer_id)
    assert [(v.n, v.verdict, v.doc_id, v.doc_sha256) for v in found] == [
        (1, "supports", "a.md", ""),
        (2, "wrong_passage", "b.md", ""),
    ]
    assert store.counts().verdicts == {"supports": 1, "wrong_passage": 1}
    assert store.clear_verdict(answer_id, 1) is True and store.clear_verdict(answer_id, 1) is False
    with pytest.raises(StoreError, match="Unknown verdict"):
        store.set_verdict(answer_id, 1, "great")
    with pytest.raises(StoreError, match=r"has no citation \[3\]"):
        store.set_verdict(answer_id, 3, "supports")
    with pytest.raises(StoreError, match="No logged answer"):
        store.set_verdict(answer_id + 50, 1, "supports")
    # an abstention's numbered related passages can be judged too
    gap_id = store.log_answer("g", answer_of("g", ("c.md",), abstained=True))
    assert store.set_verdict(gap_id, 1, "does_not_support").doc_id == "c.md"


def _fill(store, answer_of) -> dict[str, int]:
    ids = {
        "old": store.log_answer("old", answer_of("old", ("a.md",))),
        "liked": store.log_answer("liked", answer_of("liked", ("a.md", "b.md"))),
        "disliked": store.log_answer("disliked", answer_of("disliked", ("b.md",))),
        "mixed": store.log_answer("mixed", answer_of("mixed", ("c.md",))),
        "gap": store.log_answer("gap", answer_of("gap", ("a.md",), abstained=True)),
    }
    store.rate(1, answer_id=ids["liked"], vote_key="1")
    store.rate(1, answer_id=ids["liked"], vote_key="2")
    store.rate(-1, answer_id=ids["disliked"], vote_key="3")
    store.rate(-1, answer_id=ids["disliked"], vote_key="4")
    store.rate(1, answer_id=ids["mixed"], vote_key="5")
    store.rate(-1, answer_id=ids["mixed"], vote_key="6")
    store.set_verdict(ids["liked"], 1, "supports")
    store.set_verdict(ids["liked"], 2, "supports")
    store.set_verdict(ids["disliked"], 1, "does_not_support")
    return ids


def _questions(store, **query) -> list[str]:
    return [r.logged.question for r in store.review_queue(ReviewQuery(**query)).rows]


def test_review_queue_orders_filters_and_pages(store, answer_of):
    ids = _fill(store, answer_of)
    assert _questions(store) == ["gap", "mixed", "disliked", "liked", "old"]
    assert _questions(store, order="lowest_rated") == ["disliked", "gap", "mixed", "old", "liked"]
    assert _questions(store, doc_id="a.md") == ["liked", "old"]  # cited only: the gap's a.md is related
    assert _questions(store, verdict="supports") == ["liked"]
    assert _questions(store, verdict="unreviewed") == ["gap", "mixed", "old"]
    assert _questions(store, thumbs="up") == ["mixed", "liked"]
    assert _questions(store, thumbs="down") == ["mixed", "disliked"]
    assert _questions(store, thumbs="none") == ["gap", "old"]
    assert _questions(store, doc_id="b.md", thumbs="down", verdict="does_not_support") == ["disliked"]

    page = store.review_queue(ReviewQuery(order="lowest_rated", limit=2, offset=1))
    assert page.total == 5 and [r.logged.question for r in page.rows] == ["gap", "mixed"]
    liked = store.review_queue(ReviewQuery(verdict="supports")).rows[0]
    assert (liked.logged.id, liked.rating_sum, liked.ups, liked.downs) == (ids["liked"], 2, 2, 0)
    assert liked.verdict_counts == {"supports": 2} and liked.logged.answer["citations"][1]["doc_id"] == "b.md"
    gap = store.review_queue(ReviewQuery(limit=1)).rows[0]
    assert gap.logged.abstained is True and gap.verdict_counts == {} and gap.rating_sum == 0
    for bad in ({"verdict": "nice"}, {"thumbs": "sideways"}, {"order": "random"}):
        with pytest.raises(StoreError):
            store.review_queue(ReviewQuery(**bad))


def test_review_export_cli_csv_and_json(database_url, answer_of, monkeypatch):
    """`assistant review export` reads the database named by ASSISTANT_DATABASE_URL."""
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", database_url)
    store = Store(database_url)
    media = answer_of("=cmd|' /C calc'!A0", ("talk.md", "deck.md"))
    media["citations"][0].update(start_s=61.5, end_s=75.0, url="https://example.org/talk")
    media["citations"][1].update(slide=4, doc_sha256="ab" * 32)
    answer_id = store.log_answer(media["question"], media, build_id="b1")
    store.set_verdict(answer_id, 1, "supports", note="+ok", doc_sha256="cd" * 32)
    store.set_verdict(answer_id, 2, "partly")
    store.close()

    runner = CliRunner()
    as_json = runner.invoke(main, ["review", "export", "--json"])
    assert as_json.exit_code == 0, as_json.output
    records = json.loads(as_json.stdout)
    assert [(r["n"], r["verdict"], r["doc_id"]) for r in records] == [
        (1, "supports", "talk.md"),
        (2, "partly", "deck.md"),
    ]
    talk, deck = records
    assert (talk["start_s"], talk["end_s"], talk["url"], talk["doc_sha256"]) == (
        61.5,
        75.0,
        "https://example.org/talk",
        "cd" * 32,
    )
    assert "slide" not in talk and deck["slide"] == 4 and deck["doc_sha256"] == "ab" * 32
    assert talk["question"] == media["question"] and talk["answer_text"] == media["answer"]
    assert (talk["citation_text"], talk["start"], talk["end"], talk["build_id"]) == (
        "متن بند 1 از talk.md",
        10,
        50,
        "b1",
    )

    as_csv = runner.invoke(main, ["review", "export", "--csv"])
    assert as_csv.exit_code == 0, as_csv.output
    assert as_csv.stdout_bytes.startswith(b"\xef\xbb\xbf")  # UTF-8's BOM: Excel reads the Persian right
    text = as_csv.stdout_bytes.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(VERDICT_COLUMNS)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["question"] == "'" + media["question"] and rows[0]["note"] == "'+ok"  # no formula runs
    assert (rows[0]["start_s"], rows[0]["slide"], rows[1]["slide"]) == ("61.5", "", "4")
    assert runner.invoke(main, ["review", "export"]).exit_code == 2  # a format must be chosen
