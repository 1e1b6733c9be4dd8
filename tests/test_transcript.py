"""Webinar transcripts (.srt/.vtt) and slide decks (.pptx): text, segments, and where a citation points.

The end-to-end test indexes a small Persian transcript pair and a deck with the
real model in its own tmp index, asks about them, and checks the times, the
slide number and the recording link on the citations.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.util import Inches

from assistant.answering.cite import format_time_range, locate
from assistant.core.records import Document, Segment
from assistant.core.settings import Settings
from assistant.indexing import build_index, load_index
from assistant.ingest.load import LoadError, load_corpus, load_file
from assistant.ingest.transcript import parse_cues
from assistant.pipeline import Assistant
from assistant.text.chunk import sentence_spans

CRISIS_SRT = """1
00:00:01,000 --> 00:00:04,500
سلام به همه؛ امروز دربارهٔ ارتباطات بحران در روابط عمومی

2
00:00:04,500 --> 00:00:08,000
صحبت می‌کنیم. وقتی بحرانی رخ می‌دهد، سازمان باید

3
00:00:08,000 --> 00:00:12,000
در ساعت نخست یک بیانیهٔ کوتاه و صادقانه
منتشر کند،

4
00:00:12,000 --> 00:00:16,500
حتی اگر هنوز همهٔ جزئیات را نمی‌داند.

5
00:00:16,500 --> 00:00:21,000
سکوت طولانی جای خالی را با <i>شایعه</i> پر می‌کند و اعتماد

6
00:00:21,000 --> 00:00:25,000
مخاطبان را از بین می‌برد. سخنگوی سازمان باید

7
00:00:25,000 --> 00:00:29,500
یک نفر باشد تا پیام‌ها با هم تناقض نداشته باشند.

8
00:00:29,500 --> 00:00:34,000
در پایان بحران، گزارشی از درس‌های آموخته‌شده منتشر کنید.
"""

LISTENING_VTT = """WEBVTT
Kind: captions

NOTE این یادداشت زیرنویس نیست

00:00.000 --> 00:03.000 align:start
<v مدرس>شنیدن فعال در شبکه‌های اجتماعی یعنی</v>

00:03.000 --> 00:06.500
رصد مداوم آنچه مردم دربارهٔ برند شما می‌گویند.

listening-3
00:06.500 --> 00:10.000
ابزارهای پایش، واژه‌های کلیدی و نام مدیران را

00:10.000 --> 00:13.000
دنبال می‌کنند و هشدار می‌دهند.

00:10.000 --> 00:13.500
دنبال می‌کنند و هشدار می‌دهند.

00:13.500 --> 00:17.000
پاسخ به شکایت عمومی مشتریان باید در کمتر از یک روز

00:17.000 --> 00:20.000
و با لحنی محترمانه &amp; شفاف داده شود.
"""

CRISIS_RECORDING = "https://example.org/media/crisis.mp4"
LISTENING_RECORDING = "https://example.org/media/listening.mp4"


def _deck(path: Path) -> Path:
    """Four slides made with python-pptx: title, two text slides with notes, a table slide."""
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[0])
    slide.shapes.title.text = "نگارش خبرنامهٔ مطبوعاتی"
    slide.placeholders[1].text = "کارگاه مهارت‌های رسانه‌ای"
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "تیتر"
    slide.placeholders[1].text_frame.text = "تیتر خبرنامه باید کوتاه، دقیق و بدون اغراق باشد."
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "هرم وارونه"
    slide.placeholders[
        1
    ].text_frame.text = (
        "در ساختار هرم وارونه مهم‌ترین اطلاعات خبر در بند نخست می‌آید و جزئیات کم‌اهمیت‌تر در انتها."
    )
    slide.notes_slide.notes_text_frame.text = "یادآوری: خبرنگاران معمولاً فقط بند نخست را می‌خوانند."
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "اجزای خبرنامه"
    table = slide.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    for (row, col), text in {
        (0, 0): "لید",
        (0, 1): "پاسخ به پنج پرسش",
        (1, 0): "تماس",
        (1, 1): "نام و تلفن",
    }.items():
        table.cell(row, col).text = text
    deck.save(str(path))
    return path


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


# --------------------------------------------------------------------------- loading


def test_srt_cues_become_one_text_with_time_segments(tmp_path: Path) -> None:
    doc = load_file(_write(tmp_path / "crisis_webinar.srt", CRISIS_SRT), tmp_path)
    cues = parse_cues(CRISIS_SRT)
    assert len(cues) == len(doc.segments) == 8
    assert doc.text == " ".join(c.text for c in cues)
    for cue, seg in zip(cues, doc.segments, strict=True):
        assert doc.text[seg.start : seg.end] == cue.text
        assert (seg.start_s, seg.end_s) == (cue.start_s, cue.end_s)
    assert doc.segments[2] == Segment(doc.segments[2].start, doc.segments[2].end, 8.0, 12.0)
    assert "<i>" not in doc.text and "\n" not in doc.text  # tags dropped, cue lines joined
    assert doc.title == "crisis webinar"  # a transcript is one long line: named after its file
    # the sentence the captioner split over cues 2–4 is one sentence for the chunker
    sentence = next(s for s in sentence_spans(doc.text) if "ساعت نخست" in doc.text[s.start : s.end])
    covered = [
        i for i, seg in enumerate(doc.segments) if seg.start < sentence.end and seg.end > sentence.start
    ]
    assert covered == [1, 2, 3]


def test_vtt_with_header_notes_ids_voice_tags_and_rolling_repeats(tmp_path: Path) -> None:
    doc = load_file(_write(tmp_path / "listening.vtt", LISTENING_VTT), tmp_path)
    assert doc.text.startswith("شنیدن فعال در شبکه‌های اجتماعی یعنی رصد مداوم")
    assert "یادداشت" not in doc.text and "<v" not in doc.text and "Kind" not in doc.text
    assert "&amp;" not in doc.text and "محترمانه & شفاف" in doc.text
    assert doc.text.count("دنبال می‌کنند") == 1  # the repeated cue only extends the previous one
    assert len(doc.segments) == 6
    repeated = next(s for s in doc.segments if doc.text[s.start : s.end].startswith("دنبال"))
    assert (repeated.start_s, repeated.end_s) == (10.0, 13.5)


def test_vtt_must_start_with_header_and_transcripts_need_cues(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="WEBVTT"):
        load_file(_write(tmp_path / "a.vtt", "00:00.000 --> 00:01.000\nسلام\n"), tmp_path)
    with pytest.raises(LoadError, match="no timed cues"):
        load_file(_write(tmp_path / "b.srt", "فقط متن بدون زمان\n"), tmp_path)


def test_cue_times_with_hours_and_dot_milliseconds() -> None:
    cues = parse_cues("1\n01:02:03.5 --> 1:02:04,250\nیک\n\n2\n00:00:09,000-->00:00:10,000\nدو\n")
    assert [(c.start_s, c.end_s, c.text) for c in cues] == [(3723.5, 3724.25, "یک"), (9.0, 10.0, "دو")]


def test_pptx_slides_tables_and_notes_with_a_segment_per_slide(tmp_path: Path) -> None:
    doc = load_file(_deck(tmp_path / "press_release.pptx"), tmp_path)
    assert [s.slide for s in doc.segments] == [1, 2, 3, 4]
    slides = [doc.text[s.start : s.end] for s in doc.segments]
    assert slides[0] == "نگارش خبرنامهٔ مطبوعاتی\nکارگاه مهارت‌های رسانه‌ای"
    assert slides[2].startswith("هرم وارونه\nدر ساختار هرم وارونه")
    assert slides[2].endswith("خبرنگاران معمولاً فقط بند نخست را می‌خوانند.")  # notes kept
    assert slides[3] == "اجزای خبرنامه\nلید | پاسخ به پنج پرسش\nتماس | نام و تلفن"
    assert doc.text == "\n\n".join(slides)
    assert doc.title == "نگارش خبرنامهٔ مطبوعاتی"


def test_sidecar_metadata_and_no_noise_in_the_build_report(tmp_path: Path) -> None:
    _write(tmp_path / "crisis.srt", CRISIS_SRT)
    _write(
        tmp_path / "crisis.yaml",
        f"title: ارتباطات بحران\nspeaker: دکتر نمونه\nrecording_url: {CRISIS_RECORDING}\n",
    )
    _deck(tmp_path / "deck.pptx")
    _write(tmp_path / "deck.meta.yaml", "title: نگارش خبرنامه\nurl: https://example.org/deck\n")
    _write(tmp_path / "notes.md", "---\ntitle: از سربرگ\n---\nمتن یادداشت.\n")
    _write(tmp_path / "notes.yml", "title: از فایل همراه\nspeaker: سخنران همراه\n")
    _write(tmp_path / "orphan.yaml", "title: بی‌صاحب\n")

    documents, skipped = load_corpus(tmp_path)
    by_id = {d.doc_id: d for d in documents}
    assert sorted(by_id) == ["crisis.srt", "deck.pptx", "notes.md"]
    assert by_id["crisis.srt"].title == "ارتباطات بحران"
    assert by_id["crisis.srt"].speaker == "دکتر نمونه"
    assert by_id["crisis.srt"].recording_url == CRISIS_RECORDING
    assert by_id["deck.pptx"].title == "نگارش خبرنامه"  # the sidecar beats the deck's own title
    assert by_id["notes.md"].title == "از سربرگ"  # front matter beats the sidecar
    assert by_id["notes.md"].speaker == "سخنران همراه"
    assert [s.path for s in skipped] == ["orphan.yaml"]  # a sidecar is not a corpus file; an orphan is


def test_document_from_dict_round_trip_and_old_stores() -> None:
    doc = Document(
        "a.srt", "corpus/a.srt", "یک دو", segments=(Segment(0, 2, 1.0, 2.5), Segment(3, 5, 2.5, 4.0))
    )
    assert Document.from_dict(asdict(doc)) == doc
    old = {k: v for k, v in asdict(doc).items() if k not in ("segments", "recording_url")}
    assert Document.from_dict(old).segments == ()


# --------------------------------------------------------------------------- locate, pure


def test_locate_times_slides_and_links() -> None:
    segments = (Segment(0, 10, 5.0, 9.0), Segment(11, 20, 9.0, 14.2), Segment(21, 30, 65.7, 70.0))
    talk = Document("t.srt", "c/t.srt", "x" * 30, segments=segments, recording_url="https://e.org/v.mp4#old")
    where = locate(talk, 5, 15)
    assert (where.start_s, where.end_s, where.slide) == (5.0, 14.2, None)
    assert where.url == "https://e.org/v.mp4#t=5"
    assert locate(talk, 22, 25).url == "https://e.org/v.mp4#t=65"
    assert locate(talk, 10, 11).start_s is None  # the joining space belongs to no cue

    deck = Document(
        "d.pptx",
        "c/d.pptx",
        "x" * 30,
        url="https://e.org/deck",
        segments=(Segment(0, 12, slide=1), Segment(14, 30, slide=2)),
    )
    assert (locate(deck, 15, 20).slide, locate(deck, 15, 20).url, locate(deck, 15, 20).start_s) == (
        2,
        "https://e.org/deck",
        None,
    )
    plain = Document("p.md", "c/p.md", "متن")
    assert locate(plain, 0, 3) == locate(plain, 0, 0) and locate(plain, 0, 3).url == ""


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [(4.5, 16.5, "00:04–00:16"), (65.0, 125.9, "01:05–02:05"), (3725.0, 3790.0, "1:02:05–1:03:10"),
     (3590.0, 3610.0, "0:59:50–1:00:10"), (7.0, 7.4, "00:07"), (7.0, None, "00:07"), (None, None, "")],
)  # fmt: skip
def test_format_time_range(start: float | None, end: float | None, shown: str) -> None:
    assert format_time_range(start, end) == shown


# --------------------------------------------------------------------------- end to end, real model


@pytest.fixture(scope="module")
def media_assistant(tmp_path_factory, home, embedder) -> Assistant:
    corpus = tmp_path_factory.mktemp("media-corpus")
    _write(corpus / "crisis_webinar.srt", CRISIS_SRT)
    _write(corpus / "crisis_webinar.yaml", f"title: ارتباطات بحران\nrecording_url: {CRISIS_RECORDING}\n")
    _write(corpus / "listening.vtt", LISTENING_VTT)
    _write(corpus / "listening.meta.yaml", f"title: شنیدن فعال\nrecording_url: {LISTENING_RECORDING}\n")
    _deck(corpus / "press_release.pptx")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("media-index"), home=home)
    report = build_index(settings, embedder=embedder)
    assert report.documents == 3 and report.skipped == []
    return Assistant(settings, embedder=embedder, build_if_missing=False)


def _verbatim(assistant: Assistant, answer) -> None:
    index = load_index(assistant.settings.index_dir)
    for c in [*answer.citations, *answer.related]:
        doc = index.documents[c.doc_id]
        assert doc.text[c.start : c.end] == c.text
        assert c.doc_sha256 == doc.content_hash == assistant.index.documents[c.doc_id].content_hash


def test_transcript_citation_has_times_and_a_recording_link(media_assistant: Assistant) -> None:
    answer = media_assistant.ask("سازمان در ساعت نخست بحران چه باید بکند؟")
    assert not answer.abstained
    cited = next(c for c in answer.citations if "ساعت نخست" in c.text)
    assert cited.doc_id == "crisis_webinar.srt"
    cue_starts = {c.start_s for c in parse_cues(CRISIS_SRT)}
    assert cited.start_s in cue_starts and cited.start_s <= 8.0 and cited.end_s >= 12.0
    assert cited.url == f"{CRISIS_RECORDING}#t={int(cited.start_s)}"
    assert cited.slide is None
    assert cited.to_dict()["url"] == cited.url and cited.to_dict()["start_s"] == cited.start_s
    _verbatim(media_assistant, answer)


def test_vtt_citation_links_into_its_own_recording(media_assistant: Assistant) -> None:
    answer = media_assistant.ask("پاسخ به شکایت عمومی مشتریان در شبکه‌های اجتماعی تا کی باید داده شود؟")
    cited = next(c for c in answer.citations if "شکایت" in c.text)
    assert cited.doc_id == "listening.vtt"
    assert (cited.start_s, cited.end_s) == (13.5, 20.0)  # the sentence spans the last two cues
    assert cited.url == f"{LISTENING_RECORDING}#t=13"
    _verbatim(media_assistant, answer)


def test_slide_citation_names_its_slide(media_assistant: Assistant) -> None:
    answer = media_assistant.ask("در ساختار هرم وارونه مهم‌ترین اطلاعات خبر کجا می‌آید؟")
    cited = next(c for c in answer.citations if "هرم وارونه" in c.text)
    assert cited.doc_id == "press_release.pptx"
    assert cited.slide == 3
    assert (cited.start_s, cited.end_s, cited.url) == (None, None, "")
    _verbatim(media_assistant, answer)


MALFORMED_SRT = """1
00:00:01,000 --> 00:00:04,000
روابط عمومی با صداقت آغاز می‌شود.

2
00:00:05,000 -> 00:00:08,000
این نشانه پیکان درستی ندارد.

3
00:00:09,000 --> 00:00:06,000
این یکی پیش از آغازش تمام می‌شود.

4
00:00:1x,000 --> 00:00:12,000
زمان این یکی خوانا نیست.

5
00:00:13,000 --> 00:00:15,000
پاسخ سریع اعتماد می‌سازد.

6
00:00:16,000 --> 00:00:18,000
شفافیت یعنی گفتن آنچه هست.
"""


def test_a_malformed_srt_is_counted_and_named_in_the_build_report(tmp_path: Path, fake_encoder) -> None:
    """3 of 6 cues unreadable and one ending before it starts: the report says so, cue by cue."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _write(corpus / "talk.srt", MALFORMED_SRT)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", home=tmp_path / "home")
    report = build_index(settings, embedder=fake_encoder)
    assert report.documents == 1 and report.skipped == []
    (warned,) = report.warnings
    assert warned.path == "talk.srt"
    assert warned.warning.startswith("3 SRT cues with problems (2 left out, 4 read): ")
    assert "cue 2 (line 6): unreadable timing «00:00:05,000 -> 00:00:08,000»" in warned.warning
    assert "cue 3 (line 10): ends before it starts" in warned.warning
    assert "cue 4 (line 14): unreadable timing" in warned.warning
    doc = load_file(corpus / "talk.srt", corpus)
    assert all(
        s.end_s >= s.start_s for s in doc.segments
    )  # the backwards cue is kept, ending where it starts
    assert "پیش از آغازش" in doc.text and "پیکان" not in doc.text
    # and the report on disk, which ``assistant index info`` prints
    on_disk = json.loads((settings.index_dir / "current" / "report.json").read_text(encoding="utf-8"))
    assert on_disk["warnings"][0]["path"] == "talk.srt"
