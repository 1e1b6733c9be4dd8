"""Loader tests on real files written into ``tmp_path``."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader, PdfWriter

from assistant.ingest import load as load_module
from assistant.ingest.load import SUPPORTED, LoadError, load_corpus, load_file

FRONT_MATTER_MD = """---
title: اعتمادسازی در روابط عمومی
speaker: دکتر نمونه
speaker_role: استاد ارتباطات
date: 2023-05-01
date_jalali: 1402-02-31
published: true
kind: webinar
url: https://example.org/webinar
unknown_key: ignored
---
# مقدمه

روابط عمومی یعنی ساختن اعتماد.
"""


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_bytes(data.encode("utf-8"))  # write_text would translate newlines on Windows
    else:
        path.write_bytes(data)
    return path


def _minimal_pdf(sentence: str) -> bytes:
    """A one-page PDF with Helvetica text, byte offsets in the xref computed for real."""
    stream = f"BT /F1 18 Tf 72 720 Td ({sentence}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# --------------------------------------------------------------------------- text formats


def test_markdown_front_matter(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    path = _write(root / "000_trust_building_webinar.md", FRONT_MATTER_MD)
    doc = load_file(path, root)

    assert doc.doc_id == "000_trust_building_webinar.md"
    assert doc.source == "corpus/000_trust_building_webinar.md"
    assert doc.text == path.read_bytes().decode("utf-8")
    assert doc.text[doc.body_start :] == "# مقدمه\n\nروابط عمومی یعنی ساختن اعتماد.\n"
    assert doc.body == doc.text[doc.body_start :]
    assert doc.title == "اعتمادسازی در روابط عمومی"
    assert doc.speaker == "دکتر نمونه"
    assert doc.speaker_role == "استاد ارتباطات"
    assert doc.date == "2023-05-01"
    # 1402-02-31 is a valid Jalali date but not a Gregorian one: plain safe_load would raise.
    assert doc.date_jalali == "1402-02-31"
    assert doc.published == "true"
    assert doc.kind == "webinar"
    assert doc.url == "https://example.org/webinar"
    assert doc.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "unknown_key" not in doc.meta()


def test_markdown_title_falls_back_to_first_body_line(tmp_path: Path) -> None:
    long_line = "ا" * 200
    a = _write(tmp_path / "a.md", "---\nspeaker: کسی\n---\n\n\n## عنوان از متن  \n\nبدنه\n")
    b = _write(tmp_path / "b.txt", f"\n  {long_line}\nدوم\n")
    c = _write(tmp_path / "c.md", "بدون سربرگ\nخط دوم\n")

    assert load_file(a, tmp_path).title == "عنوان از متن"
    assert load_file(b, tmp_path).title == "ا" * 120
    doc_c = load_file(c, tmp_path)
    assert doc_c.title == "بدون سربرگ"
    assert doc_c.body_start == 0


def test_txt_kept_verbatim_without_normalization(tmp_path: Path) -> None:
    # Arabic yeh/kaf (ي ك), ZWNJ in «می‌شود», CRLF and trailing spaces must all survive.
    text = "روابط عمومي در كشور\r\nاین کار انجام می\u200cشود.  \r\n\r\n"
    path = _write(tmp_path / "arabic.txt", text)
    doc = load_file(path, tmp_path)
    assert doc.text == text
    assert "ي" in doc.text and "ك" in doc.text and "\u200c" in doc.text
    assert doc.body_start == 0
    assert doc.title == "روابط عمومي در كشور"


def test_utf8_bom_is_stripped_from_text_but_hashed(tmp_path: Path) -> None:
    raw = "\ufeff---\ntitle: با BOM\n---\nمتن\n".encode()
    path = _write(tmp_path / "bom.md", raw)
    doc = load_file(path, tmp_path)
    assert not doc.text.startswith("\ufeff")
    assert doc.title == "با BOM"
    assert doc.body == "متن\n"
    assert doc.content_hash == hashlib.sha256(raw).hexdigest()


def test_crlf_front_matter_offset_points_into_verbatim_text(tmp_path: Path) -> None:
    text = "---\r\ntitle: ویندوز\r\ndate: 2024-01-02 10:30:00\r\n---\r\nبدنه\r\n"
    doc = load_file(_write(tmp_path / "crlf.md", text), tmp_path)
    assert doc.text == text
    assert doc.body == "بدنه\r\n"
    assert doc.date == "2024-01-02T10:30:00"


def test_nested_doc_id_is_posix_relative(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    path = _write(root / "sub" / "deeper" / "note.txt", "سلام")
    doc = load_file(path, root)
    assert doc.doc_id == "sub/deeper/note.txt"
    assert doc.source == "corpus/sub/deeper/note.txt"
    assert load_file(path, root) == doc  # stable across runs


# --------------------------------------------------------------------------- binary formats


def test_docx_persian_paragraphs(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("روابط عمومی پل ارتباطی سازمان و مردم است.")
    document.add_paragraph("")
    document.add_paragraph("اعتماد با صداقت ساخته می\u200cشود.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "ستون یک"
    table.rows[0].cells[1].text = "ستون دو"
    path = tmp_path / "lecture.docx"
    document.save(str(path))

    doc = load_file(path, tmp_path)
    assert doc.text == (
        "روابط عمومی پل ارتباطی سازمان و مردم است.\n\nاعتماد با صداقت ساخته می\u200cشود.\n\nستون یک | ستون دو"
    )
    assert doc.body_start == 0
    assert doc.title == "روابط عمومی پل ارتباطی سازمان و مردم است."
    assert doc.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_docx_core_title_is_used(tmp_path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = "عنوان سند"
    document.add_paragraph("متن")
    path = tmp_path / "titled.docx"
    document.save(str(path))
    assert load_file(path, tmp_path).title == "عنوان سند"


def test_html_drops_script_and_reads_title(tmp_path: Path) -> None:
    html = """<!doctype html>
<html><head><meta charset="utf-8"><title> صفحهٔ
  آموزشی </title><style>p { color: red }</style></head>
<body>
  <script>var secret = "نباید دیده شود";</script>
  <!-- یادداشت پنهان -->
  <h1>روابط   عمومی</h1>
  <p>بند اول
     ادامهٔ بند اول</p><p>بند دوم<br>خط بعد</p>
  <div></div><div></div><div></div>
  <ul><li>یک</li><li>دو</li></ul>
</body></html>"""
    path = _write(tmp_path / "page.html", html)
    doc = load_file(path, tmp_path)
    assert doc.title == "صفحهٔ آموزشی"
    assert "secret" not in doc.text and "نباید" not in doc.text
    assert "color" not in doc.text and "یادداشت" not in doc.text
    assert doc.text == "روابط عمومی\n\nبند اول ادامهٔ بند اول\n\nبند دوم\nخط بعد\n\nیک\n\nدو"
    assert "\n\n\n" not in doc.text
    assert doc.body_start == 0


def test_htm_without_title_uses_first_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.htm", "<p>فقط یک بند</p>")
    doc = load_file(path, tmp_path)
    assert doc.text == "فقط یک بند"
    assert doc.title == "فقط یک بند"


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    path = _write(tmp_path / "talk.pdf", _minimal_pdf("Trust is built one honest answer at a time."))
    assert PdfReader(str(path)).pages  # the fixture itself is a valid PDF
    doc = load_file(path, tmp_path)
    assert "Trust is built one honest answer at a time." in doc.text
    assert doc.title == "Trust is built one honest answer at a time."
    assert doc.body_start == 0


def test_pdf_with_password_is_rejected(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_minimal_pdf("secret text"))))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    path = _write(tmp_path / "locked.pdf", buffer.getvalue())
    with pytest.raises(LoadError, match="encrypted"):
        load_file(path, tmp_path)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b" \n\t\r\n", "no text"),
        ("only_front_matter.md", b"---\ntitle: x\n---\n\n", "no text"),
        ("latin1.txt", "café روابط".encode()[:-1] + b"\xe9\xff", "UTF-8"),
        ("bad.md", b"---\ntitle: [unclosed\n---\nbody\n", "front matter"),
        ("list_title.md", b"---\ntitle: [a, b]\n---\nbody\n", "scalar"),
        ("not_mapping.md", b"---\n- a\n- b\n---\nbody\n", "mapping"),
        ("unclosed.md", b"---\ntitle: x\nbody\n", "not closed"),
        ("sheet.xlsx", b"PK\x03\x04 whatever", "unsupported"),
        ("corrupt.pdf", bytes(range(256)) * 8, "PDF"),
        ("corrupt.docx", b"PK\x03\x04 not really a zip", "DOCX"),
        ("old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "encrypted"),
    ],
)
def test_load_file_errors_are_bilingual(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = _write(tmp_path / name, data)
    with pytest.raises(LoadError, match=reason) as info:
        load_file(path, tmp_path)
    persian, english = str(info.value).split(" / ", 1)
    assert any("\u0600" <= ch <= "\u06ff" for ch in persian)
    assert english.isascii() or reason in english


def test_empty_message_text(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"^فایل متنی ندارد / file has no text$"):
        load_file(_write(tmp_path / "blank.md", "  \n"), tmp_path)


def test_too_large_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load_module, "MAX_BYTES", 10)
    with pytest.raises(LoadError, match="larger than"):
        load_file(_write(tmp_path / "big.txt", "x" * 11), tmp_path)


def test_file_outside_root(tmp_path: Path) -> None:
    path = _write(tmp_path / "elsewhere" / "a.txt", "متن")
    with pytest.raises(LoadError):
        load_file(path, tmp_path / "corpus")


def test_supported_extensions() -> None:
    assert SUPPORTED == (".md", ".txt", ".pdf", ".docx", ".pptx", ".html", ".htm", ".srt", ".vtt")


# --------------------------------------------------------------------------- corpus


def test_load_corpus_keeps_good_files_and_reports_bad_ones(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    _write(root / "README.md", "# درباره‌ی این پوشه\n")
    _write(root / ".hidden.md", "پنهان")
    _write(root / ".git" / "config.md", "پنهان")
    _write(root / "000_trust.md", FRONT_MATTER_MD)
    _write(root / "010_notes.txt", "یادداشت كوتاه")
    _write(root / "sub" / "README.md", "این README در زیرپوشه است و بارگذاری می‌شود")
    _write(root / "sub" / "talk.pdf", _minimal_pdf("Public relations is a two way street."))
    _write(root / "sub" / "page.htm", "<title>صفحه</title><p>متن صفحه</p>")
    document = docx.Document()
    document.add_paragraph("سند ورد")
    document.save(str(root / "020_word.docx"))

    _write(root / "bad" / "corrupt.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 4)
    _write(root / "bad" / "empty.txt", b"")
    _write(root / "bad" / "invalid_utf8.txt", b"\xff\xfe\xfa bad bytes")
    _write(root / "bad" / "table.xlsx", b"PK\x03\x04")
    _write(root / "bad" / "front.md", "---\ntitle: [oops\n---\nbody\n")

    documents, skipped = load_corpus(root)

    assert [d.doc_id for d in documents] == [
        "000_trust.md",
        "010_notes.txt",
        "020_word.docx",
        "sub/README.md",
        "sub/page.htm",
        "sub/talk.pdf",
    ]
    assert all(d.source == f"corpus/{d.doc_id}" for d in documents)
    by_id = {d.doc_id: d for d in documents}
    assert by_id["000_trust.md"].speaker == "دکتر نمونه"
    assert by_id["010_notes.txt"].text == "یادداشت كوتاه"
    assert by_id["020_word.docx"].text == "سند ورد"
    assert by_id["sub/page.htm"].title == "صفحه"
    assert "two way street" in by_id["sub/talk.pdf"].text

    reasons = {s.path: s.reason for s in skipped}
    assert list(reasons) == [
        "bad/corrupt.pdf",
        "bad/empty.txt",
        "bad/front.md",
        "bad/invalid_utf8.txt",
        "bad/table.xlsx",
    ]
    assert "PDF" in reasons["bad/corrupt.pdf"]
    assert "empty" in reasons["bad/empty.txt"]
    assert "front matter" in reasons["bad/front.md"]
    assert "UTF-8" in reasons["bad/invalid_utf8.txt"]
    assert "unsupported" in reasons["bad/table.xlsx"]
    assert all(" / " in reason for reason in reasons.values())

    again, skipped_again = load_corpus(root)
    assert again == documents and skipped_again == skipped


def test_load_corpus_empty_and_missing(tmp_path: Path) -> None:
    assert load_corpus(tmp_path) == ([], [])
    with pytest.raises(LoadError):
        load_corpus(tmp_path / "missing")
