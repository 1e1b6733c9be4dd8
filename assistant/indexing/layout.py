"""The index folder: its layout, loading a build, and describing it.

Layout (``index/`` by default)::

    index/current -> builds/<id>      atomic symlink; readers follow it
    index/builds/<id>/manifest.json   model, normalizer, counts, versions
                      dense.faiss     FAISS inner-product index
                      bm25/           bm25s arrays (.npy, allow_pickle=False)
                      store.json      documents (with their text) and chunks
                      report.json     what the build did and what it skipped
    index/versions/<sha256>.json      every document version ever indexed (quoted texts)

A build writes a fresh ``builds/.tmp-*`` folder and only then repoints
``current``, so a crash, a full disk or Ctrl-C mid-build leaves the previous
index untouched and serving.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import AssistantError
from ..core.protocols import Encoder
from ..core.records import Chunk, Document
from ..text.normalize import NORMALIZER_VERSION
from ..text.tokens import TERMS_VERSION
from .dense import DenseIndex
from .sparse import SparseIndex

FORMAT_VERSION = 1


class IndexProblem(AssistantError):
    """Base of the index errors."""


class IndexMissing(IndexProblem):
    pass


class IndexMismatch(IndexProblem):
    pass


class BuildFailed(IndexProblem):
    pass


@dataclass
class Index:
    """A loaded index: everything retrieval and citation need, in memory."""

    path: Path
    manifest: dict
    documents: dict[str, Document]
    chunks: list[Chunk]
    dense: DenseIndex
    sparse: SparseIndex
    report: dict


def versions_dir(index_dir: Path) -> Path:
    """Content-addressed document versions, shared by every build (see ``versions.py``)."""
    return index_dir / "versions"


def current_build(index_dir: Path) -> Path | None:
    """The folder that ``current`` points at, or a plain index folder, or None."""
    link = index_dir / "current"
    if link.exists() and (link / "manifest.json").exists():
        return link.resolve()
    if (index_dir / "manifest.json").exists():
        return index_dir
    return None


def _require_build(index_dir: Path) -> Path:
    build = current_build(index_dir)
    if build is None:
        raise IndexMissing(
            f"نمایه‌ای در {index_dir} نیست؛ دستور `assistant index build` را اجرا کنید. / "
            f"No index in {index_dir}; run `assistant index build`."
        )
    return build


def read_json(path: Path, default: object = None):
    """A build's JSON file; a damaged one is reported with the command that fixes it."""
    if default is not None and not path.exists():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexProblem(
            f"نمایه آسیب دیده است ({path.name})؛ `assistant index build` را اجرا کنید. / "
            f"The index is damaged ({path}: {exc}); run `assistant index build`."
        ) from exc


def check_compatible(manifest: dict, embedder: Encoder) -> None:
    """Refuse vectors from another model or normalizer: queries would not match them."""
    problems = []
    if manifest.get("format_version") != FORMAT_VERSION:
        problems.append(f"format {manifest.get('format_version')} != {FORMAT_VERSION}")
    if manifest.get("model_fingerprint") != embedder.fingerprint:
        problems.append(
            f"model {manifest.get('embedding_model')} ({manifest.get('model_fingerprint')}) "
            f"!= configured {embedder.name} ({embedder.fingerprint})"
        )
    if manifest.get("normalizer_version") != NORMALIZER_VERSION:
        problems.append(f"normalizer {manifest.get('normalizer_version')} != {NORMALIZER_VERSION}")
    if manifest.get("terms_version") != TERMS_VERSION:
        problems.append(f"BM25 terms {manifest.get('terms_version')} != {TERMS_VERSION}")
    if problems:
        raise IndexMismatch(
            "این نمایه با مدل یا نرمال‌ساز دیگری ساخته شده است؛ `assistant index build` را اجرا کنید. / "
            "This index was built with another model or normalizer: "
            + "; ".join(problems)
            + ". Rebuild it with `assistant index build` (or set ASSISTANT_EMBED_MODEL to the index's model)."
        )


def load_index(index_dir: Path, embedder: Encoder | None = None) -> Index:
    """Load the current build; with an embedder, check it matches first.

    ``current`` is resolved once, so a build swapped in meanwhile cannot mix
    one build's manifest with another's data.
    """
    build = _require_build(index_dir)
    manifest = read_json(build / "manifest.json")
    if embedder is not None:
        check_compatible(manifest, embedder)
    store = read_json(build / "store.json")
    try:
        documents = {d["doc_id"]: Document.from_dict(d) for d in store["documents"]}
        chunks = [Chunk(**c) for c in store["chunks"]]
    except (KeyError, TypeError) as exc:
        raise IndexProblem(
            "نمایه آسیب دیده است؛ `assistant index build` را اجرا کنید. / "
            f"The index store is damaged ({exc!r}); run `assistant index build`."
        ) from exc
    return Index(
        path=build,
        manifest=manifest,
        documents=documents,
        chunks=chunks,
        dense=DenseIndex.load(build / "dense.faiss"),
        sparse=SparseIndex.load(build / "bm25", len(chunks)),
        report=read_json(build / "report.json", default={}),
    )


def previous_doc_ids(index_dir: Path) -> set[str]:
    build = current_build(index_dir)
    if build is None:
        return set()
    try:
        store = read_json(build / "store.json")
    except IndexProblem:  # a damaged previous build: nothing to report as removed
        return set()
    return {d["doc_id"] for d in store.get("documents", [])}


def index_info(index_dir: Path) -> dict:
    build = _require_build(index_dir)
    manifest = read_json(build / "manifest.json")
    return {**manifest, "path": str(build), "report": read_json(build / "report.json", default={})}
