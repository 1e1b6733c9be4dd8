"""Read corpus files into ``Document`` records: the first stage of the pipeline.

Text formats (.md/.txt) are kept verbatim so that every later offset (chunks,
citations) points at the exact characters of the file; nothing is normalized
here.  PDF, DOCX, PPTX and HTML are reduced to their extracted text, subtitles
(.srt/.vtt) to their cue texts; slides and cues become ``Segment``s so a
quote can name its slide or its time in the recording.  A file that cannot be
used raises ``LoadError`` whose message is Persian first, then English,
because maintainers of the corpus read it in the build report.  Untrusted
files go through ``assistant.ingest.isolate.load_file_isolated`` instead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from ..core.errors import LoadError
from ..core.records import Document, SkippedFile
from . import formats
from .charset import decode
from .formats import Parsed, one_line, too_long
from .parse_limits import ParseLimits

SUPPORTED = (".md", ".txt", ".pdf", ".docx", ".pptx", ".html", ".htm", ".srt", ".vtt")
MAX_BYTES = 50 * 1024 * 1024
TITLE_MAX_CHARS = 120
MAX_SIDECAR_BYTES = 64 * 1024

#: Front-matter keys copied onto the Document; anything else is ignored.
META_FIELDS = (
    "title", "speaker", "speaker_role", "date", "date_jalali", "published", "kind", "url", "note",
    "recording_url",
)  # fmt: skip
#: Metadata beside a file that has no front matter: ``talk.srt`` + ``talk.yaml`` (or ``talk.meta.yaml``).
SIDECAR_SUFFIXES = (".meta.yaml", ".meta.yml", ".yaml", ".yml")

# ``---`` on the first line, YAML, then ``---`` on a line of its own.  CRLF is accepted
# so that files saved on Windows still work; offsets are taken on the verbatim text.
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*(?:\r?\n|\Z)", re.DOTALL | re.MULTILINE)
_FRONT_MATTER_OPEN = re.compile(r"\A---[ \t]*\r?\n")
_MD_HEADING = re.compile(r"^#{1,6}\s+")


def _error(fa: str, en: str) -> LoadError:
    return LoadError.of(fa, en)


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


def _yaml_meta(block: str, what: str, first_line: int) -> dict[str, str]:
    """Known keys of a YAML mapping (front matter or a sidecar file) as Document strings."""
    try:
        data = yaml.load(block, Loader=_FrontMatterLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise _error(
            f"{what} YAML نامعتبر است", f"malformed {_EN[what]}: {_yaml_problem(exc, first_line)}"
        ) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _error(f"{what} YAML باید جفت‌های کلید و مقدار باشد", f"{_EN[what]} must be a mapping")
    meta: dict[str, str] = {}
    for key, value in data.items():
        name = str(key).strip().lower()
        if name in META_FIELDS:
            meta[name] = _meta_value(name, value)
    return meta


_EN = {"سربرگ": "front matter", "فایل همراه": "sidecar metadata file"}


def _split_front_matter(text: str) -> tuple[dict[str, str], int]:
    """Return (known metadata, body_start) for text that may open with a YAML block."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        if _FRONT_MATTER_OPEN.match(text):
            raise _error("سربرگ YAML بسته نشده است", "front matter is not closed with '---'")
        return {}, 0
    return _yaml_meta(match.group(1), "سربرگ", 2), match.end()  # +1 for 0-based, +1 for '---'


def _yaml_problem(exc: yaml.YAMLError, first_line: int) -> str:
    """The YAML error on one line, with the line number counted in the file (not the block)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is not None and problem:
        return f"{problem} (line {mark.line + first_line})"
    return one_line(exc)


def sidecar_for(path: Path) -> Path | None:
    """The metadata file beside ``path`` (``talk.yaml`` or ``talk.meta.yaml`` for ``talk.srt``), if any."""
    for suffix in SIDECAR_SUFFIXES:
        candidate = path.with_name(path.stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def is_sidecar(path: Path) -> bool:
    """A .yaml/.yml file that belongs to a document next to it (so not a corpus file itself)."""
    name = path.name.lower()
    for suffix in SIDECAR_SUFFIXES:
        if name.endswith(suffix):
            stem = path.name[: -len(suffix)]
            return any(path.with_name(stem + ext).is_file() for ext in SUPPORTED) or any(
                path.with_name(stem + ext.upper()).is_file() for ext in SUPPORTED
            )
    return False


def _sidecar_meta(path: Path) -> dict[str, str]:
    sidecar = sidecar_for(path)
    if sidecar is None:
        return {}
    try:
        if sidecar.stat().st_size > MAX_SIDECAR_BYTES:
            raise _error("فایل همراه YAML بیش از حد بزرگ است", f"sidecar {sidecar.name} is over 64 KB")
        block = sidecar.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise _error("فایل همراه YAML خوانده نشد", f"cannot read sidecar {sidecar.name}: {exc}") from exc
    return _yaml_meta(block, "فایل همراه", 1)


# --------------------------------------------------------------------------- text


def _load_text(raw: bytes, limits: ParseLimits) -> Parsed:
    """.md/.txt: the decoded text verbatim (BOM removed) plus optional front matter."""
    text = decode(raw).text
    meta, body_start = _split_front_matter(text)
    return Parsed(text, body_start, meta)


_LOADERS: dict[str, Callable[[bytes, ParseLimits], Parsed]] = {
    ".md": _load_text,
    ".txt": _load_text,
    **formats.READERS,
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
    """The first line of the body; a transcript (one long line) is named after its file instead."""
    if suffix in (".srt", ".vtt"):
        return " ".join(stem.replace("_", " ").replace("-", " ").split()) or stem
    for line in body.splitlines():
        line = line.strip()
        if suffix == ".md":
            line = _MD_HEADING.sub("", line).strip()
        if line:
            return line[:TITLE_MAX_CHARS].rstrip()
    return stem


def _read(path: Path) -> bytes:
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
        raise _error("فایل خوانده نشد", f"cannot read file: {exc.strerror or one_line(exc)}") from exc
    if not raw:
        raise _error("فایل خالی است", "file is empty")
    return raw


def load_file(path: Path, root: Path, limits: ParseLimits | None = None) -> Document:
    """Load one file into a Document in this process; raise ``LoadError`` for anything unusable.

    For files from outside (uploads) use ``isolate.load_file_isolated``,
    which runs this in a child process with memory and time limits.
    """
    path, root = Path(path), Path(root)
    rel = _relative(path, root)
    root_name = root.name or root.absolute().resolve().name
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise _error(
            f"قالب «{suffix or 'بدون پسوند'}» پشتیبانی نمی‌شود",
            f"unsupported file type '{suffix or '(none)'}'; supported: {', '.join(SUPPORTED)}",
        )
    raw = _read(path)
    parsed = _LOADERS[suffix](raw, limits or ParseLimits())
    too_long(len(parsed.text), limits or ParseLimits())
    if not parsed.text[parsed.body_start :].strip():
        raise _error("فایل متنی ندارد", "file has no text")
    sidecar = _sidecar_meta(path)
    # what an author wrote (front matter, then the sidecar) beats what a file format embeds
    meta = {**sidecar, **parsed.meta} if suffix in (".md", ".txt") else {**parsed.meta, **sidecar}
    if not meta.get("title"):
        meta["title"] = _fallback_title(parsed.text[parsed.body_start :], suffix, path.stem)
    return Document(
        doc_id=rel,
        source=f"{root_name}/{rel}" if root_name else rel,
        text=parsed.text,
        body_start=parsed.body_start,
        content_hash=hashlib.sha256(raw).hexdigest(),
        segments=parsed.segments,
        warnings=parsed.warnings,
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
            if is_sidecar(here / name):
                continue  # metadata of the file beside it, read with that file
            found.append(here / name)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


Loader = Callable[[Path, Path, ParseLimits | None], Document]


def load_corpus(
    root: Path, *, load: Loader = load_file, limits: ParseLimits | None = None
) -> tuple[list[Document], list[SkippedFile]]:
    """Load every file under ``root``; bad files are reported in the skipped list, never raised.

    ``load`` reads one file: ``load_file`` here, or ``isolate.load_file_isolated`` to parse each
    file in a child process (slower, ~0.3 s a file, but a hostile file cannot take a build down).
    """
    root = Path(root)
    if not root.is_dir():
        raise _error("پوشهٔ پیکره پیدا نشد", f"corpus folder not found: {root}")
    documents: list[Document] = []
    skipped: list[SkippedFile] = []
    for path in _corpus_files(root):
        rel = path.relative_to(root).as_posix()
        try:
            documents.append(load(path, root, limits))
        except LoadError as exc:
            skipped.append(SkippedFile(path=rel, reason=str(exc)))
        except Exception as exc:  # a loader bug must not stop the whole build
            skipped.append(
                SkippedFile(path=rel, reason=f"خطای غیرمنتظره / unexpected error: {one_line(exc)}")
            )
    return documents, skipped
