"""Every document version the index has served, kept by content hash.

Why: an answer quotes ``document.text[start:end]`` of one version of a file.
When the corpus moves on, a trainer opening that citation must still see the
text that was quoted, learn that the document changed, and when.  Builds write
each document's text here (``index/versions/<sha256>.json``) before they are
swapped in; entries are written once and never changed, so instances that
share a read-only index folder can all read them.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from ..core.records import Document


@dataclass(frozen=True)
class DocumentVersion:
    """One stored version: the document as it was, and when a build first indexed it."""

    document: Document
    first_indexed_at: str
    build_id: str


class VersionStore:
    """``index/versions/``: one JSON file a content hash (no pickle, append-only)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def _path(self, sha256: str) -> Path | None:
        if len(sha256) != 64 or any(ch not in "0123456789abcdef" for ch in sha256):
            return None  # never a path from user input
        return self.folder / f"{sha256}.json"

    def keep(self, doc: Document, indexed_at: str, build_id: str) -> None:
        """Store ``doc`` unless this exact content is already stored."""
        path = self._path(doc.content_hash)
        if path is None or path.exists():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{doc.content_hash}.{uuid.uuid4().hex[:8]}.tmp"
        data = {"document": asdict(doc), "first_indexed_at": indexed_at, "build_id": build_id}
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)

    def get(self, sha256: str) -> DocumentVersion | None:
        path = self._path(sha256 or "")
        if path is None or not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return DocumentVersion(
                Document.from_dict(data["document"]), data["first_indexed_at"], data["build_id"]
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
