"""The desk's pure parts: sidecars written from the upload form, a document removed, the form checked,
verdicts named in Persian, the queue's table escaped and isolated, the keyboard's map complete."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from assistant.ingest.load import load_file
from assistant.ingest.sidecar import pair_uploads, remove_document, write_sidecar
from assistant.ingest.upload import UploadRejected
from assistant.store import VERDICTS, LoggedAnswer, ReviewPage, ReviewQuery, ReviewRow
from assistant.web import review_render
from assistant.web.admin import form_meta
from assistant.web.dashboard import parse_day
from assistant.web.review import KEYS_JS


def test_form_details_become_the_documents_sidecar_over_what_it_held(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "talk.srt").write_text(
        "1\n00:00:01,000 --> 00:00:03,000\nسلام و خوش آمدید.\n", encoding="utf-8"
    )
    (corpus / "talk.yaml").write_text("title: قدیمی\nkind: webinar\n", encoding="utf-8")
    path = write_sidecar(corpus, "talk.srt", {"title": " گفت‌وگوی   تازه ", "speaker": "", "bogus": "x"})
    assert path == corpus / "talk.yaml"
    doc = load_file(corpus / "talk.srt", corpus)
    assert (doc.title, doc.kind, doc.speaker) == (
        "گفت‌وگوی تازه",
        "webinar",
        "",
    )  # blank and unknown keys left out
    assert write_sidecar(corpus, "talk.srt", {"speaker": "  "}) is None  # nothing to write
    for bad in ("../outside.md", "/etc/passwd", ".hidden/x.md"):
        with pytest.raises(UploadRejected):
            write_sidecar(corpus, bad, {"title": "x"})


def test_removing_a_document_takes_its_sidecar_and_nothing_else(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("a.md", "b.srt", "b.yaml", "c.md"):
        (corpus / name).write_text("x", encoding="utf-8")
    assert remove_document(corpus, "b.srt") == ["b.srt", "b.yaml"]
    assert sorted(p.name for p in corpus.iterdir()) == ["a.md", "c.md"]
    for bad in ("b.srt", "../a.md", "a.yaml", "missing.md"):
        with pytest.raises(UploadRejected):
            remove_document(corpus, bad)


def test_uploads_are_paired_with_their_yaml(tmp_path: Path):
    files = [(tmp_path / n, n) for n in ("talk.srt", "talk.meta.yaml", "deck.pptx", "stray.yaml")]
    docs, orphans = pair_uploads(files)
    assert [(d.name, d.sidecar.name if d.sidecar else None) for d in docs] == [
        ("talk.srt", "talk.meta.yaml"),
        ("deck.pptx", None),
    ]
    assert orphans == ["stray.yaml"]


def test_the_upload_form_is_checked():
    assert form_meta(" عنوان ", "", "2024-05-18 00:00:00", " https://example.org/a.mp4 ") == {
        "title": "عنوان",
        "date": "2024-05-18",
        "recording_url": "https://example.org/a.mp4",
    }
    with pytest.raises(ValueError):
        form_meta("", "", "not a date", "")
    with pytest.raises(ValueError, match="https"):
        form_meta("", "", "", "javascript:alert(1)")
    assert parse_day("") is None and parse_day("2026-03-04") == date(2026, 3, 4)


def _row(question: str, counts: dict[str, int]) -> ReviewRow:
    logged = LoggedAnswer(7, datetime(2026, 3, 1, tzinfo=UTC), question, question, {}, "b", {}, False)
    return ReviewRow(logged, 0, 0, 0, counts)


def test_verdicts_are_named_in_persian_and_the_queue_is_escaped():
    counts = {"wrong_passage": 3, "supports": 1}
    assert review_render.verdict_counts(counts) == "پشتیبانی می‌کند: 1 · بند نادرست: 3"
    page = ReviewPage([_row("<b>PR</b> یعنی چه؟", counts)], 1, ReviewQuery())
    html = review_render.queue_html(page)
    assert "&lt;b&gt;PR&lt;/b&gt;" in html and "<b>PR" not in html
    assert '<bdi dir="auto">' in html and not any(key in html for key in VERDICTS)
    assert "👍" not in "".join(review_render.QUEUE_HEADERS)  # words, not an emoji a font may lack


def test_every_verdict_and_action_has_a_key():
    for target in [*(f"pr-judge-{v}" for v in VERDICTS), "pr-judge-all", "pr-next"]:
        assert f"'{target}'" in KEYS_JS
