"""Adding files to the corpus from outside (the UI's upload): safe names, size
limits, and nothing saved that the next build would skip."""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
import uuid
from pathlib import Path

from .config import Settings
from .errors import AssistantError
from .load import SUPPORTED, LoadError, load_file

_DROP_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}  # controls, bidi overrides and other invisibles
_KEEP_FORMAT = {"\u200c", "\u200d"}  # ZWNJ/ZWJ are part of Persian spelling ("نیم‌فاصله")
_UNSAFE_NAME_CHARS = re.compile(r"[^\w\u200c\u200d\-. ()]+")
MAX_NAME_CHARS = 100


class UploadRejected(AssistantError, ValueError):
    """An upload we will not save; the message is Persian, then English."""


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


def save_upload(src: str | Path, original_name: str, settings: Settings) -> tuple[str, bool]:
    """Check one uploaded file and move it into the corpus; returns (saved name, replaced?)."""
    name = safe_filename(original_name)
    src = Path(src)
    size = src.stat().st_size
    if size > settings.max_upload_bytes:
        raise UploadRejected(
            f"فایل بزرگ‌تر از {settings.max_upload_bytes // (1024 * 1024)} مگابایت است / "
            f"file is larger than the {settings.max_upload_bytes} byte limit ({size} bytes)"
        )
    corpus = settings.corpus_dir.resolve()
    corpus.mkdir(parents=True, exist_ok=True)
    dest = corpus / name
    if dest.resolve().parent != corpus:  # belt and braces: the name has no separators left
        raise UploadRejected("نام فایل مجاز نیست / file name not allowed")
    tmp = corpus / f".upload-{uuid.uuid4().hex[:8]}-{name}"  # hidden: a build running now ignores it
    try:
        shutil.copyfile(src, tmp)
        try:
            load_file(tmp, corpus)  # refuse what the build would skip (empty, unreadable, no text)
        except LoadError as exc:
            raise UploadRejected(str(exc)) from None
        replaced = dest.exists()
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return name, replaced
