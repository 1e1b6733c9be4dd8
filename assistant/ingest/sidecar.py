"""A document's metadata written beside it (``talk.srt`` + ``talk.yaml``), and a document taken out.

Why: an upload from the page carries its title, speaker, date and recording
link as form fields or as an uploaded ``.yaml``; either way it ends up as the
sidecar the loader already reads, so the CLI, a deploy and the page see the
same file.  Removing a document deletes the file and its sidecar from the
corpus only: the next build drops it, and ``index/versions`` keeps every
version ever indexed for citations that point at it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from .load import MAX_SIDECAR_BYTES, META_FIELDS, SIDECAR_SUFFIXES, SUPPORTED, _yaml_meta, sidecar_for
from .upload import UploadRejected

#: What the upload form asks for (the rest of ``META_FIELDS`` come from an uploaded .yaml).
FORM_FIELDS = ("title", "speaker", "date", "recording_url")


@dataclass(frozen=True)
class Upload:
    """One uploaded document: its temp file, the name it was sent under, and an uploaded sidecar for it."""

    path: Path
    name: str
    sidecar: Path | None = None


def pair_uploads(files: list[tuple[Path, str]]) -> tuple[list[Upload], list[str]]:
    """Uploaded (temp path, original name) pairs → the documents, each with the .yaml sent beside it;
    and the names of .yaml files that belong to no uploaded document."""
    sidecars = {sidecar_stem(name): path for path, name in files if is_sidecar_name(name)}
    docs = [
        Upload(path, name, sidecars.get(Path(name).stem)) for path, name in files if not is_sidecar_name(name)
    ]
    stems = {Path(d.name).stem for d in docs}
    orphans = [name for _, name in files if is_sidecar_name(name) and sidecar_stem(name) not in stems]
    return docs, orphans


def is_sidecar_name(name: str) -> bool:
    return name.lower().endswith(SIDECAR_SUFFIXES)


def sidecar_stem(name: str) -> str:
    """``talk.meta.yaml`` → ``talk``; ``talk.yaml`` → ``talk``."""
    lower = name.lower()
    for suffix in SIDECAR_SUFFIXES:
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def read_sidecar(path: Path) -> dict[str, str]:
    """An uploaded .yaml: its known keys as strings; a bad or oversized file is refused with the reason."""
    try:
        if path.stat().st_size > MAX_SIDECAR_BYTES:
            raise UploadRejected("فایل YAML بیش از ۶۴ کیلوبایت است / the .yaml file is over 64 KB")
        block = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UploadRejected(f"فایل YAML خوانده نشد / cannot read the .yaml file: {exc}") from exc
    try:
        return _yaml_meta(block, "فایل همراه", 1)
    except Exception as exc:  # LoadError: says what is wrong, in both languages
        raise UploadRejected(str(exc)) from None


def clean_meta(meta: Mapping[str, object]) -> dict[str, str]:
    """Known keys with a non-blank value, one line each."""
    return {
        k: " ".join(str(v).split())
        for k, v in meta.items()
        if k in META_FIELDS and v is not None and str(v).strip()
    }


def write_sidecar(corpus: Path, doc_name: str, meta: Mapping[str, object]) -> Path | None:
    """Write (or update) ``doc_name``'s sidecar with ``meta`` over what it held (None: nothing to write)."""
    wanted = clean_meta(meta)
    if not wanted:
        return None
    doc = _inside(corpus, doc_name)
    path = sidecar_for(doc) or doc.with_name(doc.stem + ".yaml")
    held: dict[str, str] = {}
    if path.is_file():
        try:
            held = read_sidecar(path)
        except UploadRejected:
            held = {}  # a broken sidecar is replaced by the one asked for
    text = yaml.safe_dump({**held, **wanted}, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def remove_document(corpus: Path, doc_id: str) -> list[str]:
    """Delete a document and its sidecar from the corpus; returns what was removed (corpus-relative)."""
    doc = _inside(corpus, doc_id)
    if doc.suffix.lower() not in SUPPORTED or not doc.is_file():
        raise UploadRejected(f"سند «{doc_id}» در پیکره نیست / {doc_id} is not in the corpus")
    gone = [doc]
    sidecar = sidecar_for(doc)
    if sidecar is not None:
        gone.append(sidecar)
    root = corpus.resolve()
    for path in gone:
        path.unlink()
    return [p.resolve().relative_to(root).as_posix() for p in gone]


def _inside(corpus: Path, name: str) -> Path:
    """``corpus / name``, refused unless it stays inside the corpus (no ``..``, no absolute path)."""
    root = corpus.resolve()
    path = (root / name).resolve()
    if root not in path.parents or any(part.startswith(".") for part in Path(name).parts):
        raise UploadRejected(f"نشانی سند مجاز نیست / not a corpus path: {name}")
    return path
