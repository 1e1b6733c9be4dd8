"""Hostile and messy files: zip bombs, slow parses, odd charsets, name clashes on upload.

The bomb and time-limit tests run real child processes; memory is measured
in a fresh interpreter (a stand-in for the server) so that earlier tests'
children cannot blur the peak.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter

from assistant.core.settings import Settings
from assistant.ingest.isolate import load_file_isolated
from assistant.ingest.load import LoadError, load_corpus, load_file
from assistant.ingest.parse_limits import ParseLimits
from assistant.ingest.upload import SavedUpload, UploadConflict, UploadRejected, same_bytes, save_upload

ROOT = Path(__file__).resolve().parent.parent
FA = (
    "روابط عمومی پل ارتباطی سازمان و مردم است. "
    "اعتماد با صداقت ساخته می‌شود و هر پاسخ صادقانه آن را قوی‌تر می‌کند.\n"
)

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    b"</Types>"
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Target="word/document.xml" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    b"</Relationships>"
)
_W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def bomb_docx(path: Path, megabytes: int) -> Path:
    """A valid .docx whose document.xml expands to ``megabytes`` MB; written streaming (~1 MB at a time)."""
    paragraph = b"<w:p><w:r><w:t>" + "روابط عمومی ".encode() * 40 + b"</w:t></w:r></w:p>"
    count = 1024 * 1024 // len(paragraph)
    block = paragraph * count + b" " * (1024 * 1024 - count * len(paragraph))  # exactly 1 MiB
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(b'<?xml version="1.0" encoding="UTF-8"?><w:document ' + _W + b"><w:body>")
            for _ in range(megabytes):
                member.write(block)
            member.write(b"</w:body></w:document>")
    return path


def _measure(path: Path, limits: ParseLimits) -> dict:
    """Parse ``path`` isolated from a fresh interpreter; its outcome, time and peak RSS (self and child)."""
    script = f"""
import json, resource, sys, time
from pathlib import Path
from assistant.ingest.isolate import load_file_isolated
from assistant.ingest.parse_limits import ParseLimits
started = time.perf_counter()
try:
    load_file_isolated(Path({str(path)!r}), Path({str(path.parent)!r}), ParseLimits(**{limits.to_dict()!r}))
    outcome = "loaded"
except Exception as exc:
    outcome = f"{{type(exc).__name__}}: {{exc}}"
print(json.dumps({{
    "outcome": outcome,
    "seconds": time.perf_counter() - started,
    # VmHWM: this program's own peak (ru_maxrss would count the big pytest process it was forked from)
    "self_mb": int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]) / 1024,
    "child_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}}))
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout)


# --------------------------------------------------------------------------- zip bombs


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    path = bomb_docx(tmp_path_factory.mktemp("bomb") / "lecture.docx", 200)
    with zipfile.ZipFile(path) as archive:
        assert sum(m.file_size for m in archive.infolist()) >= 200 * 1024 * 1024
    assert path.stat().st_size < 5 * 1024 * 1024
    return path


def test_docx_bomb_is_rejected_with_little_memory(bomb: Path) -> None:
    result = _measure(bomb, ParseLimits())
    assert result["outcome"].startswith("LoadError: رد شد")
    assert "rejected: DOCX expands to 200 MB" in result["outcome"]
    assert result["self_mb"] < 1024 and result["child_mb"] < 1024


def test_memory_limit_stops_a_bomb_the_checks_let_through(bomb: Path) -> None:
    """With the zip checks and the streaming caps switched off, the child's RLIMIT_AS is what stops it."""
    off = 10**12
    unchecked = ParseLimits(
        max_unpacked_mb=10_000, max_ratio=1e9, max_chars=off, max_tags=off, max_blocks=off, memory_mb=400
    )
    result = _measure(bomb, unchecked)
    assert "parsing needed more than 400 MB of memory" in result["outcome"]
    assert result["self_mb"] < 1024 and result["child_mb"] < 1024


def test_zip_checks_in_process(tmp_path: Path) -> None:
    small = bomb_docx(tmp_path / "small.docx", 3)  # 3 MB of XML at ~200x compression
    with pytest.raises(LoadError, match=r"part word/document.xml expands to 3 MB \(\d+x compression"):
        load_file(small, tmp_path)
    with pytest.raises(LoadError, match="expands to 3 MB"):
        load_file(small, tmp_path, ParseLimits(max_unpacked_mb=2, max_ratio=1e9))
    assert "روابط عمومی" in load_file(small, tmp_path, ParseLimits(max_ratio=1e9)).text
    with pytest.raises(LoadError, match="has 3 parts"):
        load_file(small, tmp_path, ParseLimits(max_members=2))


def _patch_sizes(raw: bytes, name: bytes, size: int) -> bytes:
    """Make both the local and the central header of member ``name`` claim ``size`` bytes uncompressed."""
    out = bytearray(raw)
    at = out.find(b"PK\x03\x04" + b"")
    while at != -1:
        if out[at + 30 : at + 30 + len(name)] == name:
            out[at + 22 : at + 26] = struct.pack("<I", size)
        at = out.find(b"PK\x03\x04", at + 4)
    at = out.find(b"PK\x01\x02")
    while at != -1:
        if out[at + 46 : at + 46 + len(name)] == name:
            out[at + 24 : at + 28] = struct.pack("<I", size)
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)


def test_a_header_that_understates_the_size_reads_as_corrupt(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph(FA * 200)
    path = tmp_path / "liar.docx"
    document.save(str(path))
    path.write_bytes(_patch_sizes(path.read_bytes(), b"word/document.xml", 1000))
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("word/document.xml").file_size == 1000
    with pytest.raises(LoadError, match="corrupt or unreadable DOCX"):
        load_file(path, tmp_path)  # zipfile stops at the declared size and fails the CRC


def test_pdf_page_and_text_caps(tmp_path: Path) -> None:
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(200, 200)
    path = tmp_path / "pages.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    with pytest.raises(LoadError, match=r"rejected: PDF has 3 pages \(limit 2\)"):
        load_file(path, tmp_path, ParseLimits(max_pdf_pages=2))
    text = tmp_path / "long.txt"
    text.write_text(FA * 10, encoding="utf-8")
    with pytest.raises(LoadError, match="more than 100 characters"):
        load_file(text, tmp_path, ParseLimits(max_chars=100))


# --------------------------------------------------------------------------- isolation


def test_isolated_load_returns_the_same_document(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text("---\ntitle: یادداشت\nrecording_url: https://e.org/a.mp3\n---\n" + FA, encoding="utf-8")
    assert load_file_isolated(path, tmp_path) == load_file(path, tmp_path)
    with pytest.raises(LoadError, match="file is empty"):
        (tmp_path / "empty.txt").write_bytes(b"")
        load_file_isolated(tmp_path / "empty.txt", tmp_path)


def test_a_parse_over_the_time_limit_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "huge.html"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("<html><body>")
        for _ in range(20_000):
            fh.write("<div><p><b>روابط</b> <i>عمومی</i> <span>و اعتماد</span></p></div>\n" * 5)
        fh.write("</body></html>")
    with pytest.raises(LoadError, match=r"rejected: parsing took longer than 1 s") as info:
        load_file_isolated(path, tmp_path, ParseLimits(seconds=1))
    assert info.value.args[0].startswith("رد شد")


# --------------------------------------------------------------------------- charsets


def test_persian_cp1256_text_is_detected(tmp_path: Path) -> None:
    text = FA.replace("ی", "ي").replace("ک", "ك") * 2  # Windows-1256 has the Arabic yeh and kaf
    path = tmp_path / "old.txt"
    path.write_bytes(text.encode("cp1256"))
    assert load_file(path, tmp_path).text == text  # not the Cyrillic cp1251 the detector alone picks


def test_html_without_charset_and_a_stray_byte_is_not_mojibake(tmp_path: Path) -> None:
    html = f"<html><head><title>آموزش</title></head><body><p>{FA * 3}</p></body></html>".encode()
    path = tmp_path / "page.html"
    path.write_bytes(html.replace("مردم".encode(), "مردم".encode() + b"\xa0", 1))
    doc = load_file(path, tmp_path)
    assert doc.title == "آموزش"
    assert doc.text.count("روابط عمومی پل ارتباطی") == 3
    assert doc.text.count("\ufffd") == 1  # the stray byte, shown as such
    assert not any("\u0400" <= ch <= "\u04ff" or ch in "ØÙÛ" for ch in doc.text)


def test_html_declared_charset_is_used(tmp_path: Path) -> None:
    text = FA.replace("ی", "ي").replace("ک", "ك").strip()
    path = tmp_path / "legacy.htm"
    path.write_bytes(f'<meta charset="windows-1256"><p>{text}</p>'.encode("cp1256"))
    assert load_file(path, tmp_path).text == text


def test_undecodable_text_is_rejected_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "noise.txt"
    path.write_bytes(bytes(range(128, 256)) * 4)
    with pytest.raises(LoadError, match=r"not valid UTF-8 \(byte 0\) and no other encoding fits"):
        load_file(path, tmp_path)
    path.write_bytes(b"\xff\xfe" + "سلام!".encode())  # a UTF-16 mark on an odd number of bytes
    with pytest.raises(LoadError, match="byte-order mark"):
        load_file(path, tmp_path)


# --------------------------------------------------------------------------- uploads


@pytest.fixture
def upload_settings(tmp_path: Path) -> Settings:
    return Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", home=tmp_path / "home")


def _source(tmp_path: Path, text: str) -> Path:
    path = tmp_path / f"upload-{abs(hash(text))}.bin"
    path.write_text(text, encoding="utf-8")
    return path


def test_upload_name_conflicts(tmp_path: Path, upload_settings: Settings) -> None:
    corpus = upload_settings.corpus_dir
    first, second, third, fourth = (_source(tmp_path, f"# نسخهٔ {n}\n\n{FA}") for n in (1, 2, 3, 4))

    assert save_upload(first, "جلسه.md", upload_settings) == SavedUpload("جلسه.md")
    assert save_upload(first, "جلسه.md", upload_settings) == SavedUpload("جلسه.md", unchanged=True)
    kept = save_upload(second, "جلسه.md", upload_settings)  # the default keeps both
    assert kept == SavedUpload("جلسه (2).md", renamed_from="جلسه.md")
    assert save_upload(third, "جلسه.md", upload_settings).name == "جلسه (3).md"
    assert (corpus / "جلسه.md").read_bytes() == first.read_bytes()

    with pytest.raises(UploadConflict) as info:
        save_upload(fourth, "جلسه.md", upload_settings, on_conflict="ask")
    assert info.value.existing == "جلسه.md"
    assert " / " in str(info.value) and "replace it or keep both" in str(info.value)
    assert (corpus / "جلسه.md").read_bytes() == first.read_bytes()

    replaced = save_upload(fourth, "جلسه.md", upload_settings, on_conflict="replace")
    assert replaced == SavedUpload("جلسه.md", replaced=True)
    assert (corpus / "جلسه.md").read_bytes() == fourth.read_bytes()
    assert sorted(p.name for p in corpus.iterdir()) == ["جلسه (2).md", "جلسه (3).md", "جلسه.md"]


def test_the_same_bytes_are_not_stored_twice_under_any_name(
    tmp_path: Path, upload_settings: Settings
) -> None:
    """Identical bytes are recognised by their hash (sizes first): `dup (2).md` is never made."""
    text = f"# یک سند\n\n{FA}"
    (upload_settings.corpus_dir / "old").mkdir(parents=True)
    (upload_settings.corpus_dir / "old" / "lecture.md").write_text(text, encoding="utf-8")
    (upload_settings.corpus_dir / "other.md").write_text(text + "!", encoding="utf-8")  # one byte more
    source = _source(tmp_path, text)
    for name, mode in (("dup.md", "keep_both"), ("dup.md", "keep_both"), ("other.md", "replace")):
        assert save_upload(source, name, upload_settings, on_conflict=mode) == SavedUpload(
            "old/lecture.md", unchanged=True
        )
    assert sorted(p.name for p in upload_settings.corpus_dir.rglob("*.md")) == ["lecture.md", "other.md"]
    assert (upload_settings.corpus_dir / "other.md").read_text(encoding="utf-8").endswith("!")
    assert same_bytes(source, upload_settings.corpus_dir) == "old/lecture.md"
    assert same_bytes(_source(tmp_path, text + "?"), upload_settings.corpus_dir) is None


def test_upload_of_a_bomb_is_rejected_and_leaves_nothing(tmp_path: Path, upload_settings: Settings) -> None:
    bomb = bomb_docx(tmp_path / "x.docx", 150)
    with pytest.raises(UploadRejected, match="rejected: DOCX expands to 150 MB"):
        save_upload(bomb, "lecture.docx", upload_settings)
    assert list(upload_settings.corpus_dir.iterdir()) == []


def test_an_isolated_corpus_load_skips_the_bomb_and_keeps_the_rest(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text(FA, encoding="utf-8")
    bomb_docx(tmp_path / "bomb.docx", 120)
    documents, skipped = load_corpus(tmp_path, load=load_file_isolated)
    assert [d.doc_id for d in documents] == ["good.md"]
    assert documents == load_corpus(tmp_path)[0]
    assert [s.path for s in skipped] == ["bomb.docx"]
    assert "rejected: DOCX expands to 120 MB" in skipped[0].reason
