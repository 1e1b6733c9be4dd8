"""Chunks and sentences point back into the source text exactly (budgets on the fake encoder;
the seed file on the real tokenizer)."""

from itertools import pairwise
from pathlib import Path

from assistant.core.records import Document
from assistant.ingest.load import load_file
from assistant.text.chunk import chunk_document, sentence_spans
from assistant.text.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent


def test_seed_chunks_round_trip_to_the_file(embedder):
    path = ROOT / "corpus" / "000_trust_building_webinar.md"
    doc = load_file(path, ROOT / "corpus")
    raw = path.read_text(encoding="utf-8")
    chunks = chunk_document(doc, embedder.count_tokens, max_tokens=256, overlap_tokens=48)
    assert len(chunks) >= 2
    for chunk in chunks:
        assert raw[chunk.start : chunk.end] == chunk.text
        assert chunk.start >= doc.body_start
        real = embedder.count_tokens([normalize(chunk.text)])[0]
        assert real <= chunk.tokens <= 256
    # consecutive chunks overlap by whole sentences
    assert any(b.start < a.end for a, b in pairwise(chunks))
    # every sentence of the body is in some chunk
    covered = {(s.start, s.end) for c in chunks for s in sentence_spans(raw, c.start, c.end)}
    for span in sentence_spans(raw, doc.body_start):
        assert (span.start, span.end) in covered


def test_overlong_sentence_is_cut_at_words(fake_encoder):
    text = ("روابط عمومی " * 400).strip()
    doc = Document(doc_id="long", source="long", text=text)
    chunks = chunk_document(doc, fake_encoder.count_tokens, max_tokens=128, overlap_tokens=0)
    assert len(chunks) > 3
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert fake_encoder.count_tokens([normalize(chunk.text)])[0] <= chunk.tokens <= 128


def test_sentence_spans_keep_decimals_and_join_caption_lines():
    text = "نرخ رشد 3.5 درصد بود. جملهٔ دوم!\n\nکارگاه اول\nتوسط دکتر الف\nشنبه ۲۹ اردیبهشت"
    spans = [text[s.start : s.end] for s in sentence_spans(text)]
    assert spans == ["نرخ رشد 3.5 درصد بود.", "جملهٔ دوم!", "کارگاه اول\nتوسط دکتر الف\nشنبه ۲۹ اردیبهشت"]


def test_markdown_heading_is_carried(fake_encoder):
    text = "# بخش اول\n\nجملهٔ اول این بخش است.\n\n# بخش دوم\n\nجملهٔ دوم این بخش است."
    doc = Document(doc_id="h", source="h", text=text)
    chunks = chunk_document(doc, fake_encoder.count_tokens, max_tokens=12, overlap_tokens=0)
    headings = [c.heading for c in chunks]
    assert headings[0] == "بخش اول" and headings[-1] == "بخش دوم"


def test_text_without_spaces_is_still_cut_below_the_budget(fake_encoder):
    text = "اعتماد" * 600
    doc = Document(doc_id="nospace", source="nospace", text=text)
    chunks = chunk_document(doc, fake_encoder.count_tokens, max_tokens=256, overlap_tokens=0)
    assert len(chunks) > 1
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert fake_encoder.count_tokens([normalize(chunk.text)])[0] <= 256
