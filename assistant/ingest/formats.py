"""Readers for the extracted formats: PDF, DOCX, PPTX, HTML and subtitles (.srt/.vtt).

Each takes the file's bytes and the parse limits and returns ``Parsed``;
anything unusable raises ``LoadError`` ("فارسی / English").  Zip-based
formats are measured before their parser opens them (``parse_limits.check_zip``).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import LoadError
from ..core.records import Segment
from . import ooxml
from .charset import decode
from .parse_limits import ParseLimits, check_zip
from .transcript import load_transcript

_HTML_DROP = ("script", "style", "noscript", "template", "head", "title")
_HTML_BLOCKS = frozenset(
    (
        "address", "article", "aside", "blockquote", "caption", "dd", "details", "dialog", "div", "dl",
        "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody",
        "td", "tfoot", "th", "thead", "tr", "ul",
    )
)  # fmt: skip


@dataclass
class Parsed:
    """What a format reader hands back: the text, where the body starts, metadata, segments."""

    text: str
    body_start: int = 0
    meta: dict[str, str] = field(default_factory=dict)
    segments: tuple[Segment, ...] = ()
    warnings: tuple[str, ...] = ()  # read, but not all of it (e.g. transcript cues left out)


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def _titled(text: str, title: str, segments: tuple[Segment, ...] = ()) -> Parsed:
    return Parsed(text, 0, {"title": title} if title else {}, segments)


# --------------------------------------------------------------------------- PDF


def _load_pdf(raw: bytes, limits: ParseLimits) -> Parsed:
    """PDF via pypdf; pages joined by a blank line.  Encrypted files need their password."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            # Many "protected" PDFs use an empty user password and open anyway.
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError) as exc:
                raise LoadError.of("PDF رمزگذاری شده است", f"PDF is encrypted: {one_line(exc)}") from exc
            if not opened:
                raise LoadError.of(
                    "PDF رمزگذاری شده و رمز لازم دارد", "PDF is encrypted and needs a password"
                )
        pages = _pdf_pages(reader, limits)
        title = ""
        try:
            if reader.metadata is not None and reader.metadata.title:
                title = str(reader.metadata.title).strip()
        except Exception:  # metadata is optional; a broken info dict must not lose the text
            title = ""
    except LoadError:
        raise
    except FileNotDecryptedError as exc:
        raise LoadError.of("PDF رمزگذاری شده است", f"PDF is encrypted: {one_line(exc)}") from exc
    except MemoryError:  # the isolated parser reports it as such
        raise
    except Exception as exc:  # pypdf raises many exception types on damaged files
        raise LoadError.of(
            "PDF خراب است یا خوانده نشد", f"corrupt or unreadable PDF: {one_line(exc)}"
        ) from exc
    return _titled("\n\n".join(pages), title)


def _pdf_pages(reader: Any, limits: ParseLimits) -> list[str]:
    """Page texts, refusing a PDF with too many pages or too much text before extracting it all."""
    count = len(reader.pages)
    if count > limits.max_pdf_pages:
        raise LoadError.of(
            f"رد شد: PDF {count} صفحه دارد (حد {limits.max_pdf_pages})",
            f"rejected: PDF has {count} pages (limit {limits.max_pdf_pages})",
        )
    pages: list[str] = []
    total = 0
    for page in reader.pages:
        pages.append(page.extract_text() or "")
        total += len(pages[-1])
        too_long(total, limits)
    return pages


def too_long(chars: int, limits: ParseLimits) -> None:
    if chars > limits.max_chars:
        raise LoadError.of(
            f"رد شد: متن فایل بیش از {limits.max_chars:,} نویسه است",
            f"rejected: more than {limits.max_chars:,} characters of text",
        )


# --------------------------------------------------------------------------- DOCX


def _load_docx(raw: bytes, limits: ParseLimits) -> Parsed:
    """DOCX, streamed (``ooxml``): paragraphs and table rows in order, joined by a blank line."""
    if raw.startswith(b"\xd0\xcf\x11\xe0"):  # OLE container: password-protected .docx or old .doc
        raise LoadError.of(
            "DOCX رمزگذاری شده است یا در قالب قدیمی .doc است",
            "DOCX is encrypted or is a legacy .doc file",
        )
    check_zip(raw, "DOCX", limits)
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            blocks = ooxml.docx_blocks(archive, limits)
            title = ooxml.core_title(archive)
    except (LoadError, MemoryError):  # ours say why; the isolated parser reports memory as such
        raise
    except Exception as exc:  # BadZipFile, a bad CRC, lxml syntax errors... all mean "damaged"
        raise LoadError.of(
            "DOCX خراب است یا خوانده نشد", f"corrupt or unreadable DOCX: {one_line(exc)}"
        ) from exc
    return _titled("\n\n".join(blocks), title)


def _table_rows(table: Any) -> list[str]:
    """One line per row, cells joined by " | "; merged cells (repeated objects) counted once."""
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            if cell.text.strip():
                cells.append(cell.text.strip())
        if cells:
            rows.append(" | ".join(cells))
    return rows


# --------------------------------------------------------------------------- PPTX


def _load_pptx(raw: bytes, limits: ParseLimits) -> Parsed:
    """PPTX via python-pptx: each slide's title, text boxes, tables and notes; a segment per slide."""
    from pptx import Presentation

    check_zip(raw, "PPTX", limits)
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            ooxml.count_xml_tags(archive, "PPTX", limits)  # python-pptx then builds a bounded tree
        deck = Presentation(io.BytesIO(raw))
        slides = [_slide_lines(slide) for slide in deck.slides]
        title = (deck.core_properties.title or "").strip()
    except (LoadError, MemoryError):  # ours say why; the isolated parser reports memory as such
        raise
    except Exception as exc:
        raise LoadError.of(
            "PPTX خراب است یا خوانده نشد", f"corrupt or unreadable PPTX: {one_line(exc)}"
        ) from exc
    parts: list[str] = []
    segments: list[Segment] = []
    pos = 0
    for number, lines in enumerate(slides, 1):
        if not lines:
            continue
        if parts:
            pos += 2  # the blank line between slides
        text = "\n".join(lines)
        parts.append(text)
        segments.append(Segment(pos, pos + len(text), slide=number))
        pos += len(text)
    return _titled("\n\n".join(parts), title, tuple(segments))


def _slide_lines(slide: Any) -> list[str]:
    """The visible text of one slide, the title first, then its notes."""
    title = slide.shapes.title
    lines = _shape_lines(title) if title is not None else []
    for shape in slide.shapes:
        if title is None or shape.shape_id != title.shape_id:
            lines.extend(_shape_lines(shape))
    if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
        lines.extend(_paragraphs(slide.notes_slide.notes_text_frame))
    return lines


def _shape_lines(shape: Any) -> list[str]:
    if getattr(shape, "shapes", None) is not None:  # a group: its members in order
        return [line for member in shape.shapes for line in _shape_lines(member)]
    if getattr(shape, "has_table", False) and shape.has_table:
        return _table_rows(shape.table)
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        return _paragraphs(shape.text_frame)
    return []


def _paragraphs(frame: Any) -> list[str]:
    lines = (" ".join(p.text.replace("\v", " ").split()) for p in frame.paragraphs)
    return [line for line in lines if line]


# --------------------------------------------------------------------------- HTML


def _load_html(raw: bytes, limits: ParseLimits) -> Parsed:
    """HTML via BeautifulSoup ("html.parser"): visible text, one block element per line.

    The bytes are decoded by ``charset.decode`` first: BeautifulSoup's own guess
    turns UTF-8 with one stray byte into Windows-1252 mojibake.
    """
    from bs4 import BeautifulSoup, Comment, NavigableString

    markup = decode(raw, html=True).text
    try:
        soup = BeautifulSoup(markup, "html.parser")
    except MemoryError:  # the isolated parser reports it as such
        raise
    except Exception as exc:
        raise LoadError.of("HTML خوانده نشد", f"unreadable HTML: {one_line(exc)}") from exc
    title_tag = soup.find("title")
    title = " ".join(title_tag.get_text().split()) if title_tag is not None else ""
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(list(_HTML_DROP)):
        if not tag.decomposed:  # <title> inside an already dropped <head>
            tag.decompose()
    # HTML whitespace (space, tab, newline) is insignificant outside <pre>: collapse it first,
    # so that the only newlines left are the ones marking block boundaries.
    for string in soup.find_all(string=True):
        if type(string) is NavigableString and string.find_parent("pre") is None:
            string.replace_with(re.sub(r"[ \t\n\r\f]+", " ", str(string)))
    for tag in soup.find_all("br"):
        tag.replace_with("\n")
    for tag in soup.find_all(_HTML_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = soup.get_text()
    lines = [line.strip(" \t\r\f") for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return _titled(text, title)


# --------------------------------------------------------------------------- subtitles


def _load_srt(raw: bytes, limits: ParseLimits) -> Parsed:
    text, segments, warnings = load_transcript(decode(raw).text, "SRT")
    return Parsed(text, 0, {}, segments, warnings)


def _load_vtt(raw: bytes, limits: ParseLimits) -> Parsed:
    text, segments, warnings = load_transcript(decode(raw).text, "VTT")
    return Parsed(text, 0, {}, segments, warnings)


READERS: dict[str, Callable[[bytes, ParseLimits], Parsed]] = {
    ".pdf": _load_pdf,
    ".docx": _load_docx,
    ".pptx": _load_pptx,
    ".html": _load_html,
    ".htm": _load_html,
    ".srt": _load_srt,
    ".vtt": _load_vtt,
}
