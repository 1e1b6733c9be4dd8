"""Pure parts of issue 17's students' half: the kept conversation, its Markdown, grouped sources, the
whole-document body (cue times, the quote marked, no front matter), isolates in plain-text cells."""

from __future__ import annotations

from datetime import UTC, datetime

from assistant.core.records import Answer, AnswerSentence, Citation, Document, Segment
from assistant.store.topics import QuestionCount, Topic
from assistant.web import keep, passages, render, review_render

TITLE = "مهارت‌های اعتمادسازی"


def _cite(n: int, doc_id: str, text: str, **more) -> Citation:
    return Citation(n=n, doc_id=doc_id, title=more.pop("title", TITLE), source=doc_id, start=0,
                    end=len(text), text=text, score=0.9, **more)  # fmt: skip


def _answer(question: str, citations: list[Citation]) -> Answer:
    text = " ".join(f"{c.text} [{c.n}]" for c in citations)
    sentences = tuple(AnswerSentence(f"{c.text} [{c.n}]", (c.n,), 0.9) for c in citations)
    return Answer(
        question=question, text=text, abstained=False, sentences=sentences, citations=tuple(citations)
    )


def test_sources_are_grouped_by_document_title_once():
    answer = _answer(
        "عوامل؟",
        [_cite(1, "a.md", "فقدان شفافیت"), _cite(2, "b.srt", "سخنگو", title="talk", start_s=75.0, end_s=82.0),
         _cite(3, "a.md", "نقض اخلاق")],
    )  # fmt: skip
    lines = render.sources_lines(answer.citations)
    assert lines[0].startswith("• **") and TITLE in lines[0]
    assert lines[1].startswith("[1] ") and lines[2].startswith("[3] ")  # a.md's passages under its title
    assert "talk" in lines[3] and lines[4].startswith("[2] \u206601:15–01:22\u2069")
    assert render.answer_markdown(answer).count(TITLE) == 1


def test_a_kept_conversation_comes_back_and_anything_else_is_dropped():
    first = _answer("ارکان اعتماد؟", [_cite(1, "a.md", "شفافیت")])
    second = _answer("دومی؟", [_cite(1, "a.md", "پاسخگویی"), _cite(2, "a.md", "صداقت")])
    turns = [keep.KeptTurn("ارکان اعتماد؟", first, 7), keep.KeptTurn("دومی؟", second, None)]
    saved = keep.to_saved(turns)
    back = keep.from_saved(saved)
    as_data = lambda ts: [(t.question, t.answer.to_dict(), t.log_id) for t in ts]  # noqa: E731
    assert as_data(back) == as_data(turns)
    history = keep.chat_history(back)
    assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]
    assert "[2]" in history[3]["content"] and "<a" not in history[3]["content"]  # the page links [n]

    # What a browser sends back is untrusted: malformed turns are dropped, HTML is escaped on the way out.
    bad_n = {**first.to_dict(), "citations": [{**first.citations[0].to_dict(), "n": "<b>"}]}
    hostile = {"v": 1, "turns": [
        {"question": "<img src=x onerror=alert(1)>", "answer": first.to_dict(), "log_id": True},
        {"question": "x", "answer": "not a dict"},
        {"question": "x", "answer": bad_n},
        "junk",
    ]}  # fmt: skip
    kept = keep.from_saved(hostile)
    assert len(kept) == 1 and kept[0].log_id is None
    assert "<img" not in keep.chat_history(kept)[0]["content"]
    for junk in (None, "x", [], {"v": 99, "turns": []}, {"v": 1, "turns": "x"}):
        assert keep.from_saved(junk) == []


def test_the_markdown_export_quotes_every_source():
    answer = _answer("عوامل؟", [_cite(1, "a.md", "فقدان  شفافیت"), _cite(2, "t.srt", "سخنگو", title="talk",
                                  start_s=5.0, end_s=9.0, url="https://x.org/t.mp4#t=5")])  # fmt: skip
    text = keep.conversation_markdown([keep.KeptTurn("عوامل؟", answer, 1)], datetime(2026, 1, 2, tzinfo=UTC))
    assert "## 1. عوامل؟" in text and answer.text in text
    assert f"- **{TITLE}** (`a.md`)" in text and "  - [1] «فقدان شفافیت»" in text
    assert "  - [2] (00:05–00:09 https://x.org/t.mp4#t=5) «سخنگو»" in text
    assert "2026-01-02 00:00 UTC" in text


def test_whole_document_shows_the_body_with_cue_times_and_the_quote_marked():
    front = '---\ntitle: "talk <b>"\n---\n'
    body = "نخست <سلام>.\nسپس پاسخ."
    doc = Document(
        doc_id="t.srt", source="/srv/corpus/t.srt", text=front + body, body_start=len(front),
        title="talk <b>", speaker="مدرس", segments=(
            Segment(len(front), len(front) + 12, 5.0, 9.5),
            Segment(len(front) + 13, len(front) + 22, 75.0, 82.0),
        ),
    )  # fmt: skip
    quote = doc.text.index("پاسخ")
    html = passages.document_html(doc, (quote, quote + 4))
    assert "title:" not in html and "/srv/corpus" not in html  # no raw YAML, no internal path
    assert "talk &lt;b&gt;" in html and "&lt;سلام&gt;" in html
    assert html.count('class="pr-cue"') == 2 and "[00:05–00:09]" in html and "[01:15–01:22]" in html
    assert '<mark id="pr-mark">پاسخ</mark>' in html
    assert html.index("[01:15–01:22]") < html.index("<mark")


def test_gap_topic_cells_isolate_each_question():
    topic = Topic("نقش AI در PR؟", 3, [QuestionCount("نقش AI در PR؟", 2), QuestionCount("2024 چه شد؟", 1)])
    label, total, questions = review_render.topic_rows([topic])[0]
    assert label == "\u2068نقش AI در PR؟\u2069" and total == 3
    assert questions == "\u2068نقش AI در PR؟\u2069 (2) · \u20682024 چه شد؟\u2069 (1)"


def test_status_lines_isolate_the_english_half_and_escape():
    line = render.said_error("پرسش <خالی> است. / The question is empty.")
    assert line == '⚠ پرسش &lt;خالی&gt; است. / <bdi dir="ltr">The question is empty.</bdi>'
    assert render.said_error("no halves <b>") == "⚠ no halves &lt;b&gt;"
    assert render.said(render.DONE, "ثبت شد.", "Saved.") == '✓ ثبت شد. / <bdi dir="ltr">Saved.</bdi>'
