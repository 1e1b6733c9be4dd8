"""Adding files to the corpus from outside (the UI's upload): safe names, size
limits, a parse in a child process with memory and time limits, nothing saved
that the next build would skip, no file overwritten unless asked, and bytes
already in the corpus (under any name) recognised by their hash and not
stored twice."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..core.errors import AssistantError
from ..core.settings import Settings
from .isolate import load_file_isolated
from .load import SUPPORTED, LoadError
from .parse_limits import ParseLimits

OnConflict = Literal["keep_both", "replace", "ask"]

_DROP_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}  # controls, bidi overrides and other invisibles
_KEEP_FORMAT = {"\u200c", "\u200d"}  # ZWNJ/ZWJ are part of Persian spelling ("نیم‌فاصله")
_UNSAFE_NAME_CHARS = re.compile(r"[^\w\u200c\u200d\-. ()]+")
MAX_NAME_CHARS = 100
_placing = threading.Lock()  # the last duplicate check and the move into the corpus, one upload at a time


class UploadRejected(AssistantError, ValueError):
    """An upload we will not save; the message is Persian, then English."""


class UploadConflict(AssistantError):
    """A file of that name is already in the corpus and the caller asked to be asked."""

    def __init__(self, existing: str) -> None:
        self.existing = existing
        super().__init__(
            f"فایلی با نام «{existing}» در پیکره هست؛ جایگزین شود یا هر دو نگه داشته شوند؟ / "
            f"{existing} is already in the corpus: replace it or keep both?"
        )


@dataclass(frozen=True)
class SavedUpload:
    """What happened to one upload: its name in the corpus, and whether it replaced or was renamed."""

    name: str
    replaced: bool = False
    renamed_from: str | None = None  # the name asked for, when "keep_both" saved it as "name (2).ext"
    unchanged: bool = False  # the very same bytes were already in the corpus, as ``name``

    def __iter__(self) -> Iterator[object]:
        """Unpacks as ``(name, replaced)``, the tuple ``save_upload`` returned before."""
        return iter((self.name, self.replaced))


def safe_filename(name: str) -> str:
    """A client-supplied file name → a plain, visible basename with a supported extension.

    Drops any directory part (``/`` or ``\\``), control and bidi-override
    characters, and anything but letters, digits, ``-_. ()`` and spaces; strips
    leading dots and dashes (no hidden files, nothing that looks like an option).
    """
    name = unicodedata.normalize("NFC", str(name)).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch for ch in name if ch in _KEEP_FORMAT or unicodedata.category(ch) not in _DROP_CATEGORIES
    )
    name = _UNSAFE_NAME_CHARS.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip().lstrip(".-_ ").rstrip(". ")
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem.strip(" ._-"):
        raise UploadRejected(
            "نام فایل پسوند یا نام معتبر ندارد / the file name has no usable name or extension"
        )
    suffix = "." + suffix.lower()
    if suffix not in SUPPORTED:
        raise UploadRejected(
            f"قالب «{suffix}» پشتیبانی نمی‌شود / "
            f"unsupported file type {suffix}; supported: {', '.join(SUPPORTED)}"
        )
    stem = stem[:MAX_NAME_CHARS].rstrip(" .")
    result = stem + suffix
    if result.lower() == "readme.md":
        raise UploadRejected(
            "README.md راهنمای پیکره است و نمایه نمی‌شود / README.md is corpus docs, not indexed"
        )
    return result


def _free_name(corpus: Path, name: str) -> str:
    """``name (2).ext``, ``name (3).ext``… : the first that is not taken."""
    stem, suffix = name.rsplit(".", 1)
    n = 2
    while (corpus / f"{stem} ({n}).{suffix}").exists():
        n += 1
    return f"{stem} ({n}).{suffix}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def same_bytes(src: Path, corpus: Path) -> str | None:
    """The corpus file holding exactly ``src``'s bytes (its path in the corpus), if any.

    Sizes first (a stat each), so only files of the very same size are hashed.
    """
    size = src.stat().st_size
    wanted = None
    for dirpath, dirnames, filenames in os.walk(corpus):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.startswith(".") or not path.is_file() or path.stat().st_size != size:
                continue
            wanted = wanted or _sha256(src)
            if _sha256(path) == wanted:
                return path.relative_to(corpus).as_posix()
    return None


def _check_size(src: Path, settings: Settings) -> None:
    size = src.stat().st_size
    if size > settings.max_upload_bytes:
        raise UploadRejected(
            f"فایل بزرگ‌تر از {settings.max_upload_bytes // (1024 * 1024)} مگابایت است / "
            f"file is larger than the {settings.max_upload_bytes} byte limit ({size} bytes)"
        )


def save_upload(
    src: str | Path,
    original_name: str,
    settings: Settings,
    *,
    on_conflict: OnConflict = "keep_both",
    limits: ParseLimits | None = None,
) -> SavedUpload:
    """Check one uploaded file (parsed in a limited child process) and move it into the corpus.

    A name already taken is never overwritten silently: ``"keep_both"`` saves
    ``name (2).ext``, ``"replace"`` replaces, ``"ask"`` raises ``UploadConflict``
    so the UI can ask.  Bytes already in the corpus, under any name, change nothing.
    """
    name = safe_filename(original_name)
    src = Path(src)
    _check_size(src, settings)
    corpus = settings.corpus_dir.resolve()
    corpus.mkdir(parents=True, exist_ok=True)
    dest = corpus / name
    if dest.resolve().parent != corpus:  # belt and braces: the name has no separators left
        raise UploadRejected("نام فایل مجاز نیست / file name not allowed")
    found = same_bytes(src, corpus)
    if found is not None:
        return SavedUpload(found, unchanged=True)
    if dest.exists() and on_conflict == "ask":
        raise UploadConflict(name)
    tmp = corpus / f".upload-{uuid.uuid4().hex[:8]}-{name}"  # hidden: a build running now ignores it
    try:
        shutil.copyfile(src, tmp)
        try:  # refuse what the build would skip (empty, unreadable, no text, a bomb)
            load_file_isolated(tmp, corpus, limits)
        except LoadError as exc:
            raise UploadRejected(str(exc)) from None
        with _placing:
            found = same_bytes(src, corpus)  # another upload of the same bytes may have won meanwhile
            return SavedUpload(found, unchanged=True) if found else _place(tmp, corpus, name, on_conflict)
    finally:
        tmp.unlink(missing_ok=True)


def _place(tmp: Path, corpus: Path, name: str, on_conflict: OnConflict) -> SavedUpload:
    """Move the checked file in; a hard link claims a free name atomically (no race between uploads)."""
    if on_conflict == "replace":
        replaced = (corpus / name).exists()
        os.replace(tmp, corpus / name)
        return SavedUpload(name, replaced=replaced)
    wanted = name
    while True:
        try:
            os.link(tmp, corpus / name)
            break
        except FileExistsError:
            if on_conflict == "ask":
                raise UploadConflict(name) from None
            name = _free_name(corpus, wanted)
    return SavedUpload(name, renamed_from=wanted if name != wanted else None)
