"""Read corpus files into ``Document`` records: the first stage of the pipeline.

Text formats (.md/.txt) are kept verbatim so that every later offset (chunks,
citations) points at the exact characters of the file; nothing is normalized
here.  PDF, DOCX and HTML are reduced to their extracted text.  A file that
cannot be used raises ``LoadError`` whose message is Persian first, then
English, because maintainers of the corpus read it in the build report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from .errors import AssistantError
from .schema import Document, SkippedFile

SUPPORTED = (".md", ".txt", ".pdf", ".docx", ".html", ".htm")
MAX_BYTES = 50 * 1024 * 1024
TITLE_MAX_CHARS = 120

#: Front-matter keys copied onto the Document; anything else is ignored.
META_FIELDS = ("title", "speaker", "speaker_role", "date", "date_jalali", "published", "kind", "url", "note")

# ``---`` on the first line, YAML, then ``---`` on a line of its own.  CRLF is accepted
# so that files saved on Windows still work; offsets are taken on the verbatim text.
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*(?:\r?\n|\Z)", re.DOTALL | re.MULTILINE)
_FRONT_MATTER_OPEN = re.compile(r"\A---[ \t]*\r?\n")
_MD_HEADING = re.compile(r"^#{1,6}\s+")

_HTML_DROP = ("script", "style", "noscript", "template", "head", "title")
_HTML_BLOCKS = frozenset(
    (
        "address", "article", "aside", "blockquote", "caption", "dd", "details", "dialog", "div", "dl",
        "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody",
        "td", "tfoot", "th", "thead", "tr", "ul",
    )
)  # fmt: skip


class LoadError(AssistantError):
    """A file that cannot become a Document; the message is "فارسی / English"."""


def _error(fa: str, en: str) -> LoadError:
    return LoadError(f"{fa} / {en}")


# --------------------------------------------------------------------------- YAML


class _FrontMatterLoader(yaml.SafeLoader):
    """``yaml.safe_load``'s loader with one change: an invalid Gregorian date stays a string.

    Plain ``safe_load`` raises on ``date_jalali: 1402-02-31`` (a valid Jalali date,
    but February has no 31st), which would drop a good file from the corpus.
    Only a constructor is added; no Python objects can be built, so it stays safe.
    """


def _lenient_timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)  # type: ignore[arg-type]


_FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", _lenient_timestamp)


def _meta_value(key: str, value: Any) -> str:
    """Front-matter scalar → the string stored on the Document (dates as ISO)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):  # datetime is a date too
        return value.isoformat()
    if isinstance(value, str | int | float):
        return str(value).strip()
    raise _error(
        f"مقدار «{key}» در سربرگ YAML باید یک مقدار ساده باشد",
        f"front matter key '{key}' must be a scalar, got {type(value).__name__}",
    )


def _split_front_matter(text: str) -> tuple[dict[str, str], int]:
    """Return (known metadata, body_start) for text that may open with a YAML block."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        if _FRONT_MATTER_OPEN.match(text):
            raise _error("سربرگ YAML بسته نشده است", "front matter is not closed with '---'")
        return {}, 0
    try:
        data = yaml.load(match.group(1), Loader=_FrontMatterLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise _error("سربرگ YAML نامعتبر است", f"malformed front matter: {_yaml_problem(exc)}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _error("سربرگ YAML باید جفت‌های کلید و مقدار باشد", "front matter must be a mapping")
    meta: dict[str, str] = {}
    for key, value in data.items():
        name = str(key).strip().lower()
        if name in META_FIELDS:
            meta[name] = _meta_value(name, value)
    return meta, match.end()


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """The YAML error on one line, with the line number counted in the file (not the block)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is not None and problem:
        return f"{problem} (line {mark.line + 2})"  # +1 for 0-based, +1 for the opening '---'
    return _one_line(exc)


# --------------------------------------------------------------------------- formats


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def _load_text(raw: bytes, suffix: str) -> tuple[str, int, dict[str, str]]:
    """.md/.txt: verbatim UTF-8 (BOM removed) plus optional front matter."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _error(
            "فایل با UTF-8 خوانده نشد",
            f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8",
        ) from exc
    meta, body_start = _split_front_matter(text)
    return text, body_start, meta


def _load_pdf(raw: bytes, suffix: str) -> tuple[str, int, dict[str, str]]:
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
                raise _error("PDF رمزگذاری شده است", f"PDF is encrypted: {_one_line(exc)}") from exc
            if not opened:
                raise _error("PDF رمزگذاری شده و رمز لازم دارد", "PDF is encrypted and needs a password")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = ""
        try:
            if reader.metadata is not None and reader.metadata.title:
                title = str(reader.metadata.title).strip()
        except Exception:  # metadata is optional; a broken info dict must not lose the text
            title = ""
    except LoadError:
        raise
    except FileNotDecryptedError as exc:
        raise _error("PDF رمزگذاری شده است", f"PDF is encrypted: {_one_line(exc)}") from exc
    except Exception as exc:  # pypdf raises many exception types on damaged files
        raise _error("PDF خراب است یا خوانده نشد", f"corrupt or unreadable PDF: {_one_line(exc)}") from exc
    return "\n\n".join(pages), 0, {"title": title} if title else {}


def _load_docx(raw: bytes, suffix: str) -> tuple[str, int, dict[str, str]]:
    """DOCX via python-docx: paragraphs (and table rows) in order, joined by a blank line."""
    import docx
    from docx.table import Table

    if raw.startswith(b"\xd0\xcf\x11\xe0"):  # OLE container: password-protected .docx or old .doc
        raise _error(
            "DOCX رمزگذاری شده است یا در قالب قدیمی .doc است",
            "DOCX is encrypted or is a legacy .doc file",
        )
    try:
        document = docx.Document(io.BytesIO(raw))
        blocks: list[str] = []
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                blocks.extend(_docx_table_rows(item))
            elif item.text.strip():
                blocks.append(item.text)
        title = (document.core_properties.title or "").strip()
    except Exception as exc:  # BadZipFile, KeyError, lxml errors... all mean "damaged"
        raise _error("DOCX خراب است یا خوانده نشد", f"corrupt or unreadable DOCX: {_one_line(exc)}") from exc
    return "\n\n".join(blocks), 0, {"title": title} if title else {}


def _docx_table_rows(table: Any) -> list[str]:
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


def _load_html(raw: bytes, suffix: str) -> tuple[str, int, dict[str, str]]:
    """HTML via BeautifulSoup ("html.parser"): visible text, one block element per line."""
    from bs4 import BeautifulSoup, Comment, NavigableString

    try:
        soup = BeautifulSoup(raw, "html.parser")
    except Exception as exc:
        raise _error("HTML خوانده نشد", f"unreadable HTML: {_one_line(exc)}") from exc
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
    return text, 0, {"title": title} if title else {}


_LOADERS: dict[str, Callable[[bytes, str], tuple[str, int, dict[str, str]]]] = {
    ".md": _load_text,
    ".txt": _load_text,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
    ".html": _load_html,
    ".htm": _load_html,
}


# --------------------------------------------------------------------------- public API


def _relative(path: Path, root: Path) -> str:
    """POSIX path of ``path`` under ``root`` (symlinks are not resolved, so ids stay stable)."""
    for p, r in ((path, root), (path.absolute(), root.absolute())):
        try:
            return p.relative_to(r).as_posix()
        except ValueError:
            continue
    raise _error("فایل داخل پوشهٔ پیکره نیست", f"file {path} is not inside {root}")


def _fallback_title(body: str, suffix: str, stem: str) -> str:
    for line in body.splitlines():
        line = line.strip()
        if suffix == ".md":
            line = _MD_HEADING.sub("", line).strip()
        if line:
            return line[:TITLE_MAX_CHARS].rstrip()
    return stem


def load_file(path: Path, root: Path) -> Document:
    """Load one file into a Document; raise ``LoadError`` for anything unusable."""
    path, root = Path(path), Path(root)
    rel = _relative(path, root)
    root_name = root.name or root.absolute().resolve().name
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise _error(
            f"قالب «{suffix or 'بدون پسوند'}» پشتیبانی نمی‌شود",
            f"unsupported file type '{suffix or '(none)'}'; supported: {', '.join(SUPPORTED)}",
        )
    try:
        if not path.is_file():
            raise _error("فایل پیدا نشد", "not a regular file")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise _error(
                f"فایل بزرگ‌تر از {MAX_BYTES // (1024 * 1024)} مگابایت است",
                f"file is larger than {MAX_BYTES // (1024 * 1024)} MB ({size} bytes)",
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise _error("فایل خوانده نشد", f"cannot read file: {exc.strerror or _one_line(exc)}") from exc
    if not raw:
        raise _error("فایل خالی است", "file is empty")

    text, body_start, meta = _LOADERS[suffix](raw, suffix)
    if not text[body_start:].strip():
        raise _error("فایل متنی ندارد", "file has no text")
    meta.setdefault("title", "")
    if not meta["title"]:
        meta["title"] = _fallback_title(text[body_start:], suffix, path.stem)
    return Document(
        doc_id=rel,
        source=f"{root_name}/{rel}" if root_name else rel,
        text=text,
        body_start=body_start,
        content_hash=hashlib.sha256(raw).hexdigest(),
        **meta,
    )


def _corpus_files(root: Path) -> list[Path]:
    """Every non-hidden file under root, sorted by relative path; README.md at the top is docs."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        here = Path(dirpath)
        for name in filenames:
            if name.startswith("."):
                continue
            if (here / name).is_symlink() and not (here / name).resolve().is_relative_to(root.resolve()):
                continue  # a link out of the corpus folder is not part of the corpus
            if here == root and name.lower() == "readme.md":
                continue
            found.append(here / name)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def load_corpus(root: Path) -> tuple[list[Document], list[SkippedFile]]:
    """Load every file under ``root``; bad files are reported in the skipped list, never raised."""
    root = Path(root)
    if not root.is_dir():
        raise _error("پوشهٔ پیکره پیدا نشد", f"corpus folder not found: {root}")
    documents: list[Document] = []
    skipped: list[SkippedFile] = []
    for path in _corpus_files(root):
        rel = path.relative_to(root).as_posix()
        try:
            documents.append(load_file(path, root))
        except LoadError as exc:
            skipped.append(SkippedFile(path=rel, reason=str(exc)))
        except Exception as exc:  # a loader bug must not stop the whole build
            skipped.append(
                SkippedFile(path=rel, reason=f"خطای غیرمنتظره / unexpected error: {_one_line(exc)}")
            )
    return documents, skipped
